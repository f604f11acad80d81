//! Runs a bulk job: journal first, then every item at the rate limit with bounded concurrency,
//! retries for what a retry can fix, progress on a watch channel and per-item results on a queue.

use super::checks::{ItemChecks, Precheck};
use super::single::{Principal, audit_entry};
use super::{Backend, BulkItem, ChangeRequest, RetryPolicy};
use crate::model::{CertStatus, Change, Error, ErrorKind, Outcome, Service};
use crate::store::journal::{
    ItemState, ItemWrite, JobRecord, JobState, Journal, JournalError, JournalItem,
};
use futures_util::StreamExt;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use rand::SeedableRng;
use serde::Serialize;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

/// A job to start.
#[derive(Debug, Clone)]
pub struct BulkJob {
    /// Who the job runs as; recorded in the journal and audit log.
    pub principal: Principal,
    /// Service of every item.
    pub service: Service,
    /// The change to apply to every item.
    pub request: ChangeRequest,
    /// The items, in order.
    pub items: Vec<BulkItem>,
}

/// What a job may carry besides its change: per-item checks around each send (a rotation's
/// coverage check, skip and verification) and the params the journal keeps for a resume, retry or
/// undo (text the caller chose; never a secret).
#[derive(Clone, Default)]
pub struct JobExtras {
    /// Checks before and after each send.
    pub checks: Option<Arc<dyn ItemChecks>>,
    /// Journaled with the job (see [`Journal::set_job_params`]).
    pub params: Option<String>,
}

/// How fast and how persistently to run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EngineConfig {
    /// Requests per second for this API; `None` runs unthrottled.
    pub qps: Option<NonZeroU32>,
    /// Items in flight at once.
    pub concurrency: usize,
    /// Backoff for retryable errors.
    pub retry: RetryPolicy,
}

impl EngineConfig {
    /// The published limit of the service's mutating call as the default rate (cas client
    /// certificate calls: 10 QPS per user). Where no limit is published we choose 10 QPS too: a
    /// conservative default an admin can raise per profile.
    pub fn for_service(service: Service) -> EngineConfig {
        let qps = match service {
            // CDN: VOD's documented 30 QPS for its sibling SetVodDomainCertificate (CDN's own is
            // not documented).
            Service::Vod | Service::Cdn => 30,
            Service::Kms
            | Service::Pca
            | Service::Esa
            | Service::Iotda
            | Service::Ssl
            | Service::Sts => 10,
        };
        EngineConfig {
            qps: NonZeroU32::new(qps),
            concurrency: 8,
            retry: RetryPolicy::for_jobs(),
        }
    }

    /// Applies a profile's or the user's rate limit: `None` keeps the published default,
    /// `Some(0)` turns the limit off, `Some(n)` runs at `n` requests per second.
    pub fn with_rate_limit(mut self, qps: Option<u32>) -> EngineConfig {
        if let Some(q) = qps {
            self.qps = NonZeroU32::new(q);
        }
        self
    }
}

/// The result of one item, as shown live and exported to CSV.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemResult {
    /// Position in the job.
    pub idx: u32,
    /// The item.
    pub item: BulkItem,
    /// How it ended.
    pub outcome: Outcome,
    /// Provider code of the deciding error.
    pub code: Option<String>,
    /// Message of the deciding error, or a note (e.g. "already revoked").
    pub message: Option<String>,
    /// RequestId of the deciding call.
    pub request_id: Option<String>,
    /// Requests sent for this item.
    pub attempts: u32,
}

/// Live counters of a running job.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobProgress {
    /// Job id.
    pub job_id: String,
    /// Items in the job.
    pub total: u32,
    /// Items applied.
    pub applied: u32,
    /// Items already in the target state.
    pub already: u32,
    /// Items failed or not allowed.
    pub failed: u32,
    /// Items not finished yet.
    pub remaining: u32,
    /// Items finished per second since the start.
    pub rate_per_sec: f64,
    /// Estimated time to finish.
    pub eta: Option<Duration>,
    /// The job stopped because it was cancelled.
    pub cancelled: bool,
    /// The job stopped (finished or cancelled).
    pub stopped: bool,
}

/// A running job: watch its progress, read its results, cancel it.
pub struct JobHandle {
    /// Journal id of the job.
    pub job_id: String,
    /// Latest counters.
    pub progress: watch::Receiver<JobProgress>,
    /// Every finished item, in completion order.
    pub results: mpsc::UnboundedReceiver<ItemResult>,
    cancel: CancellationToken,
    task: tokio::task::JoinHandle<Result<JobProgress, JournalError>>,
}

impl JobHandle {
    /// Stops sending new requests; requests in flight finish and are journaled.
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    /// Waits until the job stops; returns the final counters.
    pub async fn wait(self) -> Result<JobProgress, JournalError> {
        match self.task.await {
            Ok(result) => result,
            Err(join) => Err(JournalError::from_panic(join.to_string())),
        }
    }
}

