//! The inventory cache: the last fetched rows of every (account, service[, ESA site]) so the next
//! start shows them at once, and the KMS certificate ids certdesk knows.

use super::{Store, StoreError};
use crate::model::{CertStatus, CertificateRow, Service};
use rusqlite::{OptionalExtension, params};

/// Which inventory: an account (profile name, or `demo`), a service and, for ESA, the site.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CacheKey {
    /// Profile name (or `demo` for the simulated workspace).
    pub account: String,
    /// The service.
    pub service: Service,
    /// ESA site the certificates belong to; `None` for every other service.
    pub site_id: Option<i64>,
}

impl CacheKey {
    /// The key of a service-wide inventory (everything but ESA).
    pub fn new(account: impl Into<String>, service: Service) -> Self {
        CacheKey {
            account: account.into(),
            service,
            site_id: None,
        }
    }

    /// The key of one ESA site's client certificates.
    pub fn esa_site(account: impl Into<String>, site_id: i64) -> Self {
        CacheKey {
            account: account.into(),
            service: Service::Esa,
            site_id: Some(site_id),
        }
    }

    fn scope(&self) -> String {
        self.site_id
            .map(|s| format!("site:{s}"))
            .unwrap_or_default()
    }
}

/// One cached row, borrowed, so a million rows stream in and out without a copy per field.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RowRecord<'a> {
    /// Provider id.
    pub id: &'a str,
    /// Display name.
    pub name: &'a str,
    /// Normalised status.
    pub status: CertStatus,
    /// The provider's own status text.
    pub raw_status: &'a str,
    /// Expiry, UNIX seconds.
    pub not_after: Option<i64>,
    /// Serial (hex).
    pub serial: Option<&'a str>,
    /// SHA-256 fingerprint (hex).
    pub fingerprint: Option<&'a str>,
    /// ESA site id.
    pub site_id: Option<i64>,
    /// Extra text shown in the table (certificate type, key...).
    pub extra: Option<&'a str>,
    /// PEM. Saved when present; never returned by [`Store::load_inventory`] (it would cost about
    /// a kilobyte per row): ask [`Store::cached_pem`] for one row's.
    pub pem: Option<&'a str>,
}

impl<'a> From<&'a CertificateRow> for RowRecord<'a> {
    fn from(row: &'a CertificateRow) -> Self {
        RowRecord {
            id: &row.id,
            name: &row.name,
            status: row.status,
            raw_status: &row.raw_status,
            not_after: row.not_after,
            serial: row.serial.as_deref(),
            fingerprint: row.fingerprint_sha256.as_deref(),
            site_id: row.site_id,
            extra: None,
            pem: row.pem.as_deref(),
        }
    }
}

impl RowRecord<'_> {
    /// An owned model row of `service`.
    pub fn to_row(&self, service: Service) -> CertificateRow {
        CertificateRow {
            service,
            id: self.id.to_string(),
            name: self.name.to_string(),
            status: self.status,
            raw_status: self.raw_status.to_string(),
            not_after: self.not_after,
            serial: self.serial.map(str::to_string),
            fingerprint_sha256: self.fingerprint.map(str::to_string),
            site_id: self.site_id,
            pem: self.pem.map(str::to_string),
        }
    }
}

/// When an inventory was last fetched completely, and how many rows it had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FetchInfo {
    /// UNIX seconds.
    pub fetched_at: i64,
    /// Rows saved.
    pub row_count: u64,
}

pub(super) fn service_key(service: Service) -> &'static str {
    match service {
        Service::Kms => "kms",
        Service::Pca => "pca",
        Service::Esa => "esa",
        Service::Vod => "vod",
        Service::Iotda => "iotda",
        Service::Cdn => "cdn",
        Service::Ssl => "ssl",
        Service::Sts => "sts",
    }
}

