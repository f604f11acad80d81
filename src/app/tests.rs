//! App logic over the in-memory fake source: no window, no network.

use super::fake::{FAKE_PAGE_SIZE, FakeSource, app_over, fake_error};
use super::*;
use crate::model::CertStatus;
use crate::model::{Change, Error, ErrorKind};
use crate::store::CacheKey;
use std::time::Duration;

struct Rig {
    _runtime: tokio::runtime::Runtime,
    fake: FakeSource,
    store: Arc<Mutex<Store>>,
    app: AppState,
}

fn rig_with(fake: FakeSource, store: Arc<Mutex<Store>>) -> Rig {
    let (runtime, mut app) = app_over(
        fake.clone(),
        Workspace::single("test", false, "fake"),
        Some(Arc::clone(&store)),
        true,
    );
    // These tests are about one tab at a time: start where the Overview (which fetches every
    // inventory) is not shown.
    app.tab = Tab::Kms;
    let mut rig = Rig {
        _runtime: runtime,
        fake,
        store,
        app,
    };
    rig.settle();
    rig
}

fn rig(rows: usize) -> Rig {
    rig_with(
        FakeSource::generated(rows),
        Arc::new(Mutex::new(Store::open_in_memory().unwrap())),
    )
}

impl Rig {
    fn settle(&mut self) {
        assert!(
            self.app.wait_idle(Duration::from_secs(30)),
            "background work did not finish"
        );
    }

    fn act(&mut self, action: Action) {
        self.app.apply(action);
        self.settle();
    }

    fn pane(&self, service: Service) -> &Pane {
        &self.app.inventory.panes[&PaneKey::service(service)]
    }

    fn shown_ids(&self, key: PaneKey) -> Vec<String> {
        let p = &self.app.inventory.panes[&key];
        p.table
            .index
            .iter()
            .map(|&r| p.inventory.id(r).to_string())
            .collect()
    }
}

const IOT: PaneKey = PaneKey {
    service: Service::Iotda,
    site_id: None,
};

#[test]
fn an_estate_without_esa_sites_asks_for_them_once() {
    let fake = FakeSource::generated(10);
    fake.without_esa_sites();
    let mut r = rig_with(fake, Arc::new(Mutex::new(Store::open_in_memory().unwrap())));
    r.act(Action::SelectTab(Tab::Overview));
    for _ in 0..5 {
        r.app.ensure_loaded();
        r.settle();
    }
    let asked = r.fake.calls().iter().filter(|c| *c == "esa sites").count();
    assert_eq!(asked, 1, "ListSites once, not on every frame");
    assert!(r.app.inventory.esa.sites.is_empty());
}

#[test]
fn opening_a_tab_fetches_every_page_and_filters() {
    let mut r = rig(120);
    r.act(Action::SelectTab(Tab::IotDevices));
    let p = r.pane(Service::Iotda);
    assert_eq!(p.inventory.len(), 120);
    assert_eq!(p.table.index.len(), 120);
    assert_eq!(p.load(), LoadState::Idle);
    assert!(!p.stale());
    let lists = r
        .fake
        .calls()
        .iter()
        .filter(|c| c.starts_with("list Iotda"))
        .count();
    assert_eq!(
        lists,
        120usize.div_ceil(FAKE_PAGE_SIZE),
        "one call per page"
    );

    r.act(Action::SetFilterText(IOT, "DEVICE-0001".into()));
    assert_eq!(r.shown_ids(IOT).len(), 10, "device-00010..=00019");
    r.act(Action::SetStatusFilter(
        IOT,
        StatusFilter::Only(CertStatus::Inactive),
    ));
    let shown = r.shown_ids(IOT);
    assert!(!shown.is_empty());
    assert!(
        shown
            .iter()
            .all(|id| r.fake.status_of(Service::Iotda, id) == Some(CertStatus::Inactive))
    );
    r.act(Action::SetFilterText(IOT, String::new()));
    r.act(Action::SetStatusFilter(IOT, StatusFilter::Any));
    r.act(Action::SortBy(IOT, SortColumn::Name));
    assert_eq!(
        r.shown_ids(IOT)[0],
        "iotda-000119",
        "same column again: descending"
    );
}

