//! Bulk jobs in the window: the bulk dialog's state machine (plan → typed-count confirmation or
//! dry run → running → finished), the job's live progress and per-item results, and the resume
//! offer for unfinished jobs in the journal. The engine itself is `jobs` (shared with the CLI);
//! this feature only wires a backend, the journal and the engine together and turns what they
//! report into state; what the results mean for the panes' rows it hands back to the app
//! ([`RowUpdate`]). Every journal read and write runs off the UI thread. Knows nothing of egui.

use super::context::{Cx, Notice, NoticeLevel, ScopeId};
use super::inventory::PaneKey;
use super::runtime::{Generation, Ticket};
use super::source::BulkTarget;
use crate::jobs::{
    BulkItem, BulkJob, DryRunVerdict, EngineConfig, ItemResult, JobHandle, JobPart, JobProgress,
    SharedRate,
};
use crate::model::{CertStatus, Change, Outcome, Provider, Service};
use crate::store::journal::{JobCounts, JobRecord};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// What the bulk dialog and the resume banner can ask for.
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
    /// Its region.
    pub region: String,
    /// Who signs and where the requests go (key id or role, region, endpoint override).
    pub signer: String,
    /// Items.
    pub count: usize,
    /// The account and region its items live in and its requests go to.
    pub scope: ScopeId,
}

/// The bulk dialog: one job from plan to result.
#[derive(Debug, Clone)]
pub struct BulkDialog {
    /// Service of every item.
    pub service: Service,
    /// The operation.
    pub operation: Change,
    /// Account (profile) the job runs under, or the accounts, comma-separated, of a job that
    /// spans several; the journal and audit log name each item's own.
    pub account: String,
    /// The account and region of the first group (of every item of a resumed job).
    pub scope: ScopeId,
    /// The items, in order: the first group's, then the next group's, ...
    pub items: Vec<BulkItem>,
    /// Items per account and region, in the order of `items`: each runs under its own
    /// account's credentials and rate limit.
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

    /// The items of each group, with the group's account and region.
    pub fn parts(&self) -> impl Iterator<Item = (ScopeId, &[BulkItem])> + '_ {
        let mut start = 0;
        self.groups.iter().map(move |g| {
            let end = (start + g.count).min(self.items.len());
            let part = &self.items[start.min(end)..end];
            start = end;
            (g.scope, part)
        })
    }

    /// Whether the items span more than one account or region.
    pub fn spans_accounts(&self) -> bool {
        self.groups.len() > 1
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
    /// The region its requests went to, as journaled (`None`: not recorded); a resume runs there.
    pub region: Option<String>,
}

/// The unfinished jobs of the journal with the region each ran in.
fn resume_offers(
    journal: &crate::store::journal::Journal,
) -> Result<Vec<ResumeOffer>, crate::store::journal::JournalError> {
    journal
        .resumable_jobs()?
        .into_iter()
        .map(|(job, counts)| {
            let region = journal.job_origin(&job.id)?.and_then(|o| o.region);
            Ok(ResumeOffer {
                job,
                counts,
                region,
            })
        })
        .collect()
}