/// What a dry run found for one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DryRunVerdict {
    /// The item.
    pub item: BulkItem,
    /// Its current status, when it could be read.
    pub current: Option<CertStatus>,
    /// `would apply`, `already`, `not allowed: …`, `not found`, or the read error.
    pub verdict: String,
    /// Whether the real run would send a request for it.
    pub would_send: bool,
}

/// Shared state of the item tasks.
struct Run {
    job_id: String,
    principal: Principal,
    request: ChangeRequest,
    journal: Arc<Mutex<Journal>>,
    writer: JournalWriter,
    backend: Arc<dyn Backend>,
    limiter: Option<DefaultDirectRateLimiter>,
    retry: RetryPolicy,
    cancel: CancellationToken,
    checks: Option<Arc<dyn ItemChecks>>,
}

/// A limiter at `qps` that may make up for a short stall (the process descheduled for a moment)
/// with a burst of a tenth of a second's worth, so the achieved rate stays at the limit without the
/// average ever exceeding it.
fn limiter(qps: NonZeroU32) -> DefaultDirectRateLimiter {
    let burst = NonZeroU32::new(qps.get().div_ceil(10)).unwrap_or(NonZeroU32::MIN);
    RateLimiter::direct(Quota::per_second(qps).allow_burst(burst))
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Runs a journal call off the async threads (SQLite blocks).
async fn journal_call<T: Send + 'static>(
    journal: &Arc<Mutex<Journal>>,
    f: impl FnOnce(&mut Journal) -> Result<T, JournalError> + Send + 'static,
) -> Result<T, JournalError> {
    let journal = journal.clone();
    tokio::task::spawn_blocking(move || {
        let mut guard = journal
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut guard)
    })
    .await
    .map_err(|e| JournalError::from_panic(e.to_string()))?
}

/// An item write waiting for the next group commit, and who to tell once it is durable.
struct PendingWrite {
    write: ItemWrite,
    done: tokio::sync::oneshot::Sender<Result<(), String>>,
}

/// Writes per transaction at most: bounds how long one commit holds the journal lock (the window
/// reads the journal too).
const MAX_BATCH: usize = 256;

/// How long the writer waits for more writes after the first of a batch. Commits, not statements,
/// were most of the journal's cost: on the loopback benchmark (64 items in flight) a 50 µs wait
/// cut the commits of a 2,000-item job from ~500 to ~160–210. Invisible next to a cloud round trip.
const BATCH_LINGER: Duration = Duration::from_micros(50);

/// Group commit of a job's item writes. Every item task hands its write ("about to send", "final
/// answer") to one blocking task and waits until the transaction holding it has committed, so the
/// order per item is unchanged (recorded before the request, answer after); the writes that queue
/// up meanwhile (other items in flight) go into the next transaction together. One commit per
/// batch instead of a `spawn_blocking` hop, a lock and a commit per write was most of the engine's
/// own cost per item.
#[derive(Clone)]
struct JournalWriter {
    queue: std::sync::mpsc::Sender<PendingWrite>,
}

impl JournalWriter {
    /// Starts the writer on the current runtime's blocking pool; it ends when the last sender is
    /// dropped (the job is over).
    fn start(journal: Arc<Mutex<Journal>>, job_id: String) -> JournalWriter {
        let (queue, incoming) = std::sync::mpsc::channel::<PendingWrite>();
        tokio::task::spawn_blocking(move || {
            let mut writes = Vec::new();
            let mut waiters = Vec::new();
            while let Ok(first) = incoming.recv() {
                writes.push(first.write);
                waiters.push(first.done);
                let deadline = Instant::now() + BATCH_LINGER;
                while writes.len() < MAX_BATCH {
                    let left = deadline.saturating_duration_since(Instant::now());
                    let Ok(next) = incoming.recv_timeout(left) else {
                        break;
                    };
                    writes.push(next.write);
                    waiters.push(next.done);
                }
                let result = {
                    let mut guard = journal.lock().unwrap_or_else(|p| p.into_inner());
                    guard.write_batch(&job_id, &writes)
                };
                let result = result.map_err(|e| e.to_string());
                for done in waiters.drain(..) {
                    // A waiter that is gone (job cancelled) does not care.
                    let _ = done.send(result.clone());
                }
                writes.clear();
            }
        });
        JournalWriter { queue }
    }

    /// Queues `write` and waits until it is committed.
    async fn write(&self, write: ItemWrite) -> Result<(), JournalError> {
        let (done, committed) = tokio::sync::oneshot::channel();
        self.queue
            .send(PendingWrite { write, done })
            .map_err(|_| JournalError::from_panic("the journal writer stopped".into()))?;
        committed
            .await
            .map_err(|_| JournalError::from_panic("the journal writer stopped".into()))?
            .map_err(JournalError::from_panic)
    }
}

