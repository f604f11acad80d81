//! What a table shows of an inventory: the filter, the sort order, and the resulting index of rows
//! (computed by [`compute_view`], a pure function the app runs off the UI thread for large
//! inventories). Knows `inventory` and `model`; nothing of egui.

use super::rows::{RowData, RowId, RowState};
use crate::app::runtime::{SharedGeneration, Ticket};
use crate::model::{CertStatus, ScopeId};
use std::cmp::Ordering;
use std::sync::Arc;

/// Which rows by status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StatusFilter {
    /// Every status.
    #[default]
    Any,
    /// Only this status.
    Only(CertStatus),
}

impl StatusFilter {
    /// Short human name.
    pub fn label(self) -> &'static str {
        match self {
            StatusFilter::Any => "Any status",
            StatusFilter::Only(s) => s.label(),
        }
    }

    fn accepts(self, status: CertStatus) -> bool {
        match self {
            StatusFilter::Any => true,
            StatusFilter::Only(s) => s == status,
        }
    }
}

/// Which rows by expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExpiryFilter {
    /// Any expiry, known or not.
    #[default]
    Any,
    /// Already expired.
    Expired,
    /// Not expired and expiring within this many days.
    Within(u32),
    /// Expiring later than this many days from now.
    Beyond(u32),
    /// No expiry known.
    Unknown,
    /// Expiring in `[from, to)`, absolute UNIX seconds (`from` = `i64::MIN`: no lower bound).
    /// What the Overview's chart buckets open, so the table shows exactly the rows counted.
    Between {
        /// First second included.
        from: i64,
        /// First second excluded.
        to: i64,
    },
}

impl ExpiryFilter {
    /// The choices the UI offers, in order.
    pub const CHOICES: [ExpiryFilter; 7] = [
        ExpiryFilter::Any,
        ExpiryFilter::Expired,
        ExpiryFilter::Within(7),
        ExpiryFilter::Within(30),
        ExpiryFilter::Within(90),
        ExpiryFilter::Beyond(90),
        ExpiryFilter::Unknown,
    ];

    /// Short human name.
    pub fn label(self) -> String {
        match self {
            ExpiryFilter::Any => "Any expiry".into(),
            ExpiryFilter::Expired => "Expired".into(),
            ExpiryFilter::Within(d) => format!("Expires within {d} days"),
            ExpiryFilter::Beyond(d) => format!("Expires after {d} days"),
            ExpiryFilter::Unknown => "Expiry unknown".into(),
            ExpiryFilter::Between { from, to } => {
                let end = utc_minute(to);
                if from == i64::MIN {
                    format!("Expired before {end}")
                } else {
                    format!("Expires {} – {end}", utc_minute(from))
                }
            }
        }
    }

    /// Whether a row expiring at `not_after` passes at `now`.
    pub fn accepts(self, not_after: Option<i64>, now: i64) -> bool {
        const DAY: i64 = 86_400;
        match (self, not_after) {
            (ExpiryFilter::Any, _) => true,
            (ExpiryFilter::Unknown, t) => t.is_none(),
            (_, None) => false,
            (ExpiryFilter::Expired, Some(t)) => t < now,
            (ExpiryFilter::Within(d), Some(t)) => t >= now && t <= now + i64::from(d) * DAY,
            (ExpiryFilter::Beyond(d), Some(t)) => t > now + i64::from(d) * DAY,
            (ExpiryFilter::Between { from, to }, Some(t)) => from <= t && t < to,
        }
    }
}

/// `YYYY-MM-DD HH:MM UTC` of a UNIX time (filter labels; the UI's dates too).
pub fn utc_minute(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|d| {
            d.format(time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute] UTC"
            ))
            .ok()
        })
        .unwrap_or_else(|| "—".into())
}

/// Everything that decides which rows a table shows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FilterSpec {
    /// Case-insensitive substring of id, name, serial or fingerprint.
    pub text: String,
    /// Status filter.
    pub status: StatusFilter,
    /// Expiry filter.
    pub expiry: ExpiryFilter,
    /// Only rows of these accounts and regions (`None`: all of them).
    pub scopes: Option<Vec<ScopeId>>,
}