/// The region of `scope` ("" when unknown).
fn scope_region(cx: &Cx<'_, BulkEvent>, scope: ScopeId) -> String {
    cx.shared
        .workspace
        .scope(scope)
        .map(|s| s.region.clone())
        .unwrap_or_default()
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
    cancel: Option<CancellationToken>,
    /// One per plan, so a late dry run of an older plan is dropped.
    plans: Generation,
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

/// Finished (or progressing) bulk work.
#[derive(Debug)]
pub(crate) enum BulkEvent {
    /// A dry run finished (plan generation, verdicts).
    DryRun(Ticket, Vec<DryRunVerdict>),
    /// The job is journaled and running.
    Started(String, JobProgress),
    /// One item finished, with the counters after it.
    Item(Box<ItemResult>, JobProgress),
    /// The job stopped (or could not start).
    Finished(Result<JobProgress, String>),
    /// Unfinished jobs of the journal.
    Resumable(Result<Vec<ResumeOffer>, String>),
}

/// What a bulk event means for the rows the panes show.
#[derive(Debug, Default)]
pub(crate) struct RowUpdate {
    /// New statuses: pane, provider id, status, the provider's word.
    pub statuses: Vec<(PaneKey, String, CertStatus, String)>,
    /// The job stopped: show everything now, write the cache, re-read the audit log.
    pub finished: bool,
}

impl BulkState {
    /// Whether a job is starting or running.
    pub fn is_running(&self) -> bool {
        self.dialog.as_ref().is_some_and(BulkDialog::is_active)
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

/// Writes per-item results as CSV (header + one line per item, in job order), formula-leading
/// cells neutralised ([`crate::csv_export`]).
pub fn write_results_csv(
    results: &[ItemResult],
    out: impl std::io::Write,
) -> Result<(), csv::Error> {
    let mut w = crate::csv_export::SafeCsvWriter::new(out);
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
        "account",
        "region",
    ])?;
    // Job order within each account and region (a job spanning several has one order per part).
    let mut sorted: Vec<&ItemResult> = results.iter().collect();
    sorted.sort_by(|a, b| (&a.account, &a.region, a.idx).cmp(&(&b.account, &b.region, b.idx)));
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
            r.account.clone(),
            r.region.clone(),
        ])?;
    }
    w.flush()?;
    Ok(())
}

type Ctx<'a, 'b> = &'a mut Cx<'b, BulkEvent>;

fn engine_config(service: Service, target: &BulkTarget) -> EngineConfig {
    EngineConfig::for_service(service).with_rate_limit(target.rate_limit_qps)
}

impl BulkState {
    /// Looks for unfinished jobs in the journal (on a worker).
    pub(crate) fn load_resumable(&mut self, cx: Ctx<'_, '_>) {
        let journal = Arc::clone(&cx.shared.journal);
        cx.tasks.spawn_blocking(move || {
            let jobs = journal
                .lock()
                .map_err(|_| "the journal is unavailable".to_string())
                // Not the jobs another live window or CLI runs: their engine holds the lease.
                .and_then(|j| resume_offers(&j).map_err(|e| e.to_string()));
            BulkEvent::Resumable(jobs)
        });
    }

    /// Applies a dialog action (opening a plan is [`BulkState::plan`]).
    pub(crate) fn apply(&mut self, action: BulkAction, cx: Ctx<'_, '_>) {
        match action {
            // The app plans with the pane's selection.
            BulkAction::Open(..) => {}
            BulkAction::SetTyped(text) => {
                if let Some(d) = &mut self.dialog {
                    d.typed = text;
                    if d.phase == BulkPhase::Confirm {
                        d.error = None;
                    }
                }
            }
            BulkAction::DryRun => self.dry_run(cx),
            BulkAction::Start => self.start(cx),
            BulkAction::Cancel => {
                if let Some(token) = &self.cancel {
                    token.cancel();
                }
                if let Some(d) = &mut self.dialog {
                    d.cancel_requested = true;
                }
            }
            BulkAction::Close => {
                if !self.is_running() {
                    self.dialog = None;
                }
                self.visible = false;
            }
            BulkAction::Show => self.visible = self.dialog.is_some(),
            BulkAction::ExportResults => self.export_results(cx),
            BulkAction::Resume(job_id) => self.resume(job_id, cx),
            BulkAction::Dismiss(job_id) => self.resumable.retain(|o| o.job.id != job_id),
        }
    }

