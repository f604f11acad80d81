//! The options that name a certificate to put on domains — files (`--cert`/`--key`) or a
//! certificate of the SSL certificate repository (`--cas-cert-id`) — shared by `cdn set-cert`,
//! `bulk set-cert` and the `jobs` commands that need a rotation's files again.

use std::path::PathBuf;

/// Which certificate to put on domains: files, or a repository certificate by id.
#[derive(Debug, Clone, Default, clap::Args)]
pub(super) struct CertArgs {
    /// Certificate (and chain) file: PEM, DER or PKCS#12.
    #[arg(long = "cert", value_name = "FILE")]
    pub cert: Option<PathBuf>,
    /// Its private key file (an encrypted key's passphrase comes from $CERTDESK_PASSPHRASE).
    #[arg(long = "key", value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// A certificate of the SSL certificate repository instead of files (`certdesk cas list`).
    #[arg(long, value_name = "ID")]
    pub cas_cert_id: Option<i64>,
    /// Repository site of --cas-cert-id: cn-hangzhou (China) or ap-southeast-1 (international).
    #[arg(long, value_name = "REGION", default_value = "cn-hangzhou")]
    pub cas_region: String,
    /// Name sent with an uploaded certificate (default: the service names it).
    #[arg(long, value_name = "NAME")]
    pub cert_name: Option<String>,
    /// Accept an expired or not yet valid certificate (the explicit override).
    #[arg(long)]
    pub allow_expired: bool,
}

impl CertArgs {
    /// `true` when any certificate option was given.
    pub fn any(&self) -> bool {
        self.cert.is_some() || self.key.is_some() || self.cas_cert_id.is_some()
    }
}