impl FilterSpec {
    /// `true` when nothing is filtered out (but removed rows).
    pub fn is_empty(&self) -> bool {
        self.text.trim().is_empty()
            && self.status == StatusFilter::Any
            && self.expiry == ExpiryFilter::Any
            && self.scopes.is_none()
    }
}

/// Sortable columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SortColumn {
    /// Display name (case-insensitive).
    #[default]
    Name,
    /// Provider id.
    Id,
    /// Status, in [`CertStatus`] order.
    Status,
    /// Expiry (unknown last).
    Expiry,
    /// Account and region (the workspace's order), then name.
    Account,
}

/// Column and direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SortSpec {
    /// Sort key.
    pub column: SortColumn,
    /// Largest first.
    pub descending: bool,
}

/// Sort orders already computed for one inventory, reused while only the filter changes.
#[derive(Debug, Default, Clone)]
pub struct SortCache {
    build_id: u64,
    state_version: u64,
    orders: Vec<(SortColumn, Arc<Vec<RowId>>)>,
}

impl SortCache {
    fn get(
        &self,
        build_id: u64,
        state_version: u64,
        column: SortColumn,
    ) -> Option<Arc<Vec<RowId>>> {
        if self.build_id != build_id {
            return None;
        }
        // Only the status order depends on row states.
        if column == SortColumn::Status && self.state_version != state_version {
            return None;
        }
        self.orders
            .iter()
            .find(|(c, _)| *c == column)
            .map(|(_, o)| Arc::clone(o))
    }

    fn put(
        &mut self,
        build_id: u64,
        state_version: u64,
        column: SortColumn,
        order: Arc<Vec<RowId>>,
    ) {
        if self.build_id != build_id {
            self.orders.clear();
            self.build_id = build_id;
        }
        if column == SortColumn::Status {
            self.state_version = state_version;
        }
        self.orders.retain(|(c, _)| *c != column);
        self.orders.push((column, order));
    }
}

/// Tells a running computation it has been superseded (its table asked for a newer view).
#[derive(Debug, Clone, Default)]
pub struct Cancel {
    watch: Option<(SharedGeneration, Ticket)>,
}

impl Cancel {
    /// A token for the computation started as `mine` of `generation`.
    pub fn new(generation: SharedGeneration, mine: Ticket) -> Self {
        Cancel {
            watch: Some((generation, mine)),
        }
    }

    /// A token that is never cancelled.
    pub fn never() -> Self {
        Cancel::default()
    }

    fn is_cancelled(&self) -> bool {
        self.watch
            .as_ref()
            .is_some_and(|(generation, mine)| !generation.is_current(*mine))
    }
}

/// Input of one view computation: immutable snapshots, safe to send to a worker thread.
#[derive(Debug, Clone)]
pub struct ViewInput {
    /// The inventory's columns.
    pub data: Arc<RowData>,
    /// Row states at the time of the request.
    pub states: Arc<Vec<RowState>>,
    /// Identity of `data`.
    pub build_id: u64,
    /// Version of `states`.
    pub state_version: u64,
    /// The filter.
    pub filter: FilterSpec,
    /// The order.
    pub sort: SortSpec,
    /// "Now" for expiry filters, UNIX seconds.
    pub now: i64,
}

/// Output of a view computation.
#[derive(Debug, Clone)]
pub struct ViewOutput {
    /// Rows to show, in display order.
    pub index: Arc<Vec<RowId>>,
    /// The sort order used (to cache).
    pub order: Arc<Vec<RowId>>,
}

