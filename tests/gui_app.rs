//! The real window code driven headless by egui_kittest over the in-memory fake source: tabs,
//! filter, selection (click, Ctrl, Shift, select all, keyboard) and a confirmed status change.
#![allow(clippy::unwrap_used)] // test setup: a failure should panic right there

mod gui_support;

use certdesk::app::fake::{FakeSource, app_over};
use certdesk::app::{AppState, PaneKey, Workspace};
use certdesk::model::{CertStatus, Service};
use certdesk::store::Store;
use certdesk::ui::CertdeskApp;
use eframe::egui;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use std::sync::{Arc, Mutex};
use std::time::Duration;

struct Gui {
    harness: Harness<'static, CertdeskApp>,
    fake: FakeSource,
    _runtime: tokio::runtime::Runtime,
}

fn gui(rows: usize) -> Gui {
    let fake = FakeSource::generated(rows);
    let (runtime, state) = app_over(
        fake.clone(),
        Workspace::single("kittest", true, "Demo — fake source"),
        Some(Arc::new(Mutex::new(Store::open_in_memory().unwrap()))),
        true,
    );
    let harness = Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .build_ui_state(
            |ui, app: &mut CertdeskApp| app.show(ui),
            CertdeskApp::new(state),
        );
    let mut gui = Gui {
        harness,
        fake,
        _runtime: runtime,
    };
    gui.settle();
    gui
}

impl Gui {
    /// Steps frames until the app has no background work left, then a few more so the UI
    /// reflects the last results.
    fn settle(&mut self) {
        gui_support::settle_harness(&mut self.harness, Duration::from_secs(30), 3);
    }

    fn app(&self) -> &AppState {
        &self.harness.state().state
    }

    fn iot_selection(&self) -> Vec<String> {
        let p = &self.app().inventory.panes[&PaneKey::service(Service::Iotda)];
        p.table
            .selection
            .iter()
            .map(|r| p.inventory.name(r).to_string())
            .collect()
    }
}

#[test]
fn tabs_filter_select_and_change_a_status() {
    let mut g = gui(60);
    assert!(
        g.harness.query_by_label("Demo — simulated cloud").is_some(),
        "demo banner"
    );
    g.harness.get_by_label("Add a real account…");

    g.harness.get_by_label("IoT device certificates").click();
    g.settle();
    g.harness.get_by_label("device-00000");
    g.harness.get_by_label("60 device certificates");

    // Filter.
    g.harness.get_by_label("Filter:").click();
    g.harness.run_steps(1);
    g.harness.get_by_label("Filter:").type_text("device-0001");
    g.settle();
    assert!(
        g.harness.query_by_label("device-00000").is_none(),
        "filtered out"
    );
    g.harness.get_by_label("device-00013");
    g.harness.get_by_label("10 of 60 device certificates");

    // Click, Ctrl+click, Shift+click.
    g.harness.get_by_label("device-00012").click();
    g.settle();
    assert_eq!(g.iot_selection(), ["device-00012"]);
    g.harness
        .get_by_label("device-00015")
        .click_modifiers(egui::Modifiers::COMMAND);
    g.settle();
    assert_eq!(g.iot_selection(), ["device-00012", "device-00015"]);
    g.harness
        .get_by_label("device-00017")
        .click_modifiers(egui::Modifiers::SHIFT);
    g.settle();
    assert_eq!(
        g.iot_selection(),
        ["device-00015", "device-00016", "device-00017"],
        "range from the last Ctrl-clicked row"
    );

    // Keyboard: Down moves the cursor and selects that row alone; Shift+Down extends.
    g.harness.key_press(egui::Key::ArrowDown);
    g.settle();
    assert_eq!(g.iot_selection(), ["device-00018"]);
    g.harness
        .key_press_modifiers(egui::Modifiers::SHIFT, egui::Key::ArrowDown);
    g.settle();
    assert_eq!(g.iot_selection(), ["device-00018", "device-00019"]);

    // Select all filtered.
    g.harness.get_by_label("Select all filtered").click();
    g.settle();
    assert_eq!(g.iot_selection().len(), 10);
    g.harness
        .get_by_label("10 of 60 device certificates, 10 selected");

    // Status change from the detail panel, confirmed in the dialog.
    g.harness.get_by_label("device-00014").click();
    g.settle();
    let id = "iotda-000014";
    assert_eq!(
        g.fake.status_of(Service::Iotda, id),
        Some(CertStatus::Active)
    );
    g.harness.get_by_label("Disable").click();
    g.settle();
    g.harness.get_by_label("Disable?");
    assert_eq!(
        g.fake.status_of(Service::Iotda, id),
        Some(CertStatus::Active),
        "asks first"
    );
    g.harness.get_by_label("Yes, disable").click();
    g.settle();
    assert_eq!(
        g.fake.status_of(Service::Iotda, id),
        Some(CertStatus::Inactive)
    );
    // The result shows in place: the row's status text and the panel's confirmation.
    assert!(
        g.harness
            .query_by_label_contains("Done: Disabled (RequestId FAKE-REQUEST)")
            .is_some()
    );
    g.harness.get_by_label("Enable");
    g.harness.check_accessibility();
}

#[test]
fn sorting_theme_and_other_tabs_render() {
    let mut g = gui(30);
    g.harness.get_by_label("CDN domains").click();
    g.settle();
    g.harness.get_by_label("cdn00000.example.com");
    // Sorted by name ascending from the start: the same header again flips the direction.
    g.harness.get_by_label("Domain").click();
    g.settle();
    let p = &g.app().inventory.panes[&PaneKey::service(Service::Vod)];
    assert!(p.table.sort.descending);
    assert_eq!(p.inventory.name(p.table.index[0]), "cdn00029.example.com");

    g.harness.get_by_label("Client certificates").click();
    g.settle();
    g.harness.get_by_label("client-00000.example.com");
    g.harness.get_by_label("ESA").click();
    g.settle();
    g.harness.get_by_label("client-01000.example.com");

    g.harness.get_by_label("Light theme").click();
    g.settle();
    assert_eq!(g.harness.ctx.theme(), egui::Theme::Light);
    g.harness.get_by_label("Dark theme");

    g.harness.get_by_label("KMS certificates").click();
    g.settle();
    g.harness.get_by_label("Add ids");
    g.harness.check_accessibility();
}
