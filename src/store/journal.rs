//! The durable journal of bulk jobs and the audit log of every change certdesk made.
//!
//! A job and each of its items are written before a request is sent and updated after, so a crash
//! or kill at any point leaves a journal that says exactly which items are done, which were never
//! sent and which are uncertain (sent, no answer recorded). WAL mode with `synchronous=FULL`: a
//! commit returns only once the WAL is on disk, so a `sent` record survives a power loss as well as
//! a killed process (its cost, one fsync per group commit, is measured in benches/bulk_rate.rs).
//!
//! One engine per job: the engine holds a lease on its job ([`super::lease`]) and every item write
//! checks its token, so an engine whose lease was taken over cannot record (and so cannot send)
//! anything more. Item states only move forward (checked in SQL; a trigger refuses a finished item
//! going back).
//!
//! The audit log is append-only (triggers refuse UPDATE and DELETE; an answer is a new row that
//! refers to its `sent` row) and hash-chained ([`super::audit_chain`]); [`Journal::verify_audit`]
//! checks the chain. Every row records who (OS user, host, profile, AccessKey id — the public id,
//! never the secret) and where (region, endpoint).
//! Never stores a secret: items hold ids, names and provider answers only.

use super::audit_chain::{self, ChainReport};
use super::lease::LeaseOwner;
use crate::model::{Change, Outcome, Provider, Service, UnknownCode};
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, Value, ValueRef};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
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
    /// The data directory or the database file could not be made private.
    #[error("journal storage: {0}")]
    Storage(String),
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
    /// Another engine that is still alive runs the job.
    #[error("job {job} is being run by {owner}; wait for it to stop (or stop it) before resuming")]
    Leased {
        /// The job.
        job: String,
        /// Who runs it ([`LeaseOwner::describe`]).
        owner: String,
    },
    /// This engine's lease was taken over (it was presumed dead): it records and sends nothing more.
    #[error(
        "job {job}: this process no longer holds the job's lease (another process took it over); stopping"
    )]
    LeaseLost {
        /// The job.
        job: String,
    },
    /// An item write that would move an item backwards (a finished item sent again).
    #[error("job {job} item {idx}: {what}")]
    ItemGuard {
        /// The job.
        job: String,
        /// The item.
        idx: u32,
        /// What was refused.
        what: &'static str,
    },
    /// The job was started under another account than the one resuming it.
    #[error("{0}")]
    WrongAccount(String),
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
    /// The item was sent before and its state could not be read back: it stays `sent` (a resume
    /// reads it again) with outcome `held`, and its audit answer.
    Held {
        /// The item, with the outcome, code and message to record.
        item: Box<JournalItem>,
        /// Its audit answer.
        audit: Option<Box<AuditEntry>>,
        /// UNIX seconds.
        now: i64,
    },
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
    /// The OS user certdesk ran as (`None` on rows written before schema 6).
    pub os_user: Option<String>,
    /// The host certdesk ran on.
    pub host: Option<String>,
    /// The AccessKey id (Alibaba) or AK (Huawei) that signed the request: the public id only.
    pub access_key_id: Option<String>,
    /// The region the request went to.
    pub region: Option<String>,
    /// The endpoint override, when one was used (`None`: the region's public endpoint).
    pub endpoint: Option<String>,
    /// The row id (for a change with an answer: the id of its `sent` row); 0 before it is stored.
    pub id: i64,
    /// The row that answered it, when one did (an answer is its own row referring to `id`).
    pub answer_id: Option<i64>,
}

/// Where a job's requests go, and which key signs them: recorded when the job starts, checked when
/// it is resumed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct JobOrigin {
    /// AccessKey id / AK (public id).
    pub access_key_id: Option<String>,
    /// Region.
    pub region: Option<String>,
    /// Endpoint override.
    pub endpoint: Option<String>,
}

/// An unfinished job with the engine that runs it, if one is alive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnfinishedJob {
    /// The job.
    pub job: JobRecord,
    /// Its counts.
    pub counts: JobCounts,
    /// The live engine running it (`None`: nobody runs it, it may be resumed).
    pub live_owner: Option<LeaseOwner>,
}

/// The journal + audit database.
pub struct Journal {
    conn: Connection,
}

impl Journal {
    /// Opens (creating if needed) the journal at `path`.
    pub fn open(path: &Path) -> Result<Journal, JournalError> {
        super::prepare_private_database(path).map_err(|e| JournalError::Storage(e.to_string()))?;
        let conn = ctx("open", Connection::open(path))?;
        Self::init(conn)
    }

