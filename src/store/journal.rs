//! The durable journal of bulk jobs and the audit log of every change certdesk made.
//!
//! A job and each of its items are written before a request is sent and updated after, so a crash
//! or kill at any point leaves a journal that says exactly which items are done, which were never
//! sent and which are uncertain (sent, no answer recorded). WAL mode with `synchronous=NORMAL`
//! survives a killed process; after a power loss the last few records may be missing, which resume
//! handles the same way as an uncertain item (re-read the state before sending again).
//! Never stores a secret: items hold ids, names and provider answers only.

use crate::model::{Change, Outcome, Provider, Service, UnknownCode};
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use std::path::Path;
use std::str::FromStr;

/// Journal failures.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// SQLite failed; `what` names the journal operation.
    #[error("journal {what}: {source}")]
    Sql {
        /// The journal operation that failed.
        what: &'static str,
        /// The SQLite error.
        #[source]
        source: rusqlite::Error,
    },
    /// The database schema could not be brought up to date.
    #[error("journal schema: {0}")]
    Migrate(String),
    /// No job with that id in the journal.
    #[error("no job {0:?} in the journal")]
    UnknownJob(String),
    /// The job's change needs what the journal never keeps (a certificate's private key).
    #[error(
        "job {job} ({change}) cannot be resumed: its certificate and key are not journaled; start it again"
    )]
    NotResumable {
        /// The job.
        job: String,
        /// Its change.
        change: Change,
    },
    /// A journal task died (a bug); the job stops rather than run unjournaled.
    #[error("journal task failed: {0}")]
    Internal(String),
}

impl JournalError {
    pub(crate) fn unknown_job(id: &str) -> JournalError {
        JournalError::UnknownJob(id.to_string())
    }
    pub(crate) fn from_panic(message: String) -> JournalError {
        JournalError::Internal(message)
    }
}

fn ctx<T>(what: &'static str, r: rusqlite::Result<T>) -> Result<T, JournalError> {
    r.map_err(|source| JournalError::Sql { what, source })
}

/// Stores a typed code as its text and reads it back strictly: a code this build does not know is
/// an error naming the column's kind, never silently something else.
macro_rules! sql_code {
    ($ty:ty, $code:expr) => {
        impl ToSql for $ty {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                let code: fn(&$ty) -> &'static str = $code;
                Ok(ToSqlOutput::from(code(self)))
            }
        }
        impl FromSql for $ty {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                let text = value.as_str()?;
                text.parse::<$ty>()
                    .map_err(|e| FromSqlError::Other(Box::new(e)))
            }
        }
    };
}

/// Where an item stands in the journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ItemState {
    /// Never sent.
    Pending,
    /// Sent (at least once) with no answer recorded: must be re-read before sending again.
    Sent,
    /// Done: applied, or already in the target state.
    Succeeded,
    /// Failed for good (not retryable, retries exhausted, or transition not allowed).
    Failed,
}

impl ItemState {
    const ALL: [ItemState; 4] = [
        ItemState::Pending,
        ItemState::Sent,
        ItemState::Succeeded,
        ItemState::Failed,
    ];

    /// The stored code.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemState::Pending => "pending",
            ItemState::Sent => "sent",
            ItemState::Succeeded => "succeeded",
            ItemState::Failed => "failed",
        }
    }
}

impl FromStr for ItemState {
    type Err = UnknownCode;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ItemState::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| UnknownCode {
                what: "item state",
                code: s.to_string(),
            })
    }
}

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    /// Started and not ended (or killed while running).
    Running,
    /// Every item ran to its end.
    Finished,
    /// Stopped by the user before every item ran.
    Cancelled,
}

impl JobState {
    const ALL: [JobState; 3] = [JobState::Running, JobState::Finished, JobState::Cancelled];

    /// The stored code.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Running => "running",
            JobState::Finished => "finished",
            JobState::Cancelled => "cancelled",
        }
    }
}

