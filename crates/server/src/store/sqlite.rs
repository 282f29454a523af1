//! The embedded default: one SQLite file in WAL mode.

use std::str::FromStr;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::{Backend, Result, StoreError};

#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) the file a `sqlite:` URL names and migrates it.
    pub async fn open(url: &str) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::BadUrl(format!("'{url}' is not a usable SQLite URL: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // NORMAL is durable across process crashes in WAL mode; only a power cut can lose
            // the last commits, which the daily backup covers.
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        if let Some(parent) = options.get_filename().parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent).map_err(|e| {
                StoreError::Unavailable(format!("cannot create {}: {e}", parent.display()))
            })?;
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            // A connection to a local file does not go stale, and the default ping before
            // each use is one more round trip to the connection's thread: a decision paid
            // it for each of its reads and its transaction.
            .test_before_acquire(false)
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Unavailable(format!("cannot open {url}: {e}")))?;
        sqlx::migrate!("migrations/sqlite").run(&pool).await?;
        Ok(Self { pool })
    }
}

// SQLite upgrades a deferred transaction's read lock to a write lock lazily, and fails at
// once (without waiting for busy_timeout) when another writer got there first. Taking the
// write lock up front makes writers queue instead.
super::base_sql!(SqliteStore, "BEGIN IMMEDIATE", Backend::Sqlite);
super::org::org_sql!(SqliteStore, "BEGIN IMMEDIATE", sqlx::Sqlite);
super::sessions::sessions_sql!(SqliteStore, "BEGIN IMMEDIATE", sqlx::Sqlite);
super::audit::audit_sql!(SqliteStore, "BEGIN IMMEDIATE", sqlx::Sqlite);
super::feed::feed_sql!(SqliteStore, "BEGIN IMMEDIATE", sqlx::Sqlite);
super::requests::requests_sql!(SqliteStore, "BEGIN IMMEDIATE", sqlx::Sqlite);
super::accounts::accounts_sql!(SqliteStore, "BEGIN IMMEDIATE", sqlx::Sqlite);
super::attachments::attachments_sql!(SqliteStore, "BEGIN IMMEDIATE", sqlx::Sqlite);
super::live::live_sql!(SqliteStore, sqlx::Sqlite);
super::overdue::overdue_sql!(SqliteStore, "BEGIN IMMEDIATE", sqlx::Sqlite);
super::meetings::meetings_sql!(SqliteStore, "BEGIN IMMEDIATE", sqlx::Sqlite);
