//! Background work of the app: cache reads and writes, page walks over a source, and the events
//! they send back. Runs on the tokio runtime; never touches egui.

use super::inventory::{Inventory, InventoryBuilder};
use super::pane::{LoadState, PaneKey, Resume};
use super::source::{
    CertificateDetail, ChangeOutcome, EsaSite, KmsCreated, ListTarget, ProviderError, SharedSource,
    StatusChange,
};
use super::view::{ViewInput, ViewOutput};
use super::{AppState, NoticeLevel, now_unix};
use crate::model::Service;
use crate::store::Store;
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};

/// Identifiers per DescribeClientCertificateStatus call.
pub(crate) const PCA_STATUS_BATCH: usize = 50;

/// Finished background work.
#[derive(Debug)]
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
        error: ProviderError,
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
        result: Result<CertificateDetail, ProviderError>,
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
        change: StatusChange,
        result: Result<ChangeOutcome, ProviderError>,
    },
    /// ESA sites.
    Sites(Result<Vec<EsaSite>, ProviderError>),
    /// KMS CreateCertificate finished.
    KmsCreated(Result<KmsCreated, ProviderError>),
}

impl Event {
    /// `true` for the one event each spawned task ends with (progress events are extra).
    pub(crate) fn completes_task(&self) -> bool {
        !matches!(self, Event::Progress { .. })
    }
}

/// Sends a task's final event; if the task is dropped first (aborted, panicked) it sends
/// [`Event::Nothing`] instead, so every spawned task reports exactly once.
pub(crate) struct Report {
    tx: Option<Sender<Event>>,
    repaint: Arc<dyn Fn() + Send + Sync>,
}

impl Report {
    pub(crate) fn new(tx: Sender<Event>, repaint: Arc<dyn Fn() + Send + Sync>) -> Self {
        Report {
            tx: Some(tx),
            repaint,
        }
    }

    pub(crate) fn send(&mut self, event: Event) {
        if let Some(tx) = self.tx.take() {
            // The receiver only goes away when the app closes; nothing is left to update then.
            let _ = tx.send(event);
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
        let account = self.workspace.account.clone();
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
            s.save_inventory(&cache_key, fetched_at, inventory.records())
                .map(|_| ())
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
        let target = self.list_target(key);
        let cursor = target.first_cursor();
        let resume = Resume {
            builder: InventoryBuilder::new(key.service),
            cursor,
            pages: 0,
            status_batches_done: None,
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
        }
    }

    fn run_fetch(&mut self, key: PaneKey, target: ListTarget, resume: Resume) {
        self.cancel_fetch(key);
        let Some(pane) = self.panes.get_mut(&key) else {
            return;
        };
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
            repaint: Arc::clone(&self.repaint),
            key,
            generation,
        };
        let abort = self.spawn(walk(source, target, resume, progress));
        if let Some(p) = self.panes.get_mut(&key) {
            p.abort = Some(abort);
        }
    }
}

fn read_cache(
    store: &Mutex<Store>,
    key: &crate::store::CacheKey,
) -> Result<Option<(Inventory, i64)>, String> {
    let store = store
        .lock()
        .map_err(|_| "the cache is unavailable".to_string())?;
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
    tx: Sender<Event>,
    repaint: Arc<dyn Fn() + Send + Sync>,
    key: PaneKey,
    generation: u64,
}

impl ProgressSender {
    fn send(&self, pages: u32, rows: u64, total: Option<u64>, phase: String) {
        let _ = self.tx.send(Event::Progress {
            key: self.key,
            generation: self.generation,
            pages,
            rows,
            total,
            phase,
        });
        (self.repaint)();
    }
}

/// Walks every page from `resume`, then (PCA) refreshes statuses in batches. A failed call ends
/// the walk with everything needed to continue from that call.
async fn walk(
    source: SharedSource,
    target: ListTarget,
    mut resume: Resume,
    progress: ProgressSender,
) -> Event {
    let key = progress.key;
    let generation = progress.generation;
    let failed = |error: ProviderError, resume: Resume| Event::FetchFailed {
        key,
        generation,
        error,
        resume: Box::new(resume),
    };
    let mut total = None;
    if resume.status_batches_done.is_none() {
        if target.service == Service::Kms && target.kms_ids.is_empty() {
            return finish(key, generation, resume.builder);
        }
        loop {
            match source.list_page(&target, resume.cursor.clone()).await {
                Ok(page) => {
                    let empty = page.rows.is_empty();
                    for row in &page.rows {
                        resume.builder.push_row(row);
                    }
                    resume.pages += 1;
                    total = page.total.or(total);
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
        resume.status_batches_done = Some(0);
    }
    if target.service == Service::Pca {
        let ids = resume.builder.ids();
        let batches: Vec<&[String]> = ids.chunks(PCA_STATUS_BATCH).collect();
        let mut done = resume.status_batches_done.unwrap_or(0);
        while done < batches.len() {
            progress.send(
                resume.pages,
                resume.builder.len() as u64,
                total,
                format!("Refreshing statuses {}/{}", done + 1, batches.len()),
            );
            match source.pca_statuses(batches[done].to_vec()).await {
                Ok(answers) => {
                    let updates: Vec<_> = answers
                        .into_iter()
                        .map(|a| (a.serial, a.status, a.raw_status))
                        .collect();
                    resume.builder.set_status_by_serial(&updates);
                    done += 1;
                    resume.status_batches_done = Some(done);
                }
                Err(error) => return failed(error, resume),
            }
        }
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
