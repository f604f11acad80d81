//! Background work of the app: cache reads and writes, page walks over a source, and the events
//! they send back. Runs on the tokio runtime; never touches egui.

use super::inventory::{Inventory, InventoryBuilder, next_build_id};
use super::pane::{LoadState, PaneKey, Resume};
use super::source::{CertificateDetail, EsaSite, KmsCreated, ListTarget, SharedSource};
use super::view::{ViewInput, ViewOutput};
use super::{AppState, NoticeLevel, now_unix};
use crate::jobs::Applied;
use crate::model::{CertificateRow, Change, Error, ErrorKind, Service};
use crate::store::RowRecord;
use crate::store::Store;
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};

/// Identifiers per DescribeClientCertificateStatus call.
pub(crate) const PCA_STATUS_BATCH: usize = 50;

/// Finished background work.
pub(crate) enum Event {
    /// Nothing to apply (a write that worked, a dialog that was cancelled).
    Nothing,
    /// A message for the notice area.
    Notice(NoticeLevel, String),
    /// Known KMS ids from the store.
    KmsIds(Result<Vec<String>, String>),
    /// A cached inventory (or none).
    CacheLoaded {
        key: PaneKey,
        result: Result<Option<(Box<Inventory>, i64)>, String>,
    },
    /// Walk progress.
    Progress {
        key: PaneKey,
        generation: u64,
        pages: u32,
        rows: u64,
        total: Option<u64>,
        phase: String,
    },
    /// Rows a first walk just listed (see `Pane::listed`): the Overview counts them before the
    /// walk ends.
    Listed {
        key: PaneKey,
        generation: u64,
        rows: Vec<CertificateRow>,
    },
    /// A walk finished.
    Fetched {
        key: PaneKey,
        generation: u64,
        inventory: Box<Inventory>,
        fetched_at: i64,
    },
    /// A walk stopped at a failed page.
    FetchFailed {
        key: PaneKey,
        generation: u64,
        error: Error,
        resume: Box<Resume>,
    },
    /// A filter/sort job finished (`output` is `None` when it was superseded).
    ViewReady {
        key: PaneKey,
        generation: u64,
        input: Box<ViewInput>,
        output: Option<ViewOutput>,
    },
    /// A describe call finished.
    Detail {
        key: PaneKey,
        id: String,
        result: Result<CertificateDetail, Error>,
    },
    /// The cache had a PEM for a row.
    CachedPem {
        key: PaneKey,
        id: String,
        pem: String,
    },
    /// A status change finished.
    Changed {
        key: PaneKey,
        id: String,
        change: Change,
        result: Result<Applied, Error>,
    },
    /// ESA sites.
    Sites(Result<Vec<EsaSite>, Error>),
    /// KMS CreateCertificate finished.
    KmsCreated(Result<KmsCreated, Error>),
    /// The profiles file was read or written (with what to tell the user).
    Profiles(
        Result<crate::profiles::ProfileStore, String>,
        Option<String>,
    ),
    /// A connection test finished (profile name, `""` for the form).
    Tested(String, Result<String, Error>),
    /// A workspace was resolved.
    Opened(Result<(SharedSource, super::Workspace), String>),
    /// Bulk work (dry run, job progress, journal and audit reads).
    Bulk(super::bulk::BulkEvent),
    /// Something of the import flow.
    Import(Box<super::import_flow::ImportEvent>),
}

impl Event {
    /// `true` for the one event each spawned task ends with (progress events are extra).
    pub(crate) fn completes_task(&self) -> bool {
        match self {
            Event::Progress { .. } | Event::Listed { .. } => false,
            Event::Bulk(e) => e.completes_task(),
            _ => true,
        }
    }

    /// `true` for results that belong to the workspace that started them.
    pub(crate) fn is_workspace_bound(&self) -> bool {
        !matches!(
            self,
            Event::Nothing
                | Event::Notice(..)
                | Event::ViewReady { .. }
                | Event::Profiles(..)
                | Event::Tested(..)
                | Event::Opened(..)
                | Event::Bulk(..)
        )
    }
}