/// Filters and sorts. Returns `None` if cancelled. The sort order comes from `cache` when the
/// inventory has not changed, so a keystroke in the filter costs one pass over the rows.
pub fn compute_view(input: &ViewInput, cache: &SortCache, cancel: &Cancel) -> Option<ViewOutput> {
    let order = match cache.get(input.build_id, input.state_version, input.sort.column) {
        Some(order) => order,
        None => Arc::new(sort_order(
            &input.data,
            &input.states,
            input.sort.column,
            cancel,
        )?),
    };
    let text_hits = text_matches(&input.data, input.filter.text.trim(), cancel)?;
    let keep = |row: RowId| -> bool {
        let Some(state) = input.states.get(row as usize) else {
            return false;
        };
        !state.removed
            && text_hits.as_ref().is_none_or(|hits| hits.contains(row))
            && input.filter.status.accepts(state.status)
            && input
                .filter
                .expiry
                .accepts(input.data.not_after(row), input.now)
            && input
                .filter
                .scopes
                .as_ref()
                .is_none_or(|scopes| scopes.contains(&input.data.scope(row)))
    };
    let mut index = Vec::new();
    if input.sort.descending {
        index.extend(order.iter().rev().copied().filter(|&r| keep(r)));
    } else {
        index.extend(order.iter().copied().filter(|&r| keep(r)));
    }
    if cancel.is_cancelled() {
        return None;
    }
    Some(ViewOutput {
        index: Arc::new(index),
        order,
    })
}

/// Runs [`compute_view`] and stores the sort order it used in `cache`.
pub fn compute_view_cached(
    input: &ViewInput,
    cache: &mut SortCache,
    cancel: &Cancel,
) -> Option<ViewOutput> {
    let out = compute_view(input, cache, cancel)?;
    cache.put(
        input.build_id,
        input.state_version,
        input.sort.column,
        Arc::clone(&out.order),
    );
    Some(out)
}

/// Adds an order computed elsewhere to the cache.
pub fn remember_order(cache: &mut SortCache, input: &ViewInput, order: Arc<Vec<RowId>>) {
    cache.put(
        input.build_id,
        input.state_version,
        input.sort.column,
        order,
    );
}

/// ASCII case-insensitive order. Skips equal 8-byte blocks first: names in one inventory tend
/// to share long prefixes (`device-000…`), and exact equality implies case-insensitive equality.
fn cmp_ignore_ascii_case(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let n = a.len().min(b.len());
    let mut i = 0;
    while i + 8 <= n && a[i..i + 8] == b[i..i + 8] {
        i += 8;
    }
    while i < n {
        let (x, y) = (a[i].to_ascii_lowercase(), b[i].to_ascii_lowercase());
        if x != y {
            return x.cmp(&y);
        }
        i += 1;
    }
    a.len().cmp(&b.len())
}

/// The first 16 bytes of `s` (lower-cased when `fold`), big-endian, zero-padded: comparing these
/// keys orders strings like comparing their first 16 bytes, and a shorter string sorts first.
fn prefix_key(s: &str, fold: bool) -> u128 {
    let mut key = [0u8; 16];
    for (k, b) in key.iter_mut().zip(s.bytes()) {
        *k = if fold { b.to_ascii_lowercase() } else { b };
    }
    u128::from_be_bytes(key)
}

/// Sorts rows by a string column. Sorting (16-byte prefix, row) pairs keeps the work in one
/// contiguous array instead of chasing two strings per comparison; only rows whose prefixes tie
/// are then ordered by their full strings.
fn sort_strings(order: &mut [RowId], column: &super::rows::StrColumn, fold: bool) {
    let mut keyed: Vec<(u128, RowId)> = order
        .iter()
        .map(|&r| (prefix_key(column.get(r), fold), r))
        .collect();
    keyed.sort_unstable();
    let full = |a: RowId, b: RowId| {
        let (x, y) = (column.get(a), column.get(b));
        let by_text = if fold {
            cmp_ignore_ascii_case(x, y)
        } else {
            x.cmp(y)
        };
        by_text.then(a.cmp(&b))
    };
    let mut start = 0;
    while start < keyed.len() {
        let mut end = start + 1;
        while end < keyed.len() && keyed[end].0 == keyed[start].0 {
            end += 1;
        }
        if end - start > 1 {
            keyed[start..end].sort_unstable_by(|a, b| full(a.1, b.1));
        }
        start = end;
    }
    for (slot, (_, r)) in order.iter_mut().zip(keyed) {
        *slot = r;
    }
}

