//! Settings: the profiles of each cloud (file + OS keyring, through `profiles`), editing them,
//! "Test connection", and opening a workspace over them. Every file or keyring access runs on a
//! worker (the keyring may block on an unlock prompt). Knows nothing of egui.

use super::cloud_source::CloudSource;
use super::source::{ProviderError, SharedSource};
use super::tasks::Event;
use super::{AppState, NoticeLevel, Workspace};
use crate::cloud::{AlibabaClientConfig, HuaweiClientConfig, ProxySetting, Transport};
use crate::credentials::Secret;
use crate::model::Provider;
use crate::profiles::{
    self, Account, AccountCredentials, Profile, ProfileSecrets, ProfileStore, SecretStore,
};
use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use zeroize::Zeroize;

/// Where profiles live and how clients reach the clouds.
#[derive(Clone)]
pub struct ProfilesConfig {
    /// The `profiles.toml` to read and write.
    pub path: PathBuf,
    /// Where secrets go (the OS keyring; memory in tests).
    pub keyring: Arc<dyn SecretStore>,
    /// The shared HTTP transport for the clients.
    pub transport: Transport,
}

impl fmt::Debug for ProfilesConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProfilesConfig")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// The profile form. The secret fields are plain text only while typed; they are wiped after
/// saving and never shown or logged.
#[derive(Clone, PartialEq, Eq)]
pub struct ProfileDraft {
    /// Name of the profile being edited (`None`: a new one).
    pub editing: Option<String>,
    /// Profile name.
    pub name: String,
    /// Cloud.
    pub provider: Provider,
    /// Region id.
    pub region: String,
    /// Endpoint override ("" for the default).
    pub endpoint: String,
    /// AccessKey id / AK.
    pub access_key_id: String,
    /// AccessKey secret / SK ("" keeps the stored one when editing).
    pub secret: String,
    /// STS / temporary security token ("" for none).
    pub security_token: String,
    /// Alibaba signature.
    pub alibaba_signature: crate::cloud::AlibabaSignatureVersion,
    /// Huawei signing.
    pub huawei_signing: crate::cloud::HuaweiSigning,
    /// Huawei project id.
    pub project_id: String,
    /// IoTDA instance id.
    pub instance_id: String,
    /// Bulk-job rate limit in requests per second ("" for the API's published limit, "0" for
    /// none).
    pub rate_limit_qps: String,
    /// HTTPS proxy URL, `none`, or "" for the environment's.
    pub proxy: String,
    /// Make it the default profile of its cloud.
    pub make_default: bool,
}

impl fmt::Debug for ProfileDraft {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProfileDraft")
            .field("name", &self.name)
            .field("provider", &self.provider)
            .field("region", &self.region)
            .field("secret", &"[redacted]")
            .finish_non_exhaustive()
    }
}

impl Drop for ProfileDraft {
    fn drop(&mut self) {
        self.secret.zeroize();
        self.security_token.zeroize();
    }
}

impl ProfileDraft {
    /// An empty form for a new profile of `provider`.
    pub fn new(provider: Provider) -> Self {
        ProfileDraft {
            editing: None,
            name: String::new(),
            provider,
            region: profiles::default_region(provider).to_string(),
            endpoint: String::new(),
            access_key_id: String::new(),
            secret: String::new(),
            security_token: String::new(),
            alibaba_signature: Default::default(),
            huawei_signing: Default::default(),
            project_id: String::new(),
            instance_id: String::new(),
            rate_limit_qps: String::new(),
            proxy: String::new(),
            make_default: true,
        }
    }