impl FromStr for JobState {
    type Err = UnknownCode;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        JobState::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| UnknownCode {
                what: "job state",
                code: s.to_string(),
            })
    }
}

/// What an audit row says about its change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditResult {
    /// Recorded before the request was sent; no answer recorded (yet): it may have been applied.
    Sent,
    /// How it ended.
    Done(Outcome),
}

impl AuditResult {
    /// The stored code: `sent`, or the outcome's code.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditResult::Sent => "sent",
            AuditResult::Done(outcome) => outcome.as_str(),
        }
    }
}

impl From<Outcome> for AuditResult {
    fn from(outcome: Outcome) -> Self {
        AuditResult::Done(outcome)
    }
}

impl std::fmt::Display for AuditResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for AuditResult {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl FromStr for AuditResult {
    type Err = UnknownCode;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "sent" {
            return Ok(AuditResult::Sent);
        }
        s.parse::<Outcome>()
            .map(AuditResult::Done)
            .map_err(|_| UnknownCode {
                what: "audit result",
                code: s.to_string(),
            })
    }
}

sql_code!(ItemState, |v| v.as_str());
sql_code!(JobState, |v| v.as_str());
sql_code!(AuditResult, |v| v.as_str());
sql_code!(Outcome, |v| v.as_str());
sql_code!(Change, |v| v.as_str());
sql_code!(Service, |v| v.code());
sql_code!(Provider, |v| v.code());

/// A job's header row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobRecord {
    /// Job id (uuid).
    pub id: String,
    /// Creation time, UNIX seconds.
    pub created_at: i64,
    /// Profile (account) name.
    pub profile: String,
    /// The service of its items.
    pub service: Service,
    /// The change it makes.
    pub operation: Change,
    /// Where it stands.
    pub state: JobState,
}

/// One journaled item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JournalItem {
    /// Position in the job.
    pub idx: u32,
    /// Provider id of the certificate.
    pub item_id: String,
    /// ESA site id.
    pub site_id: Option<i64>,
    /// Display name.
    pub name: String,
    /// Where it stands.
    pub state: ItemState,
    /// How it ended, once it did.
    pub outcome: Option<Outcome>,
    /// Provider code of the last error.
    pub code: Option<String>,
    /// Message of the last error or note.
    pub message: Option<String>,
    /// RequestId of the deciding call.
    pub request_id: Option<String>,
    /// Attempts sent.
    pub attempts: u32,
}

/// Counts per state of one job.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct JobCounts {
    /// Never sent.
    pub pending: u32,
    /// Uncertain.
    pub sent: u32,
    /// Done.
    pub succeeded: u32,
    /// Failed for good.
    pub failed: u32,
}

/// One write to an item of a job, for [`Journal::write_batch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemWrite {
    /// Attempt `attempts` of item `idx` is about to be sent (see [`Journal::mark_sent`]).
    Sent {
        /// Position in the job.
        idx: u32,
        /// Attempts sent, this one included.
        attempts: u32,
        /// UNIX seconds.
        now: i64,
    },
    /// What item `idx` had before its change (see [`Journal::previous`]); a value already
    /// recorded for the item is kept.
    Previous {
        /// Position in the job.
        idx: u32,
        /// The job's own description of the previous state (never a secret).
        previous: String,
    },
    /// The item's final result and its audit entry (see [`Journal::finish_item`]).
    Finished {
        /// The result (boxed: a batch holds mostly the small `Sent` writes).
        item: Box<JournalItem>,
        /// The audit entry, when a request was sent for it.
        audit: Option<Box<AuditEntry>>,
        /// UNIX seconds.
        now: i64,
    },
}

