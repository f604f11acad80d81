//! The bulk dialog in the real app (real clients, real signing, real HTTP) against the in-process
//! simulator, driven headless by egui_kittest: select rows, open the dialog, type the count, run
//! it, see the simulator's state change and the Audit tab list the changes; a wrong count sends
//! nothing; a dry run changes nothing.
#![allow(clippy::unwrap_used)] // test setup: a failure should panic right there

mod gui_support;

use certdesk::app::PaneKey;
use certdesk::app::bulk::BulkPhase;
use certdesk::model::{CertStatus, Change, Outcome, Service};
use eframe::egui;
use egui_kittest::kittest::Queryable;
use gui_support::SimGui;
use std::sync::{Arc, Mutex};

type Gui = SimGui;

fn gui() -> Gui {
    gui_support::demo(egui::vec2(1500.0, 950.0))
}

impl SimGui {
    /// Names and ids of the first `n` shown rows of `key` with `status`.
    fn first_n_with(&self, key: PaneKey, status: CertStatus, n: usize) -> Vec<(String, String)> {
        let p = &self.app().inventory.panes[&key];
        let found: Vec<_> = p
            .table
            .index
            .iter()
            .copied()
            .filter(|&r| p.inventory.status(r) == status)
            .take(n)
            .map(|r| {
                (
                    p.inventory.name(r).to_string(),
                    p.inventory.id(r).to_string(),
                )
            })
            .collect();
        assert_eq!(found.len(), n, "not enough {status:?} rows");
        found
    }

    /// Clicks the first row, Ctrl-clicks the others.
    fn select(&mut self, rows: &[(String, String)]) {
        for (i, (name, _)) in rows.iter().enumerate() {
            let node = self.harness.get_all_by_label(name).next().unwrap();
            if i == 0 {
                node.click();
            } else {
                node.click_modifiers(egui::Modifiers::COMMAND);
            }
            self.settle();
        }
    }

    fn type_into(&mut self, label: &str, text: &str) {
        self.harness.get_by_label(label).click();
        self.harness.run_steps(1);
        self.harness.get_by_label(label).type_text(text);
        self.settle();
    }

    fn click(&mut self, label: &str) {
        self.harness.get_by_label(label).click();
        self.settle();
    }
}

fn open_pca_revoke(g: &mut Gui, n: usize) -> Vec<(String, String)> {
    g.click("Client certificates");
    let pca = PaneKey::service(Service::Pca);
    let rows = g.first_n_with(pca, CertStatus::Active, n);
    g.select(&rows);
    assert_eq!(g.app().inventory.panes[&pca].table.selection.len(), n);
    g.click("Revoke selected");
    assert!(g.app().bulk.visible);
    assert!(
        g.harness
            .query_by_label("Revoking cannot be undone.")
            .is_some()
    );
    rows
}

#[test]
fn revoke_selected_after_typing_the_count_changes_the_simulator_and_the_audit_tab_shows_it() {
    let mut g = gui();
    let rows = open_pca_revoke(&mut g, 3);
    g.harness.check_accessibility();

    g.type_into("Type 3 to confirm:", "3");
    g.click("Start revoke of 3");
    let d = g.app().bulk.dialog.as_ref().unwrap();
    assert_eq!(d.phase, BulkPhase::Finished, "{:?}", d.error);
    assert_eq!(d.results.len(), 3);
    for (_, id) in &rows {
        assert_eq!(g.sim.pca_status(id).as_deref(), Some("REVOKE"), "{id}");
        // Each was sent exactly once.
        assert_eq!(
            g.sim.mutation_requests("CreateRevokeClientCertificate", id),
            1
        );
    }
    g.harness.check_accessibility();
    // The live table shows every item's result and RequestId.
    assert!(g.harness.query_by_label_contains("Done 3").is_some());
    assert_eq!(g.harness.query_all_by_label("applied").count(), 3);
    // The pane shows the new statuses.
    let pca = PaneKey::service(Service::Pca);
    let p = &g.app().inventory.panes[&pca];
    for (_, id) in &rows {
        assert_eq!(
            p.inventory.status(p.inventory.find(id).unwrap()),
            CertStatus::Revoked
        );
    }
    g.click("Close dialog");
    assert!(g.app().bulk.dialog.is_none());

    g.click("Audit");
    assert!(g.harness.query_by_label("3 audit entries").is_some());
    for (_, id) in &rows {
        assert!(g.harness.query_by_label(id).is_some(), "{id} in the audit");
    }
    assert!(g.app().audit.entries.iter().all(|e| e.profile == "demo"
        && e.result == Outcome::Applied.into()
        && e.request_id.is_some()));
    g.type_into("Audit filter:", &rows[1].1);
    assert!(g.harness.query_by_label("1 of 3 audit entries").is_some());
    g.harness.check_accessibility();
}

