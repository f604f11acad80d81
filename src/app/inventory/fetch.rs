//! Filling a pane in the background: reading its cache, and walking every page of its inventory
//! from the source (then the service's second phase: PCA statuses, VOD certificates), with
//! progress along the way and everything needed to continue from a failed call. Runs on the
//! tokio runtime; never touches egui.

use super::event::InventoryEvent;
use super::pane::{PaneKey, Resume};
use super::rows::{Inventory, InventoryBuilder};
use crate::app::context::{ScopeId, now_unix};
use crate::app::runtime::{EventSender, Ticket};
use crate::app::source::{CertificateDetail, ListTarget, SharedSource};
use crate::model::{CertificateRow, Error, ErrorKind, Service};
use crate::store::RowRecord;
use crate::store::Store;
use std::sync::{Arc, Mutex};

/// Identifiers per DescribeClientCertificateStatus call.
pub(crate) const PCA_STATUS_BATCH: usize = 50;

/// Inventories at least this large also get a snapshot in the cache (reading it back is one
/// blob instead of a row at a time; small inventories load fast enough row by row).
pub(crate) const SNAPSHOT_MIN_ROWS: usize = 5_000;

pub(crate) fn read_cache(
    store: &Mutex<Store>,
    key: &crate::store::CacheKey,
) -> Result<Option<(Inventory, i64)>, String> {
    let lock = || {
        store
            .lock()
            .map_err(|_| "the cache is unavailable".to_string())
    };
    // The snapshot is decoded outside the lock, so the parts of an estate decode in parallel.
    let snapshot = lock()?.load_snapshot(key).map_err(|e| e.to_string())?;
    if let Some(snapshot) = snapshot
        && snapshot.format == super::rows::SNAPSHOT_FORMAT
        && let Some(mut inventory) = Inventory::from_snapshot(key.service, &snapshot.data)
    {
        inventory.apply_changes(&snapshot.changes);
        return Ok(Some((inventory, snapshot.fetched_at)));
    }
    let store = lock()?;
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
pub(crate) struct ProgressSender {
    pub(crate) events: EventSender<InventoryEvent>,
    pub(crate) key: PaneKey,
    pub(crate) scope: ScopeId,
    pub(crate) ticket: Ticket,
    /// Also send each page's rows ([`InventoryEvent::Listed`]).
    pub(crate) stream_rows: bool,
}

impl ProgressSender {
    /// Hands a page's rows to the pane's listing, when it keeps one.
    fn listed(&self, rows: Vec<CertificateRow>) {
        if self.stream_rows && !rows.is_empty() {
            self.events.send(InventoryEvent::Listed {
                key: self.key,
                scope: self.scope,
                ticket: self.ticket,
                rows,
            });
        }
    }

    fn send(&self, pages: u32, rows: u64, total: Option<u64>, phase: String) {
        self.events.send(InventoryEvent::Progress {
            key: self.key,
            scope: self.scope,
            ticket: self.ticket,
            pages,
            rows,
            total,
            phase,
        });
    }
}

/// VOD certificate details fetched at once (the API allows 30 per second).
const VOD_DETAIL_CONCURRENCY: usize = 4;

/// Walks every page from `resume`, then runs the service's second phase (PCA: statuses in
/// batches; VOD: each domain's certificate). A failed call ends the walk with everything needed to
/// continue from that call.
pub(crate) async fn walk(
    source: SharedSource,
    target: ListTarget,
    mut resume: Resume,
    progress: ProgressSender,
) -> InventoryEvent {
    let key = progress.key;
    let scope = progress.scope;
    let ticket = progress.ticket;
    let failed = |error: Error, resume: Resume| InventoryEvent::FetchFailed {
        key,
        scope,
        ticket,
        error,
        resume: Box::new(resume),
    };
    let mut total = None;
    if resume.second_phase_done.is_none() {
        if target.service == Service::Kms && target.kms_ids.is_empty() {
            return finish(key, scope, ticket, resume.builder);
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
                match source.pca_statuses(scope, batch).await {
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
                        let r = source.describe(scope, Service::Vod, &id, None).await;
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
    finish(key, scope, ticket, resume.builder)
}

fn finish(
    key: PaneKey,
    scope: ScopeId,
    ticket: Ticket,
    builder: InventoryBuilder,
) -> InventoryEvent {
    InventoryEvent::Fetched {
        key,
        scope,
        ticket,
        inventory: Box::new(builder.build()),
        fetched_at: now_unix(),
    }
}
