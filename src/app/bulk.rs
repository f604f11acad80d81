//! Bulk jobs in the window: the bulk dialog's state machine (plan → typed-count confirmation or
//! dry run → running → finished), the job's live progress and per-item results, the resume offer
//! for unfinished jobs in the journal, and the Audit tab's data. The engine itself is `jobs`
//! (shared with the CLI); this module only wires a backend, the journal and the engine together
//! and turns what they report into state. Every journal read and write runs off the UI thread.
//! Knows nothing of egui.

use super::source::BulkTarget;
use super::tasks::Event;
use super::{AppState, NoticeLevel, PaneKey};
use crate::jobs::{
    BulkItem, BulkJob, DryRunVerdict, EngineConfig, ItemResult, JobHandle, JobProgress,
};
use crate::model::{CertStatus, Change, Outcome, Provider, Service};
use crate::store::audit_chain::ChainReport;
use crate::store::journal::{AuditEntry, JobCounts, JobRecord, Journal, write_audit_csv};
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;

/// What the bulk dialog, the resume banner and the Audit tab can ask for.
#[derive(Debug, Clone, PartialEq)]
pub enum BulkAction {
    /// Plan `operation` on the selection of a pane and open the dialog.
    Open(PaneKey, Change),
    /// Edit the typed confirmation.
    SetTyped(String),
    /// Check every item without changing anything.
    DryRun,
    /// Start the job (only when the typed count matches).
    Start,
    /// Stop the running job cleanly (in-flight requests finish and are journaled).
    Cancel,
    /// Hide the dialog (a running job keeps running) or drop a plan that never ran.
    Close,
    /// Show the dialog of the current job again.
    Show,
    /// Save the job's per-item results as CSV (file dialog).
    ExportResults,
    /// Resume an unfinished job of the journal.
    Resume(String),
    /// Stop offering an unfinished job (it stays in the journal: `certdesk jobs resume`).
    Dismiss(String),
    /// Read the audit log again.
    RefreshAudit,
    /// Filter the audit log.
    SetAuditFilter(String),
    /// Save the shown audit entries as CSV (file dialog).
    ExportAudit,
}

/// Where the dialog's job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkPhase {
    /// Planned: waiting for the typed count (or a dry run).
    Confirm,
    /// The job is being written to the journal and started.
    Starting,
    /// Running.
    Running,
    /// Stopped: finished, cancelled, or failed to start.
    Finished,
}

/// A dry run of the planned items.
#[derive(Debug, Clone, PartialEq)]
pub enum DryRunState {
    /// Reading every item.
    Running,
    /// What would happen to each item, in order.
    Done(Vec<DryRunVerdict>),
}

/// One group of the plan: how many items per provider, service and account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanGroup {
    /// Cloud.
    pub provider: Provider,
    /// Service.
    pub service: Service,
    /// Account (profile) the job runs under.
    pub account: String,
    /// Items.
    pub count: usize,
}

/// The bulk dialog: one job from plan to result.
#[derive(Debug, Clone)]
pub struct BulkDialog {
    /// Service of every item.
    pub service: Service,
    /// The operation.
    pub operation: Change,
    /// Account (profile) the job runs under; recorded in the journal and audit log.
    pub account: String,
    /// The items, in order.
    pub items: Vec<BulkItem>,
    /// Items per provider and account.
    pub groups: Vec<PlanGroup>,
    /// What the user typed to confirm.
    pub typed: String,
    /// Where the job stands.
    pub phase: BulkPhase,
    /// A dry run, when one was asked for.
    pub dry_run: Option<DryRunState>,
    /// Journal id, once started.
    pub job_id: Option<String>,
    /// Latest counters.
    pub progress: Option<JobProgress>,
    /// Finished items, in completion order.
    pub results: Vec<ItemResult>,
    /// Cancel was pressed.
    pub cancel_requested: bool,
    /// Why the job could not start or stopped early, or why Start was refused.
    pub error: Option<String>,
    /// The job resumes an unfinished one from the journal.
    pub resumed: bool,
}

