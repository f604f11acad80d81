//! Settings driven headless: add a Huawei profile through the form (secret to a keyring, here the
//! in-memory one), test the connection against the simulator, use it as the workspace, and see
//! the IoT inventory come from that account; a wrong secret shows the provider's error.
#![allow(clippy::unwrap_used)] // test setup: a failure should panic right there

mod gui_support;

use certdesk::app::workspace::demo_state;
use certdesk::app::{PaneKey, ProfilesConfig, TestResult};
use certdesk::model::Service;
use certdesk::profiles::{MemoryKeyring, ProfileStore, SecretStore};
use certdesk::store::Store;
use eframe::egui;
use egui_kittest::kittest::Queryable;
use gui_support::SimGui;
use std::sync::{Arc, Mutex};

/// The shared window plus the keyring and config directory its profiles live in.
struct Gui {
    window: SimGui,
    keyring: Arc<MemoryKeyring>,
    dir: tempfile::TempDir,
}

impl std::ops::Deref for Gui {
    type Target = SimGui;
    fn deref(&self) -> &SimGui {
        &self.window
    }
}

impl std::ops::DerefMut for Gui {
    fn deref_mut(&mut self) -> &mut SimGui {
        &mut self.window
    }
}

fn gui() -> Gui {
    let dir = tempfile::tempdir().unwrap();
    let keyring = Arc::new(MemoryKeyring::new());
    let window = gui_support::start(egui::vec2(1500.0, 1100.0), |sim, transport, runtime| {
        let profiles = ProfilesConfig {
            path: dir.path().join("profiles.toml"),
            keyring: keyring.clone(),
            transport: transport.clone(),
        };
        let store = Arc::new(Mutex::new(Store::open_in_memory().unwrap()));
        demo_state(sim, Some(store), transport, runtime, Some(profiles))
    });
    Gui {
        window,
        keyring,
        dir,
    }
}

impl Gui {
    fn type_into(&mut self, label: &str, text: &str) {
        self.harness.get_by_label(label).click();
        self.harness.run_steps(1);
        self.harness.get_by_label(label).type_text(text);
        self.harness.run_steps(1);
    }
}

#[test]
fn add_test_and_use_a_profile_from_the_settings_tab() {
    let mut g = gui();
    g.harness.get_by_label("Add a real account…").click();
    g.settle();
    g.harness.get_by_label("No profiles yet.");

    g.harness.get_by_label("Add Huawei Cloud profile").click();
    g.settle();
    let creds = g.sim.credentials().clone();
    let endpoint = g.sim.endpoint();
    g.type_into("Profile name", "iot-sim");
    g.type_into("Endpoint override", &endpoint);
    g.type_into("Access key (AK)", &creds.huawei_ak);
    g.type_into("Secret key (SK)", "not-the-secret");
    g.type_into("Project id", &creds.huawei_project_id);
    g.type_into("IoTDA instance id", &creds.iotda_instance_id);

    // A wrong secret: the provider's code and what to do.
    g.harness.get_by_label("Test these settings").click();
    g.settle();
    match g.app().settings.tests.get("") {
        Some(TestResult::Failed(e)) => {
            assert_eq!(e.http_status, Some(401), "{e}");
            g.harness.get_by_label("Connection test failed");
        }
        other => panic!("expected a failed test, got {other:?}"),
    }

    // Fix the secret (the field was masked; clear it by replacing the draft's text).
    let mut draft = g.app().settings.draft.clone().unwrap();
    draft.secret = creds.huawei_sk.expose().to_string();
    g.harness
        .state_mut()
        .state
        .apply(certdesk::app::Action::Settings(
            certdesk::app::SettingsAction::SetDraft(Box::new(draft)),
        ));
    g.harness.get_by_label("Test these settings").click();
    g.settle();
    assert!(
        matches!(g.app().settings.tests.get(""), Some(TestResult::Passed(_))),
        "{:?}",
        g.app().settings.tests.get("")
    );

    g.harness.get_by_label("Save profile").click();
    g.settle();
    assert!(
        g.app().settings.error.is_none(),
        "{:?}",
        g.app().settings.error
    );
    let saved = ProfileStore::load_from(g.dir.path().join("profiles.toml")).unwrap();
    let profile = saved.get("iot-sim").expect("saved to profiles.toml");
    assert_eq!(profile.endpoint.as_deref(), Some(endpoint.as_str()));
    let file = std::fs::read_to_string(g.dir.path().join("profiles.toml")).unwrap();
    assert!(
        !file.contains(creds.huawei_sk.expose()),
        "no secret in the file"
    );
    assert_eq!(
        g.keyring
            .get("iot-sim")
            .unwrap()
            .map(|s| s.expose().to_string()),
        Some(creds.huawei_sk.expose().to_string()),
        "the secret went to the keyring"
    );

    // The saved profile tests fine too, then becomes the workspace.
    g.harness.get_by_label("Test connection").click();
    g.settle();
    assert!(matches!(
        g.app().settings.tests.get("iot-sim"),
        Some(TestResult::Passed(_))
    ));
    g.harness.get_by_label("Use").click();
    g.settle();
    assert!(!g.app().workspace().demo);
    assert!(
        g.app()
            .workspace()
            .scopes
            .iter()
            .any(|s| s.profile == "iot-sim" && s.provider == certdesk::model::Provider::Huawei),
        "{:?}",
        g.app().workspace().scopes
    );
    g.harness.get_by_label("IoT device certificates").click();
    g.settle();
    let iot = PaneKey::service(Service::Iotda);
    assert_eq!(
        g.app().inventory.panes[&iot].inventory.len(),
        g.sim.iotda_count()
    );
    assert!(g.harness.query_by_label("Demo — simulated cloud").is_none());
    // No Alibaba profile: those tabs explain instead of failing silently.
    g.harness.get_by_label("KMS certificates").click();
    g.settle();
    g.harness.check_accessibility();
}

