//! The audit log (requirements S13, B5): every data access appends a line whose hash covers
//! the line before, so an edit anywhere breaks the chain from there on.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::Result;

/// One line of the audit log before it is chained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    pub actor_id: Option<Uuid>,
    /// The user name, or `anonymous` / `system`; kept even if the person is later removed.
    pub actor: String,
    pub action: String,
    pub resource: String,
    /// `ok`, or a stable error code.
    pub outcome: String,
    pub source: Option<String>,
    pub device: Option<String>,
}

impl AuditEntry {
    /// An action the server or an operator's command took, not a signed-in person.
    pub fn system(at: DateTime<Utc>, action: &str, resource: String) -> Self {
        Self {
            at,
            actor_id: None,
            actor: "system".to_owned(),
            action: action.to_owned(),
            resource,
            outcome: "ok".to_owned(),
            source: None,
            device: None,
        }
    }
}

/// One stored line of the audit log with its place in the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub seq: i64,
    pub entry: AuditEntry,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

impl AuditRecord {
    fn stored(seq: i64, entry: &AuditEntry, prev_hash: Vec<u8>, hash: Vec<u8>) -> Self {
        Self {
            seq,
            entry: entry.clone(),
            prev_hash,
            hash,
        }
    }
}

/// The hash-chained audit log.
#[async_trait::async_trait]
pub trait AuditStore: Send + Sync + 'static {
    /// Appends to the hash chain: the new line's hash covers the previous hash and the entry.
    async fn append_audit(&self, entry: &AuditEntry) -> Result<AuditRecord>;
    /// Lines with `seq > after`, in order, at most `limit`.
    async fn audit_lines(&self, after: i64, limit: i64) -> Result<Vec<AuditRecord>>;
}

/// The hash of one audit line: SHA-256 over the previous hash and a canonical JSON of the
/// entry and its sequence number. Canonical because serde_json writes struct fields in
/// declaration order, which `AuditEntry` fixes.
pub fn audit_hash(prev_hash: &[u8], seq: i64, entry: &AuditEntry) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(prev_hash);
    hasher.update(seq.to_be_bytes());
    hasher.update(canonical_body(entry));
    hasher.finalize().to_vec()
}

/// The bytes of an entry that its line's hash covers.
fn canonical_body(entry: &AuditEntry) -> Vec<u8> {
    // Serialising a struct of strings, options and a timestamp cannot fail.
    serde_json::to_vec(entry).unwrap_or_default()
}

/// The first line whose hash does not follow from its predecessor, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainBreak {
    pub seq: i64,
    pub reason: String,
}

/// Walks the whole audit chain and reports the first broken line; `Ok(count)` when intact.
pub async fn verify_audit_chain(
    store: &dyn AuditStore,
) -> Result<std::result::Result<i64, ChainBreak>> {
    const PAGE: i64 = 1000;
    let mut prev_hash = vec![0u8; 32];
    let mut expected_seq = 1;
    loop {
        let lines = store.audit_lines(expected_seq - 1, PAGE).await?;
        if lines.is_empty() {
            return Ok(Ok(expected_seq - 1));
        }
        for line in lines {
            if line.seq != expected_seq {
                return Ok(Err(ChainBreak {
                    seq: expected_seq,
                    reason: format!("line {expected_seq} is missing (next is {})", line.seq),
                }));
            }
            if line.prev_hash != prev_hash {
                return Ok(Err(ChainBreak {
                    seq: line.seq,
                    reason: "its previous-hash does not match the line before".into(),
                }));
            }
            if audit_hash(&line.prev_hash, line.seq, &line.entry) != line.hash {
                return Ok(Err(ChainBreak {
                    seq: line.seq,
                    reason: "its content does not match its hash (edited after it was written)"
                        .into(),
                }));
            }
            prev_hash = line.hash;
            expected_seq += 1;
        }
    }
}

// Row shapes shared by both backends: sqlx decodes the same column names on either.

#[derive(sqlx::FromRow)]
pub(super) struct AuditRow {
    seq: i64,
    at: DateTime<Utc>,
    actor_id: Option<Uuid>,
    actor: String,
    action: String,
    resource: String,
    outcome: String,
    source: Option<String>,
    device: Option<String>,
    prev_hash: Vec<u8>,
    hash: Vec<u8>,
}

impl From<AuditRow> for AuditRecord {
    fn from(r: AuditRow) -> Self {
        AuditRecord {
            seq: r.seq,
            entry: AuditEntry {
                at: r.at,
                actor_id: r.actor_id,
                actor: r.actor,
                action: r.action,
                resource: r.resource,
                outcome: r.outcome,
                source: r.source,
                device: r.device,
            },
            prev_hash: r.prev_hash,
            hash: r.hash,
        }
    }
}

