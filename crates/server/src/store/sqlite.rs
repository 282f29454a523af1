//! The embedded default: one SQLite file in WAL mode.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::requests::RequestQueue;
use super::writer_thread::WriterThread;
use super::{Backend, Result, StoreError};

#[derive(Debug, Clone)]
pub struct SqliteStore {
    /// Reads, many at once (WAL: readers never wait for the writer).
    pool: SqlitePool,
    /// Every write, on one connection. SQLite has one writer at a time, and a connection that
    /// finds the write lock taken does not wait for it to be released: its busy handler polls,
    /// sleeping 1, 2, 5, 10 … 100 ms between tries, so under load the lock sat free while the
    /// writers that wanted it slept (and held pool connections that reads then waited for).
    /// One connection makes them queue in the pool instead, each woken the moment the one
    /// before commits.
    writer: SqlitePool,
    /// Where a decision's and an audited read's transactions run (see [`WriterThread`]).
    writes: WriterThread,
    /// Request changes, written in batches on the writer thread.
    request_queue: RequestQueue,
    _checkpointer: Arc<Checkpointer>,
}

/// How often the write-ahead log is copied into the database file, off every request's path.
/// Left to SQLite, that copy (and its two syncs, 100–300 ms on a slow disk) runs inside
/// whichever commit takes the log past 1,000 pages; with every read audited, each answer
/// commits, so one answer in a few hundred paid it (the tail of "pending for me").
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// The task that checkpoints the log; stopped when the last copy of the store is dropped
/// (or at once when the pool is closed).
#[derive(Debug)]
struct Checkpointer(tokio::task::JoinHandle<()>);

impl Checkpointer {
    fn start(pool: SqlitePool) -> Self {
        Self(tokio::spawn(async move {
            let mut ticks = tokio::time::interval(CHECKPOINT_EVERY);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                if pool.is_closed() {
                    return;
                }
                // PASSIVE: copies what no reader still needs, never waits for a writer.
                if let Err(error) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                    .execute(&pool)
                    .await
                    && !pool.is_closed()
                {
                    tracing::warn!(%error, "checkpoint of the SQLite log failed; tried again in a second");
                }
            }
        }))
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.0.abort();
    }
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
            .busy_timeout(Duration::from_secs(5))
            // The log is checkpointed by [`Checkpointer`], never inside a commit.
            .pragma("wal_autocheckpoint", "0");
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
            .connect_with(options.clone())
            .await
            .map_err(|e| StoreError::Unavailable(format!("cannot open {url}: {e}")))?;
        sqlx::migrate!("migrations/sqlite").run(&pool).await?;
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            // Writers queue here: under a burst of decisions one may wait for dozens before
            // it; the transaction's own statements then take a millisecond or two.
            .acquire_timeout(Duration::from_secs(10))
            .test_before_acquire(false)
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Unavailable(format!("cannot open {url}: {e}")))?;
        let checkpointer = Arc::new(Checkpointer::start(pool.clone()));
        let writes = WriterThread::start("sqlite")?;
        Ok(Self {
            pool,
            request_queue: Self::start_request_queue(&writes, writer.clone(), 1),
            writer,
            writes,
            _checkpointer: checkpointer,
        })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store as _;

    /// The database file's length once the log has been copied into it: what the pages
    /// SQLite counts take, polled for a few seconds.
    async fn file_catches_up(store: &SqliteStore, file: &std::path::Path) -> (u64, u64) {
        let (pages, page_size): (i64, i64) = sqlx::query_as(
            "SELECT page_count, page_size FROM pragma_page_count(), pragma_page_size()",
        )
        .fetch_one(&store.pool)
        .await
        .unwrap();
        let wanted = u64::try_from(pages * page_size).unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        let mut ticks = tokio::time::interval(Duration::from_millis(50));
        loop {
            let len = std::fs::metadata(file).unwrap().len();
            if len >= wanted || tokio::time::Instant::now() > deadline {
                return (len, wanted);
            }
            ticks.tick().await;
        }
    }

    #[tokio::test]
    async fn what_is_written_reaches_the_database_file_without_a_commit_paying_for_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("server.sqlite");
        let store = SqliteStore::open(&format!("sqlite://{}", file.display()))
            .await
            .unwrap();
        // No commit checkpoints: the log would otherwise be copied once past 1,000 pages.
        let (auto,): (i64,) = sqlx::query_as("PRAGMA wal_autocheckpoint")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert_eq!(auto, 0);
        let (len, wanted) = file_catches_up(&store, &file).await;
        assert_eq!(len, wanted, "the migrations are in the database file");

        // About 100 pages, a tenth of what SQLite's own checkpoint waits for.
        sqlx::query("INSERT INTO server_meta (key, value) VALUES ('ballast', $1)")
            .bind("x".repeat(400_000))
            .execute(&store.pool)
            .await
            .unwrap();
        let (len, wanted) = file_catches_up(&store, &file).await;
        assert!(wanted > 400_000);
        assert_eq!(
            len, wanted,
            "the new pages are copied from the log within seconds"
        );
        store.close().await;
    }
}