impl BulkDialog {
    /// Whether what was typed is the item count.
    pub fn typed_matches(&self) -> bool {
        self.typed.trim() == self.items.len().to_string()
    }

    /// Whether the job is starting or running.
    pub fn is_active(&self) -> bool {
        matches!(self.phase, BulkPhase::Starting | BulkPhase::Running)
    }

    /// What will happen, in one sentence.
    pub fn description(&self) -> String {
        let n = self.items.len();
        let what = match self.operation {
            Change::Disable => "disabled (they can be enabled again)",
            Change::Enable => "enabled (they can be disabled again)",
            change => change.done(),
        };
        format!(
            "{n} {} certificate(s) will be {what}. Items already in the target state count as done; \
             items whose status does not allow it are reported and left alone.",
            self.service.label()
        )
    }
}

/// An unfinished job of the journal, offered for resume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResumeOffer {
    /// The job.
    pub job: JobRecord,
    /// Its items per state.
    pub counts: JobCounts,
}

/// The Audit tab's data.
#[derive(Debug, Clone, Default)]
pub struct AuditView {
    /// Every entry, oldest first.
    pub entries: Vec<AuditEntry>,
    /// Positions of the entries the filter shows, newest first.
    pub shown: Vec<usize>,
    /// The text filter.
    pub filter: String,
    /// A read is running.
    pub loading: bool,
    /// Read at least once.
    pub loaded: bool,
    /// The read failed.
    pub error: Option<String>,
    /// The hash chain's state, checked with every read ([`ChainReport::summary`] says it in one
    /// line); `None` until checked.
    pub chain: Option<Result<ChainReport, String>>,
}

impl AuditView {
    fn refilter(&mut self) {
        let needle = self.filter.trim().to_lowercase();
        self.shown = (0..self.entries.len())
            .rev()
            .filter(|&i| needle.is_empty() || audit_matches(&self.entries[i], &needle))
            .collect();
    }
}

fn audit_matches(e: &AuditEntry, needle: &str) -> bool {
    [
        e.profile.as_str(),
        e.provider.code(),
        e.service.code(),
        e.operation.as_str(),
        &e.target,
        e.result.as_str(),
        e.code.as_deref().unwrap_or(""),
        e.request_id.as_deref().unwrap_or(""),
        e.job_id.as_deref().unwrap_or(""),
    ]
    .iter()
    .any(|f| f.to_lowercase().contains(needle))
}

/// Bulk state of the app.
#[derive(Default)]
pub struct BulkState {
    /// The current (or last) job's dialog.
    pub dialog: Option<BulkDialog>,
    /// Whether the dialog is shown (a running job may be hidden).
    pub visible: bool,
    /// Unfinished jobs found in the journal at start.
    pub resumable: Vec<ResumeOffer>,
    /// The Audit tab.
    pub audit: AuditView,
    pub(crate) journal: Option<Arc<Mutex<Journal>>>,
    cancel: Option<CancellationToken>,
    /// Panes whose rows changed since their view was last recomputed, and when that was.
    dirty: Vec<PaneKey>,
    last_view_update: Option<std::time::Instant>,
    /// Bumped per plan, so a late dry run of an older plan is dropped.
    generation: u64,
}

impl std::fmt::Debug for BulkState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BulkState")
            .field("dialog", &self.dialog.as_ref().map(|d| d.phase))
            .field("visible", &self.visible)
            .field("resumable", &self.resumable.len())
            .finish_non_exhaustive()
    }
}

impl BulkState {
    /// Whether a job is starting or running.
    pub fn is_running(&self) -> bool {
        self.dialog.as_ref().is_some_and(BulkDialog::is_active)
    }
}

