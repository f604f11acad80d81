//! One change, one word: every change kind made from each entry point — a status button in the
//! window, a bulk job from the window, a single CLI command, a CLI bulk job — against the same
//! simulator and into the same audit log, which then names each change with the same code
//! (`model::Change`) whoever started it.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod sim_support;

use certdesk::app::bulk::BulkAction;
use certdesk::app::view::StatusFilter;
use certdesk::app::workspace::demo_state;
use certdesk::app::{Action, AppState, ClickMods, ClientSection, PaneKey, Tab};
use certdesk::cloud::Transport;
use certdesk::model::{CertStatus, Change, Service};
use certdesk::sim::{self, RunningSimulator, SimOptions, SimService};
use certdesk::store::Store;
use certdesk::store::journal::Journal;
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Where a change was started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Entry {
    Button,
    WindowBulk,
    Cli,
    CliBulk,
}

struct Window {
    state: AppState,
}

impl Window {
    fn act(&mut self, action: Action) {
        self.state.apply(action);
        assert!(
            self.state.wait_idle(Duration::from_secs(60)),
            "background work did not finish"
        );
    }

    /// The provider id of the first shown row of `key` in `status`, and its position in the view.
    fn first(&mut self, key: PaneKey, status: CertStatus) -> (usize, String) {
        self.act(Action::SetStatusFilter(key, StatusFilter::Only(status)));
        let pane = &self.state.inventory.panes[&key];
        let row = *pane.table.index.first().unwrap_or_else(|| {
            panic!("no {status:?} row in {key:?}");
        });
        (0, pane.inventory.id(row).to_string())
    }

    /// Presses a status button on the row `id` of `key` and confirms it.
    fn button(&mut self, key: PaneKey, id: &str, change: Change) {
        self.act(Action::SetStatusFilter(key, StatusFilter::Any));
        let pane = &self.state.inventory.panes[&key];
        let row = pane.inventory.find(id).unwrap();
        assert!(
            Change::offered(key.service, pane.inventory.status(row)).contains(&change),
            "{change:?} is not offered for {id}"
        );
        self.act(Action::RequestChange(key, row, change));
        self.act(Action::ConfirmChange);
    }

    /// Runs `change` as a bulk job on the first shown row of `key` in `status`; returns its id.
    fn bulk(&mut self, key: PaneKey, status: CertStatus, change: Change) -> String {
        let (pos, id) = self.first(key, status);
        self.act(Action::ClickRow(key, pos, ClickMods::default()));
        self.act(Action::Bulk(BulkAction::Open(key, change)));
        self.act(Action::Bulk(BulkAction::SetTyped("1".into())));
        self.act(Action::Bulk(BulkAction::Start));
        let dialog = self.state.bulk.dialog.as_ref().unwrap();
        let progress = dialog.progress.as_ref().unwrap();
        assert_eq!(
            progress.applied, 1,
            "{change:?} on {id}: {:?}",
            dialog.results
        );
        self.act(Action::Bulk(BulkAction::Close));
        self.act(Action::SetStatusFilter(key, StatusFilter::Any));
        id
    }
}

fn cli(sim: &RunningSimulator, data_dir: &Path, args: &[&str]) {
    let out = sim_support::certdesk_cli(&sim.endpoint(), data_dir)
        .env("HUAWEICLOUD_SDK_AK", sim::DEMO_HUAWEI_AK)
        .env("HUAWEICLOUD_SDK_SK", sim::DEMO_HUAWEI_SK)
        .env("HUAWEICLOUD_SDK_PROJECT_ID", sim::DEMO_HUAWEI_PROJECT_ID)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "certdesk {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn iot_args<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let mut all = vec![
        "--region",
        sim::DEMO_HUAWEI_REGION,
        "--instance-id",
        sim::DEMO_IOTDA_INSTANCE_ID,
        "iot",
    ];
    all.extend_from_slice(args);
    all
}

/// A certificate and key for `domain`, self-signed, valid now.
fn certificate_for(domain: &str, dir: &Path) -> (String, String) {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec![domain.to_string()]).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, domain);
    let cert = params.self_signed(&key).unwrap();
    let (c, k) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&c, cert.pem()).unwrap();
    std::fs::write(&k, key.serialize_pem()).unwrap();
    (
        c.to_str().unwrap().to_string(),
        k.to_str().unwrap().to_string(),
    )
}

