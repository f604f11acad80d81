//! The Overview tab's data: counts by service and status over every inventory, certificates
//! expiring per week over the next [`WEEKS`] weeks (already expired apart), and the
//! [`SOONEST`] certificates closest to expiry. [`aggregate`] is a pure function over rows; the
//! app caches its result by the inventories' identities and versions ([`OverviewState`]) and runs
//! it on a worker for large inventories, so no frame pays for it. Also the expiry thresholds
//! (warning / critical days) every table colours rows by, and their persistence.
//! Knows `inventory`, `view` and `model`; nothing of egui.

use super::context::{Notice, NoticeLevel, Notices, now_unix};
use super::inventory::view::ExpiryFilter;
use super::inventory::{
    Inventories, Inventory, InventoryBuilder, PaneKey, RowData, RowId, RowState,
};
use super::runtime::{Generation, Spawner, Ticket};
use crate::model::{CertStatus, Service};
use serde::{Deserialize, Serialize};
use std::collections::BinaryHeap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Weeks the chart covers.
pub const WEEKS: usize = 26;
/// Rows in the "soonest to expire" list.
pub const SOONEST: usize = 50;
/// Seconds per day.
pub const DAY: i64 = 86_400;
/// Seconds per week.
pub const WEEK: i64 = 7 * DAY;
/// Inventories up to this many rows in total are aggregated inline; more on a worker.
pub const INLINE_OVERVIEW_LIMIT: usize = 50_000;
/// The overview is recomputed at least this often (seconds) so "now" does not go stale.
pub const MAX_AGE: i64 = 300;

/// The services, in the order the overview lists them.
pub const SERVICES: [Service; 5] = Service::ALL;
/// The statuses, in the order the overview lists them.
pub const STATUSES: [CertStatus; 5] = [
    CertStatus::Active,
    CertStatus::Inactive,
    CertStatus::Revoked,
    CertStatus::Pending,
    CertStatus::Unknown,
];

/// Position of `service` in [`SERVICES`].
pub fn service_index(service: Service) -> usize {
    match service {
        Service::Kms => 0,
        Service::Pca => 1,
        Service::Esa => 2,
        Service::Iotda => 4,
        // No CDN, SSL-repository or STS rows reach the overview yet (no tab lists them); CDN
        // domains would count with VOD's, the others nowhere in particular.
        Service::Vod | Service::Cdn => 3,
        Service::Ssl | Service::Sts => 0,
    }
}

fn status_index(status: CertStatus) -> usize {
    match status {
        CertStatus::Active => 0,
        CertStatus::Inactive => 1,
        CertStatus::Revoked => 2,
        CertStatus::Pending => 3,
        CertStatus::Unknown => 4,
    }
}

/// Days before expiry at which rows are marked: `warning` (default 30) and `critical` (7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Thresholds {
    /// Rows expiring within this many days are a warning.
    pub warning_days: u32,
    /// Rows expiring within this many days are critical.
    pub critical_days: u32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            warning_days: 30,
            critical_days: 7,
        }
    }
}

impl Thresholds {
    /// The thresholds with `critical <= warning` (a larger critical value is lowered), both at
    /// most ten years.
    pub fn normalized(self) -> Self {
        let warning_days = self.warning_days.min(3_650);
        Thresholds {
            warning_days,
            critical_days: self.critical_days.min(warning_days),
        }
    }

    /// How urgent a certificate expiring at `not_after` is at `now`.
    pub fn level(self, not_after: Option<i64>, now: i64) -> ExpiryLevel {
        let Some(t) = not_after else {
            return ExpiryLevel::Unknown;
        };
        let days = crate::certs::days_left(t, now);
        if days < 0 {
            ExpiryLevel::Expired
        } else if days < i64::from(self.critical_days) {
            ExpiryLevel::Critical
        } else if days < i64::from(self.warning_days) {
            ExpiryLevel::Warning
        } else {
            ExpiryLevel::Ok
        }
    }
}

/// How urgent an expiry is (see [`Thresholds::level`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ExpiryLevel {
    /// Already expired.
    Expired,
    /// Fewer whole days left than the critical threshold.
    Critical,
    /// Fewer whole days left than the warning threshold.
    Warning,
    /// Later.
    Ok,
    /// No expiry known.
    Unknown,
}

