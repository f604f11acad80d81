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
mod engine;
mod rate;
pub mod single;

pub use crate::cloud::RetryPolicy;
pub use engine::{
    BulkJob, DryRunVerdict, EngineConfig, ItemResult, JobHandle, JobProgress, account_mismatch,
    dry_run, resume_job, start_job,
};
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
}

impl ChangeRequest {
    /// The change it makes (the word in the journal and the audit log).
    pub fn change(&self) -> Change {
        match self {
            ChangeRequest::Status(change) => *change,
            ChangeRequest::SetCertificate(_) => Change::SetCertificate,
            ChangeRequest::UploadCertificate { .. } => Change::UploadCertificate,
        }
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
}
