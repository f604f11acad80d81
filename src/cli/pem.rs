//! `certdesk pem inspect`: what the import flow shows, on the command line.

use super::{Failure, Globals, emit, escape_for_terminal, format_time};
use crate::credentials::Secret;
use crate::import::{self, Bundle, Check, Target, Verdict};
use serde::Serialize;
use std::path::PathBuf;

/// `certdesk pem …`.
#[derive(Debug, clap::Subcommand)]
pub(super) enum PemCommand {
    /// Parse certificate / key / PKCS#12 files and run every upload check.
    Inspect {
        /// Files to read together (e.g. a certificate, its chain and its key).
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Domain the certificate must cover (CDN upload).
        #[arg(long, value_name = "DOMAIN")]
        domain: Option<String>,
        /// Certificate name that would be sent (checked against the 128-character limit).
        #[arg(long, value_name = "NAME")]
        cert_name: Option<String>,
        /// Environment variable holding the passphrase of an encrypted key or PKCS#12 file.
        #[arg(long, value_name = "VAR", default_value = "CERTDESK_PASSPHRASE")]
        passphrase_env: String,
        /// Accept an expired or not-yet-valid certificate (warning instead of failure).
        #[arg(long)]
        allow_expired: bool,
    },
}

#[derive(Serialize)]
struct CertReport {
    subject: String,
    issuer: String,
    subject_alt_names: Vec<String>,
    serial: String,
    not_before: String,
    not_after: String,
    validity: String,
    sha256: String,
    sha1: String,
    public_key: String,
    source: String,
}

#[derive(Serialize)]
struct KeyReport {
    algorithm: String,
    bits: Option<u32>,
    source: String,
}

#[derive(Serialize)]
struct Report {
    certificates: Vec<CertReport>,
    key: Option<KeyReport>,
    chain_order: Vec<String>,
    checks: Vec<Check>,
    usable: bool,
}

pub(super) fn run(g: &Globals, cmd: PemCommand) -> Result<(), Failure> {
    let PemCommand::Inspect {
        files,
        domain,
        cert_name,
        passphrase_env,
        allow_expired,
    } = cmd;
    let passphrase = std::env::var(&passphrase_env)
        .ok()
        .filter(|p| !p.is_empty())
        .map(Secret::new);
    let mut bundle = Bundle::default();
    for path in &files {
        let name = import::display_name(path);
        let bytes = import::read_file(path).map_err(|e| Failure::Usage(e.to_string()))?;
        let parsed = import::parse(&name, &bytes, passphrase.as_ref()).map_err(|e| {
            Failure::Usage(match e {
                import::ImportError::NeedsPassphrase { .. } => {
                    format!("{e} (put it in ${passphrase_env})")
                }
                e => e.to_string(),
            })
        })?;
        bundle
            .merge(parsed)
            .map_err(|e| Failure::Usage(e.to_string()))?;
    }
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let target = Target {
        domain,
        cert_name,
        needs_key: false,
        allow_invalid_dates: allow_expired,
        now,
    };
    let checks = import::check(&bundle, &target);
    let chain = import::order_chain(&bundle);
    let label = |i: usize| {
        let info = &bundle.certificates[i].info;
        info.common_name
            .clone()
            .unwrap_or_else(|| info.subject.clone())
    };
    let report = Report {
        certificates: bundle
            .certificates
            .iter()
            .map(|c| CertReport {
                subject: c.info.subject.clone(),
                issuer: c.info.issuer.clone(),
                subject_alt_names: c
                    .info
                    .subject_alt_names
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
                serial: c.info.serial.clone(),
                not_before: format_time(Some(c.info.not_before)),
                not_after: format_time(Some(c.info.not_after)),
                validity: c.info.validity_at(now).to_string(),
                sha256: c.info.sha256.colon_hex(),
                sha1: c.info.sha1.colon_hex(),
                public_key: c.info.public_key.to_string(),
                source: c.source.clone(),
            })
            .collect(),
        key: bundle.key.as_ref().map(|k| KeyReport {
            algorithm: k.algorithm.label(),
            bits: k.bits,
            source: k.source.clone(),
        }),
        chain_order: chain
            .as_ref()
            .map(|c| c.order.iter().map(|&i| label(i)).collect())
            .unwrap_or_default(),
        usable: import::passes(&checks),
        checks,
    };
    emit(g, &report, || {
        let mut out = String::new();
        for (i, c) in report.certificates.iter().enumerate() {
            // Names in a file are as untrusted as names from the cloud.
            out.push_str(&format!(
                "Certificate {} ({})\n",
                i + 1,
                escape_for_terminal(&c.source)
            ));
            for (k, v) in [
                ("Subject", &c.subject),
                ("Issuer", &c.issuer),
                ("Serial", &c.serial),
                ("Not before", &c.not_before),
                ("Not after", &c.not_after),
                ("Validity", &c.validity),
                ("SHA-256", &c.sha256),
                ("SHA-1", &c.sha1),
                ("Public key", &c.public_key),
            ] {
                out.push_str(&format!("  {k:<11} {}\n", escape_for_terminal(v)));
            }
            if !c.subject_alt_names.is_empty() {
                out.push_str(&format!(
                    "  {:<11} {}\n",
                    "SANs",
                    escape_for_terminal(&c.subject_alt_names.join(", "))
                ));
            }
        }
        if let Some(k) = &report.key {
            let bits = k.bits.map(|b| format!(" {b} bits")).unwrap_or_default();
            out.push_str(&format!(
                "Private key: {}{bits} ({})\n",
                k.algorithm,
                escape_for_terminal(&k.source)
            ));
        }
        if !report.chain_order.is_empty() {
            out.push_str(&format!(
                "Chain (leaf first): {}\n",
                escape_for_terminal(&report.chain_order.join(" → "))
            ));
        }
        out.push_str("Checks:\n");
        for c in &report.checks {
            let mark = match c.verdict {
                Verdict::Pass => "PASS",
                Verdict::Warn => "WARN",
                Verdict::Fail => "FAIL",
            };
            out.push_str(&format!(
                "  [{mark}] {:<24} {}\n",
                c.name,
                escape_for_terminal(&c.detail)
            ));
        }
        out
    })?;
    if report.usable {
        Ok(())
    } else {
        let failed: Vec<&str> = report
            .checks
            .iter()
            .filter(|c| c.verdict == Verdict::Fail)
            .map(|c| c.name)
            .collect();
        Err(Failure::Usage(format!(
            "cannot be used: failed check(s): {}",
            failed.join(", ")
        )))
    }
}
