//! Opening a workspace at start-up: the account to talk to (a profile, the SDK environment
//! variables, or — on a fresh machine — the demo over the in-process simulator), its source and
//! its cache. Runs once, before the window exists.

use super::cloud_source::{CloudSource, EstateSource};
use super::settings::ProfilesConfig;
use super::{AppConfig, AppState, NoticeLevel, Workspace};
use crate::cloud::{
    AlibabaClientConfig, AlibabaSignatureVersion, HuaweiClientConfig, HuaweiSigning, Transport,
};
use crate::credentials::{AlibabaCredentials, HuaweiCredentials};
use crate::model::Provider;
use crate::profiles::{self, OsKeyring, ProfileStore};
use crate::sim::{RunningSimulator, SimOptions, SimSize};
use crate::store::Store;
use crate::store::journal::Journal;
use std::sync::{Arc, Mutex};

/// An opened workspace: the app state and whatever must live as long as it.
pub struct Opened {
    /// The state, ready for a window.
    pub state: AppState,
    /// Kept alive with the window (the in-process simulator in demo mode).
    pub keep_alive: Option<Box<dyn std::any::Any + Send>>,
}

/// Opens the cache at the default path; an unusable path falls back to memory (the app still
/// works, it just forgets between runs). Returns the problem to show, if any.
pub fn open_store() -> (Option<Arc<Mutex<Store>>>, Option<String>) {
    let memory = || {
        Store::open_in_memory()
            .ok()
            .map(|s| Arc::new(Mutex::new(s)))
    };
    let Some(path) = crate::store::default_path() else {
        return (
            memory(),
            Some("no data directory: the cache lasts only this session".into()),
        );
    };
    match Store::open(&path) {
        Ok(s) => (Some(Arc::new(Mutex::new(s))), None),
        Err(e) => (
            memory(),
            Some(format!(
                "the cache at {} is unusable ({e}); it lasts only this session",
                path.display()
            )),
        ),
    }
}

/// Opens the bulk-job journal and audit log (the same database file as the cache, like the CLI's
/// `certdesk jobs` and `certdesk audit`). Without it, bulk jobs are journaled for the session only.
pub fn open_journal() -> Result<Arc<Mutex<Journal>>, String> {
    let path = crate::store::default_path().ok_or_else(|| {
        "no data directory: bulk jobs and the audit log last only this session".to_string()
    })?;
    Journal::open(&path)
        .map(|j| Arc::new(Mutex::new(j)))
        .map_err(|e| {
            format!(
                "the job journal at {} is unusable ({e}); bulk jobs are journaled for this session only",
                path.display()
            )
        })
}

/// The simulator's demo accounts as client configurations.
pub fn demo_configs(sim: &RunningSimulator) -> (AlibabaClientConfig, HuaweiClientConfig) {
    let c = sim.credentials();
    let alibaba = AlibabaClientConfig {
        credentials: AlibabaCredentials {
            access_key_id: c.alibaba_access_key_id.clone(),
            access_key_secret: c.alibaba_access_key_secret.clone(),
            security_token: None,
        },
        region: profiles::default_region(Provider::Alibaba).to_string(),
        endpoint: Some(sim.endpoint()),
        signature: AlibabaSignatureVersion::V3,
        role: None,
        proxy: Default::default(),
    };
    let huawei = HuaweiClientConfig {
        credentials: HuaweiCredentials {
            access_key: c.huawei_ak.clone(),
            secret_key: c.huawei_sk.clone(),
            security_token: None,
        },
        region: c.huawei_region.clone(),
        endpoint: Some(sim.endpoint()),
        signing: HuaweiSigning::Auto,
        project_id: c.huawei_project_id.clone(),
        instance_id: Some(c.iotda_instance_id.clone()),
        proxy: Default::default(),
    };
    (alibaba, huawei)
}

