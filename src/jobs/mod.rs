//! The bulk engine: apply one operation (revoke, disable, enable, activate) to many certificates at
//! the provider's rate limit, with retries, cancellation, progress events and a durable journal.
//!
//! It is shared by the GUI and the CLI and knows nothing of egui. It talks to the clouds only through
//! [`BulkBackend`], so the engine itself is tested with an in-memory backend and the real clients
//! are adapted in `backends`.

pub mod backends;
mod engine;
mod retry;

pub use engine::{
    BulkItem, BulkJob, DryRunVerdict, EngineConfig, ItemOutcome, ItemResult, JobHandle,
    JobProgress, dry_run, resume_job, start_job,
};
pub use retry::RetryPolicy;

use crate::model::{CertStatus, Service};
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

/// What a bulk job does to every item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BulkOperation {
    /// Revoke (final): KMS, private CA, ESA.
    Revoke,
    /// Disable / deactivate: KMS (INACTIVE), IoTDA (INACTIVE).
    Disable,
    /// Enable again: KMS (ACTIVE), IoTDA (ACTIVE).
    Enable,
    /// Activate: ESA client certificates.
    Activate,
}

impl BulkOperation {
    /// Every operation.
    pub const ALL: [BulkOperation; 4] = [
        BulkOperation::Revoke,
        BulkOperation::Disable,
        BulkOperation::Enable,
        BulkOperation::Activate,
    ];

    /// The status an item has once the operation succeeded.
    pub fn target_status(self) -> CertStatus {
        match self {
            BulkOperation::Revoke => CertStatus::Revoked,
            BulkOperation::Disable => CertStatus::Inactive,
            BulkOperation::Enable | BulkOperation::Activate => CertStatus::Active,
        }
    }

    /// Whether `service` offers this operation at all.
    pub fn supported_by(self, service: Service) -> bool {
        matches!(
            (self, service),
            (
                BulkOperation::Revoke,
                Service::Kms | Service::Pca | Service::Esa
            ) | (
                BulkOperation::Disable | BulkOperation::Enable,
                Service::Kms | Service::Iotda
            ) | (BulkOperation::Activate, Service::Esa)
        )
    }

    /// Whether an item currently in `from` may be moved by this operation (checked by dry runs and
    /// before every send). `Ok(false)` means it is already in the target state.
    pub fn transition_from(self, from: CertStatus) -> Result<bool, &'static str> {
        if from == self.target_status() {
            return Ok(false);
        }
        match (self, from) {
            (_, CertStatus::Revoked) => Err("revoked certificates cannot change status"),
            (BulkOperation::Revoke, CertStatus::Pending) => {
                Err("a pending certificate has nothing to revoke yet")
            }
            (BulkOperation::Enable | BulkOperation::Disable, CertStatus::Pending) => {
                Err("a pending certificate has no status to change yet")
            }
            _ => Ok(true),
        }
    }

    /// Lower-case verb for messages and the journal.
    pub fn as_str(self) -> &'static str {
        match self {
            BulkOperation::Revoke => "revoke",
            BulkOperation::Disable => "disable",
            BulkOperation::Enable => "enable",
            BulkOperation::Activate => "activate",
        }
    }
}

impl fmt::Display for BulkOperation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for BulkOperation {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        BulkOperation::ALL
            .into_iter()
            .find(|op| op.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown operation {s:?} (revoke, disable, enable, activate)"))
    }
}

/// A provider error as the engine sees it: enough to decide on a retry and to report it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemError {
    /// Provider error code (or a transport label such as `Timeout`).
    pub code: String,
    /// Provider message.
    pub message: String,
    /// RequestId of the failed call, when the provider gave one.
    pub request_id: Option<String>,
    /// HTTP status, when there was a response.
    pub http_status: Option<u16>,
    /// Whether a retry can help (throttling, 5xx, timeouts, resets).
    pub retryable: bool,
    /// Whether the error means the item does not exist.
    pub not_found: bool,
    /// Server-requested wait before the next attempt.
    #[serde(skip)]
    pub retry_after: Option<Duration>,
}

impl ItemError {
    /// An error found before any request was sent (unsupported operation, missing site id):
    /// final, so never retried.
    pub fn local(code: &str, message: String) -> ItemError {
        ItemError {
            code: code.to_string(),
            message,
            request_id: None,
            http_status: None,
            retryable: false,
            not_found: false,
            retry_after: None,
        }
    }
}

impl fmt::Display for ItemError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)?;
        if let Some(id) = &self.request_id {
            write!(f, " (RequestId: {id})")?;
        }
        Ok(())
    }
}

/// What the engine needs from a cloud: read an item's status, apply an operation to it.
pub trait BulkBackend: Send + Sync + 'static {
    /// The item's current status.
    fn read_status<'a>(
        &'a self,
        item: &'a BulkItem,
    ) -> BoxFuture<'a, Result<CertStatus, ItemError>>;
    /// Applies `operation`; returns the RequestId of the successful call.
    fn apply<'a>(
        &'a self,
        item: &'a BulkItem,
        operation: BulkOperation,
    ) -> BoxFuture<'a, Result<Option<String>, ItemError>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions_follow_the_provider_rules() {
        assert_eq!(
            BulkOperation::Revoke.transition_from(CertStatus::Active),
            Ok(true)
        );
        assert_eq!(
            BulkOperation::Revoke.transition_from(CertStatus::Inactive),
            Ok(true)
        );
        assert_eq!(
            BulkOperation::Revoke.transition_from(CertStatus::Revoked),
            Ok(false)
        );
        assert!(
            BulkOperation::Enable
                .transition_from(CertStatus::Revoked)
                .is_err()
        );
        assert_eq!(
            BulkOperation::Disable.transition_from(CertStatus::Inactive),
            Ok(false)
        );
        assert!(BulkOperation::Revoke.supported_by(Service::Pca));
        assert!(!BulkOperation::Revoke.supported_by(Service::Iotda));
        assert!(!BulkOperation::Disable.supported_by(Service::Esa));
        assert_eq!("REVOKE".parse::<BulkOperation>(), Ok(BulkOperation::Revoke));
    }
}
