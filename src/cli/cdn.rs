//! `certdesk cdn …`: Alibaba Cloud CDN 2018-05-10 domains and their HTTPS certificates — list,
//! show (with the served certificate's SHA-256), and set (HTTPS on/off, files or a repository
//! certificate) through the audited single-change path, verified by describing the domain again.

use super::cert_args::CertArgs;
use super::rotate;
use super::{Failure, Globals, SslArg, WithSha256, change, emit, item, row_table, setup_failure};
use crate::cloud::CdnClient;
use crate::cloud::cdn::DomainQuery;
use crate::import;
use crate::jobs::ChangeRequest;
use crate::model::{Change, Service};

/// `certdesk cdn …`.
#[derive(Debug, clap::Subcommand)]
pub(super) enum CdnCommand {
    /// List accelerated domains (DescribeUserDomains, all pages, domains under review included).
    Domains,
    /// The certificate a domain serves (DescribeDomainCertificateInfo), with its SHA-256.
    CertInfo {
        /// Domain name.
        domain: String,
    },
    /// Turn HTTPS off, on with the configured certificate, or on with a new certificate (files
    /// or a repository certificate) — SetCdnDomainSSLCertificate, audited, then verified.
    SetCert {
        /// Domain name.
        domain: String,
        /// on or off.
        #[arg(long, value_enum, value_name = "on|off")]
        ssl: SslArg,
        /// The new certificate (none with --ssl on: the configured one again).
        #[command(flatten)]
        cert: CertArgs,
    },
}

pub(super) async fn run(g: &Globals, cmd: CdnCommand) -> Result<(), Failure> {
    match cmd {
        CdnCommand::Domains => {
            let client = CdnClient::new(&g.transport()?, &g.alibaba()?).map_err(setup_failure)?;
            let query = DomainQuery {
                check_domain_show: true,
                ..DomainQuery::default()
            };
            let domains = client
                .describe_user_domains(&query, super::progress_printer("CDN domains"))
                .await?;
            emit(g, &domains, || {
                let mut out = format!("{:<6} {:<16} {:<9} {}\n", "SSL", "STATUS", "TYPE", "DOMAIN");
                for d in &domains {
                    out.push_str(&format!(
                        "{:<6} {:<16} {:<9} {}\n",
                        d.ssl_protocol, d.domain_status, d.cdn_type, d.domain_name
                    ));
                }
                out
            })
        }
        CdnCommand::CertInfo { domain } => {
            let client = CdnClient::new(&g.transport()?, &g.alibaba()?).map_err(setup_failure)?;
            let r = client.describe_domain_certificate_info(&domain).await?;
            let sha256 = r.cert_infos.cert_info.first().and_then(|c| c.sha256());
            let shown = WithSha256 {
                response: &r,
                sha256: sha256.clone(),
            };
            emit(g, &shown, || {
                let Some(c) = r.cert_infos.cert_info.first() else {
                    return format!("{domain}: no certificate (RequestId: {})\n", r.request_id);
                };
                let mut out = row_table(&[c.to_row()], false);
                out.push_str(&format!(
                    "{}: name {:?}, for {}, type {}{}, org {}, expires {}\n",
                    c.domain_name,
                    c.cert_name,
                    c.cert_domain_name,
                    c.cert_type,
                    c.cas_cert_id()
                        .map(|id| format!(" (repository certificate {id} at {})", c.cert_region))
                        .unwrap_or_default(),
                    c.cert_org,
                    c.cert_expire_time
                ));
                if let Some(sha) = &sha256 {
                    out.push_str(&format!("SHA-256 {sha}\n"));
                }
                out
            })
        }
        CdnCommand::SetCert { domain, ssl, cert } => set_cert(g, domain, ssl, cert).await,
    }
}

async fn set_cert(g: &Globals, domain: String, ssl: SslArg, cert: CertArgs) -> Result<(), Failure> {
    let target = item(Service::Cdn, domain.clone(), None);
    if ssl == SslArg::Off {
        if cert.any() {
            return Err(Failure::Usage(
                "a certificate turns HTTPS on: use --ssl on with --cert/--key or --cas-cert-id"
                    .into(),
            ));
        }
        return change::apply(g, target, Change::HttpsOff.into(), None).await;
    }
    let (request, new) = match (&cert.cert, &cert.key, cert.cas_cert_id) {
        (None, None, None) => {
            return change::apply(g, target, Change::HttpsOn.into(), None).await;
        }
        (Some(_), _, Some(_)) | (_, Some(_), Some(_)) => {
            return Err(Failure::Usage(
                "--cas-cert-id names a repository certificate; --cert/--key upload one: choose one"
                    .into(),
            ));
        }
        (Some(c), Some(k), None) => {
            let loaded = rotate::load_files(
                c,
                k,
                cert.cert_name.clone(),
                cert.allow_expired,
                import::MAX_CERT_NAME_CHARS,
            )?;
            (ChangeRequest::SetCertificate(loaded.upload), loaded.new)
        }
        (None, None, Some(id)) => {
            let new =
                rotate::repository_certificate(g, id, &cert.cas_region, cert.allow_expired).await?;
            let request = new
                .repository_request()
                .ok_or_else(|| Failure::Run("not a repository certificate".into()))?;
            (request, new)
        }
        _ => return Err(Failure::Usage("--cert and --key go together".into())),
    };
    if !new.covers(&domain) {
        return Err(Failure::Usage(format!(
            "the certificate {} does not cover {domain} (it is valid for {}): browsers would reject the site; nothing was sent",
            new.label,
            new.names.join(", ")
        )));
    }
    let note = format!("certificate {} SHA-256 {}", new.label, new.sha256);
    change::apply(g, target.clone(), request, Some(note)).await?;
    rotate::verify_single(g, &target, &new).await
}
