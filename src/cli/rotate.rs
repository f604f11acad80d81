//! Certificate rotation and what comes after a job, on the command line: `bulk set-cert`,
//! `bulk https-on|https-off` for CDN and VOD domains, `jobs resume` of a rotation, `jobs
//! retry-failed` and `jobs undo`. Every job runs through the bulk engine with the per-domain checks
//! of `jobs::rotation` (coverage, online, skip, verify); single changes go through `change::apply`.
//!
//! A certificate comes from files (run through every local check of the importer first) or from
//! the SSL certificate repository by id. The private key is read into a `Secret`, sent, and
//! dropped (zeroized) with the job; it is never printed, logged or journaled.

use super::bulk::{self, BulkArgs, JobsCommand, OperationArg, confirm, follow, read_ids};
use super::cert_args::CertArgs;
use super::change::journal;
use super::{Failure, Globals, emit};
use crate::cloud::{SslClient, Transport};
use crate::credentials::Secret;
use crate::import::{self, Bundle, Target, Verdict};
use crate::jobs::backends::CloudBackend;
use crate::jobs::rotation::{
    self, CertificateSource, DomainChecks, JobOrigin, JobParams, NewCertificate, RotationPreview,
    UndoPlan, day,
};
use crate::jobs::{
    Backend, BulkItem, BulkJob, CertificateUpload, ChangeRequest, EngineConfig, ItemChecks,
    JobExtras, Principal, dry_run, resume_job_with, start_job_with,
};
use crate::model::{Change, Provider, Service};
use crate::store::journal::{JobRecord, Journal, JournalItem};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// The SSL repository's sites (`CertRegion`).
const REPOSITORY_SITES: [&str; 2] = ["cn-hangzhou", "ap-southeast-1"];

/// Longest name of a certificate in the SSL certificate repository (documented: 63).
pub(super) const MAX_REPOSITORY_NAME: usize = 63;

/// A certificate read from files, checked, ready to send.
pub(super) struct Loaded {
    /// What is sent (the key as a `Secret`).
    pub upload: CertificateUpload,
    /// What is compared.
    pub new: NewCertificate,
}

/// Reads `cert` and `key`, runs every local check of the importer (key matches, validity unless
/// `allow_expired`, chain, name length up to `max_name`, size) and fails with the failed checks'
/// reasons; warnings go to stderr.
pub(super) fn load_files(
    cert: &Path,
    key: &Path,
    cert_name: Option<String>,
    allow_expired: bool,
    max_name: usize,
) -> Result<Loaded, Failure> {
    let passphrase = std::env::var("CERTDESK_PASSPHRASE")
        .ok()
        .filter(|p| !p.is_empty())
        .map(Secret::new);
    let mut bundle = Bundle::default();
    for (flag, path) in [("--cert", cert), ("--key", key)] {
        let name = import::display_name(path);
        let bytes = import::read_file(path).map_err(|e| Failure::Usage(format!("{flag}: {e}")))?;
        let parsed = import::parse(&name, &bytes, passphrase.as_ref()).map_err(|e| {
            Failure::Usage(match e {
                import::ImportError::NeedsPassphrase { .. } => {
                    format!("{flag}: {e} (put it in $CERTDESK_PASSPHRASE)")
                }
                e => format!("{flag}: {e}"),
            })
        })?;
        bundle
            .merge(parsed)
            .map_err(|e| Failure::Usage(e.to_string()))?;
    }
    if bundle.key.is_none() {
        return Err(Failure::Usage(format!(
            "--key {} holds no private key",
            key.display()
        )));
    }
    let cert_name = cert_name
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty());
    let target = Target {
        domain: None,
        cert_name: cert_name.clone(),
        needs_key: true,
        allow_invalid_dates: allow_expired,
        now: time::OffsetDateTime::now_utc().unix_timestamp(),
    };
    let mut checks = import::check(&bundle, &target);
    if let Some(name) = &cert_name {
        let chars = name.chars().count();
        if chars > max_name {
            checks.push(import::Check {
                name: "name length",
                verdict: Verdict::Fail,
                detail: format!("{chars} characters; at most {max_name}"),
            });
        }
    }
    let failed: Vec<String> = checks
        .iter()
        .filter(|c| c.verdict == Verdict::Fail)
        .map(|c| format!("{}: {}", c.name, c.detail))
        .collect();
    if !failed.is_empty() {
        return Err(Failure::Usage(format!(
            "the certificate and key fail the upload checks, nothing was sent: {}",
            failed.join("; ")
        )));
    }
    for c in checks.iter().filter(|c| c.verdict == Verdict::Warn) {
        eprintln!("warning: {}: {}", c.name, c.detail);
    }
    let chain = import::order_chain(&bundle)
        .ok_or_else(|| Failure::Usage(format!("--cert {} holds no certificate", cert.display())))?;
    let leaf = bundle
        .certificates
        .get(chain.order[0])
        .ok_or_else(|| Failure::Usage("no leaf certificate".into()))?;
    let key = bundle
        .key
        .as_ref()
        .ok_or_else(|| Failure::Usage("no private key".into()))?;
    let label = leaf
        .info
        .common_name
        .clone()
        .unwrap_or_else(|| leaf.info.subject.clone());
    let new = NewCertificate {
        sha256: leaf.info.sha256.hex(),
        names: import::names_of(&leaf.info),
        not_after: Some(leaf.info.not_after),
        label,
        source: CertificateSource::Upload {
            cert_name: cert_name.clone().unwrap_or_default(),
        },
    };
    let upload = CertificateUpload {
        cert_name: cert_name.unwrap_or_default(),
        certificate_pem: bundle.chain_pem(&chain),
        private_key: key.to_pkcs8_pem(),
    };
    Ok(Loaded { upload, new })
}