    /// A form filled from a saved profile (secrets stay in the keyring).
    pub fn from_profile(p: &Profile, is_default: bool) -> Self {
        ProfileDraft {
            editing: Some(p.name.clone()),
            name: p.name.clone(),
            provider: p.provider,
            region: p.region.clone(),
            endpoint: p.endpoint.clone().unwrap_or_default(),
            access_key_id: p.access_key_id.clone(),
            secret: String::new(),
            security_token: String::new(),
            alibaba_signature: p.alibaba_signature,
            huawei_signing: p.huawei_signing,
            project_id: p.project_id.clone().unwrap_or_default(),
            instance_id: p.instance_id.clone().unwrap_or_default(),
            rate_limit_qps: p.rate_limit_qps.map(|q| q.to_string()).unwrap_or_default(),
            proxy: p.proxy.clone().unwrap_or_default(),
            make_default: is_default,
        }
    }

    fn opt(s: &str) -> Option<String> {
        Some(s.trim().to_string()).filter(|s| !s.is_empty())
    }

    /// The profile the form describes (validated by `profiles` when saved).
    pub fn profile(&self) -> Profile {
        Profile {
            name: self.name.trim().to_string(),
            provider: self.provider,
            region: self.region.trim().to_string(),
            endpoint: Self::opt(&self.endpoint),
            access_key_id: self.access_key_id.trim().to_string(),
            alibaba_signature: self.alibaba_signature,
            huawei_signing: self.huawei_signing,
            project_id: Self::opt(&self.project_id),
            instance_id: Self::opt(&self.instance_id),
            rate_limit_qps: self.rate_limit().ok().flatten(),
            proxy: Self::opt(&self.proxy),
        }
    }

    /// The typed rate limit: `None` when empty, or why it is not a number of requests per second.
    pub fn rate_limit(&self) -> Result<Option<u32>, String> {
        let text = self.rate_limit_qps.trim();
        if text.is_empty() {
            return Ok(None);
        }
        text.parse::<u32>().map(Some).map_err(|_| {
            format!(
                "the bulk rate limit must be a whole number of requests per second \
                 (0 = no limit, empty = the API's published limit), not {text:?}"
            )
        })
    }

    /// The secrets typed in the form, if any.
    pub fn secrets(&self) -> Option<ProfileSecrets> {
        (!self.secret.is_empty()).then(|| ProfileSecrets {
            secret: Secret::new(self.secret.trim()),
            security_token: Self::opt(&self.security_token).map(Secret::new),
        })
    }
}

/// The result of a "Test connection".
#[derive(Debug, Clone, PartialEq)]
pub enum TestResult {
    /// Running.
    Running,
    /// The call worked; what it found.
    Passed(String),
    /// The call failed.
    Failed(ProviderError),
}

/// The settings tab's state.
#[derive(Debug, Clone, Default)]
pub struct SettingsState {
    /// Saved profiles (`None` until read).
    pub store: Option<ProfileStore>,
    /// A file or keyring operation is running.
    pub busy: bool,
    /// Reading or writing the profiles failed.
    pub error: Option<String>,
    /// The form, when open.
    pub draft: Option<ProfileDraft>,
    /// Test results by profile name (`""` for the unsaved form).
    pub tests: HashMap<String, TestResult>,
    /// A profile waiting for delete confirmation.
    pub confirm_delete: Option<String>,
    /// The last thing that happened.
    pub message: Option<String>,
}

impl SettingsState {
    /// Saved profiles (empty until read).
    pub fn profiles(&self) -> &[Profile] {
        self.store.as_ref().map_or(&[], |s| s.list())
    }

    /// Whether `name` is its cloud's default profile.
    pub fn is_default(&self, p: &Profile) -> bool {
        self.store
            .as_ref()
            .and_then(|s| s.default_for(p.provider))
            .is_some_and(|d| d.name == p.name)
    }
}

/// What the settings tab can ask for.
#[derive(Debug, Clone, PartialEq)]
pub enum SettingsAction {
    /// Read the profiles file again.
    Reload,
    /// Open an empty form.
    New(Provider),
    /// Open the form on a saved profile.
    Edit(String),
    /// Edit the form.
    SetDraft(Box<ProfileDraft>),
    /// Close the form.
    CloseDraft,
    /// Save the form (file + keyring).
    Save,
    /// Ask to delete a profile.
    Delete(String),
    /// Delete it.
    ConfirmDelete,
    /// Keep it.
    CancelDelete,
    /// Test a saved profile.
    Test(String),
    /// Test the form's values (its secret, or the saved one when editing).
    TestDraft,
    /// Open a workspace over this profile (and the other cloud's default).
    Open(String),
}

