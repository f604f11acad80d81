//! Typed async clients for every cloud API certdesk calls (kms, pca, esa, vod, iotda) over one
//! shared HTTP transport. Knows `signing` and `model`; knows nothing of jobs, the app or egui.
//!
//! Layout: [`transport`] (the one reqwest client, timeouts, bounded retries), [`error`] (the one
//! error type), [`endpoint`] (default hosts and the http-only-on-loopback rule), `alibaba` / `huawei`
//! (request builders + signing callers shared by the clients), then one file per service.

use serde::{Deserialize, Serialize};

mod alibaba;
mod de;
pub mod endpoint;
pub mod error;
pub mod transport;

pub use de::parse_datetime;
pub use error::{CloudError, ErrorClass};
pub use transport::{Transport, TransportOptions};

use crate::credentials::{AlibabaCredentials, HuaweiCredentials};

/// Which Alibaba signature a profile uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlibabaSignatureVersion {
    /// ACS3-HMAC-SHA256, the current SDKs' default.
    #[default]
    V3,
    /// Legacy RPC signature (HMAC-SHA1, `SignatureVersion=1.0`), still accepted by the gateways.
    V1,
}

/// Which Huawei signature a profile uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HuaweiSigning {
    /// Decide from the host like the SDK's default derived predicate: V11 for `*.iotda-app.*`
    /// instance endpoints (and loopback), SDK-HMAC-SHA256 for the shared ones.
    #[default]
    Auto,
    /// Always SDK-HMAC-SHA256.
    Basic,
    /// Always V11-HMAC-SHA256 (derived key).
    Derived,
}

/// Everything an Alibaba client (KMS, PCA, ESA, VOD) needs besides the transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlibabaClientConfig {
    /// AccessKey (and optional STS token).
    pub credentials: AlibabaCredentials,
    /// Region id, e.g. `cn-hangzhou`; picks the default endpoint.
    pub region: String,
    /// Endpoint override (`https://host[:port]`, or `http://` for loopback only); replaces the
    /// regional default for every service.
    pub endpoint: Option<String>,
    /// Signature to use.
    pub signature: AlibabaSignatureVersion,
}

/// Everything the IoTDA client needs besides the transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HuaweiClientConfig {
    /// AK/SK (and optional security token).
    pub credentials: HuaweiCredentials,
    /// Region id, e.g. `cn-north-4`; picks the default endpoint and the derived-key scope.
    pub region: String,
    /// Endpoint override, e.g. an instance endpoint `https://xxxx.st1.iotda-app.cn-north-4.myhuaweicloud.com`.
    pub endpoint: Option<String>,
    /// Signature to use.
    pub signing: HuaweiSigning,
    /// IAM project id of the region (path parameter and `X-Project-Id`).
    pub project_id: String,
    /// IoTDA instance id (`Instance-Id` header), mandatory for professional editions.
    pub instance_id: Option<String>,
}

/// The answer of every action that returns nothing but its request id (KMS UpdateCertificateStatus,
/// PCA CreateRevokeClientCertificate, VOD SetVodDomainCertificate...).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RequestIdResponse {
    /// The provider's request id.
    #[serde(default, deserialize_with = "de::string")]
    pub request_id: String,
}