/// Opens the demo workspace over a running simulator. Seeds the known KMS ids with the
/// simulator's (KMS has no list call) the first time.
pub fn demo_state(
    sim: &RunningSimulator,
    store: Option<Arc<Mutex<Store>>>,
    transport: &Transport,
    runtime: &tokio::runtime::Handle,
    profiles: Option<ProfilesConfig>,
) -> AppState {
    let (alibaba, huawei) = demo_configs(sim);
    let workspace = Workspace::single("demo", true, &format!("simulator at {}", sim.endpoint()));
    let both = Arc::new(CloudSource::new(transport, Some(&alibaba), Some(&huawei)));
    // One source answers both scopes (the demo's Alibaba and Huawei accounts).
    let source = EstateSource::new(workspace.scopes.iter().map(|_| Ok(both.clone())).collect());
    let kms_account = workspace
        .scopes
        .iter()
        .find(|s| s.provider == Provider::Alibaba)
        .map(crate::model::Scope::cache_account);
    if let Some(store) = &store
        && let Some(account) = kms_account
        && let Ok(mut s) = store.lock()
        && s.kms_ids(&account).is_ok_and(|ids| ids.is_empty())
    {
        // Best effort: without the seed the KMS tab simply starts empty.
        let _ = s.add_kms_ids(&account, &sim.kms_certificate_ids(), super::now_unix());
    }
    AppState::new(AppConfig {
        source: Arc::new(source),
        workspace,
        store,
        runtime: runtime.clone(),
        auto_refresh: true,
        profiles,
    })
}

/// The demo estate's state over `sim` (started with several accounts): every simulated account
/// as one Alibaba Cloud profile (`demo-1`, … in cn-hangzhou and cn-shanghai) and one Huawei Cloud
/// profile (`demo-1-iot`, … in cn-north-4 and cn-east-3), each with its own key: the whole
/// estate in one window without a real account. The KMS ids of each account and region are
/// seeded into `store` (KMS has no list call).
pub fn demo_estate_state(
    sim: &RunningSimulator,
    store: Option<Arc<Mutex<Store>>>,
    transport: &Transport,
    runtime: &tokio::runtime::Handle,
    profiles_config: Option<ProfilesConfig>,
) -> AppState {
    let endpoint = sim.endpoint();
    let mut accounts = Vec::new();
    for account in sim.accounts() {
        let name = format!("demo-{}", account.number);
        let mut alibaba = profiles::Profile::new(
            &name,
            Provider::Alibaba,
            crate::sim::ALIBABA_REGIONS[0],
            &account.alibaba_access_key_id,
        );
        alibaba.regions = vec![crate::sim::ALIBABA_REGIONS[1].to_string()];
        accounts.push(profiles::Account {
            profile: alibaba,
            credentials: profiles::AccountCredentials::Alibaba(AlibabaCredentials {
                access_key_id: account.alibaba_access_key_id.clone(),
                access_key_secret: account.alibaba_access_key_secret.clone(),
                security_token: None,
            }),
        });
        let projects = &account.huawei_projects;
        let (Some(home), Some(second)) = (projects.first(), projects.get(1)) else {
            continue;
        };
        let mut huawei = profiles::Profile::new(
            &format!("{name}-iot"),
            Provider::Huawei,
            &home.region,
            &account.huawei_ak,
        );
        huawei.project_id = Some(home.project_id.clone());
        huawei.regions = vec![second.region.clone()];
        huawei.projects = [(second.region.clone(), second.project_id.clone())].into();
        accounts.push(profiles::Account {
            profile: huawei,
            credentials: profiles::AccountCredentials::Huawei(HuaweiCredentials {
                access_key: account.huawei_ak.clone(),
                secret_key: account.huawei_sk.clone(),
                security_token: None,
            }),
        });
    }
    let (source, scopes) = EstateSource::open(&accounts, transport, Some(&endpoint));
    if let Some(store) = &store
        && let Ok(mut s) = store.lock()
    {
        for scope in scopes.iter().filter(|s| s.provider == Provider::Alibaba) {
            let number = scope
                .profile
                .strip_prefix("demo-")
                .and_then(|n| n.parse::<usize>().ok())
                .unwrap_or(1);
            let ids = sim.kms_certificate_ids_in(number - 1, &scope.region);
            let account = scope.cache_account();
            if s.kms_ids(&account).is_ok_and(|known| known.is_empty()) {
                // Best effort: without the seed that KMS part simply starts empty.
                let _ = s.add_kms_ids(&account, &ids, super::now_unix());
            }
        }
    }
    let workspace = Workspace {
        demo: true,
        description: format!(
            "demo estate: {} accounts at the simulator {endpoint}",
            sim.accounts().len()
        ),
        scopes,
    };
    AppState::new(AppConfig {
        source: Arc::new(source),
        workspace,
        store,
        runtime: runtime.clone(),
        auto_refresh: true,
        profiles: profiles_config,
    })
}

