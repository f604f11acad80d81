//! The inventories feature: every pane's rows (from the cache first, then the cloud, page by
//! page), the table state of each (filter, order, selection, cursor, the shown index computed off
//! the UI thread when large), the details of the row under the cursor, and the ESA site list.
//!
//! Every pane covers all the accounts and regions of the workspace that have its service: one
//! [`pane::Part`] per scope (its rows from its cache or its own walk, its own load state, its own
//! rate limit and failures), joined into the one table the tab shows ([`Inventory::concat`]).
//!
//! Other features change rows through the few methods here ([`Inventories::show_change`],
//! [`Inventories::redescribe`]…); what the KMS pane walks is handed in by the app
//! ([`Inventories::set_kms_ids`]), since KMS has no list call. Knows nothing of egui.

mod event;
mod fetch;
pub mod pane;
pub mod rows;
pub mod view;

pub(crate) use event::InventoryEvent;
#[cfg(test)]
pub(crate) use fetch::PCA_STATUS_BATCH;
pub use pane::{ClickMods, CursorMove, LoadState, Pane, PaneKey, Part, RowNote, TableState};
pub use rows::{Inventory, InventoryBuilder, RowData, RowId, RowState, SNAPSHOT_FORMAT, StrColumn};

use crate::app::context::{Cx, NoticeLevel, ScopeId, Workspace, now_unix};
use crate::app::runtime::Ticket;
use crate::app::source::{CertificateDetail, EsaSite, ListTarget};
use crate::certs::{self, CertError, CertificateInfo};
use crate::jobs::{Applied, BulkItem};
use crate::model::{CertStatus, CertificateRow, Change, Error, Service};
use crate::store::RowRecord;
use fetch::{ProgressSender, SNAPSHOT_MIN_ROWS, read_cache, walk};
use pane::Resume;
use rows::next_build_id;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use view::{Cancel, ViewInput};

/// Inventories up to this size are filtered and sorted inline (well under a millisecond per
/// thousand rows); larger ones on a worker thread so the UI never stalls.
pub const INLINE_VIEW_LIMIT: usize = 20_000;

/// The inventories every workspace has from the start (ESA panes appear per site).
pub const FIXED_PANES: [Service; 4] = [Service::Kms, Service::Pca, Service::Vod, Service::Iotda];

/// The details shown for one certificate.
#[derive(Debug, Clone, Default)]
pub struct DetailEntry {
    /// A describe call is running.
    pub loading: bool,
    /// Facts the describe call returned.
    pub facts: Vec<(String, String)>,
    /// Certificate PEM, when known.
    pub pem: Option<String>,
    /// The PEM, parsed.
    pub parsed: Option<Result<CertificateInfo, CertError>>,
    /// The describe call failed.
    pub error: Option<Error>,
}

impl DetailEntry {
    fn set_pem(&mut self, pem: String) {
        self.parsed = Some(certs::parse_first_pem(&pem));
        self.pem = Some(pem);
    }
}

/// ESA sites (of every account and region) and the one shown.
#[derive(Debug, Clone, Default)]
pub struct EsaSites {
    /// Sites of every ESA account and region.
    pub sites: Vec<EsaSite>,
    /// A ListSites call is running.
    pub loading: bool,
    /// The last one failed.
    pub error: Option<Error>,
    /// The accounts and regions whose ListSites failed last, and why (the headless estate
    /// names each).
    pub failed: BTreeMap<ScopeId, Error>,
    /// Site shown.
    pub selected: Option<i64>,
    /// ListSites calls running.
    running: usize,
    /// Every account and region answered at least once (an estate without any site stays
    /// loaded and empty instead of being asked again on every frame's `ensure_sites`).
    answered: bool,
}

/// Every inventory of the workspace.
#[derive(Debug, Default)]
pub struct Inventories {
    /// Inventories by key.
    pub panes: HashMap<PaneKey, Pane>,
    /// Details by (inventory, provider id).
    pub details: HashMap<(PaneKey, String), DetailEntry>,
    /// ESA sites.
    pub esa: EsaSites,
    /// The KMS ids each KMS scope's walk describes; `None` while they are being read.
    kms_ids: Option<BTreeMap<ScopeId, Arc<Vec<String>>>>,
    /// A KMS fetch was asked for while the ids were being read.
    kms_fetch_waiting: bool,
    /// One describe call at a time (see [`Inventories::load_detail`]).
    detail_in_flight: Option<(PaneKey, String)>,
    /// Panes whose rows changed since their view was last recomputed, and when that was.
    dirty: Vec<PaneKey>,
    dirty_shown_at: Option<std::time::Instant>,
}

fn swap_inventory(pane: &mut Pane, inventory: Inventory) {
    let cursor_id = pane.cursor_row().map(|r| pane.inventory.id(r).to_string());
    pane.inventory = inventory;
    pane.table.reset_selection();
    if let Some(id) = cursor_id {
        pane.table.cursor = pane.inventory.find(&id);
        pane.table.anchor = pane.table.cursor;
        if let Some(c) = pane.table.cursor {
            pane.table.selection.insert(c);
        }
    }
}