/// One audit entry: a change certdesk made (or tried to make).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// UNIX seconds.
    pub at: i64,
    /// Profile name.
    pub profile: String,
    /// The cloud.
    pub provider: Provider,
    /// The service.
    pub service: Service,
    /// The change.
    pub operation: Change,
    /// Target certificate id.
    pub target: String,
    /// ESA site id.
    pub site_id: Option<i64>,
    /// What is known of its result.
    pub result: AuditResult,
    /// Provider code when it failed.
    pub code: Option<String>,
    /// Provider message when it failed.
    pub message: Option<String>,
    /// RequestId.
    pub request_id: Option<String>,
    /// Bulk job id, when part of one.
    pub job_id: Option<String>,
}

/// The journal + audit database.
pub struct Journal {
    conn: Connection,
}

impl Journal {
    /// Opens (creating if needed) the journal at `path`.
    pub fn open(path: &Path) -> Result<Journal, JournalError> {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let conn = ctx("open", Connection::open(path))?;
        Self::init(conn)
    }

    /// An in-memory journal (tests).
    pub fn in_memory() -> Result<Journal, JournalError> {
        Self::init(ctx("open", Connection::open_in_memory())?)
    }

    fn init(conn: Connection) -> Result<Journal, JournalError> {
        ctx("configure", conn.pragma_update(None, "journal_mode", "WAL"))?;
        ctx(
            "configure",
            conn.pragma_update(None, "synchronous", "NORMAL"),
        )?;
        ctx(
            "configure",
            conn.busy_timeout(std::time::Duration::from_secs(10)),
        )?;
        let mut conn = conn;
        super::migrations::migrate(&mut conn).map_err(|e| JournalError::Migrate(e.to_string()))?;
        Ok(Journal { conn })
    }

    /// Writes a new job and all its items as pending, in one transaction.
    pub fn create_job(
        &mut self,
        job: &JobRecord,
        items: &[(String, Option<i64>, String)],
    ) -> Result<(), JournalError> {
        let now = job.created_at;
        let tx = ctx("begin", self.conn.transaction())?;
        ctx(
            "insert job",
            tx.execute(
                "INSERT INTO jobs (id, created_at, profile, service, operation, state) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![job.id, job.created_at, job.profile, job.service, job.operation, job.state],
            ),
        )?;
        {
            let mut stmt = ctx(
                "prepare",
                tx.prepare(
                    "INSERT INTO job_items (job_id, idx, item_id, site_id, name, state, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6)",
                ),
            )?;
            for (idx, (id, site, name)) in items.iter().enumerate() {
                ctx(
                    "insert item",
                    stmt.execute(params![job.id, idx as i64, id, site, name, now]),
                )?;
            }
        }
        ctx("commit", tx.commit())
    }

    /// Records that attempt `attempts` of an item is about to be sent.
    pub fn mark_sent(
        &self,
        job_id: &str,
        idx: u32,
        attempts: u32,
        now: i64,
    ) -> Result<(), JournalError> {
        ctx(
            "mark sent",
            mark_sent_in(&self.conn, job_id, idx, attempts, now),
        )
    }

    /// Records an item's final result, and the audit entry for it, in one transaction.
    pub fn finish_item(
        &mut self,
        job_id: &str,
        item: &JournalItem,
        audit: Option<&AuditEntry>,
        now: i64,
    ) -> Result<(), JournalError> {
        let tx = ctx("begin", self.conn.transaction())?;
        finish_item_in(&tx, job_id, item, now)?;
        if let Some(entry) = audit {
            insert_audit(&tx, entry)?;
        }
        ctx("commit", tx.commit())
    }