/// One of the certificates closest to expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoonEntry {
    /// The inventory it is in.
    pub key: PaneKey,
    /// Its row there.
    pub row: RowId,
    /// Provider id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Status.
    pub status: CertStatus,
    /// Expiry, UNIX seconds.
    pub not_after: i64,
}

impl SoonEntry {
    /// Whole days left at `now` (see [`crate::certs::days_left`]).
    pub fn days_left(&self, now: i64) -> i64 {
        crate::certs::days_left(self.not_after, now)
    }
}

/// Which part of the chart: the expired group or one week.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    /// Expired before `now`.
    Expired,
    /// Week `n` (0-based): expiring in `[now + n weeks, now + n + 1 weeks)`.
    Week(usize),
}

/// The aggregate the Overview tab shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overview {
    /// "Now" of the computation, UNIX seconds; every bucket is relative to it.
    pub now: i64,
    /// Present rows by service and status (`[SERVICES][STATUSES]`).
    pub counts: [[u64; 5]; 5],
    /// Already expired, by service.
    pub expired: [u64; 5],
    /// Expiring in each of the next [`WEEKS`] weeks, by service.
    pub weeks: [[u64; 5]; WEEKS],
    /// Expiring later than the chart, by service.
    pub later: [u64; 5],
    /// Without a known expiry, by service.
    pub no_expiry: [u64; 5],
    /// The [`SOONEST`] not yet expired certificates closest to expiry, soonest first.
    pub soonest: Vec<SoonEntry>,
    /// Per inventory (ESA: per site): expired (index 0) and each week (1..), for click-through.
    pub by_pane: Vec<(PaneKey, [u64; WEEKS + 1])>,
    /// Per account and region (indexed by scope id): the Overview split by account.
    pub by_scope: Vec<ScopeCounts>,
}

/// What the Overview counts of one account and region.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScopeCounts {
    /// Present rows, by service (as [`service_index`]).
    pub by_service: [u64; 5],
    /// Present rows by status (as [`STATUSES`]).
    pub by_status: [u64; 5],
    /// Already expired.
    pub expired: u64,
    /// Expiring within the next four weeks.
    pub within_4_weeks: u64,
}

impl ScopeCounts {
    /// Present rows of every service.
    pub fn total(&self) -> u64 {
        self.by_service.iter().sum()
    }

    /// Whether the account and region has any row.
    pub fn is_empty(&self) -> bool {
        self.total() == 0
    }

    /// Revoked rows.
    pub fn revoked(&self) -> u64 {
        self.by_status[status_index(CertStatus::Revoked)]
    }
}

impl Overview {
    /// Present rows of every service.
    pub fn total(&self) -> u64 {
        self.counts.iter().flatten().sum()
    }

    /// Present rows of `service`.
    pub fn service_total(&self, service: Service) -> u64 {
        self.counts[service_index(service)].iter().sum()
    }

    /// Rows of `service` with `status`.
    pub fn count(&self, service: Service, status: CertStatus) -> u64 {
        self.counts[service_index(service)][status_index(status)]
    }

    /// Rows of every service with `status`.
    pub fn status_total(&self, status: CertStatus) -> u64 {
        self.counts.iter().map(|c| c[status_index(status)]).sum()
    }

    /// Rows of `service` in `bucket`.
    pub fn in_bucket(&self, bucket: Bucket, service: Service) -> u64 {
        let s = service_index(service);
        match bucket {
            Bucket::Expired => self.expired[s],
            Bucket::Week(w) => self.weeks.get(w).map_or(0, |c| c[s]),
        }
    }

    /// Rows of every service in `bucket`.
    pub fn bucket_total(&self, bucket: Bucket) -> u64 {
        SERVICES.iter().map(|&s| self.in_bucket(bucket, s)).sum()
    }

    /// The inventory of `service` with the most rows in `bucket` (the one a click opens; for
    /// every service but ESA the only one). `None` when no inventory of it has rows there.
    pub fn pane_for(&self, bucket: Bucket, service: Service) -> Option<PaneKey> {
        let i = match bucket {
            Bucket::Expired => 0,
            Bucket::Week(w) => w + 1,
        };
        self.by_pane
            .iter()
            .filter(|(k, c)| k.service == service && c.get(i).is_some_and(|&n| n > 0))
            .max_by_key(|(k, c)| (c[i], std::cmp::Reverse(k.site_id)))
            .map(|(k, _)| *k)
    }

