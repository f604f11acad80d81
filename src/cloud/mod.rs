//! Typed async clients for every cloud API certdesk calls (kms, pca, esa, vod, iotda) over one
//! shared HTTP transport. Knows `signing` and `model`; knows nothing of jobs, the app or egui.

use serde::{Deserialize, Serialize};

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