fn install_view(pane: &mut Pane, input: &ViewInput, index: Arc<Vec<RowId>>) {
    if let Some((incoming, _)) = &pane.incoming
        && incoming.build_id() == input.build_id
        && let Some((inventory, _)) = pane.incoming.take()
    {
        swap_inventory(pane, inventory);
    }
    if pane.inventory.build_id() != input.build_id {
        // A view of an inventory that has since been replaced.
        return;
    }
    pane.table
        .set_index(index, (input.build_id, input.state_version));
}

/// Rebuilds `inventory` with one row replaced by what a describe call returned.
fn with_row(inventory: &Inventory, detail: &CertificateDetail) -> Inventory {
    // `new` tracks ids, which `update_by_id` needs.
    let mut builder = InventoryBuilder::new(inventory.service());
    for r in inventory.records() {
        builder.push(r);
    }
    builder.update_by_id(RowRecord {
        extra: detail.extra.as_deref(),
        ..RowRecord::from(&detail.row)
    });
    builder.build()
}

/// The parts of a pane joined into one inventory (a single part needs no copy).
fn combine(service: Service, parts: Vec<(ScopeId, Inventory)>) -> Inventory {
    if let [(scope, only)] = parts.as_slice() {
        return only.clone().with_scope(*scope);
    }
    let refs: Vec<(ScopeId, &Inventory)> = parts.iter().map(|(s, i)| (*s, i)).collect();
    Inventory::concat(service, &refs)
}

type Ctx<'a, 'b> = &'a mut Cx<'b, InventoryEvent>;

impl Inventories {
    /// The panes of `workspace`: each fixed service over the scopes that have it (ESA panes come
    /// per site once the sites are listed).
    pub fn for_workspace(workspace: &Workspace) -> Self {
        Inventories {
            panes: FIXED_PANES
                .iter()
                .map(|&s| {
                    let key = PaneKey::service(s);
                    (key, Pane::new(key, &workspace.scopes_for(s)))
                })
                .collect(),
            kms_ids: Some(BTreeMap::new()),
            ..Inventories::default()
        }
    }

    /// The pane of `key`, if the workspace has it.
    pub fn pane(&self, key: PaneKey) -> Option<&Pane> {
        self.panes.get(&key)
    }

    /// Details of the cursor row of `key`, when any.
    pub fn detail_of(&self, key: PaneKey) -> Option<&DetailEntry> {
        let pane = self.panes.get(&key)?;
        let row = pane.cursor_row()?;
        self.details.get(&(key, pane.inventory.id(row).to_string()))
    }

    /// Stops every walk (the workspace is being replaced).
    pub fn abort_all(&mut self) {
        for part in self.panes.values().flat_map(|p| p.parts.values()) {
            if let Some(abort) = &part.abort {
                abort.abort();
            }
        }
    }

    /// Reads the cache of every fixed pane.
    pub(crate) fn load_caches(&mut self, cx: Ctx<'_, '_>) {
        for service in FIXED_PANES {
            self.load_cache(PaneKey::service(service), cx);
        }
    }

    /// Hands in the KMS ids each KMS scope walks (`None`: being read, a KMS fetch then waits).
    pub(crate) fn set_kms_ids(
        &mut self,
        ids: Option<BTreeMap<ScopeId, Arc<Vec<String>>>>,
        cx: Ctx<'_, '_>,
    ) {
        self.kms_ids = ids;
        if self.kms_ids.is_some() && std::mem::take(&mut self.kms_fetch_waiting) {
            self.start_fetch(PaneKey::service(Service::Kms), cx);
        }
    }

    /// Reads every part's cache in one worker task (one join of the parts after).
    fn load_cache(&mut self, key: PaneKey, cx: Ctx<'_, '_>) {
        let Some(store) = cx.shared.store.clone() else {
            return;
        };
        let Some(pane) = self.panes.get_mut(&key) else {
            return;
        };
        let mut keys = Vec::new();
        for (&scope, part) in &mut pane.parts {
            part.load = LoadState::ReadingCache;
            keys.push((scope, cx.shared.cache_key(scope, key.service, key.site_id)));
        }
        cx.tasks.spawn_blocking(move || {
            // The parts of an estate are read side by side (each snapshot decodes outside the
            // store's lock): a cold start waits for the largest part, not for their sum.
            let parts = std::thread::scope(|threads| {
                let reads: Vec<_> = keys
                    .into_iter()
                    .map(|(scope, cache_key)| {
                        let store = &store;
                        (scope, threads.spawn(move || read_cache(store, &cache_key)))
                    })
                    .collect();
                reads
                    .into_iter()
                    .map(|(scope, read)| {
                        let read = read
                            .join()
                            .unwrap_or_else(|_| Err("reading the cache failed".to_string()));
                        (scope, read)
                    })
                    .collect()
            });
            InventoryEvent::CacheLoaded { key, parts }
        });
    }

