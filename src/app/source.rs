//! The seam between the app and the clouds: an [`InventorySource`] answers page, detail and status
//! calls for every service as futures, so the app can be driven by the real clients, by the
//! in-process simulator, or by an in-memory fake in tests. Knows `model`; nothing of egui.

use crate::model::{CertStatus, CertificateRow, Service};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// A boxed future of a source call.
pub type SourceFuture<T> = Pin<Box<dyn Future<Output = Result<T, ProviderError>> + Send + 'static>>;

/// A failed cloud call as the user sees it: the provider's code, message and request id, plus
/// what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderError {
    /// The provider's error code (`Throttling.User`, `IOTDA.000006`), or a local one
    /// (`Network`, `Timeout`, `Decode`).
    pub code: String,
    /// The provider's message.
    pub message: String,
    /// Request id to quote to support, when the provider returned one.
    pub request_id: Option<String>,
    /// HTTP status, when a response arrived.
    pub http_status: Option<u16>,
    /// Whether trying again may help (throttling, 5xx, network).
    pub retryable: bool,
}

impl ProviderError {
    /// An error raised by certdesk itself (no provider response).
    pub fn local(code: &str, message: impl Into<String>) -> Self {
        ProviderError {
            code: code.to_string(),
            message: message.into(),
            request_id: None,
            http_status: None,
            retryable: false,
        }
    }

    /// What the user can do about it, from the code and HTTP status.
    pub fn advice(&self) -> &'static str {
        let code = self.code.as_str();
        if code.starts_with("Throttling")
            || self.http_status == Some(429)
            || code.ends_with(".0308")
        {
            "The provider is throttling requests. Wait a few seconds, then retry."
        } else if code == "SignatureDoesNotMatch"
            || code.ends_with(".0301")
            || code == "IOTDA.000002"
        {
            "The secret does not match the key id, or the signing choice is wrong for this endpoint. \
             Check the profile in Settings (secret, signing, endpoint) and test the connection."
        } else if code.starts_with("InvalidAccessKeyId") {
            "The AccessKey id is unknown. Check the profile's key id in Settings."
        } else if code.starts_with("Forbidden")
            || code == "IOTDA.000022"
            || self.http_status == Some(403)
        {
            "The account lacks the permission for this call. Grant the RAM/IAM action to the key's user, then retry."
        } else if code == "IllegalTimestamp" || code == "InvalidTimeStamp.Expired" {
            "The computer's clock is off. Correct the system time, then retry."
        } else if code.ends_with("NotFound") || self.http_status == Some(404) {
            "The resource no longer exists. Refresh the list."
        } else if code.contains("StatusError") || code == "IllegalOperation" {
            "The certificate's current status does not allow this change. Refresh to see its status."
        } else if code == "InvalidEndpoint" {
            "The endpoint override is not usable (https, or http only for loopback). Fix it in Settings."
        } else if matches!(
            code,
            "Network" | "Timeout" | "ConnectFailed" | "ConnectionError"
        ) {
            "The endpoint could not be reached. Check the network and the endpoint override in Settings, then retry."
        } else if self.retryable || self.http_status.is_some_and(|s| s >= 500) {
            "The provider had a temporary problem. Retry in a moment."
        } else {
            "Check the request and the profile's settings; quote the RequestId if you contact support."
        }
    }
}

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)?;
        if let Some(id) = &self.request_id {
            write!(f, " (RequestId {id})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ProviderError {}

/// Where a paginated walk continues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageCursor {
    /// Page number, 1-based (Alibaba lists; KMS batches of known ids).
    Number(u32),
    /// IoTDA marker (`None` = first page).
    Marker(Option<String>),
}

impl fmt::Display for PageCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PageCursor::Number(n) => write!(f, "page {n}"),
            PageCursor::Marker(None) => f.write_str("first page"),
            PageCursor::Marker(Some(m)) => write!(f, "page after marker {m}"),
        }
    }
}