    /// The journal at `path` with `synchronous=NORMAL` (what it used before issue 12): a commit
    /// may be lost at a power failure. Only for benchmarks/bulk_rate.rs, to measure what the
    /// durable commit costs; never compiled into the shipped binary.
    #[cfg(any(test, feature = "testing"))]
    pub fn open_without_power_loss_durability(path: &Path) -> Result<Journal, JournalError> {
        let journal = Self::open(path)?;
        ctx(
            "configure",
            journal.conn.pragma_update(None, "synchronous", "NORMAL"),
        )?;
        Ok(journal)
    }

    /// An in-memory journal (tests).
    pub fn in_memory() -> Result<Journal, JournalError> {
        Self::init(ctx("open", Connection::open_in_memory())?)
    }

    fn init(conn: Connection) -> Result<Journal, JournalError> {
        ctx("configure", conn.pragma_update(None, "journal_mode", "WAL"))?;
        // FULL: the WAL is synced at every commit, so a `sent` record survives a power loss (with
        // NORMAL a commit may be lost then, and resume would re-send without a re-read).
        ctx("configure", conn.pragma_update(None, "synchronous", "FULL"))?;
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
        self.create_job_as(job, items, &JobOrigin::default(), None)
    }

    /// [`Self::create_job`] recording where the job's requests go and which key signs them, and,
    /// with `lease`, taking the job's lease for this engine in the same transaction.
    pub fn create_job_as(
        &mut self,
        job: &JobRecord,
        items: &[(String, Option<i64>, String)],
        origin: &JobOrigin,
        lease: Option<(&str, &LeaseOwner)>,
    ) -> Result<(), JournalError> {
        let now = job.created_at;
        let tx = ctx(
            "begin",
            self.conn
                .transaction_with_behavior(TransactionBehavior::Immediate),
        )?;
        ctx(
            "insert job",
            tx.execute(
                "INSERT INTO jobs (id, created_at, profile, service, operation, state, access_key_id, region, endpoint) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![job.id, job.created_at, job.profile, job.service, job.operation, job.state, origin.access_key_id, origin.region, origin.endpoint],
            ),
        )?;
        if let Some((token, owner)) = lease {
            write_lease(&tx, &job.id, token, owner)?;
        }
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

    /// Where a job's requests go and which key signs them, as recorded when it started (all
    /// `None` for jobs journaled before schema 6).
    pub fn job_origin(&self, job_id: &str) -> Result<Option<JobOrigin>, JournalError> {
        ctx(
            "read job origin",
            self.conn
                .query_row(
                    "SELECT access_key_id, region, endpoint FROM jobs WHERE id = ?1",
                    params![job_id],
                    |r| {
                        Ok(JobOrigin {
                            access_key_id: r.get(0)?,
                            region: r.get(1)?,
                            endpoint: r.get(2)?,
                        })
                    },
                )
                .optional(),
        )
    }

    /// The engine recorded as running `job_id` (alive or not), if any.
    pub fn lease(&self, job_id: &str) -> Result<Option<LeaseOwner>, JournalError> {
        read_lease(&self.conn, job_id)
    }

    /// Takes the lease of `job_id` for the engine `owner` with `token`, in one write transaction:
    /// refused ([`JournalError::Leased`]) while another live engine holds it; a dead owner's lease
    /// is taken over. Returns the owner it took over from, if any.
    pub fn acquire_lease(
        &mut self,
        job_id: &str,
        token: &str,
        owner: &LeaseOwner,
    ) -> Result<Option<LeaseOwner>, JournalError> {
        let tx = ctx(
            "begin",
            self.conn
                .transaction_with_behavior(TransactionBehavior::Immediate),
        )?;
        let exists: Option<Option<String>> = ctx(
            "read lease",
            tx.query_row(
                "SELECT lease_token FROM jobs WHERE id = ?1",
                params![job_id],
                |r| r.get(0),
            )
            .optional(),
        )?;
        let Some(current_token) = exists else {
            return Err(JournalError::unknown_job(job_id));
        };
        let previous = read_lease(&tx, job_id)?;
        if let Some(previous) = &previous
            && current_token.as_deref() != Some(token)
            && previous.is_alive()
        {
            return Err(JournalError::Leased {
                job: job_id.to_string(),
                owner: previous.describe(),
            });
        }
        write_lease(&tx, job_id, token, owner)?;
        ctx("commit", tx.commit())?;
        Ok(previous)
    }

    /// Renews the lease (heartbeat); [`JournalError::LeaseLost`] when another engine took it over.
    pub fn renew_lease(&self, job_id: &str, token: &str, now: i64) -> Result<(), JournalError> {
        let changed = ctx(
            "renew lease",
            self.conn.execute(
                "UPDATE jobs SET lease_heartbeat = ?3 WHERE id = ?1 AND lease_token = ?2",
                params![job_id, token, now],
            ),
        )?;
        if changed == 1 {
            Ok(())
        } else {
            Err(JournalError::LeaseLost {
                job: job_id.to_string(),
            })
        }
    }

    /// Gives the lease up (the job stopped); a lease another engine took over is left alone.
    pub fn release_lease(&self, job_id: &str, token: &str) -> Result<(), JournalError> {
        ctx(
            "release lease",
            self.conn.execute(
                "UPDATE jobs SET lease_token = NULL, lease_pid = NULL, lease_host = NULL, lease_started = NULL, lease_heartbeat = NULL WHERE id = ?1 AND lease_token = ?2",
                params![job_id, token],
            ),
        )
        .map(|_| ())
    }

    /// Records that attempt `attempts` of an item is about to be sent. Refused
    /// ([`JournalError::ItemGuard`]) unless the item is pending or sent: a finished item is never
    /// sent again.
    pub fn mark_sent(
        &self,
        job_id: &str,
        idx: u32,
        attempts: u32,
        now: i64,
    ) -> Result<(), JournalError> {
        mark_sent_in(&self.conn, job_id, idx, attempts, now)
    }

    /// Records an item's final result, and the audit entry for it, in one transaction.
    pub fn finish_item(
        &mut self,
        job_id: &str,
        item: &JournalItem,
        audit: Option<&AuditEntry>,
        now: i64,
    ) -> Result<(), JournalError> {
        let writes = [ItemWrite::Finished {
            item: Box::new(item.clone()),
            audit: audit.map(|a| Box::new(a.clone())),
            now,
        }];
        self.write_batch(job_id, &writes)
    }

    /// Applies several item writes of one job in a single transaction (group commit): one WAL
    /// commit instead of one per write. All or nothing: on an error none of them is recorded.
    pub fn write_batch(&mut self, job_id: &str, writes: &[ItemWrite]) -> Result<(), JournalError> {
        self.write_batch_leased(job_id, None, writes)
    }

    /// [`Self::write_batch`] by the engine holding the job's lease `token`: refused
    /// ([`JournalError::LeaseLost`]) when another engine took the lease over.
    pub fn write_batch_leased(
        &mut self,
        job_id: &str,
        token: Option<&str>,
        writes: &[ItemWrite],
    ) -> Result<(), JournalError> {
        let tx = ctx(
            "begin",
            self.conn
                .transaction_with_behavior(TransactionBehavior::Immediate),
        )?;
        if let Some(token) = token {
            let holder: Option<String> = ctx(
                "read lease",
                tx.prepare_cached("SELECT lease_token FROM jobs WHERE id = ?1")
                    .and_then(|mut s| s.query_row(params![job_id], |r| r.get(0))),
            )?;
            if holder.as_deref() != Some(token) {
                return Err(JournalError::LeaseLost {
                    job: job_id.to_string(),
                });
            }
        }
        let mut chain = ChainCursor::default();
        for write in writes {
            match write {
                ItemWrite::Sent { idx, attempts, now } => {
                    mark_sent_in(&tx, job_id, *idx, *attempts, *now)?
                }
                ItemWrite::Previous { idx, previous } => ctx(
                    "record previous",
                    record_previous_in(&tx, job_id, *idx, previous),
                )?,
                ItemWrite::Finished { item, audit, now } => {
                    finish_item_in(&tx, job_id, item, *now)?;
                    if let Some(entry) = audit {
                        append_audit(&tx, &mut chain, entry, None)?;
                    }
                }
                ItemWrite::Held { item, audit, now } => {
                    hold_item_in(&tx, job_id, item, *now)?;
                    if let Some(entry) = audit {
                        append_audit(&tx, &mut chain, entry, None)?;
                    }
                }
            }
        }
        ctx("commit", tx.commit())
    }

    /// Appends an audit entry (single-row changes made outside a job).
    pub fn record_audit(&mut self, entry: &AuditEntry) -> Result<(), JournalError> {
        self.begin_audit(entry).map(|_| ())
    }

    /// The id of the audit row whose hash is `hash`, if the log holds one.
    pub fn audit_row_with_hash(&self, hash: &str) -> Result<Option<i64>, JournalError> {
        ctx(
            "find audit row",
            self.conn
                .query_row(
                    "SELECT id FROM audit WHERE hash = ?1",
                    params![hash.to_ascii_lowercase()],
                    |r| r.get(0),
                )
                .optional(),
        )
    }

    /// Checks the audit log's hash chain from its first row to its last.
    pub fn verify_audit(&self) -> Result<ChainReport, JournalError> {
        ctx("verify audit", audit_chain::verify(&self.conn))
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

    /// Jobs with open items: killed, crashed or cancelled, running now, or finished with items
    /// held (their state could not be read back; a resume reads them again).
    pub fn unfinished_jobs(&self) -> Result<Vec<(JobRecord, JobCounts)>, JournalError> {
        Ok(self
            .jobs()?
            .into_iter()
            .filter(|(_, counts)| counts.pending + counts.sent > 0)
            .collect())
    }

    /// [`Self::unfinished_jobs`], each with the live engine running it, if any.
    pub fn unfinished_jobs_owned(&self) -> Result<Vec<UnfinishedJob>, JournalError> {
        self.unfinished_jobs()?
            .into_iter()
            .map(|(job, counts)| {
                let live_owner = read_lease(&self.conn, &job.id)?.filter(LeaseOwner::is_alive);
                Ok(UnfinishedJob {
                    job,
                    counts,
                    live_owner,
                })
            })
            .collect()
    }

    /// The unfinished jobs that may be resumed now: those no live engine runs (the window's resume
    /// offer; a job running in another window or a CLI is not offered).
    pub fn resumable_jobs(&self) -> Result<Vec<(JobRecord, JobCounts)>, JournalError> {
        Ok(self
            .unfinished_jobs_owned()?
            .into_iter()
            .filter(|u| u.live_owner.is_none())
            .map(|u| (u.job, u.counts))
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

    /// Audit entries, oldest first, one per change (a `sent` row completed by its answer row),
    /// optionally only those whose fields contain `filter`.
    pub fn audit(&self, filter: Option<&str>) -> Result<Vec<AuditEntry>, JournalError> {
        Self::read_audit(&self.conn, filter)
    }

    fn read_audit(
        conn: &Connection,
        filter: Option<&str>,
    ) -> Result<Vec<AuditEntry>, JournalError> {
        let mut stmt = ctx(
            "prepare",
            conn.prepare(&format!("SELECT {AUDIT_COLUMNS} FROM audit ORDER BY id")),
        )?;
        let rows: Vec<(AuditEntry, Option<i64>)> = ctx(
            "read audit",
            stmt.query_map([], |r| Ok((audit_from_row(r)?, r.get(18)?)))
                .and_then(|rows| rows.collect()),
        )?;
        // One entry per change: an answer row completes the row it refers to (the latest answer
        // wins: a held item answered again after a resume).
        let mut all: Vec<AuditEntry> = Vec::with_capacity(rows.len());
        let mut position: std::collections::HashMap<i64, usize> =
            std::collections::HashMap::with_capacity(rows.len());
        for (row, refers_to) in rows {
            match refers_to.and_then(|id| position.get(&id).copied()) {
                Some(at) => {
                    let change = &mut all[at];
                    change.result = row.result;
                    change.code = row.code;
                    change.message = row.message.or(change.message.take());
                    change.request_id = row.request_id;
                    change.answer_id = Some(row.id);
                }
                None => {
                    position.insert(row.id, all.len());
                    all.push(row);
                }
            }
        }
        Ok(
            match filter.map(str::to_lowercase).filter(|f| !f.is_empty()) {
                None => all,
                Some(needle) => all
                    .into_iter()
                    .filter(|e| {
                        [
                            e.profile.as_str(),
                            e.os_user.as_deref().unwrap_or_default(),
                            e.host.as_deref().unwrap_or_default(),
                            e.access_key_id.as_deref().unwrap_or_default(),
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
) -> Result<(), JournalError> {
    let changed = ctx(
        "mark sent",
        conn.prepare_cached(
            "UPDATE job_items SET state = 'sent', attempts = ?3, updated_at = ?4 WHERE job_id = ?1 AND idx = ?2 AND state IN ('pending', 'sent')",
        )
        .and_then(|mut s| s.execute(params![job_id, idx, attempts, now])),
    )?;
    if changed == 1 {
        Ok(())
    } else {
        Err(JournalError::ItemGuard {
            job: job_id.to_string(),
            idx,
            what: "not sent: the item is finished (or unknown) in the journal",
        })
    }
}

fn finish_item_in(
    conn: &Connection,
    job_id: &str,
    item: &JournalItem,
    now: i64,
) -> Result<(), JournalError> {
    let changed = ctx(
        "finish item",
        conn.prepare_cached(
            "UPDATE job_items SET state = ?3, outcome = ?4, code = ?5, message = ?6, request_id = ?7, attempts = ?8, updated_at = ?9 WHERE job_id = ?1 AND idx = ?2 AND state IN ('pending', 'sent')",
        )
        .and_then(|mut stmt| {
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
            ])
        }),
    )?;
    if changed == 1 {
        Ok(())
    } else {
        Err(JournalError::ItemGuard {
            job: job_id.to_string(),
            idx: item.idx,
            what: "its result was already recorded; a finished item never changes again",
        })
    }
}

fn hold_item_in(
    conn: &Connection,
    job_id: &str,
    item: &JournalItem,
    now: i64,
) -> Result<(), JournalError> {
    let changed = ctx(
        "hold item",
        conn.prepare_cached(
            "UPDATE job_items SET outcome = ?3, code = ?4, message = ?5, updated_at = ?6 WHERE job_id = ?1 AND idx = ?2 AND state = 'sent'",
        )
        .and_then(|mut stmt| {
            stmt.execute(params![
                job_id,
                item.idx,
                item.outcome,
                item.code,
                item.message,
                now
            ])
        }),
    )?;
    if changed == 1 {
        Ok(())
    } else {
        Err(JournalError::ItemGuard {
            job: job_id.to_string(),
            idx: item.idx,
            what: "only a sent item can be held",
        })
    }
}

fn write_lease(
    conn: &Connection,
    job_id: &str,
    token: &str,
    owner: &LeaseOwner,
) -> Result<(), JournalError> {
    ctx(
        "take lease",
        conn.execute(
            "UPDATE jobs SET lease_token = ?2, lease_pid = ?3, lease_host = ?4, lease_started = ?5, lease_heartbeat = ?6 WHERE id = ?1",
            params![job_id, token, owner.pid, owner.host, owner.started, owner.heartbeat],
        ),
    )
    .map(|_| ())
}

/// A job's lease columns: pid, host, process start time, heartbeat (all NULL: no lease).
type LeaseColumns = (Option<u32>, Option<String>, Option<String>, Option<i64>);

fn read_lease(conn: &Connection, job_id: &str) -> Result<Option<LeaseOwner>, JournalError> {
    let row: Option<LeaseColumns> = ctx(
        "read lease",
        conn.query_row(
            "SELECT lease_pid, lease_host, lease_started, lease_heartbeat FROM jobs WHERE id = ?1",
            params![job_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional(),
    )?;
    Ok(match row {
        Some((Some(pid), Some(host), started, Some(heartbeat))) => Some(LeaseOwner {
            pid,
            host,
            started,
            heartbeat,
        }),
        _ => None,
    })
}

/// Where the next audit row of a write transaction goes: the id and the previous row's hash, read
/// once per transaction (the transaction holds the write lock, so nobody appends in between).
#[derive(Default)]
struct ChainCursor {
    head: Option<(i64, String)>,
}

/// Appends `e` (with `refers_to`: an answer to that row) to the audit chain; returns its id.
fn append_audit(
    conn: &Connection,
    chain: &mut ChainCursor,
    e: &AuditEntry,
    refers_to: Option<i64>,
) -> Result<i64, JournalError> {
    let (last_id, prev_hash) = match chain.head.take() {
        Some(head) => head,
        None => ctx("read audit head", audit_chain::head(conn))?,
    };
    let id = last_id + 1;
    let text = |s: &str| Value::Text(s.to_string());
    let opt = |s: &Option<String>| s.as_deref().map_or(Value::Null, text);
    // In audit_chain::HASHED_COLUMNS order.
    let values = [
        Value::Integer(id),
        Value::Integer(e.at),
        opt(&e.os_user),
        opt(&e.host),
        text(&e.profile),
        opt(&e.access_key_id),
        opt(&e.region),
        opt(&e.endpoint),
        text(e.provider.code()),
        text(e.service.code()),
        text(e.operation.as_str()),
        text(&e.target),
        e.site_id.map_or(Value::Null, Value::Integer),
        text(e.result.as_str()),
        opt(&e.code),
        opt(&e.message),
        opt(&e.request_id),
        opt(&e.job_id),
        refers_to.map_or(Value::Null, Value::Integer),
    ];
    let hash = ctx(
        "append audit",
        audit_chain::insert_chained(conn, &prev_hash, &values),
    )?;
    chain.head = Some((id, hash));
    Ok(id)
}

/// Single changes (outside a bulk job) are written to the audit log before the request is sent
/// (result `sent`) and answered afterwards by a second row that refers to the first, so a crash in
/// between leaves an entry that says the change may have been applied, and no row is ever changed.
impl Journal {
    /// Appends an audit entry for a change about to be sent; returns its row id for
    /// [`Self::finish_audit`].
    pub fn begin_audit(&mut self, entry: &AuditEntry) -> Result<i64, JournalError> {
        let tx = ctx(
            "begin",
            self.conn
                .transaction_with_behavior(TransactionBehavior::Immediate),
        )?;
        let id = append_audit(&tx, &mut ChainCursor::default(), entry, None)?;
        ctx("commit", tx.commit())?;
        Ok(id)
    }

    /// Records the answer of a change begun with [`Self::begin_audit`]: a new row (who, where and
    /// what copied from row `id`) with the result, referring to row `id`.
    pub fn finish_audit(
        &mut self,
        id: i64,
        result: AuditResult,
        code: Option<&str>,
        message: Option<&str>,
        request_id: Option<&str>,
    ) -> Result<(), JournalError> {
        let tx = ctx(
            "begin",
            self.conn
                .transaction_with_behavior(TransactionBehavior::Immediate),
        )?;
        let sent = ctx(
            "read audit",
            tx.query_row(
                &format!("SELECT {AUDIT_COLUMNS} FROM audit WHERE id = ?1"),
                params![id],
                audit_from_row,
            ),
        )?;
        let answer = AuditEntry {
            at: now_secs(),
            result,
            code: code.map(str::to_string),
            message: message.map(str::to_string),
            request_id: request_id.map(str::to_string),
            ..sent
        };
        append_audit(&tx, &mut ChainCursor::default(), &answer, Some(id))?;
        ctx("commit", tx.commit())
    }
}

fn now_secs() -> i64 {
    super::lease::now_secs()
}

/// The columns [`audit_from_row`] reads, in its order.
const AUDIT_COLUMNS: &str = "at, profile, provider, service, operation, target, site_id, result, code, message, request_id, job_id, os_user, host, access_key_id, region, endpoint, id, refers_to";

fn audit_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuditEntry> {
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
        os_user: r.get(12)?,
        host: r.get(13)?,
        access_key_id: r.get(14)?,
        region: r.get(15)?,
        endpoint: r.get(16)?,
        id: r.get(17)?,
        answer_id: None,
    })
}

#[cfg(test)]
impl Journal {
    /// Drops the audit table so the next audit write fails (tests of "not recorded, not sent").
    pub(crate) fn break_audit_for_tests(&self) {
        let _ = self.conn.execute_batch("DROP TABLE audit");
    }
}

/// Writes audit entries as CSV (header + one line each) to `out`, formula-leading cells
/// neutralised ([`crate::csv_export`]).
pub fn write_audit_csv(entries: &[AuditEntry], out: impl std::io::Write) -> Result<(), csv::Error> {
    let mut w = crate::csv_export::SafeCsvWriter::new(out);
    w.serialize_all(entries)?;
    w.flush()
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
            os_user: Some("alice".into()),
            host: Some("desk-1".into()),
            access_key_id: Some("LTAI-public-id".into()),
            region: Some("cn-hangzhou".into()),
            endpoint: None,
            id: 0,
            answer_id: None,
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
        let stored = AuditEntry {
            id: 1,
            ..audit.clone()
        };
        assert_eq!(j.audit(Some("req-1")).unwrap(), vec![stored.clone()]);
        assert_eq!(j.audit(Some("alice")).unwrap(), vec![stored]);
        assert!(j.audit(Some("nothing-like-it")).unwrap().is_empty());
        let mut csv = Vec::new();
        write_audit_csv(&[audit], &mut csv).unwrap();
        let text = String::from_utf8(csv).unwrap();
        assert!(text.starts_with("at,profile,provider"), "{text}");
        assert!(text.contains("REQ-1"));
        let header = text.lines().next().unwrap();
        for column in ["os_user", "host", "access_key_id", "region", "endpoint"] {
            assert!(header.split(',').any(|c| c == column), "{header}");
        }
        assert!(text.contains("LTAI-public-id") && text.contains("desk-1"));
    }

    fn entry(target: &str) -> AuditEntry {
        AuditEntry {
            at: 200,
            profile: "prod".into(),
            provider: Provider::Alibaba,
            service: Service::Pca,
            operation: Change::Revoke,
            target: target.into(),
            site_id: None,
            result: AuditResult::Sent,
            code: None,
            message: Some("note".into()),
            request_id: None,
            job_id: None,
            os_user: Some("alice".into()),
            host: Some("desk-1".into()),
            access_key_id: Some("LTAI-1".into()),
            region: Some("cn-hangzhou".into()),
            endpoint: Some("http://127.0.0.1:1".into()),
            id: 0,
            answer_id: None,
        }
    }

    fn raw(j: &Journal, sql: &str) {
        j.conn.execute_batch(sql).unwrap();
    }

    /// Five changes (ten rows: each `sent` row and its answer), chain intact.
    fn five_changes() -> Journal {
        let mut j = Journal::in_memory().unwrap();
        for i in 0..5 {
            let id = j.begin_audit(&entry(&format!("t{i}"))).unwrap();
            j.finish_audit(id, Outcome::Applied.into(), None, None, Some("REQ"))
                .unwrap();
        }
        j
    }

    #[test]
    fn an_answer_is_a_new_row_and_the_log_reads_one_entry_per_change() {
        let mut j = Journal::in_memory().unwrap();
        let id = j.begin_audit(&entry("t0")).unwrap();
        let open = j.audit(None).unwrap();
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].result, AuditResult::Sent);
        j.finish_audit(id, Outcome::Failed.into(), Some("Code"), None, Some("R"))
            .unwrap();
        let done = j.audit(None).unwrap();
        assert_eq!(done.len(), 1, "{done:?}");
        assert_eq!(done[0].result, AuditResult::Done(Outcome::Failed));
        assert_eq!(done[0].id, id);
        assert_eq!(done[0].answer_id, Some(id + 1));
        assert_eq!(done[0].message.as_deref(), Some("note"), "the note stays");
        assert_eq!(done[0].access_key_id.as_deref(), Some("LTAI-1"));
        let rows: i64 = j
            .conn
            .query_row("SELECT COUNT(*) FROM audit", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 2);
        // The sent row itself was not changed.
        let first: String = j
            .conn
            .query_row("SELECT result FROM audit WHERE id = ?1", [id], |r| r.get(0))
            .unwrap();
        assert_eq!(first, "sent");
        assert!(j.verify_audit().unwrap().is_intact());
    }

    #[test]
    fn audit_rows_cannot_be_updated_or_deleted_through_certdesks_schema() {
        let j = five_changes();
        assert!(
            j.conn
                .execute_batch("UPDATE audit SET result = 'failed' WHERE id = 2")
                .is_err()
        );
        assert!(
            j.conn
                .execute_batch("DELETE FROM audit WHERE id = 2")
                .is_err()
        );
        assert!(j.verify_audit().unwrap().is_intact());
    }

    #[test]
    fn verify_names_the_first_edited_deleted_or_reordered_row() {
        let j = five_changes();
        let intact = j.verify_audit().unwrap();
        assert_eq!((intact.rows, intact.broken.clone()), (10, None));
        assert!(intact.summary().contains("intact"), "{}", intact.summary());
        let unlock = "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;";

        let edited = five_changes();
        raw(&edited, unlock);
        raw(
            &edited,
            "UPDATE audit SET profile = 'someone-else' WHERE id = 4",
        );
        let report = edited.verify_audit().unwrap();
        assert_eq!(report.broken.as_ref().map(|b| b.row), Some(4), "{report:?}");
        assert!(report.summary().contains("edited"), "{}", report.summary());

        let deleted = five_changes();
        raw(&deleted, unlock);
        raw(&deleted, "DELETE FROM audit WHERE id = 6");
        let report = deleted.verify_audit().unwrap();
        assert_eq!(report.broken.as_ref().map(|b| b.row), Some(6), "{report:?}");
        assert!(report.summary().contains("deleted"), "{}", report.summary());

        // Deleted, and the ids closed up so there is no gap.
        let renumbered = five_changes();
        raw(&renumbered, unlock);
        raw(
            &renumbered,
            "DELETE FROM audit WHERE id = 3; UPDATE audit SET id = id - 1 WHERE id > 3;              UPDATE sqlite_sequence SET seq = 9 WHERE name = 'audit';",
        );
        let report = renumbered.verify_audit().unwrap();
        assert_eq!(report.broken.as_ref().map(|b| b.row), Some(3), "{report:?}");

        // Two rows swapped (everything but the id).
        let reordered = five_changes();
        raw(&reordered, unlock);
        raw(
            &reordered,
            "UPDATE audit SET id = -7 WHERE id = 7; UPDATE audit SET id = 7 WHERE id = 8;              UPDATE audit SET id = 8 WHERE id = -7;",
        );
        let report = reordered.verify_audit().unwrap();
        assert_eq!(report.broken.as_ref().map(|b| b.row), Some(7), "{report:?}");

        // The last rows cut off.
        let truncated = five_changes();
        raw(&truncated, unlock);
        raw(&truncated, "DELETE FROM audit WHERE id >= 9");
        let report = truncated.verify_audit().unwrap();
        assert_eq!(report.broken.as_ref().map(|b| b.row), Some(9), "{report:?}");

        // An empty log is intact; a log with its head removed names it.
        assert!(
            Journal::in_memory()
                .unwrap()
                .verify_audit()
                .unwrap()
                .is_intact()
        );
    }

    #[test]
    fn a_finished_item_never_goes_back_and_is_never_sent_again() {
        let mut j = Journal::in_memory().unwrap();
        j.create_job(&job("g"), &[("a".into(), None, "A".into())])
            .unwrap();
        j.mark_sent("g", 0, 1, 1).unwrap();
        let mut done = j.items("g").unwrap()[0].clone();
        done.state = ItemState::Succeeded;
        done.outcome = Some(Outcome::Applied);
        j.finish_item("g", &done, None, 2).unwrap();
        let again = j.mark_sent("g", 0, 2, 3).unwrap_err();
        assert!(
            matches!(again, JournalError::ItemGuard { idx: 0, .. }),
            "{again}"
        );
        let mut failed = done.clone();
        failed.state = ItemState::Failed;
        assert!(j.finish_item("g", &failed, None, 4).is_err());
        assert_eq!(j.items("g").unwrap()[0].state, ItemState::Succeeded);
        // Even raw SQL cannot move it back.
        assert!(
            j.conn
                .execute_batch("UPDATE job_items SET state = 'sent' WHERE job_id = 'g'")
                .is_err()
        );
        assert!(j.mark_sent("g", 7, 1, 1).is_err(), "no such item");
    }

    #[test]
    fn one_live_engine_per_job_and_a_dead_ones_lease_is_taken_over() {
        let mut j = Journal::in_memory().unwrap();
        let me = LeaseOwner::this_process();
        j.create_job_as(
            &job("l"),
            &[("a".into(), None, "A".into())],
            &JobOrigin::default(),
            Some(("t1", &me)),
        )
        .unwrap();
        let refused = j.acquire_lease("l", "t2", &me).unwrap_err();
        assert!(
            refused.to_string().contains(&format!("process {}", me.pid)),
            "{refused}"
        );
        assert_eq!(
            j.unfinished_jobs_owned().unwrap()[0].live_owner,
            Some(me.clone())
        );
        assert!(
            j.resumable_jobs().unwrap().is_empty(),
            "a running job is not offered"
        );
        // The holder renews; the lease of a silent owner is taken over.
        j.renew_lease("l", "t1", 5).unwrap();
        let taken = j.acquire_lease("l", "t2", &me).unwrap();
        assert_eq!(taken.map(|o| o.heartbeat), Some(5));
        // The old engine can no longer write or renew.
        let lost = j
            .write_batch_leased(
                "l",
                Some("t1"),
                &[ItemWrite::Sent {
                    idx: 0,
                    attempts: 1,
                    now: 6,
                }],
            )
            .unwrap_err();
        assert!(matches!(lost, JournalError::LeaseLost { .. }), "{lost}");
        assert!(j.renew_lease("l", "t1", 7).is_err());
        assert_eq!(j.items("l").unwrap()[0].state, ItemState::Pending);
        j.write_batch_leased(
            "l",
            Some("t2"),
            &[ItemWrite::Sent {
                idx: 0,
                attempts: 1,
                now: 6,
            }],
        )
        .unwrap();
        j.release_lease("l", "t2").unwrap();
        assert_eq!(j.lease("l").unwrap(), None);
        assert_eq!(j.resumable_jobs().unwrap().len(), 1);
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
