//! SQLite persistence (rusqlite, bundled): the inventory cache and the KMS certificate ids certdesk
//! knows; schema migrations live in one place ([`migrations`]). Knows `model` only: nothing of
//! clouds, the app or egui. Every call does disk I/O, so callers keep it off the UI thread.
//!
//! The database lives in a private directory (0700, the user's own; see [`crate::files`]) and it
//! and its -wal / -shm files are 0600: they hold account names, certificate inventories and the
//! audit log.

pub mod audit_chain;
mod cache;
pub mod journal;
pub mod lease;
pub mod migrations;
mod snapshot;

pub use cache::{CacheKey, FetchInfo, RowRecord};
pub use snapshot::{Snapshot, SnapshotChange};

use rusqlite::Connection;
use std::path::{Path, PathBuf};

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database file's directory could not be created.
    #[error("cannot create the data directory {path}: {source}")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The data directory is another user's, or others may write in it.
    #[error("unsafe data directory {0}")]
    UnsafeDir(#[from] crate::files::DirError),
    /// The database file's mode could not be made 0600.
    #[error("cannot make {path} private: {source}")]
    PrivateFile {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// SQLite reported an error (locked, corrupt...).
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The database was written by a newer certdesk.
    #[error(
        "the database has schema version {found}, newer than this certdesk supports ({supported}); \
         update certdesk or remove the file"
    )]
    NewerSchema {
        /// Version in the file.
        found: i64,
        /// Latest version this build knows.
        supported: i64,
    },
}

/// An open certdesk database.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
}

impl Store {
    /// Opens (creating if needed) the database at `path` and runs pending migrations.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        prepare_private_database(path)?;
        let conn = Connection::open(path)?;
        // WAL lets a reader (cache load) run while a writer saves; NORMAL is durable enough for a
        // cache that the next refresh rebuilds anyway.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        Self::from_connection(conn)
    }

    /// A private in-memory database (tests, or when the data directory is unusable).
    pub fn open_in_memory() -> Result<Store, StoreError> {
        Self::from_connection(Connection::open_in_memory()?)
    }

    fn from_connection(mut conn: Connection) -> Result<Store, StoreError> {
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        migrations::migrate(&mut conn)?;
        Ok(Store { conn })
    }

    /// The schema version in use.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }
}

/// Makes `path`'s directory private (created 0700; refused when another user owns it or others
/// may write in it) and the database file 0600 before SQLite opens it — SQLite creates the -wal
/// and -shm files with the database file's mode. An older certdesk's looser -wal / -shm / journal
/// files are tightened too.
pub fn prepare_private_database(path: &Path) -> Result<(), StoreError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        crate::files::ensure_private_dir(dir)?;
    }
    let private = |file: &Path, result: std::io::Result<()>| {
        result.map_err(|source| StoreError::PrivateFile {
            path: file.to_path_buf(),
            source,
        })
    };
    private(path, crate::files::make_private_file(path))?;
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let sidecar = PathBuf::from(name);
        private(&sidecar, crate::files::restrict_if_present(&sidecar))?;
    }
    Ok(())
}

/// Where certdesk keeps its database: `$CERTDESK_DATA_DIR/certdesk.sqlite3` when that variable is
/// set (tests, CI, portable installs), else the platform data directory.
pub fn default_path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("CERTDESK_DATA_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir).join("certdesk.sqlite3"));
    }
    directories::ProjectDirs::from("", "", "certdesk")
        .map(|dirs| dirs.data_local_dir().join("certdesk.sqlite3"))
}