/// What inventory a walk lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListTarget {
    /// The service.
    pub service: Service,
    /// ESA site.
    pub site_id: Option<i64>,
    /// KMS: the ids to describe (KMS has no list call).
    pub kms_ids: Arc<Vec<String>>,
}

impl ListTarget {
    /// The first cursor of this target's walk.
    pub fn first_cursor(&self) -> PageCursor {
        match self.service {
            Service::Iotda => PageCursor::Marker(None),
            _ => PageCursor::Number(1),
        }
    }
}

/// One fetched page.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// Rows of this page.
    pub rows: Vec<CertificateRow>,
    /// Where the next page starts; `None` at the end.
    pub next: Option<PageCursor>,
    /// Total rows, when the API says.
    pub total: Option<u64>,
    /// A short extra text per row (certificate type, key...), in row order; empty when none.
    pub extras: Vec<String>,
}

/// A status change a user can ask for on one certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusChange {
    /// KMS/IoTDA ACTIVE, ESA activate.
    Activate,
    /// KMS/IoTDA INACTIVE.
    Deactivate,
    /// KMS REVOKED, PCA CreateRevokeClientCertificate, ESA revoke.
    Revoke,
    /// IoTDA delete (and PCA/ESA delete of revoked certificates).
    Delete,
    /// VOD: HTTPS on.
    HttpsOn,
    /// VOD: HTTPS off.
    HttpsOff,
}

impl StatusChange {
    /// Button text.
    pub fn label(self) -> &'static str {
        match self {
            StatusChange::Activate => "Activate",
            StatusChange::Deactivate => "Deactivate",
            StatusChange::Revoke => "Revoke",
            StatusChange::Delete => "Delete",
            StatusChange::HttpsOn => "Turn HTTPS on",
            StatusChange::HttpsOff => "Turn HTTPS off",
        }
    }

    /// Past tense for result messages.
    pub fn done(self) -> &'static str {
        match self {
            StatusChange::Activate => "activated",
            StatusChange::Deactivate => "deactivated",
            StatusChange::Revoke => "revoked",
            StatusChange::Delete => "deleted",
            StatusChange::HttpsOn => "HTTPS switched on",
            StatusChange::HttpsOff => "HTTPS switched off",
        }
    }

    /// `true` when it cannot be undone.
    pub fn is_irreversible(self) -> bool {
        matches!(self, StatusChange::Revoke | StatusChange::Delete)
    }

    /// The status a row has after this change (`None` for delete).
    pub fn resulting_status(self) -> Option<CertStatus> {
        match self {
            StatusChange::Activate | StatusChange::HttpsOn => Some(CertStatus::Active),
            StatusChange::Deactivate | StatusChange::HttpsOff => Some(CertStatus::Inactive),
            StatusChange::Revoke => Some(CertStatus::Revoked),
            StatusChange::Delete => None,
        }
    }

    /// The changes a service offers for a certificate in `status`.
    pub fn offered(service: Service, status: CertStatus) -> Vec<StatusChange> {
        use CertStatus::*;
        use StatusChange::*;
        match (service, status) {
            (Service::Kms, Active) => vec![Deactivate, Revoke],
            (Service::Kms, Inactive) => vec![Activate, Revoke],
            (Service::Kms, Pending) => vec![],
            (Service::Kms, _) => vec![],
            (Service::Pca, Revoked) => vec![],
            (Service::Pca, _) => vec![Revoke],
            (Service::Esa, Revoked) => vec![Activate],
            (Service::Esa, _) => vec![Revoke],
            (Service::Vod, Active) => vec![HttpsOff],
            // SetVodDomainCertificate needs the certificate and its private key to switch HTTPS
            // on: that is "Replace certificate" (the import flow), not a status change.
            (Service::Vod, _) => vec![],
            (Service::Iotda, Active) => vec![Deactivate, Delete],
            (Service::Iotda, _) => vec![Activate, Delete],
            // Offered once the app lists them (CDN like VOD); STS has no certificates.
            (Service::Cdn | Service::Ssl | Service::Sts, _) => vec![],
        }
    }
}