/// Journals `job` (every item pending) and starts it on the current tokio runtime.
pub fn start_job(
    journal: Arc<Mutex<Journal>>,
    backend: Arc<dyn Backend>,
    job: BulkJob,
    config: EngineConfig,
) -> Result<JobHandle, JournalError> {
    start_job_with(journal, backend, job, config, JobExtras::default())
}

/// [`start_job`] with per-item checks and journaled params (a rotation).
pub fn start_job_with(
    journal: Arc<Mutex<Journal>>,
    backend: Arc<dyn Backend>,
    job: BulkJob,
    config: EngineConfig,
    extras: JobExtras,
) -> Result<JobHandle, JournalError> {
    let record = JobRecord {
        id: uuid::Uuid::new_v4().to_string(),
        created_at: now_secs(),
        profile: job.principal.profile.clone(),
        service: job.service,
        operation: job.request.change(),
        state: JobState::Running,
    };
    let rows: Vec<_> = job
        .items
        .iter()
        .map(|i| (i.id.clone(), i.site_id, i.name.clone()))
        .collect();
    {
        let mut guard = journal.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(params) = &extras.params {
            guard.set_job_params(&record.id, params)?;
        }
        guard.create_job(&record, &rows)?;
    }
    let work = job
        .items
        .into_iter()
        .enumerate()
        .map(|(idx, item)| (idx as u32, item, false, 0))
        .collect();
    Ok(launch(
        journal,
        backend,
        record,
        job.principal,
        job.request,
        work,
        config,
        extras.checks,
    ))
}

/// Resumes an unfinished job from the journal: never-sent items are sent; items that were sent
/// without a recorded answer are re-read first, so nothing is applied twice. Only jobs whose
/// change needs nothing but the item can be resumed (a certificate's private key is never
/// journaled).
pub fn resume_job(
    journal: Arc<Mutex<Journal>>,
    backend: Arc<dyn Backend>,
    job_id: &str,
    principal: Principal,
    config: EngineConfig,
) -> Result<JobHandle, JournalError> {
    let (record, items) = {
        let guard = journal.lock().unwrap_or_else(|p| p.into_inner());
        let record = guard
            .job(job_id)?
            .ok_or_else(|| JournalError::unknown_job(job_id))?;
        (record, guard.items(job_id)?)
    };
    if record.operation.target_status().is_none() {
        return Err(JournalError::NotResumable {
            job: job_id.to_string(),
            change: record.operation,
        });
    }
    let request = ChangeRequest::Status(record.operation);
    resume_journaled(
        journal, backend, record, items, principal, request, config, None,
    )
}

/// Resumes an unfinished job whose change needs more than the item (a rotation): `request` is the
/// job's change rebuilt by the caller from the job's params (and, for an uploaded certificate, the
/// key supplied again), `checks` its per-item checks. Uncertain items go through the checks'
/// `before` first, so a domain already serving the new certificate is confirmed, not sent again.
pub fn resume_job_with(
    journal: Arc<Mutex<Journal>>,
    backend: Arc<dyn Backend>,
    job_id: &str,
    principal: Principal,
    request: ChangeRequest,
    checks: Option<Arc<dyn ItemChecks>>,
    config: EngineConfig,
) -> Result<JobHandle, JournalError> {
    let (record, items) = {
        let guard = journal.lock().unwrap_or_else(|p| p.into_inner());
        let record = guard
            .job(job_id)?
            .ok_or_else(|| JournalError::unknown_job(job_id))?;
        (record, guard.items(job_id)?)
    };
    if request.change() != record.operation {
        return Err(JournalError::from_panic(format!(
            "job {job_id} makes {}, not {}",
            record.operation,
            request.change()
        )));
    }
    resume_journaled(
        journal, backend, record, items, principal, request, config, checks,
    )
}

#[allow(clippy::too_many_arguments)]
fn resume_journaled(
    journal: Arc<Mutex<Journal>>,
    backend: Arc<dyn Backend>,
    record: JobRecord,
    items: Vec<JournalItem>,
    principal: Principal,
    request: ChangeRequest,
    config: EngineConfig,
    checks: Option<Arc<dyn ItemChecks>>,
) -> Result<JobHandle, JournalError> {
    let job_id = record.id.as_str();
    let service = record.service;
    {
        let guard = journal.lock().unwrap_or_else(|p| p.into_inner());
        guard.set_job_state(job_id, JobState::Running)?;
    }
    let work = items
        .into_iter()
        .filter(|i| matches!(i.state, ItemState::Pending | ItemState::Sent))
        .map(|i| {
            let item = BulkItem {
                service,
                id: i.item_id,
                site_id: i.site_id,
                name: i.name,
            };
            (i.idx, item, i.state == ItemState::Sent, i.attempts)
        })
        .collect();
    Ok(launch(
        journal, backend, record, principal, request, work, config, checks,
    ))
}

