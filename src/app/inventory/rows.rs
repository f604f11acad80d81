//! One service's certificates held column by column, so a million rows fit in well under the memory
//! a `Vec<CertificateRow>` would take (one allocation per column instead of five per row) and a
//! text filter can scan a whole column at once. Knows `model`; nothing of egui, clouds or SQLite.

use crate::model::{CertStatus, CertificateRow, Service};
use crate::store::RowRecord;
use std::collections::HashMap;
use std::sync::Arc;

/// Index of a row in an [`Inventory`] (stable for the inventory's lifetime).
pub type RowId = u32;

/// Strings of one column, stored back to back with a NUL between rows so a search over the whole
/// buffer never matches across two rows.
#[derive(Debug, Clone, Default)]
pub struct StrColumn {
    bytes: Vec<u8>,
    /// `ends[i]` is the exclusive end of row `i`; row `i` starts one byte after `ends[i - 1]`.
    ends: Vec<u32>,
}

impl StrColumn {
    fn push(&mut self, value: &str) {
        if !self.ends.is_empty() {
            self.bytes.push(0);
        }
        // NUL is the separator; a value containing one would blur two rows in a search.
        self.bytes
            .extend(value.bytes().map(|b| if b == 0 { b' ' } else { b }));
        self.ends.push(self.bytes.len() as u32);
    }

    fn start(&self, row: usize) -> usize {
        if row == 0 {
            0
        } else {
            self.ends[row - 1] as usize + 1
        }
    }

    /// The value of `row` ("" past the end).
    pub fn get(&self, row: RowId) -> &str {
        let row = row as usize;
        if row >= self.ends.len() {
            return "";
        }
        let bytes = &self.bytes[self.start(row)..self.ends[row] as usize];
        // Only whole `&str`s are pushed (NULs swapped for spaces, an ASCII-for-ASCII change),
        // so every row slice is valid UTF-8.
        std::str::from_utf8(bytes).unwrap_or("")
    }

    /// The whole buffer (rows separated by NUL), for bulk searches.
    pub fn raw(&self) -> &[u8] {
        &self.bytes
    }

    /// The row a byte offset of [`Self::raw`] falls in.
    pub fn row_at(&self, offset: usize) -> RowId {
        self.ends.partition_point(|&end| (end as usize) < offset) as RowId
    }

    /// Like [`Self::row_at`], for offsets visited in increasing order: starts looking at `from`.
    pub fn row_at_from(&self, offset: usize, from: RowId) -> RowId {
        let mut row = from as usize;
        while row < self.ends.len() && (self.ends[row] as usize) < offset {
            row += 1;
        }
        row as RowId
    }

    /// Offset where the row after `row` starts (where a search should resume).
    pub fn next_row_start(&self, row: RowId) -> usize {
        self.ends
            .get(row as usize)
            .map_or(self.bytes.len(), |&end| end as usize + 1)
            .min(self.bytes.len())
    }

    fn heap_bytes(&self) -> usize {
        self.bytes.capacity() + self.ends.capacity() * 4
    }

    fn shrink(&mut self) {
        self.bytes.shrink_to_fit();
        self.ends.shrink_to_fit();
    }

    /// Number of rows.
    fn len(&self) -> usize {
        self.ends.len()
    }

    /// Appends every row of `other` (a copy of its buffer, offsets shifted).
    fn append(&mut self, other: &StrColumn) {
        if other.ends.is_empty() {
            return;
        }
        if !self.ends.is_empty() {
            self.bytes.push(0);
        }
        let base = self.bytes.len() as u32;
        self.bytes.extend_from_slice(&other.bytes);
        self.ends.extend(other.ends.iter().map(|e| e + base));
    }

    /// Appends `n` empty rows.
    fn append_empty(&mut self, n: usize) {
        for _ in 0..n {
            self.push("");
        }
    }
}

/// Sentinel for "unknown" in the integer columns (expiry, ESA site).
const MISSING: i64 = i64::MIN;

/// The parts of an inventory that never change after it is built: shared (behind an `Arc`) with
/// the background jobs that filter and sort it.
#[derive(Debug, Default)]
pub struct RowData {
    /// Provider ids.
    pub ids: StrColumn,
    /// Display names.
    pub names: StrColumn,
    /// Serial numbers ("" when unknown).
    pub serials: StrColumn,
    /// SHA-256 fingerprints ("" when unknown).
    pub fingerprints: StrColumn,
    /// Extra texts ("" when none; the column is empty when no row has one).
    pub extras: StrColumn,
    /// SHA-1 fingerprints, from the PEM a list call returned ("" when unknown; the column is empty
    /// when no row has one). Find-everywhere searches them; they are not cached (a refresh, or a
    /// row read from the cache with its PEM, brings them back).
    pub sha1s: StrColumn,
    not_after: Vec<i64>,
    site_ids: Vec<i64>,
    /// The account and region of each row (a workspace scope id).
    scopes: Vec<u16>,
    /// PEMs the list call returned, by row (sparse).
    pems: HashMap<RowId, String>,
}