pub(super) fn status_key(status: CertStatus) -> &'static str {
    match status {
        CertStatus::Active => "active",
        CertStatus::Inactive => "inactive",
        CertStatus::Revoked => "revoked",
        CertStatus::Pending => "pending",
        CertStatus::Unknown => "unknown",
    }
}

pub(super) fn status_from_key(key: &str) -> CertStatus {
    match key {
        "active" => CertStatus::Active,
        "inactive" => CertStatus::Inactive,
        "revoked" => CertStatus::Revoked,
        "pending" => CertStatus::Pending,
        _ => CertStatus::Unknown,
    }
}

fn record_of<'r>(r: &'r rusqlite::Row<'_>) -> rusqlite::Result<RowRecord<'r>> {
    Ok(RowRecord {
        id: r.get_ref(0)?.as_str()?,
        name: r.get_ref(1)?.as_str()?,
        status: status_from_key(r.get_ref(2)?.as_str()?),
        raw_status: r.get_ref(3)?.as_str()?,
        not_after: r.get(4)?,
        serial: r.get_ref(5)?.as_str_or_null()?,
        fingerprint: r.get_ref(6)?.as_str_or_null()?,
        site_id: r.get(7)?,
        extra: r.get_ref(8)?.as_str_or_null()?,
        pem: None,
    })
}

