//! One inventory as a tab shows it: the rows, how fresh they are, the load in progress, and the
//! table's filter, order, selection and cursor. Pure state; the app decides when to recompute.

use super::rows::{Inventory, InventoryBuilder, RowId};
use super::view::{FilterSpec, RowSet, SortCache, SortSpec};
use crate::app::context::ScopeId;
use crate::app::runtime::{Generation, SharedGeneration};
use crate::app::source::PageCursor;
use crate::model::Service;
use crate::model::{Change, Error};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Which inventory: a service, and for ESA a site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PaneKey {
    /// The service.
    pub service: Service,
    /// ESA site.
    pub site_id: Option<i64>,
}

impl PaneKey {
    /// A service-wide inventory.
    pub fn service(service: Service) -> Self {
        PaneKey {
            service,
            site_id: None,
        }
    }

    /// One ESA site's client certificates.
    pub fn esa(site_id: i64) -> Self {
        PaneKey {
            service: Service::Esa,
            site_id: Some(site_id),
        }
    }
}

/// Where a walk over the pages stands.
#[derive(Debug, Clone, PartialEq)]
pub enum LoadState {
    /// Nothing running.
    Idle,
    /// Reading the cache.
    ReadingCache,
    /// Pages coming in.
    Fetching {
        /// Pages fetched so far.
        pages: u32,
        /// Rows fetched so far.
        rows: u64,
        /// Total rows, when the API says.
        total: Option<u64>,
        /// What is happening (`Listing`, `Refreshing statuses 3/20`).
        phase: String,
    },
    /// A page failed; [`super::Action::RetryFetch`] continues from it.
    Failed {
        /// The provider's error.
        error: Error,
        /// The page that failed.
        at: String,
        /// Pages fetched before.
        pages: u32,
        /// Rows fetched before.
        rows: u64,
    },
}

/// A failed walk's rows and position, kept so a retry continues instead of starting over.
#[derive(Debug)]
pub struct Resume {
    /// Rows so far.
    pub builder: InventoryBuilder,
    /// The page to fetch next.
    pub cursor: PageCursor,
    /// Pages done.
    pub pages: u32,
    /// Second phase (PCA status batches, VOD certificate details): calls done; `Some` once the
    /// listing itself finished.
    pub second_phase_done: Option<usize>,
}

/// A per-row note shown in place after a status change.
#[derive(Debug, Clone, PartialEq)]
pub enum RowNote {
    /// The change is running.
    Busy(Change),
    /// The change worked.
    Done {
        /// What was done.
        change: Change,
        /// Request id of the call.
        request_id: Option<String>,
    },
    /// The change failed.
    Failed {
        /// What was tried.
        change: Change,
        /// Why it failed.
        error: Error,
    },
}

/// Filter, order, the rows they select, the selection and the keyboard cursor.
#[derive(Debug, Default)]
pub struct TableState {
    /// Filter.
    pub filter: FilterSpec,
    /// Order.
    pub sort: SortSpec,
    /// Rows shown, in order (filtered and sorted).
    pub index: Arc<Vec<RowId>>,
    /// A recomputation is running; `index` still shows the previous result.
    pub view_pending: bool,
    /// Inventory build and state version `index` was computed for.
    pub(crate) index_of: (u64, u64),
    pub(crate) view_generation: SharedGeneration,
    pub(crate) sort_cache: SortCache,
    /// Selected rows.
    pub selection: RowSet,
    /// Row under the keyboard cursor (the one the detail panel shows).
    pub cursor: Option<RowId>,
    /// Where Shift ranges start.
    pub anchor: Option<RowId>,
    /// Position of `cursor` in `index`, when visible.
    pub cursor_pos: Option<usize>,
}

/// Click modifiers, as the table reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ClickMods {
    /// Ctrl (Cmd on macOS): toggle one row.
    pub toggle: bool,
    /// Shift: select the range from the anchor.
    pub range: bool,
}

/// Keyboard cursor moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CursorMove {
    /// By this many rows (negative = up).
    By(isize),
    /// First row.
    First,
    /// Last row.
    Last,
}