impl RowData {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.not_after.len()
    }

    /// `true` when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.not_after.is_empty()
    }

    /// Expiry of `row`, UNIX seconds.
    pub fn not_after(&self, row: RowId) -> Option<i64> {
        self.not_after
            .get(row as usize)
            .copied()
            .filter(|&t| t != MISSING)
    }

    /// The scope (account and region) of `row`.
    pub fn scope(&self, row: RowId) -> u16 {
        self.scopes.get(row as usize).copied().unwrap_or(0)
    }
}

/// The mutable part of a row: what a status change or a delete touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowState {
    /// Normalised status.
    pub status: CertStatus,
    /// Index of the provider's status text in the inventory's interned texts.
    raw_status: u16,
    /// Deleted in the cloud: hidden from every view, kept so row ids stay stable.
    pub removed: bool,
}

/// A service's certificates. Cheap to clone (two `Arc`s and a small table of status texts).
#[derive(Debug, Clone)]
pub struct Inventory {
    service: Service,
    data: Arc<RowData>,
    states: Arc<Vec<RowState>>,
    raw_statuses: Vec<String>,
    /// Changes whenever a state changes, so views know to recompute.
    state_version: u64,
    /// Identity of `data`, so sort orders can be cached per inventory.
    build_id: u64,
    /// Rows marked removed.
    removed_count: usize,
}

pub(crate) fn next_build_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

impl Inventory {
    /// An empty inventory of `service`.
    pub fn empty(service: Service) -> Self {
        InventoryBuilder::new(service).build()
    }