/// A repository certificate's facts (never its key: the detail is read with `CertFilter=true`).
/// An expired one is refused unless `allow_expired`.
pub(super) async fn repository_certificate(
    g: &Globals,
    cert_id: i64,
    region: &str,
    allow_expired: bool,
) -> Result<NewCertificate, Failure> {
    if !REPOSITORY_SITES.contains(&region) {
        return Err(Failure::Usage(format!(
            "--cas-region {region:?}: the repository's sites are cn-hangzhou and ap-southeast-1"
        )));
    }
    let mut config = g.alibaba()?;
    config.region = region.to_string();
    let client = SslClient::new(&g.transport()?, &config)?;
    let detail = client
        .get_user_certificate_detail(cert_id, false)
        .await
        .map_err(|mut e| {
            if e.kind == crate::model::ErrorKind::NotFound {
                e.message = format!(
                    "repository certificate {cert_id} does not exist at {region} ({}); nothing was sent",
                    e.message
                );
            }
            Failure::Cloud(e)
        })?;
    let row = detail.to_row();
    let sha256 = match row.fingerprint_sha256.clone() {
        Some(sha) => sha,
        None => {
            return Err(Failure::Usage(format!(
                "repository certificate {cert_id} has no SHA-256 fingerprint in its detail: certdesk could not verify the rotation"
            )));
        }
    };
    let mut names: Vec<String> = detail
        .sans
        .split([',', ' '])
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .collect();
    if names.is_empty() && !detail.common.trim().is_empty() {
        names.push(detail.common.trim().to_string());
    }
    let not_after = row.not_after;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    if not_after.is_some_and(|t| t < now) {
        if allow_expired {
            eprintln!(
                "warning: repository certificate {cert_id} expired on {} (override accepted)",
                day(not_after)
            );
        } else {
            return Err(Failure::Usage(format!(
                "repository certificate {cert_id} expired on {}: browsers would reject it; rotate to it only with --allow-expired; nothing was sent",
                day(not_after)
            )));
        }
    }
    Ok(NewCertificate {
        sha256,
        names,
        not_after,
        label: if detail.name.is_empty() {
            detail.common.clone()
        } else {
            format!("{} ({})", detail.name, detail.common)
        },
        source: CertificateSource::Repository {
            cert_id,
            region: region.to_string(),
        },
    })
}

