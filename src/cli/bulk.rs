//! `certdesk bulk`, `certdesk jobs` and `certdesk audit`: the bulk engine from the command line,
//! with the same typed-count confirmation as the GUI and the same journal and audit log. Domain
//! jobs (set-cert, https-on, https-off), rotation resumes, retry-failed and undo are in
//! `super::rotate`, which dispatches the rest here.

use super::cert_args::CertArgs;
use super::change::journal;
use super::{Failure, Globals, emit, format_time};
use crate::jobs::{
    Backend, BulkItem, BulkJob, EngineConfig, ItemResult, JobHandle, Principal, dry_run,
    resume_job, start_job,
};
use crate::model::{Change, Service};
use crate::store::journal::write_audit_csv;
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
pub(super) struct AuditArgs {
    /// Print CSV instead of a table.
    #[arg(long)]
    csv: bool,
    /// Only entries containing this text (profile, service, operation, target, result, code, RequestId).
    #[arg(long, value_name = "TEXT")]
    filter: Option<String>,
}

/// The bulk backend of `service`'s account (no transport retries: the engine retries and
/// journals each attempt), the principal it acts as, and the profile's rate limit.
pub(super) struct Wired {
    pub(super) backend: Arc<dyn Backend>,
    pub(super) principal: Principal,
    pub(super) rate_limit_qps: Option<u32>,
}

pub(super) fn backend(g: &Globals, service: Service) -> Result<Wired, Failure> {
    let transport = g.transport_for_jobs()?;
    let (backend, principal, rate_limit_qps) =
        super::change::backend(g, service.provider(), &transport)?;
    match service.provider() {
        crate::model::Provider::Alibaba => backend.alibaba().map(|_| ())?,
        crate::model::Provider::Huawei => backend.iotda().map(|_| ())?,
    }
    Ok(Wired {
        backend: Arc::new(backend),
        principal,
        rate_limit_qps,
    })
}

pub(super) fn read_ids(path: &Path) -> Result<Vec<String>, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::Usage(format!("--ids-from {}: {e}", path.display())))?;
    let ids: Vec<String> = text
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(|l| l.split([',', ' ', '\t']).next().unwrap_or(l).to_string())
        .collect();
    if ids.is_empty() {
        return Err(Failure::Usage(format!(
            "--ids-from {}: no ids in the file",
            path.display()
        )));
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
    let Wired {
        backend,
        principal,
        rate_limit_qps,
    } = backend(g, service)?;
    let config = config(service, args.qps, rate_limit_qps);

    if args.dry_run {
        let verdicts = dry_run(backend, operation, items, config).await;
        return emit(g, &verdicts, || {
            let mut out = format!("{:<40} {:<10} {}\n", "ID", "STATUS", "VERDICT");
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
    if !args.yes {
        let summary = format!(
            "About to {operation} {} {service} certificate(s) in profile {} ({}; {}).",
            items.len(),
            principal.profile,
            service.provider(),
            crate::jobs::rotation::reversibility(operation, service)
        );
        confirm(&summary, items.len())?;
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
    eprintln!("job {} started", handle.job_id);
    follow(g, handle).await
}

/// Prints progress on stderr while the job runs (Ctrl-C cancels cleanly), then the results.
pub(super) async fn follow(g: &Globals, mut handle: JobHandle) -> Result<(), Failure> {
    let interactive = std::io::stderr().is_terminal();
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
                    eprint!("\rdone {}/{}  failed {}  {:.1}/s  ETA {eta}   ", p.applied + p.already + p.failed, p.total, p.failed, p.rate_per_sec);
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
                "{:<40} {:<12} {:<28} {note}\n",
                r.item.id,
                r.outcome.as_str(),
                r.code.as_deref().unwrap_or("")
            ));
        }
        out
    })?;
    eprintln!(
        "job {job_id}: {} applied, {} already in target state, {} failed, {} remaining{}",
        p.applied,
        p.already,
        p.failed,
        p.remaining,
        if p.cancelled {
            " (cancelled: resume with `certdesk jobs resume`)"
        } else {
            ""
        }
    );
    if p.failed > 0 {
        return Err(Failure::Items(format!(
            "{} of {} items failed or were refused (details above and in `certdesk audit`; run only the failed ones again with `certdesk jobs retry-failed {job_id}`)",
            p.failed, p.total
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
            let wired = backend(g, service)?;
            let config = config(service, qps, wired.rate_limit_qps);
            let handle = resume_job(journal, wired.backend, &job, wired.principal, config)
                .map_err(|e| Failure::Run(e.to_string()))?;
            eprintln!("job {job} resumed");
            follow(g, handle).await
        }
    }
}

pub(super) fn audit(g: &Globals, args: AuditArgs) -> Result<(), Failure> {
    let journal = journal()?;
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
            "{:<20} {:<10} {:<6} {:<9} {:<40} {:<8} {:<24} {}\n",
            "TIME", "PROFILE", "SVC", "OP", "TARGET", "RESULT", "CODE", "REQUESTID"
        );
        for e in &entries {
            out.push_str(&format!(
                "{:<20} {:<10} {:<6} {:<9} {:<40} {:<8} {:<24} {}\n",
                format_time(Some(e.at)),
                e.profile,
                e.service.code(),
                e.operation.as_str(),
                e.target,
                e.result.as_str(),
                e.code.as_deref().unwrap_or(""),
                e.request_id.as_deref().unwrap_or("")
            ));
        }
        out
    })
}
