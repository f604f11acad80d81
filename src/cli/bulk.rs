//! `certdesk bulk`, `certdesk jobs` and `certdesk audit`: the bulk engine from the command line,
//! with the same typed-count confirmation as the GUI and the same journal and audit log. The
//! confirmation names the account and where the requests go; `jobs resume` runs under the
//! profile and key the job was started with; `audit verify` checks the audit log's hash chain.
//! Domain jobs (set-cert, https-on, https-off), rotation resumes, retry-failed and undo are in
//! `super::rotate`, which dispatches the rest here.

use super::cert_args::CertArgs;
use super::change::journal;
use super::{Failure, Globals, emit, escape_for_terminal, format_time};
use crate::jobs::{
    Backend, BulkItem, BulkJob, EngineConfig, ItemResult, JobHandle, JobProgress, Principal,
    dry_run, resume_job, start_job,
};
use crate::model::{Change, Service};
use crate::store::journal::{JournalError, write_audit_csv};
use clap::{Subcommand, ValueEnum};
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The operation of a bulk job.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(super) enum OperationArg {
    Revoke,
    Disable,
    Enable,
    Activate,
    /// Put a certificate on CDN or VOD domains (--cert/--key or --cas-cert-id).
    SetCert,
    /// Switch HTTPS on for CDN domains with the certificate they have.
    HttpsOn,
    /// Switch HTTPS off for CDN or VOD domains.
    HttpsOff,
}

/// Where the certificates live.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(super) enum TargetArg {
    Kms,
    Pca,
    Esa,
    Iot,
    Cdn,
    Vod,
}

impl TargetArg {
    pub(super) fn service(self) -> Service {
        match self {
            TargetArg::Kms => Service::Kms,
            TargetArg::Pca => Service::Pca,
            TargetArg::Esa => Service::Esa,
            TargetArg::Iot => Service::Iotda,
            TargetArg::Cdn => Service::Cdn,
            TargetArg::Vod => Service::Vod,
        }
    }
}

/// `certdesk bulk …` arguments.
#[derive(Debug, clap::Args)]
pub(super) struct BulkArgs {
    /// What to do to every certificate.
    #[arg(value_enum)]
    pub(super) operation: OperationArg,
    /// Which service the ids belong to.
    #[arg(long, value_enum)]
    pub(super) target: TargetArg,
    /// ESA site id (required with --target esa).
    #[arg(long, value_name = "SITE_ID")]
    site: Option<i64>,
    /// File with one certificate id (or domain) per line (blank lines and # comments are skipped).
    #[arg(long, value_name = "FILE")]
    pub(super) ids_from: PathBuf,
    /// Check every item (exists, current status, allowed transition) without changing anything.
    #[arg(long)]
    pub(super) dry_run: bool,
    /// Do not ask for the typed count.
    #[arg(long)]
    pub(super) yes: bool,
    /// Requests per second (default: the API's published limit, e.g. 10 for cas).
    #[arg(long, value_name = "N")]
    pub(super) qps: Option<u32>,
    /// set-cert: the certificate to put on the domains.
    #[command(flatten)]
    pub(super) cert: CertArgs,
}

/// `certdesk jobs …`.
#[derive(Debug, Subcommand)]
pub(super) enum JobsCommand {
    /// Every bulk job in the journal, newest first, with its counts.
    List,
    /// Resume an unfinished (killed, crashed or cancelled) job. A rotation to an uploaded
    /// certificate needs the same --cert/--key files again (keys are never journaled).
    Resume {
        /// Job id (from `certdesk jobs list`).
        job: String,
        /// Requests per second (default: the API's published limit).
        #[arg(long, value_name = "N")]
        qps: Option<u32>,
        /// A rotation to an uploaded certificate: the same files again.
        #[command(flatten)]
        cert: CertArgs,
    },
    /// Run exactly the failed items of a job again, as a new audited job.
    RetryFailed {
        /// Job id (from `certdesk jobs list`).
        job: String,
        /// Do not ask for the typed count.
        #[arg(long)]
        yes: bool,
        /// Requests per second (default: the API's published limit).
        #[arg(long, value_name = "N")]
        qps: Option<u32>,
        /// A rotation to an uploaded certificate: the same files again.
        #[command(flatten)]
        cert: CertArgs,
    },
    /// Apply the inverse of exactly the changes a job made, where one exists (says which cannot
    /// be undone before anything starts).
    Undo {
        /// Job id (from `certdesk jobs list`).
        job: String,
        /// Do not ask for the typed count.
        #[arg(long)]
        yes: bool,
        /// Requests per second (default: the API's published limit).
        #[arg(long, value_name = "N")]
        qps: Option<u32>,
    },
}