/// Finished bulk work, sent back to the app.
#[derive(Debug)]
pub(crate) enum BulkEvent {
    /// A dry run finished (plan generation, verdicts).
    DryRun(u64, Vec<DryRunVerdict>),
    /// The job is journaled and running.
    Started(String, JobProgress),
    /// One item finished, with the counters after it.
    Item(Box<ItemResult>, JobProgress),
    /// The job stopped (or could not start).
    Finished(Result<JobProgress, String>),
    /// Unfinished jobs of the journal.
    Resumable(Result<Vec<(JobRecord, JobCounts)>, String>),
    /// The audit log.
    Audit(Result<Vec<AuditEntry>, String>),
    /// The audit log's hash chain, checked.
    AuditChain(Result<ChainReport, String>),
}

impl BulkEvent {
    /// Started and Item arrive while the job's task still runs.
    pub(crate) fn completes_task(&self) -> bool {
        !matches!(self, BulkEvent::Started(..) | BulkEvent::Item(..))
    }
}

/// The operations a service offers in bulk, in button order.
pub fn operations_for(service: Service) -> Vec<Change> {
    Change::bulk_status_changes(service)
}

/// Button text of an operation on a selection.
pub fn button_label(operation: Change) -> String {
    format!("{} selected", operation.label())
}

/// The pane an item of `service` (and ESA site) is listed in.
fn pane_of(service: Service, site_id: Option<i64>) -> PaneKey {
    match (service, site_id) {
        (Service::Esa, Some(site)) => PaneKey::esa(site),
        (service, _) => PaneKey::service(service),
    }
}

/// The provider's spelling of a status after a bulk change (as the list calls show it).
fn raw_status(service: Service, status: CertStatus) -> String {
    match service {
        Service::Pca | Service::Esa => status.label().to_lowercase(),
        _ => status.label().to_uppercase(),
    }
}

/// Writes per-item results as CSV (header + one line per item, in job order).
pub fn write_results_csv(
    results: &[ItemResult],
    out: impl std::io::Write,
) -> Result<(), csv::Error> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "idx",
        "service",
        "id",
        "site_id",
        "name",
        "result",
        "code",
        "message",
        "request_id",
        "attempts",
    ])?;
    let mut sorted: Vec<&ItemResult> = results.iter().collect();
    sorted.sort_by_key(|r| r.idx);
    for r in sorted {
        w.write_record([
            r.idx.to_string(),
            r.item.service.code().to_string(),
            r.item.id.clone(),
            r.item.site_id.map(|s| s.to_string()).unwrap_or_default(),
            r.item.name.clone(),
            r.outcome.as_str().to_string(),
            r.code.clone().unwrap_or_default(),
            r.message.clone().unwrap_or_default(),
            r.request_id.clone().unwrap_or_default(),
            r.attempts.to_string(),
        ])?;
    }
    w.flush()?;
    Ok(())
}

impl AppState {
    /// Uses `journal` for bulk jobs and the audit log, and looks for unfinished jobs in it (on a
    /// worker). Without one, the app keeps an in-memory journal for the session.
    pub fn set_journal(&mut self, journal: Arc<Mutex<Journal>>) {
        self.bulk.journal = Some(journal);
        self.load_resumable();
    }

    /// The journal; an in-memory one for the session when none was set.
    pub(super) fn journal(&mut self) -> Option<Arc<Mutex<Journal>>> {
        if let Some(j) = &self.bulk.journal {
            return Some(Arc::clone(j));
        }
        match Journal::in_memory() {
            Ok(j) => {
                let j = Arc::new(Mutex::new(j));
                self.bulk.journal = Some(Arc::clone(&j));
                Some(j)
            }
            Err(e) => {
                self.notice(NoticeLevel::Error, format!("No job journal: {e}"));
                None
            }
        }
    }

    fn bulk_target(&self, service: Service) -> BulkTarget {
        self.source.bulk_target(service)
    }

    fn engine_config(service: Service, target: &BulkTarget) -> EngineConfig {
        EngineConfig::for_service(service).with_rate_limit(target.rate_limit_qps)
    }