/// Sends a task's final event; if the task is dropped first (aborted, panicked) it sends
/// [`Event::Nothing`] instead, so every spawned task reports exactly once.
pub(crate) struct Report {
    tx: Option<Sender<(u64, Event)>>,
    repaint: Arc<dyn Fn() + Send + Sync>,
    epoch: u64,
}

impl Report {
    pub(crate) fn new(
        tx: Sender<(u64, Event)>,
        repaint: Arc<dyn Fn() + Send + Sync>,
        epoch: u64,
    ) -> Self {
        Report {
            tx: Some(tx),
            repaint,
            epoch,
        }
    }

    pub(crate) fn send(&mut self, event: Event) {
        if let Some(tx) = self.tx.take() {
            // The receiver only goes away when the app closes; nothing is left to update then.
            let _ = tx.send((self.epoch, event));
            (self.repaint)();
        }
    }
}

impl Drop for Report {
    fn drop(&mut self) {
        self.send(Event::Nothing);
    }
}

impl AppState {
    pub(super) fn load_kms_ids(&mut self) {
        let Some(store) = self.store.clone() else {
            return;
        };
        let account = self
            .workspace
            .account_for(crate::model::Provider::Alibaba)
            .to_string();
        self.kms.ids_loading = true;
        self.spawn_blocking(move || {
            let ids = match store.lock() {
                Ok(s) => s.kms_ids(&account).map_err(|e| e.to_string()),
                Err(_) => Err("the cache is unavailable".to_string()),
            };
            Event::KmsIds(ids)
        });
    }

    pub(super) fn load_cache(&mut self, key: PaneKey) {
        let Some(store) = self.store.clone() else {
            return;
        };
        if let Some(p) = self.panes.get_mut(&key) {
            p.load = LoadState::ReadingCache;
        }
        let cache_key = self.cache_key(key);
        self.spawn_blocking(move || {
            let result =
                read_cache(&store, &cache_key).map(|o| o.map(|(inv, at)| (Box::new(inv), at)));
            Event::CacheLoaded { key, result }
        });
    }

    pub(super) fn save_cache(&mut self, key: PaneKey, inventory: Inventory, fetched_at: i64) {
        let cache_key = self.cache_key(key);
        self.persist(move |s| {
            s.save_inventory(&cache_key, fetched_at, inventory.records())?;
            if inventory.len() >= SNAPSHOT_MIN_ROWS {
                let data = inventory.to_snapshot();
                s.save_snapshot(
                    &cache_key,
                    fetched_at,
                    super::inventory::SNAPSHOT_FORMAT,
                    &data,
                )?;
            }
            Ok(())
        });
    }

    fn list_target(&self, key: PaneKey) -> ListTarget {
        ListTarget {
            service: key.service,
            site_id: key.site_id,
            kms_ids: Arc::clone(&self.kms.known_ids),
        }
    }

    /// Starts walking every page of `key`'s inventory (restarting a walk in progress).
    pub(super) fn start_fetch(&mut self, key: PaneKey) {
        if key.service == Service::Kms && self.kms.ids_loading {
            self.kms.fetch_waiting = true;
            return;
        }
        let target = self.list_target(key);
        let cursor = target.first_cursor();
        let resume = Resume {
            builder: InventoryBuilder::new(key.service),
            cursor,
            pages: 0,
            second_phase_done: None,
        };
        self.run_fetch(key, target, resume);
    }

    pub(super) fn retry_fetch(&mut self, key: PaneKey) {
        let Some(resume) = self.panes.get_mut(&key).and_then(|p| p.resume.take()) else {
            self.start_fetch(key);
            return;
        };
        let target = self.list_target(key);
        self.run_fetch(key, target, resume);
    }

    pub(super) fn cancel_fetch(&mut self, key: PaneKey) {
        if let Some(p) = self.panes.get_mut(&key) {
            p.load_generation += 1;
            if let Some(abort) = p.abort.take() {
                abort.abort();
            }
            p.load = LoadState::Idle;
            p.resume = None;
            p.listed = None;
        }
    }

