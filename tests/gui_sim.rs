//! The real app (real clients, real signing, real HTTP) against the in-process simulator, driven
//! headless by egui_kittest: switch tabs, filter, select, open details parsed from the served
//! PEM, change a status in every service and see the change in the simulator itself.
#![allow(clippy::unwrap_used)] // test setup: a failure should panic right there

mod gui_support;

use certdesk::app::{ClientSection, PaneKey, Tab};
use certdesk::model::{CertStatus, Service};
use eframe::egui;
use egui_kittest::kittest::Queryable;
use gui_support::SimGui;

type Gui = SimGui;

fn gui() -> Gui {
    gui_support::demo(egui::vec2(1500.0, 950.0))
}

impl SimGui {
    /// Name and id of the first shown row of `key` with `status`.
    fn first_with(&self, key: PaneKey, status: CertStatus) -> (String, String) {
        let p = &self.app().inventory.panes[&key];
        let row = p
            .table
            .index
            .iter()
            .copied()
            .find(|&r| p.inventory.status(r) == status)
            .unwrap_or_else(|| panic!("no {status:?} row in {:?}", key.service));
        (
            p.inventory.name(row).to_string(),
            p.inventory.id(row).to_string(),
        )
    }

    fn click_row(&mut self, name: &str) {
        self.harness.get_all_by_label(name).next().unwrap().click();
        self.settle();
    }

    /// Clicks a status-change button in the detail panel, then confirms in the dialog.
    fn change(&mut self, button: &str, confirm: &str) {
        self.harness.get_by_label(button).click();
        self.settle();
        self.harness.get_by_label(confirm).click();
        self.settle();
    }
}

#[test]
fn every_tab_changes_a_status_that_the_simulator_then_has() {
    let mut g = gui();
    assert!(g.harness.query_by_label("Demo — simulated cloud").is_some());

    // KMS: the seeded ids were described through DescribeCertificate.
    g.harness.get_by_label("KMS certificates").click();
    g.settle();
    let kms = PaneKey::service(Service::Kms);
    assert_eq!(
        g.app().inventory.panes[&kms].inventory.len(),
        g.sim.kms_certificate_ids().len()
    );
    let (name, id) = g.first_with(kms, CertStatus::Active);
    g.click_row(&name);
    g.change("Disable", "Yes, disable");
    assert_eq!(g.sim.kms_status(&id).as_deref(), Some("INACTIVE"));
    assert_eq!(
        g.app().inventory.panes[&kms]
            .inventory
            .status(g.app().inventory.panes[&kms].table.cursor.unwrap()),
        CertStatus::Inactive
    );

    // IoT: every page by marker, filter, details with the parsed PEM, deactivate.
    g.harness.get_by_label("IoT device certificates").click();
    g.settle();
    let iot = PaneKey::service(Service::Iotda);
    assert_eq!(
        g.app().inventory.panes[&iot].inventory.len(),
        g.sim.iotda_count()
    );
    let (name, id) = g.first_with(iot, CertStatus::Active);
    g.harness.get_by_label("Filter:").click();
    g.harness.run_steps(1);
    g.harness.get_by_label("Filter:").type_text(&name);
    g.settle();
    let shown = g.app().inventory.panes[&iot].table.index.len();
    assert!(
        shown >= 1 && shown < g.sim.iotda_count(),
        "filter narrowed to {shown}"
    );
    g.click_row(&name);
    g.harness.get_by_label("Copy PEM");
    assert!(
        g.harness
            .query_all_by_label_contains("CN=")
            .next()
            .is_some(),
        "subject parsed from the served certificate"
    );
    let cursor_id = {
        let p = &g.app().inventory.panes[&iot];
        p.inventory.id(p.table.cursor.unwrap()).to_string()
    };
    assert_eq!(cursor_id, id);
    g.change("Disable", "Yes, disable");
    assert_eq!(g.sim.iotda_status(&id).as_deref(), Some("INACTIVE"));
    assert!(
        g.harness
            .query_by_label_contains("Done: Disabled")
            .is_some()
    );

    // Private CA: statuses from DescribeClientCertificateStatus; revoke.
    g.harness.get_by_label("Client certificates").click();
    g.settle();
    let pca = PaneKey::service(Service::Pca);
    assert!(!g.app().inventory.panes[&pca].inventory.is_empty());
    let (name, id) = g.first_with(pca, CertStatus::Active);
    g.click_row(&name);
    g.change("Revoke", "Yes, revoke");
    assert_eq!(g.sim.pca_status(&id).as_deref(), Some("REVOKE"));

    // ESA: site picker picks the first site; revoke a client certificate.
    g.harness.get_by_label("ESA").click();
    g.settle();
    assert_eq!(g.app().client_section, ClientSection::Esa);
    let site = g.app().inventory.esa.selected.expect("a site is chosen");
    let esa = PaneKey::esa(site);
    let (name, id) = g.first_with(esa, CertStatus::Active);
    g.click_row(&name);
    g.change("Revoke", "Yes, revoke");
    assert_eq!(g.sim.esa_status(site, &id).as_deref(), Some("revoked"));

    // CDN: certificate details were read per domain; switch HTTPS off.
    g.harness.get_by_label("CDN domains").click();
    g.settle();
    let vod = PaneKey::service(Service::Vod);
    let (domain, _) = g.first_with(vod, CertStatus::Active);
    {
        let p = &g.app().inventory.panes[&vod];
        let row = p.inventory.find(&domain).unwrap();
        assert!(
            p.inventory.not_after(row).is_some(),
            "expiry from the certificate info"
        );
        assert!(
            !p.inventory.extra(row).is_empty(),
            "certificate type and CN"
        );
    }
    g.click_row(&domain);
    g.change("Turn HTTPS off", "Yes, turn https off");
    assert_eq!(
        g.sim.vod_ssl(&domain).map(|s| s.ssl_protocol).as_deref(),
        Some("off")
    );

    // Settings renders (no profile store in this test).
    g.harness.get_by_label("Settings").click();
    g.settle();
    g.harness.check_accessibility();
    let _ = Tab::Settings;
}