/// `certdesk audit` arguments.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(super) struct AuditArgs {
    #[command(subcommand)]
    command: Option<AuditCommand>,
    /// Print CSV instead of a table.
    #[arg(long)]
    csv: bool,
    /// Only entries containing this text (profile, user, host, AccessKey id, service, operation, target, result, code, RequestId).
    #[arg(long, value_name = "TEXT")]
    filter: Option<String>,
}

/// `certdesk audit …` subcommands.
#[derive(Debug, Subcommand)]
pub(super) enum AuditCommand {
    /// Check the audit log's hash chain: exits 1 naming the first row that was edited, deleted or
    /// reordered.
    Verify {
        /// A head hash printed by an earlier `audit verify`: also check that the log still holds
        /// that row (so it was not cut back to before it).
        #[arg(long, value_name = "HASH")]
        head: Option<String>,
    },
}

/// The bulk backend of `service`'s account (no transport retries: the engine retries and
/// journals each attempt), the principal it acts as, the profile's rate limit, and where the
/// requests go compared with the profile's defaults.
pub(super) struct Wired {
    pub(super) backend: Arc<dyn Backend>,
    pub(super) principal: Principal,
    pub(super) rate_limit_qps: Option<u32>,
    profile_region: String,
    profile_endpoint: Option<String>,
}

impl Wired {
    /// Where the job's requests go, for the confirmation: the account (profile and AccessKey id)
    /// always; the region, and the endpoint when one is used; each marked when it is not the
    /// profile's own (a `--region` / `--endpoint` flag).
    pub(super) fn destination(&self, service: Service) -> String {
        let p = &self.principal;
        let mut out = format!(
            "profile {} ({}, AccessKey {})",
            p.profile,
            service.provider(),
            if p.access_key_id.is_empty() {
                "unknown"
            } else {
                &p.access_key_id
            }
        );
        out.push_str(&format!(", region {}", p.region));
        if p.region != self.profile_region {
            out.push_str(&format!(
                " (--region; the profile's is {})",
                self.profile_region
            ));
        }
        match (&p.endpoint, &self.profile_endpoint) {
            (Some(e), Some(own)) if e == own => out.push_str(&format!(", endpoint {e}")),
            (Some(e), Some(own)) => out.push_str(&format!(
                ", endpoint {e} (--endpoint; the profile's is {own})"
            )),
            (Some(e), None) => out.push_str(&format!(
                ", endpoint {e} (--endpoint; the profile uses the region's public endpoint)"
            )),
            (None, _) => out.push_str(", the region's public endpoint"),
        }
        out
    }
}

pub(super) fn backend(g: &Globals, service: Service) -> Result<Wired, Failure> {
    let transport = g.transport_for_jobs()?;
    let account = super::change::backend(g, service.provider(), &transport)?;
    match service.provider() {
        crate::model::Provider::Alibaba => account.backend.alibaba().map(|_| ())?,
        crate::model::Provider::Huawei => account.backend.iotda().map(|_| ())?,
    }
    Ok(Wired {
        backend: Arc::new(account.backend),
        principal: account.principal,
        rate_limit_qps: account.rate_limit_qps,
        profile_region: account.profile_region,
        profile_endpoint: account.profile_endpoint,
    })
}

