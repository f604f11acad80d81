//! Provider-neutral plain data that every layer shares: which cloud and service a certificate lives
//! in, its status, and the row the UI shows. No wire format lives here (no serde renames of any API).

use serde::{Deserialize, Serialize};
use std::fmt;

/// The cloud service a certificate belongs to (one tab section each).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
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

    /// The cloud the service belongs to.
    pub fn provider(self) -> Provider {
        match self {
            Service::Iotda => Provider::Huawei,
            _ => Provider::Alibaba,
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

/// A cloud vendor; decides credentials and signing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// Alibaba Cloud (AccessKey id + secret, ACS3 or v1 signatures).
    Alibaba,
    /// Huawei Cloud (AK/SK, SDK-HMAC-SHA256 or V11-HMAC-SHA256).
    Huawei,
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Provider::Alibaba => "alibaba",
            Provider::Huawei => "huawei",
        })
    }
}

/// A certificate's status, normalised across services so tables can filter on it.
/// The provider's own spelling is kept in [`CertificateRow::raw_status`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
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
