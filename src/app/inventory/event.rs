//! What background work of the inventory feature reports back.

use super::pane::{PaneKey, Resume};
use super::rows::Inventory;
use super::view::{ViewInput, ViewOutput};
use crate::app::context::ScopeId;
use crate::app::runtime::Ticket;
use crate::app::source::{CertificateDetail, EsaSite};
use crate::model::{CertificateRow, Error};

/// A part's cached rows and when they were fetched (`None`: nothing cached), or why the cache
/// could not be read.
pub(crate) type CachedPart = Result<Option<(Inventory, i64)>, String>;

/// Finished (or progressing) background work of the inventories.
pub(crate) enum InventoryEvent {
    /// The cache of each part of a pane (or none).
    CacheLoaded {
        key: PaneKey,
        parts: Vec<(ScopeId, CachedPart)>,
    },
    /// The parts of a pane joined into one inventory, on a worker (large inventories).
    Combined {
        key: PaneKey,
        ticket: Ticket,
        inventory: Box<Inventory>,
    },
    /// Walk progress (does not end the walk).
    Progress {
        key: PaneKey,
        scope: ScopeId,
        ticket: Ticket,
        pages: u32,
        rows: u64,
        total: Option<u64>,
        phase: String,
    },
    /// Rows a first walk just listed (see `Pane::listed`): the Overview counts them before the
    /// walk ends.
    Listed {
        key: PaneKey,
        scope: ScopeId,
        ticket: Ticket,
        rows: Vec<CertificateRow>,
    },
    /// A walk finished.
    Fetched {
        key: PaneKey,
        scope: ScopeId,
        ticket: Ticket,
        inventory: Box<Inventory>,
        fetched_at: i64,
    },
    /// A walk stopped at a failed page.
    FetchFailed {
        key: PaneKey,
        scope: ScopeId,
        ticket: Ticket,
        error: Error,
        resume: Box<Resume>,
    },
    /// A filter/sort job finished (`output` is `None` when it was superseded).
    ViewReady {
        key: PaneKey,
        ticket: Ticket,
        input: Box<ViewInput>,
        output: Option<ViewOutput>,
    },
    /// A describe call finished.
    Detail {
        key: PaneKey,
        id: String,
        result: Result<CertificateDetail, Error>,
    },
    /// A row was described again after a change (its certificate replaced): the detail, and the
    /// pane's inventory rebuilt with the new row when it is still the one shown.
    Redescribed {
        key: PaneKey,
        scope: ScopeId,
        id: String,
        result: Result<CertificateDetail, Error>,
        rebuilt: Option<(u64, Box<Inventory>)>,
    },
    /// The cache had a PEM for a row.
    CachedPem {
        key: PaneKey,
        id: String,
        pem: String,
    },
    /// The cache had nothing more for a row.
    NoCachedPem,
    /// The ESA sites of one account and region.
    Sites(ScopeId, Result<Vec<EsaSite>, Error>),
}