#[test]
fn a_wrong_count_sends_nothing() {
    let mut g = gui();
    let rows = open_pca_revoke(&mut g, 2);
    g.type_into("Type 2 to confirm:", "3");
    g.click("Start revoke of 2");
    assert!(
        g.harness
            .query_by_label_contains("Type 2 (the number of items) to confirm")
            .is_some()
    );
    assert_eq!(
        g.app().bulk.dialog.as_ref().unwrap().phase,
        BulkPhase::Confirm
    );
    for (_, id) in &rows {
        assert_eq!(g.sim.pca_status(id).as_deref(), Some("ISSUE"), "{id}");
    }
    g.click("Close dialog");
    assert!(g.app().bulk.dialog.is_none());
    for (_, id) in &rows {
        assert_eq!(g.sim.pca_status(id).as_deref(), Some("ISSUE"), "{id}");
    }
}

#[test]
fn dry_run_shows_verdicts_and_changes_nothing() {
    let mut g = gui();
    let rows = open_pca_revoke(&mut g, 2);
    g.click("Dry run");
    assert!(
        g.harness
            .query_by_label("Dry run: 2 of 2 would be sent; nothing was changed.")
            .is_some()
    );
    assert_eq!(g.harness.query_all_by_label("would apply").count(), 2);
    for (_, id) in &rows {
        assert_eq!(g.sim.pca_status(id).as_deref(), Some("ISSUE"), "{id}");
    }
}

#[test]
fn iot_disable_selected_runs_from_the_iot_tab() {
    let mut g = gui();
    g.click("IoT device certificates");
    let iot = PaneKey::service(Service::Iotda);
    let rows = g.first_n_with(iot, CertStatus::Active, 2);
    g.select(&rows);
    // IoTDA offers disable and enable, not revoke.
    assert!(g.harness.query_by_label("Revoke selected").is_none());
    g.click("Disable selected");
    g.type_into("Type 2 to confirm:", "2");
    g.click("Start disable of 2");
    for (_, id) in &rows {
        assert_eq!(g.sim.iotda_status(id).as_deref(), Some("INACTIVE"), "{id}");
    }
}

#[test]
fn an_unfinished_job_is_offered_at_start_and_resume_finishes_it() {
    use certdesk::store::journal::{JobRecord, JobState, Journal};
    let mut g = gui();
    // A job killed before it sent anything: every item pending in the journal.
    let pca = PaneKey::service(Service::Pca);
    g.click("Client certificates");
    let rows = g.first_n_with(pca, CertStatus::Active, 3);
    let mut journal = Journal::in_memory().unwrap();
    journal
        .create_job(
            &JobRecord {
                id: "0f0e0d0c-killed-job".into(),
                created_at: 1_700_000_000,
                profile: "demo".into(),
                service: Service::Pca,
                operation: Change::Revoke,
                state: JobState::Running,
            },
            &rows
                .iter()
                .map(|(name, id)| (id.clone(), None, name.clone()))
                .collect::<Vec<_>>(),
        )
        .unwrap();
    g.harness
        .state_mut()
        .state
        .set_journal(Arc::new(Mutex::new(journal)));
    g.settle();
    assert!(g.harness.query_by_label("Unfinished bulk job").is_some());
    g.click("Resume");
    let d = g.app().bulk.dialog.as_ref().unwrap();
    assert!(d.resumed);
    assert_eq!(d.phase, BulkPhase::Finished, "{:?}", d.error);
    assert!(g.harness.query_by_label("Unfinished bulk job").is_none());
    for (_, id) in &rows {
        assert_eq!(g.sim.pca_status(id).as_deref(), Some("REVOKE"), "{id}");
    }
    // Closing the window's dialog leaves a line under the tabs only while a job is kept.
    g.click("Close dialog");
    assert!(g.app().bulk.dialog.is_none());
    assert!(g.harness.query_by_label("Show bulk job").is_none());
}