#[test]
fn a_failed_page_shows_the_error_and_retry_continues_from_it() {
    let mut r = rig(120);
    r.act(Action::SelectTab(Tab::IotDevices));
    let mut throttled = fake_error(
        Service::Iotda,
        "Throttling.User",
        "Request was denied due to user flow control.",
        400,
        ErrorKind::Throttled,
    );
    throttled.request_id = Some("RID-42".into());
    r.fake.fail_next_page(throttled);
    r.act(Action::Refresh(IOT));
    let LoadState::Failed { error, at, .. } = &r.pane(Service::Iotda).load() else {
        panic!(
            "expected a failure, got {:?}",
            r.pane(Service::Iotda).load()
        );
    };
    assert_eq!(error.request_id.as_deref(), Some("RID-42"));
    assert_eq!(at, "first page");
    // The rows of the last good fetch stay on screen.
    assert_eq!(r.pane(Service::Iotda).table.index.len(), 120);

    let before = r.fake.calls().len();
    r.act(Action::RetryFetch(IOT));
    assert_eq!(r.pane(Service::Iotda).load(), LoadState::Idle);
    assert_eq!(r.pane(Service::Iotda).inventory.len(), 120);
    let retried: Vec<String> = r.fake.calls()[before..].to_vec();
    assert_eq!(
        retried.first().map(String::as_str),
        Some("list Iotda first page")
    );
    assert_eq!(retried.len(), 3);
}

#[test]
fn a_frozen_overview_clock_counts_at_that_time_and_only_once() {
    let mut r = rig(120);
    r.act(Action::SelectTab(Tab::IotDevices));
    let iot = overview::service_index(Service::Iotda);
    let live = r.app.overview.current.clone().unwrap();
    assert!(
        (live.now - now_unix()).abs() < 60,
        "counted at the system clock"
    );
    // fake_row: expiries 30 days before 1_700_000_000 to 89 days after; all past today.
    assert_eq!(live.expired[iot], 120);

    r.app.overview.freeze_clock(1_700_000_000);
    r.app.poll();
    let frozen = r.app.overview.current.clone().unwrap();
    assert_eq!(frozen.now, 1_700_000_000);
    assert_eq!(frozen.expired[iot], 30, "rows 0..30 expired before then");
    r.app.poll();
    let again = r.app.overview.current.clone().unwrap();
    assert!(
        Arc::ptr_eq(&frozen, &again),
        "a frozen clock is never stale"
    );
}

/// The Overview after the next listing recount (they are at most every `LISTING_REFRESH`).
fn overview_after_listing_refresh(r: &mut Rig) -> Arc<overview::Overview> {
    std::thread::sleep(overview::LISTING_REFRESH + Duration::from_millis(50));
    r.app.poll();
    r.app.overview.current.clone().expect("an overview")
}

#[test]
fn the_overview_counts_a_first_walk_page_by_page_and_a_refresh_only_when_done() {
    let mut r = rig(300); // six IoTDA pages
    r.fake.fail_list_call_after(
        3,
        Error::local(
            Service::Iotda,
            "ConnectionError",
            "connection reset",
            ErrorKind::Transient,
        ),
    );
    r.act(Action::SelectTab(Tab::IotDevices));
    assert!(matches!(
        r.pane(Service::Iotda).load(),
        LoadState::Failed { pages: 3, .. }
    ));
    assert!(r.pane(Service::Iotda).inventory.is_empty(), "no table yet");
    let o = overview_after_listing_refresh(&mut r);
    // fake_row: IoTDA rows with n % 4 == 3 are INACTIVE; rows 0..150 were listed.
    assert_eq!(o.service_total(Service::Iotda), 150);
    assert_eq!(o.count(Service::Iotda, CertStatus::Inactive), 37);
    assert_eq!(o.count(Service::Iotda, CertStatus::Active), 113);

    // The resumed walk continues the same listing, then the finished inventory takes over.
    r.act(Action::RetryFetch(IOT));
    assert_eq!(r.pane(Service::Iotda).inventory.len(), 300);
    assert!(
        r.pane(Service::Iotda)
            .parts
            .values()
            .all(|p| p.listed.is_none())
    );
    let o = r.app.overview.current.clone().unwrap();
    assert_eq!(o.service_total(Service::Iotda), 300);

    // A refresh over rows already shown keeps counting those until it completes.
    r.fake.fail_list_call_after(
        1,
        Error::local(
            Service::Iotda,
            "ConnectionError",
            "connection reset",
            ErrorKind::Transient,
        ),
    );
    r.act(Action::Refresh(IOT));
    assert!(matches!(
        r.pane(Service::Iotda).load(),
        LoadState::Failed { pages: 1, .. }
    ));
    assert_eq!(
        overview_after_listing_refresh(&mut r).service_total(Service::Iotda),
        300
    );
}

