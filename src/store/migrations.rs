//! Every schema change of certdesk's SQLite database, in order, in one place. The database's
//! `PRAGMA user_version` records how many have run. Never edit a released migration: append one.

use super::StoreError;
use rusqlite::Connection;

/// The migrations; index + 1 is the schema version each one produces.
const MIGRATIONS: &[&str] = &[
    // 1: inventory cache (one row per certificate, keyed by account, service and provider id),
    //    what was fetched when, and the KMS certificate ids certdesk knows (KMS has no list API).
    "CREATE TABLE inventory (
        account     TEXT    NOT NULL,
        service     TEXT    NOT NULL,
        id          TEXT    NOT NULL,
        name        TEXT    NOT NULL,
        status      TEXT    NOT NULL,
        raw_status  TEXT    NOT NULL,
        not_after   INTEGER,
        serial      TEXT,
        fingerprint TEXT,
        site_id     INTEGER,
        pem         TEXT,
        fetched_at  INTEGER NOT NULL,
        PRIMARY KEY (account, service, id)
    ) WITHOUT ROWID;
    CREATE TABLE inventory_fetch (
        account    TEXT    NOT NULL,
        service    TEXT    NOT NULL,
        scope      TEXT    NOT NULL,
        fetched_at INTEGER NOT NULL,
        row_count  INTEGER NOT NULL,
        PRIMARY KEY (account, service, scope)
    ) WITHOUT ROWID;
    CREATE TABLE kms_known_id (
        account  TEXT    NOT NULL,
        id       TEXT    NOT NULL,
        added_at INTEGER NOT NULL,
        PRIMARY KEY (account, id)
    ) WITHOUT ROWID;",
    // 2: a short per-row text the table shows (certificate type, key, VOD certificate name).
    "ALTER TABLE inventory ADD COLUMN extra TEXT;",
    // 3: the bulk-job journal (a job, and each item written before its request is sent and after
    //    its answer) and the audit log of every change certdesk made.
    "CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL,
    profile TEXT NOT NULL,
    service TEXT NOT NULL,
    operation TEXT NOT NULL,
    state TEXT NOT NULL
);
CREATE TABLE job_items (
    job_id TEXT NOT NULL REFERENCES jobs(id),
    idx INTEGER NOT NULL,
    item_id TEXT NOT NULL,
    site_id INTEGER,
    name TEXT NOT NULL,
    state TEXT NOT NULL,
    outcome TEXT,
    code TEXT,
    message TEXT,
    request_id TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (job_id, idx)
);
CREATE TABLE audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    profile TEXT NOT NULL,
    provider TEXT NOT NULL,
    service TEXT NOT NULL,
    operation TEXT NOT NULL,
    target TEXT NOT NULL,
    site_id INTEGER,
    result TEXT NOT NULL,
    code TEXT,
    message TEXT,
    request_id TEXT,
    job_id TEXT
);
CREATE INDEX audit_at ON audit(at);",
    // 4: a columnar snapshot of each large inventory (loads a million rows at once instead of
    //    row by row), and the single-row changes made since it was written.
    "CREATE TABLE inventory_snapshot (
        account    TEXT    NOT NULL,
        service    TEXT    NOT NULL,
        fetched_at INTEGER NOT NULL,
        format     INTEGER NOT NULL,
        data       BLOB    NOT NULL,
        UNIQUE (account, service)
    );
    CREATE TABLE inventory_change (
        account    TEXT    NOT NULL,
        service    TEXT    NOT NULL,
        id         TEXT    NOT NULL,
        status     TEXT    NOT NULL,
        raw_status TEXT    NOT NULL,
        removed    INTEGER NOT NULL,
        PRIMARY KEY (account, service, id)
    ) WITHOUT ROWID;",
    // 5: one word per thing. Services are stored as their code (`kms`, not the `Debug` name `Kms`
    //    schema 4 wrote into jobs and audit); every change is named by its `model::Change` code,
    //    whoever started it (the status buttons wrote `deactivate`, `activate` for KMS/IoTDA, and
    //    `turn https off`, where bulk jobs wrote `disable`, `enable`); `not allowed` is `not-allowed`.
    "UPDATE jobs SET service = lower(service);
    UPDATE audit SET service = lower(service);
    UPDATE audit SET operation = 'disable' WHERE operation = 'deactivate';
    UPDATE audit SET operation = 'enable' WHERE operation = 'activate' AND service IN ('kms', 'iotda');
    UPDATE audit SET operation = 'https-off' WHERE operation = 'turn https off';
    UPDATE audit SET operation = 'https-on' WHERE operation = 'turn https on';
    UPDATE audit SET result = 'not-allowed' WHERE result = 'not allowed';
    UPDATE job_items SET outcome = 'not-allowed' WHERE outcome = 'not allowed';",
    // 6: trust (issue 12). A job records the AccessKey id, region and endpoint it was started
    //    with, and a lease (owner process, host, start time, token, heartbeat): one engine per
    //    job. Every audit row records who (OS user, host, profile, AccessKey id) and where (region,
    //    endpoint); an answer is a new row referring to its `sent` row; rows are hash-chained.
    //    After these columns exist, `migrate` chains the rows written so far in id order and then
    //    creates the append-only and item-state triggers (see AFTER_6).
    "ALTER TABLE jobs ADD COLUMN access_key_id TEXT;
    ALTER TABLE jobs ADD COLUMN region TEXT;
    ALTER TABLE jobs ADD COLUMN endpoint TEXT;
    ALTER TABLE jobs ADD COLUMN lease_token TEXT;
    ALTER TABLE jobs ADD COLUMN lease_pid INTEGER;
    ALTER TABLE jobs ADD COLUMN lease_host TEXT;
    ALTER TABLE jobs ADD COLUMN lease_started TEXT;
    ALTER TABLE jobs ADD COLUMN lease_heartbeat INTEGER;
    ALTER TABLE audit ADD COLUMN os_user TEXT;
    ALTER TABLE audit ADD COLUMN host TEXT;
    ALTER TABLE audit ADD COLUMN access_key_id TEXT;
    ALTER TABLE audit ADD COLUMN region TEXT;
    ALTER TABLE audit ADD COLUMN endpoint TEXT;
    ALTER TABLE audit ADD COLUMN refers_to INTEGER;
    ALTER TABLE audit ADD COLUMN prev_hash TEXT;
    ALTER TABLE audit ADD COLUMN hash TEXT;
    CREATE INDEX audit_refers_to ON audit(refers_to);",
    // 7: what a job needs besides its change to be resumed, retried or undone (a rotation's
    //    repository certificate and the new certificate's fingerprint and names, where a retry or
    //    an undo job came from; never a key), and per item what it had before the change (the
    //    certificate a domain served), written before the request is sent.
    "CREATE TABLE job_params (
        job_id TEXT PRIMARY KEY,
        params TEXT NOT NULL
    );
    CREATE TABLE job_item_previous (
        job_id   TEXT    NOT NULL,
        idx      INTEGER NOT NULL,
        previous TEXT    NOT NULL,
        PRIMARY KEY (job_id, idx)
    ) WITHOUT ROWID;",
];