/// Client configuration of an account, pointing at `endpoint_override` when given.
pub fn client_configs(
    accounts: &[Account],
) -> (Option<AlibabaClientConfig>, Option<HuaweiClientConfig>) {
    let mut ali = None;
    let mut hw = None;
    for a in accounts {
        match &a.credentials {
            AccountCredentials::Alibaba(c) => {
                ali = Some(AlibabaClientConfig {
                    credentials: c.clone(),
                    region: a.profile.region.clone(),
                    endpoint: a.profile.endpoint.clone(),
                    signature: a.profile.alibaba_signature,
                    // Validated when the profile was loaded.
                    proxy: ProxySetting::from_profile(a.profile.proxy.as_deref())
                        .unwrap_or_default(),
                });
            }
            AccountCredentials::Huawei(c) => {
                hw = Some(HuaweiClientConfig {
                    credentials: c.clone(),
                    region: a.profile.region.clone(),
                    endpoint: a.profile.endpoint.clone(),
                    signing: a.profile.huawei_signing,
                    project_id: a.profile.project_id.clone().unwrap_or_default(),
                    instance_id: a.profile.instance_id.clone(),
                    proxy: ProxySetting::from_profile(a.profile.proxy.as_deref())
                        .unwrap_or_default(),
                });
            }
        }
    }
    (ali, hw)
}