    /// The table filter that shows exactly the rows of `bucket`.
    pub fn filter_of(&self, bucket: Bucket) -> ExpiryFilter {
        bucket_filter(self.now, bucket)
    }
}

/// The expiry filter of a chart bucket computed at `now`: absolute times, so the table shows
/// exactly the rows the chart counted however long after the click it filters.
pub fn bucket_filter(now: i64, bucket: Bucket) -> ExpiryFilter {
    match bucket {
        Bucket::Expired => ExpiryFilter::Between {
            from: i64::MIN,
            to: now,
        },
        Bucket::Week(w) => {
            let from = now + w as i64 * WEEK;
            ExpiryFilter::Between {
                from,
                to: from + WEEK,
            }
        }
    }
}

/// The filter of the week (counted from `now`, like the chart's) that `not_after` falls in,
/// even past the chart: what a click on a "soonest" row opens.
pub fn week_filter(not_after: i64, now: i64) -> ExpiryFilter {
    if not_after < now {
        return bucket_filter(now, Bucket::Expired);
    }
    let from = now + (not_after - now) / WEEK * WEEK;
    ExpiryFilter::Between {
        from,
        to: from.saturating_add(WEEK),
    }
}

/// The bucket of an expiry at `now` (`None`: later than the chart).
pub fn bucket_of(not_after: i64, now: i64) -> Option<Bucket> {
    if not_after < now {
        return Some(Bucket::Expired);
    }
    let w = (not_after - now) / WEEK;
    (w < WEEKS as i64).then_some(Bucket::Week(w as usize))
}

/// What [`aggregate`] reads of an inventory: its immutable columns and its row states. A built
/// [`Inventory`] has them, and so has the [`InventoryBuilder`] of a walk still listing.
#[derive(Debug, Clone, Copy)]
pub struct Columns<'a> {
    data: &'a RowData,
    states: &'a [RowState],
}

impl<'a> From<&'a Inventory> for Columns<'a> {
    fn from(inventory: &'a Inventory) -> Self {
        Columns {
            data: inventory.data(),
            states: inventory.states(),
        }
    }
}

impl<'a> From<&'a InventoryBuilder> for Columns<'a> {
    fn from(builder: &'a InventoryBuilder) -> Self {
        let (data, states) = builder.columns();
        Columns { data, states }
    }
}

/// A candidate for the soonest list: ordered by expiry, then inventory, then row, so the heap
/// keeps the same 50 whatever order inventories come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Candidate {
    not_after: i64,
    service: usize,
    site: Option<i64>,
    row: RowId,
    source: usize,
}

