//! Provider-neutral plain data that every layer shares: which cloud and service a certificate lives
//! in, its status, the row the UI shows, the change vocabulary ([`Change`]) and the one error of
//! every cloud operation ([`Error`]). No wire format lives here (no serde renames of any API).
//! Every enum that is persisted or printed has one stable lower-case code (`code()` / `FromStr`).

pub mod change;
pub mod error;

pub use change::{Change, Outcome, UnknownChange};
pub use error::{Error, ErrorKind};

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A stored or typed code that names nothing known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {code:?}")]
pub struct UnknownCode {
    /// What kind of code it should have been (`service`, `status`…).
    pub what: &'static str,
    /// The text found.
    pub code: String,
}

/// The cloud service a certificate belongs to (one tab section each).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Service {
    /// Alibaba Cloud KMS 2016-01-20 certificates.
    Kms,
    /// Alibaba Certificate Management private CA (cas 2020-06-30) client/server certificates.
    Pca,
    /// Alibaba Edge Security Acceleration (esa 2024-09-10) client certificates.
    Esa,
    /// Alibaba ApsaraVideo VOD (2017-03-21) CDN domain certificates.
    Vod,
    /// Huawei Cloud IoTDA v5 device certificates.
    Iotda,
    /// Alibaba Cloud CDN (cdn 2018-05-10) accelerated domains and their HTTPS certificates.
    Cdn,
    /// Alibaba SSL Certificates Service (cas 2020-04-07): the account's certificate repository.
    Ssl,
    /// Alibaba Security Token Service (sts 2015-04-01): not a certificate store, but its calls
    /// (role assumption) fail with a [`Service`] like every other cloud call.
    Sts,
}

impl Service {
    /// Every service that has a tab, in tab order. [`Service::Cdn`] and [`Service::Ssl`] have
    /// clients and a simulator but no tab yet; [`Service::Sts`] never has one.
    pub const ALL: [Service; 5] = [
        Service::Kms,
        Service::Pca,
        Service::Esa,
        Service::Vod,
        Service::Iotda,
    ];

    /// Every service certdesk calls, with or without a tab.
    pub const EVERY: [Service; 8] = [
        Service::Kms,
        Service::Pca,
        Service::Esa,
        Service::Vod,
        Service::Iotda,
        Service::Cdn,
        Service::Ssl,
        Service::Sts,
    ];

    /// `true` when each region has its own inventory (KMS, ESA, IoTDA). The others answer for
    /// the whole account from one endpoint: private CA (`cas.aliyuncs.com` for every mainland
    /// region), VOD (Shanghai), CDN (central), the SSL repository.
    pub fn regional(self) -> bool {
        matches!(self, Service::Kms | Service::Esa | Service::Iotda)
    }

    /// The cloud the service belongs to.
    pub fn provider(self) -> Provider {
        match self {
            Service::Iotda => Provider::Huawei,
            _ => Provider::Alibaba,
        }
    }

    /// The stable lower-case code stored in the cache, journal and audit log.
    pub fn code(self) -> &'static str {
        match self {
            Service::Kms => "kms",
            Service::Pca => "pca",
            Service::Esa => "esa",
            Service::Vod => "vod",
            Service::Iotda => "iotda",
            Service::Cdn => "cdn",
            Service::Ssl => "ssl",
            Service::Sts => "sts",
        }
    }

    /// Short human name.
    pub fn label(self) -> &'static str {
        match self {
            Service::Kms => "KMS",
            Service::Pca => "Private CA",
            Service::Esa => "ESA",
            Service::Vod => "VOD CDN",
            Service::Iotda => "IoTDA",
            Service::Cdn => "CDN",
            Service::Ssl => "SSL certificates",
            Service::Sts => "STS",
        }
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl FromStr for Service {
    type Err = UnknownCode;
    /// Reads [`Service::code`]; the `Debug` names that schema 4 stored (`Kms`, `Pca`…) are read too.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Service::EVERY
            .into_iter()
            .find(|v| v.code().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownCode {
                what: "service",
                code: s.to_string(),
            })
    }
}

/// A cloud vendor; decides credentials and signing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// Alibaba Cloud (AccessKey id + secret, ACS3 or v1 signatures).
    Alibaba,
    /// Huawei Cloud (AK/SK, SDK-HMAC-SHA256 or V11-HMAC-SHA256).
    Huawei,
}

impl Provider {
    /// Both clouds.
    pub const ALL: [Provider; 2] = [Provider::Alibaba, Provider::Huawei];