#[test]
fn the_app_does_not_retry_a_failed_page_the_transport_already_retried() {
    let mut r = rig(60);
    // What a source returns is final: the transport retried throttling already (one place,
    // `cloud::retry`); a second loop here would multiply the requests of one page.
    r.fake.fail_next_page(fake_error(
        Service::Iotda,
        "Throttling.User",
        "Request was denied due to user flow control.",
        400,
        ErrorKind::Throttled,
    ));
    r.act(Action::SelectTab(Tab::IotDevices));
    assert!(
        matches!(r.pane(Service::Iotda).load(), LoadState::Failed { .. }),
        "{:?}",
        r.pane(Service::Iotda).load()
    );
    let first_page_calls = r
        .fake
        .calls()
        .iter()
        .filter(|c| *c == "list Iotda first page")
        .count();
    assert_eq!(first_page_calls, 1, "the page was asked once");
    r.act(Action::RetryFetch(IOT));
    assert_eq!(r.pane(Service::Iotda).inventory.len(), 60);
}

#[test]
fn a_page_failing_mid_walk_resumes_at_that_page() {
    let mut r = rig(120);
    r.fake.fail_list_call_after(
        1,
        Error::local(
            Service::Iotda,
            "ConnectionError",
            "connection reset",
            ErrorKind::Transient,
        ),
    );
    r.act(Action::SelectTab(Tab::IotDevices));
    match &r.pane(Service::Iotda).load() {
        LoadState::Failed {
            at, pages, rows, ..
        } => {
            assert_eq!(
                (at.as_str(), *pages, *rows),
                ("page after marker 1", 1, FAKE_PAGE_SIZE as u64)
            );
        }
        other => panic!("{other:?}"),
    }
    let before = r.fake.calls().len();
    r.act(Action::RetryFetch(IOT));
    assert_eq!(r.pane(Service::Iotda).inventory.len(), 120);
    assert_eq!(
        r.fake.calls()[before..],
        [
            "list Iotda page after marker 1",
            "list Iotda page after marker 2"
        ],
        "page 1 is not fetched again"
    );
}

#[test]
fn confirmed_status_change_reaches_the_source_and_the_row() {
    let mut r = rig(20);
    r.act(Action::SelectTab(Tab::IotDevices));
    r.act(Action::SortBy(IOT, SortColumn::Id));
    r.act(Action::ClickRow(IOT, 0, ClickMods::default()));
    let row = r.pane(Service::Iotda).table.cursor.unwrap();
    let id = r.pane(Service::Iotda).inventory.id(row).to_string();
    assert_eq!(
        r.fake.status_of(Service::Iotda, &id),
        Some(CertStatus::Active)
    );

    r.act(Action::RequestChange(IOT, row, Change::Disable));
    assert_eq!(
        r.app.changes.confirm.as_ref().map(|c| c.id.as_str()),
        Some(id.as_str())
    );
    assert_eq!(
        r.fake.status_of(Service::Iotda, &id),
        Some(CertStatus::Active),
        "nothing before confirming"
    );
    r.act(Action::ConfirmChange);
    assert!(r.app.changes.confirm.is_none());
    assert_eq!(
        r.fake.status_of(Service::Iotda, &id),
        Some(CertStatus::Inactive)
    );
    let p = r.pane(Service::Iotda);
    assert_eq!(p.inventory.status(row), CertStatus::Inactive);
    assert_eq!(p.inventory.raw_status(row), "INACTIVE");
    assert!(matches!(p.notes.get(&id), Some(RowNote::Done { .. })));
    // The cache has the new status too.
    let mut cached = None;
    r.store
        .lock()
        .unwrap()
        .load_inventory(&CacheKey::new("test@cn-north-4", Service::Iotda), |rec| {
            if rec.id == id {
                cached = Some(rec.status);
            }
        })
        .unwrap();
    assert_eq!(cached, Some(CertStatus::Inactive));

    // Delete hides the row.
    r.act(Action::RequestChange(IOT, row, Change::Delete));
    r.act(Action::ConfirmChange);
    assert_eq!(r.fake.status_of(Service::Iotda, &id), None);
    assert!(!r.shown_ids(IOT).contains(&id));
}

