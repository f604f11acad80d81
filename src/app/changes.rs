//! Single changes from the window: a status button asks, the confirmation dialog shows what will
//! happen, and the confirmed change goes through the one audited path every change takes
//! (`jobs::single`: audit entry before the request, answer after; nothing sent when the entry
//! cannot be written). The row shows the change running, done or failed; the inventories feature
//! applies the result. Knows nothing of egui.

use super::context::{Cx, ScopeId};
use super::inventory::{PaneKey, RowNote};
use crate::jobs::{Applied, BulkItem};
use crate::model::{Change, Error};
use std::sync::Arc;

/// A status change waiting for the user's confirmation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingChange {
    /// Which inventory.
    pub key: PaneKey,
    /// The row's account and region.
    pub scope: ScopeId,
    /// Provider id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// What to do.
    pub change: Change,
}

/// A finished single change.
pub(crate) struct ChangeDone {
    /// Which inventory.
    pub key: PaneKey,
    /// Provider id.
    pub id: String,
    /// What was done.
    pub change: Change,
    /// The answer.
    pub result: Result<Applied, Error>,
}

/// The single-change feature.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    /// A change awaiting confirmation.
    pub confirm: Option<PendingChange>,
}

impl Changes {
    /// Asks for a change: opens the confirmation.
    pub(crate) fn ask(&mut self, pending: PendingChange) {
        self.confirm = Some(pending);
    }

    /// The confirmed change, taken off the dialog.
    pub(crate) fn take_confirmed(&mut self) -> Option<PendingChange> {
        self.confirm.take()
    }

    /// Drops the pending change.
    pub(crate) fn cancel(&mut self) {
        self.confirm = None;
    }

    /// Sends the confirmed change of `item` (its row then shows it as busy); the answer comes
    /// back as [`ChangeDone`].
    pub(crate) fn send(
        &mut self,
        pending: PendingChange,
        item: BulkItem,
        cx: &mut Cx<'_, ChangeDone>,
    ) -> RowNote {
        let PendingChange {
            key,
            scope,
            id,
            change,
            ..
        } = pending;
        let principal = cx.shared.principal(scope);
        let backend = cx.shared.source.changes(scope);
        let journal = Arc::clone(&cx.shared.journal);
        cx.tasks.spawn(async move {
            let result =
                crate::jobs::single::apply(journal, backend, &principal, item, change.into(), None)
                    .await;
            ChangeDone {
                key,
                id,
                change,
                result,
            }
        });
        RowNote::Busy(change)
    }
}
