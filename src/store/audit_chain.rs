//! The audit log's hash chain: each row stores the hash of the row before it (`prev_hash`) and its
//! own hash, SHA-256 over that previous hash and the row's canonical content (every column value,
//! its id included, with its SQL type). Editing a row's content changes its hash; deleting or
//! moving a row breaks the link of the row after it; deleting rows at the end leaves the
//! AUTOINCREMENT high-water mark (`sqlite_sequence`) above the last id. [`verify`] walks the
//! chain and names the first row that does not fit.
//!
//! Knows the `audit` table's columns and SQLite; nothing of jobs, clouds or the app.

use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, params_from_iter};
use sha2::{Digest, Sha256};
use std::fmt::Write as _;

/// The columns a row's hash covers, in hash order.
pub(crate) const HASHED_COLUMNS: [&str; 19] = [
    "id",
    "at",
    "os_user",
    "host",
    "profile",
    "access_key_id",
    "region",
    "endpoint",
    "provider",
    "service",
    "operation",
    "target",
    "site_id",
    "result",
    "code",
    "message",
    "request_id",
    "job_id",
    "refers_to",
];

/// The previous hash of the first row.
pub(crate) const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Domain separation: a hash of this chain can never be mistaken for another SHA-256.
const DOMAIN: &[u8] = b"certdesk audit chain v1\n";

/// SHA-256 (hex) of `prev_hash` and the canonical form of `values` (in [`HASHED_COLUMNS`] order).
/// Each value is written with its SQL type and length, so no two different rows (NULL vs empty
/// text, 7 vs '7') share a canonical form.
pub(crate) fn row_hash<'a>(
    prev_hash: &str,
    values: impl IntoIterator<Item = ValueRef<'a>>,
) -> String {
    let mut h = Sha256::new();
    h.update(DOMAIN);
    h.update(prev_hash.as_bytes());
    h.update(b"\n");
    for value in values {
        match value {
            ValueRef::Null => h.update(b"n;"),
            ValueRef::Integer(i) => h.update(format!("i{i};").as_bytes()),
            ValueRef::Real(r) => h.update(format!("r{};", r.to_bits()).as_bytes()),
            ValueRef::Text(t) => {
                h.update(format!("t{}:", t.len()).as_bytes());
                h.update(t);
                h.update(b";");
            }
            ValueRef::Blob(b) => {
                h.update(format!("b{}:", b.len()).as_bytes());
                h.update(b);
                h.update(b";");
            }
        }
    }
    let digest = h.finalize();
    let mut out = String::with_capacity(64);
    for byte in digest {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// The id and hash of the last row, or `(0, GENESIS)` for an empty log; the next row's id is the
/// AUTOINCREMENT high-water mark + 1 (a deleted last row's id is never reused).
pub(crate) fn head(conn: &Connection) -> rusqlite::Result<(i64, String)> {
    let seq: i64 = conn
        .query_row(
            "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'audit'), 0)",
            [],
            |r| r.get(0),
        )
        .unwrap_or(0);
    let last: Option<(i64, Option<String>)> = conn
        .query_row(
            "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map(Some)
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            e => Err(e),
        })?;
    match last {
        Some((id, hash)) => Ok((seq.max(id), hash.unwrap_or_else(|| GENESIS.to_string()))),
        None => Ok((seq, GENESIS.to_string())),
    }
}

/// Chains every row that has no hash yet, in id order (migration from schema 5: the rows written
/// before the chain existed get chained as they are when the migration runs).
pub(crate) fn chain_unchained(conn: &Connection) -> rusqlite::Result<usize> {
    let columns = HASHED_COLUMNS.join(", ");
    let rows: Vec<Vec<Value>> = {
        let mut stmt = conn.prepare(&format!("SELECT {columns} FROM audit ORDER BY id"))?;
        stmt.query_map([], |r| {
            (0..HASHED_COLUMNS.len())
                .map(|i| r.get::<_, Value>(i))
                .collect::<rusqlite::Result<Vec<Value>>>()
        })?
        .collect::<rusqlite::Result<_>>()?
    };
    let mut prev = GENESIS.to_string();
    let mut update = conn.prepare("UPDATE audit SET prev_hash = ?1, hash = ?2 WHERE id = ?3")?;
    for values in &rows {
        let hash = row_hash(&prev, values.iter().map(ValueRef::from));
        update.execute(rusqlite::params![prev, hash, values[0]])?;
        prev = hash;
    }
    Ok(rows.len())
}

/// The first thing wrong with the chain.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ChainBreak {
    /// The first row that was edited, deleted or moved (for a deletion: the missing id).
    pub row: i64,
    /// What is wrong, in one sentence.
    pub what: String,
}