    fn run_fetch(&mut self, key: PaneKey, target: ListTarget, resume: Resume) {
        // A resumed walk continues the listing it left; a new one starts its own.
        let listed = self.panes.get_mut(&key).and_then(|p| p.listed.take());
        self.cancel_fetch(key);
        let Some(pane) = self.panes.get_mut(&key) else {
            return;
        };
        pane.listed = if resume.pages > 0 {
            listed
        } else if pane.inventory.is_empty() && pane.incoming.is_none() {
            Some((next_build_id(), InventoryBuilder::new(key.service)))
        } else {
            None
        };
        let stream_rows = pane.listed.is_some();
        pane.refreshed_once = true;
        let generation = pane.load_generation;
        pane.load = LoadState::Fetching {
            pages: resume.pages,
            rows: resume.builder.len() as u64,
            total: None,
            phase: "Listing".into(),
        };
        let source = Arc::clone(&self.source);
        let progress = ProgressSender {
            tx: self.tx.clone(),
            epoch: self.epoch,
            repaint: Arc::clone(&self.repaint),
            key,
            generation,
            stream_rows,
        };
        let abort = self.spawn(walk(source, target, resume, progress));
        if let Some(p) = self.panes.get_mut(&key) {
            p.abort = Some(abort);
        }
    }
}

/// Inventories at least this large also get a snapshot in the cache (reading it back is one
/// blob instead of a row at a time; small inventories load fast enough row by row).
pub(crate) const SNAPSHOT_MIN_ROWS: usize = 5_000;

fn read_cache(
    store: &Mutex<Store>,
    key: &crate::store::CacheKey,
) -> Result<Option<(Inventory, i64)>, String> {
    let store = store
        .lock()
        .map_err(|_| "the cache is unavailable".to_string())?;
    if let Some(snapshot) = store.load_snapshot(key).map_err(|e| e.to_string())?
        && snapshot.format == super::inventory::SNAPSHOT_FORMAT
        && let Some(mut inventory) = Inventory::from_snapshot(key.service, &snapshot.data)
    {
        inventory.apply_changes(&snapshot.changes);
        return Ok(Some((inventory, snapshot.fetched_at)));
    }
    let capacity = store
        .fetch_info(key)
        .map_err(|e| e.to_string())?
        .map_or(0, |i| i.row_count as usize);
    let mut builder = InventoryBuilder::with_unique_ids(key.service, capacity);
    let info = store
        .load_inventory(key, |r| builder.push(r))
        .map_err(|e| e.to_string())?;
    Ok(info.map(|i| (builder.build(), i.fetched_at)))
}

/// Sends progress events of one walk (they do not count as finished work).
struct ProgressSender {
    tx: Sender<(u64, Event)>,
    epoch: u64,
    repaint: Arc<dyn Fn() + Send + Sync>,
    key: PaneKey,
    generation: u64,
    /// Also send each page's rows ([`Event::Listed`]).
    stream_rows: bool,
}

impl ProgressSender {
    /// Hands a page's rows to the pane's listing, when it keeps one.
    fn listed(&self, rows: Vec<CertificateRow>) {
        if self.stream_rows && !rows.is_empty() {
            let _ = self.tx.send((
                self.epoch,
                Event::Listed {
                    key: self.key,
                    generation: self.generation,
                    rows,
                },
            ));
        }
    }

    fn send(&self, pages: u32, rows: u64, total: Option<u64>, phase: String) {
        let _ = self.tx.send((
            self.epoch,
            Event::Progress {
                key: self.key,
                generation: self.generation,
                pages,
                rows,
                total,
                phase,
            },
        ));
        (self.repaint)();
    }
}

/// VOD certificate details fetched at once (the API allows 30 per second).
const VOD_DETAIL_CONCURRENCY: usize = 4;