    fn save_cache(
        &mut self,
        key: PaneKey,
        scope: ScopeId,
        inventory: Inventory,
        fetched_at: i64,
        cx: Ctx<'_, '_>,
    ) {
        let cache_key = cx.shared.cache_key(scope, key.service, key.site_id);
        cx.persist(move |s| {
            s.save_inventory(&cache_key, fetched_at, inventory.records())?;
            if inventory.len() >= SNAPSHOT_MIN_ROWS {
                let data = inventory.to_snapshot();
                s.save_snapshot(&cache_key, fetched_at, SNAPSHOT_FORMAT, &data)?;
            }
            Ok(())
        });
    }

    /// Joins the parts of `key` into the table's inventory: inline when small, on a worker
    /// otherwise (the newest join wins).
    fn combine_parts(&mut self, key: PaneKey, cx: Ctx<'_, '_>) {
        let Some(pane) = self.panes.get_mut(&key) else {
            return;
        };
        let parts: Vec<(ScopeId, Inventory)> = pane
            .parts
            .iter()
            .map(|(s, p)| (*s, p.rows.clone()))
            .collect();
        let rows: usize = parts.iter().map(|(_, i)| i.len()).sum();
        let ticket = pane.combinations.start();
        if rows <= INLINE_VIEW_LIMIT {
            let inventory = combine(key.service, parts);
            self.install_inventory(key, inventory, cx);
            return;
        }
        cx.tasks.spawn_blocking(move || InventoryEvent::Combined {
            key,
            ticket,
            inventory: Box::new(combine(key.service, parts)),
        });
    }

    /// Starts walking every page of `key`'s inventory in every part (restarting walks in
    /// progress): the accounts and regions in parallel, each under its own rate limit.
    pub(crate) fn start_fetch(&mut self, key: PaneKey, cx: Ctx<'_, '_>) {
        let scopes: Vec<ScopeId> = match self.panes.get(&key) {
            Some(p) => p.parts.keys().copied().collect(),
            None => return,
        };
        for scope in scopes {
            self.start_part_fetch(key, scope, cx);
        }
    }

    /// Starts walking one part of `key`.
    fn start_part_fetch(&mut self, key: PaneKey, scope: ScopeId, cx: Ctx<'_, '_>) {
        let kms_ids = match (&self.kms_ids, key.service) {
            (None, Service::Kms) => {
                self.kms_fetch_waiting = true;
                return;
            }
            (Some(ids), Service::Kms) => ids.get(&scope).cloned().unwrap_or_default(),
            _ => Arc::new(Vec::new()),
        };
        let target = ListTarget {
            scope,
            service: key.service,
            site_id: key.site_id,
            kms_ids,
        };
        let resume = Resume {
            builder: InventoryBuilder::new(key.service),
            cursor: target.first_cursor(),
            pages: 0,
            second_phase_done: None,
        };
        self.run_fetch(key, target, resume, cx);
    }

    /// Continues every failed walk of `key` from the call that failed (starts the others that
    /// never ran).
    pub(crate) fn retry_fetch(&mut self, key: PaneKey, cx: Ctx<'_, '_>) {
        let Some(pane) = self.panes.get_mut(&key) else {
            return;
        };
        let mut resumed = Vec::new();
        let mut fresh = Vec::new();
        for (&scope, part) in &mut pane.parts {
            if !matches!(part.load, LoadState::Failed { .. }) && part.refreshed_once {
                continue;
            }
            match part.resume.take() {
                Some(resume) => resumed.push((scope, resume)),
                None => fresh.push(scope),
            }
        }
        for (scope, resume) in resumed {
            let kms_ids = self
                .kms_ids
                .as_ref()
                .and_then(|ids| ids.get(&scope).cloned())
                .unwrap_or_default();
            let target = ListTarget {
                scope,
                service: key.service,
                site_id: key.site_id,
                kms_ids,
            };
            self.run_fetch(key, target, resume, cx);
        }
        for scope in fresh {
            self.start_part_fetch(key, scope, cx);
        }
    }

    /// Stops every walk of `key`.
    pub(crate) fn cancel_fetch(&mut self, key: PaneKey) {
        if let Some(p) = self.panes.get_mut(&key) {
            for part in p.parts.values_mut() {
                cancel_part(part);
            }
        }
    }

    fn run_fetch(&mut self, key: PaneKey, target: ListTarget, resume: Resume, cx: Ctx<'_, '_>) {
        let scope = target.scope;
        let Some(part) = self
            .panes
            .get_mut(&key)
            .and_then(|p| p.parts.get_mut(&scope))
        else {
            return;
        };
        // A resumed walk continues the listing it left; a new one starts its own.
        let listed = part.listed.take();
        cancel_part(part);
        part.listed = if resume.pages > 0 {
            listed
        } else if part.rows.is_empty() {
            Some((next_build_id(), InventoryBuilder::new(key.service)))
        } else {
            None
        };
        let stream_rows = part.listed.is_some();
        part.refreshed_once = true;
        let ticket = part.load_generation.current();
        part.load = LoadState::Fetching {
            pages: resume.pages,
            rows: resume.builder.len() as u64,
            total: None,
            phase: "Listing".into(),
        };
        let progress = ProgressSender {
            events: cx.tasks.sender(),
            key,
            scope,
            ticket,
            stream_rows,
        };
        let source = Arc::clone(&cx.shared.source);
        part.abort = Some(cx.tasks.spawn(walk(source, target, resume, progress)));
    }