#[test]
fn the_same_change_reads_the_same_from_a_button_a_bulk_job_and_the_cli() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let sim = runtime
        .block_on(sim::start(SimOptions {
            rate_limit: false,
            ..SimOptions::default()
        }))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let journal = Arc::new(Mutex::new(
        Journal::open(&dir.path().join("certdesk.sqlite3")).unwrap(),
    ));
    let store = Arc::new(Mutex::new(Store::open_in_memory().unwrap()));
    let transport = Transport::new().unwrap();
    let mut state = demo_state(&sim, Some(store), &transport, runtime.handle(), None);
    state.set_journal(Arc::clone(&journal));
    let mut w = Window { state };
    let mut expected: BTreeSet<(Entry, Service, String, Change)> = BTreeSet::new();

    // Status buttons, every change each service offers.
    let kms = PaneKey::service(Service::Kms);
    let pca = PaneKey::service(Service::Pca);
    let vod = PaneKey::service(Service::Vod);
    let iot = PaneKey::service(Service::Iotda);
    w.act(Action::SelectTab(Tab::Kms));
    let (_, k1) = w.first(kms, CertStatus::Active);
    for change in [Change::Disable, Change::Enable, Change::Revoke] {
        w.button(kms, &k1, change);
        expected.insert((Entry::Button, Service::Kms, k1.clone(), change));
    }
    w.act(Action::SelectTab(Tab::ClientCertificates));
    let (_, p1) = w.first(pca, CertStatus::Active);
    w.button(pca, &p1, Change::Revoke);
    expected.insert((Entry::Button, Service::Pca, p1, Change::Revoke));
    w.act(Action::SelectClientSection(ClientSection::Esa));
    let site = w.state.inventory.esa.selected.unwrap();
    let esa = PaneKey::esa(site);
    let (_, e1) = w.first(esa, CertStatus::Active);
    for change in [Change::Revoke, Change::Activate] {
        w.button(esa, &e1, change);
        expected.insert((Entry::Button, Service::Esa, e1.clone(), change));
    }
    w.act(Action::SelectClientSection(ClientSection::PrivateCa));
    w.act(Action::SelectTab(Tab::CdnDomains));
    let (_, d1) = w.first(vod, CertStatus::Active);
    w.button(vod, &d1, Change::HttpsOff);
    expected.insert((Entry::Button, Service::Vod, d1.clone(), Change::HttpsOff));
    w.act(Action::SelectTab(Tab::IotDevices));
    let (_, i1) = w.first(iot, CertStatus::Active);
    for change in [Change::Disable, Change::Enable, Change::Delete] {
        w.button(iot, &i1, change);
        expected.insert((Entry::Button, Service::Iotda, i1.clone(), change));
    }

    // Bulk jobs from the window, every bulk change each service offers.
    let jobs: [(Tab, PaneKey, CertStatus, Change); 8] = [
        (Tab::Kms, kms, CertStatus::Active, Change::Disable),
        (Tab::Kms, kms, CertStatus::Inactive, Change::Enable),
        (Tab::Kms, kms, CertStatus::Active, Change::Revoke),
        (
            Tab::ClientCertificates,
            pca,
            CertStatus::Active,
            Change::Revoke,
        ),
        (
            Tab::ClientCertificates,
            esa,
            CertStatus::Active,
            Change::Revoke,
        ),
        (
            Tab::ClientCertificates,
            esa,
            CertStatus::Revoked,
            Change::Activate,
        ),
        (Tab::IotDevices, iot, CertStatus::Active, Change::Disable),
        (Tab::IotDevices, iot, CertStatus::Inactive, Change::Enable),
    ];
    for (tab, key, status, change) in jobs {
        w.act(Action::SelectTab(tab));
        if key.service == Service::Esa {
            w.act(Action::SelectClientSection(ClientSection::Esa));
        } else if tab == Tab::ClientCertificates {
            w.act(Action::SelectClientSection(ClientSection::PrivateCa));
        }
        let id = w.bulk(key, status, change);
        expected.insert((Entry::WindowBulk, key.service, id, change));
    }

    // The command line: single changes of every kind it has, then bulk jobs.
    let data = dir.path();
    let kms_ids = sim.kms_certificate_ids();
    let k2 = kms_ids
        .iter()
        .find(|id| sim.kms_status(id).as_deref() == Some("ACTIVE"))
        .unwrap()
        .clone();
    for (status, change) in [
        ("INACTIVE", Change::Disable),
        ("ACTIVE", Change::Enable),
        ("REVOKED", Change::Revoke),
    ] {
        cli(&sim, data, &["kms", "set-status", &k2, "--status", status]);
        expected.insert((Entry::Cli, Service::Kms, k2.clone(), change));
    }
    let certs = sim.certificates();
    let pca_active = |skip: usize| {
        certs
            .iter()
            .filter(|c| c.service == SimService::Pca)
            .filter(|c| sim.pca_status(&c.id).as_deref() == Some("ISSUE"))
            .nth(skip)
            .unwrap()
            .id
            .clone()
    };
    let p2 = pca_active(0);
    cli(&sim, data, &["pca", "revoke", &p2]);
    expected.insert((Entry::Cli, Service::Pca, p2, Change::Revoke));
    let e2 = certs
        .iter()
        .find(|c| {
            c.service == SimService::Esa
                && c.site_id == Some(site)
                && sim.esa_status(site, &c.id).as_deref() == Some("active")
        })
        .unwrap()
        .id
        .clone();
    let site_text = site.to_string();
    for (verb, change) in [("revoke", Change::Revoke), ("activate", Change::Activate)] {
        cli(&sim, data, &["esa", verb, "--site", &site_text, &e2]);
        expected.insert((Entry::Cli, Service::Esa, e2.clone(), change));
    }
    let domain = d1.clone();
    let (cert, key) = certificate_for(&domain, data);
    for (args, change) in [
        (
            vec!["--ssl", "on", "--cert", &cert, "--key", &key],
            Change::SetCertificate,
        ),
        (vec!["--ssl", "off"], Change::HttpsOff),
    ] {
        let mut all = vec!["vod", "set-cert", domain.as_str()];
        all.extend(args);
        cli(&sim, data, &all);
        expected.insert((Entry::Cli, Service::Vod, domain.clone(), change));
    }
    let i2 = certs
        .iter()
        .find(|c| {
            c.service == SimService::Iotda && sim.iotda_status(&c.id).as_deref() == Some("ACTIVE")
        })
        .unwrap()
        .id
        .clone();
    for (args, change) in [
        (
            vec!["set-status", i2.as_str(), "--status", "INACTIVE"],
            Change::Disable,
        ),
        (
            vec!["set-status", i2.as_str(), "--status", "ACTIVE"],
            Change::Enable,
        ),
        (vec!["delete", i2.as_str()], Change::Delete),
    ] {
        cli(&sim, data, &iot_args(&args));
        expected.insert((Entry::Cli, Service::Iotda, i2.clone(), change));
    }
    let ids_file = data.join("ids.txt");
    let p3 = pca_active(1);
    std::fs::write(&ids_file, format!("{p3}\n")).unwrap();
    cli(
        &sim,
        data,
        &[
            "bulk",
            "revoke",
            "--target",
            "pca",
            "--ids-from",
            ids_file.to_str().unwrap(),
            "--yes",
        ],
    );
    expected.insert((Entry::CliBulk, Service::Pca, p3, Change::Revoke));
    let k3 = kms_ids
        .iter()
        .find(|id| sim.kms_status(id).as_deref() == Some("ACTIVE"))
        .unwrap()
        .clone();
    std::fs::write(&ids_file, format!("{k3}\n")).unwrap();
    for (verb, change) in [("disable", Change::Disable), ("enable", Change::Enable)] {
        cli(
            &sim,
            data,
            &[
                "bulk",
                verb,
                "--target",
                "kms",
                "--ids-from",
                ids_file.to_str().unwrap(),
                "--yes",
            ],
        );
        expected.insert((Entry::CliBulk, Service::Kms, k3.clone(), change));
    }

    let e3 = certs
        .iter()
        .find(|c| {
            c.service == SimService::Esa
                && c.site_id == Some(site)
                && sim.esa_status(site, &c.id).as_deref() == Some("revoked")
        })
        .unwrap()
        .id
        .clone();
    std::fs::write(&ids_file, format!("{e3}\n")).unwrap();
    cli(
        &sim,
        data,
        &[
            "bulk",
            "activate",
            "--target",
            "esa",
            "--site",
            &site_text,
            "--ids-from",
            ids_file.to_str().unwrap(),
            "--yes",
        ],
    );
    expected.insert((Entry::CliBulk, Service::Esa, e3, Change::Activate));

    // What the audit log says: one row per change, under the change's own word.
    let audit = journal.lock().unwrap().audit(None).unwrap();
    let recorded: BTreeSet<(Entry, Service, String, Change)> = audit
        .iter()
        .map(|e| {
            let entry = match (e.profile.as_str(), e.job_id.is_some()) {
                ("demo", false) => Entry::Button,
                ("demo", true) => Entry::WindowBulk,
                ("env", false) => Entry::Cli,
                ("env", true) => Entry::CliBulk,
                (other, _) => panic!("unexpected principal {other}"),
            };
            (entry, e.service, e.target.clone(), e.operation)
        })
        .collect();
    assert_eq!(audit.len(), expected.len(), "{audit:#?}");
    assert_eq!(recorded, expected);
    // Every change kind that more than one entry point can start was recorded the same way by
    // each (the enum is the word; this checks the stored text too).
    let conn = rusqlite::Connection::open(dir.path().join("certdesk.sqlite3")).unwrap();
    let mut stmt = conn
        .prepare("SELECT DISTINCT operation FROM audit ORDER BY operation")
        .unwrap();
    let words: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let codes: BTreeSet<&str> = expected.iter().map(|(_, _, _, c)| c.as_str()).collect();
    assert_eq!(
        words.iter().map(String::as_str).collect::<BTreeSet<_>>(),
        codes
    );
    for change in [
        Change::Revoke,
        Change::Disable,
        Change::Enable,
        Change::Activate,
    ] {
        let entries: BTreeSet<Entry> = expected
            .iter()
            .filter(|(_, _, _, c)| *c == change)
            .map(|(e, ..)| *e)
            .collect();
        assert_eq!(entries.len(), 4, "{change:?} from every entry point");
    }
    runtime.block_on(sim.shutdown());
}