    /// Builds an inventory from model rows.
    pub fn from_rows<'a>(
        service: Service,
        rows: impl IntoIterator<Item = &'a CertificateRow>,
    ) -> Self {
        let mut b = InventoryBuilder::new(service);
        for r in rows {
            b.push_row(r);
        }
        b.build()
    }

    /// The service.
    pub fn service(&self) -> Service {
        self.service
    }

    /// Number of rows, removed ones included.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// `true` when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Rows still present (not deleted).
    pub fn present_count(&self) -> usize {
        self.len() - self.removed_count
    }

    /// The immutable columns, shareable with background jobs.
    pub fn data(&self) -> &Arc<RowData> {
        &self.data
    }

    /// A snapshot of every row's state, shareable with background jobs.
    pub fn states(&self) -> &Arc<Vec<RowState>> {
        &self.states
    }

    /// Identity of the immutable columns.
    pub fn build_id(&self) -> u64 {
        self.build_id
    }

    /// Bumped on every state change.
    pub fn state_version(&self) -> u64 {
        self.state_version
    }

    /// Provider id of `row`.
    pub fn id(&self, row: RowId) -> &str {
        self.data.ids.get(row)
    }

    /// Display name of `row`.
    pub fn name(&self, row: RowId) -> &str {
        self.data.names.get(row)
    }

    /// Serial of `row`, when known.
    pub fn serial(&self, row: RowId) -> Option<&str> {
        Some(self.data.serials.get(row)).filter(|s| !s.is_empty())
    }

    /// SHA-256 fingerprint of `row`, when known.
    pub fn fingerprint(&self, row: RowId) -> Option<&str> {
        Some(self.data.fingerprints.get(row)).filter(|s| !s.is_empty())
    }

    /// SHA-1 fingerprint of `row`, when known.
    pub fn sha1(&self, row: RowId) -> Option<&str> {
        Some(self.data.sha1s.get(row)).filter(|s| !s.is_empty())
    }

    /// Extra text of `row` ("" when none).
    pub fn extra(&self, row: RowId) -> &str {
        self.data.extras.get(row)
    }

    /// Expiry of `row`.
    pub fn not_after(&self, row: RowId) -> Option<i64> {
        self.data.not_after(row)
    }

    /// The scope (account and region) of `row`.
    pub fn scope(&self, row: RowId) -> u16 {
        self.data.scope(row)
    }

    /// ESA site of `row`.
    pub fn site_id(&self, row: RowId) -> Option<i64> {
        self.data
            .site_ids
            .get(row as usize)
            .copied()
            .filter(|&s| s != MISSING)
    }

    /// PEM of `row` if the list call returned one.
    pub fn pem(&self, row: RowId) -> Option<&str> {
        self.data.pems.get(&row).map(String::as_str)
    }

    /// State of `row`.
    pub fn state(&self, row: RowId) -> Option<RowState> {
        self.states.get(row as usize).copied()
    }

    /// Normalised status of `row`.
    pub fn status(&self, row: RowId) -> CertStatus {
        self.state(row).map_or(CertStatus::Unknown, |s| s.status)
    }

    /// The provider's status text of `row`.
    pub fn raw_status(&self, row: RowId) -> &str {
        self.state(row)
            .and_then(|s| self.raw_statuses.get(s.raw_status as usize))
            .map_or("", String::as_str)
    }

    /// `true` when `row` was deleted.
    pub fn is_removed(&self, row: RowId) -> bool {
        self.state(row).is_none_or(|s| s.removed)
    }

    /// Finds a row by provider id (linear; for single-row updates, not per frame).
    pub fn find(&self, id: &str) -> Option<RowId> {
        (0..self.len() as RowId).find(|&r| self.id(r) == id)
    }

    /// `row` as a model row.
    pub fn row(&self, row: RowId) -> CertificateRow {
        CertificateRow {
            service: self.service,
            id: self.id(row).to_string(),
            name: self.name(row).to_string(),
            status: self.status(row),
            raw_status: self.raw_status(row).to_string(),
            not_after: self.not_after(row),
            serial: self.serial(row).map(str::to_string),
            fingerprint_sha256: self.fingerprint(row).map(str::to_string),
            site_id: self.site_id(row),
            pem: self.pem(row).map(str::to_string),
        }
    }

    /// `row` as a borrowed cache record.
    pub fn record(&self, row: RowId) -> RowRecord<'_> {
        RowRecord {
            id: self.id(row),
            name: self.name(row),
            status: self.status(row),
            raw_status: self.raw_status(row),
            not_after: self.not_after(row),
            serial: self.serial(row),
            fingerprint: self.fingerprint(row),
            site_id: self.site_id(row),
            extra: Some(self.extra(row)).filter(|e| !e.is_empty()),
            pem: self.pem(row),
        }
    }

    /// Every present row as a cache record.
    pub fn records(&self) -> impl Iterator<Item = RowRecord<'_>> {
        (0..self.len() as RowId)
            .filter(|&r| !self.is_removed(r))
            .map(|r| self.record(r))
    }

    fn intern(&mut self, raw: &str) -> u16 {
        intern(&mut self.raw_statuses, raw)
    }

    /// Records a status change of `row` (copying the state column only if a background job still
    /// reads the old one).
    pub fn set_status(&mut self, row: RowId, status: CertStatus, raw_status: &str) {
        let raw = self.intern(raw_status);
        if let Some(s) = Arc::make_mut(&mut self.states).get_mut(row as usize) {
            s.status = status;
            s.raw_status = raw;
            self.state_version += 1;
        }
    }

    /// Marks `row` deleted: hidden from every view.
    pub fn remove(&mut self, row: RowId) {
        if let Some(s) = Arc::make_mut(&mut self.states).get_mut(row as usize)
            && !s.removed
        {
            s.removed = true;
            self.removed_count += 1;
            self.state_version += 1;
        }
    }

    /// Approximate heap bytes held (for the benchmark's memory report).
    pub fn heap_bytes(&self) -> usize {
        let d = &self.data;
        d.ids.heap_bytes()
            + d.names.heap_bytes()
            + d.serials.heap_bytes()
            + d.fingerprints.heap_bytes()
            + d.extras.heap_bytes()
            + d.sha1s.heap_bytes()
            + d.not_after.capacity() * 8
            + d.site_ids.capacity() * 8
            + d.scopes.capacity() * 2
            + d.pems.values().map(String::capacity).sum::<usize>()
            + self.states.capacity() * std::mem::size_of::<RowState>()
    }
}

fn intern(table: &mut Vec<String>, raw: &str) -> u16 {
    if let Some(i) = table.iter().position(|s| s == raw) {
        return i as u16;
    }
    if table.len() >= u16::MAX as usize {
        // Providers have a handful of status texts; past 65k distinct ones, share the last.
        return u16::MAX - 1;
    }
    table.push(raw.to_string());
    (table.len() - 1) as u16
}

/// Appends rows page by page (or from the cache) and freezes them into an [`Inventory`].
#[derive(Debug)]
pub struct InventoryBuilder {
    service: Service,
    data: RowData,
    states: Vec<RowState>,
    raw_statuses: Vec<String>,
    /// Row of each provider id: a re-listed id (pages shifting under a paginated walk) replaces
    /// its row rather than appearing twice.
    by_id: HashMap<Box<str>, RowId>,
    track_ids: bool,
    /// Extra texts by row; turned into a column by [`Self::build`] (most inventories have none).
    extras: HashMap<RowId, String>,
    /// SHA-1 fingerprints by row, likewise.
    sha1s: HashMap<RowId, String>,
    /// The scope of the rows pushed now (see [`Self::set_scope`]).
    scope: u16,
}