/// The outcome of a status change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeOutcome {
    /// The status now (`None` when the certificate was deleted).
    pub status: Option<(CertStatus, String)>,
    /// Request id of the call.
    pub request_id: Option<String>,
}

/// Everything a detail call returns.
#[derive(Debug, Clone, PartialEq)]
pub struct CertificateDetail {
    /// The row refreshed from the describe call.
    pub row: CertificateRow,
    /// Extra facts the API returned (key spec, SANs, certificate type...), in display order.
    pub facts: Vec<(String, String)>,
    /// Certificate PEM, when the API returns it.
    pub pem: Option<String>,
    /// The row's extra text (see [`Page::extras`]), when the describe call tells more.
    pub extra: Option<String>,
}

/// A PCA status answer (DescribeClientCertificateStatus answers per serial number).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SerialStatus {
    /// Serial number.
    pub serial: String,
    /// Normalised status.
    pub status: CertStatus,
    /// The provider's text (`good`, `revoked`, `unknown`).
    pub raw_status: String,
}

/// An ESA site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EsaSite {
    /// Site id.
    pub id: i64,
    /// Site (domain) name.
    pub name: String,
}

/// Key specs KMS CreateCertificate accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KmsKeySpec {
    /// RSA 2048.
    #[default]
    Rsa2048,
    /// NIST P-256.
    EcP256,
    /// SM2.
    EcSm2,
}

impl KmsKeySpec {
    /// Every spec.
    pub const ALL: [KmsKeySpec; 3] = [KmsKeySpec::Rsa2048, KmsKeySpec::EcP256, KmsKeySpec::EcSm2];

    /// The API's spelling.
    pub fn api_name(self) -> &'static str {
        match self {
            KmsKeySpec::Rsa2048 => "RSA_2048",
            KmsKeySpec::EcP256 => "EC_P256",
            KmsKeySpec::EcSm2 => "EC_SM2",
        }
    }
}

/// A KMS CreateCertificate request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KmsCreateRequest {
    /// Subject DN, `C=CN,O=…,OU=…,CN=…`.
    pub subject: String,
    /// Key spec.
    pub key_spec: KmsKeySpec,
    /// DNS subject alternative names.
    pub sans: Vec<String>,
    /// Whether the private key may be exported.
    pub exportable: bool,
}

/// What CreateCertificate returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KmsCreated {
    /// The new certificate id.
    pub certificate_id: String,
    /// The CSR to have signed, PEM.
    pub csr: String,
    /// Request id.
    pub request_id: Option<String>,
}

/// A certificate to install on a VOD domain (SetVodDomainCertificate with HTTPS on). The key is a
/// [`Secret`](crate::credentials::Secret): redacted in `Debug`, zeroized when dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VodCertificateUpload {
    /// The domain.
    pub domain: String,
    /// Certificate name shown in the console (at most 128 characters).
    pub cert_name: String,
    /// The certificate and its chain, leaf first (PEM).
    pub certificate_pem: String,
    /// The private key (PKCS#8 PEM).
    pub private_key: crate::credentials::Secret,
}

