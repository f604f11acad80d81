//! Every single change the window sends (a status button, a VOD certificate replacement, a KMS
//! upload) goes through [`audited`]: the audit entry is written to the journal before the request
//! (result `sent`) and completed with the answer after it, so a crash in between leaves an entry
//! saying the change may have been applied. Bulk jobs journal their items in the engine instead.

use super::source::{ChangeOutcome, ProviderError, SourceFuture};
use crate::store::journal::{AuditEntry, Journal};
use std::sync::{Arc, Mutex};

/// The mutating call, made only after its audit entry is written.
pub(crate) type CallFn = Box<dyn FnOnce() -> SourceFuture<ChangeOutcome> + Send>;

/// Writes `entry` (result `sent`), then sends `call`, then records the answer. If the entry
/// cannot be written the request is not sent and the error says so (code `AuditFailed`).
pub(crate) async fn audited(
    journal: Arc<Mutex<Journal>>,
    entry: AuditEntry,
    call: CallFn,
) -> Result<ChangeOutcome, ProviderError> {
    let begin = Arc::clone(&journal);
    let written = tokio::task::spawn_blocking(move || {
        begin
            .lock()
            .map_err(|_| "the journal is unavailable".to_string())
            .and_then(|j| j.begin_audit(&entry).map_err(|e| e.to_string()))
    })
    .await
    .unwrap_or_else(|e| Err(e.to_string()));
    let audit_id = match written {
        Ok(id) => id,
        Err(e) => {
            return Err(ProviderError::local(
                "AuditFailed",
                format!("not sent: the change could not be recorded in the audit log ({e})"),
            ));
        }
    };
    let result = call().await;
    let (state, code, message, request_id) = match &result {
        Ok(o) => ("applied", None, None, o.request_id.clone()),
        Err(e) => (
            "failed",
            Some(e.code.clone()),
            Some(e.message.clone()),
            e.request_id.clone(),
        ),
    };
    let finished = tokio::task::spawn_blocking(move || {
        journal
            .lock()
            .map_err(|_| "the journal is unavailable".to_string())
            .and_then(|j| {
                j.finish_audit(
                    audit_id,
                    state,
                    code.as_deref(),
                    message.as_deref(),
                    request_id.as_deref(),
                )
                .map_err(|e| e.to_string())
            })
    })
    .await;
    if let Ok(Err(e)) | Err(e) = finished.map_err(|e| e.to_string()) {
        tracing::warn!(error = %e, "recording the answer in the audit log failed");
    }
    result
}