impl InventoryBuilder {
    /// An empty builder that de-duplicates provider ids (what cloud walks need).
    pub fn new(service: Service) -> Self {
        InventoryBuilder {
            service,
            data: RowData::default(),
            states: Vec::new(),
            raw_statuses: Vec::new(),
            by_id: HashMap::new(),
            track_ids: true,
            extras: HashMap::new(),
            sha1s: HashMap::new(),
            scope: 0,
        }
    }

    /// The scope (account and region) of the rows pushed from now on.
    pub fn set_scope(&mut self, scope: u16) {
        self.scope = scope;
    }

    /// An empty builder for the rows of `scope`.
    pub fn for_scope(service: Service, scope: u16) -> Self {
        let mut b = Self::new(service);
        b.scope = scope;
        b
    }

    /// An empty builder for rows known to be unique (the cache's primary key guarantees it),
    /// skipping the id index to save memory and time.
    pub fn with_unique_ids(service: Service, capacity: usize) -> Self {
        let mut b = Self::new(service);
        b.track_ids = false;
        b.data.not_after.reserve(capacity);
        b.data.site_ids.reserve(capacity);
        b.data.scopes.reserve(capacity);
        b.data.ids.ends.reserve(capacity);
        b.data.names.ends.reserve(capacity);
        b.data.serials.ends.reserve(capacity);
        b.data.fingerprints.ends.reserve(capacity);
        b.states.reserve(capacity);
        b
    }

    /// Rows so far.
    pub fn len(&self) -> usize {
        self.states.len()
    }

    /// The columns pushed so far (the Overview counts a first walk's rows while it runs).
    pub fn columns(&self) -> (&RowData, &[RowState]) {
        (&self.data, &self.states)
    }

    /// `true` when no row was pushed.
    pub fn is_empty(&self) -> bool {
        self.states.is_empty()
    }

    /// Appends a model row.
    pub fn push_row(&mut self, row: &CertificateRow) {
        self.push(RowRecord::from(row));
    }

    /// Appends a borrowed record (a re-listed id updates its row instead).
    pub fn push(&mut self, r: RowRecord<'_>) {
        if self.track_ids {
            if let Some(&existing) = self.by_id.get(r.id) {
                self.update(existing, &r);
                return;
            }
            self.by_id.insert(r.id.into(), self.states.len() as RowId);
        }
        let row = self.states.len() as RowId;
        self.data.ids.push(r.id);
        self.data.names.push(r.name);
        self.data.serials.push(r.serial.unwrap_or(""));
        // A row listed with its certificate gets both fingerprints (find-everywhere searches by
        // either), the SHA-256 one only where the service did not say.
        let from_pem = r.pem.and_then(crate::certs::pem_fingerprints);
        match (r.fingerprint, &from_pem) {
            (Some(f), _) => self.data.fingerprints.push(f),
            (None, Some((sha256, _))) => self.data.fingerprints.push(sha256),
            (None, None) => self.data.fingerprints.push(""),
        }
        if let Some((_, sha1)) = from_pem {
            self.sha1s.insert(row, sha1);
        }
        self.data.not_after.push(r.not_after.unwrap_or(MISSING));
        self.data.site_ids.push(r.site_id.unwrap_or(MISSING));
        self.data.scopes.push(self.scope);
        if let Some(pem) = r.pem {
            self.data.pems.insert(row, pem.to_string());
        }
        if let Some(extra) = r.extra.filter(|e| !e.is_empty()) {
            self.extras.insert(row, extra.to_string());
        }
        let raw_status = intern(&mut self.raw_statuses, r.raw_status);
        self.states.push(RowState {
            status: r.status,
            raw_status,
            removed: false,
        });
    }

    /// Appends a model row with its extra text.
    pub fn push_row_with_extra(&mut self, row: &CertificateRow, extra: Option<&str>) {
        self.push(RowRecord {
            extra,
            ..RowRecord::from(row)
        });
    }

    /// Updates the row of `r.id` with what a later call (describe, status) told: status, expiry,
    /// PEM and extra text. Names and ids are fixed once pushed. Returns whether the id is known.
    pub fn update_by_id(&mut self, r: RowRecord<'_>) -> bool {
        match self.by_id.get(r.id) {
            Some(&row) => {
                self.update(row, &r);
                true
            }
            None => false,
        }
    }

