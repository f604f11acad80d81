//! The Overview tab of the real app against the in-process simulator, driven headless by
//! egui_kittest: its counts, chart buckets and soonest list match the simulator's own inventory
//! (counted here from `RunningSimulator::certificates`, not with the app's aggregation), and a
//! click on a list row, a chart-table cell or a bar opens that tab showing exactly those rows.
//! Also: thresholds are saved and read back.
#![allow(clippy::unwrap_used)] // test setup: a failure should panic right there

mod gui_support;

use certdesk::app::overview::{Bucket, Thresholds, WEEK, WEEKS};
use certdesk::app::view::ExpiryFilter;
use certdesk::app::{
    Action, AppConfig, AppState, ClientSection, PaneKey, ProfilesConfig, Tab, Workspace,
};
use certdesk::cloud::Transport;
use certdesk::model::{CertStatus, Service};
use certdesk::sim::SimCertificate;
use certdesk::ui::tabs::overview::{self, bucket_name, count_label};
use eframe::egui;
use egui_kittest::kittest::Queryable;
use gui_support::SimGui;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

type Gui = SimGui;

fn gui() -> Gui {
    gui_support::demo(egui::vec2(1500.0, 1400.0))
}

impl SimGui {
    fn now(&self) -> i64 {
        self.app().overview.current.as_ref().unwrap().now
    }

    /// Provider ids the table of `key` shows.
    fn shown(&self, key: PaneKey) -> BTreeSet<String> {
        let p = &self.app().inventory.panes[&key];
        p.table
            .index
            .iter()
            .map(|&r| p.inventory.id(r).to_string())
            .collect()
    }

    fn expiry_filter(&self, key: PaneKey) -> ExpiryFilter {
        self.app().inventory.panes[&key].table.filter.expiry
    }
}

/// The app's status for a simulator status word, written out here (not the clients' mapping).
fn status_of(c: &SimCertificate) -> CertStatus {
    match (c.service, c.status.as_str()) {
        (_, "ACTIVE" | "ISSUE" | "active" | "on") => CertStatus::Active,
        (_, "INACTIVE" | "off") => CertStatus::Inactive,
        (_, "REVOKED" | "REVOKE" | "revoked") => CertStatus::Revoked,
        (_, "PENDING") => CertStatus::Pending,
        _ => CertStatus::Unknown,
    }
}

fn key_of(c: &SimCertificate) -> PaneKey {
    match c.site_id {
        Some(site) => PaneKey::esa(site),
        None => PaneKey::service(c.service),
    }
}

/// The week (0-based, from `now`) or `None` for expired, by plain arithmetic.
fn week_of(t: i64, now: i64) -> Option<i64> {
    (t >= now).then(|| (t - now) / (7 * 86_400))
}

/// Ids of `certs` in `key` expiring in `[from, to)`.
fn ids_between(certs: &[SimCertificate], key: PaneKey, from: i64, to: i64) -> BTreeSet<String> {
    certs
        .iter()
        .filter(|c| key_of(c) == key)
        .filter(|c| c.not_after.is_some_and(|t| from <= t && t < to))
        .map(|c| c.id.clone())
        .collect()
}

const STATUSES: [CertStatus; 5] = [
    CertStatus::Active,
    CertStatus::Inactive,
    CertStatus::Revoked,
    CertStatus::Pending,
    CertStatus::Unknown,
];

