//! Settings: the profiles of each cloud (file + OS keyring, through `profiles`), editing them,
//! "Test connection", and opening a workspace over them. Every file or keyring access runs on a
//! worker (the keyring may block on an unlock prompt). Knows nothing of egui.

use super::cloud_source::EstateSource;
use super::context::{Cx, Workspace};
use super::source::SharedSource;
use crate::cloud::Transport;
use crate::credentials::Secret;
use crate::model::Error;
use crate::model::Provider;
use crate::profiles::{self, Account, Profile, ProfileSecrets, ProfileStore, SecretStore};
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
    /// More regions, comma- or space-separated ("" for the default region only).
    pub regions: String,
    /// Huawei: `region=project-id` per extra region, comma- or space-separated.
    pub projects: String,
    /// Alibaba RAM role ARN ("" for none: the profile's own key is used).
    pub role_arn: String,
    /// The profile whose key assumes the role.
    pub source_profile: String,
    /// The role's ExternalId ("" for none).
    pub external_id: String,
    /// Part of the workspace.
    pub enabled: bool,
}

/// Splits a comma- or space-separated list.
fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split([',', ' ', '\n'])
        .map(str::trim)
        .filter(|w| !w.is_empty())
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
            regions: String::new(),
            projects: String::new(),
            role_arn: String::new(),
            source_profile: String::new(),
            external_id: String::new(),
            enabled: true,
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
            regions: p.regions.join(", "),
            projects: p
                .projects
                .iter()
                .map(|(r, id)| format!("{r}={id}"))
                .collect::<Vec<_>>()
                .join(", "),
            role_arn: p
                .role
                .as_ref()
                .map(|r| r.role_arn.clone())
                .unwrap_or_default(),
            source_profile: p
                .role
                .as_ref()
                .map(|r| r.source_profile.clone())
                .unwrap_or_default(),
            external_id: p
                .role
                .as_ref()
                .and_then(|r| r.external_id.clone())
                .unwrap_or_default(),
            enabled: p.enabled,
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
            regions: words(&self.regions).map(str::to_string).collect(),
            projects: words(&self.projects)
                .filter_map(|w| w.split_once('='))
                .map(|(r, id)| (r.trim().to_string(), id.trim().to_string()))
                .collect(),
            role: Self::opt(&self.role_arn).map(|role_arn| profiles::RoleSpec {
                role_arn,
                source_profile: self.source_profile.trim().to_string(),
                external_id: Self::opt(&self.external_id),
                session_name: None,
                duration_secs: None,
            }),
            enabled: self.enabled,
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
    Failed(Error),
}

/// Finished background work of Settings.
pub(crate) enum SettingsEvent {
    /// The profiles file was read or written (with what to tell the user).
    Profiles(Result<ProfileStore, String>, Option<String>),
    /// A connection test finished (profile name, `""` for the form).
    Tested(String, Result<String, Error>),
    /// A workspace was resolved.
    Opened(Result<(SharedSource, Workspace), String>),
}

/// The settings tab's state.
#[derive(Debug, Clone, Default)]
pub struct SettingsState {
    /// Profiles file, keyring and transport (`None`: no profile management, as in tests).
    pub(crate) config: Option<ProfilesConfig>,
    /// A workspace is being opened (accounts resolved, clients built).
    pub opening: bool,
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
    /// Open the whole estate: every enabled profile, each in all its regions.
    OpenEstate,
    /// Take a profile into the estate or leave it out (saved to profiles.toml).
    SetEnabled(String, bool),
}

/// Resolves the accounts of a workspace and opens a source over them: every enabled profile
/// (and each of its regions), or with `profile` that one plus the other cloud's default. A
/// profile that cannot be resolved is left out and named in the description; the others open.
/// Blocks on the keyring.
pub fn resolve_workspace(
    config: &ProfilesConfig,
    profile: Option<&str>,
) -> Result<(SharedSource, Workspace), String> {
    let store = ProfileStore::load_from(&config.path).map_err(|e| e.to_string())?;
    let selection = match profile {
        Some(name) => {
            let provider = store.get(name).map(|p| p.provider).ok_or_else(|| {
                format!("unknown profile {name:?} (known: {})", store.known_names())
            })?;
            let mut names = vec![name.to_string()];
            let other = match provider {
                Provider::Alibaba => Provider::Huawei,
                Provider::Huawei => Provider::Alibaba,
            };
            if let Some(p) = store.default_for(other) {
                names.push(p.name.clone());
            }
            profiles::Selection::Named(names)
        }
        None if store.list().iter().any(|p| p.enabled) => profiles::Selection::All,
        None => profiles::Selection::Default,
    };
    open_selection(config, &store, &selection)
}