/// The SQL of [`AuditStore`], shared by both backends. `$begin_write` opens a transaction that
/// already holds the write lock where the database needs that said up front (SQLite).
macro_rules! audit_sql {
    ($store:ty, $begin_write:literal, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::AuditStore for $store {
            #[tracing::instrument(skip_all)]
            async fn append_audit(
                &self,
                entry: &$crate::store::AuditEntry,
            ) -> $crate::store::Result<$crate::store::AuditRecord> {
                let writer = self.writer.clone();
                let entry = entry.clone();
                self.writes
                    .run(async move {
                        <$db as $crate::store::audit::AuditDatabase>::append_alone(
                            &writer,
                            $begin_write,
                            &entry,
                        )
                        .await
                    })
                    .await
            }

            #[tracing::instrument(skip_all)]
            async fn audit_lines(
                &self,
                after: i64,
                limit: i64,
            ) -> $crate::store::Result<Vec<$crate::store::AuditRecord>> {
                let rows: Vec<$crate::store::audit::AuditRow> =
                    sqlx::query_as("SELECT * FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2")
                        .bind(after)
                        .bind(limit)
                        .fetch_all(&self.pool)
                        .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }
        }
    };
}

pub(crate) use audit_sql;

/// Appends `$entry` to the audit chain inside the open transaction `$tx` and evaluates to the
/// stored [`AuditRecord`]; `append_in_tx!($tx, lines $entries)` appends several (a slice of
/// `&AuditEntry`) in that order with one or two statements and evaluates to their records.
/// Reading the head takes the lock that serialises appends (a row lock on PostgreSQL held to
/// commit; SQLite's `BEGIN IMMEDIATE` already holds the write lock); inserting a line moves
/// the head on (trigger `audit_log_moves_head`, migration 0006).
///
/// Every transaction takes the head last: it makes all its other writes first, then appends
/// its audit lines, then writes its feed rows, so the head is held only for those few
/// statements and the commit rather than the whole transaction, and writers overlap until
/// they reach it. Feed rows are still written under the head, so they are numbered in commit
/// order.
///
/// After a transaction has taken the head it may write only append-only rows (`audit_log`,
/// `feed`, the notify of `store::live`) and the head itself, never a row another writer may
/// lock (a request, a task, a person, a meeting...): were writer A to hold the head and wait
/// for such a row while writer B, holding that row, waits for the head, they would deadlock.
/// Several audit lines in one transaction are therefore appended together at its end.
macro_rules! append_in_tx {
    ($tx:ident, lines $entries:expr) => {{
        let entries: &[&$crate::store::AuditEntry] = $entries;
        $crate::store::audit::AuditWrite::append_lines(&mut *$tx, entries).await?
    }};
    ($tx:ident, $entry:expr) => {{
        let entry: &$crate::store::AuditEntry = $entry;
        $crate::store::audit::AuditWrite::append_line(&mut *$tx, entry).await?
    }};
}

pub(crate) use append_in_tx;

/// Writes audit lines on a connection inside an open transaction (see `append_in_tx!`).
pub(crate) trait AuditWrite: Send {
    /// Appends `entries` in their order and answers their records in the same order.
    fn append_lines(
        &mut self,
        entries: &[&AuditEntry],
    ) -> impl std::future::Future<Output = Result<Vec<AuditRecord>>> + Send;

    fn append_line(
        &mut self,
        entry: &AuditEntry,
    ) -> impl std::future::Future<Output = Result<AuditRecord>> + Send {
        async move {
            let mut records = self.append_lines(&[entry]).await?;
            records
                .pop()
                .ok_or(super::StoreError::Database(sqlx::Error::RowNotFound))
        }
    }
}

/// An append on its own, outside any other write (every audited read).
pub(crate) trait AuditDatabase: sqlx::Database {
    fn append_alone(
        pool: &sqlx::Pool<Self>,
        begin_write: &'static str,
        entry: &AuditEntry,
    ) -> impl std::future::Future<Output = Result<AuditRecord>> + Send;
}

impl AuditWrite for sqlx::SqliteConnection {
    /// Two hops to the connection's thread however many lines: move the head's number on by
    /// their count (the transaction already holds the write lock) and read its hash, then
    /// insert the lines, chained here, in one statement per chunk.
    async fn append_lines(&mut self, entries: &[&AuditEntry]) -> Result<Vec<AuditRecord>> {
        let Ok(count @ 1..) = i64::try_from(entries.len()) else {
            return Ok(Vec::new());
        };
        let (last, head_hash): (i64, Vec<u8>) =
            sqlx::query_as("UPDATE audit_head SET seq = seq + $1 WHERE id = 1 RETURNING seq, hash")
                .bind(count)
                .fetch_one(&mut *self)
                .await?;
        let mut prev_hash = head_hash;
        let records: Vec<AuditRecord> = entries
            .iter()
            .zip(last - count + 1..)
            .map(|(entry, seq)| {
                let hash = audit_hash(&prev_hash, seq, entry);
                let prev = std::mem::replace(&mut prev_hash, hash.clone());
                AuditRecord::stored(seq, entry, prev, hash)
            })
            .collect();
        // In the lines' order: the trigger leaves the head at the row inserted last.
        for chunk in records.chunks(super::feed::ROWS_PER_INSERT) {
            let mut insert = sqlx::QueryBuilder::new(
                "INSERT INTO audit_log (seq, at, actor_id, actor, action, resource, outcome, \
                 source, device, prev_hash, hash) ",
            );
            insert.push_values(chunk, |mut values, record| {
                let entry = &record.entry;
                values
                    .push_bind(record.seq)
                    .push_bind(entry.at)
                    .push_bind(entry.actor_id)
                    .push_bind(entry.actor.as_str())
                    .push_bind(entry.action.as_str())
                    .push_bind(entry.resource.as_str())
                    .push_bind(entry.outcome.as_str())
                    .push_bind(entry.source.as_deref())
                    .push_bind(entry.device.as_deref())
                    .push_bind(record.prev_hash.as_slice())
                    .push_bind(record.hash.as_slice());
            });
            insert.build().execute(&mut *self).await?;
        }
        Ok(records)
    }
}

