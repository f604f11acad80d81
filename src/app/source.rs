//! The seam between the app and the clouds: an [`InventorySource`] answers page, detail and status
//! calls for every service as futures, so the app can be driven by the real clients, by the
//! in-process simulator, or by an in-memory fake in tests. Knows `model`; nothing of egui.

use crate::jobs::Backend;
use crate::model::{CertStatus, CertificateRow, Error, ScopeId, Service};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// A boxed future of a source call.
pub type SourceFuture<T> = Pin<Box<dyn Future<Output = Result<T, Error>> + Send + 'static>>;

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
    /// The account and region listed.
    pub scope: ScopeId,
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
    /// The account and region it belongs to.
    pub scope: ScopeId,
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

impl crate::jobs::single::Answer for KmsCreated {
    fn request_id(&self) -> Option<String> {
        self.request_id.clone()
    }
    fn note(&self) -> Option<String> {
        Some(format!("created certificate {}", self.certificate_id))
    }
}

/// The calls the app makes, for every service of every account and region (a call names its
/// [`ScopeId`]). Implementations must be cheap to share (`Arc`) and return `'static` futures that
/// run on the app's tokio runtime.
pub trait InventorySource: Send + Sync + 'static {
    /// One page of `target`'s inventory.
    fn list_page(&self, target: &ListTarget, cursor: PageCursor) -> SourceFuture<Page>;

    /// Full details of one certificate.
    fn describe(
        &self,
        scope: ScopeId,
        service: Service,
        id: &str,
        site_id: Option<i64>,
    ) -> SourceFuture<CertificateDetail>;

    /// PCA: current status of certificates by identifier (one DescribeClientCertificateStatus call).
    fn pca_statuses(
        &self,
        scope: ScopeId,
        identifiers: Vec<String>,
    ) -> SourceFuture<Vec<SerialStatus>>;

    /// ESA: the sites of `scope`.
    fn esa_sites(&self, scope: ScopeId) -> SourceFuture<Vec<EsaSite>>;

    /// KMS: creates a certificate in `scope` and returns its CSR.
    fn kms_create(&self, scope: ScopeId, request: KmsCreateRequest) -> SourceFuture<KmsCreated>;

    /// KMS: the CSR of a certificate (GetCertificate's `Csr`).
    fn kms_csr(&self, scope: ScopeId, certificate_id: &str) -> SourceFuture<String>;

    /// One cheap read call against `provider`, answering what it found (Settings' "Test
    /// connection").
    fn test_connection(&self, provider: crate::model::Provider) -> SourceFuture<String>;

    /// The backend single changes in `scope` go through (status buttons, certificate
    /// replacement and upload): the same code bulk jobs use, with the transport's retries.
    fn changes(&self, scope: ScopeId) -> Arc<dyn Backend>;

    /// The bulk engine's backend for `service` in `scope` (without transport retries: the
    /// engine retries and journals each attempt), with the profile's rate limit.
    fn bulk_target(&self, scope: ScopeId, service: Service) -> BulkTarget;

    /// Where `scope`'s `provider` requests go and which key signs them: the AccessKey id / AK
    /// (public id) or the role assumed, the region and the endpoint override, recorded with every
    /// audit row and job (`None` when the source has no such account, e.g. the in-memory fake).
    fn signer(
        &self,
        _scope: ScopeId,
        _provider: crate::model::Provider,
    ) -> Option<crate::jobs::Signer> {
        None
    }
}

/// What a source offers the bulk engine for one service.
pub struct BulkTarget {
    /// Reads and changes statuses.
    pub backend: Arc<dyn Backend>,
    /// The profile's rate limit (`None`: the API's published limit; `Some(0)`: none).
    pub rate_limit_qps: Option<u32>,
}

/// Shared handle to a source.
pub type SharedSource = Arc<dyn InventorySource>;
