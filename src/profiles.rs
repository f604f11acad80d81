//! Profiles (non-secret settings in a TOML file in the platform config directory) and their secrets
//! in the OS keyring; the official SDK environment variables when no profile is configured.

use crate::cloud::{AlibabaSignatureVersion, HuaweiSigning};
use crate::credentials::{AlibabaCredentials, HuaweiCredentials, Secret};
use crate::model::Provider;
use serde::{Deserialize, Serialize};

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
}

/// Why credentials could not be found.
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
}

fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Alibaba credentials from the official SDK variables `ALIBABA_CLOUD_ACCESS_KEY_ID`,
/// `ALIBABA_CLOUD_ACCESS_KEY_SECRET` and (optional) `ALIBABA_CLOUD_SECURITY_TOKEN`.
pub fn alibaba_from_env() -> Option<AlibabaCredentials> {
    Some(AlibabaCredentials {
        access_key_id: env_nonempty("ALIBABA_CLOUD_ACCESS_KEY_ID")?,
        access_key_secret: Secret::new(env_nonempty("ALIBABA_CLOUD_ACCESS_KEY_SECRET")?),
        security_token: env_nonempty("ALIBABA_CLOUD_SECURITY_TOKEN").map(Secret::new),
    })
}

/// Huawei credentials and project id from `HUAWEICLOUD_SDK_AK`, `HUAWEICLOUD_SDK_SK`,
/// `HUAWEICLOUD_SDK_SECURITY_TOKEN` (optional) and `HUAWEICLOUD_SDK_PROJECT_ID` (optional).
pub fn huawei_from_env() -> Option<(HuaweiCredentials, Option<String>)> {
    Some((
        HuaweiCredentials {
            access_key: env_nonempty("HUAWEICLOUD_SDK_AK")?,
            secret_key: Secret::new(env_nonempty("HUAWEICLOUD_SDK_SK")?),
            security_token: env_nonempty("HUAWEICLOUD_SDK_SECURITY_TOKEN").map(Secret::new),
        },
        env_nonempty("HUAWEICLOUD_SDK_PROJECT_ID"),
    ))
}

/// Credentials of either cloud, as resolved for one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountCredentials {
    /// Alibaba Cloud AccessKey.
    Alibaba(AlibabaCredentials),
    /// Huawei Cloud AK/SK.
    Huawei(HuaweiCredentials),
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

/// Finds the account to use for `provider`: the named profile (file + keyring), else the SDK
/// environment variables.
// TODO(infra): profiles file + keyring lookup; until then only the environment is consulted.
pub fn resolve(profile_name: Option<&str>, provider: Provider) -> Result<Account, ProfileError> {
    let _ = profile_name;
    let env_profile = |access_key_id: String, project_id: Option<String>| Profile {
        name: "env".to_string(),
        provider,
        region: default_region(provider).to_string(),
        endpoint: None,
        access_key_id,
        alibaba_signature: AlibabaSignatureVersion::default(),
        huawei_signing: HuaweiSigning::default(),
        project_id,
        instance_id: None,
    };
    match provider {
        Provider::Alibaba => alibaba_from_env()
            .map(|c| Account {
                profile: env_profile(c.access_key_id.clone(), None),
                credentials: AccountCredentials::Alibaba(c),
            })
            .ok_or(ProfileError::NoCredentials {
                provider,
                hint: "ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET",
            }),
        Provider::Huawei => huawei_from_env()
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
