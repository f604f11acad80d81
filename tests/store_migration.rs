//! A database written by the last release before typed codes (schema 4, commit 79ad04b; see
//! tests/fixtures/store/README.md) opens with today's code: every job, item, audit row and cached
//! row reads back, services and changes as their one word each.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use certdesk::model::{CertStatus, Change, Outcome, Service};
use certdesk::store::journal::{AuditResult, ItemState, JobState, Journal};
use certdesk::store::{CacheKey, Store};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// A copy of the fixture in a temporary directory (opening migrates it in place).
fn fixture_copy() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("certdesk.sqlite3");
    std::fs::copy("tests/fixtures/store/schema4-79ad04b.sqlite3", &path).unwrap();
    (dir, path)
}

#[test]
fn jobs_items_and_audit_rows_of_schema_4_read_back_in_one_vocabulary() {
    let (_dir, path) = fixture_copy();
    let journal = Journal::open(&path).unwrap();

    let jobs = journal.jobs().unwrap();
    assert_eq!(jobs.len(), 3);
    let mut by_kind: BTreeMap<(Service, Change, &str), u32> = BTreeMap::new();
    for (job, counts) in &jobs {
        let state = job.state.as_str();
        *by_kind
            .entry((job.service, job.operation, state))
            .or_default() += counts.succeeded + counts.pending;
        let items = journal.items(&job.id).unwrap();
        assert_eq!(
            items.len() as u32,
            counts.pending + counts.sent + counts.succeeded + counts.failed
        );
        for item in &items {
            match item.state {
                ItemState::Succeeded => assert_eq!(item.outcome, Some(Outcome::Applied)),
                ItemState::Pending => assert_eq!(item.outcome, None),
                other => panic!("{other:?} in the fixture"),
            }
        }
    }
    assert_eq!(
        by_kind,
        BTreeMap::from([
            ((Service::Kms, Change::Disable, "finished"), 7),
            ((Service::Pca, Change::Revoke, "cancelled"), 26),
            ((Service::Pca, Change::Revoke, "finished"), 3),
        ])
    );
    let unfinished = journal.unfinished_jobs().unwrap();
    assert_eq!(unfinished.len(), 1);
    assert_eq!(unfinished[0].0.state, JobState::Cancelled);

    // The status buttons of schema 4 wrote "deactivate", "activate" (KMS, IoTDA) and
    // "turn https off"; bulk jobs wrote "disable". Now each change has one word.
    let audit = journal.audit(None).unwrap();
    assert_eq!(audit.len(), 22);
    assert!(
        audit
            .iter()
            .all(|e| e.result == AuditResult::Done(Outcome::Applied))
    );
    let words: Vec<(Service, Change, bool)> = audit
        .iter()
        .map(|e| (e.service, e.operation, e.job_id.is_some()))
        .collect();
    let single: Vec<(Service, Change)> = words
        .iter()
        .filter(|(_, _, job)| !job)
        .map(|(s, c, _)| (*s, *c))
        .collect();
    assert_eq!(
        single,
        vec![
            (Service::Kms, Change::Disable),
            (Service::Kms, Change::Enable),
            (Service::Kms, Change::Revoke),
            (Service::Pca, Change::Revoke),
            (Service::Vod, Change::HttpsOff),
            (Service::Iotda, Change::Disable),
            (Service::Iotda, Change::Enable),
            (Service::Iotda, Change::Delete),
            (Service::Esa, Change::Revoke),
            (Service::Esa, Change::Activate),
        ]
    );
    // The KMS "disable" of a button and of a bulk job now read the same.
    assert!(words.contains(&(Service::Kms, Change::Disable, true)));
    assert!(words.contains(&(Service::Kms, Change::Disable, false)));
    // Filters see the codes.
    assert_eq!(journal.audit(Some("https-off")).unwrap().len(), 1);
}

#[test]
fn the_cache_of_schema_4_reads_back_for_every_service() {
    let (_dir, path) = fixture_copy();
    let store = Store::open(&path).unwrap();
    assert_eq!(
        store.schema_version().unwrap(),
        certdesk::store::migrations::LATEST_VERSION
    );
    let mut counts = BTreeMap::new();
    for service in [Service::Kms, Service::Pca, Service::Vod, Service::Iotda] {
        let mut rows = Vec::new();
        let info = store
            .load_inventory(&CacheKey::new("ops", service), |r| {
                rows.push((r.id.to_string(), r.status))
            })
            .unwrap();
        assert!(info.is_some(), "{service:?} was cached");
        assert!(rows.iter().all(|(_, s)| *s != CertStatus::Unknown));
        counts.insert(service, rows.len());
    }
    for site in [1, 2] {
        let mut n = 0;
        store
            .load_inventory(&CacheKey::esa_site("ops", site), |_| n += 1)
            .unwrap();
        counts.insert(
            Service::Esa,
            counts.get(&Service::Esa).copied().unwrap_or(0) + n,
        );
    }
    assert_eq!(
        counts,
        BTreeMap::from([
            (Service::Kms, 10),
            (Service::Pca, 40),
            (Service::Esa, 80),
            (Service::Vod, 40),
            (Service::Iotda, 39),
        ])
    );
    assert_eq!(store.kms_ids("ops").unwrap().len(), 10);
}

#[test]
fn schema_4_audit_rows_are_hash_chained_in_order_by_the_migration() {
    let (_dir, path) = fixture_copy();
    let journal = Journal::open(&path).unwrap();
    let rows = journal.audit(None).unwrap().len() as u64;
    let report = journal.verify_audit().unwrap();
    assert!(report.is_intact(), "{}", report.summary());
    assert!(rows > 0 && report.rows >= rows, "{report:?}");
    // Reopening (no migration left to run) keeps the chain as it is.
    drop(journal);
    let again = Journal::open(&path).unwrap().verify_audit().unwrap();
    assert_eq!(again, report);
}