fn sort_order(
    data: &RowData,
    states: &[RowState],
    column: SortColumn,
    cancel: &Cancel,
) -> Option<Vec<RowId>> {
    let mut order: Vec<RowId> = (0..data.len() as RowId).collect();
    if cancel.is_cancelled() {
        return None;
    }
    // Ties fall back to row order, so equal keys never shuffle between runs; with that total
    // order the faster unstable sort gives the same result as a stable one.
    match column {
        SortColumn::Name => sort_strings(&mut order, &data.names, true),
        SortColumn::Id => sort_strings(&mut order, &data.ids, false),
        SortColumn::Status => {
            order.sort_unstable_by_key(|&r| (states.get(r as usize).map(|s| s.status), r))
        }
        SortColumn::Account => {
            // By name within each account and region: the stable sort keeps the name order.
            sort_strings(&mut order, &data.names, true);
            order.sort_by_key(|&r| data.scope(r));
        }
        SortColumn::Expiry => order.sort_unstable_by_key(|&r| {
            // Unknown expiry sorts last when ascending.
            (data.not_after(r).map_or((1, 0), |t| (0, t)), r)
        }),
    }
    if cancel.is_cancelled() {
        return None;
    }
    Some(order)
}

/// A set of rows as a bitmap over the inventory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowSet {
    words: Vec<u64>,
    count: usize,
}

impl RowSet {
    /// An empty set.
    pub fn new() -> Self {
        RowSet::default()
    }

    /// Number of rows in the set.
    pub fn len(&self) -> usize {
        self.count
    }

    /// `true` when empty.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Membership.
    pub fn contains(&self, row: RowId) -> bool {
        self.words
            .get(row as usize / 64)
            .is_some_and(|w| w & (1 << (row % 64)) != 0)
    }

    /// Adds `row`; returns `true` if it was not there.
    pub fn insert(&mut self, row: RowId) -> bool {
        let word = row as usize / 64;
        if word >= self.words.len() {
            self.words.resize(word + 1, 0);
        }
        let bit = 1u64 << (row % 64);
        let fresh = self.words[word] & bit == 0;
        self.words[word] |= bit;
        self.count += usize::from(fresh);
        fresh
    }

    /// Removes `row`; returns `true` if it was there.
    pub fn remove(&mut self, row: RowId) -> bool {
        let Some(w) = self.words.get_mut(row as usize / 64) else {
            return false;
        };
        let bit = 1u64 << (row % 64);
        let present = *w & bit != 0;
        *w &= !bit;
        self.count -= usize::from(present);
        present
    }

    /// Adds every member of `other`.
    pub fn union_with(&mut self, other: &RowSet) {
        if self.words.len() < other.words.len() {
            self.words.resize(other.words.len(), 0);
        }
        for (w, o) in self.words.iter_mut().zip(&other.words) {
            *w |= o;
        }
        self.count = self.words.iter().map(|w| w.count_ones() as usize).sum();
    }

    /// Empties the set.
    pub fn clear(&mut self) {
        self.words.clear();
        self.count = 0;
    }

    /// Members in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = RowId> + '_ {
        self.words.iter().enumerate().flat_map(|(i, &w)| {
            (0..64u32)
                .filter(move |b| w & (1 << b) != 0)
                .map(move |b| (i as u32) * 64 + b)
        })
    }
}

/// Rows whose id, name, serial or fingerprint (SHA-256 or SHA-1) contain `needle`
/// (case-insensitive); `None` inside `Some` means "no text filter". Scans each column's whole
/// buffer with one search (on two threads), instead of testing a million strings one by one.
/// Fingerprints and serials are hex, so a hex needle is also searched with the colons and spaces
/// of `AB:CD:…` dropped.
pub(crate) fn text_matches(
    data: &RowData,
    needle: &str,
    cancel: &Cancel,
) -> Option<Option<RowSet>> {
    if needle.is_empty() {
        return Some(None);
    }
    let needle: String = needle.chars().filter(|&c| c != '\0').collect();
    let hex_needle: String = needle.chars().filter(|&c| c != ':' && c != ' ').collect();
    let mut jobs: Vec<(&super::rows::StrColumn, &str)> = vec![
        (&data.ids, &needle),
        (&data.names, &needle),
        (&data.serials, &needle),
    ];
    if !hex_needle.is_empty() && hex_needle.chars().all(|c| c.is_ascii_hexdigit()) {
        jobs.push((&data.fingerprints, &hex_needle));
        jobs.push((&data.sha1s, &hex_needle));
        if hex_needle != needle {
            jobs.push((&data.serials, &hex_needle));
        }
    }
    // The biggest buffers first, alternating threads, to balance the two halves.
    jobs.sort_by_key(|(c, _)| std::cmp::Reverse(c.raw().len()));
    let (mut left, mut right) = (Vec::new(), Vec::new());
    for (i, job) in jobs.into_iter().enumerate() {
        if i % 2 == 0 {
            left.push(job);
        } else {
            right.push(job);
        }
    }
    let (a, b) = std::thread::scope(|scope| {
        let other = scope.spawn(|| search_columns(&right, cancel));
        let mine = search_columns(&left, cancel);
        // A panic in the search thread is a bug; treat it as "no rows" rather than crash.
        (mine, other.join().unwrap_or(None))
    });
    let (mut hits, other) = (a?, b?);
    hits.union_with(&other);
    Some(Some(hits))
}