/// Largest `--ids-from` file: 100 000 ids of 64 characters is 6.5 MB.
const MAX_IDS_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// The ids of an `--ids-from` file, each once, in first-seen order, and the ids that were listed
/// more than once (each named once, in first-seen order).
fn parse_ids(text: &str) -> (Vec<String>, Vec<String>) {
    let mut seen = std::collections::HashSet::new();
    let mut repeated = std::collections::HashSet::new();
    let mut ids = Vec::new();
    let mut duplicates = Vec::new();
    for id in text
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(|l| l.split([',', ' ', '\t']).next().unwrap_or(l))
    {
        if seen.insert(id.to_string()) {
            ids.push(id.to_string());
        } else if repeated.insert(id.to_string()) {
            duplicates.push(id.to_string());
        }
    }
    (ids, duplicates)
}

pub(super) fn read_ids(path: &Path) -> Result<Vec<String>, Failure> {
    use crate::files::{Accept, read_bounded};
    let failure =
        |reason: String| Failure::Usage(format!("--ids-from {}: {reason}", path.display()));
    // A regular file or a pipe (`--ids-from <(grep … list.txt)`), bounded either way.
    let bytes = read_bounded(path, MAX_IDS_FILE_BYTES, Accept::RegularFilesAndPipes)
        .map_err(|e| failure(e.to_string()))?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| failure("it is not UTF-8 text (one id per line expected)".into()))?;
    let (ids, duplicates) = parse_ids(text);
    if ids.is_empty() {
        return Err(Failure::Usage(format!(
            "--ids-from {}: no ids in the file",
            path.display()
        )));
    }
    if !duplicates.is_empty() {
        const SHOWN: usize = 10;
        let mut named = duplicates
            .iter()
            .take(SHOWN)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        if duplicates.len() > SHOWN {
            named.push_str(&format!(", and {} more", duplicates.len() - SHOWN));
        }
        super::conventions::note(format_args!(
            "--ids-from {}: {} id(s) listed more than once, each counted once: {named}",
            path.display(),
            duplicates.len()
        ));
    }
    Ok(ids)
}

/// The engine configuration: `--qps` wins over the profile's `rate_limit_qps`, which wins over
/// the API's published limit (`0` turns the limit off, e.g. against the simulator with
/// --no-rate-limit).
fn config(service: Service, flag_qps: Option<u32>, profile_qps: Option<u32>) -> EngineConfig {
    EngineConfig::for_service(service).with_rate_limit(flag_qps.or(profile_qps))
}