/// [`resolve_workspace`] for an explicit selection of profiles.
pub fn open_selection(
    config: &ProfilesConfig,
    store: &ProfileStore,
    selection: &profiles::Selection,
) -> Result<(SharedSource, Workspace), String> {
    let mut accounts = Vec::new();
    let mut problems = Vec::new();
    for (name, result) in profiles::resolve_selection(store, config.keyring.as_ref(), selection) {
        match result {
            Ok(a) => accounts.push(a),
            Err(e) => problems.push(format!("{name}: {e}")),
        }
    }
    if accounts.is_empty() {
        return Err(if problems.is_empty() {
            "no profile and no SDK environment variables: add a profile".to_string()
        } else {
            problems.join("; ")
        });
    }
    let (source, scopes) = EstateSource::open(&accounts, &config.transport, None);
    let mut description = accounts
        .iter()
        .map(|a| {
            let regions = a.profile.all_regions();
            format!(
                "{} profile “{}” ({})",
                a.profile.provider,
                a.profile.name,
                regions.join(", ")
            )
        })
        .collect::<Vec<_>>()
        .join(" · ");
    if !problems.is_empty() {
        description.push_str(&format!(" (not opened: {})", problems.join("; ")));
    }
    Ok((
        Arc::new(source),
        Workspace {
            demo: false,
            description,
            scopes,
        },
    ))
}

type Ctx<'a, 'b> = &'a mut Cx<'b, SettingsEvent>;

impl SettingsState {
    /// Reads the profiles file (on a worker).
    pub(crate) fn load_profiles(&mut self, cx: Ctx<'_, '_>) {
        let Some(config) = self.config.clone() else {
            return;
        };
        self.busy = true;
        cx.tasks.spawn_blocking(move || {
            SettingsEvent::Profiles(
                ProfileStore::load_from(&config.path).map_err(|e| e.to_string()),
                None,
            )
        });
    }

    /// Applies an action of the tab.
    pub(crate) fn apply(&mut self, action: SettingsAction, cx: Ctx<'_, '_>) {
        match action {
            SettingsAction::Reload => self.load_profiles(cx),
            SettingsAction::New(provider) => self.draft = Some(ProfileDraft::new(provider)),
            SettingsAction::Edit(name) => {
                let found = self.profiles().iter().find(|p| p.name == name).cloned();
                if let Some(p) = found {
                    let default = self.is_default(&p);
                    self.draft = Some(ProfileDraft::from_profile(&p, default));
                }
            }
            SettingsAction::SetDraft(d) => self.draft = Some(*d),
            SettingsAction::CloseDraft => self.draft = None,
            SettingsAction::Save => self.save_draft(cx),
            SettingsAction::Delete(name) => self.confirm_delete = Some(name),
            SettingsAction::CancelDelete => self.confirm_delete = None,
            SettingsAction::ConfirmDelete => self.delete_profile(cx),
            SettingsAction::Test(name) => self.test_profile(name, cx),
            SettingsAction::TestDraft => self.test_draft(cx),
            SettingsAction::Open(name) => self.open_workspace(Some(name), cx),
            SettingsAction::OpenEstate => self.open_workspace(None, cx),
            SettingsAction::SetEnabled(name, enabled) => self.set_enabled(name, enabled, cx),
        }
    }

    /// Saves a profile's `enabled` flag (profiles.toml only: no secret is touched).
    fn set_enabled(&mut self, name: String, enabled: bool, cx: Ctx<'_, '_>) {
        let Some(mut store) = self.store.clone() else {
            return;
        };
        let Some(mut profile) = store.get(&name).cloned() else {
            return;
        };
        profile.enabled = enabled;
        self.busy = true;
        cx.tasks.spawn_blocking(move || {
            let result = store.update(profile).and_then(|()| store.save());
            SettingsEvent::Profiles(result.map(|()| store).map_err(|e| e.to_string()), None)
        });
    }