/// Aggregates `inventories` at `now`. Pure: the same rows and `now` give the same overview.
/// Removed rows are skipped. One pass over each inventory's expiry and state columns.
pub fn aggregate<'a, R: Into<Columns<'a>>>(
    inventories: impl IntoIterator<Item = (PaneKey, R)>,
    now: i64,
) -> Overview {
    let mut o = Overview {
        now,
        counts: [[0; 5]; 5],
        expired: [0; 5],
        weeks: [[0; 5]; WEEKS],
        later: [0; 5],
        no_expiry: [0; 5],
        soonest: Vec::new(),
        by_pane: Vec::new(),
        by_scope: Vec::new(),
    };
    let sources: Vec<(PaneKey, Columns<'a>)> = inventories
        .into_iter()
        .map(|(key, rows)| (key, rows.into()))
        .collect();
    // Max-heap of the best SOONEST candidates: the top is the latest of them.
    let mut heap: BinaryHeap<Candidate> = BinaryHeap::with_capacity(SOONEST + 1);
    for (source, (key, Columns { data, states })) in sources.iter().enumerate() {
        let s = service_index(key.service);
        let mut counts = [0u64; 5];
        let mut weeks = [0u64; WEEKS];
        let (mut expired, mut later, mut unknown) = (0u64, 0u64, 0u64);
        for (row, state) in states.iter().enumerate() {
            if state.removed {
                continue;
            }
            counts[status_index(state.status)] += 1;
            let scope = usize::from(data.scope(row as RowId));
            if scope >= o.by_scope.len() {
                o.by_scope.resize(scope + 1, ScopeCounts::default());
            }
            let per_scope = &mut o.by_scope[scope];
            per_scope.by_service[s] += 1;
            per_scope.by_status[status_index(state.status)] += 1;
            let Some(t) = data.not_after(row as RowId) else {
                unknown += 1;
                continue;
            };
            if t < now {
                expired += 1;
                per_scope.expired += 1;
                continue;
            }
            if t - now < 4 * WEEK {
                per_scope.within_4_weeks += 1;
            }
            let w = (t - now) / WEEK;
            if w < WEEKS as i64 {
                weeks[w as usize] += 1;
            } else {
                later += 1;
            }
            let c = Candidate {
                not_after: t,
                service: s,
                site: key.site_id,
                row: row as RowId,
                source,
            };
            if heap.len() < SOONEST {
                heap.push(c);
            } else if heap.peek().is_some_and(|top| c < *top) {
                heap.pop();
                heap.push(c);
            }
        }
        for (total, n) in o.counts[s].iter_mut().zip(counts) {
            *total += n;
        }
        for (week, n) in o.weeks.iter_mut().zip(weeks) {
            week[s] += n;
        }
        let mut per_pane = [0u64; WEEKS + 1];
        per_pane[0] = expired;
        per_pane[1..].copy_from_slice(&weeks);
        o.by_pane.push((*key, per_pane));
        o.expired[s] += expired;
        o.later[s] += later;
        o.no_expiry[s] += unknown;
    }
    o.soonest = heap
        .into_sorted_vec()
        .into_iter()
        .filter_map(|c| {
            let (key, Columns { data, states }) = sources.get(c.source)?;
            Some(SoonEntry {
                key: *key,
                row: c.row,
                id: data.ids.get(c.row).to_string(),
                name: data.names.get(c.row).to_string(),
                status: states.get(c.row as usize)?.status,
                not_after: c.not_after,
            })
        })
        .collect();
    o
}

/// Identity of the inventories an overview was computed from: (key, build, state version).
type Signature = Vec<(Service, Option<i64>, u64, u64)>;

/// How often the rows of a walk still listing are counted again. One pass over 1,000,000 rows
/// takes 4–6 ms (benches/overview.rs), so four a second cost a first fetch little.
pub(crate) const LISTING_REFRESH: Duration = Duration::from_millis(250);

/// One inventory as the Overview counts it.
enum OverviewSource<'a> {
    /// A built inventory.
    Built(&'a Inventory),
    /// The rows a first walk has listed so far, with the identity of that listing.
    Listing(u64, &'a InventoryBuilder),
}

impl<'a> OverviewSource<'a> {
    fn columns(&self) -> Columns<'a> {
        match *self {
            OverviewSource::Built(inventory) => inventory.into(),
            OverviewSource::Listing(_, builder) => builder.into(),
        }
    }

    /// (build, version) for the change check; a listing's version is its row count.
    fn identity(&self) -> (u64, u64) {
        match self {
            OverviewSource::Built(inventory) => (inventory.build_id(), inventory.state_version()),
            OverviewSource::Listing(id, builder) => (*id, builder.len() as u64),
        }
    }
}

/// The app's cached overview and the thresholds.
#[derive(Debug, Default)]
pub struct OverviewState {
    /// The last computed overview (`None` until the first one).
    pub current: Option<Arc<Overview>>,
    /// Warning / critical days.
    pub thresholds: Thresholds,
    /// An aggregation is running on a worker.
    pub computing: bool,
    signature: Signature,
    /// One per computation started (results of older ones are dropped).
    computations: Generation,
    /// When rows of a walk still listing were last counted (see [`LISTING_REFRESH`]).
    listing_counted_at: Option<Instant>,
    /// A frame is due when the current [`LISTING_REFRESH`] wait ends.
    listing_wake_pending: bool,
    /// The time overviews are counted at instead of the system clock (set by tests only).
    fixed_now: Option<i64>,
}

/// An overview computed on a worker.
pub(crate) struct OverviewComputed(Ticket, Signature, Box<Overview>);

/// The preferences file: next to `profiles.toml`.
pub const PREFERENCES_FILE: &str = "preferences.toml";

/// What certdesk remembers between runs besides profiles (next to `profiles.toml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Preferences {
    /// Expiry thresholds.
    #[serde(default)]
    pub thresholds: Thresholds,
}