    /// Starts the first fetch of every part of `key` not refreshed this session, unless its
    /// cache is still being read.
    pub(crate) fn ensure_loaded(&mut self, key: PaneKey, cx: Ctx<'_, '_>) {
        if !cx.shared.auto_refresh {
            return;
        }
        let due: Vec<ScopeId> = match self.panes.get(&key) {
            Some(p) => p
                .parts
                .iter()
                .filter(|(_, part)| {
                    !part.refreshed_once
                        && !part.is_fetching()
                        && part.load != LoadState::ReadingCache
                })
                .map(|(s, _)| *s)
                .collect(),
            None => return,
        };
        for scope in due {
            self.start_part_fetch(key, scope, cx);
        }
    }

    /// Starts a fetch of every inventory not refreshed this session, and the ESA site list (the
    /// Overview covers them all).
    pub(crate) fn ensure_all_loaded(&mut self, cx: Ctx<'_, '_>) {
        self.ensure_sites(cx);
        let mut keys: Vec<PaneKey> = self.panes.keys().copied().collect();
        keys.sort_by_key(|k| (k.service, k.site_id));
        for key in keys {
            self.ensure_loaded(key, cx);
        }
    }

    /// Fetches every inventory that is not being fetched (and the ESA site list).
    pub(crate) fn refresh_all(&mut self, cx: Ctx<'_, '_>) {
        if !self.esa.loading {
            self.load_sites(cx);
        }
        let mut keys: Vec<PaneKey> = self
            .panes
            .iter()
            .filter(|(_, p)| !p.is_fetching())
            .map(|(k, _)| *k)
            .collect();
        keys.sort_by_key(|k| (k.service, k.site_id));
        for key in keys {
            self.start_fetch(key, cx);
        }
    }

    /// Changes a pane's table (filter, order…) and recomputes what it shows.
    pub(crate) fn edit_table(
        &mut self,
        key: PaneKey,
        edit: impl FnOnce(&mut TableState),
        cx: Ctx<'_, '_>,
    ) {
        if let Some(p) = self.panes.get_mut(&key) {
            edit(&mut p.table);
            self.recompute_view(key, cx);
        }
    }

    /// Changes the selection or the cursor of a pane (no recomputation needed); `then_detail`
    /// loads the details of the row now under the cursor.
    pub(crate) fn edit_selection(
        &mut self,
        key: PaneKey,
        edit: impl FnOnce(&mut TableState),
        then_detail: bool,
        cx: Ctx<'_, '_>,
    ) {
        if let Some(p) = self.panes.get_mut(&key) {
            edit(&mut p.table);
        }
        if then_detail {
            self.load_detail(key, false, cx);
        }
    }

    /// Recomputes a pane's shown rows: inline for small inventories, on a worker otherwise.
    pub(crate) fn recompute_view(&mut self, key: PaneKey, cx: Ctx<'_, '_>) {
        let Some(pane) = self.panes.get_mut(&key) else {
            return;
        };
        let target = pane
            .incoming
            .as_ref()
            .map_or(&pane.inventory, |(inv, _)| inv);
        let input = ViewInput {
            data: Arc::clone(target.data()),
            states: Arc::clone(target.states()),
            build_id: target.build_id(),
            state_version: target.state_version(),
            filter: pane.table.filter.clone(),
            sort: pane.table.sort,
            now: now_unix(),
        };
        let ticket = pane.table.view_generation.start();
        if target.len() <= INLINE_VIEW_LIMIT {
            if let Some(out) =
                view::compute_view_cached(&input, &mut pane.table.sort_cache, &Cancel::never())
            {
                install_view(pane, &input, out.index);
            }
            return;
        }
        pane.table.view_pending = true;
        let cache = pane.table.sort_cache.clone();
        let cancel = Cancel::new(pane.table.view_generation.clone(), ticket);
        cx.tasks.spawn_blocking(move || {
            let output = view::compute_view(&input, &cache, &cancel);
            InventoryEvent::ViewReady {
                key,
                ticket,
                input: Box::new(input),
                output,
            }
        });
    }

    /// Replaces a pane's rows (keeping the cursor on the same certificate when it still exists).
    fn install_inventory(&mut self, key: PaneKey, inventory: Inventory, cx: Ctx<'_, '_>) {
        let Some(pane) = self.panes.get_mut(&key) else {
            return;
        };
        if inventory.len() <= INLINE_VIEW_LIMIT {
            swap_inventory(pane, inventory);
        } else {
            pane.incoming = Some((inventory, now_unix()));
        }
        self.recompute_view(key, cx);
    }