impl AuditDatabase for sqlx::Sqlite {
    async fn append_alone(
        pool: &sqlx::Pool<Self>,
        begin_write: &'static str,
        entry: &AuditEntry,
    ) -> Result<AuditRecord> {
        let mut tx = pool.begin_with(begin_write).await?;
        let record = tx.append_line(entry).await?;
        tx.commit().await?;
        Ok(record)
    }
}

impl AuditWrite for sqlx::PgConnection {
    /// One round trip however many lines: the statement locks the head, and chains and
    /// inserts the lines in their order with PostgreSQL's own SHA-256 over the same bytes as
    /// [`audit_hash`] (previous hash, the sequence number as 8 big-endian bytes from
    /// `int8send`, the entry's canonical JSON), so [`verify_audit_chain`] checks them like
    /// any other line. Under READ COMMITTED a writer that waited for the lock reads the head
    /// as its holder committed it.
    async fn append_lines(&mut self, entries: &[&AuditEntry]) -> Result<Vec<AuditRecord>> {
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        let column = |text: fn(&AuditEntry) -> &str| -> Vec<&str> {
            entries.iter().map(|e| text(e)).collect()
        };
        let optional = |text: fn(&AuditEntry) -> Option<&str>| -> Vec<Option<&str>> {
            entries.iter().map(|e| text(e)).collect()
        };
        // `chain` walks the lines one by one from the head, each hash over the one before;
        // the insert takes them in that order, so the trigger leaves the head at the last.
        let mut stored: Vec<(i64, Vec<u8>, Vec<u8>)> = sqlx::query_as(
            "WITH RECURSIVE head AS (SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE), \
             line AS (SELECT * FROM unnest($1::timestamptz[], $2::uuid[], $3::text[], \
             $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bytea[]) \
             WITH ORDINALITY AS l(at, actor_id, actor, action, resource, outcome, source, \
             device, body, n)), \
             chain (n, seq, prev_hash, hash) AS (\
             SELECT 0::bigint, head.seq, NULL::bytea, head.hash FROM head \
             UNION ALL \
             SELECT line.n, chain.seq + 1, chain.hash, \
             sha256(chain.hash || int8send(chain.seq + 1) || line.body) \
             FROM chain JOIN line ON line.n = chain.n + 1) \
             INSERT INTO audit_log (seq, at, actor_id, actor, action, resource, outcome, \
             source, device, prev_hash, hash) \
             SELECT chain.seq, line.at, line.actor_id, line.actor, line.action, line.resource, \
             line.outcome, line.source, line.device, chain.prev_hash, chain.hash \
             FROM chain JOIN line ON line.n = chain.n ORDER BY chain.n \
             RETURNING seq, prev_hash, hash",
        )
        .bind(entries.iter().map(|e| e.at).collect::<Vec<_>>())
        .bind(entries.iter().map(|e| e.actor_id).collect::<Vec<_>>())
        .bind(column(|e| &e.actor))
        .bind(column(|e| &e.action))
        .bind(column(|e| &e.resource))
        .bind(column(|e| &e.outcome))
        .bind(optional(|e| e.source.as_deref()))
        .bind(optional(|e| e.device.as_deref()))
        .bind(
            entries
                .iter()
                .map(|e| canonical_body(e))
                .collect::<Vec<_>>(),
        )
        .fetch_all(&mut *self)
        .await?;
        if stored.len() != entries.len() {
            // No head row: the migrations were not run on this database.
            return Err(super::StoreError::Database(sqlx::Error::RowNotFound));
        }
        stored.sort_by_key(|(seq, _, _)| *seq);
        Ok(entries
            .iter()
            .zip(stored)
            .map(|(entry, (seq, prev_hash, hash))| AuditRecord::stored(seq, entry, prev_hash, hash))
            .collect())
    }
}

impl AuditDatabase for sqlx::Postgres {
    /// The one statement is its own transaction: no `BEGIN` and `COMMIT` round trips.
    async fn append_alone(
        pool: &sqlx::Pool<Self>,
        _: &'static str,
        entry: &AuditEntry,
    ) -> Result<AuditRecord> {
        let mut conn = pool.acquire().await?;
        conn.append_line(entry).await
    }
}