#[test]
fn a_failed_change_is_shown_in_place() {
    let mut r = rig(5);
    r.act(Action::SelectTab(Tab::IotDevices));
    r.act(Action::ClickRow(IOT, 0, ClickMods::default()));
    let row = r.pane(Service::Iotda).table.cursor.unwrap();
    let id = r.pane(Service::Iotda).inventory.id(row).to_string();
    // Deleted behind certdesk's back: the change must fail with the provider's 404.
    let gone = crate::jobs::BulkItem {
        service: Service::Iotda,
        id: id.clone(),
        site_id: None,
        name: String::new(),
    };
    let _already_applied = futures_util::FutureExt::now_or_never(crate::jobs::Backend::apply(
        &r.fake,
        &gone,
        &Change::Delete.into(),
    ));
    r.act(Action::RequestChange(IOT, row, Change::Disable));
    r.act(Action::ConfirmChange);
    match r.pane(Service::Iotda).notes.get(&id) {
        Some(RowNote::Failed { error, .. }) => assert_eq!(error.http_status, Some(404)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_next_start_shows_the_cache_at_once_marked_stale() {
    let store = Arc::new(Mutex::new(Store::open_in_memory().unwrap()));
    let mut first = rig_with(FakeSource::generated(30), Arc::clone(&store));
    first.act(Action::SelectTab(Tab::IotDevices));
    drop(first);

    // A source with nothing: whatever shows must come from the cache.
    let second = rig_with(FakeSource::default(), store);
    let p = second.pane(Service::Iotda);
    assert_eq!(p.inventory.len(), 30);
    assert_eq!(p.table.index.len(), 30);
    assert!(p.stale());
    assert!(p.fetched_at().is_some());
    assert!(
        !p.refreshed_once(),
        "the IoT tab is not shown, so no fetch yet"
    );
}

#[test]
fn kms_ids_pasted_are_described_and_remembered() {
    let mut r = rig(8);
    let ids = r.fake.kms_ids();
    r.act(Action::SelectTab(Tab::Kms));
    assert_eq!(
        r.pane(Service::Kms).inventory.len(),
        0,
        "no known ids: nothing to describe"
    );
    r.act(Action::SetKmsPaste(format!(
        "{}\n{}, {}",
        ids[0], ids[1], ids[1]
    )));
    r.act(Action::AddKmsIds);
    assert_eq!(
        r.app
            .kms
            .known_ids
            .values()
            .flat_map(|i| i.iter())
            .cloned()
            .collect::<Vec<_>>(),
        [ids[0].clone(), ids[1].clone()]
    );
    assert_eq!(r.pane(Service::Kms).inventory.len(), 2);
    assert_eq!(
        r.store
            .lock()
            .unwrap()
            .kms_ids("test@cn-hangzhou")
            .unwrap()
            .len(),
        2
    );

    r.act(Action::ForgetKmsId(ids[0].clone()));
    assert_eq!(
        r.shown_ids(PaneKey::service(Service::Kms)),
        [ids[1].clone()]
    );
    assert_eq!(
        r.store.lock().unwrap().kms_ids("test@cn-hangzhou").unwrap(),
        [ids[1].clone()]
    );
}

#[test]
fn kms_create_validates_then_returns_the_csr_and_knows_the_id() {
    let mut r = rig(0);
    r.act(Action::CreateKmsCertificate);
    assert_eq!(r.app.kms.form_error.as_deref(), Some("fill in O, OU, CN"));
    let form = KmsCreateForm {
        organization: "Example".into(),
        unit: "Ops".into(),
        common_name: "svc.example.com".into(),
        sans: "a.example.com, b.example.com".into(),
        ..KmsCreateForm::default()
    };
    assert_eq!(
        form.request().unwrap().subject,
        "C=CN,O=Example,OU=Ops,CN=svc.example.com"
    );
    assert_eq!(
        form.request().unwrap().sans,
        ["a.example.com", "b.example.com"]
    );
    r.act(Action::SetKmsForm(form));
    r.act(Action::CreateKmsCertificate);
    let created = r.app.kms.created.clone().unwrap().unwrap();
    assert!(created.csr.contains("BEGIN CERTIFICATE REQUEST"));
    assert!(
        r.app
            .kms
            .known_ids
            .values()
            .any(|i| i.contains(&created.certificate_id))
    );
    assert_eq!(
        r.pane(Service::Kms).inventory.status(0),
        CertStatus::Pending
    );
}

#[test]
fn esa_lists_sites_and_shows_the_first() {
    let mut r = rig(7);
    r.act(Action::SelectTab(Tab::ClientCertificates));
    r.act(Action::SelectClientSection(ClientSection::Esa));
    assert_eq!(r.app.inventory.esa.sites.len(), 2);
    assert_eq!(r.app.inventory.esa.selected, Some(1));
    assert_eq!(r.app.inventory.panes[&PaneKey::esa(1)].inventory.len(), 7);
    r.act(Action::SelectEsaSite(2));
    let ids = r.shown_ids(PaneKey::esa(2));
    assert_eq!(ids.len(), 7);
    assert!(r.app.inventory.panes[&PaneKey::esa(2)].inventory.site_id(0) == Some(2));
}

#[test]
fn pca_statuses_are_refreshed_in_batches() {
    let mut r = rig(120);
    r.act(Action::SelectTab(Tab::ClientCertificates));
    let batches = r
        .fake
        .calls()
        .iter()
        .filter(|c| c.starts_with("pca status"))
        .count();
    assert_eq!(batches, 120usize.div_ceil(inventory::PCA_STATUS_BATCH));
    let p = r.pane(Service::Pca);
    let revoked = (0..p.inventory.len() as u32)
        .filter(|&i| p.inventory.raw_status(i) == "revoked")
        .count();
    let good = (0..p.inventory.len() as u32)
        .filter(|&i| p.inventory.raw_status(i) == "good")
        .count();
    assert_eq!(
        revoked + good,
        120,
        "every status came from DescribeClientCertificateStatus"
    );
}

#[test]
fn large_inventories_are_filtered_off_the_ui_thread() {
    let n = INLINE_VIEW_LIMIT + 500;
    let mut r = rig(n);
    r.act(Action::SelectTab(Tab::IotDevices));
    let p = r.pane(Service::Iotda);
    assert_eq!(p.inventory.len(), n);
    assert_eq!(p.table.index.len(), n);
    assert!(!p.table.view_pending);
    r.app
        .apply(Action::SetFilterText(IOT, "device-0000".into()));
    assert!(
        r.pane(Service::Iotda).table.view_pending,
        "computing on a worker"
    );
    assert_eq!(
        r.pane(Service::Iotda).table.index.len(),
        n,
        "the old rows stay until then"
    );
    r.settle();
    assert_eq!(r.pane(Service::Iotda).table.index.len(), 10);
    r.act(Action::SelectAllFiltered(IOT));
    assert_eq!(r.pane(Service::Iotda).table.selection.len(), 10);
}

#[test]
fn details_come_from_describe_one_call_at_a_time() {
    let mut r = rig(10);
    r.act(Action::SelectTab(Tab::IotDevices));
    r.app
        .apply(Action::MoveCursor(IOT, CursorMove::First, false));
    r.app
        .apply(Action::MoveCursor(IOT, CursorMove::By(1), false));
    r.app
        .apply(Action::MoveCursor(IOT, CursorMove::By(1), false));
    r.settle();
    let describes = r
        .fake
        .calls()
        .iter()
        .filter(|c| c.starts_with("describe"))
        .count();
    assert_eq!(
        describes, 2,
        "the first row, then the row the cursor rests on"
    );
    let entry = r.app.detail_of(IOT).unwrap();
    assert!(!entry.loading);
    assert_eq!(entry.facts, [("Source".to_string(), "fake".to_string())]);
}

#[test]
fn a_kms_fetch_asked_for_before_the_known_ids_are_read_waits_for_them() {
    // The known ids are read from the cache on a worker at start; a fetch asked for before they
    // arrive used to describe no id at all and show an empty KMS tab (a flaky GUI test).
    let fake = FakeSource::generated(8);
    let ids = fake.kms_ids();
    let store = Arc::new(Mutex::new(Store::open_in_memory().unwrap()));
    store
        .lock()
        .unwrap()
        .add_kms_ids("test@cn-hangzhou", &ids[..3], 1)
        .unwrap();
    let (_runtime, mut app) = app_over(
        fake,
        Workspace::single("test", false, "fake"),
        Some(store),
        false,
    );
    // No poll yet, so the ids cannot have arrived: this is the window the race had.
    assert!(app.kms.known_ids.is_empty());
    app.apply(Action::Refresh(PaneKey::service(Service::Kms)));
    assert!(app.wait_idle(Duration::from_secs(30)));
    assert_eq!(app.kms.known_count(), 3);
    assert_eq!(
        app.inventory.panes[&PaneKey::service(Service::Kms)]
            .inventory
            .len(),
        3,
        "every known id described"
    );
}

#[test]
fn find_everywhere_lists_a_fingerprint_checks_it_live_and_opens_its_row() {
    let mut r = rig(120);
    r.act(Action::SelectTab(Tab::Overview));
    let iot = r.pane(Service::Iotda);
    let row = iot.inventory.find("iotda-000042").unwrap();
    let fingerprint = iot.inventory.fingerprint(row).unwrap().to_string();
    // Upper case with colons, as a browser shows it.
    let typed: String = fingerprint
        .to_uppercase()
        .as_bytes()
        .chunks(2)
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect::<Vec<_>>()
        .join(":");
    r.act(Action::Find(find::FindAction::SetText(typed)));
    r.act(Action::Find(find::FindAction::Search));
    let hits = r.app.find.hits.clone().expect("searched");
    // The fake gives row n of every service the same certificate: it is found in each.
    let found: Vec<(Service, &str)> = hits.iter().map(|h| (h.service(), h.id.as_str())).collect();
    assert_eq!(
        found,
        [
            (Service::Pca, "private-ca-000042"),
            (Service::Vod, "vod-cdn-000042"),
            (Service::Iotda, "iotda-000042")
        ]
    );
    assert!(
        hits.iter()
            .all(|h| h.sha256.as_deref() == Some(fingerprint.as_str()))
    );
    let i = 2;
    assert!(
        matches!(r.app.find.live.get(&i), Some(find::LiveCheck::Confirmed(_, s)) if *s == hits[i].status),
        "{:?}",
        r.app.find.live
    );
    assert!(
        r.fake
            .calls()
            .contains(&"describe Iotda iotda-000042".to_string())
    );

    r.act(Action::ShowHit(i));
    assert_eq!(r.app.tab, Tab::IotDevices);
    let p = r.pane(Service::Iotda);
    assert_eq!(r.shown_ids(IOT), ["iotda-000042"]);
    assert_eq!(p.table.cursor, Some(row));
    assert!(
        p.table.selection.contains(row),
        "selected, ready for a bulk action"
    );

    // A name fragment finds rows of several services; nothing is found for junk.
    r.act(Action::Find(find::FindAction::SetText("00007".into())));
    r.act(Action::Find(find::FindAction::Search));
    let services: std::collections::BTreeSet<Service> = r
        .app
        .find
        .hits
        .as_ref()
        .unwrap()
        .iter()
        .map(|h| h.service())
        .collect();
    assert!(services.len() > 1, "{services:?}");
    r.act(Action::Find(find::FindAction::SetText(
        "no-such-thing".into(),
    )));
    r.act(Action::Find(find::FindAction::Search));
    assert_eq!(r.app.find.hits.as_ref().map(Vec::len), Some(0));
}
