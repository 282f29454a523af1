//! Storage: one [`Store`] trait, one implementation per database.
//!
//! The SQLite file is the zero-configuration default; PostgreSQL serves organisations that
//! run several replicas. Both implementations share their query text (the SQL we need is the
//! common subset) through the `sql_store!` macro and own their migrations under
//! `migrations/<backend>/`. The conformance suite in `tests/store_conformance.rs` runs every
//! storage test against both.

mod accounts;
pub(crate) mod attachments;
mod audit;
mod feed;
pub(crate) mod live;
pub(crate) mod meetings;
mod org;
mod overdue;
mod postgres;
mod requests;
mod sessions;
mod sqlite;
mod writer_thread;

use std::sync::Arc;

pub use accounts::{
    AccountStore, ActivationOutcome, ActivationRecord, ApprovalEffect, AuditQuery, DormantRecord,
    OpenAccount, PersonChange, PersonChangeOutcome, PersonnelChange, ProposalRecord,
    PublishProposal, TextFilter,
};
pub use attachments::AttachmentStore;
pub use audit::{AuditEntry, AuditRecord, AuditStore, ChainBreak, audit_hash, verify_audit_chain};
pub use feed::{EVERYONE, FeedEntry, FeedNotice, FeedRow, FeedStore};
pub use live::{FeedListener, FeedSignal, JobLock, LiveStore};
pub use meetings::{
    DELEGATE, INVITEE, LedgerChange, LedgerWrite, MeetingMaterial, MeetingPerson, MeetingRecord,
    MeetingStore, MeetingWrite, MeetingWriteOutcome, Room,
};
pub use org::{Delegation, Department, OrgStore, Person, PersonStatus};
pub use overdue::{OverdueMark, OverdueStore};
pub use postgres::PostgresStore;
pub use requests::{
    DecisionRead, MutationRecord, RequestRecord, RequestStore, RequestWrite, TaskRecord,
    TemplateRecord, TemplateStore, WriteOutcome,
};
pub use sessions::{IssuedHashes, SessionRecord, SessionStore, ThrottleState};
pub use sqlite::SqliteStore;

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique key would be violated; `constraint` names it where the database says.
    #[error("already exists ({constraint})")]
    Conflict { constraint: String },
    /// The database cannot be reached or refused the connection.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The database gave up on this transaction because of another one at the same time, and
    /// wrote none of it: PostgreSQL chose it as a deadlock's victim (40P01) or could not
    /// serialise it (40001); SQLite's write lock stayed taken past the busy timeout. The same
    /// write tried again will normally pass. Writers take rows in one order (requests by id,
    /// a meeting before its people, the audit head last) so that deadlocks should not occur;
    /// this keeps one that does a retryable answer instead of an internal error.
    #[error("database busy: {0}")]
    Busy(String),
    /// A URL the server cannot use as a database.
    #[error("{0}")]
    BadUrl(String),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error(transparent)]
    Database(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        if let Some(db) = err.as_database_error()
            && db.is_unique_violation()
        {
            return StoreError::Conflict {
                constraint: db.constraint().unwrap_or("unique").to_owned(),
            };
        }
        if let Some(db) = err.as_database_error()
            && is_contention(db)
        {
            return StoreError::Busy(db.message().to_owned());
        }
        match err {
            sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Tls(_) => StoreError::Unavailable(err.to_string()),
            other => StoreError::Database(other),
        }
    }
}

/// Whether the database refused the statement because of a concurrent transaction (see
/// [`StoreError::Busy`]). SQLite's codes are its result codes, whose low byte is the primary
/// code: `SQLITE_BUSY` (5) and `SQLITE_LOCKED` (6) with their extended forms.
fn is_contention(db: &dyn sqlx::error::DatabaseError) -> bool {
    if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
        return matches!(pg.code(), "40P01" | "40001");
    }
    if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
        return db
            .code()
            .and_then(|code| code.parse::<i32>().ok())
            .is_some_and(|code| matches!(code & 0xff, 5 | 6));
    }
    false
}

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Opens the store a database URL names, runs its migrations, and returns it. The scheme
/// picks the implementation: `sqlite:` or `postgres:`/`postgresql:`.
pub async fn open(url: &str) -> Result<Arc<dyn Store>> {
    match url.split_once(':').map(|(scheme, _)| scheme) {
        Some("sqlite") => Ok(Arc::new(SqliteStore::open(url).await?)),
        Some("postgres" | "postgresql") => Ok(Arc::new(PostgresStore::open(url).await?)),
        Some(other) => Err(StoreError::BadUrl(format!(
            "unsupported database URL scheme '{other}:' — use sqlite://PATH or postgres://HOST/DB"
        ))),
        None => Err(StoreError::BadUrl(format!(
            "'{url}' is not a database URL — use sqlite://PATH or postgres://HOST/DB"
        ))),
    }
}

/// The status of an account. Only `Active` people may sign in.
/// Everything the server keeps, behind one interface so the handlers and services never know
/// which database they run on. Each area has its own trait and module; methods that change
/// several rows are atomic.
#[async_trait::async_trait]
pub trait Store:
    OrgStore
    + SessionStore
    + AuditStore
    + FeedStore
    + TemplateStore
    + RequestStore
    + AccountStore
    + AttachmentStore
    + LiveStore
    + OverdueStore
    + MeetingStore
{
    fn backend(&self) -> Backend;

    /// Round-trips to the database; `/readyz` is ready when this succeeds.
    async fn ping(&self) -> Result<()>;

    async fn close(&self);

    async fn meta_get(&self, key: &str) -> Result<Option<String>>;
    async fn meta_set(&self, key: &str, value: &str) -> Result<()>;
}

/// The SQL of [`Store`], shared by both backends. `$begin_write` opens a transaction that
/// already holds the write lock where the database needs that said up front (SQLite).
macro_rules! base_sql {
    ($store:ty, $begin_write:literal, $backend:expr) => {
        #[async_trait::async_trait]
        impl $crate::store::Store for $store {
            fn backend(&self) -> $crate::store::Backend {
                $backend
            }

            #[tracing::instrument(skip_all)]
            async fn ping(&self) -> $crate::store::Result<()> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn close(&self) {
                self.writer.close().await;
                self.pool.close().await;
            }

            #[tracing::instrument(skip_all)]
            async fn meta_get(&self, key: &str) -> $crate::store::Result<Option<String>> {
                Ok(
                    sqlx::query_scalar("SELECT value FROM server_meta WHERE key = $1")
                        .bind(key)
                        .fetch_optional(&self.pool)
                        .await?,
                )
            }

            #[tracing::instrument(skip_all)]
            async fn meta_set(&self, key: &str, value: &str) -> $crate::store::Result<()> {
                sqlx::query(
                    "INSERT INTO server_meta (key, value) VALUES ($1, $2) \
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                )
                .bind(key)
                .bind(value)
                .execute(&self.writer)
                .await?;
                Ok(())
            }
        }
    };
}

pub(crate) use base_sql;