/// `certdesk bulk …`: the domain operations (set-cert, https-on, https-off) here, the status
/// changes in [`bulk::bulk`].
pub(super) async fn bulk(g: &Globals, args: BulkArgs) -> Result<(), Failure> {
    let service = args.target.service();
    let change = match args.operation {
        OperationArg::SetCert => {
            return set_cert(
                g,
                service,
                &args.ids_from,
                &args.cert,
                args.dry_run,
                args.yes,
                args.qps,
            )
            .await;
        }
        OperationArg::HttpsOn => Change::HttpsOn,
        OperationArg::HttpsOff => Change::HttpsOff,
        _ => return bulk::bulk(g, args).await,
    };
    if args.cert.any() {
        return Err(Failure::Usage(
            "--cert/--key/--cas-cert-id go with set-cert only".into(),
        ));
    }
    https(
        g,
        service,
        change,
        &args.ids_from,
        args.dry_run,
        args.yes,
        args.qps,
    )
    .await
}

/// `certdesk jobs …`: retry-failed, undo and the resume of a rotation here, the rest in
/// [`bulk::jobs`].
pub(super) async fn jobs(g: &Globals, cmd: JobsCommand) -> Result<(), Failure> {
    match cmd {
        JobsCommand::RetryFailed {
            job,
            yes,
            qps,
            cert,
        } => retry_failed(g, &job, &cert, yes, qps).await,
        JobsCommand::Undo { job, yes, qps } => undo(g, &job, yes, qps).await,
        JobsCommand::Resume { job, qps, cert } => match resume(g, &job, &cert, qps).await {
            Some(done) => done,
            None => bulk::jobs(g, JobsCommand::Resume { job, qps, cert }).await,
        },
        other => bulk::jobs(g, other).await,
    }
}

/// The request and facts of `args`' certificate (files or repository).
async fn certificate_from(
    g: &Globals,
    args: &CertArgs,
) -> Result<(ChangeRequest, NewCertificate), Failure> {
    match (&args.cert, &args.key, args.cas_cert_id) {
        (Some(_), _, Some(_)) | (_, Some(_), Some(_)) => Err(Failure::Usage(
            "--cas-cert-id names a repository certificate; --cert/--key upload one: choose one"
                .into(),
        )),
        (Some(cert), Some(key), None) => {
            let loaded = load_files(
                cert,
                key,
                args.cert_name.clone(),
                args.allow_expired,
                import::MAX_CERT_NAME_CHARS,
            )?;
            Ok((ChangeRequest::SetCertificate(loaded.upload), loaded.new))
        }
        (Some(_), None, None) | (None, Some(_), None) => {
            Err(Failure::Usage("--cert and --key go together".into()))
        }
        (None, None, Some(id)) => {
            let new = repository_certificate(g, id, &args.cas_region, args.allow_expired).await?;
            let request = new
                .repository_request()
                .ok_or_else(|| Failure::Run("not a repository certificate".into()))?;
            Ok((request, new))
        }
        (None, None, None) => Err(Failure::Usage(
            "which certificate? pass --cert FILE --key FILE, or --cas-cert-id ID".into(),
        )),
    }
}

/// The bulk backend of the Alibaba account (no transport retries: the engine retries).
struct Wired {
    cloud: Arc<CloudBackend>,
    principal: Principal,
    rate_limit_qps: Option<u32>,
}

impl Wired {
    fn backend(&self) -> Arc<dyn Backend> {
        self.cloud.clone()
    }
}

fn wire(g: &Globals) -> Result<Wired, Failure> {
    let transport: Transport = g.transport_for_jobs()?;
    let account = super::change::backend(g, Provider::Alibaba, &transport)?;
    account.backend.alibaba().map(|_| ())?;
    Ok(Wired {
        cloud: Arc::new(account.backend),
        principal: account.principal,
        rate_limit_qps: account.rate_limit_qps,
    })
}

fn domain_service(service: Service) -> Result<Service, Failure> {
    match service {
        Service::Cdn | Service::Vod => Ok(service),
        other => Err(Failure::Usage(format!(
            "{other} items are not domains: set-cert, https-on and https-off take --target cdn or vod"
        ))),
    }
}

fn domain_items(service: Service, ids: Vec<String>) -> Vec<BulkItem> {
    ids.into_iter()
        .map(|id| BulkItem {
            service,
            name: id.clone(),
            id,
            site_id: None,
        })
        .collect()
}

