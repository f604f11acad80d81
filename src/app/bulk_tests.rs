//! The bulk dialog's state machine over the in-memory fake source: no window, no network.

use super::*;
use crate::app::AppState;
use crate::app::fake::{FakeSource, app_over};
use crate::app::view::StatusFilter;
use crate::app::{Action, ClickMods, Workspace};
use crate::store::Store;
use crate::store::journal::Journal;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const PCA: PaneKey = PaneKey {
    service: Service::Pca,
    site_id: None,
};

struct Rig {
    _runtime: tokio::runtime::Runtime,
    fake: FakeSource,
    journal: Arc<Mutex<Journal>>,
    app: AppState,
}

fn rig(rows: usize) -> Rig {
    let fake = FakeSource::generated(rows);
    let (runtime, mut app) = app_over(
        fake.clone(),
        Workspace::single("ops", false, "fake"),
        Some(Arc::new(Mutex::new(Store::open_in_memory().unwrap()))),
        true,
    );
    let journal = Arc::new(Mutex::new(Journal::in_memory().unwrap()));
    app.set_journal(Arc::clone(&journal));
    let mut rig = Rig {
        _runtime: runtime,
        fake,
        journal,
        app,
    };
    rig.act(Action::SelectTab(crate::app::Tab::ClientCertificates));
    rig
}

impl Rig {
    fn settle(&mut self) {
        assert!(
            self.app.wait_idle(Duration::from_secs(60)),
            "background work did not finish"
        );
    }

    fn act(&mut self, action: Action) {
        self.app.apply(action);
        self.settle();
    }

    fn bulk(&mut self, action: BulkAction) {
        self.act(Action::Bulk(action));
    }

    /// Selects the first `n` active PCA rows; returns their ids.
    fn select_active(&mut self, n: usize) -> Vec<String> {
        self.act(Action::SetStatusFilter(
            PCA,
            StatusFilter::Only(CertStatus::Active),
        ));
        self.act(Action::ClickRow(PCA, 0, ClickMods::default()));
        self.act(Action::ClickRow(
            PCA,
            n - 1,
            ClickMods {
                toggle: false,
                range: true,
            },
        ));
        let pane = &self.app.inventory.panes[&PCA];
        pane.table.index[..n]
            .iter()
            .map(|&r| pane.inventory.id(r).to_string())
            .collect()
    }

    fn changes(&self) -> usize {
        self.fake
            .calls()
            .iter()
            .filter(|c| c.starts_with("change"))
            .count()
    }

    fn dialog(&self) -> &BulkDialog {
        self.app.bulk.dialog.as_ref().unwrap()
    }
}

#[test]
fn nothing_is_sent_until_the_typed_count_matches_then_every_item_changes() {
    let mut r = rig(12);
    let ids = r.select_active(4);
    r.bulk(BulkAction::Open(PCA, Change::Revoke));
    assert!(r.app.bulk.visible);
    let d = r.dialog();
    assert_eq!(d.items.len(), 4);
    assert_eq!(d.phase, BulkPhase::Confirm);
    assert_eq!(
        d.groups,
        vec![PlanGroup {
            provider: Provider::Alibaba,
            service: Service::Pca,
            account: "ops".into(),
            region: "cn-hangzhou".into(),
            signer: "profile ops".into(),
            count: 4,
            scope: d.scope,
        }]
    );

    for wrong in ["", "3", "40", "four"] {
        r.bulk(BulkAction::SetTyped(wrong.into()));
        r.bulk(BulkAction::Start);
        assert_eq!(r.dialog().phase, BulkPhase::Confirm, "{wrong:?}");
        assert!(r.dialog().error.as_deref().unwrap().contains("Type 4"));
    }
    assert_eq!(r.changes(), 0);
    assert!(r.journal.lock().unwrap().jobs().unwrap().is_empty());

    r.bulk(BulkAction::SetTyped(" 4 ".into()));
    r.bulk(BulkAction::Start);
    let d = r.dialog();
    assert_eq!(d.phase, BulkPhase::Finished, "{:?}", d.error);
    let p = d.progress.clone().unwrap();
    assert_eq!((p.applied, p.failed, p.remaining), (4, 0, 0));
    assert_eq!(d.results.len(), 4);
    for id in &ids {
        assert_eq!(
            r.fake.status_of(Service::Pca, id),
            Some(CertStatus::Revoked)
        );
        // The pane shows the new status without a refresh.
        let pane = &r.app.inventory.panes[&PCA];
        let row = pane.inventory.find(id).unwrap();
        assert_eq!(pane.inventory.status(row), CertStatus::Revoked);
    }
    assert_eq!(r.changes(), 4);

    // The audit tab reads what the job journaled, under the workspace's account.
    r.act(Action::SelectTab(crate::app::Tab::Audit));
    let audit = &r.app.audit;
    assert_eq!(audit.entries.len(), 4);
    assert!(audit.entries.iter().all(|e| e.profile == "ops"
        && e.operation == Change::Revoke
        && e.result == crate::model::Outcome::Applied.into()));
    r.act(Action::Audit(crate::app::AuditAction::SetFilter(
        ids[2].clone(),
    )));
    assert_eq!(r.app.audit.shown.len(), 1);
    r.act(Action::Audit(crate::app::AuditAction::SetFilter(
        "nothing-like-it".into(),
    )));
    assert!(r.app.audit.shown.is_empty());

    r.bulk(BulkAction::Close);
    assert!(r.app.bulk.dialog.is_none());
}