/// Opens the workspace for `profile`: that profile (and the other cloud's default); with none,
/// the default profiles or the SDK environment variables; with nothing configured, the demo over
/// an in-process simulator. `demo_accounts` opens the demo over that many simulated accounts
/// (the estate demo), whatever is configured.
pub fn open(
    profile: Option<&str>,
    demo_accounts: Option<usize>,
    runtime: &tokio::runtime::Handle,
) -> Result<Opened, String> {
    let (store, store_problem) = open_store();
    let transport = Transport::new().map_err(|e| e.to_string())?;
    // Without a config directory there are no profiles (never a guessable /tmp path someone
    // else could have made first); the SDK environment variables still work.
    let (profiles_config, config_problem) = match profiles::config_dir() {
        Ok(dir) => (
            Some(ProfilesConfig {
                path: dir.join(profiles::PROFILES_FILE),
                keyring: Arc::new(OsKeyring),
                transport: transport.clone(),
            }),
            None,
        ),
        Err(e) => (
            None,
            Some(format!(
                "{e}; profiles are unavailable (the SDK environment variables still work)"
            )),
        ),
    };
    let has_profiles = profiles_config
        .as_ref()
        .and_then(|c| ProfileStore::load_from(&c.path).ok())
        .is_some_and(|s| !s.list().is_empty());
    let has_env = profiles::alibaba_from_env().is_some() || profiles::huawei_from_env().is_some();

    let (mut state, keep_alive): (AppState, Option<Box<dyn std::any::Any + Send>>) =
        if demo_accounts.is_none() && (profile.is_some() || has_profiles || has_env) {
            // Real accounts: the window opens at once and the accounts resolve in the background
            // (the keyring may show an unlock prompt).
            let mut state = AppState::new(AppConfig {
                source: Arc::new(EstateSource::default()),
                workspace: Workspace {
                    demo: false,
                    description: "opening the accounts…".into(),
                    scopes: Vec::new(),
                },
                store,
                runtime: runtime.clone(),
                auto_refresh: true,
                profiles: profiles_config,
            });
            state.open_workspace(profile.map(str::to_string));
            (state, None)
        } else {
            let options = SimOptions {
                size: SimSize::Medium,
                accounts: demo_accounts.unwrap_or(1).max(1),
                ..SimOptions::default()
            };
            let sim = runtime
                .block_on(crate::sim::start(options))
                .map_err(|e| format!("the demo simulator could not start: {e}"))?;
            let state = if demo_accounts.is_some() {
                demo_estate_state(&sim, store, &transport, runtime, profiles_config)
            } else {
                demo_state(&sim, store, &transport, runtime, profiles_config)
            };
            (state, Some(Box::new(sim)))
        };
    for problem in [store_problem, config_problem].into_iter().flatten() {
        state.notice(NoticeLevel::Error, problem);
    }
    match open_journal() {
        Ok(journal) => state.set_journal(journal),
        Err(problem) => state.notice(NoticeLevel::Error, problem),
    }
    Ok(Opened { state, keep_alive })
}