    /// Applies several item writes of one job in a single transaction (group commit): one WAL
    /// commit instead of one per write. All or nothing: on an error none of them is recorded.
    pub fn write_batch(&mut self, job_id: &str, writes: &[ItemWrite]) -> Result<(), JournalError> {
        let tx = ctx("begin", self.conn.transaction())?;
        for write in writes {
            match write {
                ItemWrite::Sent { idx, attempts, now } => ctx(
                    "mark sent",
                    mark_sent_in(&tx, job_id, *idx, *attempts, *now),
                )?,
                ItemWrite::Previous { idx, previous } => ctx(
                    "record previous",
                    record_previous_in(&tx, job_id, *idx, previous),
                )?,
                ItemWrite::Finished { item, audit, now } => {
                    finish_item_in(&tx, job_id, item, *now)?;
                    if let Some(entry) = audit {
                        insert_audit(&tx, entry)?;
                    }
                }
            }
        }
        ctx("commit", tx.commit())
    }

    /// Appends an audit entry (single-row changes made outside a job).
    pub fn record_audit(&self, entry: &AuditEntry) -> Result<(), JournalError> {
        insert_audit(&self.conn, entry)
    }

    /// Sets a job's state.
    pub fn set_job_state(&self, job_id: &str, state: JobState) -> Result<(), JournalError> {
        ctx(
            "set job state",
            self.conn.execute(
                "UPDATE jobs SET state = ?2 WHERE id = ?1",
                params![job_id, state],
            ),
        )
        .map(|_| ())
    }

    /// A job's header.
    pub fn job(&self, job_id: &str) -> Result<Option<JobRecord>, JournalError> {
        ctx(
            "read job",
            self.conn
                .query_row(
                    "SELECT id, created_at, profile, service, operation, state FROM jobs WHERE id = ?1",
                    params![job_id],
                    job_from_row,
                )
                .optional(),
        )
    }

    /// Every job, newest first, with its counts.
    pub fn jobs(&self) -> Result<Vec<(JobRecord, JobCounts)>, JournalError> {
        let mut stmt = ctx(
            "prepare",
            self.conn.prepare("SELECT id, created_at, profile, service, operation, state FROM jobs ORDER BY created_at DESC, id"),
        )?;
        let jobs: Vec<JobRecord> = ctx(
            "list jobs",
            stmt.query_map([], job_from_row)
                .and_then(|rows| rows.collect()),
        )?;
        jobs.into_iter()
            .map(|job| {
                let counts = self.counts(&job.id)?;
                Ok((job, counts))
            })
            .collect()
    }

    /// Jobs that did not finish (killed, crashed or cancelled) and still have open items.
    pub fn unfinished_jobs(&self) -> Result<Vec<(JobRecord, JobCounts)>, JournalError> {
        Ok(self
            .jobs()?
            .into_iter()
            .filter(|(job, counts)| {
                job.state != JobState::Finished && counts.pending + counts.sent > 0
            })
            .collect())
    }

    /// Counts per state of one job.
    pub fn counts(&self, job_id: &str) -> Result<JobCounts, JournalError> {
        let mut stmt = ctx(
            "prepare",
            self.conn
                .prepare("SELECT state, COUNT(*) FROM job_items WHERE job_id = ?1 GROUP BY state"),
        )?;
        let rows: Vec<(ItemState, u32)> = ctx(
            "count items",
            stmt.query_map(params![job_id], |r| Ok((r.get(0)?, r.get(1)?)))
                .and_then(|rows| rows.collect()),
        )?;
        let mut counts = JobCounts::default();
        for (state, n) in rows {
            match state {
                ItemState::Pending => counts.pending += n,
                ItemState::Sent => counts.sent += n,
                ItemState::Succeeded => counts.succeeded += n,
                ItemState::Failed => counts.failed += n,
            }
        }
        Ok(counts)
    }