    /// Sends events of a running job back to the app (progress, items) without ending its task.
    fn bulk_sender(&self) -> impl Fn(BulkEvent) + Send + Sync + 'static {
        let tx = self.tx.clone();
        let repaint = Arc::clone(&self.repaint);
        let epoch = self.epoch;
        move |event| {
            let _ = tx.send((epoch, Event::Bulk(event)));
            repaint();
        }
    }

    pub(super) fn apply_bulk(&mut self, action: BulkAction) {
        match action {
            BulkAction::Open(key, operation) => self.plan_bulk(key, operation),
            BulkAction::SetTyped(text) => {
                if let Some(d) = &mut self.bulk.dialog {
                    d.typed = text;
                    if d.phase == BulkPhase::Confirm {
                        d.error = None;
                    }
                }
            }
            BulkAction::DryRun => self.bulk_dry_run(),
            BulkAction::Start => self.start_bulk(),
            BulkAction::Cancel => {
                if let Some(token) = &self.bulk.cancel {
                    token.cancel();
                }
                if let Some(d) = &mut self.bulk.dialog {
                    d.cancel_requested = true;
                }
            }
            BulkAction::Close => {
                if self.bulk.is_running() {
                    self.bulk.visible = false;
                } else {
                    self.bulk.dialog = None;
                    self.bulk.visible = false;
                }
            }
            BulkAction::Show => self.bulk.visible = self.bulk.dialog.is_some(),
            BulkAction::ExportResults => self.export_results(),
            BulkAction::Resume(job_id) => self.resume_bulk(job_id),
            BulkAction::Dismiss(job_id) => self.bulk.resumable.retain(|o| o.job.id != job_id),
            BulkAction::RefreshAudit => self.load_audit(),
            BulkAction::SetAuditFilter(text) => {
                self.bulk.audit.filter = text;
                self.bulk.audit.refilter();
            }
            BulkAction::ExportAudit => self.export_audit(),
        }
    }

    fn plan_bulk(&mut self, key: PaneKey, operation: Change) {
        if self.bulk.is_running() {
            self.notice(
                NoticeLevel::Error,
                "A bulk job is running: wait for it or cancel it first.",
            );
            self.bulk.visible = true;
            return;
        }
        if !operation.supported_by(key.service) {
            return;
        }
        let Some(pane) = self.panes.get(&key) else {
            return;
        };
        let mut rows: Vec<_> = pane
            .table
            .selection
            .iter()
            .filter(|&r| !pane.inventory.is_removed(r))
            .collect();
        rows.sort_unstable();
        let items: Vec<BulkItem> = rows
            .into_iter()
            .map(|r| BulkItem {
                service: key.service,
                id: pane.inventory.id(r).to_string(),
                site_id: pane.inventory.site_id(r).or(key.site_id),
                name: pane.inventory.name(r).to_string(),
            })
            .collect();
        if items.is_empty() {
            self.notice(NoticeLevel::Error, "Select certificates first.");
            return;
        }
        let account = self
            .workspace
            .account_for(key.service.provider())
            .to_string();
        let groups = vec![PlanGroup {
            provider: key.service.provider(),
            service: key.service,
            account: account.clone(),
            count: items.len(),
        }];
        self.bulk.generation += 1;
        self.bulk.dialog = Some(BulkDialog {
            service: key.service,
            operation,
            account,
            items,
            groups,
            typed: String::new(),
            phase: BulkPhase::Confirm,
            dry_run: None,
            job_id: None,
            progress: None,
            results: Vec::new(),
            cancel_requested: false,
            error: None,
            resumed: false,
        });
        self.bulk.visible = true;
    }

    fn bulk_dry_run(&mut self) {
        let Some(d) = &mut self.bulk.dialog else {
            return;
        };
        if d.phase != BulkPhase::Confirm || d.dry_run == Some(DryRunState::Running) {
            return;
        }
        d.dry_run = Some(DryRunState::Running);
        let (service, operation, items) = (d.service, d.operation, d.items.clone());
        let generation = self.bulk.generation;
        let target = self.bulk_target(service);
        let config = Self::engine_config(service, &target);
        self.spawn(async move {
            let verdicts = crate::jobs::dry_run(target.backend, operation, items, config).await;
            Event::Bulk(BulkEvent::DryRun(generation, verdicts))
        });
    }

    fn start_bulk(&mut self) {
        let Some(journal) = self.journal() else {
            return;
        };
        let Some(d) = &mut self.bulk.dialog else {
            return;
        };
        if d.phase != BulkPhase::Confirm {
            return;
        }
        if !d.typed_matches() {
            d.error = Some(format!(
                "Type {} (the number of items) to confirm; nothing was changed.",
                d.items.len()
            ));
            return;
        }
        d.phase = BulkPhase::Starting;
        d.error = None;
        let job = BulkJob {
            principal: crate::jobs::Principal::for_signer(
                d.account.clone(),
                self.source.signer(d.service.provider()),
            ),
            service: d.service,
            request: d.operation.into(),
            items: d.items.clone(),
        };
        let target = self.bulk_target(job.service);
        let config = Self::engine_config(job.service, &target);
        self.run_job(move || crate::jobs::start_job(journal, target.backend, job, config));
    }

    fn resume_bulk(&mut self, job_id: String) {
        if self.bulk.is_running() {
            self.notice(
                NoticeLevel::Error,
                "A bulk job is running: resume the other one when it has stopped.",
            );
            return;
        }
        let Some(offer) = self
            .bulk
            .resumable
            .iter()
            .find(|o| o.job.id == job_id)
            .cloned()
        else {
            return;
        };
        let (service, operation) = (offer.job.service, offer.job.operation);
        let account = self.workspace.account_for(service.provider()).to_string();
        if account != offer.job.profile {
            self.notice(
                NoticeLevel::Error,
                format!(
                    "Job {job_id} ran under profile “{}”; open that profile (Settings) to resume it.",
                    offer.job.profile
                ),
            );
            return;
        }
        let Some(journal) = self.journal() else {
            return;
        };
        self.bulk.resumable.retain(|o| o.job.id != job_id);
        let open = offer.counts.pending + offer.counts.sent;
        self.bulk.generation += 1;
        self.bulk.dialog = Some(BulkDialog {
            service,
            operation,
            account: account.clone(),
            items: Vec::new(),
            groups: vec![PlanGroup {
                provider: service.provider(),
                service,
                account,
                count: open as usize,
            }],
            typed: String::new(),
            phase: BulkPhase::Starting,
            dry_run: None,
            job_id: Some(job_id.clone()),
            progress: None,
            results: Vec::new(),
            cancel_requested: false,
            error: None,
            resumed: true,
        });
        self.bulk.visible = true;
        let target = self.bulk_target(service);
        let config = Self::engine_config(service, &target);
        let principal = self.principal(service.provider());
        self.run_job(move || {
            crate::jobs::resume_job(journal, target.backend, &job_id, principal, config)
        });
    }

    /// Journals and starts a job on a worker (the journal write blocks), then forwards its
    /// progress and results until it stops.
    fn run_job(
        &mut self,
        start: impl FnOnce() -> Result<JobHandle, crate::store::journal::JournalError> + Send + 'static,
    ) {
        let cancel = CancellationToken::new();
        self.bulk.cancel = Some(cancel.clone());
        let send = self.bulk_sender();
        self.spawn(async move {
            let started = tokio::task::spawn_blocking(start).await;
            let mut handle = match started {
                Ok(Ok(handle)) => handle,
                Ok(Err(e)) => return Event::Bulk(BulkEvent::Finished(Err(e.to_string()))),
                Err(e) => return Event::Bulk(BulkEvent::Finished(Err(e.to_string()))),
            };
            send(BulkEvent::Started(
                handle.job_id.clone(),
                handle.progress.borrow().clone(),
            ));
            let mut cancelled = false;
            loop {
                tokio::select! {
                    r = handle.results.recv() => match r {
                        Some(r) => {
                            let p = handle.progress.borrow().clone();
                            send(BulkEvent::Item(Box::new(r), p));
                        }
                        None => break,
                    },
                    _ = cancel.cancelled(), if !cancelled => {
                        cancelled = true;
                        handle.cancel();
                    }
                }
            }
            Event::Bulk(BulkEvent::Finished(
                handle.wait().await.map_err(|e| e.to_string()),
            ))
        });
    }

    fn load_resumable(&mut self) {
        let Some(journal) = self.journal() else {
            return;
        };
        self.spawn_blocking(move || {
            let jobs = journal
                .lock()
                .map_err(|_| "the journal is unavailable".to_string())
                // Not the jobs another live window or CLI runs: their engine holds the lease.
                .and_then(|j| j.resumable_jobs().map_err(|e| e.to_string()));
            Event::Bulk(BulkEvent::Resumable(jobs))
        });
    }

    fn load_audit(&mut self) {
        if self.bulk.audit.loading {
            return;
        }
        let Some(journal) = self.journal() else {
            return;
        };
        self.bulk.audit.loading = true;
        let chain = Arc::clone(&journal);
        self.spawn_blocking(move || {
            let report = chain
                .lock()
                .map_err(|_| "the journal is unavailable".to_string())
                .and_then(|j| j.verify_audit().map_err(|e| e.to_string()));
            Event::Bulk(BulkEvent::AuditChain(report))
        });
        self.spawn_blocking(move || {
            let entries = journal
                .lock()
                .map_err(|_| "the journal is unavailable".to_string())
                .and_then(|j| j.audit(None).map_err(|e| e.to_string()));
            Event::Bulk(BulkEvent::Audit(entries))
        });
    }

    /// Reads the audit log the first time its tab is shown.
    pub(super) fn ensure_audit_loaded(&mut self) {
        if !self.bulk.audit.loaded {
            self.load_audit();
        }
    }

    pub(super) fn bulk_event(&mut self, event: BulkEvent) {
        match event {
            BulkEvent::DryRun(generation, verdicts) => {
                if let Some(d) = &mut self.bulk.dialog
                    && generation == self.bulk.generation
                {
                    d.dry_run = Some(DryRunState::Done(verdicts));
                }
            }
            BulkEvent::Started(job_id, progress) => {
                if let Some(d) = &mut self.bulk.dialog {
                    d.phase = BulkPhase::Running;
                    d.job_id = Some(job_id);
                    d.progress = Some(progress);
                }
            }
            BulkEvent::Item(result, progress) => {
                let Some(d) = &mut self.bulk.dialog else {
                    return;
                };
                let status = d.operation.target_status();
                let success = result.outcome.is_success();
                let Some(status) = status else {
                    d.results.push(*result);
                    d.progress = Some(progress);
                    return;
                };
                let (service, site_id, id) = (
                    result.item.service,
                    result.item.site_id,
                    result.item.id.clone(),
                );
                d.results.push(*result);
                d.progress = Some(progress);
                if success {
                    self.show_status_live(service, site_id, &id, status);
                }
            }
            BulkEvent::Finished(result) => {
                self.bulk.cancel = None;
                let Some(d) = &mut self.bulk.dialog else {
                    return;
                };
                d.phase = BulkPhase::Finished;
                let message = match &result {
                    Ok(p) => {
                        d.progress = Some(p.clone());
                        let mut text = format!(
                            "Bulk {}: {} applied, {} already in the target state, {} failed",
                            d.operation, p.applied, p.already, p.failed
                        );
                        if p.cancelled {
                            text.push_str(&format!(
                                ", {} not sent (cancelled; resume it at the next start or with `certdesk jobs resume`)",
                                p.remaining
                            ));
                        }
                        (
                            if p.failed > 0 {
                                NoticeLevel::Error
                            } else {
                                NoticeLevel::Info
                            },
                            text,
                        )
                    }
                    Err(e) => {
                        d.error = Some(e.clone());
                        (NoticeLevel::Error, format!("The bulk job stopped: {e}"))
                    }
                };
                self.notice(message.0, message.1);
                self.update_rows_after_job();
                if self.bulk.audit.loaded {
                    self.load_audit();
                }
            }
            BulkEvent::Resumable(result) => match result {
                Ok(jobs) => {
                    self.bulk.resumable = jobs
                        .into_iter()
                        .map(|(job, counts)| ResumeOffer { job, counts })
                        .collect();
                }
                Err(e) => self.notice(
                    NoticeLevel::Error,
                    format!("Reading the job journal failed: {e}"),
                ),
            },
            BulkEvent::Audit(result) => {
                let audit = &mut self.bulk.audit;
                audit.loading = false;
                audit.loaded = true;
                match result {
                    Ok(entries) => {
                        audit.entries = entries;
                        audit.error = None;
                        audit.refilter();
                    }
                    Err(e) => audit.error = Some(e),
                }
            }
            BulkEvent::AuditChain(report) => self.bulk.audit.chain = Some(report),
        }
    }

    /// Shows one item's new status in its pane while the job runs; views are recomputed at most
    /// four times a second, so thousands of items per second do not redo the sort per item.
    fn show_status_live(
        &mut self,
        service: Service,
        site_id: Option<i64>,
        id: &str,
        status: CertStatus,
    ) {
        let key = pane_of(service, site_id);
        if let Some(pane) = self.panes.get_mut(&key)
            && let Some(row) = pane.inventory.find(id)
        {
            pane.inventory
                .set_status(row, status, &raw_status(service, status));
            if !self.bulk.dirty.contains(&key) {
                self.bulk.dirty.push(key);
            }
        }
        let due = self
            .bulk
            .last_view_update
            .is_none_or(|t| t.elapsed() >= std::time::Duration::from_millis(250));
        if due {
            self.bulk.last_view_update = Some(std::time::Instant::now());
            for key in std::mem::take(&mut self.bulk.dirty) {
                self.recompute_view(key);
            }
        }
    }

    /// Shows the job's successes in the panes (and the cache), so statuses are current without
    /// a refresh.
    fn update_rows_after_job(&mut self) {
        let Some(d) = &self.bulk.dialog else {
            return;
        };
        let Some(status) = d.operation.target_status() else {
            return;
        };
        let mut changed: Vec<(PaneKey, String)> = Vec::new();
        for r in d.results.iter().filter(|r| r.outcome.is_success()) {
            changed.push((pane_of(r.item.service, r.item.site_id), r.item.id.clone()));
        }
        let mut keys: Vec<PaneKey> = std::mem::take(&mut self.bulk.dirty);
        let mut writes: Vec<(crate::store::CacheKey, String, String)> = Vec::new();
        for (key, id) in changed {
            let raw = raw_status(key.service, status);
            let cache_key = self.cache_key(key);
            let Some(pane) = self.panes.get_mut(&key) else {
                continue;
            };
            if let Some(row) = pane.inventory.find(&id) {
                pane.inventory.set_status(row, status, &raw);
                pane.notes.remove(&id);
                if !keys.contains(&key) {
                    keys.push(key);
                }
                writes.push((cache_key, id, raw));
            }
        }
        // Details of changed rows are read again when next shown.
        self.details
            .retain(|(k, id), _| !writes.iter().any(|(_, w, _)| w == id) || !keys.contains(k));
        for key in keys {
            self.recompute_view(key);
        }
        if !writes.is_empty() {
            self.persist(move |s| {
                for (cache_key, id, raw) in &writes {
                    s.update_status(cache_key, id, status, raw)?;
                }
                Ok(())
            });
        }
    }

    /// Re-reads the audit log if the Audit tab has shown it (after a change was recorded).
    pub(super) fn refresh_audit(&mut self) {
        if self.bulk.audit.loaded {
            self.load_audit();
        }
    }

    fn export_results(&mut self) {
        let Some(d) = &self.bulk.dialog else {
            return;
        };
        let results = d.results.clone();
        let name = format!(
            "certdesk-{}-{}.csv",
            d.operation,
            d.job_id.as_deref().unwrap_or("results")
        );
        self.save_csv(name, move |out| write_results_csv(&results, out));
    }

    fn export_audit(&mut self) {
        let audit = &self.bulk.audit;
        let entries: Vec<AuditEntry> = audit
            .shown
            .iter()
            .rev()
            .filter_map(|&i| audit.entries.get(i).cloned())
            .collect();
        self.save_csv("certdesk-audit.csv".into(), move |out| {
            write_audit_csv(&entries, out)
        });
    }

    /// Asks for a file (native dialog, off the UI thread) and writes CSV into it.
    fn save_csv(
        &mut self,
        file_name: String,
        write: impl FnOnce(&mut Vec<u8>) -> Result<(), csv::Error> + Send + 'static,
    ) {
        self.spawn(async move {
            let Some(handle) = rfd::AsyncFileDialog::new()
                .set_file_name(&file_name)
                .add_filter("CSV", &["csv"])
                .save_file()
                .await
            else {
                return Event::Nothing;
            };
            let path = handle.path().to_path_buf();
            let mut bytes = Vec::new();
            if let Err(e) = write(&mut bytes) {
                return Event::Notice(NoticeLevel::Error, format!("Writing CSV failed: {e}"));
            }
            match tokio::fs::write(&path, bytes).await {
                Ok(()) => Event::Notice(NoticeLevel::Info, format!("Saved {}", path.display())),
                Err(e) => Event::Notice(
                    NoticeLevel::Error,
                    format!("Saving {} failed: {e}", path.display()),
                ),
            }
        });
    }
}