    /// Plans `operation` on `items` (the selection of a pane of `service`) and opens the dialog.
    pub(crate) fn plan(
        &mut self,
        service: Service,
        operation: Change,
        items: Vec<(ScopeId, BulkItem)>,
        cx: Ctx<'_, '_>,
    ) {
        if self.is_running() {
            cx.notice(
                NoticeLevel::Error,
                "A bulk job is running: wait for it or cancel it first.",
            );
            self.visible = true;
            return;
        }
        if !operation.supported_by(service) {
            return;
        }
        if items.is_empty() {
            cx.notice(NoticeLevel::Error, "Select certificates first.");
            return;
        }
        // A selection over several accounts and regions is one job in several parts: each part
        // runs under its own account's credentials and rate limit (see `start`). The parts are
        // listed by account and region so the confirmation reads like the table's filters.
        let mut parts: Vec<(ScopeId, Vec<BulkItem>)> = Vec::new();
        for (scope, item) in items {
            match parts.iter_mut().find(|(s, _)| *s == scope) {
                Some((_, part)) => part.push(item),
                None => parts.push((scope, vec![item])),
            }
        }
        let workspace = &cx.shared.workspace;
        let sort_key = |scope: ScopeId| {
            workspace
                .scope(scope)
                .map(|s| (s.profile.clone(), s.region.clone()))
                .unwrap_or_default()
        };
        parts.sort_by_key(|(scope, _)| sort_key(*scope));
        let scope = parts[0].0;
        // The confirmation says where the requests go and which key signs them, per part.
        let groups: Vec<PlanGroup> = parts
            .iter()
            .map(|(scope, part)| PlanGroup {
                provider: service.provider(),
                service,
                account: sort_key(*scope).0,
                region: scope_region(cx, *scope),
                signer: cx.shared.principal(*scope).describe(),
                count: part.len(),
                scope: *scope,
            })
            .collect();
        let mut accounts: Vec<&str> = groups.iter().map(|g| g.account.as_str()).collect();
        accounts.dedup();
        let account = accounts.join(", ");
        let items: Vec<BulkItem> = parts.into_iter().flat_map(|(_, part)| part).collect();
        self.plans.start();
        self.dialog = Some(BulkDialog {
            service,
            operation,
            account,
            scope,
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
        self.visible = true;
    }

    fn dry_run(&mut self, cx: Ctx<'_, '_>) {
        let Some(d) = &mut self.dialog else {
            return;
        };
        if d.phase != BulkPhase::Confirm || d.dry_run == Some(DryRunState::Running) {
            return;
        }
        d.dry_run = Some(DryRunState::Running);
        let (service, operation) = (d.service, d.operation);
        let plan = self.plans.current();
        // Every part at once, each through its own account's backend and at its own rate.
        let runs: Vec<_> = d
            .parts()
            .map(|(scope, items)| {
                let target = cx.shared.source.bulk_target(scope, service);
                let config = engine_config(service, &target);
                crate::jobs::dry_run(target.backend, operation, items.to_vec(), config)
            })
            .collect();
        cx.tasks.spawn(async move {
            let verdicts = futures_util::future::join_all(runs).await;
            BulkEvent::DryRun(plan, verdicts.into_iter().flatten().collect())
        });
    }

    fn start(&mut self, cx: Ctx<'_, '_>) {
        let Some(d) = &mut self.dialog else {
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
        // One journaled job per account and region, under that account's credentials; the
        // parts of one account share its rate limit (a service's limits are per account).
        let mut rates: Vec<(String, SharedRate)> = Vec::new();
        let mut parts = Vec::new();
        for (scope, items) in d.parts() {
            let target = cx.shared.source.bulk_target(scope, d.service);
            let config = engine_config(d.service, &target);
            let principal = cx.shared.principal(scope);
            let rate = match rates.iter().find(|(p, _)| *p == principal.profile) {
                Some((_, rate)) => rate.clone(),
                None => {
                    let rate = SharedRate::new(config.qps);
                    rates.push((principal.profile.clone(), rate.clone()));
                    rate
                }
            };
            let job = BulkJob {
                principal,
                service: d.service,
                request: d.operation.into(),
                items: items.to_vec(),
            };
            parts.push(JobPart {
                backend: target.backend,
                job,
                config,
                rate,
            });
        }
        let journal = Arc::clone(&cx.shared.journal);
        self.run_job(move || crate::jobs::start_parts(&journal, parts), cx);
    }

    fn resume(&mut self, job_id: String, cx: Ctx<'_, '_>) {
        if self.is_running() {
            cx.notice(
                NoticeLevel::Error,
                "A bulk job is running: resume the other one when it has stopped.",
            );
            return;
        }
        let Some(offer) = self.resumable.iter().find(|o| o.job.id == job_id).cloned() else {
            return;
        };
        let (service, operation) = (offer.job.service, offer.job.operation);
        let account = offer.job.profile.clone();
        // The journal names the job's profile and the region it ran in (a part of a job that
        // spanned regions resumes in its own); without a recorded region, the profile's first.
        let scope = cx
            .shared
            .workspace
            .scopes_for(service)
            .into_iter()
            .find(|s| {
                cx.shared.workspace.scope(*s).is_some_and(|s| {
                    s.profile == account
                        && offer
                            .region
                            .as_ref()
                            .is_none_or(|r| r.is_empty() || *r == s.region)
                })
            });
        let Some(scope) = scope else {
            cx.notice(
                NoticeLevel::Error,
                format!(
                    "Job {job_id} ran under profile “{}”{}; open that profile (Settings) to resume it.",
                    offer.job.profile,
                    offer
                        .region
                        .as_deref()
                        .map(|r| format!(" in {r}"))
                        .unwrap_or_default()
                ),
            );
            return;
        };
        self.resumable.retain(|o| o.job.id != job_id);
        let open = offer.counts.pending + offer.counts.sent;
        self.plans.start();
        self.dialog = Some(BulkDialog {
            service,
            operation,
            account: account.clone(),
            scope,
            items: Vec::new(),
            groups: vec![PlanGroup {
                provider: service.provider(),
                service,
                account,
                region: scope_region(cx, scope),
                signer: cx.shared.principal(scope).describe(),
                count: open as usize,
                scope,
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
        self.visible = true;
        let target = cx.shared.source.bulk_target(scope, service);
        let config = engine_config(service, &target);
        let principal = cx.shared.principal(scope);
        let journal = Arc::clone(&cx.shared.journal);
        self.run_job(
            move || crate::jobs::resume_job(journal, target.backend, &job_id, principal, config),
            cx,
        );
    }

    /// Journals and starts a job on a worker (the journal write blocks), then forwards its
    /// progress and results until it stops.
    fn run_job(
        &mut self,
        start: impl FnOnce() -> Result<JobHandle, crate::store::journal::JournalError> + Send + 'static,
        cx: Ctx<'_, '_>,
    ) {
        let cancel = CancellationToken::new();
        self.cancel = Some(cancel.clone());
        let send = cx.tasks.sender();
        cx.tasks.spawn(async move {
            let started = tokio::task::spawn_blocking(start).await;
            let mut handle = match started {
                Ok(Ok(handle)) => handle,
                Ok(Err(e)) => return BulkEvent::Finished(Err(e.to_string())),
                Err(e) => return BulkEvent::Finished(Err(e.to_string())),
            };
            send.send(BulkEvent::Started(
                handle.job_id.clone(),
                handle.progress.borrow().clone(),
            ));
            let mut cancelled = false;
            loop {
                tokio::select! {
                    r = handle.results.recv() => match r {
                        Some(r) => {
                            let p = handle.progress.borrow().clone();
                            send.send(BulkEvent::Item(Box::new(r), p));
                        }
                        None => break,
                    },
                    _ = cancel.cancelled(), if !cancelled => {
                        cancelled = true;
                        handle.cancel();
                    }
                }
            }
            BulkEvent::Finished(handle.wait().await.map_err(|e| e.to_string()))
        });
    }

    /// Applies a result of bulk work; says what it means for the panes' rows.
    pub(crate) fn handle(&mut self, event: BulkEvent, cx: Ctx<'_, '_>) -> RowUpdate {
        let mut update = RowUpdate::default();
        match event {
            BulkEvent::DryRun(plan, verdicts) => {
                if let Some(d) = &mut self.dialog
                    && self.plans.is_current(plan)
                {
                    d.dry_run = Some(DryRunState::Done(verdicts));
                }
            }
            BulkEvent::Started(job_id, progress) => {
                if let Some(d) = &mut self.dialog {
                    d.phase = BulkPhase::Running;
                    d.job_id = Some(job_id);
                    d.progress = Some(progress);
                }
            }
            BulkEvent::Item(result, progress) => {
                let Some(d) = &mut self.dialog else {
                    return update;
                };
                if result.outcome.is_success()
                    && let Some(status) = d.operation.target_status()
                {
                    let item = &result.item;
                    update.statuses.push((
                        pane_of(item.service, item.site_id),
                        item.id.clone(),
                        status,
                        raw_status(item.service, status),
                    ));
                }
                d.results.push(*result);
                d.progress = Some(progress);
            }
            BulkEvent::Finished(result) => {
                self.cancel = None;
                let Some(d) = &mut self.dialog else {
                    return update;
                };
                d.phase = BulkPhase::Finished;
                let (level, text) = match &result {
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
                        let level = if p.failed > 0 {
                            NoticeLevel::Error
                        } else {
                            NoticeLevel::Info
                        };
                        (level, text)
                    }
                    Err(e) => {
                        d.error = Some(e.clone());
                        (NoticeLevel::Error, format!("The bulk job stopped: {e}"))
                    }
                };
                cx.notice(level, text);
                // Every success of the job, shown and written to the cache.
                if let Some(status) = d.operation.target_status() {
                    for r in d.results.iter().filter(|r| r.outcome.is_success()) {
                        update.statuses.push((
                            pane_of(r.item.service, r.item.site_id),
                            r.item.id.clone(),
                            status,
                            raw_status(r.item.service, status),
                        ));
                    }
                }
                update.finished = true;
            }
            BulkEvent::Resumable(result) => match result {
                Ok(offers) => self.resumable = offers,
                Err(e) => cx.notice(
                    NoticeLevel::Error,
                    format!("Reading the job journal failed: {e}"),
                ),
            },
        }
        update
    }

    fn export_results(&self, cx: Ctx<'_, '_>) {
        let Some(d) = &self.dialog else {
            return;
        };
        let results = d.results.clone();
        let name = format!(
            "certdesk-{}-{}.csv",
            d.operation,
            d.job_id.as_deref().unwrap_or("results")
        );
        save_csv(cx.quiet, name, move |out| write_results_csv(&results, out));
    }
}

/// Asks for a file (native dialog, off the UI thread) and writes CSV into it.
pub(crate) fn save_csv(
    quiet: &super::runtime::Spawner<Option<Notice>>,
    file_name: String,
    write: impl FnOnce(&mut Vec<u8>) -> Result<(), csv::Error> + Send + 'static,
) {
    quiet.spawn(async move {
        let handle = rfd::AsyncFileDialog::new()
            .set_file_name(&file_name)
            .add_filter("CSV", &["csv"])
            .save_file()
            .await?;
        let path = handle.path().to_path_buf();
        let mut bytes = Vec::new();
        if let Err(e) = write(&mut bytes) {
            return Some(Notice::error(format!("Writing CSV failed: {e}")));
        }
        // Readable by the user only: an audit log names accounts, certificates and devices.
        let written = tokio::task::spawn_blocking({
            let path = path.clone();
            move || crate::files::write_private_file(&path, &bytes)
        })
        .await
        .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())));
        Some(match written {
            Ok(()) => Notice::info(format!("Saved {}", path.display())),
            Err(e) => Notice::error(format!("Saving {} failed: {e}", path.display())),
        })
    });
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
            account: "prod".into(),
            region: "cn-hangzhou".into(),
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
            "idx,service,id,site_id,name,result,code,message,request_id,attempts,account,region"
        );
        assert_eq!(
            lines[1],
            "0,pca,id-0,,\"cn, \"\"0\"\"\",applied,,,REQ-0,1,prod,cn-hangzhou"
        );
        assert_eq!(
            lines[2],
            "1,pca,id-1,,\"cn, \"\"1\"\"\",failed,Certificate.NotFound,,REQ-1,1,prod,cn-hangzhou"
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