impl TableState {
    fn position_of(&self, row: RowId) -> Option<usize> {
        self.index.iter().position(|&r| r == row)
    }

    /// Installs a freshly computed index and re-finds the cursor in it.
    pub fn set_index(&mut self, index: Arc<Vec<RowId>>, of: (u64, u64)) {
        self.index = index;
        self.index_of = of;
        self.cursor_pos = self.cursor.and_then(|c| self.position_of(c));
    }

    fn select_range(&mut self, a: usize, b: usize, keep: bool) {
        if !keep {
            self.selection.clear();
        }
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        for pos in lo..=hi.min(self.index.len().saturating_sub(1)) {
            self.selection.insert(self.index[pos]);
        }
    }

    /// A click on the row at `pos` of the index.
    pub fn click(&mut self, pos: usize, mods: ClickMods) {
        let Some(&row) = self.index.get(pos) else {
            return;
        };
        if mods.range {
            let anchor_pos = self.anchor.and_then(|a| self.position_of(a)).unwrap_or(pos);
            self.select_range(anchor_pos, pos, mods.toggle);
        } else if mods.toggle {
            if !self.selection.remove(row) {
                self.selection.insert(row);
            }
            self.anchor = Some(row);
        } else {
            self.selection.clear();
            self.selection.insert(row);
            self.anchor = Some(row);
        }
        self.cursor = Some(row);
        self.cursor_pos = Some(pos);
    }

    /// Moves the keyboard cursor; `extend` (Shift) grows the selection from the anchor.
    pub fn move_cursor(&mut self, movement: CursorMove, extend: bool) {
        let n = self.index.len();
        if n == 0 {
            return;
        }
        let current = self.cursor_pos;
        let pos = match (movement, current) {
            (CursorMove::First, _) => 0,
            (CursorMove::Last, _) => n - 1,
            (CursorMove::By(d), None) => {
                if d < 0 {
                    n - 1
                } else {
                    0
                }
            }
            (CursorMove::By(d), Some(p)) => p.saturating_add_signed(d).min(n - 1),
        };
        let row = self.index[pos];
        if extend {
            let anchor_pos = self
                .anchor
                .and_then(|a| self.position_of(a))
                .or(current)
                .unwrap_or(pos);
            if self.anchor.is_none() {
                self.anchor = self.index.get(anchor_pos).copied();
            }
            self.select_range(anchor_pos, pos, false);
        } else {
            self.selection.clear();
            self.selection.insert(row);
            self.anchor = Some(row);
        }
        self.cursor = Some(row);
        self.cursor_pos = Some(pos);
    }

    /// Toggles the cursor row (Space).
    pub fn toggle_cursor(&mut self) {
        if let Some(row) = self.cursor
            && !self.selection.remove(row)
        {
            self.selection.insert(row);
        }
    }

    /// Selects every row the filter shows (and only those).
    pub fn select_all_filtered(&mut self) {
        self.selection.clear();
        for &row in self.index.iter() {
            self.selection.insert(row);
        }
    }

    /// How many selected rows the filter currently shows.
    pub fn selected_visible(&self) -> usize {
        if self.selection.len() == self.index.len() {
            // Common after "select all filtered": skip the scan.
            return self.index.len();
        }
        self.selection
            .iter()
            .filter(|r| self.index.contains(r))
            .count()
    }

    /// Forgets selection and cursor (after the inventory was replaced).
    pub fn reset_selection(&mut self) {
        self.selection.clear();
        self.cursor = None;
        self.anchor = None;
        self.cursor_pos = None;
    }
}

/// The rows of one account and region in a pane, and their load.
#[derive(Debug)]
pub struct Part {
    /// Its rows (as last read from the cache or the cloud).
    pub rows: Inventory,
    /// When they were fetched (UNIX seconds); `None` if never.
    pub fetched_at: Option<i64>,
    /// `true` while they come from the cache and have not been refreshed this session.
    pub stale: bool,
    /// Its load in progress.
    pub load: LoadState,
    /// Whether a refresh ran (or started) this session.
    pub refreshed_once: bool,
    pub(crate) resume: Option<Resume>,
    pub(crate) load_generation: Generation,
    pub(crate) abort: Option<tokio::task::AbortHandle>,
    /// The rows its walk has listed so far, while it has nothing else to show (its first fetch,
    /// no cache), with an identity for the Overview's change check. Only the Overview reads
    /// them; the table waits for the finished walk.
    pub(crate) listed: Option<(u64, InventoryBuilder)>,
}

