//! Profiles: the non-secret settings of each account in `profiles.toml` (platform config directory,
//! or `CERTDESK_CONFIG_DIR`), their secrets in the OS keyring (service `certdesk`, user = profile
//! name, `<name>:token` for an STS / temporary security token), and the official SDK environment
//! variables when no profile applies.
//!
//! Nothing secret is ever written to disk by this module: the TOML file holds ids, regions and
//! endpoints only. This module knows nothing of HTTP, signing, jobs or the UI.
//!
//! **Blocking.** Keyring calls talk to D-Bus (Secret Service) or the platform store and may block for
//! as long as an unlock prompt is open. The plain functions ([`resolve`], [`create_profile`], …)
//! block: never call them on the UI thread. From async code use the `*_async` variants, which run
//! them on tokio's blocking pool. The OS keyring calls themselves run on a short-lived thread of
//! their own, because keyring 3's Secret Service store drives zbus with a private tokio runtime,
//! which panics if it is started on a thread that already runs a tokio runtime.

use crate::cloud::{AlibabaSignatureVersion, HuaweiSigning, ProxySetting};
use crate::credentials::{AlibabaCredentials, HuaweiCredentials, Secret};
use crate::model::Provider;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Keyring service name under which every certdesk secret is stored.
pub const KEYRING_SERVICE: &str = "certdesk";

/// Environment variable that overrides the directory holding `profiles.toml` (tests, portable use).
pub const CONFIG_DIR_ENV: &str = "CERTDESK_CONFIG_DIR";

/// File name of the profile list inside the config directory.
pub const PROFILES_FILE: &str = "profiles.toml";

/// One account: everything but the secret, which lives in the OS keyring.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// Unique name chosen by the user.
    pub name: String,
    /// Which cloud.
    pub provider: Provider,
    /// Region id, e.g. `cn-hangzhou` or `cn-north-4`.
    pub region: String,
    /// Endpoint override (`https://…`, or `http://` for loopback only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// AccessKey id (Alibaba) or AK (Huawei). Not secret; kept in the file.
    pub access_key_id: String,
    /// Alibaba signature choice.
    #[serde(default)]
    pub alibaba_signature: AlibabaSignatureVersion,
    /// Huawei signature choice.
    #[serde(default)]
    pub huawei_signing: HuaweiSigning,
    /// Huawei project id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
    /// Huawei IoTDA instance id (`Instance-Id` header).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
    /// Requests per second for bulk jobs under this profile (GUI and CLI); `None` keeps the
    /// API's published limit, `0` turns the limit off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit_qps: Option<u32>,
    /// More regions besides `region` (the profile's default): the estate reads every region of
    /// the regional services (KMS, ESA, IoTDA). Empty: `region` only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regions: Vec<String>,
    /// Huawei: the IAM project id of each extra region (`project_id` is `region`'s).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub projects: BTreeMap<String, String>,
    /// Alibaba: a RAM role assumed with another profile's key; the role's temporary credentials
    /// are kept in memory only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<RoleSpec>,
    /// Part of the workspace: shown in the window and read by `--all-profiles`.
    #[serde(default = "enabled_by_default", skip_serializing_if = "is_true")]
    pub enabled: bool,
    /// The proxy of this profile's HTTPS requests: `http://host:port` (or `https://`), or `none`
    /// for no proxy; absent → `HTTPS_PROXY` / `ALL_PROXY` / `NO_PROXY` from the environment.
    /// Plain-http (loopback) endpoints never use a proxy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy: Option<String>,
}

fn enabled_by_default() -> bool {
    true
}

fn is_true(value: &bool) -> bool {
    *value
}

/// A RAM role an Alibaba profile assumes (STS AssumeRole) with its source profile's key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleSpec {
    /// `acs:ram::<account id>:role/<name>`.
    pub role_arn: String,
    /// The profile whose AccessKey assumes the role (an Alibaba profile with a key of its own).
    pub source_profile: String,
    /// The role's trust-policy ExternalId, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Session name shown in the target account's audit (default `certdesk-<profile>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_name: Option<String>,
    /// Seconds the credentials last (900 up to the role's maximum; default 3600).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_secs: Option<u32>,
}

impl Profile {
    /// A profile of `provider` with only the essentials set.
    pub fn new(name: &str, provider: Provider, region: &str, access_key_id: &str) -> Self {
        Profile {
            name: name.to_string(),
            provider,
            region: region.to_string(),
            endpoint: None,
            access_key_id: access_key_id.to_string(),
            alibaba_signature: AlibabaSignatureVersion::default(),
            huawei_signing: HuaweiSigning::default(),
            project_id: None,
            instance_id: None,
            rate_limit_qps: None,
            regions: Vec::new(),
            projects: BTreeMap::new(),
            role: None,
            enabled: true,
            proxy: None,
        }
    }

    /// Every region the profile covers, its default first.
    pub fn all_regions(&self) -> Vec<String> {
        let mut all = vec![self.region.clone()];
        for r in &self.regions {
            if !all.contains(r) {
                all.push(r.clone());
            }
        }
        all
    }

    /// Huawei: the IAM project id of `region`.
    pub fn project_for(&self, region: &str) -> Option<&str> {
        if region == self.region {
            return self.project_id.as_deref();
        }
        self.projects.get(region).map(String::as_str)
    }
}

/// Why credentials or profiles could not be found, read or stored. No variant ever carries a secret.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// Neither a profile nor the SDK environment variables provide credentials.
    #[error("no {provider} credentials: configure a profile or set {hint}")]
    NoCredentials {
        /// Which cloud.
        provider: Provider,
        /// The environment variables that would work.
        hint: &'static str,
    },
    /// `--profile NAME` names no profile in `profiles.toml`.
    #[error(
        "unknown profile {name:?} (known: {known}); add it in the app under Settings → Profiles"
    )]
    UnknownProfile {
        /// The name asked for.
        name: String,
        /// Comma-separated names that exist, or `none`.
        known: String,
    },
    /// The named profile belongs to the other cloud.
    #[error(
        "profile {name:?} is a {actual} profile, but this command needs {expected} credentials"
    )]
    WrongProvider {
        /// The profile.
        name: String,
        /// What the command needs.
        expected: Provider,
        /// What the profile is.
        actual: Provider,
    },
    /// The profile exists in the file but its secret is not in the keyring.
    #[error(
        "no secret in the OS keyring for profile {name:?}: run `certdesk` and enter it again under \
         Settings → Profiles (or delete the profile and use the SDK environment variables)"
    )]
    MissingSecret {
        /// The profile.
        name: String,
    },
    /// No usable keyring: no Secret Service on D-Bus, no session bus, a locked store, or a
    /// platform without a persistent store.
    #[error("the OS keyring is unavailable: {reason}")]
    KeyringUnavailable {
        /// Which of those it is, in words.
        reason: String,
    },
    /// The keyring answered, but with an error.
    #[error("OS keyring error for {user:?}: {message}")]
    Keyring {
        /// The keyring user (profile name, `<name>:token`).
        user: String,
        /// What went wrong.
        message: String,
    },
    /// A profile with this name already exists.
    #[error("a profile named {name:?} already exists")]
    DuplicateProfile {
        /// The name.
        name: String,
    },
    /// The profile is the source of role profiles (they assume their roles with its key), so
    /// it cannot be removed before them.
    #[error(
        "profile {name:?} is the source profile of {users}: remove or change them first (they \
         assume their roles with its key)"
    )]
    SourceInUse {
        /// The profile.
        name: String,
        /// The role profiles using it, quoted and comma-separated.
        users: String,
    },
    /// A selected profile reaches the same account (the same key or role) as one selected
    /// before it: that account is read once, under the first profile.
    #[error("profile {name:?} reaches the same account as profile {first:?}; it is read once")]
    DuplicateAccount {
        /// The later profile (skipped).
        name: String,
        /// The first profile of that account (used).
        first: String,
    },
    /// A profile failed validation before being stored.
    #[error("invalid profile {name:?}: {reason}")]
    InvalidProfile {
        /// The profile's name.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The config directory or `profiles.toml` is another user's, or others may write it (a
    /// profile's endpoint could be pointed elsewhere).
    #[error("unsafe configuration: {0}")]
    UnsafeConfig(#[from] crate::files::DirError),
    /// No config directory could be determined (no `HOME`, no `CERTDESK_CONFIG_DIR`).
    #[error("cannot find a configuration directory: set HOME or {CONFIG_DIR_ENV}")]
    NoConfigDir,
    /// Reading or writing the profiles file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// `profiles.toml` is not valid.
    #[error("{path} is not a valid profiles file: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The TOML parser's message.
        message: String,
    },
}

fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Alibaba credentials from the official SDK variables `ALIBABA_CLOUD_ACCESS_KEY_ID`,
/// `ALIBABA_CLOUD_ACCESS_KEY_SECRET` and (optional) `ALIBABA_CLOUD_SECURITY_TOKEN`.
pub fn alibaba_from_env() -> Option<AlibabaCredentials> {
    alibaba_from_lookup(&env_nonempty)
}

fn alibaba_from_lookup(env: &dyn Fn(&str) -> Option<String>) -> Option<AlibabaCredentials> {
    Some(AlibabaCredentials {
        access_key_id: env("ALIBABA_CLOUD_ACCESS_KEY_ID")?,
        access_key_secret: Secret::new(env("ALIBABA_CLOUD_ACCESS_KEY_SECRET")?),
        security_token: env("ALIBABA_CLOUD_SECURITY_TOKEN").map(Secret::new),
    })
}

/// Huawei credentials and project id from `HUAWEICLOUD_SDK_AK`, `HUAWEICLOUD_SDK_SK`,
/// `HUAWEICLOUD_SDK_SECURITY_TOKEN` (optional) and `HUAWEICLOUD_SDK_PROJECT_ID` (optional).
pub fn huawei_from_env() -> Option<(HuaweiCredentials, Option<String>)> {
    huawei_from_lookup(&env_nonempty)
}

fn huawei_from_lookup(
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<(HuaweiCredentials, Option<String>)> {
    Some((
        HuaweiCredentials {
            access_key: env("HUAWEICLOUD_SDK_AK")?,
            secret_key: Secret::new(env("HUAWEICLOUD_SDK_SK")?),
            security_token: env("HUAWEICLOUD_SDK_SECURITY_TOKEN").map(Secret::new),
        },
        env("HUAWEICLOUD_SDK_PROJECT_ID"),
    ))
}

/// Credentials of either cloud, as resolved for one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountCredentials {
    /// Alibaba Cloud AccessKey.
    Alibaba(AlibabaCredentials),
    /// Huawei Cloud AK/SK.
    Huawei(HuaweiCredentials),
    /// An Alibaba RAM role, assumed with the source profile's AccessKey when first used.
    AlibabaRole {
        /// The source profile's key.
        source: AlibabaCredentials,
        /// The source profile (its region and endpoint reach STS).
        source_profile: Box<Profile>,
        /// The role.
        role: RoleSpec,
    },
}

/// A usable account: the profile's settings plus its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Non-secret settings (for environment credentials: a synthesized profile named `env`).
    pub profile: Profile,
    /// The credentials to sign with.
    pub credentials: AccountCredentials,
}

/// Default region of a provider when nothing else says (Alibaba: cn-hangzhou, Huawei: cn-north-4).
pub fn default_region(provider: Provider) -> &'static str {
    match provider {
        Provider::Alibaba => "cn-hangzhou",
        Provider::Huawei => "cn-north-4",
    }
}

// ---------------------------------------------------------------------------------------------
// The profiles file
// ---------------------------------------------------------------------------------------------

/// The directory that holds `profiles.toml`: `CERTDESK_CONFIG_DIR` if set and non-empty, else the
/// platform config directory (`~/.config/certdesk` on Linux, `~/Library/Application Support/certdesk`
/// on macOS, `%APPDATA%\certdesk\config` on Windows).
pub fn config_dir() -> Result<PathBuf, ProfileError> {
    config_dir_from(std::env::var_os(CONFIG_DIR_ENV))
}

/// [`config_dir`] with the override given explicitly (what the environment would say).
pub fn config_dir_from(override_dir: Option<OsString>) -> Result<PathBuf, ProfileError> {
    match override_dir.filter(|d| !d.is_empty()) {
        Some(dir) => Ok(PathBuf::from(dir)),
        None => directories::ProjectDirs::from("", "", "certdesk")
            .map(|dirs| dirs.config_dir().to_path_buf())
            .ok_or(ProfileError::NoConfigDir),
    }
}

/// Which profile of each provider is used when no `--profile` is given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Defaults {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    alibaba: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    huawei: Option<String>,
}

impl Defaults {
    fn get(&self, provider: Provider) -> Option<&str> {
        match provider {
            Provider::Alibaba => self.alibaba.as_deref(),
            Provider::Huawei => self.huawei.as_deref(),
        }
    }

    fn slot(&mut self, provider: Provider) -> &mut Option<String> {
        match provider {
            Provider::Alibaba => &mut self.alibaba,
            Provider::Huawei => &mut self.huawei,
        }
    }
}

/// On-disk shape of `profiles.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct ProfilesFile {
    #[serde(default)]
    defaults: Defaults,
    #[serde(default, rename = "profile")]
    profiles: Vec<Profile>,
}

const FILE_HEADER: &str = "# certdesk profiles. Secrets are NOT here: they live in the OS keyring\n\
# (service \"certdesk\", user = profile name). Edit in the app under Settings → Profiles.\n\n";

/// The profile list of one `profiles.toml`. Changes stay in memory until [`ProfileStore::save`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileStore {
    path: PathBuf,
    file: ProfilesFile,
}

impl ProfileStore {
    /// Loads `profiles.toml` from [`config_dir`]; an absent file is an empty store.
    pub fn load() -> Result<Self, ProfileError> {
        Self::load_from(config_dir()?.join(PROFILES_FILE))
    }