impl Preferences {
    /// Reads `path`; a missing file gives the defaults.
    pub fn load(path: &std::path::Path) -> Result<Preferences, String> {
        match std::fs::read_to_string(path) {
            Ok(text) => toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Preferences::default()),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    /// Writes `path` atomically (temporary file, then rename).
    pub fn save(&self, path: &std::path::Path) -> Result<(), String> {
        use std::io::Write;
        let text = toml::to_string(self).map_err(|e| e.to_string())?;
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(std::path::Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut tmp =
            tempfile::NamedTempFile::new_in(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        tmp.write_all(text.as_bytes())
            .map_err(|e| format!("{}: {e}", path.display()))?;
        tmp.persist(path)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(())
    }
}

impl OverviewState {
    /// Reads the thresholds from the preferences at `path` (a few bytes, once, before the window
    /// exists).
    pub(crate) fn load_preferences(&mut self, path: &Path, notices: &mut Notices) {
        match Preferences::load(path) {
            Ok(p) => self.thresholds = p.thresholds.normalized(),
            Err(e) => notices.push(
                NoticeLevel::Error,
                format!("Reading the preferences failed: {e}"),
            ),
        }
    }

    /// Changes the thresholds and saves them (on a worker) to `path`, when preferences are kept.
    pub(crate) fn set_thresholds(
        &mut self,
        thresholds: Thresholds,
        path: Option<std::path::PathBuf>,
        quiet: &Spawner<Option<Notice>>,
    ) {
        let thresholds = thresholds.normalized();
        if thresholds == self.thresholds {
            return;
        }
        self.thresholds = thresholds;
        let Some(path) = path else {
            return;
        };
        let prefs = Preferences { thresholds };
        quiet.spawn_blocking(move || {
            prefs
                .save(&path)
                .err()
                .map(|e| Notice::error(format!("Saving the preferences failed: {e}")))
        });
    }

    /// Counts every overview from now on at the UNIX time `now` instead of the system clock (the
    /// next [`Self::refresh`] counts again): for tests and snapshot images that must not change
    /// with the time of day.
    #[cfg(any(test, feature = "testing"))]
    pub fn freeze_clock(&mut self, now: i64) {
        self.fixed_now = Some(now);
    }

    /// Takes an overview computed on a worker, unless a newer computation was started.
    pub(crate) fn computed(
        &mut self,
        OverviewComputed(ticket, signature, overview): OverviewComputed,
    ) {
        if self.computations.is_current(ticket) {
            self.computing = false;
            self.signature = signature;
            self.current = Some(Arc::from(overview));
        }
    }

    /// Recomputes the overview when an inventory changed (or it is older than [`MAX_AGE`]):
    /// inline for small inventories, on a worker for large ones. Called once per frame; costs a
    /// comparison of a few numbers when nothing changed.
    pub(crate) fn refresh(&mut self, inventories: &Inventories, tasks: &Spawner<OverviewComputed>) {
        let sources = overview_sources(inventories);
        let signature: Signature = sources
            .iter()
            .map(|(k, source)| {
                let (id, version) = source.identity();
                (k.service, k.site_id, id, version)
            })
            .collect();
        let now = self.fixed_now.unwrap_or_else(now_unix);
        // Counted at a later time than now (the clock was set back): not fresh either.
        let fresh = self
            .current
            .as_ref()
            .is_some_and(|o| o.now <= now && now - o.now < MAX_AGE);
        if self.computing || (fresh && signature == self.signature) {
            if self.computing && signature != self.signature {
                // Changed again while computing: the running result will be followed by another.
                self.signature = Vec::new();
            }
            return;
        }
        if sources
            .iter()
            .any(|(_, s)| matches!(s, OverviewSource::Listing(..)))
        {
            // A walk's builder cannot go to a worker (it keeps growing): count inline, at most
            // every LISTING_REFRESH. Each page of the walk wakes a frame, so the count catches up
            // with the next page or the finished walk.
            let wait = self.listing_counted_at.map_or(Duration::ZERO, |at| {
                LISTING_REFRESH.saturating_sub(at.elapsed())
            });
            if !wait.is_zero() {
                if !self.listing_wake_pending {
                    // The walk may have sent its last page already: wake a frame to count it.
                    self.listing_wake_pending = true;
                    tasks.wake_after(wait);
                }
                return;
            }
            let overview = aggregate(sources.iter().map(|(k, s)| (*k, s.columns())), now);
            self.listing_wake_pending = false;
            self.listing_counted_at = Some(Instant::now());
            self.signature = signature;
            self.current = Some(Arc::new(overview));
            return;
        }
        let inventories: Vec<(PaneKey, &Inventory)> = sources
            .into_iter()
            .filter_map(|(k, s)| match s {
                OverviewSource::Built(inventory) => Some((k, inventory)),
                OverviewSource::Listing(..) => None,
            })
            .collect();
        let rows: usize = inventories.iter().map(|(_, inv)| inv.len()).sum();
        if rows <= INLINE_OVERVIEW_LIMIT {
            let overview = aggregate(inventories, now);
            self.signature = signature;
            self.current = Some(Arc::new(overview));
            return;
        }
        let owned: Vec<(PaneKey, Inventory)> = inventories
            .into_iter()
            .map(|(k, inv)| (k, inv.clone()))
            .collect();
        let ticket = self.computations.start();
        self.computing = true;
        // Marks the signature as "being computed": a change meanwhile is seen on the next frame.
        self.signature = signature.clone();
        tasks.spawn_blocking(move || {
            let overview = aggregate(owned.iter().map(|(k, inv)| (*k, inv)), now);
            OverviewComputed(ticket, signature, Box::new(overview))
        });
    }
}

/// The inventories the overview covers: every pane (ESA: every site loaded), the inventory about
/// to be shown when one is waiting for its view, and the rows listed so far when a pane's first
/// walk is running (a refresh over rows already shown keeps counting those until it completes:
/// a half-listed refresh would undercount what is really there).
fn overview_sources(inventories: &Inventories) -> Vec<(PaneKey, OverviewSource<'_>)> {
    let mut v: Vec<(PaneKey, OverviewSource<'_>)> = Vec::new();
    for (k, p) in &inventories.panes {
        let built = match &p.incoming {
            Some((incoming, _)) => incoming,
            None => &p.inventory,
        };
        v.push((*k, OverviewSource::Built(built)));
        // A part on its first walk (nothing of it joined yet) is counted from what it listed.
        for part in p.parts.values() {
            if let Some((id, listed)) = &part.listed
                && part.rows.is_empty()
            {
                v.push((*k, OverviewSource::Listing(*id, listed)));
            }
        }
    }
    v.sort_by_key(|(k, s)| (k.service, k.site_id, s.identity()));
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CertificateRow;

    const NOW: i64 = 1_800_000_000;

    fn row(
        service: Service,
        n: usize,
        status: CertStatus,
        not_after: Option<i64>,
    ) -> CertificateRow {
        CertificateRow {
            service,
            id: format!("{service:?}-{n}"),
            name: format!("name-{n}"),
            status,
            raw_status: status.label().into(),
            not_after,
            serial: None,
            fingerprint_sha256: None,
            site_id: None,
            pem: None,
        }
    }

    #[test]
    fn week_boundaries_expired_and_missing_expiry() {
        let rows = [
            row(Service::Iotda, 0, CertStatus::Active, Some(NOW - 1)), // expired
            row(Service::Iotda, 1, CertStatus::Active, Some(NOW)),     // week 0 (first second)
            row(Service::Iotda, 2, CertStatus::Active, Some(NOW + WEEK - 1)), // week 0 (last)
            row(Service::Iotda, 3, CertStatus::Inactive, Some(NOW + WEEK)), // week 1
            row(
                Service::Iotda,
                4,
                CertStatus::Active,
                Some(NOW + 26 * WEEK - 1),
            ), // week 25
            row(Service::Iotda, 5, CertStatus::Active, Some(NOW + 26 * WEEK)), // later
            row(Service::Iotda, 6, CertStatus::Revoked, None),         // unknown
            row(Service::Iotda, 7, CertStatus::Active, Some(i64::MIN + 1)), // long expired
        ];
        let inv = Inventory::from_rows(Service::Iotda, &rows);
        let key = PaneKey::service(Service::Iotda);
        let o = aggregate([(key, &inv)], NOW);
        let i = service_index(Service::Iotda);
        assert_eq!(o.expired[i], 2);
        assert_eq!(o.weeks[0][i], 2);
        assert_eq!(o.weeks[1][i], 1);
        assert_eq!(o.weeks[25][i], 1);
        assert_eq!(o.weeks.iter().map(|w| w[i]).sum::<u64>(), 4);
        assert_eq!(o.later[i], 1);
        assert_eq!(o.no_expiry[i], 1);
        assert_eq!(o.total(), 8);
        assert_eq!(o.count(Service::Iotda, CertStatus::Active), 6);
        assert_eq!(o.count(Service::Iotda, CertStatus::Inactive), 1);
        assert_eq!(o.count(Service::Iotda, CertStatus::Revoked), 1);
        assert_eq!(o.status_total(CertStatus::Pending), 0);
        // Every row is in exactly one place.
        let placed =
            o.expired[i] + o.weeks.iter().map(|w| w[i]).sum::<u64>() + o.later[i] + o.no_expiry[i];
        assert_eq!(placed, 8);
        // Soonest: not expired, in expiry order, with days left.
        let names: Vec<&str> = o.soonest.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["name-1", "name-2", "name-3", "name-4", "name-5"]);
        assert_eq!(o.soonest[0].days_left(NOW), 0);
        assert_eq!(o.soonest[2].days_left(NOW), 7);
        // bucket_of agrees with the aggregation.
        assert_eq!(bucket_of(NOW - 1, NOW), Some(Bucket::Expired));
        assert_eq!(bucket_of(NOW + WEEK - 1, NOW), Some(Bucket::Week(0)));
        assert_eq!(bucket_of(NOW + WEEK, NOW), Some(Bucket::Week(1)));
        assert_eq!(bucket_of(NOW + 26 * WEEK, NOW), None);
    }

    #[test]
    fn counts_split_by_account_and_region_add_up_to_the_totals() {
        let a = Inventory::from_rows(
            Service::Iotda,
            &[
                row(Service::Iotda, 0, CertStatus::Active, Some(NOW - 1)),
                row(Service::Iotda, 1, CertStatus::Active, Some(NOW + WEEK)),
            ],
        );
        let b = Inventory::from_rows(
            Service::Iotda,
            &[
                row(
                    Service::Iotda,
                    2,
                    CertStatus::Revoked,
                    Some(NOW + 10 * WEEK),
                ),
                row(Service::Iotda, 3, CertStatus::Active, None),
                row(Service::Iotda, 4, CertStatus::Active, Some(NOW + 3 * WEEK)),
            ],
        );
        let iot = Inventory::concat(Service::Iotda, &[(0, &a), (3, &b)]);
        let kms = Inventory::from_rows(
            Service::Kms,
            &[row(Service::Kms, 0, CertStatus::Active, Some(NOW - 5))],
        )
        .with_scope(1);
        let o = aggregate(
            [
                (PaneKey::service(Service::Iotda), &iot),
                (PaneKey::service(Service::Kms), &kms),
            ],
            NOW,
        );
        assert_eq!(o.by_scope.len(), 4);
        let (s0, s1, s2, s3) = (o.by_scope[0], o.by_scope[1], o.by_scope[2], o.by_scope[3]);
        assert_eq!((s0.total(), s0.expired, s0.within_4_weeks), (2, 1, 1));
        assert_eq!((s1.total(), s1.expired), (1, 1));
        assert_eq!(s1.by_service[service_index(Service::Kms)], 1);
        assert!(s2.is_empty());
        assert_eq!((s3.total(), s3.revoked(), s3.within_4_weeks), (3, 1, 1));
        let split: u64 = o.by_scope.iter().map(ScopeCounts::total).sum();
        assert_eq!(split, o.total());
        let expired: u64 = o.by_scope.iter().map(|s| s.expired).sum();
        assert_eq!(expired, o.expired.iter().sum::<u64>());
    }

    #[test]
    fn bucket_filters_select_exactly_the_counted_rows() {
        let rows: Vec<CertificateRow> = (0..400)
            .map(|n| {
                let t = NOW + (n as i64 - 50) * 43_200 + (n as i64 % 7) * 1_000;
                row(Service::Vod, n, CertStatus::Active, Some(t))
            })
            .collect();
        let inv = Inventory::from_rows(Service::Vod, &rows);
        let key = PaneKey::service(Service::Vod);
        let o = aggregate([(key, &inv)], NOW);
        let buckets = std::iter::once(Bucket::Expired).chain((0..WEEKS).map(Bucket::Week));
        for bucket in buckets {
            let filter = o.filter_of(bucket);
            // A later "now" must not change what the filter selects.
            let shown = (0..inv.len() as RowId)
                .filter(|&r| filter.accepts(inv.not_after(r), NOW + 3 * DAY))
                .count() as u64;
            assert_eq!(shown, o.in_bucket(bucket, Service::Vod), "{bucket:?}");
        }
    }

    #[test]
    fn counts_span_services_and_skip_removed_rows() {
        let kms = Inventory::from_rows(
            Service::Kms,
            &[
                row(Service::Kms, 0, CertStatus::Pending, None),
                row(Service::Kms, 1, CertStatus::Active, Some(NOW + DAY)),
            ],
        );
        let mut esa = Inventory::from_rows(
            Service::Esa,
            &[
                row(Service::Esa, 0, CertStatus::Revoked, Some(NOW + 2 * DAY)),
                row(Service::Esa, 1, CertStatus::Active, Some(NOW + 3 * DAY)),
            ],
        );
        esa.remove(1);
        let esa2 = Inventory::from_rows(
            Service::Esa,
            &[row(
                Service::Esa,
                9,
                CertStatus::Active,
                Some(NOW + 4 * DAY),
            )],
        );
        let o = aggregate(
            [
                (PaneKey::service(Service::Kms), &kms),
                (PaneKey::esa(1), &esa),
                (PaneKey::esa(2), &esa2),
            ],
            NOW,
        );
        assert_eq!(o.count(Service::Kms, CertStatus::Pending), 1);
        assert_eq!(o.service_total(Service::Esa), 2, "removed row skipped");
        assert_eq!(o.in_bucket(Bucket::Week(0), Service::Esa), 2);
        assert_eq!(o.bucket_total(Bucket::Week(0)), 3);
        let ids: Vec<(&str, Option<i64>)> = o
            .soonest
            .iter()
            .map(|e| (e.id.as_str(), e.key.site_id))
            .collect();
        assert_eq!(
            ids,
            [("Kms-1", None), ("Esa-0", Some(1)), ("Esa-9", Some(2))]
        );
    }

    #[test]
    fn soonest_keeps_the_fifty_closest() {
        // Reverse order of expiry so the heap has to replace entries.
        let rows: Vec<CertificateRow> = (0..500)
            .map(|n| {
                row(
                    Service::Pca,
                    n,
                    CertStatus::Active,
                    Some(NOW + (500 - n as i64) * 3_600),
                )
            })
            .collect();
        let inv = Inventory::from_rows(Service::Pca, &rows);
        let o = aggregate([(PaneKey::service(Service::Pca), &inv)], NOW);
        assert_eq!(o.soonest.len(), SOONEST);
        assert_eq!(o.soonest[0].name, "name-499");
        assert_eq!(o.soonest[49].name, "name-450");
        assert!(
            o.soonest
                .windows(2)
                .all(|w| w[0].not_after <= w[1].not_after)
        );
    }

    #[test]
    fn thresholds_classify_and_normalise() {
        let t = Thresholds::default();
        assert_eq!(t.level(None, NOW), ExpiryLevel::Unknown);
        assert_eq!(t.level(Some(NOW - 1), NOW), ExpiryLevel::Expired);
        assert_eq!(t.level(Some(NOW), NOW), ExpiryLevel::Critical);
        assert_eq!(t.level(Some(NOW + 7 * DAY - 1), NOW), ExpiryLevel::Critical);
        assert_eq!(t.level(Some(NOW + 7 * DAY), NOW), ExpiryLevel::Warning);
        assert_eq!(t.level(Some(NOW + 30 * DAY - 1), NOW), ExpiryLevel::Warning);
        assert_eq!(t.level(Some(NOW + 30 * DAY), NOW), ExpiryLevel::Ok);
        let odd = Thresholds {
            warning_days: 5,
            critical_days: 9,
        }
        .normalized();
        assert_eq!(odd.critical_days, 5);
        assert_eq!(odd.level(Some(NOW + 6 * DAY), NOW), ExpiryLevel::Ok);
    }

    #[test]
    fn preferences_round_trip_and_default_when_missing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join(PREFERENCES_FILE);
        assert_eq!(Preferences::load(&path).unwrap(), Preferences::default());
        let p = Preferences {
            thresholds: Thresholds {
                warning_days: 45,
                critical_days: 10,
            },
        };
        p.save(&path).unwrap();
        assert_eq!(Preferences::load(&path).unwrap(), p);
        std::fs::write(&path, "thresholds = 3").unwrap();
        assert!(Preferences::load(&path).is_err());
    }
}