/// Asks for the typed count on stdin, as the GUI does.
pub(super) fn confirm(summary: &str, count: usize) -> Result<(), Failure> {
    eprintln!("{summary}");
    eprint!("Type {count} to confirm: ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Failure::Usage(format!("cannot read the confirmation: {e}")))?;
    if line.trim() == count.to_string() {
        Ok(())
    } else {
        Err(Failure::Usage(format!(
            "not confirmed (expected {count}); nothing was changed"
        )))
    }
}

pub(super) async fn bulk(g: &Globals, args: BulkArgs) -> Result<(), Failure> {
    let service = args.target.service();
    let operation = match args.operation {
        OperationArg::Revoke => Change::Revoke,
        OperationArg::Disable => Change::Disable,
        OperationArg::Enable => Change::Enable,
        OperationArg::Activate => Change::Activate,
        // Domain jobs are run by `rotate`, which hands only status changes over.
        OperationArg::SetCert | OperationArg::HttpsOn | OperationArg::HttpsOff => {
            return Err(Failure::Usage(
                "set-cert, https-on and https-off are domain jobs (--target cdn or vod)".into(),
            ));
        }
    };
    if args.cert.any() {
        return Err(Failure::Usage(
            "--cert/--key/--cas-cert-id go with set-cert only".into(),
        ));
    }
    if !operation.supported_by(service) {
        return Err(Failure::Usage(format!(
            "{service} does not support {operation}"
        )));
    }
    if service == Service::Esa && args.site.is_none() {
        return Err(Failure::Usage("--target esa needs --site SITE_ID".into()));
    }
    let ids = read_ids(&args.ids_from)?;
    let items: Vec<BulkItem> = ids
        .into_iter()
        .map(|id| BulkItem {
            service,
            id,
            site_id: args.site,
            name: String::new(),
        })
        .collect();
    let wired = backend(g, service)?;
    let destination = wired.destination(service);
    let Wired {
        backend,
        principal,
        rate_limit_qps,
        ..
    } = wired;
    let config = config(service, args.qps, rate_limit_qps);

    if args.dry_run {
        let verdicts = dry_run(backend, operation, items, config).await;
        return emit(g, &verdicts, || {
            let mut out = format!("{:<40} {:<10} {}\n", "ID", "STATUS", "VERDICT");
            for v in &verdicts {
                let status = v.current.map(|s| s.label()).unwrap_or("-");
                out.push_str(&format!(
                    "{:<40} {:<10} {}\n",
                    escape_for_terminal(&v.item.id),
                    status,
                    escape_for_terminal(&v.verdict)
                ));
            }
            let sending = verdicts.iter().filter(|v| v.would_send).count();
            out.push_str(&format!(
                "dry run: {sending} of {} would be sent; nothing was changed\n",
                verdicts.len()
            ));
            out
        });
    }
    if !args.yes {
        let summary = format!(
            "About to {operation} {} {service} certificate(s) in {destination} ({}).",
            items.len(),
            crate::jobs::rotation::reversibility(operation, service)
        );
        confirm(&summary, items.len())?;
    } else {
        super::conventions::note(format_args!(
            "{operation} {} {service} certificate(s) in {destination}",
            items.len()
        ));
    }
    let journal = journal()?;
    let job = BulkJob {
        principal,
        service,
        request: operation.into(),
        items,
    };
    let handle =
        start_job(journal, backend, job, config).map_err(|e| Failure::Run(e.to_string()))?;
    super::conventions::note(format_args!("job {} started", handle.job_id));
    follow(g, handle).await
}

/// Prints progress on stderr while the job runs (Ctrl-C cancels cleanly), then the results.
pub(super) async fn follow(g: &Globals, mut handle: JobHandle) -> Result<(), Failure> {
    let interactive = std::io::stderr().is_terminal() && !super::conventions::quiet();
    let mut results: Vec<ItemResult> = Vec::new();
    let mut ticker = tokio::time::interval(std::time::Duration::from_millis(500));
    let mut cancel_requested = false;
    loop {
        tokio::select! {
            r = handle.results.recv() => match r {
                Some(r) => results.push(r),
                None => break,
            },
            _ = ticker.tick() => {
                let p = handle.progress.borrow().clone();
                if interactive {
                    let eta = p.eta.map(|d| format!("{}s", d.as_secs())).unwrap_or_else(|| "-".into());
                    eprint!("\rdone {}/{}  failed {}  held {}  {:.1}/s  throttled {}  ETA {eta}   ", p.applied + p.already + p.failed + p.held, p.total, p.failed, p.held, p.rate_per_sec, p.throttled);
                }
            }
            _ = tokio::signal::ctrl_c(), if !cancel_requested => {
                cancel_requested = true;
                eprintln!("\ncancelling: requests in flight finish and are journaled…");
                handle.cancel();
            }
        }
    }
    let job_id = handle.job_id.clone();
    let p = handle
        .wait()
        .await
        .map_err(|e| Failure::Run(e.to_string()))?;
    if interactive {
        eprintln!();
    }
    results.sort_by_key(|r| r.idx);
    emit(g, &results, || {
        let mut out = format!(
            "{:<40} {:<12} {:<28} {}\n",
            "ID", "RESULT", "CODE", "REQUESTID / NOTE"
        );
        for r in &results {
            // The request id, and what the item's note adds (a rotation's verification, why it
            // was refused or failed).
            let note = match (&r.request_id, &r.message) {
                (Some(id), Some(message)) => format!("{id} {message}"),
                (Some(id), None) => id.clone(),
                (None, Some(message)) => message.clone(),
                (None, None) => String::new(),
            };
            out.push_str(&format!(
                "{:<40} {:<12} {:<28} {}\n",
                escape_for_terminal(&r.item.id),
                r.outcome.as_str(),
                escape_for_terminal(r.code.as_deref().unwrap_or("")),
                escape_for_terminal(&note)
            ));
        }
        out
    })?;
    super::conventions::note(format_args!(
        "job {job_id}: {} applied, {} already in target state, {} failed, {} held, {} remaining{}",
        p.applied,
        p.already,
        p.failed,
        p.held,
        p.remaining,
        if p.cancelled {
            " (cancelled: resume with `certdesk jobs resume`)"
        } else {
            ""
        }
    ));
    super::conventions::note(format_args!("job {job_id}: {}", rate_line(&p)));
    if p.failed > 0 {
        return Err(Failure::Items(format!(
            "{} of {} items failed or were refused (details above and in `certdesk audit`; run only the failed ones again with `certdesk jobs retry-failed {job_id}`)",
            p.failed, p.total
        )));
    }
    if p.held > 0 {
        return Err(Failure::Items(format!(
            "{} of {} items held: sent before, their state could not be read back, so they were \
             not sent again; check them, then `certdesk jobs resume {job_id}`",
            p.held, p.total
        )));
    }
    if p.cancelled {
        return Err(Failure::Run(format!(
            "job {job_id} was cancelled with {} items left",
            p.remaining
        )));
    }
    Ok(())
}

/// `throttled 12 times, effective rate 9.4/s (now limiting itself to 8.1/s)`.
fn rate_line(p: &JobProgress) -> String {
    let own = match p.rate_limit {
        Some(limit) => format!(" (now limiting itself to {limit:.1}/s)"),
        None => String::new(),
    };
    format!(
        "throttled {} times, effective rate {:.1}/s{own}",
        p.throttled, p.rate_per_sec
    )
}

/// A journal refusal to run a job, as the CLI reports it: another live engine runs it (usage:
/// wait for it), or it belongs to another account (configuration).
pub(super) fn refusal(e: JournalError) -> Failure {
    match e {
        JournalError::Leased { .. } => Failure::Usage(e.to_string()),
        JournalError::WrongAccount(_) => Failure::Config(e.to_string()),
        JournalError::UnknownJob(_) | JournalError::NotResumable { .. } => {
            Failure::Usage(e.to_string())
        }
        e => Failure::Run(e.to_string()),
    }
}

/// The global options with the profile a job was started under: `--profile` must name it when
/// given; `env` (the SDK environment variables) resolves without a profile.
pub(super) fn globals_for_job(
    g: &Globals,
    job: &crate::store::journal::JobRecord,
) -> Result<Globals, Failure> {
    if let Some(flag) = &g.profile
        && *flag != job.profile
    {
        return Err(Failure::Config(format!(
            "job {} was started under profile {:?}, not {flag:?}: resume it with --profile {} \
             (or without --profile)",
            job.id, job.profile, job.profile
        )));
    }
    let mut globals = g.clone();
    globals.profile = (job.profile != "env").then(|| job.profile.clone());
    Ok(globals)
}

pub(super) async fn jobs(g: &Globals, cmd: JobsCommand) -> Result<(), Failure> {
    let journal = journal()?;
    match cmd {
        JobsCommand::List => {
            let jobs = journal
                .lock()
                .map_err(|_| Failure::Run("journal lock".into()))?
                .jobs()
                .map_err(|e| Failure::Run(e.to_string()))?;
            #[derive(serde::Serialize)]
            struct Listed<'a> {
                #[serde(flatten)]
                job: &'a crate::store::journal::JobRecord,
                counts: &'a crate::store::journal::JobCounts,
            }
            let listed: Vec<Listed<'_>> = jobs
                .iter()
                .map(|(job, counts)| Listed { job, counts })
                .collect();
            emit(g, &listed, || {
                let mut out = format!(
                    "{:<36} {:<20} {:<8} {:<8} {:<10} {:>6} {:>6} {:>6}\n",
                    "JOB", "CREATED", "SERVICE", "OP", "STATE", "DONE", "FAILED", "OPEN"
                );
                for (job, c) in &jobs {
                    out.push_str(&format!(
                        "{:<36} {:<20} {:<8} {:<8} {:<10} {:>6} {:>6} {:>6}\n",
                        job.id,
                        format_time(Some(job.created_at)),
                        job.service.code(),
                        job.operation.as_str(),
                        job.state.as_str(),
                        c.succeeded,
                        c.failed,
                        c.pending + c.sent
                    ));
                }
                out
            })
        }
        // `rotate` runs these and the resume of a rotation; it hands the others over.
        JobsCommand::RetryFailed { job, .. } | JobsCommand::Undo { job, .. } => Err(Failure::Run(
            format!("job {job}: retry-failed and undo are run by rotate"),
        )),
        JobsCommand::Resume { job, qps, .. } => {
            let record = journal
                .lock()
                .map_err(|_| Failure::Run("journal lock".into()))?
                .job(&job)
                .map_err(|e| Failure::Run(e.to_string()))?
                .ok_or_else(|| {
                    Failure::Usage(format!(
                        "no job {job:?} in the journal (see `certdesk jobs list`)"
                    ))
                })?;
            let service = record.service;
            let globals = globals_for_job(g, &record)?;
            let wired = match backend(&globals, service) {
                Ok(wired) => wired,
                Err(Failure::Config(why)) => {
                    return Err(Failure::Config(format!(
                        "job {job} was started under profile {:?}, which cannot be used now: {why}",
                        record.profile
                    )));
                }
                Err(e) => return Err(e),
            };
            if wired.principal.profile != record.profile {
                return Err(Failure::Config(format!(
                    "job {job} was started under profile {:?}, but the credentials found now are \
                     profile {:?}: resume it where {:?} is available",
                    record.profile, wired.principal.profile, record.profile
                )));
            }
            let destination = wired.destination(service);
            let config = config(service, qps, wired.rate_limit_qps);
            let handle = resume_job(journal, wired.backend, &job, wired.principal, config)
                .map_err(refusal)?;
            super::conventions::note(format_args!("job {job} resumed in {destination}"));
            follow(g, handle).await
        }
    }
}