    /// Loads the given profiles file; an absent file is an empty store (saved there later).
    pub fn load_from(path: impl Into<PathBuf>) -> Result<Self, ProfileError> {
        let path = path.into();
        if let Some(dir) = path.parent().filter(|d| d.is_dir()) {
            crate::files::check_private_dir(dir)?;
        }
        crate::files::check_private_file(&path)?;
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(ProfileStore {
                    path,
                    file: ProfilesFile::default(),
                });
            }
            Err(source) => return Err(ProfileError::Io { path, source }),
        };
        let file: ProfilesFile = toml::from_str(&text).map_err(|e| ProfileError::Parse {
            path: path.clone(),
            message: e.message().to_string(),
        })?;
        // A hand-edited proxy that does not parse must not silently mean "the environment's".
        for profile in &file.profiles {
            if let Err(reason) = ProxySetting::from_profile(profile.proxy.as_deref()) {
                return Err(ProfileError::Parse {
                    path: path.clone(),
                    message: format!("profile {:?}: {reason}", profile.name),
                });
            }
        }
        Ok(ProfileStore { path, file })
    }

    /// The file this store reads and writes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every profile, in the order they were added.
    pub fn list(&self) -> &[Profile] {
        &self.file.profiles
    }

    /// The profile with this name.
    pub fn get(&self, name: &str) -> Option<&Profile> {
        self.file.profiles.iter().find(|p| p.name == name)
    }

    /// Adds a new profile (validated; the name must be unused). Call [`ProfileStore::save`] after.
    pub fn add(&mut self, profile: Profile) -> Result<(), ProfileError> {
        validate_profile(&profile)?;
        if self.get(&profile.name).is_some() {
            return Err(ProfileError::DuplicateProfile { name: profile.name });
        }
        self.check_role_source(&profile)?;
        self.file.profiles.push(profile);
        Ok(())
    }

    /// A role profile's source must be stored already and be an Alibaba Cloud profile with a key
    /// of its own (what [`account_in`] needs to assume the role).
    pub fn check_role_source(&self, profile: &Profile) -> Result<(), ProfileError> {
        let Some(role) = &profile.role else {
            return Ok(());
        };
        let invalid = |reason: String| ProfileError::InvalidProfile {
            name: profile.name.clone(),
            reason,
        };
        match self.get(&role.source_profile) {
            None => Err(invalid(format!(
                "its source profile {:?} does not exist (known: {})",
                role.source_profile,
                self.known_names()
            ))),
            Some(source) if source.provider != Provider::Alibaba || source.role.is_some() => {
                Err(invalid(format!(
                    "its source profile {:?} must be an Alibaba Cloud profile with a key of its own",
                    source.name
                )))
            }
            Some(_) => Ok(()),
        }
    }

    /// The role profiles whose source is `name`, in file order.
    pub fn role_profiles_using(&self, name: &str) -> Vec<&str> {
        self.file
            .profiles
            .iter()
            .filter(|p| p.role.as_ref().is_some_and(|r| r.source_profile == name))
            .map(|p| p.name.as_str())
            .collect()
    }

    /// Replaces the profile of the same name (validated). Call [`ProfileStore::save`] after.
    pub fn update(&mut self, profile: Profile) -> Result<(), ProfileError> {
        validate_profile(&profile)?;
        self.check_role_source(&profile)?;
        let users = self.role_profiles_using(&profile.name);
        if !users.is_empty() && (profile.provider != Provider::Alibaba || profile.role.is_some()) {
            return Err(ProfileError::InvalidProfile {
                name: profile.name.clone(),
                reason: format!(
                    "it is the source profile of {}, so it must stay an Alibaba Cloud profile \
                     with a key of its own",
                    users.join(", ")
                ),
            });
        }
        let known = self.known_names();
        let slot = self
            .file
            .profiles
            .iter_mut()
            .find(|p| p.name == profile.name)
            .ok_or_else(|| ProfileError::UnknownProfile {
                name: profile.name.clone(),
                known,
            })?;
        if slot.provider != profile.provider
            && self.file.defaults.get(slot.provider) == Some(&slot.name)
        {
            *self.file.defaults.slot(slot.provider) = None;
        }
        *slot = profile;
        Ok(())
    }

    /// Removes a profile (and its default mark). Its keyring secrets are not touched: see
    /// [`delete_profile`] for the whole removal. Refused while role profiles use it as their
    /// source ([`ProfileError::SourceInUse`]).
    pub fn remove(&mut self, name: &str) -> Result<Profile, ProfileError> {
        let users = self.role_profiles_using(name);
        if !users.is_empty() {
            return Err(ProfileError::SourceInUse {
                name: name.to_string(),
                users: users
                    .iter()
                    .map(|u| format!("{u:?}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        let known = self.known_names();
        let index = self
            .file
            .profiles
            .iter()
            .position(|p| p.name == name)
            .ok_or_else(|| ProfileError::UnknownProfile {
                name: name.to_string(),
                known,
            })?;
        let removed = self.file.profiles.remove(index);
        if self.file.defaults.get(removed.provider) == Some(name) {
            *self.file.defaults.slot(removed.provider) = None;
        }
        Ok(removed)
    }

    /// Marks `name` as the default profile of its provider, or (with `None`) clears the mark of
    /// `provider`.
    pub fn set_default(
        &mut self,
        provider: Provider,
        name: Option<&str>,
    ) -> Result<(), ProfileError> {
        if let Some(name) = name {
            let known = self.known_names();
            let profile = self.get(name).ok_or_else(|| ProfileError::UnknownProfile {
                name: name.to_string(),
                known,
            })?;
            if profile.provider != provider {
                return Err(ProfileError::WrongProvider {
                    name: name.to_string(),
                    expected: provider,
                    actual: profile.provider,
                });
            }
        }
        *self.file.defaults.slot(provider) = name.map(str::to_string);
        Ok(())
    }

    /// The name explicitly marked default for `provider`, if any.
    pub fn marked_default(&self, provider: Provider) -> Option<&str> {
        self.file.defaults.get(provider)
    }

    /// The profile used for `provider` when none is named: the one marked default, else the only
    /// profile of that provider. `None` when there is no profile or several and none is marked.
    pub fn default_for(&self, provider: Provider) -> Option<&Profile> {
        if let Some(profile) = self
            .marked_default(provider)
            .and_then(|name| self.get(name))
        {
            return Some(profile);
        }
        let mut of_provider = self.file.profiles.iter().filter(|p| p.provider == provider);
        match (of_provider.next(), of_provider.next()) {
            (Some(only), None) => Some(only),
            _ => None,
        }
    }

    /// Writes the file atomically (temporary file in the same directory, fsync, rename), creating
    /// the directory if needed. The file is readable by its owner only on Unix.
    pub fn save(&self) -> Result<(), ProfileError> {
        let dir = match self.path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        };
        create_private_dir(&dir)?;
        let body = toml::to_string_pretty(&self.file).map_err(|e| ProfileError::Parse {
            path: self.path.clone(),
            message: e.to_string(),
        })?;
        let io_err = |source| ProfileError::Io {
            path: self.path.clone(),
            source,
        };
        // NamedTempFile is created 0600 on Unix and removed if anything below fails.
        let mut tmp = tempfile::NamedTempFile::new_in(&dir).map_err(io_err)?;
        tmp.write_all(FILE_HEADER.as_bytes()).map_err(io_err)?;
        tmp.write_all(body.as_bytes()).map_err(io_err)?;
        tmp.as_file().sync_all().map_err(io_err)?;
        tmp.persist(&self.path).map_err(|e| io_err(e.error))?;
        Ok(())
    }

    /// The names of every profile, comma-separated (`none` when there is none).
    pub fn known_names(&self) -> String {
        if self.file.profiles.is_empty() {
            "none".to_string()
        } else {
            let names: Vec<&str> = self.file.profiles.iter().map(|p| p.name.as_str()).collect();
            names.join(", ")
        }
    }
}

fn create_private_dir(dir: &Path) -> Result<(), ProfileError> {
    Ok(crate::files::ensure_private_dir(dir)?)
}

/// Checks what a profile must satisfy before it is stored: a name usable as keyring user (letters,
/// digits, space, `.`, `_`, `-`; at most 64; no `:` because `<name>:token` holds the token), a
/// region, an AccessKey id, and an endpoint that is `https://`, or `http://` on a loopback host.
pub fn validate_profile(profile: &Profile) -> Result<(), ProfileError> {
    let invalid = |reason: &str| ProfileError::InvalidProfile {
        name: profile.name.clone(),
        reason: reason.to_string(),
    };
    let name = profile.name.as_str();
    if name.trim().is_empty() || name.trim() != name {
        return Err(invalid(
            "the name must be non-empty without leading or trailing spaces",
        ));
    }
    if name.chars().count() > 64 {
        return Err(invalid("the name must be at most 64 characters"));
    }
    if !name
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '.' | '_' | '-'))
    {
        return Err(invalid(
            "the name may contain only letters, digits, spaces, '.', '_' and '-'",
        ));
    }
    if profile.region.trim().is_empty() {
        return Err(invalid("a region is required"));
    }
    for region in &profile.regions {
        if region.trim().is_empty() || region.trim() != region {
            return Err(invalid(
                "a region id must not be empty or padded with spaces",
            ));
        }
    }
    match &profile.role {
        None if profile.access_key_id.trim().is_empty() => {
            return Err(invalid("an AccessKey id is required"));
        }
        None => {}
        Some(_) if profile.provider != Provider::Alibaba => {
            return Err(invalid("only Alibaba Cloud profiles can assume a RAM role"));
        }
        Some(role) => {
            if crate::cloud::sts::role_account(&role.role_arn).is_none() {
                return Err(invalid(
                    "the role ARN must look like acs:ram::<account id>:role/<name>",
                ));
            }
            if role.source_profile.trim().is_empty() || role.source_profile == profile.name {
                return Err(invalid(
                    "a role profile needs another profile (with a key) as its source",
                ));
            }
            if let Some(d) = role.duration_secs
                && !(900..=43_200).contains(&d)
            {
                return Err(invalid(
                    "the role session lasts 900 to 43200 seconds (the role's maximum may be lower)",
                ));
            }
        }
    }
    if profile.provider == Provider::Huawei {
        for region in &profile.regions {
            if region != &profile.region && !profile.projects.contains_key(region) {
                return Err(invalid(&format!(
                    "Huawei region {region} needs its IAM project id (each region has its own)"
                )));
            }
        }
    }
    if let Some(endpoint) = &profile.endpoint {
        check_endpoint(endpoint).map_err(|reason| invalid(&reason))?;
    }
    ProxySetting::from_profile(profile.proxy.as_deref()).map_err(|reason| invalid(&reason))?;
    Ok(())
}

/// `https://…` anywhere; `http://…` only for loopback hosts (the simulator). A bare `host[:port]`
/// means https.
fn check_endpoint(endpoint: &str) -> Result<(), String> {
    let with_scheme = if endpoint.contains("://") {
        endpoint.to_string()
    } else {
        format!("https://{endpoint}")
    };
    let url = url::Url::parse(&with_scheme).map_err(|e| format!("endpoint {endpoint:?}: {e}"))?;
    match url.scheme() {
        "https" => Ok(()),
        "http" => {
            let loopback = match url.host() {
                Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                None => false,
            };
            if loopback {
                Ok(())
            } else {
                Err(format!(
                    "endpoint {endpoint:?}: plain http is allowed only for loopback hosts; use https"
                ))
            }
        }
        other => Err(format!(
            "endpoint {endpoint:?}: unsupported scheme {other:?}"
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Secrets
// ---------------------------------------------------------------------------------------------

/// The secret half of a profile, kept only in a [`SecretStore`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileSecrets {
    /// AccessKey secret (Alibaba) or SK (Huawei).
    pub secret: Secret,
    /// STS / temporary security token, when the AccessKey is temporary.
    pub security_token: Option<Secret>,
}

/// Keyring user that holds a profile's security token.
pub fn token_user(profile_name: &str) -> String {
    format!("{profile_name}:token")
}

/// Where secrets are kept: the OS keyring ([`OsKeyring`]) or, in tests and the demo, memory
/// ([`MemoryKeyring`]). Keys are keyring users under the service [`KEYRING_SERVICE`].
pub trait SecretStore: Send + Sync {
    /// The secret stored for `user`, `None` if there is none.
    fn get(&self, user: &str) -> Result<Option<Secret>, ProfileError>;
    /// Stores (or replaces) the secret for `user`.
    fn set(&self, user: &str, value: &Secret) -> Result<(), ProfileError>;
    /// Deletes the secret of `user`; `Ok(false)` if there was none.
    fn delete(&self, user: &str) -> Result<bool, ProfileError>;
}

/// The platform keyring: Secret Service over D-Bus on Linux/BSD (gnome-keyring, KWallet,
/// KeePassXC), Keychain on macOS, Credential Manager on Windows. Each call blocks.
#[derive(Debug, Clone, Copy, Default)]
pub struct OsKeyring;

/// Serialises keyring calls: the Secret Service store shares one private runtime and we never need
/// two D-Bus conversations at once.
static OS_KEYRING_LOCK: Mutex<()> = Mutex::new(());

impl OsKeyring {
    /// Runs `op` on the given keyring entry on a fresh thread (see the module docs for why).
    fn with_entry<T: Send + 'static>(
        user: &str,
        op: impl FnOnce(&keyring::Entry) -> Result<T, keyring::Error> + Send + 'static,
    ) -> Result<T, ProfileError> {
        ensure_persistent_store()?;
        let owned_user = user.to_string();
        let worker = std::thread::Builder::new()
            .name("certdesk-keyring".to_string())
            .spawn(move || {
                // A poisoned lock only means another keyring call panicked; the lock guards no data.
                let _guard = OS_KEYRING_LOCK.lock().unwrap_or_else(|p| p.into_inner());
                let entry = keyring::Entry::new(KEYRING_SERVICE, &owned_user)?;
                op(&entry)
            })
            .map_err(|e| ProfileError::Keyring {
                user: user.to_string(),
                message: format!("cannot start the keyring thread: {e}"),
            })?;
        match worker.join() {
            Ok(result) => result.map_err(|e| keyring_error(user, e)),
            Err(_) => Err(ProfileError::Keyring {
                user: user.to_string(),
                message: "the keyring library panicked".to_string(),
            }),
        }
    }

    /// Checks that a keyring is reachable and usable by storing, reading back and deleting a
    /// throw-away entry. Blocks.
    pub fn probe(&self) -> Result<(), ProfileError> {
        let user = format!("certdesk-probe-{}", uuid::Uuid::new_v4());
        let value = Secret::new(uuid::Uuid::new_v4().to_string());
        self.set(&user, &value)?;
        let read = self.get(&user);
        let deleted = self.delete(&user);
        match read? {
            Some(back) if back == value => {}
            _ => {
                return Err(ProfileError::KeyringUnavailable {
                    reason: "a secret stored in the keyring could not be read back".to_string(),
                });
            }
        }
        deleted.map(|_| ())
    }
}

impl SecretStore for OsKeyring {
    fn get(&self, user: &str) -> Result<Option<Secret>, ProfileError> {
        OsKeyring::with_entry(user, |entry| match entry.get_password() {
            Ok(value) => Ok(Some(Secret::new(value))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(e),
        })
    }

    fn set(&self, user: &str, value: &Secret) -> Result<(), ProfileError> {
        let value = value.clone();
        OsKeyring::with_entry(user, move |entry| entry.set_password(value.expose()))
    }

    fn delete(&self, user: &str) -> Result<bool, ProfileError> {
        OsKeyring::with_entry(user, |entry| match entry.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(e) => Err(e),
        })
    }
}

/// Refuses the keyring crate's in-memory fallback store, which would silently forget secrets.
fn ensure_persistent_store() -> Result<(), ProfileError> {
    use keyring::credential::CredentialPersistence;
    match keyring::default::default_credential_builder().persistence() {
        CredentialPersistence::UntilDelete | CredentialPersistence::UntilReboot => Ok(()),
        _ => Err(ProfileError::KeyringUnavailable {
            reason: "this build has no persistent keyring for this platform".to_string(),
        }),
    }
}

/// Turns a keyring error into words a user can act on; never includes secret material.
fn keyring_error(user: &str, error: keyring::Error) -> ProfileError {
    match error {
        keyring::Error::PlatformFailure(detail) => ProfileError::KeyringUnavailable {
            reason: platform_failure_reason(&detail.to_string()),
        },
        keyring::Error::NoStorageAccess(detail) => ProfileError::KeyringUnavailable {
            reason: format!(
                "the keyring refused access (it is locked, or an unlock prompt was dismissed): {detail}"
            ),
        },
        keyring::Error::NoEntry => ProfileError::Keyring {
            user: user.to_string(),
            message: "no such entry".to_string(),
        },
        keyring::Error::BadEncoding(_) => ProfileError::Keyring {
            user: user.to_string(),
            message: "the stored secret is not UTF-8 text".to_string(),
        },
        keyring::Error::Ambiguous(items) => ProfileError::Keyring {
            user: user.to_string(),
            message: format!(
                "{} keyring items match service {KEYRING_SERVICE:?} and this user; delete the extra ones \
                 (e.g. with seahorse or `secret-tool clear service {KEYRING_SERVICE} username '{user}'`)",
                items.len()
            ),
        },
        other => ProfileError::Keyring {
            user: user.to_string(),
            message: other.to_string(),
        },
    }
}

/// Says which part of the platform keyring is missing.
fn platform_failure_reason(detail: &str) -> String {
    if cfg!(any(
        target_os = "linux",
        target_os = "freebsd",
        target_os = "openbsd"
    )) {
        if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none_or(|v| v.is_empty()) {
            return format!(
                "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set), so no Secret Service: \
                 run certdesk inside a desktop session or `dbus-run-session` with gnome-keyring \
                 ({detail})"
            );
        }
        return format!(
            "no Secret Service on D-Bus (org.freedesktop.secrets): start gnome-keyring-daemon, \
             KWallet or KeePassXC with its Secret Service integration ({detail})"
        );
    }
    format!("platform keyring failure: {detail}")
}

/// Secrets in memory, for tests and the demo workspace. Never persisted.
#[derive(Debug, Default)]
pub struct MemoryKeyring {
    entries: Mutex<HashMap<String, Secret>>,
}

impl MemoryKeyring {
    /// An empty in-memory keyring.
    pub fn new() -> Self {
        Self::default()
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, Secret>> {
        // The map stays consistent even if a holder panicked: every operation is one insert/remove.
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl SecretStore for MemoryKeyring {
    fn get(&self, user: &str) -> Result<Option<Secret>, ProfileError> {
        Ok(self.entries().get(user).cloned())
    }

    fn set(&self, user: &str, value: &Secret) -> Result<(), ProfileError> {
        self.entries().insert(user.to_string(), value.clone());
        Ok(())
    }

    fn delete(&self, user: &str) -> Result<bool, ProfileError> {
        Ok(self.entries().remove(user).is_some())
    }
}

/// Stores a profile's secret (and token, or removes a stale token) in `keyring`.
pub fn save_secrets(
    keyring: &dyn SecretStore,
    profile_name: &str,
    secrets: &ProfileSecrets,
) -> Result<(), ProfileError> {
    if secrets.secret.is_empty() {
        return Err(ProfileError::InvalidProfile {
            name: profile_name.to_string(),
            reason: "the secret is empty".to_string(),
        });
    }
    keyring.set(profile_name, &secrets.secret)?;
    match &secrets.security_token {
        Some(token) if !token.is_empty() => keyring.set(&token_user(profile_name), token),
        _ => keyring.delete(&token_user(profile_name)).map(|_| ()),
    }
}

/// Reads a profile's secret and optional token; [`ProfileError::MissingSecret`] if the secret is absent.
pub fn load_secrets(
    keyring: &dyn SecretStore,
    profile_name: &str,
) -> Result<ProfileSecrets, ProfileError> {
    let secret = keyring
        .get(profile_name)?
        .ok_or_else(|| ProfileError::MissingSecret {
            name: profile_name.to_string(),
        })?;
    let security_token = keyring.get(&token_user(profile_name))?;
    Ok(ProfileSecrets {
        secret,
        security_token,
    })
}

/// Deletes a profile's secret and token from `keyring` (absent entries are fine).
pub fn delete_secrets(keyring: &dyn SecretStore, profile_name: &str) -> Result<(), ProfileError> {
    keyring.delete(profile_name)?;
    keyring.delete(&token_user(profile_name))?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Whole operations (file + keyring)
// ---------------------------------------------------------------------------------------------

/// Adds a profile: secrets into `keyring` first, then the file is saved; if saving fails the
/// secrets are removed again. `make_default` marks it default for its provider.
///
/// A role profile has no secret of its own (it assumes its role with its source profile's key):
/// its `secrets` must be empty, and nothing is written to the keyring.
pub fn create_profile(
    store: &mut ProfileStore,
    keyring: &dyn SecretStore,
    profile: Profile,
    secrets: &ProfileSecrets,
    make_default: bool,
) -> Result<(), ProfileError> {
    validate_profile(&profile)?;
    if store.get(&profile.name).is_some() {
        return Err(ProfileError::DuplicateProfile { name: profile.name });
    }
    store.check_role_source(&profile)?;
    let name = profile.name.clone();
    let provider = profile.provider;
    if profile.role.is_some() {
        if !secrets.secret.is_empty() || secrets.security_token.is_some() {
            return Err(ProfileError::InvalidProfile {
                name,
                reason: "a role profile has no secret of its own: it assumes its role with its \
                         source profile's key"
                    .to_string(),
            });
        }
    } else {
        save_secrets(keyring, &name, secrets)?;
    }
    let before = store.clone();
    let written = store
        .add(profile)
        .and_then(|()| {
            if make_default {
                store.set_default(provider, Some(&name))
            } else {
                Ok(())
            }
        })
        .and_then(|()| store.save());
    if let Err(e) = written {
        *store = before;
        // Best effort: the original error is the one worth reporting.
        let _ = delete_secrets(keyring, &name);
        return Err(e);
    }
    Ok(())
}

/// Replaces a profile's settings and, when `secrets` is given, its keyring secrets; saves the file.
pub fn update_profile(
    store: &mut ProfileStore,
    keyring: &dyn SecretStore,
    profile: Profile,
    secrets: Option<&ProfileSecrets>,
) -> Result<(), ProfileError> {
    let before = store.clone();
    let name = profile.name.clone();
    store.update(profile)?;
    if let Err(e) = store.save() {
        *store = before;
        return Err(e);
    }
    if let Some(secrets) = secrets {
        save_secrets(keyring, &name, secrets)?;
    }
    Ok(())
}

/// Removes a profile from the file (saved) and its secrets from `keyring`.
pub fn delete_profile(
    store: &mut ProfileStore,
    keyring: &dyn SecretStore,
    name: &str,
) -> Result<Profile, ProfileError> {
    let before = store.clone();
    let removed = store.remove(name)?;
    if let Err(e) = store.save() {
        *store = before;
        return Err(e);
    }
    delete_secrets(keyring, name)?;
    Ok(removed)
}

/// Finds the account to use for `provider` with the default profiles file and the OS keyring:
/// the named profile (file + keyring); with no name, the provider's default profile (marked
/// default, or the only one of that provider); else the SDK environment variables.
///
/// Blocks on the keyring: do not call on a UI thread; from async code use [`resolve_async`].
pub fn resolve(profile_name: Option<&str>, provider: Provider) -> Result<Account, ProfileError> {
    let store = match ProfileStore::load() {
        Ok(store) => Some(store),
        // Without a home directory there can be no profile file; the environment may still work.
        Err(ProfileError::NoConfigDir) if profile_name.is_none() => None,
        Err(e) => return Err(e),
    };
    match store {
        Some(store) => resolve_in(&store, &OsKeyring, profile_name, provider),
        None => resolve_from_env(provider, &env_nonempty),
    }
}

/// [`resolve`] on tokio's blocking pool, for async callers.
pub async fn resolve_async(
    profile_name: Option<String>,
    provider: Provider,
) -> Result<Account, ProfileError> {
    run_blocking(move || resolve(profile_name.as_deref(), provider)).await
}

/// [`resolve`] over an explicit store and keyring (tests, the GUI's own store).
pub fn resolve_in(
    store: &ProfileStore,
    keyring: &dyn SecretStore,
    profile_name: Option<&str>,
    provider: Provider,
) -> Result<Account, ProfileError> {
    resolve_with_env(store, keyring, profile_name, provider, &env_nonempty)
}

fn resolve_with_env(
    store: &ProfileStore,
    keyring: &dyn SecretStore,
    profile_name: Option<&str>,
    provider: Provider,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Account, ProfileError> {
    let profile = match profile_name {
        Some(name) => {
            let profile = store
                .get(name)
                .ok_or_else(|| ProfileError::UnknownProfile {
                    name: name.to_string(),
                    known: store.known_names(),
                })?;
            if profile.provider != provider {
                return Err(ProfileError::WrongProvider {
                    name: name.to_string(),
                    expected: provider,
                    actual: profile.provider,
                });
            }
            profile
        }
        None => match store.default_for(provider) {
            Some(profile) => profile,
            None => return resolve_from_env(provider, env),
        },
    };
    account_in(store, keyring, profile)
}

/// The account of a stored profile: its own secret, or (a role profile) its source profile's.
pub fn account_in(
    store: &ProfileStore,
    keyring: &dyn SecretStore,
    profile: &Profile,
) -> Result<Account, ProfileError> {
    let Some(role) = &profile.role else {
        return account_from_profile(profile.clone(), load_secrets(keyring, &profile.name)?);
    };
    let invalid = |reason: String| ProfileError::InvalidProfile {
        name: profile.name.clone(),
        reason,
    };
    let source = store.get(&role.source_profile).ok_or_else(|| {
        invalid(format!(
            "its role's source profile {:?} does not exist (known: {})",
            role.source_profile,
            store.known_names()
        ))
    })?;
    if source.provider != Provider::Alibaba || source.role.is_some() {
        return Err(invalid(format!(
            "its role's source profile {:?} must be an Alibaba Cloud profile with a key of its own",
            source.name
        )));
    }
    let secrets = load_secrets(keyring, &source.name)?;
    Ok(Account {
        profile: profile.clone(),
        credentials: AccountCredentials::AlibabaRole {
            source: AlibabaCredentials {
                access_key_id: source.access_key_id.clone(),
                access_key_secret: secrets.secret,
                security_token: secrets.security_token,
            },
            source_profile: Box::new(source.clone()),
            role: role.clone(),
        },
    })
}

/// Which profiles a command or the window works over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Each cloud's default profile (or the SDK environment variables).
    Default,
    /// These profiles, by name.
    Named(Vec<String>),
    /// Every enabled profile.
    All,
}

impl Selection {
    /// `--profile A,B`: `None` or empty → [`Selection::Default`].
    pub fn from_list(list: Option<&str>) -> Selection {
        let names: Vec<String> = list
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_string)
            .collect();
        if names.is_empty() {
            Selection::Default
        } else {
            Selection::Named(names)
        }
    }
}

/// The accounts of `selection`, each resolved on its own: one that cannot be resolved (a
/// missing secret, an unknown source profile) fails alone, with its name; the others still come
/// back. An unknown name in a [`Selection::Named`] list is one such failure, naming the known
/// ones. Two profiles with the same key are reported once, the second as a duplicate.
pub fn resolve_selection(
    store: &ProfileStore,
    keyring: &dyn SecretStore,
    selection: &Selection,
) -> Vec<(String, Result<Account, ProfileError>)> {
    let mut out: Vec<(String, Result<Account, ProfileError>)> = match selection {
        Selection::Default => [Provider::Alibaba, Provider::Huawei]
            .into_iter()
            .filter_map(|p| match resolve_in(store, keyring, None, p) {
                Err(ProfileError::NoCredentials { .. }) => None,
                r => Some((
                    r.as_ref()
                        .map(|a| a.profile.name.clone())
                        .unwrap_or_else(|_| p.to_string()),
                    r,
                )),
            })
            .collect(),
        Selection::Named(names) => names
            .iter()
            .map(|name| {
                let r = match store.get(name) {
                    Some(p) => account_in(store, keyring, p),
                    None => Err(ProfileError::UnknownProfile {
                        name: name.clone(),
                        known: store.known_names(),
                    }),
                };
                (name.clone(), r)
            })
            .collect(),
        Selection::All => store
            .list()
            .iter()
            .filter(|p| p.enabled)
            .map(|p| (p.name.clone(), account_in(store, keyring, p)))
            .collect(),
    };
    // The same key (or role) twice is the same account twice: its rows would show twice.
    let mut seen: Vec<(String, String)> = Vec::new();
    for (name, result) in &mut out {
        let Ok(account) = result else { continue };
        let identity = match &account.credentials {
            AccountCredentials::Alibaba(c) => c.access_key_id.clone(),
            AccountCredentials::Huawei(c) => c.access_key.clone(),
            AccountCredentials::AlibabaRole { role, .. } => role.role_arn.clone(),
        };
        if let Some((first, _)) = seen.iter().find(|(_, id)| *id == identity) {
            *result = Err(ProfileError::DuplicateAccount {
                name: name.clone(),
                first: first.clone(),
            });
        } else {
            seen.push((name.clone(), identity));
        }
    }
    out
}

/// The Alibaba client configuration of `account` in `region` (`endpoint` overrides the
/// profile's). A role account gets its [`RoleSession`](crate::cloud::RoleSession): nothing is
/// sent until the first call needs credentials.
pub fn alibaba_config(
    account: &Account,
    region: &str,
    endpoint: Option<&str>,
    transport: &crate::cloud::Transport,
) -> Result<crate::cloud::AlibabaClientConfig, crate::model::Error> {
    let profile = &account.profile;
    let endpoint = endpoint
        .map(str::to_string)
        .or_else(|| profile.endpoint.clone());
    let base = |credentials: AlibabaCredentials| crate::cloud::AlibabaClientConfig {
        credentials,
        region: region.to_string(),
        endpoint: endpoint.clone(),
        signature: profile.alibaba_signature,
        role: None,
        proxy: proxy_of(profile),
    };
    match &account.credentials {
        AccountCredentials::Alibaba(c) => Ok(base(c.clone())),
        AccountCredentials::AlibabaRole {
            source,
            source_profile,
            role,
        } => {
            let source_config = crate::cloud::AlibabaClientConfig {
                credentials: source.clone(),
                region: source_profile.region.clone(),
                endpoint: endpoint.clone().or_else(|| source_profile.endpoint.clone()),
                signature: source_profile.alibaba_signature,
                role: None,
                proxy: proxy_of(source_profile),
            };
            let request = crate::cloud::AssumeRoleRequest {
                role_arn: role.role_arn.clone(),
                role_session_name: role
                    .session_name
                    .clone()
                    .unwrap_or_else(|| session_name(&profile.name)),
                duration_seconds: role.duration_secs,
                external_id: role.external_id.clone(),
                policy: None,
            };
            let session = crate::cloud::RoleSession::new(transport, &source_config, request)?;
            Ok(crate::cloud::AlibabaClientConfig {
                role: Some(std::sync::Arc::new(session)),
                ..base(AlibabaCredentials {
                    access_key_id: String::new(),
                    access_key_secret: Secret::default(),
                    security_token: None,
                })
            })
        }
        AccountCredentials::Huawei(_) => Err(crate::model::Error::internal(
            crate::model::ErrorKind::Config,
            "WrongProvider",
            format!("profile {:?} is a Huawei Cloud profile", profile.name),
        )),
    }
}

/// The proxy a profile's requests go through (its `proxy` was validated when it was loaded).
fn proxy_of(profile: &Profile) -> crate::cloud::ProxySetting {
    crate::cloud::ProxySetting::from_profile(profile.proxy.as_deref()).unwrap_or_default()
}

/// A RoleSessionName from a profile name: 2–64 of letters, digits and `.@-_`.
fn session_name(profile: &str) -> String {
    let mut name: String = format!("certdesk-{profile}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '@' | '-' | '_') {
                c
            } else {
                '-'
            }
        })
        .collect();
    name.truncate(64);
    name
}

/// The Huawei client configuration of `account` in `region` (its project there), `endpoint`
/// overriding the profile's.
pub fn huawei_config(
    account: &Account,
    region: &str,
    endpoint: Option<&str>,
) -> Result<crate::cloud::HuaweiClientConfig, ProfileError> {
    let profile = &account.profile;
    let AccountCredentials::Huawei(credentials) = &account.credentials else {
        return Err(ProfileError::WrongProvider {
            name: profile.name.clone(),
            expected: Provider::Huawei,
            actual: profile.provider,
        });
    };
    let project_id = profile
        .project_for(region)
        .filter(|p| !p.trim().is_empty())
        .ok_or_else(|| ProfileError::InvalidProfile {
            name: profile.name.clone(),
            reason: format!("no IAM project id for region {region}"),
        })?;
    Ok(crate::cloud::HuaweiClientConfig {
        credentials: credentials.clone(),
        region: region.to_string(),
        endpoint: endpoint
            .map(str::to_string)
            .or_else(|| profile.endpoint.clone()),
        signing: profile.huawei_signing,
        project_id: project_id.to_string(),
        instance_id: profile.instance_id.clone(),
        proxy: proxy_of(profile),
    })
}

/// Pairs a profile with its secrets.
pub fn account_from_profile(
    profile: Profile,
    secrets: ProfileSecrets,
) -> Result<Account, ProfileError> {
    let credentials = match profile.provider {
        Provider::Alibaba => AccountCredentials::Alibaba(AlibabaCredentials {
            access_key_id: profile.access_key_id.clone(),
            access_key_secret: secrets.secret,
            security_token: secrets.security_token,
        }),
        Provider::Huawei => AccountCredentials::Huawei(HuaweiCredentials {
            access_key: profile.access_key_id.clone(),
            secret_key: secrets.secret,
            security_token: secrets.security_token,
        }),
    };
    Ok(Account {
        profile,
        credentials,
    })
}

fn resolve_from_env(
    provider: Provider,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Account, ProfileError> {
    let env_profile = |access_key_id: String, project_id: Option<String>| Profile {
        project_id,
        ..Profile::new("env", provider, default_region(provider), &access_key_id)
    };
    match provider {
        Provider::Alibaba => alibaba_from_lookup(env)
            .map(|c| Account {
                profile: env_profile(c.access_key_id.clone(), None),
                credentials: AccountCredentials::Alibaba(c),
            })
            .ok_or(ProfileError::NoCredentials {
                provider,
                hint: "ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET",
            }),
        Provider::Huawei => huawei_from_lookup(env)
            .map(|(c, project)| Account {
                profile: env_profile(c.access_key.clone(), project),
                credentials: AccountCredentials::Huawei(c),
            })
            .ok_or(ProfileError::NoCredentials {
                provider,
                hint: "HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK",
            }),
    }
}

/// Loads the default store and adds a profile with its secrets in the OS keyring, on tokio's
/// blocking pool.
pub async fn create_profile_async(
    profile: Profile,
    secrets: ProfileSecrets,
    make_default: bool,
) -> Result<(), ProfileError> {
    run_blocking(move || {
        let mut store = ProfileStore::load()?;
        create_profile(&mut store, &OsKeyring, profile, &secrets, make_default)
    })
    .await
}

/// Loads the default store and removes a profile and its OS keyring secrets, on tokio's blocking pool.
pub async fn delete_profile_async(name: String) -> Result<Profile, ProfileError> {
    run_blocking(move || {
        let mut store = ProfileStore::load()?;
        delete_profile(&mut store, &OsKeyring, &name)
    })
    .await
}

/// Checks the OS keyring with a throw-away entry, on tokio's blocking pool.
pub async fn probe_keyring_async() -> Result<(), ProfileError> {
    run_blocking(|| OsKeyring.probe()).await
}

async fn run_blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ProfileError> + Send + 'static,
) -> Result<T, ProfileError> {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|join_error| {
            Err(ProfileError::Keyring {
                user: String::new(),
                message: format!("the profile task failed: {join_error}"),
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn profile(name: &str, provider: Provider) -> Profile {
        Profile::new(
            name,
            provider,
            default_region(provider),
            &format!("AKID-{name}"),
        )
    }

    fn secrets(secret: &str) -> ProfileSecrets {
        ProfileSecrets {
            secret: Secret::new(secret),
            security_token: None,
        }
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn temp_store() -> (tempfile::TempDir, ProfileStore) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store =
            ProfileStore::load_from(dir.path().join("cfg").join(PROFILES_FILE)).expect("load");
        (dir, store)
    }

    #[test]
    fn config_dir_override_wins_and_empty_is_ignored() {
        assert_eq!(
            config_dir_from(Some(OsString::from("/tmp/x"))).expect("dir"),
            PathBuf::from("/tmp/x")
        );
        // An empty override falls back to the platform directory, which ends in "certdesk".
        if let Ok(dir) = config_dir_from(Some(OsString::new())) {
            assert!(dir.ends_with("certdesk"), "{}", dir.display());
        }
    }

    #[test]
    fn store_round_trips_through_the_file_and_keeps_defaults() {
        let (_dir, mut store) = temp_store();
        assert!(store.list().is_empty());
        let mut huawei = profile("hw", Provider::Huawei);
        huawei.project_id = Some("p1".into());
        huawei.instance_id = Some("i1".into());
        huawei.huawei_signing = HuaweiSigning::Derived;
        huawei.endpoint = Some("http://127.0.0.1:8080".into());
        huawei.rate_limit_qps = Some(25);
        store.add(profile("a1", Provider::Alibaba)).expect("add");
        store.add(profile("a2", Provider::Alibaba)).expect("add");
        store.add(huawei.clone()).expect("add");
        store
            .set_default(Provider::Alibaba, Some("a2"))
            .expect("default");
        store.save().expect("save");

        let loaded = ProfileStore::load_from(store.path()).expect("reload");
        assert_eq!(loaded, store);
        assert_eq!(loaded.get("hw"), Some(&huawei));
        assert_eq!(
            loaded
                .default_for(Provider::Alibaba)
                .map(|p| p.name.as_str()),
            Some("a2")
        );
        assert_eq!(
            loaded
                .default_for(Provider::Huawei)
                .map(|p| p.name.as_str()),
            Some("hw")
        );
        let text = std::fs::read_to_string(store.path()).expect("read");
        assert!(text.contains("Secrets are NOT here"), "{text}");
        assert!(text.contains("rate_limit_qps = 25"), "{text}");
        // Profiles without a limit do not write the key (older files stay as they were).
        assert_eq!(text.matches("rate_limit_qps").count(), 1, "{text}");
    }

    #[test]
    fn default_needs_a_mark_when_a_provider_has_several_profiles() {
        let (_dir, mut store) = temp_store();
        store.add(profile("a1", Provider::Alibaba)).expect("add");
        assert_eq!(
            store
                .default_for(Provider::Alibaba)
                .map(|p| p.name.as_str()),
            Some("a1")
        );
        store.add(profile("a2", Provider::Alibaba)).expect("add");
        assert!(store.default_for(Provider::Alibaba).is_none());
        assert!(store.default_for(Provider::Huawei).is_none());
        store
            .set_default(Provider::Alibaba, Some("a1"))
            .expect("mark");
        assert_eq!(
            store
                .default_for(Provider::Alibaba)
                .map(|p| p.name.as_str()),
            Some("a1")
        );
        // A mark for the wrong provider or an unknown name is refused.
        assert!(matches!(
            store.set_default(Provider::Huawei, Some("a1")),
            Err(ProfileError::WrongProvider { .. })
        ));
        assert!(matches!(
            store.set_default(Provider::Alibaba, Some("nope")),
            Err(ProfileError::UnknownProfile { .. })
        ));
        // Removing the marked profile clears the mark; the remaining one is the only one again.
        store.remove("a1").expect("remove");
        assert_eq!(store.marked_default(Provider::Alibaba), None);
        assert_eq!(
            store
                .default_for(Provider::Alibaba)
                .map(|p| p.name.as_str()),
            Some("a2")
        );
    }

    #[test]
    fn duplicate_and_invalid_profiles_are_refused() {
        let (_dir, mut store) = temp_store();
        store.add(profile("a", Provider::Alibaba)).expect("add");
        assert!(matches!(
            store.add(profile("a", Provider::Huawei)),
            Err(ProfileError::DuplicateProfile { .. })
        ));
        for bad in ["", " lead", "has:colon", "x/y"] {
            assert!(
                matches!(
                    store.add(profile(bad, Provider::Alibaba)),
                    Err(ProfileError::InvalidProfile { .. })
                ),
                "{bad:?} accepted"
            );
        }
        let mut insecure = profile("insecure", Provider::Alibaba);
        insecure.endpoint = Some("http://kms.cn-hangzhou.aliyuncs.com".into());
        let err = store
            .add(insecure)
            .expect_err("plain http to a remote host");
        assert!(err.to_string().contains("loopback"), "{err}");
        for ok in [
            "https://kms.cn-hangzhou.aliyuncs.com",
            "kms.cn-hangzhou.aliyuncs.com",
            "http://localhost:9",
            "http://[::1]:9",
        ] {
            let mut p = profile("ok", Provider::Alibaba);
            p.endpoint = Some(ok.into());
            validate_profile(&p).expect(ok);
        }
    }

    #[test]
    fn broken_file_is_a_parse_error_naming_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(PROFILES_FILE);
        std::fs::write(&path, "[[profile]]\nname = 3\n").expect("write");
        let err = ProfileStore::load_from(&path).expect_err("must fail");
        assert!(matches!(err, ProfileError::Parse { .. }));
        assert!(err.to_string().contains(PROFILES_FILE), "{err}");
    }

    #[test]
    fn proxy_settings_round_trip_and_bad_ones_are_refused() {
        let (dir, mut store) = temp_store();
        let mut p = profile("corp", Provider::Alibaba);
        p.proxy = Some("http://proxy.corp.example:3128".into());
        store.add(p.clone()).expect("add");
        store.save().expect("save");
        let loaded = ProfileStore::load_from(store.path()).expect("load");
        assert_eq!(loaded.get("corp"), Some(&p));
        for bad in ["http://user:pw@proxy:3128", "socks5://proxy:1080"] {
            let mut q = profile("q", Provider::Alibaba);
            q.proxy = Some(bad.into());
            assert!(
                matches!(
                    validate_profile(&q),
                    Err(ProfileError::InvalidProfile { .. })
                ),
                "{bad}"
            );
        }
        // A hand-edited file with a bad proxy is a parse error, not "use the environment".
        let path = dir.path().join("edited.toml");
        std::fs::write(
            &path,
            "[[profile]]\nname = \"x\"\nprovider = \"alibaba\"\nregion = \"cn-hangzhou\"\n\
             access_key_id = \"id\"\nproxy = \"ftp://proxy\"\n",
        )
        .expect("write");
        let err = ProfileStore::load_from(&path).expect_err("bad proxy");
        assert!(matches!(err, ProfileError::Parse { .. }), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn a_profiles_file_others_may_write_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let (_dir, mut store) = temp_store();
        store.add(profile("a", Provider::Alibaba)).expect("add");
        store.save().expect("save");
        std::fs::set_permissions(store.path(), std::fs::Permissions::from_mode(0o666))
            .expect("chmod");
        let err = ProfileStore::load_from(store.path()).expect_err("world-writable");
        assert!(matches!(err, ProfileError::UnsafeConfig(_)), "{err}");
        assert!(err.to_string().contains("chmod 600"), "{err}");
    }

    #[test]
    fn resolve_prefers_named_then_default_then_env() {
        let (_dir, mut store) = temp_store();
        let keyring = MemoryKeyring::new();
        create_profile(
            &mut store,
            &keyring,
            profile("a1", Provider::Alibaba),
            &secrets("s-a1"),
            false,
        )
        .expect("create");
        let with_token = ProfileSecrets {
            secret: Secret::new("s-h1"),
            security_token: Some(Secret::new("tok-h1")),
        };
        create_profile(
            &mut store,
            &keyring,
            profile("h1", Provider::Huawei),
            &with_token,
            false,
        )
        .expect("create");

        let named =
            resolve_with_env(&store, &keyring, Some("a1"), Provider::Alibaba, &no_env).expect("a1");
        match &named.credentials {
            AccountCredentials::Alibaba(c) => {
                assert_eq!(c.access_key_id, "AKID-a1");
                assert_eq!(c.access_key_secret.expose(), "s-a1");
                assert!(c.security_token.is_none());
            }
            other => panic!("wrong provider: {other:?}"),
        }
        let huawei =
            resolve_with_env(&store, &keyring, None, Provider::Huawei, &no_env).expect("only one");
        match &huawei.credentials {
            AccountCredentials::Huawei(c) => {
                assert_eq!(c.secret_key.expose(), "s-h1");
                assert_eq!(
                    c.security_token.as_ref().map(Secret::expose),
                    Some("tok-h1")
                );
            }
            other => panic!("wrong provider: {other:?}"),
        }

        // Two Alibaba profiles and no mark: the environment is used.
        create_profile(
            &mut store,
            &keyring,
            profile("a2", Provider::Alibaba),
            &secrets("s-a2"),
            false,
        )
        .expect("create");
        let env: BTreeMap<&str, &str> = [
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", "env-id"),
            ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "env-secret"),
        ]
        .into();
        let lookup = |k: &str| env.get(k).map(|v| v.to_string());
        let from_env =
            resolve_with_env(&store, &keyring, None, Provider::Alibaba, &lookup).expect("env");
        assert_eq!(from_env.profile.name, "env");
        assert_eq!(from_env.profile.access_key_id, "env-id");
        let err = resolve_with_env(&store, &keyring, None, Provider::Alibaba, &no_env)
            .expect_err("nothing");
        assert!(
            err.to_string().contains("ALIBABA_CLOUD_ACCESS_KEY_ID"),
            "{err}"
        );

        // With a mark, the marked one wins over the environment.
        store
            .set_default(Provider::Alibaba, Some("a2"))
            .expect("mark");
        let marked =
            resolve_with_env(&store, &keyring, None, Provider::Alibaba, &lookup).expect("marked");
        assert_eq!(marked.profile.name, "a2");
    }

    #[test]
    fn resolve_errors_say_what_is_wrong() {
        let (_dir, mut store) = temp_store();
        let keyring = MemoryKeyring::new();
        create_profile(
            &mut store,
            &keyring,
            profile("a1", Provider::Alibaba),
            &secrets("s"),
            false,
        )
        .expect("create");

        let unknown = resolve_with_env(&store, &keyring, Some("nope"), Provider::Alibaba, &no_env)
            .expect_err("unknown");
        assert!(matches!(unknown, ProfileError::UnknownProfile { .. }));
        assert!(
            unknown.to_string().contains("a1"),
            "lists known names: {unknown}"
        );

        let wrong = resolve_with_env(&store, &keyring, Some("a1"), Provider::Huawei, &no_env)
            .expect_err("wrong");
        assert!(
            matches!(wrong, ProfileError::WrongProvider { .. }),
            "{wrong}"
        );

        keyring.delete("a1").expect("delete");
        let missing = resolve_with_env(&store, &keyring, Some("a1"), Provider::Alibaba, &no_env)
            .expect_err("missing secret");
        assert!(matches!(missing, ProfileError::MissingSecret { .. }));
        let text = missing.to_string();
        assert!(
            text.contains("no secret in the OS keyring for profile \"a1\""),
            "{text}"
        );
        assert!(text.contains("run `certdesk`"), "{text}");
    }

    #[test]
    fn create_rolls_back_the_secret_when_the_file_cannot_be_written() {
        let dir = tempfile::tempdir().expect("tempdir");
        let blocker = dir.path().join("not-a-dir");
        let mut store = ProfileStore::load_from(blocker.join(PROFILES_FILE)).expect("load");
        // The "directory" of the profiles file becomes a regular file, so saving must fail.
        std::fs::write(&blocker, "x").expect("write");
        let keyring = MemoryKeyring::new();
        let err = create_profile(
            &mut store,
            &keyring,
            profile("a", Provider::Alibaba),
            &secrets("s"),
            true,
        )
        .expect_err("save fails");
        // The private-directory check names the problem ("it is not a directory").
        assert!(
            matches!(err, ProfileError::UnsafeConfig(_))
                && err.to_string().contains("not a directory"),
            "{err}"
        );
        assert!(store.list().is_empty());
        assert_eq!(keyring.get("a").expect("get"), None);
    }

    #[test]
    fn delete_profile_removes_file_entry_and_secrets() {
        let (_dir, mut store) = temp_store();
        let keyring = MemoryKeyring::new();
        let with_token = ProfileSecrets {
            secret: Secret::new("s"),
            security_token: Some(Secret::new("t")),
        };
        create_profile(
            &mut store,
            &keyring,
            profile("a", Provider::Alibaba),
            &with_token,
            true,
        )
        .expect("create");
        assert!(keyring.get("a:token").expect("get").is_some());
        let removed = delete_profile(&mut store, &keyring, "a").expect("delete");
        assert_eq!(removed.name, "a");
        assert!(
            ProfileStore::load_from(store.path())
                .expect("reload")
                .list()
                .is_empty()
        );
        assert_eq!(keyring.get("a").expect("get"), None);
        assert_eq!(keyring.get("a:token").expect("get"), None);
    }

    fn role_profile(name: &str, source: &str) -> Profile {
        Profile {
            role: Some(RoleSpec {
                role_arn: "acs:ram::5348354743270002:role/certdesk-admin".into(),
                source_profile: source.into(),
                external_id: None,
                session_name: None,
                duration_secs: None,
            }),
            ..Profile::new(name, Provider::Alibaba, "cn-hangzhou", "")
        }
    }

    #[test]
    fn role_profiles_need_a_keyed_source_and_keep_it_from_being_removed() {
        let (_dir, mut store) = temp_store();
        let keyring = MemoryKeyring::new();
        let no_secret = ProfileSecrets {
            secret: Secret::default(),
            security_token: None,
        };
        // The source must exist first.
        let err = create_profile(
            &mut store,
            &keyring,
            role_profile("r", "src"),
            &no_secret,
            false,
        )
        .expect_err("no source yet");
        assert!(err.to_string().contains("does not exist"), "{err}");
        create_profile(
            &mut store,
            &keyring,
            profile("src", Provider::Alibaba),
            &secrets("s"),
            false,
        )
        .expect("source");
        create_profile(
            &mut store,
            &keyring,
            profile("hw", Provider::Huawei),
            &secrets("s"),
            false,
        )
        .expect("huawei");
        // Not a Huawei profile (nor another role profile, below).
        let err = store
            .check_role_source(&role_profile("r", "hw"))
            .expect_err("a Huawei source");
        assert!(err.to_string().contains("key of its own"), "{err}");
        // A role profile has no secret of its own: none is stored, and one given is refused.
        let err = create_profile(
            &mut store,
            &keyring,
            role_profile("r", "src"),
            &secrets("oops"),
            false,
        )
        .expect_err("a secret for a role profile");
        assert!(err.to_string().contains("no secret of its own"), "{err}");
        create_profile(
            &mut store,
            &keyring,
            role_profile("r", "src"),
            &no_secret,
            false,
        )
        .expect("role profile");
        assert_eq!(keyring.get("r").expect("get"), None);
        assert!(
            store.check_role_source(&role_profile("r2", "r")).is_err(),
            "a role profile is no source"
        );
        let account = account_in(&store, &keyring, store.get("r").expect("r")).expect("account");
        assert!(matches!(
            account.credentials,
            AccountCredentials::AlibabaRole { .. }
        ));

        // The source stays while the role profile uses it, and stays an Alibaba key profile.
        assert_eq!(store.role_profiles_using("src"), ["r"]);
        let err = delete_profile(&mut store, &keyring, "src").expect_err("in use");
        assert!(
            matches!(&err, ProfileError::SourceInUse { users, .. } if users == "\"r\""),
            "{err}"
        );
        assert!(keyring.get("src").expect("get").is_some(), "secret kept");
        let mut turned = profile("src", Provider::Alibaba);
        turned.role = role_profile("src", "hw").role;
        assert!(store.update(turned).is_err());
        delete_profile(&mut store, &keyring, "r").expect("role profile first");
        delete_profile(&mut store, &keyring, "src").expect("then its source");
    }

    #[test]
    fn the_same_account_selected_twice_is_read_once_under_the_first_name() {
        let (_dir, mut store) = temp_store();
        let keyring = MemoryKeyring::new();
        for name in ["one", "two"] {
            let p = Profile::new(name, Provider::Alibaba, "cn-hangzhou", "SAME-KEY");
            create_profile(&mut store, &keyring, p, &secrets("s"), false).expect("create");
        }
        let resolved = resolve_selection(
            &store,
            &keyring,
            &Selection::Named(vec!["two".into(), "one".into()]),
        );
        assert!(resolved[0].1.is_ok());
        assert!(matches!(
            &resolved[1].1,
            Err(ProfileError::DuplicateAccount { name, first }) if name == "one" && first == "two"
        ));
    }

    #[test]
    fn updating_secrets_without_token_removes_the_old_token() {
        let keyring = MemoryKeyring::new();
        let with_token = ProfileSecrets {
            secret: Secret::new("s1"),
            security_token: Some(Secret::new("t1")),
        };
        save_secrets(&keyring, "p", &with_token).expect("save");
        save_secrets(&keyring, "p", &secrets("s2")).expect("save");
        let back = load_secrets(&keyring, "p").expect("load");
        assert_eq!(back.secret.expose(), "s2");
        assert!(back.security_token.is_none());
        assert!(matches!(
            save_secrets(&keyring, "p", &secrets("")),
            Err(ProfileError::InvalidProfile { .. })
        ));
    }

    #[test]
    fn debug_of_accounts_never_shows_secrets() {
        let account = account_from_profile(
            profile("dbg", Provider::Huawei),
            ProfileSecrets {
                secret: Secret::new("very-secret-sk-123"),
                security_token: Some(Secret::new("very-secret-token-456")),
            },
        )
        .expect("account");
        let shown = format!(
            "{account:?} {:?} {:?}",
            account.profile, account.credentials
        );
        assert!(!shown.contains("very-secret"), "{shown}");
        assert!(shown.contains("AKID-dbg"), "{shown}");
    }
}