/// What [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ChainReport {
    /// Rows checked.
    pub rows: u64,
    /// Hash of the last row (note it down: a later `audit verify --head` proves the log still
    /// contains it unchanged), `None` for an empty log.
    pub head: Option<String>,
    /// `None` when the chain is intact.
    pub broken: Option<ChainBreak>,
}

impl ChainReport {
    /// Whether the chain is intact.
    pub fn is_intact(&self) -> bool {
        self.broken.is_none()
    }

    /// One line for the CLI and the Audit tab.
    pub fn summary(&self) -> String {
        match &self.broken {
            None => format!(
                "audit chain intact: {} rows{}",
                self.rows,
                self.head
                    .as_deref()
                    .map(|h| format!(", head {h}"))
                    .unwrap_or_default()
            ),
            Some(b) => format!("audit chain BROKEN at row {}: {}", b.row, b.what),
        }
    }
}

/// Walks the whole log in id order and checks every link and every hash.
pub(crate) fn verify(conn: &Connection) -> rusqlite::Result<ChainReport> {
    let columns = HASHED_COLUMNS.join(", ");
    let mut stmt = conn.prepare(&format!(
        "SELECT {columns}, prev_hash, hash FROM audit ORDER BY id"
    ))?;
    let mut rows = stmt.query([])?;
    let mut expected_prev = GENESIS.to_string();
    let mut last_id: i64 = 0;
    let mut count: u64 = 0;
    let n = HASHED_COLUMNS.len();
    let broken = |row: i64, what: String| ChainBreak { row, what };
    let mut found: Option<ChainBreak> = None;
    while let Some(r) = rows.next()? {
        let id: i64 = match r.get_ref(0)? {
            ValueRef::Integer(i) => i,
            _ => 0,
        };
        count += 1;
        if id != last_id + 1 {
            found = Some(broken(
                last_id + 1,
                if id > last_id + 1 {
                    format!(
                        "row {} is missing (deleted{}); the next row is {id}",
                        last_id + 1,
                        if id > last_id + 2 {
                            format!(", with rows up to {}", id - 1)
                        } else {
                            String::new()
                        }
                    )
                } else {
                    format!("row ids are out of sequence after row {last_id}")
                },
            ));
            break;
        }
        let prev: Option<String> = r.get(n)?;
        let stored: Option<String> = r.get(n + 1)?;
        if prev.as_deref() != Some(expected_prev.as_str()) {
            found = Some(broken(
                id,
                format!(
                    "its link to row {} does not match: rows were reordered, or a row before it \
                     was deleted or replaced",
                    last_id
                ),
            ));
            break;
        }
        let values: Vec<ValueRef<'_>> = (0..n)
            .map(|i| r.get_ref(i))
            .collect::<rusqlite::Result<_>>()?;
        let hash = row_hash(&expected_prev, values);
        if stored.as_deref() != Some(hash.as_str()) {
            found = Some(broken(
                id,
                "its content does not match its hash: the row was edited".to_string(),
            ));
            break;
        }
        expected_prev = hash;
        last_id = id;
    }
    drop(rows);
    if found.is_none() {
        let seq: i64 = conn
            .query_row(
                "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'audit'), 0)",
                [],
                |r| r.get(0),
            )
            .unwrap_or(0);
        if seq > last_id {
            found = Some(broken(
                last_id + 1,
                format!(
                    "rows {}..={seq} were deleted from the end of the log",
                    last_id + 1
                ),
            ));
        }
    }
    Ok(ChainReport {
        rows: count,
        head: (count > 0 && found.is_none()).then_some(expected_prev),
        broken: found,
    })
}

/// Inserts one audit row with `values` (in [`HASHED_COLUMNS`] order, id first) chained to
/// `prev_hash`; returns its hash. The caller holds a write transaction and knows the id.
pub(crate) fn insert_chained(
    conn: &Connection,
    prev_hash: &str,
    values: &[Value],
) -> rusqlite::Result<String> {
    let hash = row_hash(prev_hash, values.iter().map(ValueRef::from));
    let columns = HASHED_COLUMNS.join(", ");
    let placeholders: Vec<String> = (1..=HASHED_COLUMNS.len() + 2)
        .map(|i| format!("?{i}"))
        .collect();
    let sql = format!(
        "INSERT INTO audit ({columns}, prev_hash, hash) VALUES ({})",
        placeholders.join(", ")
    );
    let mut all: Vec<Value> = values.to_vec();
    all.push(Value::Text(prev_hash.to_string()));
    all.push(Value::Text(hash.clone()));
    conn.prepare_cached(&sql)?.execute(params_from_iter(all))?;
    Ok(hash)
}