/// The per-domain checks of a job on `service`'s domains (refusing the offline and configuring
/// ones), with `new` for a rotation.
async fn domain_checks(
    wired: &Wired,
    service: Service,
    new: Option<NewCertificate>,
    config: &EngineConfig,
) -> Result<DomainChecks, Failure> {
    let statuses = rotation::domain_statuses(&wired.cloud, service).await?;
    Ok(DomainChecks::new(wired.backend(), new)
        .refusing(&statuses)
        .with_retry(config.retry))
}

fn engine_config(
    service: Service,
    flag_qps: Option<u32>,
    profile_qps: Option<u32>,
) -> EngineConfig {
    EngineConfig::for_service(service).with_rate_limit(flag_qps.or(profile_qps))
}

fn preview_table(new: &NewCertificate, previews: &[RotationPreview]) -> String {
    let width = previews
        .iter()
        .map(|p| p.domain.chars().count())
        .max()
        .unwrap_or(6)
        .clamp(6, 60);
    let mut out = format!(
        "new certificate: {} (SHA-256 {}, expires {}, for {})\n",
        new.label,
        new.sha256.get(..16).unwrap_or(&new.sha256),
        day(new.not_after),
        new.names.join(", ")
    );
    out.push_str(&format!(
        "{:<width$} {:<58} {:<8} {:<13} {}\n",
        "DOMAIN", "NOW → NEW", "COVERED", "UNDO", "VERDICT"
    ));
    for p in previews {
        let now = match &p.current {
            Some(c) => format!(
                "{} exp {}",
                c.sha256.as_deref().and_then(|s| s.get(..12)).unwrap_or("?"),
                day(c.not_after)
            ),
            None => "-".to_string(),
        };
        let change = format!(
            "{now} → {} exp {}",
            p.new_sha256.get(..12).unwrap_or(&p.new_sha256),
            day(p.new_not_after)
        );
        let undo = if !p.would_send {
            "-"
        } else if p.reversible {
            "reversible"
        } else {
            "irreversible"
        };
        out.push_str(&format!(
            "{:<width$} {:<58} {:<8} {:<13} {}\n",
            p.domain,
            change,
            if p.covered { "yes" } else { "NO" },
            undo,
            p.verdict
        ));
    }
    out
}