    /// The stable lower-case code (`alibaba`, `huawei`).
    pub fn code(self) -> &'static str {
        match self {
            Provider::Alibaba => "alibaba",
            Provider::Huawei => "huawei",
        }
    }

    /// The cloud's name for people.
    pub fn display_name(self) -> &'static str {
        match self {
            Provider::Alibaba => "Alibaba Cloud",
            Provider::Huawei => "Huawei Cloud",
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Provider {
    type Err = UnknownCode;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Provider::ALL
            .into_iter()
            .find(|v| v.code().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownCode {
                what: "cloud",
                code: s.to_string(),
            })
    }
}

/// Index of a [`Scope`] in the app's workspace (rows carry it; stable while the workspace is
/// open).
pub type ScopeId = u16;

/// One account in one region: where an inventory's rows come from. The account is named by the
/// profile that reaches it (`demo` in demo mode, `env` for the SDK environment variables).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Scope {
    /// The profile.
    pub profile: String,
    /// Its cloud.
    pub provider: Provider,
    /// The region.
    pub region: String,
}

impl Scope {
    /// A scope of `profile` in `region`.
    pub fn new(profile: impl Into<String>, provider: Provider, region: impl Into<String>) -> Self {
        Scope {
            profile: profile.into(),
            provider,
            region: region.into(),
        }
    }

    /// The cache's account key of this scope: one inventory per profile and region.
    pub fn cache_account(&self) -> String {
        format!("{}@{}", self.profile, self.region)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.profile, self.region)
    }
}

/// A certificate's status, normalised across services so tables can filter on it.
/// The provider's own spelling is kept in [`CertificateRow::raw_status`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CertStatus {
    /// Usable (KMS ACTIVE, PCA ISSUE/good, ESA active, IoTDA ACTIVE, VOD SSL on).
    Active,
    /// Disabled but not revoked (KMS/IoTDA INACTIVE, VOD SSL off).
    Inactive,
    /// Revoked; cannot come back.
    Revoked,
    /// Created, waiting for a signed certificate (KMS PENDING).
    Pending,
    /// Anything the provider reports that certdesk does not know.
    Unknown,
}

impl CertStatus {
    /// Every status.
    pub const ALL: [CertStatus; 5] = [
        CertStatus::Active,
        CertStatus::Inactive,
        CertStatus::Revoked,
        CertStatus::Pending,
        CertStatus::Unknown,
    ];

    /// The stable lower-case code stored in the cache.
    pub fn code(self) -> &'static str {
        match self {
            CertStatus::Active => "active",
            CertStatus::Inactive => "inactive",
            CertStatus::Revoked => "revoked",
            CertStatus::Pending => "pending",
            CertStatus::Unknown => "unknown",
        }
    }

    /// Reads [`CertStatus::code`]; anything else is [`CertStatus::Unknown`], which is what a status
    /// certdesk does not know is.
    pub fn from_code(code: &str) -> CertStatus {
        CertStatus::ALL
            .into_iter()
            .find(|s| s.code() == code)
            .unwrap_or(CertStatus::Unknown)
    }

    /// Short human name.
    pub fn label(self) -> &'static str {
        match self {
            CertStatus::Active => "Active",
            CertStatus::Inactive => "Inactive",
            CertStatus::Revoked => "Revoked",
            CertStatus::Pending => "Pending",
            CertStatus::Unknown => "Unknown",
        }
    }
}

/// One certificate as every table shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CertificateRow {
    /// Where it lives.
    pub service: Service,
    /// The provider's id (KMS CertificateId, PCA Identifier, ESA Id, VOD domain, IoTDA certificate_id).
    pub id: String,
    /// Display name: common name, alias or domain.
    pub name: String,
    /// Normalised status.
    pub status: CertStatus,
    /// The provider's own status text.
    pub raw_status: String,
    /// Expiry as UNIX seconds, when known.
    pub not_after: Option<i64>,
    /// Serial number (hex), when known.
    pub serial: Option<String>,
    /// SHA-256 fingerprint (hex), when known.
    pub fingerprint_sha256: Option<String>,
    /// ESA site id for ESA rows (needed to address the certificate).
    pub site_id: Option<i64>,
    /// PEM of the certificate when the list call returns it.
    pub pem: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_schema_4_names_are_read() {
        for s in Service::EVERY {
            assert_eq!(s.code().parse::<Service>(), Ok(s));
            assert_eq!(
                format!("{s:?}").parse::<Service>(),
                Ok(s),
                "schema 4 stored Debug"
            );
        }
        for p in Provider::ALL {
            assert_eq!(p.code().parse::<Provider>(), Ok(p));
        }
        for s in CertStatus::ALL {
            assert_eq!(CertStatus::from_code(s.code()), s);
        }
        assert!("Cdnx".parse::<Service>().is_err());
    }
}
