//! Snapshots of large inventories: the whole inventory as one blob (its format belongs to the
//! caller; the store only keeps bytes), plus the single-row changes made since, so a start-up
//! reads a million rows in one go and still sees the latest statuses. A snapshot is only used
//! while it matches the inventory's last full fetch. ESA (per-site) inventories have none.

use super::cache::CacheKey;
use super::{Store, StoreError};
use crate::model::CertStatus;
use rusqlite::{OptionalExtension, params};

/// A change made to one row after the snapshot was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotChange {
    /// Provider id.
    pub id: String,
    /// The new status and its provider text; `None` when the row was deleted.
    pub status: Option<(CertStatus, String)>,
}

/// A snapshot read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// When the inventory was fetched.
    pub fetched_at: i64,
    /// Caller-defined format number of `data`.
    pub format: i64,
    /// The bytes.
    pub data: Vec<u8>,
    /// Changes since, in no particular order.
    pub changes: Vec<SnapshotChange>,
}

impl Store {
    /// Stores the snapshot of `key`'s inventory as fetched at `fetched_at` (the same time given to
    /// [`Store::save_inventory`]) and forgets older changes. ESA keys are ignored.
    pub fn save_snapshot(
        &mut self,
        key: &CacheKey,
        fetched_at: i64,
        format: i64,
        data: &[u8],
    ) -> Result<(), StoreError> {
        if key.site_id.is_some() {
            return Ok(());
        }
        let service = key.service.code();
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT OR REPLACE INTO inventory_snapshot (account, service, fetched_at, format, data)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![key.account, service, fetched_at, format, data],
        )?;
        tx.execute(
            "DELETE FROM inventory_change WHERE account = ?1 AND service = ?2",
            params![key.account, service],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Forgets `key`'s snapshot (the rows stay).
    pub fn drop_snapshot(&mut self, key: &CacheKey) -> Result<(), StoreError> {
        self.conn.execute(
            "DELETE FROM inventory_snapshot WHERE account = ?1 AND service = ?2",
            params![key.account, key.service.code()],
        )?;
        Ok(())
    }

    /// `key`'s snapshot with the changes since, when one matches the last full fetch.
    pub fn load_snapshot(&self, key: &CacheKey) -> Result<Option<Snapshot>, StoreError> {
        if key.site_id.is_some() {
            return Ok(None);
        }
        let Some(info) = self.fetch_info(key)? else {
            return Ok(None);
        };
        let service = key.service.code();
        let found = self
            .conn
            .query_row(
                "SELECT fetched_at, format, data FROM inventory_snapshot
                 WHERE account = ?1 AND service = ?2",
                params![key.account, service],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, Vec<u8>>(2)?,
                    ))
                },
            )
            .optional()?;
        let Some((fetched_at, format, data)) = found else {
            return Ok(None);
        };
        if fetched_at != info.fetched_at {
            // Written for an older fetch than the rows: not the inventory any more.
            return Ok(None);
        }
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, status, raw_status, removed FROM inventory_change
             WHERE account = ?1 AND service = ?2",
        )?;
        let changes = stmt
            .query_map(params![key.account, service], |r| {
                let removed: i64 = r.get(3)?;
                Ok(SnapshotChange {
                    id: r.get(0)?,
                    status: if removed != 0 {
                        None
                    } else {
                        Some((CertStatus::from_code(r.get_ref(1)?.as_str()?), r.get(2)?))
                    },
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(Snapshot {
            fetched_at,
            format,
            data,
            changes,
        }))
    }

    /// Records a single-row change for the snapshot of `key` (no-op without one).
    pub(super) fn record_change(
        &mut self,
        key: &CacheKey,
        id: &str,
        status: Option<(CertStatus, &str)>,
    ) -> Result<(), StoreError> {
        if key.site_id.is_some() {
            return Ok(());
        }
        let (status, raw, removed) = match status {
            Some((s, raw)) => (s.code(), raw, 0),
            None => ("unknown", "", 1),
        };
        self.conn.execute(
            "INSERT OR REPLACE INTO inventory_change (account, service, id, status, raw_status, removed)
             SELECT ?1, ?2, ?3, ?4, ?5, ?6
             WHERE EXISTS (SELECT 1 FROM inventory_snapshot WHERE account = ?1 AND service = ?2)",
            params![key.account, key.service.code(), id, status, raw, removed],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Service;
    use crate::store::RowRecord;

    fn record(id: &str) -> RowRecord<'_> {
        RowRecord {
            id,
            name: id,
            status: CertStatus::Active,
            raw_status: "ACTIVE",
            not_after: None,
            serial: None,
            fingerprint: None,
            site_id: None,
            extra: None,
            pem: None,
        }
    }

    #[test]
    fn a_snapshot_comes_back_with_the_changes_made_since() {
        let mut store = Store::open_in_memory().unwrap();
        let key = CacheKey::new("prod", Service::Iotda);
        assert_eq!(store.load_snapshot(&key).unwrap(), None);
        store
            .save_inventory(&key, 100, [record("a"), record("b")])
            .unwrap();
        // A change before any snapshot is not recorded as a change.
        store
            .update_status(&key, "a", CertStatus::Inactive, "INACTIVE")
            .unwrap();
        store.save_snapshot(&key, 100, 1, b"columns").unwrap();
        store
            .update_status(&key, "b", CertStatus::Inactive, "INACTIVE")
            .unwrap();
        store.remove_row(&key, "a").unwrap();

        let snap = store.load_snapshot(&key).unwrap().unwrap();
        assert_eq!(
            (snap.fetched_at, snap.format, snap.data.as_slice()),
            (100, 1, &b"columns"[..])
        );
        let mut changes = snap.changes;
        changes.sort_by(|x, y| x.id.cmp(&y.id));
        assert_eq!(
            changes,
            [
                SnapshotChange {
                    id: "a".into(),
                    status: None
                },
                SnapshotChange {
                    id: "b".into(),
                    status: Some((CertStatus::Inactive, "INACTIVE".into()))
                },
            ]
        );

        // A newer full fetch without a snapshot makes the old one unusable.
        store.save_inventory(&key, 200, [record("c")]).unwrap();
        assert_eq!(store.load_snapshot(&key).unwrap(), None);
        // A new snapshot starts with no changes.
        store.save_snapshot(&key, 200, 1, b"new").unwrap();
        assert!(
            store
                .load_snapshot(&key)
                .unwrap()
                .unwrap()
                .changes
                .is_empty()
        );
        store.drop_snapshot(&key).unwrap();
        assert_eq!(store.load_snapshot(&key).unwrap(), None);
    }

    #[test]
    fn esa_sites_have_no_snapshot() {
        let mut store = Store::open_in_memory().unwrap();
        let key = CacheKey::esa_site("prod", 7);
        store.save_inventory(&key, 1, [record("e")]).unwrap();
        store.save_snapshot(&key, 1, 1, b"x").unwrap();
        assert_eq!(store.load_snapshot(&key).unwrap(), None);
    }
}
