//! The change feed (sync protocol v1): one row per change of a record and person who may see
//! it, read by each client after its cursor. Rows are written only inside transactions that
//! have just appended to the audit chain and so hold its head until they commit, which
//! serialises them, so `seq` order is commit order and a client that read up to `seq` can
//! never miss a row numbered below it. The head is taken last, after every other write of the
//! transaction (see `append_in_tx!` for why and for the deadlock that order rules out), and
//! the feed rows come right after it.

use uuid::Uuid;

use super::Result;

/// The audience of changes everyone may see (templates, the directory).
pub const EVERYONE: Uuid = Uuid::nil();

/// [`EVERYONE`] written into SQL text, for a statement kept prepared that asks for the
/// everyone-feed's head: planned with a parameter instead, PostgreSQL's generic plan walks the
/// whole feed back from its newest row (see `everyone_head`). SQLite keeps UUIDs as 16-byte
/// blobs, PostgreSQL as `uuid`.
pub(crate) trait EveryoneInSql {
    const EVERYONE_SQL: &'static str;
}

impl EveryoneInSql for sqlx::Sqlite {
    const EVERYONE_SQL: &'static str = "X'00000000000000000000000000000000'";
}

impl EveryoneInSql for sqlx::Postgres {
    const EVERYONE_SQL: &'static str = "'00000000-0000-0000-0000-000000000000'::uuid";
}

/// Rows written by one multi-row insert (feed, tasks, participants): at most ten parameters
/// each, well under SQLite's 32,766 and PostgreSQL's 65,535 parameters to a statement.
pub(crate) const ROWS_PER_INSERT: usize = 1000;

/// A feed row to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedRow {
    /// A person, or [`EVERYONE`].
    pub audience: Uuid,
    pub kind: &'static str,
    pub entity_id: String,
    pub version: i64,
    /// `upsert` or `delete`.
    pub op: &'static str,
}

/// A feed row as read.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FeedEntry {
    pub seq: i64,
    pub kind: String,
    pub entity_id: String,
    pub version: i64,
    pub op: String,
}

/// What a committed write added to the feed, for the live-event hub: who should pull, and
/// up to which sequence number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct FeedNotice {
    pub last_seq: i64,
    /// The people whose feed grew; [`EVERYONE`] among them means all.
    pub audiences: Vec<Uuid>,
}

/// The distinct audiences of some feed rows, in order.
pub(crate) fn audiences_of<'a>(rows: impl IntoIterator<Item = &'a FeedRow>) -> Vec<Uuid> {
    let mut audiences: Vec<Uuid> = rows.into_iter().map(|r| r.audience).collect();
    audiences.sort();
    audiences.dedup();
    audiences
}

impl FeedNotice {
    pub fn of(rows: &[FeedRow], last_seq: i64) -> Self {
        Self {
            last_seq,
            audiences: audiences_of(rows),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.audiences.is_empty()
    }
}

#[async_trait::async_trait]
pub trait FeedStore: Send + Sync + 'static {
    /// Rows visible to `person` (theirs and everyone's) with `seq > after`, in order.
    async fn feed_after(&self, person: Uuid, after: i64, limit: i64) -> Result<Vec<FeedEntry>>;
    /// The highest sequence number written; 0 for an empty feed.
    async fn feed_head(&self) -> Result<i64>;
    /// The highest sequence number of the rows everyone may see (the directory, templates);
    /// 0 when there are none. Every change to the people or departments writes one, so an
    /// unchanged value means an unchanged organisation.
    async fn everyone_head(&self) -> Result<i64>;
}

/// Inserts `$rows` (an iterator of `&FeedRow`) into the feed inside `$tx`, at `$at`, and
/// evaluates to the last sequence number written (0 when there were none); with `timed`,
/// `$rows` iterates `(&FeedRow, at)`, each row at its own time (several changes at once). The rows are
/// announced to the other replicas too (see `store::live`), delivered only if `$tx` commits.
/// Many rows to a statement: each statement is a round trip to the database (on SQLite, to
/// the connection's thread), and a decision writes a row per participant.
/// Only after `append_in_tx!` in the same transaction: the audit head it holds is what
/// numbers feed rows in commit order.
macro_rules! feed_in_tx {
    ($tx:ident, $rows:expr, $at:expr) => {{
        let at: chrono::DateTime<chrono::Utc> = $at;
        $crate::store::feed::feed_in_tx!($tx, timed $rows.into_iter().map(|row| (row, at)))
    }};
    ($tx:ident, timed $rows:expr) => {{
        let rows: Vec<(&$crate::store::FeedRow, chrono::DateTime<chrono::Utc>)> =
            $rows.into_iter().collect();
        $crate::store::live::FeedWrite::write_feed(&mut *$tx, &rows).await?
    }};
}

pub(crate) use feed_in_tx;

macro_rules! feed_sql {
    ($store:ty, $begin_write:literal, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::FeedStore for $store {
            #[tracing::instrument(skip_all)]
            async fn feed_after(
                &self,
                person: uuid::Uuid,
                after: i64,
                limit: i64,
            ) -> $crate::store::Result<Vec<$crate::store::FeedEntry>> {
                Ok(sqlx::query_as(
                    "SELECT seq, kind, entity_id, version, op FROM feed \
                     WHERE seq > $1 AND audience IN ($2, $3) ORDER BY seq LIMIT $4",
                )
                .bind(after)
                .bind(person)
                .bind($crate::store::EVERYONE)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?)
            }

            #[tracing::instrument(skip_all)]
            async fn feed_head(&self) -> $crate::store::Result<i64> {
                let head: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM feed")
                    .fetch_one(&self.pool)
                    .await?;
                Ok(head.unwrap_or(0))
            }

            #[tracing::instrument(skip_all)]
            async fn everyone_head(&self) -> $crate::store::Result<i64> {
                // The last entry of the (audience, seq) index. Not a cached statement: with
                // the audience unknown, PostgreSQL's generic plan walked the primary key back
                // from the newest row until it met an everyone row, past every person's rows
                // since the last directory change (35 ms per decision under load). Planned
                // with the value, the few everyone rows are read from their own index.
                let head: Option<i64> =
                    sqlx::query_scalar("SELECT MAX(seq) FROM feed WHERE audience = $1")
                        .bind($crate::store::EVERYONE)
                        .persistent(false)
                        .fetch_one(&self.pool)
                        .await?;
                Ok(head.unwrap_or(0))
            }
        }
    };
}

pub(crate) use feed_sql;