/// How an item result reads in the live table.
pub fn outcome_text(r: &ItemResult) -> String {
    match (&r.outcome, &r.message) {
        (Outcome::Applied, _) => "applied".into(),
        (outcome, Some(m)) => format!("{}: {m}", outcome.as_str()),
        (outcome, None) => outcome.as_str().into(),
    }
}

/// Seconds as `1h 02m`, `3m 05s` or `12s`.
pub fn format_eta(d: std::time::Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}h {:02}m", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{}m {:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(idx: u32, outcome: Outcome) -> ItemResult {
        ItemResult {
            idx,
            item: BulkItem {
                service: Service::Pca,
                id: format!("id-{idx}"),
                site_id: None,
                name: format!("cn, \"{idx}\""),
            },
            outcome,
            code: (idx == 1).then(|| "Certificate.NotFound".to_string()),
            message: None,
            request_id: Some(format!("REQ-{idx}")),
            attempts: 1,
        }
    }

    #[test]
    fn results_csv_has_a_header_and_one_quoted_line_per_item_in_job_order() {
        let mut out = Vec::new();
        write_results_csv(
            &[result(1, Outcome::Failed), result(0, Outcome::Applied)],
            &mut out,
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "idx,service,id,site_id,name,result,code,message,request_id,attempts"
        );
        assert_eq!(lines[1], "0,pca,id-0,,\"cn, \"\"0\"\"\",applied,,,REQ-0,1");
        assert_eq!(
            lines[2],
            "1,pca,id-1,,\"cn, \"\"1\"\"\",failed,Certificate.NotFound,,REQ-1,1"
        );
        assert_eq!(lines.len(), 3);
    }

    #[test]
    fn operations_follow_the_providers() {
        assert_eq!(operations_for(Service::Pca), vec![Change::Revoke]);
        assert_eq!(
            operations_for(Service::Kms),
            vec![Change::Revoke, Change::Disable, Change::Enable]
        );
        assert_eq!(
            operations_for(Service::Iotda),
            vec![Change::Disable, Change::Enable]
        );
        assert!(operations_for(Service::Vod).is_empty());
        assert_eq!(format_eta(std::time::Duration::from_secs(185)), "3m 05s");
    }
}

#[cfg(test)]
#[path = "bulk_tests.rs"]
mod app_tests;