type Work = Vec<(u32, BulkItem, bool, u32)>;

#[allow(clippy::too_many_arguments)]
fn launch(
    journal: Arc<Mutex<Journal>>,
    backend: Arc<dyn Backend>,
    record: JobRecord,
    principal: Principal,
    request: ChangeRequest,
    work: Work,
    config: EngineConfig,
    checks: Option<Arc<dyn ItemChecks>>,
) -> JobHandle {
    let cancel = CancellationToken::new();
    let counts = {
        let guard = journal.lock().unwrap_or_else(|p| p.into_inner());
        guard.counts(&record.id).unwrap_or_default()
    };
    let total = counts.pending + counts.sent + counts.succeeded + counts.failed;
    let initial = JobProgress {
        job_id: record.id.clone(),
        total,
        applied: counts.succeeded,
        already: 0,
        failed: counts.failed,
        remaining: counts.pending + counts.sent,
        rate_per_sec: 0.0,
        eta: None,
        cancelled: false,
        stopped: false,
    };
    let (progress_tx, progress_rx) = watch::channel(initial.clone());
    let (results_tx, results_rx) = mpsc::unbounded_channel();
    let run = Arc::new(Run {
        job_id: record.id.clone(),
        principal,
        request,
        journal: journal.clone(),
        writer: JournalWriter::start(journal.clone(), record.id.clone()),
        backend,
        limiter: config.qps.map(limiter),
        retry: config.retry,
        cancel: cancel.clone(),
        checks,
    });
    let concurrency = config.concurrency.max(1);
    let task = tokio::spawn(async move {
        let started = Instant::now();
        let progress = Arc::new(Mutex::new(initial));
        let finished_here = Arc::new(std::sync::atomic::AtomicU32::new(0));
        futures_util::stream::iter(work)
            .for_each_concurrent(concurrency, |(idx, item, uncertain, attempts)| {
                let run = run.clone();
                let progress = progress.clone();
                let progress_tx = progress_tx.clone();
                let results_tx = results_tx.clone();
                let finished_here = finished_here.clone();
                async move {
                    if run.cancel.is_cancelled() {
                        return;
                    }
                    let Some(result) = run_item(&run, idx, item, uncertain, attempts).await else {
                        return;
                    };
                    let done_here =
                        finished_here.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                    let snapshot = {
                        let mut p = progress.lock().unwrap_or_else(|e| e.into_inner());
                        match result.outcome {
                            Outcome::Applied => p.applied += 1,
                            Outcome::Already => p.already += 1,
                            Outcome::NotAllowed | Outcome::Failed => p.failed += 1,
                        }
                        p.remaining = p.remaining.saturating_sub(1);
                        let elapsed = started.elapsed().as_secs_f64().max(1e-3);
                        p.rate_per_sec = f64::from(done_here) / elapsed;
                        p.eta = (p.rate_per_sec > 0.0).then(|| {
                            Duration::from_secs_f64(f64::from(p.remaining) / p.rate_per_sec)
                        });
                        p.clone()
                    };
                    let _ = progress_tx.send(snapshot);
                    let _ = results_tx.send(result);
                }
            })
            .await;
        let cancelled = run.cancel.is_cancelled();
        let state = if cancelled {
            JobState::Cancelled
        } else {
            JobState::Finished
        };
        let job_id = run.job_id.clone();
        journal_call(&run.journal, move |j| j.set_job_state(&job_id, state)).await?;
        let last = {
            let mut p = progress.lock().unwrap_or_else(|e| e.into_inner());
            p.cancelled = cancelled;
            p.stopped = true;
            p.eta = None;
            p.clone()
        };
        let _ = progress_tx.send(last.clone());
        Ok(last)
    });
    JobHandle {
        job_id: record.id,
        progress: progress_rx,
        results: results_rx,
        cancel,
        task,
    }
}

