//! Per-item checks a bulk job may run around each send, beyond "is the status transition
//! allowed": a rotation refuses a domain its new certificate does not cover, skips one already
//! serving it, journals what the domain served before (for an undo) and describes the domain again
//! after the change to verify it. The engine calls them at fixed points and knows nothing of what
//! they check; they know nothing of the journal or the rate limit.

use super::BulkItem;
use crate::model::Error;
use futures_util::future::BoxFuture;

/// What the checks decided before an item's request is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precheck {
    /// Send it. `previous` is what the item had before (text, never a secret), journaled before
    /// the request so an undo can put it back; an earlier record of the same item is kept (a
    /// resumed item's first "before" is the true one).
    Send {
        /// The item's state before the change, when worth keeping.
        previous: Option<String>,
    },
    /// Do not send: the item may not get this change (outcome not-allowed, nothing sent).
    Refuse(String),
    /// Do not send: the item already is in the state the change leads to. For an item that was
    /// sent before a crash without a recorded answer, this confirms the change (outcome applied);
    /// otherwise nothing was needed (outcome already).
    Done(String),
}

/// Checks around each item's send. Implementations must be cheap to share between the item tasks
/// (`Arc`) and must never hold a private key longer than the job.
pub trait ItemChecks: Send + Sync + 'static {
    /// Before the first send of `item` (and again before re-sending an item that was `uncertain`:
    /// sent before a crash with no answer journaled). An error fails the item without sending.
    fn before<'a>(
        &'a self,
        item: &'a BulkItem,
        uncertain: bool,
    ) -> BoxFuture<'a, Result<Precheck, Error>>;

    /// After the provider accepted the change: `Ok(note)` when the item is verified to be in the
    /// expected state (the note goes to the journal and audit log), `Err` (with a message saying
    /// what was found instead) fails the item.
    fn after<'a>(&'a self, item: &'a BulkItem) -> BoxFuture<'a, Result<String, Error>>;
}