/// Run after migration 6's columns exist, in its transaction: the schema-5 rows are chained as they
/// are, then rows become append-only and a finished item can no longer change state. The triggers
/// stop certdesk's own bugs and careless edits; the chain is what shows a deliberate one.
const AFTER_6: &str = "
    CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: rows are never updated'); END;
    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: rows are never deleted'); END;
    CREATE TRIGGER job_items_finished_stay BEFORE UPDATE OF state ON job_items
    WHEN OLD.state IN ('succeeded', 'failed') AND NEW.state <> OLD.state
    BEGIN SELECT RAISE(ABORT, 'a finished job item never changes state again'); END;";

/// The schema version after every migration has run.
pub const LATEST_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the database up to [`LATEST_VERSION`], each step in its own transaction. A database newer
/// than this build is refused rather than misread.
pub fn migrate(conn: &mut Connection) -> Result<i64, StoreError> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > LATEST_VERSION {
        return Err(StoreError::NewerSchema {
            found: current,
            supported: LATEST_VERSION,
        });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        // Immediate: two processes opening a new database at once (the window and the CLI) take
        // turns; the one that waited sees the step done and skips it.
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let now: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if now > index as i64 {
            continue;
        }
        tx.execute_batch(sql)?;
        if index + 1 == 6 {
            super::audit_chain::chain_unchained(&tx)?;
            tx.execute_batch(AFTER_6)?;
        }
        tx.pragma_update(None, "user_version", (index + 1) as i64)?;
        tx.commit()?;
    }
    Ok(LATEST_VERSION)
}