fn search_columns(jobs: &[(&super::rows::StrColumn, &str)], cancel: &Cancel) -> Option<RowSet> {
    let mut hits = RowSet::new();
    for (column, needle) in jobs {
        if cancel.is_cancelled() {
            return None;
        }
        if needle.is_ascii() {
            let lowered = needle.to_ascii_lowercase();
            let mut row: RowId = 0;
            ascii_ci_find(column.raw(), lowered.as_bytes(), |start| {
                row = column.row_at_from(start, row);
                hits.insert(row);
                // One hit per row is enough: go on with the next row.
                column.next_row_start(row)
            });
            continue;
        }
        // Non-ASCII needles keep Unicode case folding.
        let Ok(re) = regex::bytes::RegexBuilder::new(&regex::escape(needle))
            .case_insensitive(true)
            .build()
        else {
            // An escaped literal always compiles; an impossibly long one matches nothing.
            continue;
        };
        // Matches come in increasing order: walk the row boundaries alongside instead of a
        // binary search per match.
        let mut row: RowId = 0;
        for m in re.find_iter(column.raw()) {
            row = column.row_at_from(m.start(), row);
            hits.insert(row);
        }
    }
    Some(hits)
}

/// How common a byte is in certificate inventories (ids, host names, hex): the search anchors
/// on the needle's least common byte so the SIMD scan stops as rarely as possible.
fn commonness(b: u8) -> u8 {
    match b {
        b'0'..=b'9' | b'a'..=b'f' => 3,
        b'g'..=b'z' => 2,
        _ => 1,
    }
}