/// The calls the app makes, for every service. Implementations must be cheap to share (`Arc`) and
/// return `'static` futures that run on the app's tokio runtime.
pub trait InventorySource: Send + Sync + 'static {
    /// Cache account key (profile name, `demo`...).
    fn account(&self) -> &str;

    /// One page of `target`'s inventory.
    fn list_page(&self, target: &ListTarget, cursor: PageCursor) -> SourceFuture<Page>;

    /// Full details of one certificate.
    fn describe(
        &self,
        service: Service,
        id: &str,
        site_id: Option<i64>,
    ) -> SourceFuture<CertificateDetail>;

    /// Changes one certificate's status (or deletes it).
    fn change_status(
        &self,
        service: Service,
        id: &str,
        site_id: Option<i64>,
        change: StatusChange,
    ) -> SourceFuture<ChangeOutcome>;

    /// PCA: current status of certificates by identifier (one DescribeClientCertificateStatus call).
    fn pca_statuses(&self, identifiers: Vec<String>) -> SourceFuture<Vec<SerialStatus>>;

    /// ESA: the account's sites.
    fn esa_sites(&self) -> SourceFuture<Vec<EsaSite>>;

    /// KMS: creates a certificate and returns its CSR.
    fn kms_create(&self, request: KmsCreateRequest) -> SourceFuture<KmsCreated>;

    /// One cheap read call against `provider`, answering what it found (Settings' "Test
    /// connection").
    fn test_connection(&self, provider: crate::model::Provider) -> SourceFuture<String>;

    /// The bulk engine's backend for `service` under this source's account (the real clients,
    /// without transport-level retries: the engine retries and journals each attempt), with the
    /// profile's rate limit. `None`: the app adapts [`InventorySource::describe`] and
    /// [`InventorySource::change_status`] instead (fakes).
    fn bulk_target(&self, _service: Service) -> Option<super::bulk::BulkTarget> {
        None
    }
    /// VOD: installs a certificate and its key on a domain and switches HTTPS on.
    fn vod_set_certificate(&self, upload: VodCertificateUpload) -> SourceFuture<ChangeOutcome>;

    /// KMS: the CSR of a certificate (GetCertificate's `Csr`).
    fn kms_csr(&self, certificate_id: &str) -> SourceFuture<String>;

    /// KMS: uploads the signed certificate (and its chain) of a PENDING certificate.
    fn kms_upload(
        &self,
        certificate_id: &str,
        certificate_pem: String,
        chain_pem: Option<String>,
    ) -> SourceFuture<ChangeOutcome>;
}

/// Shared handle to a source.
pub type SharedSource = Arc<dyn InventorySource>;

#[cfg(test)]
mod tests {
    use super::*;

    fn err(code: &str, status: Option<u16>) -> ProviderError {
        ProviderError {
            code: code.into(),
            message: "m".into(),
            request_id: Some("RID-1".into()),
            http_status: status,
            retryable: false,
        }
    }

    #[test]
    fn advice_follows_the_code() {
        assert!(err("Throttling.User", Some(400)).advice().contains("Wait"));
        assert!(err("APIG.0308", Some(429)).advice().contains("Wait"));
        assert!(
            err("SignatureDoesNotMatch", Some(403))
                .advice()
                .contains("secret")
        );
        assert!(err("APIGW.0301", Some(401)).advice().contains("secret"));
        assert!(
            err("Forbidden.RAM", Some(403))
                .advice()
                .contains("permission")
        );
        assert!(
            err("Certificate.NotFound", Some(404))
                .advice()
                .contains("Refresh")
        );
        assert!(err("Network", None).advice().contains("network"));
        assert!(
            err("InternalError", Some(500))
                .advice()
                .contains("temporary")
        );
        let shown = err("Throttling", Some(400)).to_string();
        assert_eq!(shown, "Throttling: m (RequestId RID-1)");
    }

    #[test]
    fn offered_changes_follow_each_service_rules() {
        use StatusChange::*;
        assert_eq!(
            StatusChange::offered(Service::Kms, CertStatus::Revoked),
            vec![]
        );
        assert_eq!(
            StatusChange::offered(Service::Iotda, CertStatus::Inactive),
            vec![Activate, Delete]
        );
        assert_eq!(
            StatusChange::offered(Service::Vod, CertStatus::Active),
            vec![HttpsOff]
        );
        assert!(Revoke.is_irreversible() && !HttpsOff.is_irreversible());
        assert_eq!(Deactivate.resulting_status(), Some(CertStatus::Inactive));
    }
}