    fn save_draft(&mut self, cx: Ctx<'_, '_>) {
        let (Some(config), Some(draft), Some(store)) =
            (self.config.clone(), self.draft.clone(), self.store.clone())
        else {
            return;
        };
        if let Err(e) = draft.rate_limit() {
            self.error = Some(e);
            return;
        }
        let profile = draft.profile();
        if let Err(e) = profiles::validate_profile(&profile) {
            self.error = Some(e.to_string());
            return;
        }
        let secrets = draft.secrets();
        let is_role = profile.role.is_some();
        if is_role && secrets.is_some() {
            self.error = Some(
                "a role profile has no secret of its own: it assumes its role with its source \
                 profile's key (leave the secret empty)"
                    .into(),
            );
            return;
        }
        if draft.editing.is_none() && secrets.is_none() && !is_role {
            self.error = Some("enter the secret (it goes to the OS keyring)".into());
            return;
        }
        self.busy = true;
        self.error = None;
        let name = profile.name.clone();
        cx.tasks.spawn_blocking(move || {
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
            SettingsEvent::Profiles(
                result.map(|()| store).map_err(|e| e.to_string()),
                Some(if is_role {
                    format!(
                        "Profile “{name}” saved; it assumes its role with its source profile's key."
                    )
                } else {
                    format!("Profile “{name}” saved; its secret is in the OS keyring.")
                }),
            )
        });
    }

    fn delete_profile(&mut self, cx: Ctx<'_, '_>) {
        let (Some(config), Some(name), Some(store)) = (
            self.config.clone(),
            self.confirm_delete.take(),
            self.store.clone(),
        ) else {
            return;
        };
        self.busy = true;
        cx.tasks.spawn_blocking(move || {
            let mut store = store;
            let result = profiles::delete_profile(&mut store, config.keyring.as_ref(), &name);
            SettingsEvent::Profiles(
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
        cx: Ctx<'_, '_>,
        account: impl FnOnce(&ProfilesConfig) -> Result<Account, String> + Send + 'static,
    ) {
        let Some(config) = self.config.clone() else {
            return;
        };
        self.tests.insert(key.clone(), TestResult::Running);
        cx.tasks.spawn(async move {
            let cfg = config.clone();
            let account = tokio::task::spawn_blocking(move || account(&cfg))
                .await
                .map_err(|e| e.to_string())
                .and_then(|r| r);
            let result = match account {
                Err(e) => Err(Error::internal(
                    crate::model::ErrorKind::Config,
                    "Profile",
                    e,
                )),
                Ok(account) => {
                    let provider = account.profile.provider;
                    let (source, _) =
                        EstateSource::open(std::slice::from_ref(&account), &config.transport, None);
                    use super::source::InventorySource;
                    source.test_connection(provider).await
                }
            };
            SettingsEvent::Tested(key, result)
        });
    }

    fn test_profile(&mut self, name: String, cx: Ctx<'_, '_>) {
        let n = name.clone();
        self.run_test(name, cx, move |config| {
            let store = ProfileStore::load_from(&config.path).map_err(|e| e.to_string())?;
            let profile = store
                .get(&n)
                .cloned()
                .ok_or_else(|| format!("unknown profile {n:?}"))?;
            // A role profile's account is its source's key plus the role.
            profiles::account_in(&store, config.keyring.as_ref(), &profile)
                .map_err(|e| e.to_string())
        });
    }

    fn test_draft(&mut self, cx: Ctx<'_, '_>) {
        let Some(draft) = self.draft.clone() else {
            return;
        };
        self.run_test(String::new(), cx, move |config| {
            let profile = draft.profile();
            profiles::validate_profile(&profile).map_err(|e| e.to_string())?;
            if profile.role.is_some() {
                let store = ProfileStore::load_from(&config.path).map_err(|e| e.to_string())?;
                return profiles::account_in(&store, config.keyring.as_ref(), &profile)
                    .map_err(|e| e.to_string());
            }
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
    pub(crate) fn open_workspace(&mut self, profile: Option<String>, cx: Ctx<'_, '_>) {
        let Some(config) = self.config.clone() else {
            return;
        };
        self.opening = true;
        cx.tasks.spawn_blocking(move || {
            SettingsEvent::Opened(resolve_workspace(&config, profile.as_deref()))
        });
    }

    /// Applies a result of background work; an opened workspace is returned for the app to
    /// switch to.
    pub(crate) fn handle(
        &mut self,
        event: SettingsEvent,
    ) -> Option<Result<(SharedSource, Workspace), String>> {
        match event {
            SettingsEvent::Profiles(result, message) => {
                self.busy = false;
                match result {
                    Ok(store) => {
                        self.store = Some(store);
                        self.error = None;
                        if message.is_some() {
                            self.draft = None;
                            self.message = message;
                        }
                    }
                    Err(e) => self.error = Some(e),
                }
                None
            }
            SettingsEvent::Tested(key, result) => {
                let r = match result {
                    Ok(text) => TestResult::Passed(text),
                    Err(e) => TestResult::Failed(e),
                };
                self.tests.insert(key, r);
                None
            }
            SettingsEvent::Opened(result) => {
                self.opening = false;
                Some(result)
            }
        }
    }
}
