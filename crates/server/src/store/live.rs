//! What lets several replicas on one database act as one server: feed notices that reach
//! every replica, and locks that let one replica at a time run a scheduled job.
//!
//! On PostgreSQL a transaction that writes feed rows also sends a `NOTIFY` (delivered at
//! commit, never for a rolled-back write) that every replica's listener hears, and jobs take
//! a session advisory lock. On SQLite one process owns the file: there is nothing to relay
//! and every lock is granted at once.

use std::future::Future;

use chrono::{DateTime, Utc};
use sqlx::pool::PoolConnection;
use sqlx::postgres::PgListener;
use uuid::Uuid;

use super::feed::{ROWS_PER_INSERT, audiences_of};
use super::{EVERYONE, FeedNotice, FeedRow, Result};

/// The PostgreSQL channel feed notices travel on.
pub const FEED_CHANNEL: &str = "countersign_feed";

/// PostgreSQL refuses `NOTIFY` payloads of 8000 bytes or more. A notice whose audience list
/// would not fit below this travels as "everyone": every stream then pulls once, which costs
/// a few empty pulls instead of a lost hint.
const MAX_PAYLOAD: usize = 7000;

/// Payload format version, first so that a replica running older code can tell a payload it
/// does not understand from a broken one.
const PAYLOAD_VERSION: &str = "1";

/// A notice as a `NOTIFY` payload: `1 <last_seq> <audience>,<audience>…` with UUIDs in
/// simple (32 hex digit) form, or `1 <last_seq> *` when the list is too long. PostgreSQL puts
/// the payload together itself (`FeedWrite`), in the statement that numbers the rows; this is
/// the same text as a test sees it.
#[cfg(test)]
fn encode_notice(notice: &FeedNotice) -> String {
    format!(
        "{PAYLOAD_VERSION} {} {}",
        notice.last_seq,
        audience_list(&notice.audiences)
    )
}

/// The audience part of a payload: the list, or `*` when it is empty or would not fit beside
/// the longest head (`1 `, a sequence number of up to 19 digits, a space). Fixed without the
/// sequence number so that PostgreSQL can put the payload together in the statement that
/// numbers the rows (`FeedWrite` below).
fn audience_list(audiences: &[Uuid]) -> String {
    const LONGEST_HEAD: usize = PAYLOAD_VERSION.len() + 1 + 19 + 1;
    let list = audiences
        .iter()
        .map(|a| a.simple().to_string())
        .collect::<Vec<_>>()
        .join(",");
    if list.is_empty() || LONGEST_HEAD + list.len() > MAX_PAYLOAD {
        "*".to_owned()
    } else {
        list
    }
}

/// The notice a payload carries; `None` for a payload this version does not understand.
pub fn decode_notice(payload: &str) -> Option<FeedNotice> {
    let mut parts = payload.split(' ');
    if parts.next()? != PAYLOAD_VERSION {
        return None;
    }
    let last_seq: i64 = parts.next()?.parse().ok()?;
    let list = parts.next()?;
    if parts.next().is_some() {
        return None;
    }
    let mut audiences = if list == "*" {
        vec![EVERYONE]
    } else {
        list.split(',')
            .map(|a| Uuid::parse_str(a).ok())
            .collect::<Option<Vec<_>>>()?
    };
    audiences.sort();
    audiences.dedup();
    Some(FeedNotice {
        last_seq,
        audiences,
    })
}

/// What a feed listener hears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedSignal {
    /// Some replica (this one included) committed feed rows.
    Notice(FeedNotice),
    /// The connection was lost and is back: notices sent in between are gone, so whoever
    /// relays them should tell every stream to pull once.
    Gap,
}

/// Hears the feed notices every replica on the database sends.
#[derive(Debug)]
pub struct FeedListener {
    inner: PgListener,
}

impl FeedListener {
    /// The next signal. An error means the listener could not reconnect; open a new one.
    pub async fn next(&mut self) -> Result<FeedSignal> {
        let Some(notification) = self.inner.try_recv().await? else {
            return Ok(FeedSignal::Gap);
        };
        match decode_notice(notification.payload()) {
            Some(notice) => Ok(FeedSignal::Notice(notice)),
            None => {
                // A newer replica's format: count it as a change for everyone rather than
                // miss it.
                tracing::warn!(
                    payload = notification.payload(),
                    "feed notice in an unknown format"
                );
                Ok(FeedSignal::Gap)
            }
        }
    }
}

