//! The estate in the window: the demo over two simulated accounts, each Alibaba Cloud account in
//! two regions and each Huawei Cloud account in two regions, read in parallel into one table per
//! service with Account and Region columns and filter; find-everywhere from the top bar lists a
//! certificate of one account and region and opens its row.
#![allow(clippy::unwrap_used)] // test setup: a failure should panic right there

mod gui_support;

use certdesk::app::workspace::demo_estate_state;
use certdesk::app::{Action, LoadState, PaneKey};
use certdesk::cloud::{HuaweiClientConfig, IotdaClient, Transport};
use certdesk::credentials::HuaweiCredentials;
use certdesk::model::{Provider, Service};
use certdesk::sim::SimOptions;
use certdesk::store::Store;
use eframe::egui::{self, accesskit::Role};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use gui_support::SimGui;
use std::sync::{Arc, Mutex};

fn estate() -> SimGui {
    let options = SimOptions {
        accounts: 2,
        ..SimOptions::default()
    };
    gui_support::start_with(
        options,
        Harness::builder().with_size(egui::vec2(1600.0, 1000.0)),
        |sim, transport, runtime| {
            let store = Arc::new(Mutex::new(Store::open_in_memory().unwrap()));
            demo_estate_state(sim, Some(store), transport, runtime, None)
        },
    )
}

#[test]
fn every_account_and_region_is_one_table_with_account_and_region_columns() {
    let mut g = estate();
    let scopes = g.app().workspace().scopes.clone();
    assert_eq!(
        scopes.len(),
        8,
        "2 accounts × 2 clouds × 2 regions: {scopes:?}"
    );
    g.harness.get_by_label("IoT device certificates").click();
    g.settle();
    let iot = PaneKey::service(Service::Iotda);
    let pane = &g.app().inventory.panes[&iot];
    assert_eq!(pane.parts.len(), 4);
    let mut total = 0;
    for (&id, part) in &pane.parts {
        assert_eq!(part.load, LoadState::Idle, "{:?}", scopes[usize::from(id)]);
        assert!(!part.rows.is_empty(), "{:?}", scopes[usize::from(id)]);
        total += part.rows.len();
    }
    assert_eq!(
        pane.inventory.len(),
        total,
        "every part's rows in the one table"
    );
    g.harness.get_by_label("Account");
    g.harness.get_by_label("Region");

    // One part checked against the cloud itself: account 2 in its second region.
    let (part_id, scope) = scopes
        .iter()
        .enumerate()
        .find(|(_, s)| {
            s.provider == Provider::Huawei && s.profile == "demo-2-iot" && s.region == "cn-east-3"
        })
        .map(|(i, s)| (u16::try_from(i).unwrap(), s.clone()))
        .unwrap();
    let account = g.sim.accounts()[1].clone();
    let project = account
        .huawei_projects
        .iter()
        .find(|p| p.region == scope.region)
        .unwrap()
        .clone();
    let client = IotdaClient::new(
        &Transport::new().unwrap(),
        &HuaweiClientConfig {
            credentials: HuaweiCredentials {
                access_key: account.huawei_ak.clone(),
                secret_key: account.huawei_sk.clone(),
                security_token: None,
            },
            region: scope.region.clone(),
            endpoint: Some(g.sim.endpoint()),
            signing: Default::default(),
            project_id: project.project_id.clone(),
            instance_id: Some(project.instance_id.clone()),
            proxy: Default::default(),
        },
    )
    .unwrap();
    let direct = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(client.list_all(|_, _| {}))
        .unwrap();
    let part_rows = g.app().inventory.panes[&iot].parts[&part_id].rows.len();
    assert_eq!(
        part_rows,
        direct.len(),
        "the part holds exactly that account's region"
    );

    // The Account filter shows that part alone.
    g.harness
        .state_mut()
        .state
        .apply(Action::SetScopeFilter(iot, Some(vec![part_id])));
    g.settle();
    let p = &g.app().inventory.panes[&iot];
    assert_eq!(p.table.index.len(), part_rows);
    assert!(
        p.table
            .index
            .iter()
            .all(|&r| p.inventory.scope(r) == part_id)
    );

    // Find everywhere, typed in the top bar: a fingerprint of that part, upper case.
    let row = p.table.index[0];
    let id = p.inventory.id(row).to_string();
    let fingerprint = p.inventory.fingerprint(row).unwrap().to_uppercase();
    g.harness.get_by_label("Find everywhere:").click();
    g.harness.run_steps(1);
    g.harness
        .get_by_label("Find everywhere:")
        .type_text(&fingerprint);
    g.harness.run_steps(1);
    g.harness.key_press(egui::Key::Enter);
    g.settle();
    let hits = g.app().find.hits.clone().expect("searched");
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!((hits[0].scope, hits[0].id.as_str()), (part_id, id.as_str()));
    g.harness.get_by_label_contains("1 hit(s)");
    // Open it: the IoT tab filtered to the find, the row selected.
    let title = format!("Find “{fingerprint}”");
    let results = g.harness.get_by_role_and_label(Role::Window, &title);
    results.get_by_label(&hits[0].name).click();
    g.settle();
    let p = &g.app().inventory.panes[&iot];
    assert_eq!(p.table.filter.text, fingerprint);
    assert_eq!(p.table.filter.scopes, None);
    assert_eq!(p.table.cursor, Some(row));
}