/// Walks every page from `resume`, then runs the service's second phase (PCA: statuses in
/// batches; VOD: each domain's certificate). A failed call ends the walk with everything needed to
/// continue from that call.
async fn walk(
    source: SharedSource,
    target: ListTarget,
    mut resume: Resume,
    progress: ProgressSender,
) -> Event {
    let key = progress.key;
    let generation = progress.generation;
    let failed = |error: Error, resume: Resume| Event::FetchFailed {
        key,
        generation,
        error,
        resume: Box::new(resume),
    };
    let mut total = None;
    if resume.second_phase_done.is_none() {
        if target.service == Service::Kms && target.kms_ids.is_empty() {
            return finish(key, generation, resume.builder);
        }
        loop {
            let cursor = resume.cursor.clone();
            match source.list_page(&target, cursor).await {
                Ok(page) => {
                    let empty = page.rows.is_empty();
                    for (i, row) in page.rows.iter().enumerate() {
                        resume
                            .builder
                            .push_row_with_extra(row, page.extras.get(i).map(String::as_str));
                    }
                    resume.pages += 1;
                    total = page.total.or(total);
                    progress.listed(page.rows);
                    progress.send(
                        resume.pages,
                        resume.builder.len() as u64,
                        total,
                        "Listing".into(),
                    );
                    match page.next {
                        // An empty page that still points further would loop forever.
                        Some(next) if !empty => resume.cursor = next,
                        _ => break,
                    }
                }
                Err(error) => return failed(error, resume),
            }
        }
        resume.second_phase_done = Some(0);
    }
    let ids = resume.builder.ids();
    let mut done = resume.second_phase_done.unwrap_or(0);
    match target.service {
        Service::Pca => {
            let batches: Vec<&[String]> = ids.chunks(PCA_STATUS_BATCH).collect();
            while done < batches.len() {
                progress.send(
                    resume.pages,
                    resume.builder.len() as u64,
                    total,
                    format!("Refreshing statuses {}/{}", done + 1, batches.len()),
                );
                let batch = batches[done].to_vec();
                match source.pca_statuses(batch).await {
                    Ok(answers) => {
                        let updates: Vec<_> = answers
                            .into_iter()
                            .map(|a| (a.serial, a.status, a.raw_status))
                            .collect();
                        resume.builder.set_status_by_serial(&updates);
                        done += 1;
                        resume.second_phase_done = Some(done);
                    }
                    Err(error) => return failed(error, resume),
                }
            }
        }
        Service::Vod => {
            while done < ids.len() {
                progress.send(
                    resume.pages,
                    resume.builder.len() as u64,
                    total,
                    format!("Reading certificates {}/{}", done + 1, ids.len()),
                );
                let chunk = &ids[done..(done + VOD_DETAIL_CONCURRENCY).min(ids.len())];
                let mut calls = tokio::task::JoinSet::new();
                for (i, id) in chunk.iter().enumerate() {
                    let source = Arc::clone(&source);
                    let id = id.clone();
                    calls.spawn(async move {
                        let r = source.describe(Service::Vod, &id, None).await;
                        (i, r)
                    });
                }
                let mut results: Vec<Option<Result<CertificateDetail, Error>>> =
                    vec![None; chunk.len()];
                while let Some(joined) = calls.join_next().await {
                    if let Ok((i, r)) = joined {
                        results[i] = Some(r);
                    }
                }
                for r in results {
                    match r {
                        Some(Ok(detail)) => {
                            let record = RowRecord {
                                extra: detail.extra.as_deref(),
                                ..RowRecord::from(&detail.row)
                            };
                            resume.builder.update_by_id(record);
                        }
                        Some(Err(error)) => return failed(error, resume),
                        None => {
                            return failed(
                                Error::internal(
                                    ErrorKind::Other,
                                    "Internal",
                                    "a detail call stopped unexpectedly",
                                ),
                                resume,
                            );
                        }
                    }
                }
                done += chunk.len();
                resume.second_phase_done = Some(done);
            }
        }
        _ => {}
    }
    finish(key, generation, resume.builder)
}

fn finish(key: PaneKey, generation: u64, builder: InventoryBuilder) -> Event {
    Event::Fetched {
        key,
        generation,
        inventory: Box::new(builder.build()),
        fetched_at: now_unix(),
    }
}