/// A RAM role profile made in the form: no secret of its own (none goes to the keyring), its
/// source profile's key assumes the role, and "Test connection" reaches the role's account.
#[test]
fn a_role_profile_is_saved_without_a_secret_and_tests_through_its_source() {
    use certdesk::app::{Action, SettingsAction};
    use certdesk::model::Provider;
    let mut g = gui();
    g.harness.get_by_label("Add a real account…").click();
    g.settle();
    let account = g.sim.accounts()[0].clone();
    let endpoint = g.sim.endpoint();
    let apply = |g: &mut Gui, action: SettingsAction| {
        g.harness.state_mut().state.apply(Action::Settings(action));
        g.settle();
    };

    apply(&mut g, SettingsAction::New(Provider::Alibaba));
    let mut key = g.app().settings.draft.clone().unwrap();
    key.name = "ali-key".into();
    key.endpoint = endpoint.clone();
    key.access_key_id = account.alibaba_access_key_id.clone();
    key.secret = account.alibaba_access_key_secret.expose().to_string();
    apply(&mut g, SettingsAction::SetDraft(Box::new(key)));
    apply(&mut g, SettingsAction::Save);
    assert!(
        g.app().settings.error.is_none(),
        "{:?}",
        g.app().settings.error
    );

    apply(&mut g, SettingsAction::New(Provider::Alibaba));
    let mut role = g.app().settings.draft.clone().unwrap();
    role.name = "ali-admin".into();
    role.endpoint = endpoint;
    role.role_arn = format!("acs:ram::{}:role/certdesk-admin", account.account_id);
    role.source_profile = "ali-key".into();
    // A typed secret is refused: the role has none of its own.
    role.secret = "typed-by-mistake".into();
    apply(&mut g, SettingsAction::SetDraft(Box::new(role.clone())));
    apply(&mut g, SettingsAction::Save);
    let refused = g.app().settings.error.clone().unwrap_or_default();
    assert!(refused.contains("no secret of its own"), "{refused}");
    role.secret.clear();
    apply(&mut g, SettingsAction::SetDraft(Box::new(role)));
    apply(&mut g, SettingsAction::Save);
    assert!(
        g.app().settings.error.is_none(),
        "{:?}",
        g.app().settings.error
    );
    assert!(
        g.keyring.get("ali-admin").unwrap().is_none(),
        "no keyring entry"
    );
    let saved = ProfileStore::load_from(g.dir.path().join("profiles.toml")).unwrap();
    assert_eq!(
        saved
            .get("ali-admin")
            .and_then(|p| p.role.as_ref())
            .map(|r| r.source_profile.as_str()),
        Some("ali-key")
    );

    apply(&mut g, SettingsAction::Test("ali-admin".into()));
    match g.app().settings.tests.get("ali-admin") {
        Some(TestResult::Passed(_)) => {}
        other => panic!("the role profile's test: {other:?}"),
    }

    // The estate opens every enabled profile; one left out stays out.
    let profiles_of = |g: &Gui| {
        let mut names: Vec<String> = g
            .app()
            .workspace()
            .scopes
            .iter()
            .map(|s| s.profile.clone())
            .collect();
        names.dedup();
        names
    };
    apply(&mut g, SettingsAction::OpenEstate);
    assert_eq!(profiles_of(&g), ["ali-key", "ali-admin"]);
    apply(&mut g, SettingsAction::SetEnabled("ali-key".into(), false));
    apply(&mut g, SettingsAction::OpenEstate);
    assert_eq!(profiles_of(&g), ["ali-admin"]);
    let saved = ProfileStore::load_from(g.dir.path().join("profiles.toml")).unwrap();
    assert!(
        !saved.get("ali-key").unwrap().enabled,
        "saved to profiles.toml"
    );
}