    /// Sets the status of row `id` of `key` in the table and in its part (so the next join keeps
    /// it); `None` marks it deleted. Returns the row's scope when the row exists.
    fn set_row(pane: &mut Pane, id: &str, status: Option<(CertStatus, &str)>) -> Option<ScopeId> {
        let row = pane.inventory.find(id)?;
        let scope = pane.inventory.scope(row);
        match status {
            Some((status, raw)) => pane.inventory.set_status(row, status, raw),
            None => {
                pane.inventory.remove(row);
                pane.table.selection.remove(row);
            }
        }
        if let Some(part) = pane.parts.get_mut(&scope)
            && let Some(r) = part.rows.find(id)
        {
            match status {
                Some((status, raw)) => part.rows.set_status(r, status, raw),
                None => part.rows.remove(r),
            }
        }
        Some(scope)
    }

    fn apply_row_update(&mut self, key: PaneKey, row: &CertificateRow, cx: Ctx<'_, '_>) {
        let Some(pane) = self.panes.get_mut(&key) else {
            return;
        };
        if let Some(r) = pane.inventory.find(&row.id)
            && (pane.inventory.status(r) != row.status
                || pane.inventory.raw_status(r) != row.raw_status)
        {
            Self::set_row(pane, &row.id, Some((row.status, &row.raw_status)));
            self.recompute_view(key, cx);
        }
    }

    /// (Re)loads the details of the cursor row of `key`.
    pub(crate) fn load_detail(&mut self, key: PaneKey, force: bool, cx: Ctx<'_, '_>) {
        let Some(pane) = self.panes.get(&key) else {
            return;
        };
        let Some(row) = pane.cursor_row() else {
            return;
        };
        let id = pane.inventory.id(row).to_string();
        let scope = pane.inventory.scope(row);
        let site_id = pane.inventory.site_id(row).or(key.site_id);
        let listed_pem = pane.inventory.pem(row).map(str::to_string);
        let entry_key = (key, id.clone());
        let known = self.details.contains_key(&entry_key);
        if known && !force {
            return;
        }
        let entry = self.details.entry(entry_key.clone()).or_default();
        if let Some(pem) = listed_pem
            && entry.pem.is_none()
        {
            entry.set_pem(pem);
        }
        // One describe call at a time: keyboard navigation through many rows must not fire one
        // call per row. When this one finishes, the row under the cursor then gets its turn.
        if self.detail_in_flight.is_some() {
            if !known {
                self.details.remove(&entry_key);
            }
            return;
        }
        entry.loading = true;
        if entry.pem.is_none()
            && let Some(store) = cx.shared.store.clone()
        {
            let cache_key = cx.shared.cache_key(scope, key.service, key.site_id);
            let id2 = id.clone();
            cx.tasks.spawn_blocking(move || {
                let pem = store
                    .lock()
                    .ok()
                    .and_then(|s| s.cached_pem(&cache_key, &id2).ok().flatten());
                match pem {
                    Some(pem) => InventoryEvent::CachedPem { key, id: id2, pem },
                    None => InventoryEvent::NoCachedPem,
                }
            });
        }
        self.detail_in_flight = Some(entry_key);
        let fut = cx.shared.source.describe(scope, key.service, &id, site_id);
        cx.tasks.spawn(async move {
            InventoryEvent::Detail {
                key,
                id,
                result: fut.await,
            }
        });
    }

    /// Marks a row with what happens to it (a change running, done or failed).
    pub(crate) fn note(&mut self, key: PaneKey, id: &str, note: RowNote) {
        if let Some(pane) = self.panes.get_mut(&key) {
            pane.notes.insert(id.to_string(), note);
        }
    }

    /// The scope, the provider's name and the ESA site of row `id` of `key`.
    pub(crate) fn row_identity(
        &self,
        key: PaneKey,
        id: &str,
    ) -> Option<(ScopeId, String, Option<i64>)> {
        let pane = self.panes.get(&key)?;
        let r = pane.inventory.find(id)?;
        Some((
            pane.inventory.scope(r),
            pane.inventory.name(r).to_string(),
            pane.inventory.site_id(r).or(key.site_id),
        ))
    }

    /// Shows a change's result in row `id` of `key` and in the cache: its new status, or (when
    /// `status` is `None`) that it is gone. `recompute` is false while many rows change at once
    /// (the caller recomputes the view when it is time).
    pub(crate) fn show_change(
        &mut self,
        key: PaneKey,
        id: &str,
        status: Option<(CertStatus, String)>,
        recompute: bool,
        cx: Ctx<'_, '_>,
    ) {
        let Some(pane) = self.panes.get_mut(&key) else {
            return;
        };
        let Some(scope) = Self::set_row(pane, id, status.as_ref().map(|(s, r)| (*s, r.as_str())))
        else {
            return;
        };
        let cache_key = cx.shared.cache_key(scope, key.service, key.site_id);
        let id = id.to_string();
        match status {
            Some((status, raw)) => {
                cx.persist(move |s| s.update_status(&cache_key, &id, status, &raw).map(|_| ()));
            }
            // KMS rows come from the known ids, which their owner forgets.
            None if key.service != Service::Kms => {
                cx.persist(move |s| s.remove_row(&cache_key, &id).map(|_| ()));
            }
            None => {}
        }
        if recompute {
            self.recompute_view(key, cx);
        }
    }

