//! `certdesk cas …`: the SSL certificate repository (cas 2020-04-07) of the profile's site —
//! list, show (never the private key), upload (after every local check of the importer), delete
//! (both audited) and where a certificate is deployed.

use super::rotate::{self, MAX_REPOSITORY_NAME};
use super::{Failure, Globals, change, emit, format_time, item, setup_failure};
use crate::cloud::SslClient;
use crate::cloud::ssl::CloudResourceQuery;
use crate::jobs::ChangeRequest;
use crate::model::{Change, Service};
use std::path::PathBuf;

/// `certdesk cas …`.
#[derive(Debug, clap::Subcommand)]
pub(super) enum CasCommand {
    /// Every certificate of the repository, expired ones included (ListUserCertificateOrder).
    List,
    /// One certificate (GetUserCertificateDetail without its PEM and key).
    Show {
        /// Certificate id.
        id: i64,
    },
    /// Upload a certificate and its key (UploadUserCertificate), after the importer's checks.
    Upload {
        /// Name in the repository (unique, at most 63 characters).
        #[arg(long, value_name = "NAME")]
        name: String,
        /// Certificate (and chain) file.
        #[arg(long = "cert", value_name = "FILE")]
        cert: PathBuf,
        /// Private key file (an encrypted key's passphrase comes from $CERTDESK_PASSPHRASE).
        #[arg(long = "key", value_name = "FILE")]
        key: PathBuf,
        /// Accept an expired or not yet valid certificate (the explicit override).
        #[arg(long)]
        allow_expired: bool,
    },
    /// Delete a certificate (DeleteUserCertificate); refused while a domain uses it.
    Delete {
        /// Certificate id.
        id: i64,
    },
    /// Where a certificate is deployed (ListCloudResources).
    Where {
        /// Certificate id.
        id: i64,
    },
}

pub(super) async fn run(g: &Globals, cmd: CasCommand) -> Result<(), Failure> {
    match cmd {
        CasCommand::List => {
            let client = SslClient::new(&g.transport()?, &g.alibaba()?).map_err(setup_failure)?;
            let all = client
                .list_all_certificates(super::progress_printer("repository certificates"))
                .await?;
            emit(g, &all, || {
                let mut out = format!(
                    "{:<10} {:<8} {:<16} {:<7} {:<28} {}\n",
                    "ID", "STATUS", "NOT AFTER (UTC)", "UPLOAD", "NAME", "DOMAINS"
                );
                for c in &all {
                    let row = c.to_row();
                    out.push_str(&format!(
                        "{:<10} {:<8} {:<16} {:<7} {:<28} {}\n",
                        row.id,
                        row.raw_status,
                        format_time(row.not_after),
                        if c.upload == Some(true) { "yes" } else { "no" },
                        row.name,
                        c.sans
                    ));
                }
                out
            })
        }
        CasCommand::Show { id } => {
            let client = SslClient::new(&g.transport()?, &g.alibaba()?).map_err(setup_failure)?;
            let d = client.get_user_certificate_detail(id, false).await?;
            emit(g, &d, || {
                let row = d.to_row();
                let mut out = String::new();
                let id = row.id.clone();
                let not_after = format_time(row.not_after);
                let sha = row.fingerprint_sha256.clone().unwrap_or_default();
                for (k, v) in [
                    ("Id", id.as_str()),
                    ("Name", &d.name),
                    ("Identifier", &d.cert_identifier),
                    ("Common", &d.common),
                    ("SANs", &d.sans),
                    ("Issuer", &d.issuer),
                    ("Status", &row.raw_status),
                    ("NotAfter", &not_after),
                    ("SHA-256", &sha),
                    ("Serial", &d.serial_no),
                    ("Algorithm", &d.algorithm),
                    ("RequestId", &d.request_id),
                ] {
                    out.push_str(&format!("{k:<10} {v}\n"));
                }
                out
            })
        }
        CasCommand::Upload {
            name,
            cert,
            key,
            allow_expired,
        } => {
            if name.trim().is_empty() {
                return Err(Failure::Usage("--name must not be empty".into()));
            }
            let loaded = rotate::load_files(
                &cert,
                &key,
                Some(name.clone()),
                allow_expired,
                MAX_REPOSITORY_NAME,
            )?;
            let note = format!(
                "certificate {} SHA-256 {}",
                loaded.new.label, loaded.new.sha256
            );
            let target = item(Service::Ssl, name.trim().to_string(), None);
            change::apply(
                g,
                target,
                ChangeRequest::UploadRepositoryCertificate(loaded.upload),
                Some(note),
            )
            .await
        }
        CasCommand::Delete { id } => {
            change::apply(
                g,
                item(Service::Ssl, id.to_string(), None),
                Change::DeleteCertificate.into(),
                None,
            )
            .await
        }
        CasCommand::Where { id } => {
            let client = SslClient::new(&g.transport()?, &g.alibaba()?).map_err(setup_failure)?;
            let query = CloudResourceQuery {
                cert_ids: vec![id],
                ..CloudResourceQuery::default()
            };
            let all = client
                .list_cloud_resources(&query, super::progress_printer("deployments"))
                .await?;
            emit(g, &all, || {
                if all.is_empty() {
                    return format!("certificate {id} is deployed nowhere\n");
                }
                let mut out = format!(
                    "{:<8} {:<16} {:<6} {:<16} {}\n",
                    "PRODUCT", "REGION", "HTTPS", "SINCE (UTC)", "DOMAIN"
                );
                for r in &all {
                    let since = r.gmt_modified.trim().parse::<i64>().ok();
                    out.push_str(&format!(
                        "{:<8} {:<16} {:<6} {:<16} {}\n",
                        r.cloud_product,
                        r.region_id,
                        if r.https_enabled() { "on" } else { "off" },
                        format_time(since),
                        r.domain
                    ));
                }
                out
            })
        }
    }
}