    /// Every item of a job, in order.
    pub fn items(&self, job_id: &str) -> Result<Vec<JournalItem>, JournalError> {
        let mut stmt = ctx(
            "prepare",
            self.conn.prepare(
                "SELECT idx, item_id, site_id, name, state, outcome, code, message, request_id, attempts FROM job_items WHERE job_id = ?1 ORDER BY idx",
            ),
        )?;
        ctx(
            "read items",
            stmt.query_map(params![job_id], |r| {
                Ok(JournalItem {
                    idx: r.get(0)?,
                    item_id: r.get(1)?,
                    site_id: r.get(2)?,
                    name: r.get(3)?,
                    state: r.get(4)?,
                    outcome: r.get(5)?,
                    code: r.get(6)?,
                    message: r.get(7)?,
                    request_id: r.get(8)?,
                    attempts: r.get(9)?,
                })
            })
            .and_then(|rows| rows.collect()),
        )
    }

    /// Audit entries, oldest first, optionally only those whose fields contain `filter`.
    pub fn audit(&self, filter: Option<&str>) -> Result<Vec<AuditEntry>, JournalError> {
        Self::read_audit(&self.conn, filter)
    }

    fn read_audit(
        conn: &Connection,
        filter: Option<&str>,
    ) -> Result<Vec<AuditEntry>, JournalError> {
        let mut stmt = ctx(
            "prepare",
            conn.prepare(
                "SELECT at, profile, provider, service, operation, target, site_id, result, code, message, request_id, job_id FROM audit ORDER BY id",
            ),
        )?;
        let all: Vec<AuditEntry> = ctx(
            "read audit",
            stmt.query_map([], |r| {
                Ok(AuditEntry {
                    at: r.get(0)?,
                    profile: r.get(1)?,
                    provider: r.get(2)?,
                    service: r.get(3)?,
                    operation: r.get(4)?,
                    target: r.get(5)?,
                    site_id: r.get(6)?,
                    result: r.get(7)?,
                    code: r.get(8)?,
                    message: r.get(9)?,
                    request_id: r.get(10)?,
                    job_id: r.get(11)?,
                })
            })
            .and_then(|rows| rows.collect()),
        )?;
        Ok(
            match filter.map(str::to_lowercase).filter(|f| !f.is_empty()) {
                None => all,
                Some(needle) => all
                    .into_iter()
                    .filter(|e| {
                        [
                            e.profile.as_str(),
                            e.provider.code(),
                            e.service.code(),
                            e.operation.as_str(),
                            e.target.as_str(),
                            e.result.as_str(),
                        ]
                        .iter()
                        .any(|f| f.to_lowercase().contains(&needle))
                            || e.code
                                .as_deref()
                                .is_some_and(|c| c.to_lowercase().contains(&needle))
                            || e.request_id
                                .as_deref()
                                .is_some_and(|c| c.to_lowercase().contains(&needle))
                    })
                    .collect(),
            },
        )
    }
}

/// What a job needs besides its change (a rotation's certificate, where a retry came from) and
/// what its items had before: opaque text the jobs layer writes and reads (never a secret).
impl Journal {
    /// Records `params` for `job_id` (before the job is created, so a job never exists without
    /// them); replaces earlier ones.
    pub fn set_job_params(&self, job_id: &str, params: &str) -> Result<(), JournalError> {
        ctx(
            "write job params",
            self.conn.execute(
                "INSERT OR REPLACE INTO job_params (job_id, params) VALUES (?1, ?2)",
                params![job_id, params],
            ),
        )
        .map(|_| ())
    }

    /// The params of `job_id`, when it has any.
    pub fn job_params(&self, job_id: &str) -> Result<Option<String>, JournalError> {
        ctx(
            "read job params",
            self.conn
                .query_row(
                    "SELECT params FROM job_params WHERE job_id = ?1",
                    params![job_id],
                    |r| r.get(0),
                )
                .optional(),
        )
    }

    /// What each item of `job_id` had before its change, by position (items without a record
    /// are absent).
    pub fn previous(&self, job_id: &str) -> Result<Vec<(u32, String)>, JournalError> {
        let mut stmt = ctx(
            "prepare",
            self.conn.prepare(
                "SELECT idx, previous FROM job_item_previous WHERE job_id = ?1 ORDER BY idx",
            ),
        )?;
        ctx(
            "read previous",
            stmt.query_map(params![job_id], |r| Ok((r.get(0)?, r.get(1)?)))
                .and_then(|rows| rows.collect()),
        )
    }
}