    fn update(&mut self, row: RowId, r: &RowRecord<'_>) {
        let i = row as usize;
        self.states[i].status = r.status;
        self.states[i].raw_status = intern(&mut self.raw_statuses, r.raw_status);
        if let Some(t) = r.not_after {
            self.data.not_after[i] = t;
        }
        if let Some(pem) = r.pem {
            if let Some((_, sha1)) = crate::certs::pem_fingerprints(pem) {
                self.sha1s.insert(row, sha1);
            }
            self.data.pems.insert(row, pem.to_string());
        }
        if let Some(extra) = r.extra.filter(|e| !e.is_empty()) {
            self.extras.insert(row, extra.to_string());
        }
    }

    /// Sets the status of rows by serial number (PCA status batches answer per serial).
    /// Returns how many rows changed.
    pub fn set_status_by_serial(&mut self, updates: &[(String, CertStatus, String)]) -> usize {
        let wanted: HashMap<&str, (CertStatus, &str)> = updates
            .iter()
            .map(|(s, st, raw)| (s.as_str(), (*st, raw.as_str())))
            .collect();
        let mut changed = 0;
        for row in 0..self.states.len() {
            let serial = self.data.serials.get(row as RowId);
            if let Some((status, raw)) = wanted.get(serial) {
                self.states[row].status = *status;
                self.states[row].raw_status = intern(&mut self.raw_statuses, raw);
                changed += 1;
            }
        }
        changed
    }

    /// Serial numbers of every row (non-empty ones), in row order.
    pub fn serials(&self) -> Vec<String> {
        (0..self.states.len() as RowId)
            .map(|r| self.data.serials.get(r).to_string())
            .filter(|s| !s.is_empty())
            .collect()
    }

    /// Provider ids of every row, in row order.
    pub fn ids(&self) -> Vec<String> {
        (0..self.states.len() as RowId)
            .map(|r| self.data.ids.get(r).to_string())
            .collect()
    }

    /// Freezes the rows.
    pub fn build(mut self) -> Inventory {
        if !self.extras.is_empty() {
            for row in 0..self.states.len() as RowId {
                self.data
                    .extras
                    .push(self.extras.get(&row).map_or("", String::as_str));
            }
        }
        if !self.sha1s.is_empty() {
            for row in 0..self.states.len() as RowId {
                self.data
                    .sha1s
                    .push(self.sha1s.get(&row).map_or("", String::as_str));
            }
        }
        self.data.extras.shrink();
        self.data.sha1s.shrink();
        self.data.ids.shrink();
        self.data.names.shrink();
        self.data.serials.shrink();
        self.data.fingerprints.shrink();
        self.data.not_after.shrink_to_fit();
        self.data.site_ids.shrink_to_fit();
        self.data.scopes.shrink_to_fit();
        self.states.shrink_to_fit();
        Inventory {
            service: self.service,
            data: Arc::new(self.data),
            states: Arc::new(self.states),
            raw_statuses: self.raw_statuses,
            state_version: 0,
            build_id: next_build_id(),
            removed_count: 0,
        }
    }
}

/// Format number of [`Inventory::to_snapshot`] (stored with the snapshot; others are ignored).
pub const SNAPSHOT_FORMAT: i64 = 1;

const SNAPSHOT_MAGIC: &[u8; 8] = b"CDINV\x001\x00";

fn service_code(service: Service) -> u8 {
    match service {
        Service::Kms => 0,
        Service::Pca => 1,
        Service::Esa => 2,
        Service::Vod => 3,
        Service::Iotda => 4,
        Service::Cdn => 5,
        Service::Ssl => 6,
        Service::Sts => 7,
    }
}

fn status_code(status: CertStatus) -> u8 {
    match status {
        CertStatus::Active => 0,
        CertStatus::Inactive => 1,
        CertStatus::Revoked => 2,
        CertStatus::Pending => 3,
        CertStatus::Unknown => 4,
    }
}

fn status_of_code(code: u8) -> CertStatus {
    match code {
        0 => CertStatus::Active,
        1 => CertStatus::Inactive,
        2 => CertStatus::Revoked,
        3 => CertStatus::Pending,
        _ => CertStatus::Unknown,
    }
}

/// Reads a snapshot, refusing anything truncated or inconsistent (never panics on bad bytes).
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.bytes.len() {
            return None;
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Some(head)
    }

    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }

    fn len(&mut self) -> Option<usize> {
        usize::try_from(self.u64()?).ok()
    }

    fn i64s(&mut self, n: usize) -> Option<Vec<i64>> {
        let raw = self.take(n.checked_mul(8)?)?;
        Some(
            raw.chunks_exact(8)
                .map(|c| i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
                .collect(),
        )
    }

    fn column(&mut self, rows: usize) -> Option<StrColumn> {
        let len = self.len()?;
        let bytes = self.take(len)?.to_vec();
        let count = self.len()?;
        if count != rows && count != 0 {
            return None;
        }
        let raw = self.take(count.checked_mul(4)?)?;
        let ends: Vec<u32> = raw
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        // Every row must lie inside the buffer, one separator after the previous one.
        let mut min_end = 0usize;
        for (i, &end) in ends.iter().enumerate() {
            let end = end as usize;
            if end < min_end || end > bytes.len() {
                return None;
            }
            if i == 0 && end > bytes.len() {
                return None;
            }
            min_end = end + 1;
        }
        Some(StrColumn { bytes, ends })
    }
}

