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