/// A scheduled job's cluster-wide lock, held until [`JobLock::release`] or drop.
///
/// On PostgreSQL it is a session advisory lock on a connection taken out of the pool for the
/// duration; a session lock rather than a transaction one so that a long job is not cut off
/// by `idle_in_transaction_session_timeout`. Dropped without release (a panic, a cancelled
/// task), the connection is closed instead of going back to the pool, which ends the session
/// and so the lock: a lock can never outlive its holder inside a pooled connection.
#[derive(Debug)]
pub struct JobLock {
    held: Option<(PoolConnection<sqlx::Postgres>, i64)>,
}

impl JobLock {
    /// Releases the lock so another replica may run the job.
    pub async fn release(mut self) {
        let Some((mut conn, key)) = self.held.take() else {
            return;
        };
        let unlocked: std::result::Result<bool, sqlx::Error> =
            sqlx::query_scalar("SELECT pg_advisory_unlock($1)")
                .bind(key)
                .fetch_one(&mut *conn)
                .await;
        if !matches!(unlocked, Ok(true)) {
            tracing::warn!(
                ?unlocked,
                "could not release a job lock; closing its session"
            );
            conn.close_on_drop();
        }
    }
}

impl Drop for JobLock {
    fn drop(&mut self) {
        if let Some((conn, _)) = self.held.as_mut() {
            conn.close_on_drop();
        }
    }
}

/// The advisory-lock key of a job: the first eight bytes of a SHA-256 of its name, so keys
/// are stable across versions and replicas without a registry of numbers.
pub fn job_key(job: &str) -> i64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("countersign.job.{job}").as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}

/// Cluster coordination, one implementation per database.
#[async_trait::async_trait]
pub trait LiveStore: Send + Sync + 'static {
    /// A listener for feed notices from every replica; `None` where this process is the only
    /// writer (SQLite), so the in-process hub already hears everything.
    async fn listen_feed(&self) -> Result<Option<FeedListener>>;
    /// Takes the lock of `job` if no replica holds it; `None` when one does.
    async fn try_job_lock(&self, job: &str) -> Result<Option<JobLock>>;
}

/// The backend-specific half of [`LiveStore`], chosen by the sqlx database type so that the
/// shared `live_sql!` stays one line per backend.
pub(crate) trait LiveDatabase: sqlx::Database {
    fn listen(pool: &sqlx::Pool<Self>)
    -> impl Future<Output = Result<Option<FeedListener>>> + Send;
    fn try_lock(
        pool: &sqlx::Pool<Self>,
        key: i64,
    ) -> impl Future<Output = Result<Option<JobLock>>> + Send;
}

impl LiveDatabase for sqlx::Sqlite {
    async fn listen(_: &sqlx::Pool<Self>) -> Result<Option<FeedListener>> {
        Ok(None)
    }

    async fn try_lock(_: &sqlx::Pool<Self>, _: i64) -> Result<Option<JobLock>> {
        Ok(Some(JobLock { held: None }))
    }
}

impl LiveDatabase for sqlx::Postgres {
    async fn listen(pool: &sqlx::Pool<Self>) -> Result<Option<FeedListener>> {
        let mut inner = PgListener::connect_with(pool).await?;
        inner.listen(FEED_CHANNEL).await?;
        Ok(Some(FeedListener { inner }))
    }

    async fn try_lock(pool: &sqlx::Pool<Self>, key: i64) -> Result<Option<JobLock>> {
        let mut conn = pool.acquire().await?;
        let granted: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(key)
            .fetch_one(&mut *conn)
            .await?;
        Ok(granted.then_some(JobLock {
            held: Some((conn, key)),
        }))
    }
}

/// Writes feed rows inside the open transaction and tells the other replicas, at commit, that
/// it did. Called by `feed_in_tx!` on the transaction's connection, so every feed write
/// announces itself. Each row comes with the time of the change it records. Returns the last
/// sequence number written (0 for no rows).
pub(crate) trait FeedWrite {
    fn write_feed(
        &mut self,
        rows: &[(&FeedRow, DateTime<Utc>)],
    ) -> impl Future<Output = Result<i64>> + Send;
}

/// `INSERT INTO feed … VALUES (…), (…) RETURNING seq` for one chunk of rows, into `$query`
/// (a `QueryBuilder` holding what comes before the insert).
macro_rules! push_feed_insert {
    ($query:ident, $chunk:expr) => {{
        $query.push("INSERT INTO feed (audience, kind, entity_id, version, op, at) ");
        $query.push_values($chunk, |mut values, (row, at)| {
            values
                .push_bind(row.audience)
                .push_bind(row.kind)
                .push_bind(row.entity_id.as_str())
                .push_bind(row.version)
                .push_bind(row.op)
                .push_bind(at);
        });
        $query.push(" RETURNING seq");
    }};
}