fn put_column(out: &mut Vec<u8>, c: &StrColumn) {
    out.extend_from_slice(&(c.bytes.len() as u64).to_le_bytes());
    out.extend_from_slice(&c.bytes);
    out.extend_from_slice(&(c.ends.len() as u64).to_le_bytes());
    for e in &c.ends {
        out.extend_from_slice(&e.to_le_bytes());
    }
}

impl Inventory {
    /// The inventory as one blob (everything but the PEMs), for the cache's snapshot.
    pub fn to_snapshot(&self) -> Vec<u8> {
        let d = &self.data;
        let n = self.len();
        let mut out = Vec::with_capacity(self.heap_bytes() + 64);
        out.extend_from_slice(SNAPSHOT_MAGIC);
        out.push(service_code(self.service));
        out.extend_from_slice(&(n as u64).to_le_bytes());
        for c in [&d.ids, &d.names, &d.serials, &d.fingerprints, &d.extras] {
            put_column(&mut out, c);
        }
        for t in d.not_after.iter().chain(d.site_ids.iter()) {
            out.extend_from_slice(&t.to_le_bytes());
        }
        out.extend_from_slice(&(self.raw_statuses.len() as u64).to_le_bytes());
        for raw in &self.raw_statuses {
            out.extend_from_slice(&(raw.len() as u64).to_le_bytes());
            out.extend_from_slice(raw.as_bytes());
        }
        for st in self.states.iter() {
            out.push(status_code(st.status));
            out.push(u8::from(st.removed));
            out.extend_from_slice(&st.raw_status.to_le_bytes());
        }
        out
    }

    /// Reads [`Self::to_snapshot`]'s blob; `None` when it is not one (wrong service, truncated,
    /// inconsistent).
    pub fn from_snapshot(service: Service, bytes: &[u8]) -> Option<Inventory> {
        let mut r = Reader { bytes };
        if r.take(SNAPSHOT_MAGIC.len())? != SNAPSHOT_MAGIC || r.take(1)?[0] != service_code(service)
        {
            return None;
        }
        let n = r.len()?;
        if n > u32::MAX as usize {
            return None;
        }
        let ids = r.column(n)?;
        let names = r.column(n)?;
        let serials = r.column(n)?;
        let fingerprints = r.column(n)?;
        let extras = r.column(n)?;
        if ids.ends.len() != n || names.ends.len() != n {
            return None;
        }
        let not_after = r.i64s(n)?;
        let site_ids = r.i64s(n)?;
        let raw_count = r.len()?;
        let mut raw_statuses = Vec::with_capacity(raw_count.min(1024));
        for _ in 0..raw_count {
            let len = r.len()?;
            raw_statuses.push(String::from_utf8(r.take(len)?.to_vec()).ok()?);
        }
        let raw_states = r.take(n.checked_mul(4)?)?;
        let mut removed_count = 0;
        let states: Vec<RowState> = raw_states
            .chunks_exact(4)
            .map(|c| {
                let removed = c[1] != 0;
                removed_count += usize::from(removed);
                RowState {
                    status: status_of_code(c[0]),
                    raw_status: u16::from_le_bytes([c[2], c[3]]),
                    removed,
                }
            })
            .collect();
        if !r.bytes.is_empty() {
            return None;
        }
        Some(Inventory {
            service,
            data: Arc::new(RowData {
                ids,
                names,
                serials,
                fingerprints,
                extras,
                sha1s: StrColumn::default(),
                scopes: vec![0; not_after.len()],
                not_after,
                site_ids,
                pems: HashMap::new(),
            }),
            states: Arc::new(states),
            raw_statuses,
            state_version: 0,
            build_id: next_build_id(),
            removed_count,
        })
    }