/// Resolves the accounts of a workspace: `profile` for its cloud, the default profile (or SDK
/// environment variables) for the other. Blocks on the keyring.
pub fn resolve_workspace(
    config: &ProfilesConfig,
    profile: Option<&str>,
) -> Result<(SharedSource, Workspace), String> {
    let store = ProfileStore::load_from(&config.path).map_err(|e| e.to_string())?;
    let named_provider = match profile {
        Some(name) => Some(
            store
                .get(name)
                .map(|p| p.provider)
                .ok_or_else(|| format!("unknown profile {name:?}"))?,
        ),
        None => None,
    };
    let mut accounts = Vec::new();
    let mut problems = Vec::new();
    for provider in [Provider::Alibaba, Provider::Huawei] {
        let name = (named_provider == Some(provider))
            .then_some(profile)
            .flatten();
        match profiles::resolve_in(&store, config.keyring.as_ref(), name, provider) {
            Ok(a) => accounts.push(a),
            Err(profiles::ProfileError::NoCredentials { .. }) => {}
            Err(e) => problems.push(e.to_string()),
        }
    }
    if accounts.is_empty() {
        return Err(if problems.is_empty() {
            "no profile and no SDK environment variables: add a profile".to_string()
        } else {
            problems.join("; ")
        });
    }
    let name_of = |p: Provider| {
        accounts
            .iter()
            .find(|a| a.profile.provider == p)
            .map(|a| a.profile.name.clone())
    };
    let workspace = Workspace {
        demo: false,
        description: accounts
            .iter()
            .map(|a| {
                format!(
                    "{} profile “{}” ({})",
                    a.profile.provider, a.profile.name, a.profile.region
                )
            })
            .collect::<Vec<_>>()
            .join(" · "),
        alibaba: name_of(Provider::Alibaba),
        huawei: name_of(Provider::Huawei),
    };
    let (ali, hw) = client_configs(&accounts);
    let label = [workspace.alibaba.clone(), workspace.huawei.clone()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("+");
    let limit_of = |p: Provider| {
        accounts
            .iter()
            .find(|a| a.profile.provider == p)
            .and_then(|a| a.profile.rate_limit_qps)
    };
    let source = CloudSource::new(&label, &config.transport, ali.as_ref(), hw.as_ref())
        .with_rate_limits(limit_of(Provider::Alibaba), limit_of(Provider::Huawei));
    let mut description = workspace.description.clone();
    if !problems.is_empty() {
        description.push_str(&format!(" (not opened: {})", problems.join("; ")));
    }
    Ok((
        Arc::new(source),
        Workspace {
            description,
            ..workspace
        },
    ))
}

impl AppState {
    /// Reads the profiles file (on a worker).
    pub(super) fn load_profiles(&mut self) {
        let Some(config) = self.profiles.clone() else {
            return;
        };
        self.settings.busy = true;
        self.spawn_blocking(move || {
            Event::Profiles(
                ProfileStore::load_from(&config.path).map_err(|e| e.to_string()),
                None,
            )
        });
    }

    pub(super) fn apply_settings(&mut self, action: SettingsAction) {
        let s = &mut self.settings;
        match action {
            SettingsAction::Reload => self.load_profiles(),
            SettingsAction::New(provider) => s.draft = Some(ProfileDraft::new(provider)),
            SettingsAction::Edit(name) => {
                let found = s.profiles().iter().find(|p| p.name == name).cloned();
                if let Some(p) = found {
                    let default = s.is_default(&p);
                    s.draft = Some(ProfileDraft::from_profile(&p, default));
                }
            }
            SettingsAction::SetDraft(d) => s.draft = Some(*d),
            SettingsAction::CloseDraft => s.draft = None,
            SettingsAction::Save => self.save_draft(),
            SettingsAction::Delete(name) => s.confirm_delete = Some(name),
            SettingsAction::CancelDelete => s.confirm_delete = None,
            SettingsAction::ConfirmDelete => self.delete_profile(),
            SettingsAction::Test(name) => self.test_profile(name),
            SettingsAction::TestDraft => self.test_draft(),
            SettingsAction::Open(name) => self.open_workspace(Some(name)),
        }
    }

    fn save_draft(&mut self) {
        let (Some(config), Some(draft), Some(store)) = (
            self.profiles.clone(),
            self.settings.draft.clone(),
            self.settings.store.clone(),
        ) else {
            return;
        };
        if let Err(e) = draft.rate_limit() {
            self.settings.error = Some(e);
            return;
        }
        let profile = draft.profile();
        if let Err(e) = profiles::validate_profile(&profile) {
            self.settings.error = Some(e.to_string());
            return;
        }
        let secrets = draft.secrets();
        if draft.editing.is_none() && secrets.is_none() {
            self.settings.error = Some("enter the secret (it goes to the OS keyring)".into());
            return;
        }
        self.settings.busy = true;
        self.settings.error = None;
        let name = profile.name.clone();
        self.spawn_blocking(move || {
            let mut store = store;
            let provider = profile.provider;
            let result = match &draft.editing {
                None => profiles::create_profile(
                    &mut store,
                    config.keyring.as_ref(),
                    profile,
                    secrets.as_ref().unwrap_or(&ProfileSecrets {
                        secret: Secret::default(),
                        security_token: None,
                    }),
                    draft.make_default,
                ),
                Some(old) if *old != profile.name => Err(profiles::ProfileError::InvalidProfile {
                    name: old.clone(),
                    reason: "renaming is not supported: create a new profile and delete this one"
                        .into(),
                }),
                Some(_) => profiles::update_profile(
                    &mut store,
                    config.keyring.as_ref(),
                    profile,
                    secrets.as_ref(),
                )
                .and_then(|()| {
                    if draft.make_default {
                        store.set_default(provider, Some(&name))?;
                        store.save()
                    } else {
                        Ok(())
                    }
                }),
            };
            Event::Profiles(
                result.map(|()| store).map_err(|e| e.to_string()),
                Some(format!(
                    "Profile “{name}” saved; its secret is in the OS keyring."
                )),
            )
        });
    }

    fn delete_profile(&mut self) {
        let (Some(config), Some(name), Some(store)) = (
            self.profiles.clone(),
            self.settings.confirm_delete.take(),
            self.settings.store.clone(),
        ) else {
            return;
        };
        self.settings.busy = true;
        self.spawn_blocking(move || {
            let mut store = store;
            let result = profiles::delete_profile(&mut store, config.keyring.as_ref(), &name);
            Event::Profiles(
                result.map(|_| store).map_err(|e| e.to_string()),
                Some(format!(
                    "Profile “{name}” deleted (and its keyring secret)."
                )),
            )
        });
    }

    fn run_test(
        &mut self,
        key: String,
        account: impl FnOnce(&ProfilesConfig) -> Result<Account, String> + Send + 'static,
    ) {
        let Some(config) = self.profiles.clone() else {
            return;
        };
        self.settings.tests.insert(key.clone(), TestResult::Running);
        self.spawn(async move {
            let cfg = config.clone();
            let account = tokio::task::spawn_blocking(move || account(&cfg))
                .await
                .map_err(|e| e.to_string())
                .and_then(|r| r);
            let result = match account {
                Err(e) => Err(ProviderError::local("Profile", e)),
                Ok(account) => {
                    let provider = account.profile.provider;
                    let (ali, hw) = client_configs(std::slice::from_ref(&account));
                    let source =
                        CloudSource::new("test", &config.transport, ali.as_ref(), hw.as_ref());
                    use super::source::InventorySource;
                    source.test_connection(provider).await
                }
            };
            Event::Tested(key, result)
        });
    }

    fn test_profile(&mut self, name: String) {
        let n = name.clone();
        self.run_test(name, move |config| {
            let store = ProfileStore::load_from(&config.path).map_err(|e| e.to_string())?;
            let profile = store
                .get(&n)
                .cloned()
                .ok_or_else(|| format!("unknown profile {n:?}"))?;
            let secrets =
                profiles::load_secrets(config.keyring.as_ref(), &n).map_err(|e| e.to_string())?;
            profiles::account_from_profile(profile, secrets).map_err(|e| e.to_string())
        });
    }

    fn test_draft(&mut self) {
        let Some(draft) = self.settings.draft.clone() else {
            return;
        };
        self.run_test(String::new(), move |config| {
            let profile = draft.profile();
            profiles::validate_profile(&profile).map_err(|e| e.to_string())?;
            let secrets = match (draft.secrets(), &draft.editing) {
                (Some(s), _) => s,
                (None, Some(name)) => profiles::load_secrets(config.keyring.as_ref(), name)
                    .map_err(|e| e.to_string())?,
                (None, None) => return Err("enter the secret first".to_string()),
            };
            profiles::account_from_profile(profile, secrets).map_err(|e| e.to_string())
        });
    }

    /// Opens a workspace over saved profiles (on a worker: the keyring may block).
    pub fn open_workspace(&mut self, profile: Option<String>) {
        let Some(config) = self.profiles.clone() else {
            return;
        };
        self.opening = true;
        self.spawn_blocking(move || Event::Opened(resolve_workspace(&config, profile.as_deref())));
    }

    pub(super) fn profiles_loaded(
        &mut self,
        result: Result<ProfileStore, String>,
        message: Option<String>,
    ) {
        self.settings.busy = false;
        match result {
            Ok(store) => {
                self.settings.store = Some(store);
                self.settings.error = None;
                if message.is_some() {
                    self.settings.draft = None;
                    self.settings.message = message;
                }
            }
            Err(e) => self.settings.error = Some(e),
        }
    }

    pub(super) fn workspace_opened(&mut self, result: Result<(SharedSource, Workspace), String>) {
        self.opening = false;
        match result {
            Ok((source, workspace)) => self.replace_source(source, workspace),
            Err(e) => self.notice(
                NoticeLevel::Error,
                format!("Opening the account failed: {e}"),
            ),
        }
    }
}