#[test]
fn a_bulk_change_over_two_accounts_runs_each_item_under_its_own_account() {
    use certdesk::app::bulk::BulkAction;
    use certdesk::app::inventory::ClickMods;
    use certdesk::model::{CertStatus, Change};
    use certdesk::store::journal::AuditResult;

    let mut g = estate();
    g.harness.get_by_label("IoT device certificates").click();
    g.settle();
    let iot = PaneKey::service(Service::Iotda);
    let scopes = g.app().workspace().scopes.clone();
    // One ACTIVE row of each of the four account-regions of the IoT table.
    let picks: Vec<(usize, String, u16)> = {
        let p = &g.app().inventory.panes[&iot];
        let mut picks: Vec<(usize, String, u16)> = Vec::new();
        for (pos, &row) in p.table.index.iter().enumerate() {
            let scope = p.inventory.scope(row);
            if p.inventory.status(row) == CertStatus::Active
                && !picks.iter().any(|(_, _, s)| *s == scope)
            {
                picks.push((pos, p.inventory.id(row).to_string(), scope));
            }
        }
        picks
    };
    assert_eq!(picks.len(), 4, "{picks:?}");
    let app = &mut g.harness.state_mut().state;
    for (pos, _, _) in &picks {
        let toggle = ClickMods {
            toggle: true,
            range: false,
        };
        app.apply(Action::ClickRow(iot, *pos, toggle));
    }
    app.apply(Action::Bulk(BulkAction::Open(iot, Change::Disable)));
    g.harness.run_steps(2);

    // The confirmation lists one line per account and region, each with its own signer.
    let d = g.app().bulk.dialog.clone().unwrap();
    assert_eq!(d.items.len(), 4);
    assert_eq!(d.groups.len(), 4, "{:?}", d.groups);
    assert!(d.groups.iter().all(|gr| gr.count == 1));
    let accounts: Vec<&str> = d.groups.iter().map(|gr| gr.account.as_str()).collect();
    assert_eq!(
        accounts,
        ["demo-1-iot", "demo-1-iot", "demo-2-iot", "demo-2-iot"]
    );
    let dialog = g
        .harness
        .get_by_role_and_label(Role::Window, "Bulk disable");
    assert_eq!(
        dialog.query_all_by_label("demo-2-iot").count(),
        2,
        "one line each"
    );

    let app = &mut g.harness.state_mut().state;
    app.apply(Action::Bulk(BulkAction::SetTyped("4".into())));
    app.apply(Action::Bulk(BulkAction::Start));
    g.settle();
    let d = g.app().bulk.dialog.clone().unwrap();
    let progress = d.progress.clone().unwrap();
    assert_eq!(
        (progress.total, progress.applied, progress.failed),
        (4, 4, 0),
        "{:?}",
        d.results
    );
    // Each result names the account and region its request went to, which is the row's own.
    for (_, id, scope) in &picks {
        let s = &scopes[usize::from(*scope)];
        let r = d.results.iter().find(|r| &r.item.id == id).unwrap();
        assert_eq!(
            (r.account.as_str(), r.region.as_str()),
            (s.profile.as_str(), s.region.as_str())
        );
    }
    let dialog = g
        .harness
        .get_by_role_and_label(Role::Window, "Bulk disable");
    assert_eq!(
        dialog.query_all_by_label("Account").count(),
        2,
        "plan and results"
    );
    assert_eq!(
        dialog.query_all_by_label("demo-1-iot").count(),
        4,
        "plan and results"
    );

    // The rows show the new status.
    let p = &g.app().inventory.panes[&iot];
    for (_, id, _) in &picks {
        let row = p.inventory.find(id).unwrap();
        assert_eq!(p.inventory.status(row), CertStatus::Inactive, "{id}");
    }

    // The journal holds one job per account and region, each under its own profile; the audit
    // log's answers name each item's account and region.
    let journal = g.app().journal().clone();
    let journal = journal.lock().unwrap();
    let jobs = journal.jobs().unwrap();
    assert_eq!(jobs.len(), 4, "{jobs:?}");
    let mut profiles: Vec<String> = jobs.iter().map(|(j, _)| j.profile.clone()).collect();
    profiles.sort();
    assert_eq!(
        profiles,
        ["demo-1-iot", "demo-1-iot", "demo-2-iot", "demo-2-iot"]
    );
    assert!(jobs.iter().all(|(_, c)| c.succeeded == 1));
    let audit = journal.audit(None).unwrap();
    for (_, id, scope) in &picks {
        let s = &scopes[usize::from(*scope)];
        let answer = audit
            .iter()
            .find(|e| {
                &e.target == id && e.result == AuditResult::Done(certdesk::model::Outcome::Applied)
            })
            .unwrap_or_else(|| panic!("no answer for {id}"));
        assert_eq!(answer.profile, s.profile);
        assert_eq!(answer.region.as_deref(), Some(s.region.as_str()));
        assert_eq!(answer.operation, Change::Disable);
    }
}
