//! Changes to cloud items, one or many: the one path every change takes, whoever asked for it.
//!
//! - [`Backend`]: reads an item's status and applies a [`ChangeRequest`] to it. The real clouds are
//!   one backend ([`backends::CloudBackend`], built by one factory for the CLI and the window); the
//!   app's tests use an in-memory one.
//! - [`single`]: one change (a status button, a certificate replacement, a CLI command), written to
//!   the audit log before it is sent and after its answer.
//! - the engine ([`start_job`], [`resume_job`], [`dry_run`]): one change applied to many items at
//!   the provider's rate limit, with retries, cancellation, progress events and a durable journal.
//!
//! Shared by the GUI and the CLI; knows `cloud`, `store` and `model`, nothing of egui or the app.

pub mod backends;
pub mod checks;
mod engine;
mod rate;
pub mod rotation;
pub mod single;

pub use crate::cloud::RetryPolicy;
pub use checks::{ItemChecks, Precheck};
pub use engine::{
    BulkJob, DryRunVerdict, EngineConfig, ItemResult, JobExtras, JobHandle, JobPart, JobProgress,
    account_mismatch, dry_run, resume_job, resume_job_with, start_job, start_job_with, start_parts,
};
pub use rate::SharedRate;
pub use single::{Principal, Signer};

use crate::credentials::Secret;
use crate::model::{CertStatus, Change, Error, Service};
use futures_util::future::BoxFuture;
use serde::Serialize;

/// One item to change: where it lives and how it is addressed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BulkItem {
    /// Where it lives.
    pub service: Service,
    /// Provider id (KMS CertificateId, PCA Identifier, ESA Id, VOD domain, IoTDA certificate_id).
    pub id: String,
    /// ESA site id (ESA items only).
    pub site_id: Option<i64>,
    /// Display name (CN, alias, domain); may be empty.
    pub name: String,
}

/// A certificate and its private key to put on a domain. The key is a [`Secret`]: redacted in
/// `Debug`, zeroized when dropped; it is never journaled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateUpload {
    /// Certificate name shown in the console (at most 128 characters).
    pub cert_name: String,
    /// The certificate and its chain, leaf first (PEM).
    pub certificate_pem: String,
    /// The private key (PEM).
    pub private_key: Secret,
}

/// A change with whatever it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeRequest {
    /// A change that needs nothing but the item: revoke, disable, enable, activate, delete,
    /// https-on, https-off.
    Status(Change),
    /// Put a certificate and its key on a domain and switch HTTPS on.
    SetCertificate(CertificateUpload),
    /// KMS: upload the signed certificate (and its chain) of a PENDING certificate.
    UploadCertificate {
        /// The certificate, PEM.
        certificate_pem: String,
        /// Its chain, PEM, when there is one.
        chain_pem: Option<String>,
    },
    /// Put a certificate of the SSL certificate repository on a domain and switch HTTPS on (CDN
    /// `CertType=cas`, VOD SetVodDomainSSLCertificate). Carries no key: a job with it can be
    /// journaled whole and resumed.
    SetRepositoryCertificate {
        /// The repository `CertId`.
        cert_id: i64,
        /// The repository site: `cn-hangzhou` (China) or `ap-southeast-1` (international).
        region: String,
    },
    /// SSL certificate repository: upload a certificate and its key under the upload's
    /// `cert_name` (the item is addressed by that name; the new `CertId` comes back in
    /// [`Applied::created`]).
    UploadRepositoryCertificate(CertificateUpload),
}

impl ChangeRequest {
    /// The change it makes (the word in the journal and the audit log).
    pub fn change(&self) -> Change {
        match self {
            ChangeRequest::Status(change) => *change,
            ChangeRequest::SetCertificate(_) => Change::SetCertificate,
            ChangeRequest::UploadCertificate { .. } => Change::UploadCertificate,
            ChangeRequest::SetRepositoryCertificate { .. } => Change::SetCertificate,
            ChangeRequest::UploadRepositoryCertificate(_) => Change::UploadCertificate,
        }
    }

    /// `true` when the request carries a private key, so a job with it can never be resumed or
    /// retried from the journal alone.
    pub fn carries_key(&self) -> bool {
        matches!(
            self,
            ChangeRequest::SetCertificate(_) | ChangeRequest::UploadRepositoryCertificate(_)
        )
    }
}

impl From<Change> for ChangeRequest {
    fn from(change: Change) -> Self {
        ChangeRequest::Status(change)
    }
}

/// What a change answered.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Applied {
    /// The item's status now, normalised and in the provider's words; `None` when it was deleted
    /// or the answer does not say.
    pub status: Option<(CertStatus, String)>,
    /// Request id of the call.
    pub request_id: Option<String>,
    /// The provider id of what the change created, when it created something (the `CertId` of
    /// a certificate uploaded to the repository).
    pub created: Option<String>,
}

/// The certificate a domain is configured with, as the service describes it (CDN
/// DescribeDomainCertificateInfo, VOD DescribeVodDomainCertificateInfo): what a rotation compares
/// before and after its change, and what an undo puts back.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
pub struct ServedCertificate {
    /// SHA-256 (lower-case hex) of the certificate PEM the service returns; `None` when it
    /// returns none.
    pub sha256: Option<String>,
    /// Expiry, UNIX seconds.
    pub not_after: Option<i64>,
    /// The repository `CertId` when the domain uses a repository certificate (`cas`).
    pub cas_id: Option<i64>,
    /// The repository site of a `cas` certificate.
    pub cas_region: Option<String>,
    /// `cas`, `upload` or `free` (the service's word).
    pub cert_type: String,
    /// The certificate's name in the service.
    pub name: String,
    /// The domain the certificate is for (`CertDomainName`).
    pub common_name: String,
    /// HTTPS is on (the certificate is served, not only configured).
    pub https: bool,
}

/// What the engine and the single-change path need from a cloud: read an item's status, apply a
/// change to it.
pub trait Backend: Send + Sync + 'static {
    /// The item's current status.
    fn read_status<'a>(&'a self, item: &'a BulkItem) -> BoxFuture<'a, Result<CertStatus, Error>>;
    /// Applies `request` to `item`.
    fn apply<'a>(
        &'a self,
        item: &'a BulkItem,
        request: &'a ChangeRequest,
    ) -> BoxFuture<'a, Result<Applied, Error>>;

    /// The certificate a domain is configured with (`None`: it has none), described afresh: what
    /// a rotation reads before it sends (to skip a domain already serving the new certificate and
    /// to journal the previous one for an undo) and after (to verify). Only services that serve
    /// certificates on domains answer; the others refuse.
    fn serving<'a>(
        &'a self,
        item: &'a BulkItem,
    ) -> BoxFuture<'a, Result<Option<ServedCertificate>, Error>> {
        Box::pin(async move {
            Err(Error::local(
                item.service,
                crate::model::error::local_code::UNSUPPORTED,
                format!("{} items do not serve certificates", item.service.label()),
                crate::model::ErrorKind::InvalidInput,
            ))
        })
    }
}
