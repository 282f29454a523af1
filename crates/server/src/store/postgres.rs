//! PostgreSQL, for organisations that run several server replicas on one database.

use std::str::FromStr;
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::requests::RequestQueue;
use super::writer_thread::WriterThread;
use super::{Backend, Result, StoreError};

#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
    /// Writes: PostgreSQL's writers wait on the locks they need and are woken when those
    /// are released (see `SqliteStore::writer`). A pool of its own, opened on the writer
    /// thread, so that its connections' answers are noticed there at once (a socket's
    /// readiness is reported by the runtime it was opened on).
    writer: PgPool,
    /// Where a decision's and an audited read's transactions run (see [`WriterThread`]).
    writes: WriterThread,
    /// Request changes, written in batches on the writer thread.
    request_queue: RequestQueue,
}

impl PostgresStore {
    /// Connects to the database a `postgres:` URL names and migrates it. Fails within a few
    /// seconds, with the host named, when the server is down.
    pub async fn open(url: &str) -> Result<Self> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::BadUrl(format!("not a usable PostgreSQL URL: {e}")))?;
        let target = format!(
            "PostgreSQL at {}:{} (database '{}')",
            options.get_host(),
            options.get_port(),
            options.get_database().unwrap_or("postgres")
        );
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options.clone())
            .await
            .map_err(|e| StoreError::Unavailable(format!("cannot connect to {target}: {e}")))?;
        sqlx::migrate!("migrations/postgres").run(&pool).await?;
        let writes = WriterThread::start("postgres")?;
        let writer = writes
            .run(async move {
                PgPoolOptions::new()
                    // Writers beyond a few only wait for the audit chain's head.
                    .max_connections(8)
                    .acquire_timeout(Duration::from_secs(5))
                    .connect_with(options)
                    .await
                    .map_err(|e| {
                        StoreError::Unavailable(format!("cannot connect to {target}: {e}"))
                    })
            })
            .await?;
        Ok(Self {
            pool,
            request_queue: Self::start_request_queue(&writes, writer.clone(), 4),
            writer,
            writes,
        })
    }
}

super::base_sql!(PostgresStore, "BEGIN", Backend::Postgres);
super::org::org_sql!(PostgresStore, "BEGIN", sqlx::Postgres);
super::sessions::sessions_sql!(PostgresStore, "BEGIN", sqlx::Postgres);
super::audit::audit_sql!(PostgresStore, "BEGIN", sqlx::Postgres);
super::feed::feed_sql!(PostgresStore, "BEGIN", sqlx::Postgres);
super::requests::requests_sql!(PostgresStore, "BEGIN", sqlx::Postgres);
super::accounts::accounts_sql!(PostgresStore, "BEGIN", sqlx::Postgres);
super::attachments::attachments_sql!(PostgresStore, "BEGIN", sqlx::Postgres);
super::live::live_sql!(PostgresStore, sqlx::Postgres);
super::overdue::overdue_sql!(PostgresStore, "BEGIN", sqlx::Postgres);
super::meetings::meetings_sql!(PostgresStore, "BEGIN", sqlx::Postgres);