fn record_previous_in(
    conn: &Connection,
    job_id: &str,
    idx: u32,
    previous: &str,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO job_item_previous (job_id, idx, previous) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![job_id, idx, previous])
    .map(|_| ())
}

fn job_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<JobRecord> {
    Ok(JobRecord {
        id: r.get(0)?,
        created_at: r.get(1)?,
        profile: r.get(2)?,
        service: r.get(3)?,
        operation: r.get(4)?,
        state: r.get(5)?,
    })
}

// The per-item statements run thousands of times per job: cached, so SQLite parses them once.
fn mark_sent_in(
    conn: &Connection,
    job_id: &str,
    idx: u32,
    attempts: u32,
    now: i64,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE job_items SET state = 'sent', attempts = ?3, updated_at = ?4 WHERE job_id = ?1 AND idx = ?2",
    )?
    .execute(params![job_id, idx, attempts, now])
    .map(|_| ())
}

fn finish_item_in(
    conn: &Connection,
    job_id: &str,
    item: &JournalItem,
    now: i64,
) -> Result<(), JournalError> {
    let mut stmt = ctx(
        "prepare",
        conn.prepare_cached(
            "UPDATE job_items SET state = ?3, outcome = ?4, code = ?5, message = ?6, request_id = ?7, attempts = ?8, updated_at = ?9 WHERE job_id = ?1 AND idx = ?2",
        ),
    )?;
    ctx(
        "finish item",
        stmt.execute(params![
            job_id,
            item.idx,
            item.state,
            item.outcome,
            item.code,
            item.message,
            item.request_id,
            item.attempts,
            now
        ]),
    )
    .map(|_| ())
}

