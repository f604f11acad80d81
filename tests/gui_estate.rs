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