#[test]
fn dry_run_reports_each_item_and_changes_nothing() {
    let mut r = rig(12);
    // Every row: active ones would be revoked, revoked ones are already.
    r.act(Action::SelectAllFiltered(PCA));
    r.bulk(BulkAction::Open(PCA, Change::Revoke));
    r.bulk(BulkAction::DryRun);
    let Some(DryRunState::Done(verdicts)) = &r.dialog().dry_run else {
        panic!("no dry run: {:?}", r.dialog().dry_run);
    };
    assert_eq!(verdicts.len(), 12);
    let would = verdicts.iter().filter(|v| v.would_send).count();
    let already = verdicts.iter().filter(|v| v.verdict == "already").count();
    assert_eq!((would, already), (9, 3), "{verdicts:?}");
    assert_eq!(r.changes(), 0);
    assert_eq!(r.dialog().phase, BulkPhase::Confirm);
}

#[test]
fn unsupported_operations_and_empty_selections_open_nothing() {
    let mut r = rig(4);
    r.bulk(BulkAction::Open(PCA, Change::Disable));
    assert!(r.app.bulk.dialog.is_none());
    r.bulk(BulkAction::Open(PCA, Change::Revoke));
    assert!(r.app.bulk.dialog.is_none(), "nothing was selected");
}

#[test]
fn cancelled_job_stops_cleanly_is_offered_for_resume_and_resumes_to_the_end() {
    let mut r = rig(60);
    let ids = r.select_active(30);
    r.bulk(BulkAction::Open(PCA, Change::Revoke));
    r.bulk(BulkAction::SetTyped("30".into()));
    // Not settled: the job runs at the published 10 requests per second.
    r.app.apply(Action::Bulk(BulkAction::Start));
    let deadline = Instant::now() + Duration::from_secs(20);
    while r.app.bulk.dialog.as_ref().unwrap().results.len() < 3 {
        assert!(Instant::now() < deadline, "no progress");
        r.app.poll();
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(r.app.bulk.is_running());
    // Rows change status while the job runs, not only at its end.
    let first = r.dialog().results[0].item.id.clone();
    let pane = &r.app.inventory.panes[&PCA];
    assert_eq!(
        pane.inventory.status(pane.inventory.find(&first).unwrap()),
        CertStatus::Revoked
    );
    // The dialog can be hidden while the job runs, and shown again.
    r.app.apply(Action::Bulk(BulkAction::Close));
    assert!(!r.app.bulk.visible && r.app.bulk.dialog.is_some());
    r.app.apply(Action::Bulk(BulkAction::Show));
    assert!(r.app.bulk.visible);
    r.bulk(BulkAction::Cancel);
    let d = r.dialog();
    assert_eq!(d.phase, BulkPhase::Finished);
    let p = d.progress.clone().unwrap();
    assert!(p.cancelled && p.remaining > 0, "{p:?}");
    let done_before = r.changes();
    assert!(done_before < 30);

    // The next start finds the unfinished job.
    let journal = Arc::clone(&r.journal);
    r.app.set_journal(journal);
    r.settle();
    assert_eq!(r.app.bulk.resumable.len(), 1);
    let job_id = r.app.bulk.resumable[0].job.id.clone();
    r.bulk(BulkAction::Resume(job_id));
    let d = r.dialog();
    assert!(d.resumed);
    assert_eq!(d.phase, BulkPhase::Finished, "{:?}", d.error);
    assert!(r.app.bulk.resumable.is_empty());
    for id in &ids {
        assert_eq!(
            r.fake.status_of(Service::Pca, id),
            Some(CertStatus::Revoked),
            "{id}"
        );
    }
    // Nothing was applied twice.
    assert_eq!(r.changes(), 30);
    assert!(
        r.journal
            .lock()
            .unwrap()
            .unfinished_jobs()
            .unwrap()
            .is_empty()
    );
}

#[test]
fn dismissed_offers_are_not_shown_again() {
    let mut r = rig(4);
    r.app.bulk.resumable.push(ResumeOffer {
        job: JobRecord {
            id: "j1".into(),
            created_at: 1,
            profile: "ops".into(),
            service: Service::Pca,
            operation: Change::Revoke,
            state: crate::store::journal::JobState::Running,
        },
        counts: JobCounts::default(),
        region: None,
    });
    r.bulk(BulkAction::Dismiss("j1".into()));
    assert!(r.app.bulk.resumable.is_empty());
}

#[test]
fn the_profile_form_reads_the_rate_limit_and_refuses_what_is_not_a_number() {
    use crate::app::ProfileDraft;
    let mut draft = ProfileDraft::new(Provider::Alibaba);
    assert_eq!(draft.rate_limit(), Ok(None));
    assert_eq!(draft.profile().rate_limit_qps, None);
    draft.rate_limit_qps = " 25 ".into();
    assert_eq!(draft.profile().rate_limit_qps, Some(25));
    draft.rate_limit_qps = "0".into();
    assert_eq!(draft.profile().rate_limit_qps, Some(0));
    draft.rate_limit_qps = "fast".into();
    assert!(draft.rate_limit().unwrap_err().contains("whole number"));
    // A saved profile shows its limit in the form again.
    let mut profile = draft.profile();
    profile.rate_limit_qps = Some(7);
    assert_eq!(
        ProfileDraft::from_profile(&profile, false).rate_limit_qps,
        "7"
    );
}