/// `certdesk bulk set-cert --target cdn|vod --ids-from FILE (--cert F --key F | --cas-cert-id ID)`.
pub(super) async fn set_cert(
    g: &Globals,
    service: Service,
    ids_from: &Path,
    args: &CertArgs,
    dry_run: bool,
    yes: bool,
    qps: Option<u32>,
) -> Result<(), Failure> {
    let service = domain_service(service)?;
    let items = domain_items(service, read_ids(ids_from)?);
    let wired = wire(g)?;
    let config = engine_config(service, qps, wired.rate_limit_qps);
    let (request, new) = certificate_from(g, args).await?;
    let checks = Arc::new(domain_checks(&wired, service, Some(new.clone()), &config).await?);
    if dry_run || !yes {
        let previews = rotation::preview(Arc::clone(&checks), items.clone(), config).await;
        if dry_run {
            return emit(g, &previews, || {
                let mut out = preview_table(&new, &previews);
                let sending = previews.iter().filter(|p| p.would_send).count();
                out.push_str(&format!(
                    "dry run: {sending} of {} would be sent; nothing was changed\n",
                    previews.len()
                ));
                out
            });
        }
        eprint!("{}", preview_table(&new, &previews));
        let sending = previews.iter().filter(|p| p.would_send).count();
        let irreversible = previews
            .iter()
            .filter(|p| p.would_send && !p.reversible)
            .count();
        let summary = format!(
            "About to put {} on {} {service} domain(s) in profile {} ({sending} to send; the others are refused or already serving it). {} reversible with `certdesk jobs undo`, {irreversible} irreversible (their current certificate was uploaded with its key, which certdesk never keeps).",
            new.label,
            items.len(),
            wired.principal.profile,
            sending - irreversible,
        );
        confirm(&summary, items.len())?;
    }
    let params = JobParams {
        certificate: Some(new),
        allow_expired: args.allow_expired,
        origin: None,
    };
    run_job(
        g,
        &wired,
        service,
        request,
        items,
        config,
        Some(checks),
        params,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn run_job(
    g: &Globals,
    wired: &Wired,
    service: Service,
    request: ChangeRequest,
    items: Vec<BulkItem>,
    config: EngineConfig,
    checks: Option<Arc<DomainChecks>>,
    params: JobParams,
) -> Result<(), Failure> {
    let journal = journal()?;
    let job = BulkJob {
        principal: wired.principal.clone(),
        service,
        request,
        items,
    };
    let extras = JobExtras {
        checks: checks.map(|c| c as Arc<dyn ItemChecks>),
        params: Some(params.encode()),
        ..JobExtras::default()
    };
    let handle = start_job_with(journal, wired.backend(), job, config, extras)
        .map_err(|e| Failure::Run(e.to_string()))?;
    super::conventions::note(format_args!("job {} started", handle.job_id));
    follow(g, handle).await
}

/// `certdesk bulk https-on|https-off --target cdn|vod --ids-from FILE`.
pub(super) async fn https(
    g: &Globals,
    service: Service,
    change: Change,
    ids_from: &Path,
    dry: bool,
    yes: bool,
    qps: Option<u32>,
) -> Result<(), Failure> {
    let service = domain_service(service)?;
    if !change.supported_by(service) {
        return Err(Failure::Usage(format!(
            "{} switches HTTPS on only together with a certificate: use `certdesk bulk set-cert --target vod`",
            service.label()
        )));
    }
    let items = domain_items(service, read_ids(ids_from)?);
    let wired = wire(g)?;
    let config = engine_config(service, qps, wired.rate_limit_qps);
    let checks = Arc::new(domain_checks(&wired, service, None, &config).await?);
    if dry {
        let mut verdicts = dry_run(wired.backend(), change, items, config).await;
        for v in &mut verdicts {
            if let Some(reason) = checks.refusal(&v.item.id) {
                v.verdict = format!("not allowed: {reason}");
                v.would_send = false;
            }
        }
        return emit(g, &verdicts, || {
            let mut out = format!("{:<40} {:<10} {}\n", "DOMAIN", "HTTPS", "VERDICT");
            for v in &verdicts {
                let status = v.current.map(|s| s.label()).unwrap_or("-");
                out.push_str(&format!("{:<40} {:<10} {}\n", v.item.id, status, v.verdict));
            }
            let sending = verdicts.iter().filter(|v| v.would_send).count();
            out.push_str(&format!(
                "dry run: {sending} of {} would be sent; nothing was changed\n",
                verdicts.len()
            ));
            out
        });
    }
    if !yes {
        let summary = format!(
            "About to {change} {} {service} domain(s) in profile {} ({}).",
            items.len(),
            wired.principal.profile,
            rotation::reversibility(change, service)
        );
        confirm(&summary, items.len())?;
    }
    run_job(
        g,
        &wired,
        service,
        change.into(),
        items,
        config,
        Some(checks),
        JobParams::default(),
    )
    .await
}

struct Journaled {
    journal: Arc<Mutex<Journal>>,
    record: JobRecord,
    items: Vec<JournalItem>,
    params: Option<JobParams>,
}

fn journaled(job: &str) -> Result<Journaled, Failure> {
    let journal = journal()?;
    let (record, items, params) = {
        let guard = journal
            .lock()
            .map_err(|_| Failure::Run("journal lock".into()))?;
        let record = guard
            .job(job)
            .map_err(|e| Failure::Run(e.to_string()))?
            .ok_or_else(|| {
                Failure::Usage(format!(
                    "no job {job:?} in the journal (see `certdesk jobs list`)"
                ))
            })?;
        let items = guard.items(job).map_err(|e| Failure::Run(e.to_string()))?;
        let params = guard
            .job_params(job)
            .map_err(|e| Failure::Run(e.to_string()))?;
        (record, items, JobParams::decode(params.as_deref()))
    };
    Ok(Journaled {
        journal,
        record,
        items,
        params,
    })
}

/// The request of a set-certificate job, rebuilt from its params: a repository certificate from
/// the journal alone, an uploaded one only from the same files again (`args`).
fn rotation_request(
    job: &Journaled,
    args: &CertArgs,
    what: &str,
) -> Result<(ChangeRequest, NewCertificate), Failure> {
    let id = &job.record.id;
    let Some(new) = job.params.as_ref().and_then(|p| p.certificate.clone()) else {
        return Err(Failure::Usage(format!(
            "job {id} puts a certificate on its domains, but which one was not journaled (a job of an older certdesk): it cannot be {what}; start a new `certdesk bulk set-cert`"
        )));
    };
    match &new.source {
        CertificateSource::Repository { .. } => {
            if args.any() {
                return Err(Failure::Usage(format!(
                    "job {id} uses repository certificate {}: it needs no --cert/--key/--cas-cert-id",
                    new.label
                )));
            }
            let request = new
                .repository_request()
                .ok_or_else(|| Failure::Run("not a repository certificate".into()))?;
            Ok((request, new))
        }
        CertificateSource::Upload { cert_name } => {
            let (Some(cert), Some(key)) = (&args.cert, &args.key) else {
                return Err(Failure::Usage(format!(
                    "job {id} uploads a certificate with its private key (SHA-256 {}); certdesk never journals keys, so it can be {what} only with the same files again: add --cert FILE --key FILE",
                    new.sha256
                )));
            };
            let allow_expired =
                args.allow_expired || job.params.as_ref().is_some_and(|p| p.allow_expired);
            let loaded = load_files(
                cert,
                key,
                Some(cert_name.clone()).filter(|n| !n.is_empty()),
                allow_expired,
                import::MAX_CERT_NAME_CHARS,
            )?;
            if loaded.new.sha256 != new.sha256 {
                return Err(Failure::Usage(format!(
                    "{} is not the certificate of job {id} (SHA-256 {}, the job's is {}); nothing was sent",
                    cert.display(),
                    loaded.new.sha256,
                    new.sha256
                )));
            }
            Ok((ChangeRequest::SetCertificate(loaded.upload), new))
        }
    }
}

/// `certdesk jobs resume` of a set-certificate job (`None`: not one, the caller resumes it as
/// usual). Uncertain domains are described again first: one serving the new certificate counts as
/// applied and is not sent again.
pub(super) async fn resume(
    g: &Globals,
    job: &str,
    args: &CertArgs,
    qps: Option<u32>,
) -> Option<Result<(), Failure>> {
    let journaled = match journaled(job) {
        Ok(j) => j,
        Err(e) => return Some(Err(e)),
    };
    if journaled.record.operation != Change::SetCertificate {
        if args.any() {
            return Some(Err(Failure::Usage(format!(
                "job {job} ({}) takes no certificate options",
                journaled.record.operation
            ))));
        }
        return None;
    }
    Some(resume_rotation(g, journaled, args, qps).await)
}

async fn resume_rotation(
    g: &Globals,
    job: Journaled,
    args: &CertArgs,
    qps: Option<u32>,
) -> Result<(), Failure> {
    let service = domain_service(job.record.service)?;
    let (request, new) = rotation_request(&job, args, "resumed")?;
    // Under the profile (and key) the job was started with, as every resume.
    let g = &bulk::globals_for_job(g, &job.record)?;
    let wired = wire(g)?;
    let config = engine_config(service, qps, wired.rate_limit_qps);
    let checks = domain_checks(&wired, service, Some(new), &config).await?;
    let handle = resume_job_with(
        job.journal,
        wired.backend(),
        &job.record.id,
        wired.principal.clone(),
        request,
        Some(Arc::new(checks)),
        config,
    )
    .map_err(bulk::refusal)?;
    super::conventions::note(format_args!(
        "job {} resumed (domains sent before without a recorded answer are described again first)",
        job.record.id
    ));
    follow(g, handle).await
}

/// `certdesk jobs retry-failed JOB`: exactly the failed items, as a new audited job.
pub(super) async fn retry_failed(
    g: &Globals,
    job: &str,
    args: &CertArgs,
    yes: bool,
    qps: Option<u32>,
) -> Result<(), Failure> {
    let journaled = journaled(job)?;
    let record = journaled.record.clone();
    let service = record.service;
    let items = rotation::failed_items(service, &journaled.items);
    if items.is_empty() {
        super::conventions::note(format_args!(
            "job {job} has no failed items: nothing to retry"
        ));
        return Ok(());
    }
    let refused = journaled
        .items
        .iter()
        .filter(|i| i.outcome == Some(crate::model::Outcome::NotAllowed))
        .count();
    let (request, new) = if record.operation == Change::SetCertificate {
        let (request, new) = rotation_request(&journaled, args, "retried")?;
        (request, Some(new))
    } else if args.any() {
        return Err(Failure::Usage(format!(
            "job {job} ({}) takes no certificate options",
            record.operation
        )));
    } else if record.operation.target_status().is_some() {
        (ChangeRequest::Status(record.operation), None)
    } else {
        return Err(Failure::Usage(format!(
            "job {job} ({}) cannot be retried from the journal: run the command again",
            record.operation
        )));
    };
    if !yes {
        let summary = format!(
            "About to retry the {} failed item(s) of job {job} ({} on {service}) as a new job{}; {}.",
            items.len(),
            record.operation,
            if refused > 0 {
                format!(
                    " ({refused} refused item(s) are left out: nothing changed that would allow them)"
                )
            } else {
                String::new()
            },
            match &new {
                Some(_) =>
                    "reversible where the domain's current certificate is a repository certificate"
                        .to_string(),
                None => rotation::reversibility(record.operation, service),
            }
        );
        confirm(&summary, items.len())?;
    }
    let params = JobParams {
        allow_expired: journaled.params.as_ref().is_some_and(|p| p.allow_expired),
        certificate: new.clone(),
        origin: Some(JobOrigin {
            kind: "retry-failed".into(),
            job: job.to_string(),
        }),
    };
    run_change(g, service, request, new, items, qps, params).await
}

/// Runs `request` on `items` as a new job, with the domain checks where the items are domains.
async fn run_change(
    g: &Globals,
    service: Service,
    request: ChangeRequest,
    new: Option<NewCertificate>,
    items: Vec<BulkItem>,
    qps: Option<u32>,
    params: JobParams,
) -> Result<(), Failure> {
    if matches!(service, Service::Cdn | Service::Vod) {
        let wired = wire(g)?;
        let config = engine_config(service, qps, wired.rate_limit_qps);
        let checks = Arc::new(domain_checks(&wired, service, new, &config).await?);
        return run_job(
            g,
            &wired,
            service,
            request,
            items,
            config,
            Some(checks),
            params,
        )
        .await;
    }
    let wired = bulk::backend(g, service)?;
    let config = engine_config(service, qps, wired.rate_limit_qps);
    let job = BulkJob {
        principal: wired.principal,
        service,
        request,
        items,
    };
    let extras = JobExtras {
        checks: None,
        params: Some(params.encode()),
        ..JobExtras::default()
    };
    let handle = start_job_with(journal()?, wired.backend, job, config, extras)
        .map_err(|e| Failure::Run(e.to_string()))?;
    super::conventions::note(format_args!("job {} started", handle.job_id));
    follow(g, handle).await
}

/// One planned undo job, ready to run.
struct PlannedUndo {
    request: ChangeRequest,
    new: Option<NewCertificate>,
    items: Vec<BulkItem>,
}

fn describe_request(request: &ChangeRequest, new: Option<&NewCertificate>) -> String {
    match (request, new) {
        (ChangeRequest::SetRepositoryCertificate { cert_id, region }, Some(n)) => format!(
            "put back repository certificate {cert_id} at {region}: {} (expires {})",
            n.label,
            day(n.not_after)
        ),
        (ChangeRequest::SetRepositoryCertificate { cert_id, region }, None) => {
            format!("put back repository certificate {cert_id} at {region}")
        }
        (request, _) => request.change().to_string(),
    }
}

/// `certdesk jobs undo JOB`: the inverse of exactly the items the job changed, where one exists;
/// what cannot be undone is listed (with the reason) before anything starts.
pub(super) async fn undo(
    g: &Globals,
    job: &str,
    yes: bool,
    qps: Option<u32>,
) -> Result<(), Failure> {
    let journaled = journaled(job)?;
    let previous: HashMap<u32, String> = journaled
        .journal
        .lock()
        .map_err(|_| Failure::Run("journal lock".into()))?
        .previous(job)
        .map_err(|e| Failure::Run(e.to_string()))?
        .into_iter()
        .collect();
    let UndoPlan {
        jobs,
        mut irreversible,
        untouched,
    } = rotation::plan_undo(&journaled.record, &journaled.items, &previous);
    // A certificate to put back must still be in the repository.
    let mut planned = Vec::new();
    for undo_job in jobs {
        let new = match &undo_job.request {
            ChangeRequest::SetRepositoryCertificate { cert_id, region } => {
                match repository_certificate(g, *cert_id, region, true).await {
                    Ok(new) => Some(new),
                    Err(e) => {
                        let why = format!(
                            "its previous repository certificate {cert_id} cannot be put back: {}",
                            e.line().trim_start_matches("error: ")
                        );
                        irreversible.extend(undo_job.items.into_iter().map(|i| (i, why.clone())));
                        continue;
                    }
                }
            }
            _ => None,
        };
        planned.push(PlannedUndo {
            request: undo_job.request,
            new,
            items: undo_job.items,
        });
    }
    let record = &journaled.record;
    let mut text = format!(
        "Undo of job {job} ({} on {} item(s) of {}):\n",
        record.operation,
        journaled.items.len(),
        record.service.label()
    );
    for p in &planned {
        let what = describe_request(&p.request, p.new.as_ref());
        for item in &p.items {
            text.push_str(&format!("  reversible    {:<40} {what}\n", item.id));
        }
    }
    for (item, why) in &irreversible {
        text.push_str(&format!("  irreversible  {:<40} {why}\n", item.id));
    }
    if untouched > 0 {
        text.push_str(&format!(
            "  ({untouched} item(s) were not changed by the job — already in the target state, refused, failed or never sent: nothing to undo)\n"
        ));
    }
    eprint!("{text}");
    let count: usize = planned.iter().map(|p| p.items.len()).sum();
    if count == 0 {
        return Err(Failure::Usage(format!(
            "nothing in job {job} can be undone ({} irreversible, {untouched} not changed); nothing was sent",
            irreversible.len()
        )));
    }
    if !yes {
        confirm(
            &format!(
                "About to undo {count} change(s) of job {job} in {} job(s); {} change(s) cannot be undone (listed above).",
                planned.len(),
                irreversible.len()
            ),
            count,
        )?;
    }
    let mut first_failure = None;
    for p in planned {
        let params = JobParams {
            certificate: p.new.clone(),
            // Putting back what was served before, even if it has expired since.
            allow_expired: true,
            origin: Some(JobOrigin {
                kind: "undo".into(),
                job: job.to_string(),
            }),
        };
        if let Err(e) = run_change(g, record.service, p.request, p.new, p.items, qps, params).await
            && first_failure.is_none()
        {
            first_failure = Some(e);
        }
    }
    match first_failure {
        Some(e) => Err(e),
        None => {
            if !irreversible.is_empty() {
                eprintln!(
                    "{} change(s) of job {job} could not be undone (listed above)",
                    irreversible.len()
                );
            }
            Ok(())
        }
    }
}

/// After a single certificate change: describes the domain again and compares it with the new
/// certificate (stderr, so `--json` output stays one document).
pub(super) async fn verify_single(
    g: &Globals,
    item: &BulkItem,
    new: &NewCertificate,
) -> Result<(), Failure> {
    let transport = g.transport()?;
    let account = super::change::backend(g, Provider::Alibaba, &transport)?;
    let checks = DomainChecks::new(Arc::new(account.backend), Some(new.clone()));
    match checks.after(item).await {
        Ok(note) => {
            super::conventions::note(format_args!(
                "{}: {}",
                super::escape_for_terminal(&item.id),
                super::escape_for_terminal(&note)
            ));
            Ok(())
        }
        Err(e) => Err(Failure::Cloud(e)),
    }
}