    /// Shows a finished single change in its row: the note, and the new status (or the row
    /// gone). Returns `true` when the item was deleted.
    pub(crate) fn record_change(
        &mut self,
        key: PaneKey,
        id: &str,
        change: Change,
        result: Result<Applied, Error>,
        cx: Ctx<'_, '_>,
    ) -> bool {
        match result {
            Ok(applied) => {
                self.note(
                    key,
                    id,
                    RowNote::Done {
                        change,
                        request_id: applied.request_id.clone(),
                    },
                );
                let deleted = applied.status.is_none();
                self.show_change(key, id, applied.status, true, cx);
                deleted
            }
            Err(error) => {
                self.note(key, id, RowNote::Failed { change, error });
                false
            }
        }
    }

    /// The selected rows of `key` as items to change, in row order, with their scope.
    pub(crate) fn selected_items(&self, key: PaneKey) -> Vec<(ScopeId, BulkItem)> {
        let Some(pane) = self.panes.get(&key) else {
            return Vec::new();
        };
        let mut rows: Vec<RowId> = pane
            .table
            .selection
            .iter()
            .filter(|&r| !pane.inventory.is_removed(r))
            .collect();
        rows.sort_unstable();
        rows.into_iter()
            .map(|r| {
                (
                    pane.inventory.scope(r),
                    BulkItem {
                        service: key.service,
                        id: pane.inventory.id(r).to_string(),
                        site_id: pane.inventory.site_id(r).or(key.site_id),
                        name: pane.inventory.name(r).to_string(),
                    },
                )
            })
            .collect()
    }

    /// Shows new statuses of many rows (a bulk job's results). Views are recomputed at most four
    /// times a second unless `finished`, so thousands of items per second do not redo the sort
    /// per item; when `finished` the statuses are also written to the cache (one write) and the
    /// changed rows' details read again when next shown.
    pub(crate) fn show_statuses(
        &mut self,
        updates: Vec<(PaneKey, String, CertStatus, String)>,
        finished: bool,
        cx: Ctx<'_, '_>,
    ) {
        let mut writes = Vec::new();
        for (key, id, status, raw) in updates {
            let Some(pane) = self.panes.get_mut(&key) else {
                continue;
            };
            if let Some(scope) = Self::set_row(pane, &id, Some((status, &raw))) {
                if finished {
                    pane.notes.remove(&id);
                    writes.push((key, scope, id, status, raw));
                }
                if !self.dirty.contains(&key) {
                    self.dirty.push(key);
                }
            }
        }
        let due = finished
            || self
                .dirty_shown_at
                .is_none_or(|t| t.elapsed() >= std::time::Duration::from_millis(250));
        if due {
            self.dirty_shown_at = Some(std::time::Instant::now());
            for key in std::mem::take(&mut self.dirty) {
                self.recompute_view(key, cx);
            }
        }
        if writes.is_empty() {
            return;
        }
        let changed: Vec<(PaneKey, String)> = writes
            .iter()
            .map(|(k, _, id, ..)| (*k, id.clone()))
            .collect();
        self.forget_details(&changed);
        let writes: Vec<_> = writes
            .into_iter()
            .map(|(k, scope, id, status, raw)| {
                (
                    cx.shared.cache_key(scope, k.service, k.site_id),
                    id,
                    status,
                    raw,
                )
            })
            .collect();
        cx.persist(move |s| {
            for (cache_key, id, status, raw) in &writes {
                s.update_status(cache_key, id, *status, raw)?;
            }
            Ok(())
        });
    }

    /// Drops what is known of row `id` of `key` (a forgotten KMS id).
    pub(crate) fn forget_row(&mut self, key: PaneKey, id: &str, cx: Ctx<'_, '_>) {
        if let Some(p) = self.panes.get_mut(&key) {
            Self::set_row(p, id, None);
        }
        self.recompute_view(key, cx);
    }

    /// Forgets the details of rows that changed, so they are read again when next shown.
    pub(crate) fn forget_details(&mut self, changed: &[(PaneKey, String)]) {
        self.details.retain(|k, _| !changed.contains(k));
    }