    /// Every row of `parts` in one inventory, part after part, each row marked with its part's
    /// scope. Column by column (a copy of each buffer), so a million rows from a dozen accounts
    /// and regions join in a few tens of milliseconds.
    pub fn concat(service: Service, parts: &[(u16, &Inventory)]) -> Inventory {
        let rows: usize = parts.iter().map(|(_, p)| p.len()).sum();
        let any_extras = parts.iter().any(|(_, p)| p.data.extras.len() > 0);
        let any_sha1s = parts.iter().any(|(_, p)| p.data.sha1s.len() > 0);
        let mut data = RowData::default();
        data.not_after.reserve(rows);
        data.site_ids.reserve(rows);
        data.scopes.reserve(rows);
        let mut states: Vec<RowState> = Vec::with_capacity(rows);
        let mut raw_statuses: Vec<String> = Vec::new();
        let mut removed_count = 0;
        for (scope, part) in parts {
            let d = &part.data;
            let offset = data.not_after.len() as RowId;
            data.ids.append(&d.ids);
            data.names.append(&d.names);
            data.serials.append(&d.serials);
            data.fingerprints.append(&d.fingerprints);
            // Sparse columns are empty in a part without values: filled with "" rows here.
            for (any, dst, src) in [
                (any_extras, &mut data.extras, &d.extras),
                (any_sha1s, &mut data.sha1s, &d.sha1s),
            ] {
                if !any {
                    continue;
                }
                if src.len() == d.len() {
                    dst.append(src);
                } else {
                    dst.append_empty(d.len());
                }
            }
            data.not_after.extend_from_slice(&d.not_after);
            data.site_ids.extend_from_slice(&d.site_ids);
            data.scopes.extend(std::iter::repeat_n(*scope, d.len()));
            for (row, pem) in &d.pems {
                data.pems.insert(row + offset, pem.clone());
            }
            let remap: Vec<u16> = part
                .raw_statuses
                .iter()
                .map(|raw| intern(&mut raw_statuses, raw))
                .collect();
            states.extend(part.states.iter().map(|st| RowState {
                raw_status: remap.get(st.raw_status as usize).copied().unwrap_or(0),
                ..*st
            }));
            removed_count += part.removed_count;
        }
        Inventory {
            service,
            data: Arc::new(data),
            states: Arc::new(states),
            raw_statuses,
            state_version: 0,
            build_id: next_build_id(),
            removed_count,
        }
    }

    /// The same rows marked as `scope`'s (a part read from a scope's cache).
    pub fn with_scope(self, scope: u16) -> Inventory {
        if self.data.scopes.iter().all(|&s| s == scope) {
            return self;
        }
        Inventory::concat(self.service, &[(scope, &self)])
    }