/// Inserts one chunk of rows on `$conn` and evaluates to the highest `seq` it wrote.
macro_rules! insert_feed_chunk {
    ($conn:ident, $chunk:expr) => {{
        let mut query = sqlx::QueryBuilder::new("");
        push_feed_insert!(query, $chunk);
        let seqs: Vec<i64> = query.build_query_scalar().fetch_all(&mut *$conn).await?;
        seqs.into_iter().max().unwrap_or(0)
    }};
}

impl FeedWrite for sqlx::SqliteConnection {
    /// One process owns the file: the in-process hub hears every write, nothing to relay.
    async fn write_feed(&mut self, rows: &[(&FeedRow, DateTime<Utc>)]) -> Result<i64> {
        let mut last = 0;
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            last = last.max(insert_feed_chunk!(self, chunk));
        }
        Ok(last)
    }
}

impl FeedWrite for sqlx::PgConnection {
    /// The last chunk's insert also sends the `NOTIFY`, numbered with the highest `seq` it
    /// wrote: one round trip fewer under the audit head than a separate `pg_notify`.
    async fn write_feed(&mut self, rows: &[(&FeedRow, DateTime<Utc>)]) -> Result<i64> {
        let mut last = 0;
        let chunks: Vec<&[(&FeedRow, DateTime<Utc>)]> = rows.chunks(ROWS_PER_INSERT).collect();
        let Some((final_chunk, earlier)) = chunks.split_last() else {
            return Ok(0);
        };
        for chunk in earlier {
            last = last.max(insert_feed_chunk!(self, *chunk));
        }
        let mut query = sqlx::QueryBuilder::new("WITH written AS (");
        push_feed_insert!(query, *final_chunk);
        query.push(
            "), top AS (SELECT MAX(seq) AS seq FROM written) \
             SELECT top.seq FROM top, LATERAL pg_notify(",
        );
        query.push_bind(FEED_CHANNEL);
        query.push(", ");
        query.push_bind(format!("{PAYLOAD_VERSION} "));
        query.push(" || top.seq || ' ' || ");
        query.push_bind(audience_list(&audiences_of(
            rows.iter().map(|(row, _)| *row),
        )));
        query.push(")");
        let top: i64 = query.build_query_scalar().fetch_one(&mut *self).await?;
        Ok(last.max(top))
    }
}

/// [`LiveStore`] for a backend whose sqlx database type implements [`LiveDatabase`].
macro_rules! live_sql {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::LiveStore for $store {
            #[tracing::instrument(skip_all)]
            async fn listen_feed(
                &self,
            ) -> $crate::store::Result<Option<$crate::store::FeedListener>> {
                <$db as $crate::store::live::LiveDatabase>::listen(&self.pool).await
            }

            #[tracing::instrument(skip(self))]
            async fn try_job_lock(
                &self,
                job: &str,
            ) -> $crate::store::Result<Option<$crate::store::JobLock>> {
                <$db as $crate::store::live::LiveDatabase>::try_lock(
                    &self.pool,
                    $crate::store::live::job_key(job),
                )
                .await
            }
        }
    };
}

pub(crate) use live_sql;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_round_trip_and_a_long_audience_list_becomes_everyone() {
        let notice = FeedNotice {
            last_seq: 42,
            audiences: {
                let mut a = vec![Uuid::now_v7(), Uuid::now_v7(), EVERYONE];
                a.sort();
                a
            },
        };
        assert_eq!(decode_notice(&encode_notice(&notice)), Some(notice));

        let crowd = FeedNotice {
            last_seq: 7,
            audiences: (0..400).map(|_| Uuid::now_v7()).collect(),
        };
        let payload = encode_notice(&crowd);
        assert!(payload.len() < 8000, "PostgreSQL's limit");
        assert_eq!(
            decode_notice(&payload),
            Some(FeedNotice {
                last_seq: 7,
                audiences: vec![EVERYONE]
            }),
            "too many audiences to name: everyone pulls"
        );
    }

    #[test]
    fn payloads_from_elsewhere_are_not_understood() {
        for bad in ["", "2 5 *", "1 x *", "1 5", "1 5 nope", "1 5 * extra"] {
            assert_eq!(decode_notice(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn job_keys_are_stable_and_distinct() {
        assert_eq!(job_key("overdue_scan"), job_key("overdue_scan"));
        assert_ne!(job_key("overdue_scan"), job_key("backup"));
    }
}