pub(super) fn audit(g: &Globals, args: AuditArgs) -> Result<(), Failure> {
    let journal = journal()?;
    if let Some(AuditCommand::Verify { head }) = args.command {
        let report = journal
            .lock()
            .map_err(|_| Failure::Run("journal lock".into()))?
            .verify_audit()
            .map_err(|e| Failure::Run(e.to_string()))?;
        emit(g, &report, || format!("{}\n", report.summary()))?;
        if let Some(b) = &report.broken {
            return Err(Failure::Items(format!(
                "the audit log was altered: row {} ({})",
                b.row, b.what
            )));
        }
        if let Some(expected) = head {
            let found = journal
                .lock()
                .map_err(|_| Failure::Run("journal lock".into()))?
                .audit_row_with_hash(expected.trim())
                .map_err(|e| Failure::Run(e.to_string()))?;
            match found {
                Some(row) => eprintln!("head {expected} is row {row}, still in the chain"),
                None => {
                    return Err(Failure::Items(format!(
                        "the audit log no longer holds the row with hash {expected}: it was cut \
                         back, or rebuilt"
                    )));
                }
            }
        }
        return Ok(());
    }
    let entries = journal
        .lock()
        .map_err(|_| Failure::Run("journal lock".into()))?
        .audit(args.filter.as_deref())
        .map_err(|e| Failure::Run(e.to_string()))?;
    if args.csv {
        let stdout = std::io::stdout();
        return write_audit_csv(&entries, stdout.lock())
            .map_err(|e| Failure::Run(format!("cannot write CSV: {e}")));
    }
    emit(g, &entries, || {
        let mut out = format!(
            "{:<20} {:<16} {:<10} {:<22} {:<14} {:<6} {:<9} {:<40} {:<11} {:<24} {}\n",
            "TIME",
            "USER@HOST",
            "PROFILE",
            "ACCESSKEY",
            "REGION",
            "SVC",
            "OP",
            "TARGET",
            "RESULT",
            "CODE",
            "REQUESTID"
        );
        for e in &entries {
            let who = match (&e.os_user, &e.host) {
                (Some(u), Some(h)) => format!("{u}@{h}"),
                (Some(u), None) => u.clone(),
                (None, Some(h)) => format!("@{h}"),
                (None, None) => "-".into(),
            };
            let region = match (&e.region, &e.endpoint) {
                (Some(r), Some(_)) => format!("{r}*"),
                (Some(r), None) => r.clone(),
                (None, _) => "-".into(),
            };
            out.push_str(&format!(
                "{:<20} {:<16} {:<10} {:<22} {:<14} {:<6} {:<9} {:<40} {:<11} {:<24} {}\n",
                format_time(Some(e.at)),
                who,
                escape_for_terminal(&e.profile),
                e.access_key_id.as_deref().unwrap_or("-"),
                region,
                e.service.code(),
                e.operation.as_str(),
                escape_for_terminal(&e.target),
                e.result.as_str(),
                escape_for_terminal(e.code.as_deref().unwrap_or("")),
                escape_for_terminal(e.request_id.as_deref().unwrap_or(""))
            ));
        }
        if entries.iter().any(|e| e.endpoint.is_some()) {
            out.push_str(
                "* through an endpoint override (the endpoint is in `certdesk audit --csv`)\n",
            );
        }
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_ids_are_counted_once_and_named() {
        let (ids, duplicates) = parse_ids("a\nb # note\n\nc,extra\na\n# a\nb\na\n");
        assert_eq!(ids, ["a", "b", "c"]);
        assert_eq!(duplicates, ["a", "b"]);
        let (ids, duplicates) = parse_ids("x\ny\n");
        assert_eq!((ids.len(), duplicates.len()), (2, 0));
    }

    fn wired(region: &str, endpoint: Option<&str>) -> Wired {
        let transport = crate::cloud::Transport::new().unwrap();
        Wired {
            backend: Arc::new(crate::jobs::backends::CloudBackend::new(
                &transport, None, None,
            )),
            principal: Principal::with_account(
                "prod",
                "LTAI5tPublicId",
                region,
                endpoint.map(str::to_string),
            ),
            rate_limit_qps: None,
            profile_region: "cn-hangzhou".into(),
            profile_endpoint: None,
        }
    }

    #[test]
    fn the_confirmation_names_the_account_and_where_it_differs_from_the_profile() {
        let plain = wired("cn-hangzhou", None).destination(Service::Pca);
        assert!(plain.contains("profile prod"), "{plain}");
        assert!(plain.contains("AccessKey LTAI5tPublicId"), "{plain}");
        assert!(plain.contains("region cn-hangzhou"), "{plain}");
        assert!(!plain.contains("--"), "{plain}");
        let elsewhere =
            wired("cn-shanghai", Some("http://127.0.0.1:9000")).destination(Service::Pca);
        assert!(
            elsewhere.contains("region cn-shanghai (--region; the profile's is cn-hangzhou)"),
            "{elsewhere}"
        );
        assert!(
            elsewhere.contains("endpoint http://127.0.0.1:9000 (--endpoint"),
            "{elsewhere}"
        );
    }
}