    /// Applies changes recorded after a snapshot: new statuses, deleted rows.
    pub fn apply_changes(&mut self, changes: &[crate::store::SnapshotChange]) {
        if changes.is_empty() {
            return;
        }
        let wanted: HashMap<&str, &crate::store::SnapshotChange> =
            changes.iter().map(|c| (c.id.as_str(), c)).collect();
        let rows: Vec<(RowId, &crate::store::SnapshotChange)> = (0..self.len() as RowId)
            .filter_map(|r| wanted.get(self.id(r)).map(|c| (r, *c)))
            .collect();
        for (row, change) in rows {
            match &change.status {
                Some((status, raw)) => self.set_status(row, *status, raw),
                None => self.remove(row),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn row(id: &str, name: &str, status: CertStatus) -> CertificateRow {
        CertificateRow {
            service: Service::Iotda,
            id: id.into(),
            name: name.into(),
            status,
            raw_status: status.label().to_uppercase(),
            not_after: Some(1_700_000_000),
            serial: Some(format!("S-{id}")),
            fingerprint_sha256: None,
            site_id: None,
            pem: None,
        }
    }

    #[test]
    fn rows_round_trip_through_the_columns() {
        let mut with_pem = row("b", "Beta", CertStatus::Revoked);
        with_pem.pem = Some("PEM".into());
        with_pem.not_after = None;
        with_pem.site_id = Some(42);
        let rows = vec![
            row("a", "Alpha", CertStatus::Active),
            with_pem.clone(),
            row("", "", CertStatus::Unknown),
        ];
        let inv = Inventory::from_rows(Service::Iotda, &rows);
        assert_eq!(inv.len(), 3);
        for (i, r) in rows.iter().enumerate() {
            assert_eq!(&inv.row(i as RowId), r);
        }
        assert_eq!(inv.find("b"), Some(1));
        assert_eq!(inv.find("zz"), None);
        assert_eq!(inv.id(99), "");
        assert_eq!(inv.status(99), CertStatus::Unknown);
    }

    #[test]
    fn a_relisted_id_updates_instead_of_duplicating() {
        let mut b = InventoryBuilder::new(Service::Iotda);
        b.push_row(&row("a", "Alpha", CertStatus::Active));
        b.push_row(&row("a", "Alpha", CertStatus::Inactive));
        let inv = b.build();
        assert_eq!(inv.len(), 1);
        assert_eq!(inv.status(0), CertStatus::Inactive);
        assert_eq!(inv.raw_status(0), "INACTIVE");
    }

    #[test]
    fn column_search_helpers_map_offsets_to_rows() {
        let inv = Inventory::from_rows(
            Service::Iotda,
            &[
                row("a", "one", CertStatus::Active),
                row("b", "two\0x", CertStatus::Active),
            ],
        );
        let names = &inv.data().names;
        assert_eq!(names.raw(), b"one\0two x");
        assert_eq!(names.row_at(0), 0);
        assert_eq!(names.row_at(2), 0);
        assert_eq!(names.row_at(4), 1);
        assert_eq!(names.next_row_start(0), 4);
        assert_eq!(names.next_row_start(1), names.raw().len());
    }

    #[test]
    fn state_changes_bump_the_version_and_leave_snapshots_alone() {
        let mut inv = Inventory::from_rows(Service::Iotda, &[row("a", "A", CertStatus::Active)]);
        let snapshot = Arc::clone(inv.states());
        let v = inv.state_version();
        inv.set_status(0, CertStatus::Inactive, "INACTIVE");
        assert_eq!(inv.status(0), CertStatus::Inactive);
        assert_eq!(inv.raw_status(0), "INACTIVE");
        assert_eq!(
            snapshot[0].status,
            CertStatus::Active,
            "a job's snapshot is not mutated"
        );
        assert!(inv.state_version() > v);
        inv.remove(0);
        assert!(inv.is_removed(0));
        assert_eq!(inv.present_count(), 0);
        assert_eq!(inv.records().count(), 0);
    }

    #[test]
    fn snapshots_round_trip_and_refuse_bad_bytes() {
        let mut b = InventoryBuilder::new(Service::Iotda);
        let mut odd = row("b", "Beta", CertStatus::Revoked);
        odd.not_after = None;
        odd.site_id = Some(9);
        odd.fingerprint_sha256 = Some("ab".repeat(32));
        b.push_row(&row("a", "Alpha", CertStatus::Active));
        b.push_row_with_extra(&odd, Some("CLIENT"));
        b.push_row(&row("", "", CertStatus::Unknown));
        let mut inv = b.build();
        inv.remove(2);
        let bytes = inv.to_snapshot();
        let back = Inventory::from_snapshot(Service::Iotda, &bytes).unwrap();
        assert_eq!(back.len(), 3);
        for r in 0..3 {
            assert_eq!(back.record(r), inv.record(r));
            assert_eq!(back.is_removed(r), inv.is_removed(r));
        }
        assert_eq!(back.present_count(), 2);
        assert_eq!(back.extra(1), "CLIENT");
        assert!(
            Inventory::from_snapshot(Service::Kms, &bytes).is_none(),
            "another service"
        );
        for cut in [0, 8, 20, bytes.len() / 2, bytes.len() - 1] {
            assert!(
                Inventory::from_snapshot(Service::Iotda, &bytes[..cut]).is_none(),
                "cut at {cut}"
            );
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(Inventory::from_snapshot(Service::Iotda, &longer).is_none());
        // Row ends pointing outside the buffer are refused, not sliced.
        let mut bad = bytes.clone();
        let ends_at = 8 + 1 + 8 + 8 + inv.data().ids.raw().len() + 8;
        bad[ends_at..ends_at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(Inventory::from_snapshot(Service::Iotda, &bad).is_none());
    }

    #[test]
    fn changes_after_a_snapshot_are_applied() {
        let mut inv = Inventory::from_rows(
            Service::Iotda,
            &[
                row("a", "A", CertStatus::Active),
                row("b", "B", CertStatus::Active),
            ],
        );
        inv.apply_changes(&[
            crate::store::SnapshotChange {
                id: "a".into(),
                status: Some((CertStatus::Inactive, "INACTIVE".into())),
            },
            crate::store::SnapshotChange {
                id: "b".into(),
                status: None,
            },
            crate::store::SnapshotChange {
                id: "zz".into(),
                status: None,
            },
        ]);
        assert_eq!(inv.status(0), CertStatus::Inactive);
        assert_eq!(inv.raw_status(0), "INACTIVE");
        assert!(inv.is_removed(1));
    }

    #[test]
    fn pca_status_batches_apply_by_serial() {
        let mut b = InventoryBuilder::new(Service::Pca);
        b.push_row(&row("a", "A", CertStatus::Active));
        b.push_row(&row("b", "B", CertStatus::Active));
        assert_eq!(b.serials(), ["S-a", "S-b"]);
        let n = b.set_status_by_serial(&[("S-b".into(), CertStatus::Revoked, "revoked".into())]);
        assert_eq!(n, 1);
        let inv = b.build();
        assert_eq!(inv.status(0), CertStatus::Active);
        assert_eq!(inv.status(1), CertStatus::Revoked);
        assert_eq!(inv.raw_status(1), "revoked");
    }
}