    /// Describes row `id` of `key` again (after its certificate was replaced), so the row and
    /// the detail panel show what the cloud has now.
    pub(crate) fn redescribe(&mut self, key: PaneKey, id: String, cx: Ctx<'_, '_>) {
        let Some((scope, _, site_id)) = self.row_identity(key, &id) else {
            return;
        };
        let part = self
            .panes
            .get(&key)
            .and_then(|p| p.parts.get(&scope))
            .map(|p| p.rows.clone());
        self.details.entry((key, id.clone())).or_default().loading = true;
        let source = Arc::clone(&cx.shared.source);
        cx.tasks.spawn(async move {
            let result = source.describe(scope, key.service, &id, site_id).await;
            let rebuilt = match (&result, part) {
                (Ok(detail), Some(inv)) if inv.find(&id).is_some() => {
                    Some((inv.build_id(), Box::new(with_row(&inv, detail))))
                }
                _ => None,
            };
            InventoryEvent::Redescribed {
                key,
                scope,
                id,
                result,
                rebuilt,
            }
        });
    }

    /// Reads the ESA site list of every ESA account and region.
    pub(crate) fn load_sites(&mut self, cx: Ctx<'_, '_>) {
        let scopes = cx.shared.workspace.scopes_for(Service::Esa);
        if scopes.is_empty() {
            return;
        }
        self.esa.loading = true;
        self.esa.error = None;
        for scope in scopes {
            self.esa.running += 1;
            let fut = cx.shared.source.esa_sites(scope);
            cx.tasks
                .spawn(async move { InventoryEvent::Sites(scope, fut.await) });
        }
    }

    /// Loads the ESA site list unless it is loaded, loading or failed.
    pub(crate) fn ensure_sites(&mut self, cx: Ctx<'_, '_>) {
        if !self.esa.answered && !self.esa.loading && self.esa.error.is_none() {
            self.load_sites(cx);
        }
    }

    /// Shows an ESA site (creating its pane, read from the cache, the first time).
    pub(crate) fn select_esa_site(&mut self, site: i64, cx: Ctx<'_, '_>) {
        self.esa.selected = Some(site);
        self.add_esa_site_pane(site, cx);
    }

    /// The pane of one ESA site (over the site's account and region), read from its cache.
    fn add_esa_site_pane(&mut self, site: i64, cx: Ctx<'_, '_>) {
        let key = PaneKey::esa(site);
        let Some(scope) = self
            .esa
            .sites
            .iter()
            .find(|s| s.id == site)
            .map(|s| s.scope)
        else {
            return;
        };
        if let std::collections::hash_map::Entry::Vacant(e) = self.panes.entry(key) {
            e.insert(Pane::new(key, &[scope]));
            self.load_cache(key, cx);
        }
    }