/// Reads an item's status, retrying what a retry can fix.
async fn read_with_retry(run: &Run, item: &BulkItem) -> Result<CertStatus, Error> {
    let mut rng = rand_chacha::ChaCha8Rng::from_entropy();
    let mut attempt = 0;
    loop {
        attempt += 1;
        if let Some(limiter) = &run.limiter {
            limiter.until_ready().await;
        }
        match run.backend.read_status(item).await {
            Ok(status) => return Ok(status),
            Err(e) if e.is_retryable() && run.retry.allows_another(attempt) => {
                tokio::time::sleep(run.retry.delay(attempt, e.retry_after, &mut rng)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Runs one item to its end; `None` when the job was cancelled before the item finished (it
/// stays pending or uncertain in the journal for a later resume).
async fn run_item(
    run: &Run,
    idx: u32,
    item: BulkItem,
    uncertain: bool,
    prior_attempts: u32,
) -> Option<ItemResult> {
    let change = run.request.change();
    let target = change.target_status();
    let mut attempts = prior_attempts;
    let result = |outcome: Outcome,
                  err: Option<&Error>,
                  note: Option<String>,
                  request_id: Option<String>,
                  attempts: u32| ItemResult {
        idx,
        item: item.clone(),
        outcome,
        code: err.map(|e| e.code.clone()),
        message: note.or_else(|| err.map(|e| e.message.clone())),
        request_id: request_id.or_else(|| err.and_then(|e| e.request_id.clone())),
        attempts,
    };

    let decided = 'decide: {
        if let Some(checks) = &run.checks {
            match checks.before(&item, uncertain).await {
                Ok(Precheck::Send { previous }) => {
                    if let Some(previous) = previous {
                        let write = ItemWrite::Previous { idx, previous };
                        if let Err(e) = run.writer.write(write).await {
                            // What an undo needs is written before the request or not at all.
                            tracing::error!("{e}; cancelling the job");
                            run.cancel.cancel();
                            return None;
                        }
                    }
                }
                Ok(Precheck::Refuse(reason)) => {
                    break 'decide result(Outcome::NotAllowed, None, Some(reason), None, attempts);
                }
                Ok(Precheck::Done(note)) => {
                    // Sent before a crash and found done: this job made the change.
                    let outcome = if uncertain {
                        Outcome::Applied
                    } else {
                        Outcome::Already
                    };
                    break 'decide result(outcome, None, Some(note), None, attempts);
                }
                Err(e) => {
                    break 'decide result(Outcome::Failed, Some(&e), None, None, attempts);
                }
            }
        }
        if uncertain {
            // It was sent before the crash but its answer was never journaled: look, don't resend.
            match read_with_retry(run, &item).await {
                Ok(status) if Some(status) == target => {
                    break 'decide result(
                        Outcome::Already,
                        None,
                        Some(format!(
                            "already {}; confirmed by re-reading after resume",
                            status.label().to_lowercase()
                        )),
                        None,
                        attempts,
                    );
                }
                Ok(status) => {
                    if let Err(reason) = change.transition_from(status) {
                        break 'decide result(
                            Outcome::NotAllowed,
                            None,
                            Some(reason.to_string()),
                            None,
                            attempts,
                        );
                    }
                }
                Err(e) => {
                    break 'decide result(Outcome::Failed, Some(&e), None, None, attempts);
                }
            }
        }
        // Seeded only when a retry needs a jitter: most items never do, and seeding from the OS
        // is a syscall.
        let mut rng: Option<rand_chacha::ChaCha8Rng> = None;
        loop {
            if run.cancel.is_cancelled() {
                return None;
            }
            if let Some(limiter) = &run.limiter {
                tokio::select! {
                    _ = limiter.until_ready() => {}
                    _ = run.cancel.cancelled() => return None,
                }
            }
            attempts += 1;
            let sent = ItemWrite::Sent {
                idx,
                attempts,
                now: now_secs(),
            };
            if let Err(e) = run.writer.write(sent).await {
                // Without a journal record we must not send: stop the job rather than risk a
                // change nobody can account for.
                tracing::error!("{e}; cancelling the job");
                run.cancel.cancel();
                return None;
            }
            match run.backend.apply(&item, &run.request).await {
                Ok(applied) => {
                    // The checks verify the change (a rotation describes the domain again).
                    let verified = match &run.checks {
                        Some(checks) => Some(checks.after(&item).await),
                        None => None,
                    };
                    if let Some(Err(e)) = &verified {
                        break 'decide result(
                            Outcome::Failed,
                            Some(e),
                            None,
                            applied.request_id,
                            attempts,
                        );
                    }
                    break 'decide result(
                        Outcome::Applied,
                        None,
                        verified.and_then(Result::ok),
                        applied.request_id,
                        attempts,
                    );
                }
                Err(e) if e.is_retryable() => {
                    if !run.retry.allows_another(attempts - prior_attempts) {
                        let note = format!(
                            "{} (gave up after {} attempts)",
                            e.message,
                            attempts - prior_attempts
                        );
                        break 'decide result(
                            Outcome::Failed,
                            Some(&e),
                            Some(note),
                            None,
                            attempts,
                        );
                    }
                    let wait = run.retry.delay(
                        attempts - prior_attempts,
                        e.retry_after,
                        rng.get_or_insert_with(rand_chacha::ChaCha8Rng::from_entropy),
                    );
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = run.cancel.cancelled() => return None,
                    }
                }
                Err(e) if e.kind == ErrorKind::NotFound => {
                    break 'decide result(Outcome::Failed, Some(&e), None, None, attempts);
                }
                Err(e) => {
                    // A refusal such as "status error" may just mean it is already done (another
                    // admin, or an earlier attempt whose answer was lost): look before reporting.
                    match read_with_retry(run, &item).await {
                        Ok(status) if Some(status) == target => {
                            let note =
                                format!("already {} ({})", status.label().to_lowercase(), e.code);
                            break 'decide result(
                                Outcome::Already,
                                Some(&e),
                                Some(note),
                                None,
                                attempts,
                            );
                        }
                        _ => {
                            break 'decide result(Outcome::Failed, Some(&e), None, None, attempts);
                        }
                    }
                }
            }
        }
    };

    let journal_item = JournalItem {
        idx,
        item_id: decided.item.id.clone(),
        site_id: decided.item.site_id,
        name: decided.item.name.clone(),
        state: if decided.outcome.is_success() {
            ItemState::Succeeded
        } else {
            ItemState::Failed
        },
        outcome: Some(decided.outcome),
        code: decided.code.clone(),
        message: decided.message.clone(),
        request_id: decided.request_id.clone(),
        attempts: decided.attempts,
    };
    let audit = (decided.attempts > prior_attempts || uncertain).then(|| {
        let mut entry = audit_entry(&run.principal, &decided.item, change);
        entry.result = decided.outcome.into();
        entry.code = decided.code.clone();
        entry.message = decided.message.clone();
        entry.request_id = decided.request_id.clone();
        entry.job_id = Some(run.job_id.clone());
        entry
    });
    let finished = ItemWrite::Finished {
        item: Box::new(journal_item),
        audit: audit.map(Box::new),
        now: now_secs(),
    };
    if let Err(e) = run.writer.write(finished).await {
        tracing::error!("{e}; cancelling the job");
        run.cancel.cancel();
    }
    Some(decided)
}