/// Every occurrence of `needle` (already lower-case ASCII) in `hay`, ASCII case-insensitively.
/// `found(start)` returns where to continue (at least `start + 1`).
fn ascii_ci_find(hay: &[u8], needle: &[u8], mut found: impl FnMut(usize) -> usize) {
    let k = needle.len();
    if k == 0 || k > hay.len() {
        return;
    }
    // The rarest byte, preferring later ones (prefixes are the most shared part of names).
    let anchor = (0..k)
        .rev()
        .min_by_key(|&i| commonness(needle[i]))
        .unwrap_or(0);
    let lower = needle[anchor];
    let upper = lower.to_ascii_uppercase();
    // `from` is the smallest match start still to look at.
    let mut from = 0usize;
    while from + k <= hay.len() {
        let window = &hay[from + anchor..=hay.len() - k + anchor];
        let hit = if lower == upper {
            memchr::memchr(lower, window)
        } else {
            memchr::memchr2(lower, upper, window)
        };
        let Some(offset) = hit else {
            return;
        };
        let start = from + offset;
        if hay[start..start + k].eq_ignore_ascii_case(needle) {
            from = found(start).max(start + 1);
        } else {
            from = start + 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::inventory::Inventory;
    use crate::model::{CertificateRow, Service};

    const NOW: i64 = 1_700_000_000;
    const DAY: i64 = 86_400;

    fn row(id: &str, name: &str, status: CertStatus, days: Option<i64>) -> CertificateRow {
        CertificateRow {
            service: Service::Iotda,
            id: id.into(),
            name: name.into(),
            status,
            raw_status: status.label().into(),
            not_after: days.map(|d| NOW + d * DAY + 60),
            serial: Some(format!("SER{id}")),
            fingerprint_sha256: Some(format!("ab{id}cd")),
            site_id: None,
            pem: None,
        }
    }

    fn inventory() -> Inventory {
        Inventory::from_rows(
            Service::Iotda,
            &[
                row("0", "gateway-B", CertStatus::Active, Some(100)),
                row("1", "Gateway-a", CertStatus::Inactive, Some(5)),
                row("2", "sensor-c", CertStatus::Active, Some(-3)),
                row("3", "sensor-D", CertStatus::Revoked, None),
                row("4", "camera-e", CertStatus::Active, Some(40)),
            ],
        )
    }

    fn view(inv: &Inventory, filter: FilterSpec, sort: SortSpec) -> Vec<RowId> {
        let input = ViewInput {
            data: Arc::clone(inv.data()),
            states: Arc::clone(inv.states()),
            build_id: inv.build_id(),
            state_version: inv.state_version(),
            filter,
            sort,
            now: NOW,
        };
        compute_view(&input, &SortCache::default(), &Cancel::never())
            .unwrap()
            .index
            .to_vec()
    }

    fn text(t: &str) -> FilterSpec {
        FilterSpec {
            text: t.into(),
            ..FilterSpec::default()
        }
    }

    #[test]
    fn sorts_by_each_column_both_ways() {
        let inv = inventory();
        let by =
            |column, descending| view(&inv, FilterSpec::default(), SortSpec { column, descending });
        assert_eq!(
            by(SortColumn::Name, false),
            [4, 1, 0, 2, 3],
            "case-insensitive names"
        );
        assert_eq!(by(SortColumn::Name, true), [3, 2, 0, 1, 4]);
        assert_eq!(
            by(SortColumn::Expiry, false),
            [2, 1, 4, 0, 3],
            "unknown expiry last"
        );
        assert_eq!(
            by(SortColumn::Status, false),
            [0, 2, 4, 1, 3],
            "stable among equals"
        );
        assert_eq!(by(SortColumn::Id, true), [4, 3, 2, 1, 0]);
    }

    #[test]
    fn text_filter_is_case_insensitive_over_id_name_serial_fingerprint() {
        let inv = inventory();
        let sort = SortSpec {
            column: SortColumn::Id,
            descending: false,
        };
        assert_eq!(view(&inv, text("GATEWAY"), sort), [0, 1]);
        assert_eq!(
            view(&inv, text("  sensor "), sort),
            [2, 3],
            "surrounding blanks ignored"
        );
        assert_eq!(view(&inv, text("ser3"), sort), [3], "serial");
        assert_eq!(view(&inv, text("AB4C"), sort), [4], "fingerprint");
        assert_eq!(
            view(&inv, text("AB:4C"), sort),
            [4],
            "fingerprint pasted with colons"
        );
        assert_eq!(
            view(&inv, text("nothing-like-this"), sort),
            Vec::<RowId>::new()
        );
        assert_eq!(
            view(&inv, text("a.*"), sort),
            Vec::<RowId>::new(),
            "no regex syntax"
        );
        // A needle must not match across the separator between two rows.
        assert_eq!(view(&inv, text("B\0Gate"), sort), Vec::<RowId>::new());
    }

    #[test]
    fn status_and_expiry_filters_combine_with_text() {
        let inv = inventory();
        let sort = SortSpec::default();
        let f = |status, expiry| FilterSpec {
            text: String::new(),
            status,
            expiry,
            scopes: None,
        };
        assert_eq!(
            view(
                &inv,
                f(StatusFilter::Only(CertStatus::Active), ExpiryFilter::Any),
                SortSpec {
                    column: SortColumn::Id,
                    descending: false
                }
            ),
            [0, 2, 4]
        );
        assert_eq!(
            view(&inv, f(StatusFilter::Any, ExpiryFilter::Expired), sort),
            [2]
        );
        assert_eq!(
            view(&inv, f(StatusFilter::Any, ExpiryFilter::Within(7)), sort),
            [1]
        );
        assert_eq!(
            view(&inv, f(StatusFilter::Any, ExpiryFilter::Within(90)), sort),
            [4, 1]
        );
        assert_eq!(
            view(&inv, f(StatusFilter::Any, ExpiryFilter::Beyond(90)), sort),
            [0]
        );
        assert_eq!(
            view(&inv, f(StatusFilter::Any, ExpiryFilter::Unknown), sort),
            [3]
        );
        let combined = FilterSpec {
            text: "sensor".into(),
            status: StatusFilter::Only(CertStatus::Active),
            expiry: ExpiryFilter::Any,
            scopes: None,
        };
        assert_eq!(view(&inv, combined, sort), [2]);
    }

    #[test]
    fn the_account_filter_keeps_its_scopes_and_the_account_sort_groups_them_by_name() {
        let part = inventory();
        let n = part.len() as RowId;
        // The same rows in three accounts and regions: 0..n, n..2n, 2n..3n.
        let estate = Inventory::concat(part.service(), &[(0, &part), (1, &part), (2, &part)]);
        let only = |scopes: Vec<ScopeId>| FilterSpec {
            scopes: Some(scopes),
            ..FilterSpec::default()
        };
        let shown = view(&estate, only(vec![2]), SortSpec::default());
        assert_eq!(shown.len(), part.len());
        assert!(shown.iter().all(|&r| estate.scope(r) == 2 && r >= 2 * n));
        assert_eq!(
            view(&estate, only(vec![0, 2]), SortSpec::default()).len(),
            2 * part.len()
        );

        let by_account = SortSpec {
            column: SortColumn::Account,
            descending: false,
        };
        let order = view(&estate, FilterSpec::default(), by_account);
        let scopes: Vec<ScopeId> = order.iter().map(|&r| estate.scope(r)).collect();
        assert!(scopes.is_sorted(), "{scopes:?}");
        let names = |scope: ScopeId| -> Vec<String> {
            order
                .iter()
                .filter(|&&r| estate.scope(r) == scope)
                .map(|&r| estate.name(r).to_lowercase())
                .collect()
        };
        assert!(
            names(1).is_sorted(),
            "by name inside an account: {:?}",
            names(1)
        );
    }

    #[test]
    fn removed_rows_and_status_changes_are_seen() {
        let mut inv = inventory();
        let sort = SortSpec {
            column: SortColumn::Id,
            descending: false,
        };
        inv.remove(1);
        inv.set_status(0, CertStatus::Revoked, "REVOKED");
        let only_revoked = FilterSpec {
            status: StatusFilter::Only(CertStatus::Revoked),
            ..FilterSpec::default()
        };
        assert_eq!(view(&inv, only_revoked, sort), [0, 3]);
        assert_eq!(view(&inv, FilterSpec::default(), sort), [0, 2, 3, 4]);
    }

    #[test]
    fn the_sort_cache_is_reused_and_invalidated() {
        let mut inv = inventory();
        let mut cache = SortCache::default();
        let input = |inv: &Inventory, column| ViewInput {
            data: Arc::clone(inv.data()),
            states: Arc::clone(inv.states()),
            build_id: inv.build_id(),
            state_version: inv.state_version(),
            filter: FilterSpec::default(),
            sort: SortSpec {
                column,
                descending: false,
            },
            now: NOW,
        };
        let first =
            compute_view_cached(&input(&inv, SortColumn::Name), &mut cache, &Cancel::never())
                .unwrap();
        let again =
            compute_view_cached(&input(&inv, SortColumn::Name), &mut cache, &Cancel::never())
                .unwrap();
        assert!(Arc::ptr_eq(&first.order, &again.order), "name order reused");
        let status1 = compute_view_cached(
            &input(&inv, SortColumn::Status),
            &mut cache,
            &Cancel::never(),
        )
        .unwrap();
        inv.set_status(0, CertStatus::Revoked, "REVOKED");
        let status2 = compute_view_cached(
            &input(&inv, SortColumn::Status),
            &mut cache,
            &Cancel::never(),
        )
        .unwrap();
        assert!(
            !Arc::ptr_eq(&status1.order, &status2.order),
            "status order recomputed after a change"
        );
        assert_eq!(*status2.index, [2, 4, 1, 0, 3]);
        let name_after =
            compute_view_cached(&input(&inv, SortColumn::Name), &mut cache, &Cancel::never())
                .unwrap();
        assert!(
            Arc::ptr_eq(&first.order, &name_after.order),
            "names did not change"
        );
    }

    #[test]
    fn a_superseded_computation_stops() {
        let inv = inventory();
        let generation = SharedGeneration::default();
        let old = generation.start();
        let latest = generation.start();
        let input = ViewInput {
            data: Arc::clone(inv.data()),
            states: Arc::clone(inv.states()),
            build_id: inv.build_id(),
            state_version: 0,
            filter: FilterSpec::default(),
            sort: SortSpec::default(),
            now: NOW,
        };
        assert!(
            compute_view(
                &input,
                &SortCache::default(),
                &Cancel::new(generation.clone(), old)
            )
            .is_none()
        );
        assert!(
            compute_view(
                &input,
                &SortCache::default(),
                &Cancel::new(generation, latest)
            )
            .is_some()
        );
    }

    #[test]
    fn string_sorts_match_a_plain_comparison_sort() {
        // Long shared prefixes, case differences, prefixes of each other, equal names.
        let names = [
            "device-0000000000000000-b",
            "DEVICE-0000000000000000-a",
            "device-0000000000000000",
            "device-00000000000000001",
            "a",
            "",
            "A",
            "zeta",
            "device-0000000000000000-b",
        ];
        let rows: Vec<CertificateRow> = names
            .iter()
            .enumerate()
            .map(|(i, n)| row(&format!("{i}"), n, CertStatus::Active, None))
            .collect();
        let inv = Inventory::from_rows(Service::Iotda, &rows);
        let mut expected: Vec<RowId> = (0..names.len() as RowId).collect();
        expected.sort_by(|&a, &b| {
            names[a as usize]
                .to_ascii_lowercase()
                .cmp(&names[b as usize].to_ascii_lowercase())
                .then(a.cmp(&b))
        });
        let sorted = view(
            &inv,
            FilterSpec::default(),
            SortSpec {
                column: SortColumn::Name,
                descending: false,
            },
        );
        assert_eq!(sorted, expected);
    }

    #[test]
    fn ascii_search_finds_every_case_insensitive_occurrence() {
        let hay = b"abcABCxxaBc\0abc";
        let find = |needle: &[u8]| {
            let mut starts = Vec::new();
            ascii_ci_find(hay, needle, |s| {
                starts.push(s);
                s + 1
            });
            starts
        };
        assert_eq!(find(b"abc"), [0, 3, 8, 12]);
        assert_eq!(find(b"c\0a"), [10]);
        assert_eq!(find(b"xxabc"), [6]);
        assert_eq!(
            find(b"abcabcxxabc\0abcd"),
            Vec::<usize>::new(),
            "longer than the haystack"
        );
        assert_eq!(find(b"-"), Vec::<usize>::new());
        assert_eq!(find(b"abcabcxxabc\0abc"), [0], "the whole haystack");
        // Resuming further skips matches in between.
        let mut starts = Vec::new();
        ascii_ci_find(hay, b"abc", |s| {
            starts.push(s);
            s + 7
        });
        assert_eq!(starts, [0, 8]);
    }

    #[test]
    fn row_set_counts_and_iterates() {
        let mut s = RowSet::new();
        assert!(s.insert(3));
        assert!(!s.insert(3));
        assert!(s.insert(200));
        assert!(s.insert(64));
        assert_eq!(s.len(), 3);
        let mut other = RowSet::new();
        other.insert(3);
        other.insert(500);
        let mut union = s.clone();
        union.union_with(&other);
        assert_eq!(union.iter().collect::<Vec<_>>(), [3, 64, 200, 500]);
        assert_eq!(union.len(), 4);
        assert_eq!(s.iter().collect::<Vec<_>>(), [3, 64, 200]);
        assert!(s.remove(64));
        assert!(!s.remove(64));
        assert!(!s.remove(10_000));
        assert!(!s.contains(64));
        assert_eq!(s.len(), 2);
        s.clear();
        assert!(s.is_empty());
    }
}