fn insert_audit(conn: &Connection, e: &AuditEntry) -> Result<(), JournalError> {
    ctx(
        "append audit",
        conn.prepare_cached(
            "INSERT INTO audit (at, profile, provider, service, operation, target, site_id, result, code, message, request_id, job_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )
        .and_then(|mut stmt| {
            stmt.execute(params![e.at, e.profile, e.provider, e.service, e.operation, e.target, e.site_id, e.result, e.code, e.message, e.request_id, e.job_id])
        }),
    )
    .map(|_| ())
}

/// Single changes made from the window (outside a bulk job) are written to the audit log before
/// the request is sent (result `sent`) and updated with the answer afterwards, so a crash in
/// between leaves an entry that says the change may have been applied.
impl Journal {
    /// Appends an audit entry for a change about to be sent; returns its row id for
    /// [`Self::finish_audit`].
    pub fn begin_audit(&self, entry: &AuditEntry) -> Result<i64, JournalError> {
        insert_audit(&self.conn, entry)?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Records the answer of a change begun with [`Self::begin_audit`].
    pub fn finish_audit(
        &self,
        id: i64,
        result: AuditResult,
        code: Option<&str>,
        message: Option<&str>,
        request_id: Option<&str>,
    ) -> Result<(), JournalError> {
        ctx(
            "finish audit",
            self.conn.execute(
                "UPDATE audit SET result = ?2, code = ?3, message = COALESCE(?4, message), request_id = ?5 WHERE id = ?1",
                params![id, result, code, message, request_id],
            ),
        )
        .map(|_| ())
    }
}

#[cfg(test)]
impl Journal {
    /// Drops the audit table so the next audit write fails (tests of "not recorded, not sent").
    pub(crate) fn break_audit_for_tests(&self) {
        let _ = self.conn.execute_batch("DROP TABLE audit");
    }
}

/// Writes audit entries as CSV (header + one line each) to `out`.
pub fn write_audit_csv(entries: &[AuditEntry], out: impl std::io::Write) -> Result<(), csv::Error> {
    let mut w = csv::Writer::from_writer(out);
    for e in entries {
        w.serialize(e)?;
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(id: &str) -> JobRecord {
        JobRecord {
            id: id.into(),
            created_at: 100,
            profile: "demo".into(),
            service: Service::Pca,
            operation: Change::Revoke,
            state: JobState::Running,
        }
    }

    #[test]
    fn items_move_through_their_states_and_audit_is_written_with_them() {
        let mut j = Journal::in_memory().unwrap();
        let items: Vec<_> = (0..3)
            .map(|i| (format!("id{i}"), None, format!("cn{i}")))
            .collect();
        j.create_job(&job("j1"), &items).unwrap();
        assert_eq!(
            j.counts("j1").unwrap(),
            JobCounts {
                pending: 3,
                ..Default::default()
            }
        );
        j.mark_sent("j1", 0, 1, 101).unwrap();
        j.mark_sent("j1", 1, 1, 101).unwrap();
        let mut done = j.items("j1").unwrap()[0].clone();
        done.state = ItemState::Succeeded;
        done.outcome = Some(Outcome::Applied);
        done.request_id = Some("REQ-1".into());
        let audit = AuditEntry {
            at: 102,
            profile: "demo".into(),
            provider: Provider::Alibaba,
            service: Service::Pca,
            operation: Change::Revoke,
            target: "id0".into(),
            site_id: None,
            result: Outcome::Applied.into(),
            code: None,
            message: None,
            request_id: Some("REQ-1".into()),
            job_id: Some("j1".into()),
        };
        j.finish_item("j1", &done, Some(&audit), 102).unwrap();
        assert_eq!(
            j.counts("j1").unwrap(),
            JobCounts {
                pending: 1,
                sent: 1,
                succeeded: 1,
                failed: 0
            }
        );
        assert_eq!(j.unfinished_jobs().unwrap().len(), 1);
        assert_eq!(j.audit(Some("req-1")).unwrap(), vec![audit.clone()]);
        assert!(j.audit(Some("nothing-like-it")).unwrap().is_empty());
        let mut csv = Vec::new();
        write_audit_csv(&[audit], &mut csv).unwrap();
        let text = String::from_utf8(csv).unwrap();
        assert!(text.starts_with("at,profile,provider"), "{text}");
        assert!(text.contains("REQ-1"));
    }

    #[test]
    fn params_and_previous_states_are_kept_per_job() {
        let mut j = Journal::in_memory().unwrap();
        j.set_job_params("j3", r#"{"a":1}"#).unwrap();
        j.create_job(&job("j3"), &[("a".into(), None, "A".into())])
            .unwrap();
        assert_eq!(j.job_params("j3").unwrap().as_deref(), Some(r#"{"a":1}"#));
        assert_eq!(j.job_params("j1").unwrap(), None);
        let first = ItemWrite::Previous {
            idx: 0,
            previous: "first".into(),
        };
        let again = ItemWrite::Previous {
            idx: 0,
            previous: "after resume".into(),
        };
        j.write_batch("j3", &[first]).unwrap();
        j.write_batch("j3", &[again]).unwrap();
        // The first record of an item is its state before the change: a resume does not replace it.
        assert_eq!(j.previous("j3").unwrap(), vec![(0, "first".to_string())]);
        assert!(j.previous("j1").unwrap().is_empty());
    }

    #[test]
    fn journal_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.sqlite3");
        {
            let mut j = Journal::open(&path).unwrap();
            j.create_job(&job("j2"), &[("a".into(), Some(7), "A".into())])
                .unwrap();
            j.mark_sent("j2", 0, 1, 5).unwrap();
        }
        let j = Journal::open(&path).unwrap();
        let items = j.items("j2").unwrap();
        assert_eq!(items[0].state, ItemState::Sent);
        assert_eq!(items[0].site_id, Some(7));
    }
}