/// Checks every item without changing anything: exists, current status, allowed transition.
pub async fn dry_run(
    backend: Arc<dyn Backend>,
    change: Change,
    items: Vec<BulkItem>,
    config: EngineConfig,
) -> Vec<DryRunVerdict> {
    let journal = Arc::new(Mutex::new(match Journal::in_memory() {
        Ok(j) => j,
        Err(e) => {
            return items
                .into_iter()
                .map(|item| DryRunVerdict {
                    item,
                    current: None,
                    verdict: e.to_string(),
                    would_send: false,
                })
                .collect();
        }
    }));
    let run = Arc::new(Run {
        job_id: String::new(),
        principal: Principal::default(),
        request: ChangeRequest::Status(change),
        // A dry run writes nothing; the writer only completes the shared state.
        writer: JournalWriter::start(journal.clone(), String::new()),
        journal,
        backend,
        limiter: config.qps.map(limiter),
        retry: config.retry,
        cancel: CancellationToken::new(),
        checks: None,
    });
    let indexed: Vec<(usize, BulkItem)> = items.into_iter().enumerate().collect();
    let mut verdicts: Vec<(usize, DryRunVerdict)> = futures_util::stream::iter(indexed)
        .map(|(i, item)| {
            let run = run.clone();
            async move {
                let verdict = if !change.supported_by(item.service) {
                    DryRunVerdict {
                        current: None,
                        verdict: format!("not allowed: {} does not support {change}", item.service),
                        would_send: false,
                        item,
                    }
                } else {
                    match read_with_retry(&run, &item).await {
                        Ok(status) => match change.transition_from(status) {
                            Ok(true) => DryRunVerdict {
                                current: Some(status),
                                verdict: "would apply".into(),
                                would_send: true,
                                item,
                            },
                            Ok(false) => DryRunVerdict {
                                current: Some(status),
                                verdict: "already".into(),
                                would_send: false,
                                item,
                            },
                            Err(reason) => DryRunVerdict {
                                current: Some(status),
                                verdict: format!("not allowed: {reason}"),
                                would_send: false,
                                item,
                            },
                        },
                        Err(e) if e.kind == ErrorKind::NotFound => DryRunVerdict {
                            current: None,
                            verdict: format!("not found ({e})"),
                            would_send: false,
                            item,
                        },
                        Err(e) => DryRunVerdict {
                            current: None,
                            verdict: e.to_string(),
                            would_send: false,
                            item,
                        },
                    }
                };
                (i, verdict)
            }
        })
        .buffer_unordered(config.concurrency.max(1))
        .collect()
        .await;
    verdicts.sort_by_key(|(i, _)| *i);
    verdicts.into_iter().map(|(_, v)| v).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::Applied;
    use futures_util::future::BoxFuture;
    use rand::Rng;
    use std::collections::HashMap;

    /// An in-memory cloud: statuses by id, a fraction of calls fail transiently (some after the
    /// change was made, like a timeout whose answer is lost), and revoking twice is refused.
    struct FakeCloud {
        status: Mutex<HashMap<String, CertStatus>>,
        state_changes: Mutex<HashMap<String, u32>>,
        fault_rate: f64,
        rng: Mutex<rand_chacha::ChaCha8Rng>,
    }

    impl FakeCloud {
        fn new(n: usize, fault_rate: f64) -> FakeCloud {
            let status = (0..n)
                .map(|i| (format!("c{i}"), CertStatus::Active))
                .collect();
            FakeCloud {
                status: Mutex::new(status),
                state_changes: Mutex::new(HashMap::new()),
                fault_rate,
                rng: Mutex::new(rand_chacha::ChaCha8Rng::seed_from_u64(9)),
            }
        }
        fn roll(&self) -> f64 {
            self.rng.lock().unwrap().r#gen::<f64>()
        }
    }

    fn err(code: &str, retryable: bool, not_found: bool) -> Error {
        let kind = if retryable {
            ErrorKind::Transient
        } else if not_found {
            ErrorKind::NotFound
        } else {
            ErrorKind::InvalidState
        };
        let mut e = Error::local(Service::Pca, code, format!("{code} happened"), kind);
        e.request_id = Some("REQ".into());
        e.http_status = Some(if retryable { 503 } else { 400 });
        e
    }

    impl Backend for FakeCloud {
        fn read_status<'a>(
            &'a self,
            item: &'a BulkItem,
        ) -> BoxFuture<'a, Result<CertStatus, Error>> {
            Box::pin(async move {
                self.status
                    .lock()
                    .unwrap()
                    .get(&item.id)
                    .copied()
                    .ok_or_else(|| err("Certificate.NotFound", false, true))
            })
        }
        fn apply<'a>(
            &'a self,
            item: &'a BulkItem,
            request: &'a ChangeRequest,
        ) -> BoxFuture<'a, Result<Applied, Error>> {
            Box::pin(async move {
                let roll = self.roll();
                if roll < self.fault_rate / 2.0 {
                    return Err(err("ServiceUnavailable", true, false));
                }
                let mut status = self.status.lock().unwrap();
                let Some(current) = status.get_mut(&item.id) else {
                    return Err(err("Certificate.NotFound", false, true));
                };
                if *current == CertStatus::Revoked {
                    return Err(err("Certificate.StatusError", false, false));
                }
                let Some(target) = request.change().target_status() else {
                    return Err(err("Unsupported", false, false));
                };
                *current = target;
                *self
                    .state_changes
                    .lock()
                    .unwrap()
                    .entry(item.id.clone())
                    .or_default() += 1;
                if roll < self.fault_rate {
                    // Applied, but the answer is lost.
                    return Err(err("Timeout", true, false));
                }
                Ok(Applied {
                    status: Some((target, target.code().to_string())),
                    request_id: Some(format!("REQ-{}", item.id)),
                    created: None,
                })
            })
        }
    }

    fn items(n: usize, missing: usize) -> Vec<BulkItem> {
        (0..n + missing)
            .map(|i| BulkItem {
                service: Service::Pca,
                id: format!("c{i}"),
                site_id: None,
                name: format!("cn-{i}"),
            })
            .collect()
    }

    fn fast() -> EngineConfig {
        EngineConfig {
            qps: None,
            concurrency: 16,
            retry: RetryPolicy {
                max_attempts: 12,
                base_delay: Duration::from_millis(1),
                max_delay: Duration::from_millis(5),
            },
        }
    }

    #[tokio::test]
    async fn faulty_cloud_job_completes_with_exact_accounting() {
        let cloud = Arc::new(FakeCloud::new(2000, 0.2));
        let journal = Arc::new(Mutex::new(Journal::in_memory().unwrap()));
        let job = BulkJob {
            principal: Principal::profile("t"),
            service: Service::Pca,
            request: Change::Revoke.into(),
            items: items(2000, 5),
        };
        let mut handle = start_job(journal.clone(), cloud.clone(), job, fast()).unwrap();
        let job_id = handle.job_id.clone();
        let mut results = Vec::new();
        let final_progress = loop {
            tokio::select! {
                Some(r) = handle.results.recv() => results.push(r),
                else => break None,
            }
            if results.len() == 2005 {
                break Some(handle.wait().await.unwrap());
            }
        }
        .unwrap();
        assert_eq!(final_progress.applied + final_progress.already, 2000);
        assert_eq!(final_progress.failed, 5);
        assert_eq!(final_progress.remaining, 0);
        // Every non-retryable error (the 5 unknown ids) appears exactly once.
        let not_found: Vec<_> = results
            .iter()
            .filter(|r| r.code.as_deref() == Some("Certificate.NotFound"))
            .collect();
        assert_eq!(not_found.len(), 5);
        // Each certificate changed state exactly once in the cloud, whatever the faults.
        let changes = cloud.state_changes.lock().unwrap();
        assert_eq!(changes.len(), 2000);
        assert!(changes.values().all(|&n| n == 1));
        // Lost answers were recognised as already done.
        assert!(final_progress.already > 0, "{final_progress:?}");
        let counts = journal.lock().unwrap().counts(&job_id).unwrap();
        assert_eq!(
            (counts.succeeded, counts.failed, counts.pending, counts.sent),
            (2000, 5, 0, 0)
        );
        assert_eq!(journal.lock().unwrap().audit(None).unwrap().len(), 2005);
    }

    #[tokio::test]
    async fn cancelled_job_resumes_without_applying_twice() {
        let cloud = Arc::new(FakeCloud::new(500, 0.1));
        let journal = Arc::new(Mutex::new(Journal::in_memory().unwrap()));
        let job = BulkJob {
            principal: Principal::profile("t"),
            service: Service::Kms,
            request: Change::Revoke.into(),
            items: items(500, 0),
        };
        let mut config = fast();
        config.qps = NonZeroU32::new(2000);
        let mut handle = start_job(journal.clone(), cloud.clone(), job, config).unwrap();
        let job_id = handle.job_id.clone();
        for _ in 0..100 {
            handle.results.recv().await.unwrap();
        }
        handle.cancel();
        let stopped = handle.wait().await.unwrap();
        assert!(stopped.cancelled && stopped.remaining > 0, "{stopped:?}");
        assert_eq!(journal.lock().unwrap().unfinished_jobs().unwrap().len(), 1);

        let resumed = resume_job(
            journal.clone(),
            cloud.clone(),
            &job_id,
            Principal::profile("t"),
            fast(),
        )
        .unwrap()
        .wait()
        .await
        .unwrap();
        assert!(!resumed.cancelled);
        let counts = journal.lock().unwrap().counts(&job_id).unwrap();
        assert_eq!(
            (counts.succeeded, counts.failed, counts.pending, counts.sent),
            (500, 0, 0, 0)
        );
        assert!(
            cloud
                .state_changes
                .lock()
                .unwrap()
                .values()
                .all(|&n| n == 1)
        );
        assert!(
            journal
                .lock()
                .unwrap()
                .unfinished_jobs()
                .unwrap()
                .is_empty()
        );
    }

    #[tokio::test]
    async fn dry_run_reports_without_changing_anything() {
        let cloud = Arc::new(FakeCloud::new(3, 0.0));
        cloud
            .status
            .lock()
            .unwrap()
            .insert("c1".into(), CertStatus::Revoked);
        let verdicts = dry_run(cloud.clone(), Change::Revoke, items(3, 1), fast()).await;
        let labels: Vec<_> = verdicts
            .iter()
            .map(|v| v.verdict.split(' ').next().unwrap().to_string())
            .collect();
        assert_eq!(labels, ["would", "already", "would", "not"]);
        assert!(cloud.state_changes.lock().unwrap().is_empty());
        let enable = dry_run(cloud.clone(), Change::Enable, items(2, 0), fast()).await;
        assert!(
            enable[1].verdict.starts_with("not allowed"),
            "{:?}",
            enable[1]
        );
    }

    #[test]
    fn rate_limit_override_keeps_default_turns_off_or_sets() {
        let base = EngineConfig::for_service(Service::Pca);
        assert_eq!(base.with_rate_limit(None).qps, NonZeroU32::new(10));
        assert_eq!(base.with_rate_limit(Some(0)).qps, None);
        assert_eq!(base.with_rate_limit(Some(3)).qps, NonZeroU32::new(3));
    }

    #[tokio::test]
    async fn rate_limit_is_respected() {
        let cloud = Arc::new(FakeCloud::new(30, 0.0));
        let journal = Arc::new(Mutex::new(Journal::in_memory().unwrap()));
        let job = BulkJob {
            principal: Principal::profile("t"),
            service: Service::Pca,
            request: Change::Revoke.into(),
            items: items(30, 0),
        };
        let mut config = fast();
        config.qps = NonZeroU32::new(100);
        let started = Instant::now();
        let done = start_job(journal, cloud, job, config)
            .unwrap()
            .wait()
            .await
            .unwrap();
        assert_eq!(done.applied, 30);
        // 30 requests at 100/s with a burst of 10 cannot finish in less than 190 ms.
        assert!(
            started.elapsed() >= Duration::from_millis(190),
            "{:?}",
            started.elapsed()
        );
    }
}