impl Part {
    fn new(service: Service) -> Self {
        Part {
            rows: Inventory::empty(service),
            fetched_at: None,
            stale: false,
            load: LoadState::Idle,
            refreshed_once: false,
            resume: None,
            load_generation: Generation::default(),
            abort: None,
            listed: None,
        }
    }

    /// `true` while a page walk runs.
    pub fn is_fetching(&self) -> bool {
        matches!(self.load, LoadState::Fetching { .. })
    }
}

/// One inventory tab's state: the rows of every account and region it covers, as one table.
#[derive(Debug)]
pub struct Pane {
    /// Which inventory.
    pub key: PaneKey,
    /// The rows shown: every part's, one after the other (see [`Inventory::concat`]).
    pub inventory: Inventory,
    /// An inventory waiting for its view before it replaces `inventory` (large inventories only).
    pub(crate) incoming: Option<(Inventory, i64)>,
    /// The table.
    pub table: TableState,
    /// Status change results by provider id, shown in place.
    pub notes: HashMap<String, RowNote>,
    /// Each account and region the pane covers: its rows and its load.
    pub parts: BTreeMap<ScopeId, Part>,
    /// One per combination of the parts started; an older one arriving late is dropped.
    pub(crate) combinations: Generation,
}

impl Pane {
    /// An empty pane over `scopes`.
    pub fn new(key: PaneKey, scopes: &[ScopeId]) -> Self {
        Pane {
            key,
            inventory: Inventory::empty(key.service),
            incoming: None,
            table: TableState::default(),
            notes: HashMap::new(),
            parts: scopes
                .iter()
                .map(|&s| (s, Part::new(key.service)))
                .collect(),
            combinations: Generation::default(),
        }
    }

    /// `true` while a page walk of any part runs.
    pub fn is_fetching(&self) -> bool {
        self.parts.values().any(Part::is_fetching)
    }

    /// The pane's load as one state: walks running (their pages and rows summed), else the
    /// first failed part, else a cache being read, else idle. Each part's own is in `parts`.
    pub fn load(&self) -> LoadState {
        let fetching: Vec<&Part> = self.parts.values().filter(|p| p.is_fetching()).collect();
        if !fetching.is_empty() {
            let (mut pages, mut rows, mut total, mut phase) = (0, 0, Some(0u64), String::new());
            for part in &fetching {
                if let LoadState::Fetching {
                    pages: p,
                    rows: r,
                    total: t,
                    phase: ph,
                } = &part.load
                {
                    pages += p;
                    rows += r;
                    total = total.zip(*t).map(|(a, b)| a + b);
                    phase.clone_from(ph);
                }
            }
            if self.parts.len() > 1 {
                phase = format!(
                    "{} of {} accounts and regions",
                    self.parts.len() - fetching.len(),
                    self.parts.len()
                );
            }
            return LoadState::Fetching {
                pages,
                rows,
                total,
                phase,
            };
        }
        if let Some(failed) = self
            .parts
            .values()
            .find(|p| matches!(p.load, LoadState::Failed { .. }))
        {
            return failed.load.clone();
        }
        if self
            .parts
            .values()
            .any(|p| p.load == LoadState::ReadingCache)
        {
            return LoadState::ReadingCache;
        }
        LoadState::Idle
    }

    /// When the oldest part was fetched; `None` until every part was fetched (or read) once.
    pub fn fetched_at(&self) -> Option<i64> {
        self.parts
            .values()
            .map(|p| p.fetched_at)
            .collect::<Option<Vec<i64>>>()
            .and_then(|t| t.into_iter().min())
    }

    /// `true` while some part shows rows from the cache not refreshed this session.
    pub fn stale(&self) -> bool {
        self.parts.values().any(|p| p.stale)
    }