impl Store {
    /// Replaces the cached inventory of `key` with `rows` (one transaction: readers see the old or
    /// the new inventory, never half), and records `fetched_at`. Returns the rows saved.
    pub fn save_inventory<'a>(
        &mut self,
        key: &CacheKey,
        fetched_at: i64,
        rows: impl IntoIterator<Item = RowRecord<'a>>,
    ) -> Result<u64, StoreError> {
        let service = service_key(key.service);
        let tx = self.conn.transaction()?;
        match key.site_id {
            Some(site) => tx.execute(
                "DELETE FROM inventory WHERE account = ?1 AND service = ?2 AND site_id = ?3",
                params![key.account, service, site],
            )?,
            None => tx.execute(
                "DELETE FROM inventory WHERE account = ?1 AND service = ?2",
                params![key.account, service],
            )?,
        };
        let mut count = 0u64;
        {
            let mut insert = tx.prepare(
                "INSERT OR REPLACE INTO inventory (account, service, id, name, status, raw_status,
                    not_after, serial, fingerprint, site_id, pem, fetched_at, extra)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            )?;
            for r in rows {
                insert.execute(params![
                    key.account,
                    service,
                    r.id,
                    r.name,
                    status_key(r.status),
                    r.raw_status,
                    r.not_after,
                    r.serial,
                    r.fingerprint,
                    r.site_id.or(key.site_id),
                    r.pem,
                    fetched_at,
                    r.extra
                ])?;
                count += 1;
            }
        }
        tx.execute(
            "INSERT OR REPLACE INTO inventory_fetch (account, service, scope, fetched_at, row_count)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![key.account, service, key.scope(), fetched_at, count as i64],
        )?;
        tx.commit()?;
        Ok(count)
    }

    /// When `key`'s inventory was last saved; `None` if never.
    pub fn fetch_info(&self, key: &CacheKey) -> Result<Option<FetchInfo>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT fetched_at, row_count FROM inventory_fetch
                 WHERE account = ?1 AND service = ?2 AND scope = ?3",
                params![key.account, service_key(key.service), key.scope()],
                |r| {
                    Ok(FetchInfo {
                        fetched_at: r.get(0)?,
                        row_count: r.get::<_, i64>(1)?.max(0) as u64,
                    })
                },
            )
            .optional()?)
    }

    /// Streams `key`'s cached rows into `each` (without their PEM) and returns when they were
    /// fetched; `Ok(None)` (and no call) when the inventory was never saved.
    pub fn load_inventory(
        &self,
        key: &CacheKey,
        mut each: impl FnMut(RowRecord<'_>),
    ) -> Result<Option<FetchInfo>, StoreError> {
        let Some(info) = self.fetch_info(key)? else {
            return Ok(None);
        };
        let service = service_key(key.service);
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, name, status, raw_status, not_after, serial, fingerprint, site_id, extra
             FROM inventory WHERE account = ?1 AND service = ?2
               AND (?3 IS NULL OR site_id = ?3)",
        )?;
        let mut rows = stmt.query(params![key.account, service, key.site_id])?;
        while let Some(r) = rows.next()? {
            each(record_of(r)?);
        }
        Ok(Some(info))
    }

    /// The cached PEM of one row, when the list call returned one.
    pub fn cached_pem(&self, key: &CacheKey, id: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT pem FROM inventory WHERE account = ?1 AND service = ?2 AND id = ?3",
                params![key.account, service_key(key.service), id],
                |r| r.get::<_, Option<String>>(0),
            )
            .optional()?
            .flatten())
    }

    /// Inserts or replaces one row (after a status change or a describe call), keeping the
    /// inventory's fetch time.
    pub fn upsert_row(
        &mut self,
        key: &CacheKey,
        row: RowRecord<'_>,
        fetched_at: i64,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT OR REPLACE INTO inventory (account, service, id, name, status, raw_status,
                not_after, serial, fingerprint, site_id, pem, fetched_at, extra)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            params![
                key.account,
                service_key(key.service),
                row.id,
                row.name,
                status_key(row.status),
                row.raw_status,
                row.not_after,
                row.serial,
                row.fingerprint,
                row.site_id.or(key.site_id),
                row.pem,
                fetched_at,
                row.extra
            ],
        )?;
        // The snapshot cannot hold a new row; it is rebuilt with the next full fetch.
        self.drop_snapshot(key)?;
        Ok(())
    }

    /// Records a status change of one cached row. Returns whether the row was cached.
    pub fn update_status(
        &mut self,
        key: &CacheKey,
        id: &str,
        status: CertStatus,
        raw_status: &str,
    ) -> Result<bool, StoreError> {
        let n = self.conn.execute(
            "UPDATE inventory SET status = ?4, raw_status = ?5
             WHERE account = ?1 AND service = ?2 AND id = ?3",
            params![
                key.account,
                service_key(key.service),
                id,
                status_key(status),
                raw_status
            ],
        )?;
        self.record_change(key, id, Some((status, raw_status)))?;
        Ok(n > 0)
    }

    /// Forgets one cached row (it was deleted in the cloud). Returns whether it was cached.
    pub fn remove_row(&mut self, key: &CacheKey, id: &str) -> Result<bool, StoreError> {
        let n = self.conn.execute(
            "DELETE FROM inventory WHERE account = ?1 AND service = ?2 AND id = ?3",
            params![key.account, service_key(key.service), id],
        )?;
        self.record_change(key, id, None)?;
        Ok(n > 0)
    }

    /// The KMS certificate ids `account` knows, oldest first.
    pub fn kms_ids(&self, account: &str) -> Result<Vec<String>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id FROM kms_known_id WHERE account = ?1 ORDER BY added_at, id",
        )?;
        let ids = stmt
            .query_map(params![account], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ids)
    }

    /// Remembers KMS certificate ids (blank ones are skipped, known ones kept). Returns how many
    /// were new.
    pub fn add_kms_ids<S: AsRef<str>>(
        &mut self,
        account: &str,
        ids: &[S],
        added_at: i64,
    ) -> Result<usize, StoreError> {
        let tx = self.conn.transaction()?;
        let mut added = 0;
        {
            let mut insert = tx.prepare(
                "INSERT OR IGNORE INTO kms_known_id (account, id, added_at) VALUES (?1, ?2, ?3)",
            )?;
            for id in ids
                .iter()
                .map(|s| s.as_ref().trim())
                .filter(|s| !s.is_empty())
            {
                added += insert.execute(params![account, id, added_at])?;
            }
        }
        tx.commit()?;
        Ok(added)
    }

    /// Forgets a KMS certificate id (and its cached row). Returns whether it was known.
    pub fn remove_kms_id(&mut self, account: &str, id: &str) -> Result<bool, StoreError> {
        let n = self.conn.execute(
            "DELETE FROM kms_known_id WHERE account = ?1 AND id = ?2",
            params![account, id],
        )?;
        self.remove_row(&CacheKey::new(account, Service::Kms), id)?;
        Ok(n > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, status: CertStatus, site: Option<i64>) -> CertificateRow {
        CertificateRow {
            service: Service::Iotda,
            id: id.to_string(),
            name: format!("cn-{id}"),
            status,
            raw_status: status.label().to_uppercase(),
            not_after: Some(1_800_000_000),
            serial: Some("0A1B".into()),
            fingerprint_sha256: Some("ab".repeat(32)),
            site_id: site,
            pem: Some(format!("PEM of {id}")),
        }
    }

    fn load(store: &Store, key: &CacheKey) -> (Option<FetchInfo>, Vec<CertificateRow>) {
        let mut rows = Vec::new();
        let info = store
            .load_inventory(key, |r| rows.push(r.to_row(key.service)))
            .unwrap();
        rows.sort_by(|a, b| a.id.cmp(&b.id));
        (info, rows)
    }

    #[test]
    fn migrations_run_once_and_record_the_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/dir/certdesk.sqlite3");
        let store = Store::open(&path).unwrap();
        assert_eq!(
            store.schema_version().unwrap(),
            super::super::migrations::LATEST_VERSION
        );
        drop(store);
        // Re-opening an up-to-date database is a no-op, not a "table exists" error.
        let store = Store::open(&path).unwrap();
        assert_eq!(
            store.schema_version().unwrap(),
            super::super::migrations::LATEST_VERSION
        );
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.sqlite3");
        drop(Store::open(&path).unwrap());
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        drop(conn);
        let err = Store::open(&path).unwrap_err().to_string();
        assert!(err.contains("newer"), "{err}");
    }

    #[test]
    fn inventory_round_trips_without_pem_and_replaces_the_old_one() {
        let mut store = Store::open_in_memory().unwrap();
        let key = CacheKey::new("prod", Service::Iotda);
        assert_eq!(
            load(&store, &key).0,
            None,
            "never fetched is not an empty inventory"
        );

        let first = [
            row("a", CertStatus::Active, None),
            row("b", CertStatus::Inactive, None),
        ];
        assert_eq!(
            store
                .save_inventory(&key, 100, first.iter().map(RowRecord::from))
                .unwrap(),
            2
        );
        let second = [
            row("b", CertStatus::Active, None),
            row("c", CertStatus::Revoked, None),
        ];
        store
            .save_inventory(&key, 200, second.iter().map(RowRecord::from))
            .unwrap();

        let (info, rows) = load(&store, &key);
        assert_eq!(
            info,
            Some(FetchInfo {
                fetched_at: 200,
                row_count: 2
            })
        );
        let expected: Vec<CertificateRow> = second
            .iter()
            .map(|r| CertificateRow {
                pem: None,
                ..r.clone()
            })
            .collect();
        assert_eq!(rows, expected);
        assert_eq!(
            store.cached_pem(&key, "c").unwrap().as_deref(),
            Some("PEM of c")
        );
        assert_eq!(store.cached_pem(&key, "a").unwrap(), None);
    }

    #[test]
    fn the_extra_text_round_trips() {
        let mut store = Store::open_in_memory().unwrap();
        let key = CacheKey::new("prod", Service::Pca);
        let r = row("a", CertStatus::Active, None);
        let record = RowRecord {
            extra: Some("CLIENT, ECC 256"),
            ..RowRecord::from(&r)
        };
        store.save_inventory(&key, 1, [record]).unwrap();
        let mut extras = Vec::new();
        store
            .load_inventory(&key, |rec| extras.push(rec.extra.map(str::to_string)))
            .unwrap();
        assert_eq!(extras, [Some("CLIENT, ECC 256".to_string())]);
    }

    #[test]
    fn accounts_services_and_esa_sites_are_kept_apart() {
        let mut store = Store::open_in_memory().unwrap();
        let prod = CacheKey::new("prod", Service::Iotda);
        let test = CacheKey::new("test", Service::Iotda);
        let site1 = CacheKey::esa_site("prod", 1);
        let site2 = CacheKey::esa_site("prod", 2);
        store
            .save_inventory(
                &prod,
                1,
                [RowRecord::from(&row("p", CertStatus::Active, None))],
            )
            .unwrap();
        store
            .save_inventory(
                &test,
                1,
                [RowRecord::from(&row("t", CertStatus::Active, None))],
            )
            .unwrap();
        store
            .save_inventory(
                &site1,
                1,
                [RowRecord::from(&row("e1", CertStatus::Active, Some(1)))],
            )
            .unwrap();
        store
            .save_inventory(
                &site2,
                1,
                [RowRecord::from(&row("e2", CertStatus::Active, Some(2)))],
            )
            .unwrap();
        // Re-saving site 1 must not drop site 2's rows.
        store
            .save_inventory(
                &site1,
                2,
                [RowRecord::from(&row("e1b", CertStatus::Active, Some(1)))],
            )
            .unwrap();

        let ids = |k: &CacheKey| {
            load(&store, k)
                .1
                .into_iter()
                .map(|r| r.id)
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&prod), ["p"]);
        assert_eq!(ids(&test), ["t"]);
        assert_eq!(ids(&site1), ["e1b"]);
        assert_eq!(ids(&site2), ["e2"]);
    }

    #[test]
    fn single_row_updates() {
        let mut store = Store::open_in_memory().unwrap();
        let key = CacheKey::new("prod", Service::Iotda);
        store
            .save_inventory(
                &key,
                1,
                [RowRecord::from(&row("a", CertStatus::Active, None))],
            )
            .unwrap();
        assert!(
            store
                .update_status(&key, "a", CertStatus::Inactive, "INACTIVE")
                .unwrap()
        );
        assert!(
            !store
                .update_status(&key, "zz", CertStatus::Inactive, "INACTIVE")
                .unwrap()
        );
        assert_eq!(load(&store, &key).1[0].status, CertStatus::Inactive);
        store
            .upsert_row(
                &key,
                RowRecord::from(&row("n", CertStatus::Pending, None)),
                5,
            )
            .unwrap();
        assert_eq!(load(&store, &key).1.len(), 2);
        assert!(store.remove_row(&key, "a").unwrap());
        assert_eq!(
            load(&store, &key)
                .1
                .iter()
                .map(|r| r.id.as_str())
                .collect::<Vec<_>>(),
            ["n"]
        );
    }

    #[test]
    fn kms_ids_are_deduplicated_trimmed_and_per_account() {
        let mut store = Store::open_in_memory().unwrap();
        assert_eq!(
            store
                .add_kms_ids("prod", &[" id-1 ", "id-2", "", "id-1"], 10)
                .unwrap(),
            2
        );
        assert_eq!(store.add_kms_ids("prod", &["id-2", "id-3"], 11).unwrap(), 1);
        assert_eq!(store.add_kms_ids("test", &["id-9"], 1).unwrap(), 1);
        assert_eq!(store.kms_ids("prod").unwrap(), ["id-1", "id-2", "id-3"]);
        assert!(store.remove_kms_id("prod", "id-2").unwrap());
        assert!(!store.remove_kms_id("prod", "id-2").unwrap());
        assert_eq!(store.kms_ids("prod").unwrap(), ["id-1", "id-3"]);
        assert_eq!(store.kms_ids("test").unwrap(), ["id-9"]);
    }
}