    /// Applies a result of background work. Returns `true` when the app should check whether
    /// the shown tab needs a first fetch (a cache read ended, the site list arrived).
    pub(crate) fn handle(&mut self, event: InventoryEvent, cx: Ctx<'_, '_>) -> bool {
        match event {
            InventoryEvent::CacheLoaded { key, parts } => {
                let Some(pane) = self.panes.get_mut(&key) else {
                    return false;
                };
                let mut any = false;
                for (scope, result) in parts {
                    let Some(part) = pane.parts.get_mut(&scope) else {
                        continue;
                    };
                    if part.load == LoadState::ReadingCache {
                        part.load = LoadState::Idle;
                    }
                    match result {
                        // Only when nothing fresher arrived meanwhile.
                        Ok(Some((inventory, fetched_at))) if part.fetched_at.is_none() => {
                            part.stale = true;
                            part.rows = inventory;
                            part.fetched_at = Some(fetched_at);
                            any = true;
                        }
                        Ok(_) => {}
                        Err(e) => {
                            cx.notice(NoticeLevel::Error, format!("Reading the cache failed: {e}"))
                        }
                    }
                }
                if any {
                    self.combine_parts(key, cx);
                }
                return true;
            }
            InventoryEvent::Combined {
                key,
                ticket,
                inventory,
            } => {
                if self
                    .panes
                    .get(&key)
                    .is_some_and(|p| p.combinations.is_current(ticket))
                {
                    self.install_inventory(key, *inventory, cx);
                }
            }
            InventoryEvent::Progress {
                key,
                scope,
                ticket,
                pages,
                rows,
                total,
                phase,
            } => {
                if let Some(part) = self.part_of(key, scope, ticket) {
                    part.load = LoadState::Fetching {
                        pages,
                        rows,
                        total,
                        phase,
                    };
                }
            }
            InventoryEvent::Listed {
                key,
                scope,
                ticket,
                rows,
            } => {
                if let Some((_, listed)) = self
                    .part_of(key, scope, ticket)
                    .and_then(|p| p.listed.as_mut())
                {
                    for row in &rows {
                        // What the Overview reads: status, expiry, id and name.
                        listed.push(RowRecord {
                            serial: None,
                            fingerprint: None,
                            pem: None,
                            extra: None,
                            ..RowRecord::from(row)
                        });
                    }
                }
            }
            InventoryEvent::Fetched {
                key,
                scope,
                ticket,
                inventory,
                fetched_at,
            } => {
                let Some(part) = self.part_of(key, scope, ticket) else {
                    return false;
                };
                part.load = LoadState::Idle;
                part.stale = false;
                part.resume = None;
                part.abort = None;
                part.listed = None;
                part.fetched_at = Some(fetched_at);
                part.rows = *inventory;
                let rows = part.rows.clone();
                self.save_cache(key, scope, rows, fetched_at, cx);
                self.combine_parts(key, cx);
            }
            InventoryEvent::FetchFailed {
                key,
                scope,
                ticket,
                error,
                resume,
            } => {
                let Some(part) = self.part_of(key, scope, ticket) else {
                    return false;
                };
                part.load = LoadState::Failed {
                    at: match resume.second_phase_done {
                        Some(n) => format!("detail call {}", n + 1),
                        None => resume.cursor.to_string(),
                    },
                    pages: resume.pages,
                    rows: resume.builder.len() as u64,
                    error,
                };
                part.resume = Some(*resume);
                part.abort = None;
            }
            InventoryEvent::ViewReady {
                key,
                ticket,
                input,
                output,
            } => {
                let Some(pane) = self.panes.get_mut(&key) else {
                    return false;
                };
                let Some(out) = output else {
                    return false;
                };
                view::remember_order(&mut pane.table.sort_cache, &input, Arc::clone(&out.order));
                if !pane.table.view_generation.is_current(ticket) {
                    return false;
                }
                pane.table.view_pending = false;
                install_view(pane, &input, out.index);
            }
            InventoryEvent::Detail { key, id, result } => {
                self.detail_in_flight = None;
                let entry = self.details.entry((key, id)).or_default();
                entry.loading = false;
                match result {
                    Ok(detail) => {
                        entry.error = None;
                        entry.facts = detail.facts;
                        if let Some(pem) = detail.pem {
                            entry.set_pem(pem);
                        }
                        self.apply_row_update(key, &detail.row, cx);
                    }
                    Err(e) => entry.error = Some(e),
                }
                // The cursor may have moved on while this call ran.
                self.load_detail(key, false, cx);
            }
            InventoryEvent::Redescribed {
                key,
                scope,
                id,
                result,
                rebuilt,
            } => {
                let entry = self.details.entry((key, id)).or_default();
                entry.loading = false;
                match result {
                    Ok(detail) => {
                        entry.error = None;
                        entry.facts = detail.facts;
                        entry.parsed = detail.pem.as_deref().map(certs::parse_first_pem);
                        entry.pem = detail.pem;
                    }
                    Err(e) => entry.error = Some(e),
                }
                if let Some((build_id, inventory)) = rebuilt
                    && let Some(part) = self
                        .panes
                        .get_mut(&key)
                        .and_then(|p| p.parts.get_mut(&scope))
                    && part.rows.build_id() == build_id
                {
                    let fetched_at = part.fetched_at.unwrap_or_else(now_unix);
                    part.rows = (*inventory).clone();
                    self.save_cache(key, scope, *inventory, fetched_at, cx);
                    self.combine_parts(key, cx);
                }
            }
            InventoryEvent::CachedPem { key, id, pem } => {
                let entry = self.details.entry((key, id)).or_default();
                if entry.pem.is_none() {
                    entry.set_pem(pem);
                }
            }
            InventoryEvent::NoCachedPem => {}
            InventoryEvent::Sites(scope, result) => {
                self.esa.running = self.esa.running.saturating_sub(1);
                self.esa.loading = self.esa.running > 0;
                self.esa.answered |= !self.esa.loading;
                match result {
                    Ok(sites) => {
                        self.esa.failed.remove(&scope);
                        self.esa.sites.retain(|s| s.scope != scope);
                        self.esa.sites.extend(sites);
                        let keep = self
                            .esa
                            .selected
                            .is_some_and(|s| self.esa.sites.iter().any(|x| x.id == s));
                        let first = self.esa.sites.first().map(|s| s.id);
                        if !keep && let Some(first) = first {
                            self.select_esa_site(first, cx);
                        }
                        let ids: Vec<i64> = self.esa.sites.iter().map(|s| s.id).collect();
                        // Every site gets its pane (read from its cache) so the Overview covers
                        // all of them.
                        for site in ids {
                            self.add_esa_site_pane(site, cx);
                        }
                    }
                    Err(e) => {
                        self.esa.failed.insert(scope, e.clone());
                        self.esa.error = Some(e);
                    }
                }
                return true;
            }
        }
        false
    }

    /// The part of `key` for `scope`, if `ticket` is its current walk.
    fn part_of(&mut self, key: PaneKey, scope: ScopeId, ticket: Ticket) -> Option<&mut Part> {
        self.panes
            .get_mut(&key)?
            .parts
            .get_mut(&scope)
            .filter(|p| p.load_generation.is_current(ticket))
    }
}

/// Stops a part's walk.
fn cancel_part(part: &mut Part) {
    part.load_generation.start();
    if let Some(abort) = part.abort.take() {
        abort.abort();
    }
    part.load = LoadState::Idle;
    part.resume = None;
    part.listed = None;
}