#[test]
fn overview_counts_match_the_simulator_and_clicks_open_exactly_those_rows() {
    let mut g = gui();
    assert_eq!(g.app().tab, Tab::Overview, "the first tab a user sees");
    let certs = g.sim.certificates();
    assert!(certs.len() > 100, "{} certificates", certs.len());
    let now = g.now();
    let o = g.app().overview.current.clone().unwrap();

    // Counts by service and status, and per service the expired and expiry-less ones.
    for service in Service::ALL {
        let mine: Vec<&SimCertificate> = certs.iter().filter(|c| c.service == service).collect();
        assert!(!mine.is_empty(), "{service:?} seeded");
        for status in STATUSES {
            let n = mine.iter().filter(|c| status_of(c) == status).count() as u64;
            let label = count_label(Some(service), status.label(), n);
            assert!(
                g.harness.query_by_label(&label).is_some(),
                "no cell {label:?}"
            );
        }
        let total = count_label(Some(service), "Total", mine.len() as u64);
        g.harness.get_by_label(&total);
        let expired = mine
            .iter()
            .filter(|c| c.not_after.is_some_and(|t| t < now))
            .count() as u64;
        g.harness
            .get_by_label(&count_label(Some(service), "Expired", expired));
        let unknown = mine.iter().filter(|c| c.not_after.is_none()).count() as u64;
        g.harness
            .get_by_label(&count_label(Some(service), "No expiry", unknown));
    }
    g.harness
        .get_by_label(&count_label(None, "Total", certs.len() as u64));

    // Chart buckets, through the chart-as-a-table cells (one per non-empty bucket and service).
    g.harness.get_by_label("Chart as a table").click();
    g.settle();
    let mut cells = 0;
    for service in Service::ALL {
        let mine: Vec<&SimCertificate> = certs.iter().filter(|c| c.service == service).collect();
        let expired = mine
            .iter()
            .filter(|c| c.not_after.is_some_and(|t| t < now))
            .count();
        if expired > 0 {
            let label = format!(
                "{} {}: {expired}",
                service.label(),
                bucket_name(&o, Bucket::Expired)
            );
            g.harness.get_by_label(&label);
            cells += 1;
        }
        for w in 0..WEEKS {
            let n = mine
                .iter()
                .filter(|c| c.not_after.and_then(|t| week_of(t, now)) == Some(w as i64))
                .count();
            if n > 0 {
                let label = format!(
                    "{} {}: {n}",
                    service.label(),
                    bucket_name(&o, Bucket::Week(w))
                );
                g.harness.get_by_label(&label);
                cells += 1;
            }
        }
    }
    assert!(cells >= 5, "only {cells} non-empty chart cells");

    // The soonest list: the 50 earliest expiries still ahead, soonest first.
    let mut ahead: Vec<i64> = certs
        .iter()
        .filter_map(|c| c.not_after)
        .filter(|&t| t >= now)
        .collect();
    ahead.sort();
    ahead.truncate(50);
    let listed: Vec<i64> = o.soonest.iter().map(|e| e.not_after).collect();
    assert_eq!(listed, ahead);
    for e in &o.soonest {
        let c = certs.iter().find(|c| c.id == e.id).unwrap();
        assert_eq!(c.not_after, Some(e.not_after), "{}", e.id);
        assert_eq!(key_of(c), e.key);
    }
    // A list row: its tab opens filtered to its week, the row selected under the cursor.
    let first = o.soonest[0].clone();
    g.harness
        .get_all_by_label(&first.name)
        .next()
        .unwrap()
        .click();
    g.settle();
    let ExpiryFilter::Between { from, to } = g.expiry_filter(first.key) else {
        panic!("{:?}", g.expiry_filter(first.key));
    };
    assert_eq!(
        (to - from, (from - now) % WEEK),
        (WEEK, 0),
        "a week of the chart"
    );
    assert!(from <= first.not_after && first.not_after < to);
    assert_eq!(g.shown(first.key), ids_between(&certs, first.key, from, to));
    {
        let p = &g.app().inventory.panes[&first.key];
        let cursor = p.table.cursor.unwrap();
        assert_eq!(p.inventory.id(cursor), first.id);
        assert_eq!(p.table.selection.len(), 1);
        assert!(p.table.cursor_pos.is_some(), "the row is shown");
    }
    let expected_tab = match first.key.service {
        Service::Kms => Tab::Kms,
        Service::Pca | Service::Esa => Tab::ClientCertificates,
        Service::Vod | Service::Cdn => Tab::CdnDomains,
        Service::Iotda => Tab::IotDevices,
        other => panic!("the overview never shows {other:?} rows"),
    };
    assert_eq!(g.app().tab, expected_tab);

    // A chart cell: the IoT week with the most rows (counted here).
    g.harness.get_by_label("Overview").click();
    g.settle();
    let iot = PaneKey::service(Service::Iotda);
    let (week, n) = (0..WEEKS as i64)
        .map(|w| {
            let n = certs
                .iter()
                .filter(|c| c.service == Service::Iotda)
                .filter(|c| c.not_after.and_then(|t| week_of(t, now)) == Some(w))
                .count();
            (w, n)
        })
        .max_by_key(|&(w, n)| (n, -w))
        .unwrap();
    assert!(n > 0);
    let label = format!(
        "IoTDA {}: {n}",
        bucket_name(&o, Bucket::Week(week as usize))
    );
    g.harness.get_by_label(&label).click();
    g.settle();
    assert_eq!(g.app().tab, Tab::IotDevices);
    let from = now + week * WEEK;
    let expected = ids_between(&certs, iot, from, from + WEEK);
    assert_eq!(expected.len(), n);
    assert_eq!(g.shown(iot), expected);
    // "Select all filtered" from there selects exactly those.
    g.harness.get_by_label("Select all filtered").click();
    g.settle();
    assert_eq!(g.app().inventory.panes[&iot].table.selection.len(), n);

    // A bar: the expired group, clicked with the pointer in the middle of a service's segment.
    g.harness.get_by_label("Overview").click();
    g.settle();
    let (service, key) = Service::ALL
        .iter()
        .filter_map(|&s| {
            let expired: Vec<&SimCertificate> = certs
                .iter()
                .filter(|c| c.service == s && c.not_after.is_some_and(|t| t < now))
                .collect();
            (!expired.is_empty() && s != Service::Esa).then(|| (s, key_of(expired[0])))
        })
        .next()
        .expect("some service has expired certificates");
    let transform = overview::chart_transform(&g.harness.ctx).unwrap();
    let point = overview::segment_center(&o, Bucket::Expired, service).unwrap();
    let pos = transform.position_from_point(&point);
    g.harness.hover_at(pos);
    g.harness.run_steps(1);
    for pressed in [true, false] {
        g.harness.event(egui::Event::PointerButton {
            pos,
            button: egui::PointerButton::Primary,
            pressed,
            modifiers: egui::Modifiers::NONE,
        });
        g.harness.step();
    }
    g.settle();
    assert_ne!(g.app().tab, Tab::Overview, "the bar click opened a tab");
    assert_eq!(
        g.expiry_filter(key),
        ExpiryFilter::Between {
            from: i64::MIN,
            to: now
        }
    );
    assert_eq!(g.shown(key), ids_between(&certs, key, i64::MIN, now));
    if service == Service::Pca {
        assert_eq!(g.app().client_section, ClientSection::PrivateCa);
    }
    g.harness.check_accessibility();
}

#[test]
fn thresholds_are_saved_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let profiles = ProfilesConfig {
        path: dir.path().join("profiles.toml"),
        keyring: Arc::new(certdesk::profiles::MemoryKeyring::new()),
        transport: Transport::new().unwrap(),
    };
    let open = || {
        AppState::new(AppConfig {
            source: Arc::new(certdesk::app::fake::FakeSource::default()),
            workspace: Workspace::single("t", false, "test"),
            store: None,
            runtime: runtime.handle().clone(),
            auto_refresh: false,
            profiles: Some(profiles.clone()),
        })
    };
    let mut first = open();
    assert_eq!(first.overview.thresholds, Thresholds::default());
    let t = Thresholds {
        warning_days: 60,
        critical_days: 14,
    };
    first.apply(Action::SetThresholds(t));
    assert!(first.wait_idle(Duration::from_secs(10)));
    assert!(first.notices.is_empty(), "{:?}", first.notices);
    let second = open();
    assert_eq!(second.overview.thresholds, t);
}