    /// `true` once every part was refreshed (or started one) this session.
    pub fn refreshed_once(&self) -> bool {
        self.parts.values().all(|p| p.refreshed_once)
    }

    /// The row under the cursor, if any.
    pub fn cursor_row(&self) -> Option<RowId> {
        self.table
            .cursor
            .filter(|&r| (r as usize) < self.inventory.len() && !self.inventory.is_removed(r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(n: u32) -> TableState {
        let mut t = TableState::default();
        // Shown in reverse row order, as a descending sort would.
        t.set_index(Arc::new((0..n).rev().collect()), (1, 0));
        t
    }

    fn selected(t: &TableState) -> Vec<RowId> {
        t.selection.iter().collect()
    }

    const PLAIN: ClickMods = ClickMods {
        toggle: false,
        range: false,
    };
    const CTRL: ClickMods = ClickMods {
        toggle: true,
        range: false,
    };
    const SHIFT: ClickMods = ClickMods {
        toggle: false,
        range: true,
    };
    const CTRL_SHIFT: ClickMods = ClickMods {
        toggle: true,
        range: true,
    };

    #[test]
    fn click_ctrl_and_shift_follow_desktop_conventions() {
        let mut t = table(10);
        t.click(2, PLAIN); // row 7
        assert_eq!(selected(&t), [7]);
        t.click(5, SHIFT); // rows at positions 2..=5 → 7,6,5,4
        assert_eq!(selected(&t), [4, 5, 6, 7]);
        t.click(8, CTRL); // toggle row 1 in, anchor moves there
        assert_eq!(selected(&t), [1, 4, 5, 6, 7]);
        t.click(5, CTRL); // toggle row 4 out
        assert_eq!(selected(&t), [1, 5, 6, 7]);
        t.click(9, CTRL_SHIFT); // add range from anchor (row 4, position 5) to position 9
        assert_eq!(selected(&t), [0, 1, 2, 3, 4, 5, 6, 7]);
        t.click(0, PLAIN);
        assert_eq!(selected(&t), [9]);
        assert_eq!(t.cursor, Some(9));
        t.click(99, PLAIN); // outside: ignored
        assert_eq!(selected(&t), [9]);
    }

    #[test]
    fn keyboard_moves_and_extends() {
        let mut t = table(5);
        t.move_cursor(CursorMove::By(1), false); // no cursor yet: first row
        assert_eq!((t.cursor_pos, selected(&t)), (Some(0), vec![4]));
        t.move_cursor(CursorMove::By(1), true);
        t.move_cursor(CursorMove::By(1), true);
        assert_eq!(selected(&t), [2, 3, 4]);
        t.move_cursor(CursorMove::By(-1), true);
        assert_eq!(selected(&t), [3, 4]);
        t.move_cursor(CursorMove::Last, false);
        assert_eq!((t.cursor, selected(&t)), (Some(0), vec![0]));
        t.move_cursor(CursorMove::By(10), false);
        assert_eq!(t.cursor_pos, Some(4), "clamped");
        t.move_cursor(CursorMove::First, true);
        assert_eq!(selected(&t).len(), 5);
        assert_eq!(t.cursor_pos, Some(0));
        t.toggle_cursor();
        assert_eq!(selected(&t).len(), 4);
    }

    #[test]
    fn select_all_filtered_and_index_changes() {
        let mut t = table(6);
        t.click(1, PLAIN); // row 4
        t.select_all_filtered();
        assert_eq!(t.selection.len(), 6);
        assert_eq!(t.selected_visible(), 6);
        // The filter narrows: the cursor is re-found, selection outside stays but is not visible.
        t.set_index(Arc::new(vec![4, 2]), (1, 1));
        assert_eq!(t.cursor_pos, Some(0));
        assert_eq!(t.selected_visible(), 2);
        t.select_all_filtered();
        assert_eq!(selected(&t), [2, 4]);
        t.set_index(Arc::new(vec![1]), (1, 2));
        assert_eq!(t.cursor_pos, None);
        t.reset_selection();
        assert!(t.selection.is_empty() && t.cursor.is_none());
    }
}
