//! Overdue tasks (requirement S9): an open task past its due time is marked once, and its
//! assignee and the request's initiator get a feed row so their clients pull the request and
//! can warn. The mark lives on the task row (`overdue_at`), which request reads report as the
//! request's overdue tasks; the engine's state is not touched, so the request's version and
//! the optimistic concurrency of decisions are unaffected.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{AuditEntry, Result};

/// What one mark wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverdueMark {
    pub request_id: Uuid,
    /// The tasks marked, by number.
    pub tasks: Vec<u32>,
    /// Who got a feed row: the marked tasks' assignees and the initiator, sorted.
    pub audiences: Vec<Uuid>,
    /// The last feed sequence number written.
    pub last_seq: i64,
}

#[async_trait::async_trait]
pub trait OverdueStore: Send + Sync + 'static {
    /// Requests with an open task due at or before `now` that is not marked yet, at most
    /// `limit`, in id order.
    async fn requests_with_due_tasks(&self, now: DateTime<Utc>, limit: i64) -> Result<Vec<Uuid>>;

    /// Marks the request's open tasks due by `now` as overdue at `now`, then writes `audit`
    /// and a feed row (kind `request`, the request's current version) for each assignee
    /// and the initiator, in one transaction. `None`, with nothing written, when no such task
    /// is left: a decision or another replica got there first. The mark is conditional on the
    /// task still being unmarked, so a task is marked once however many scans race.
    async fn mark_overdue(
        &self,
        request: Uuid,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<Option<OverdueMark>>;
}

/// The SQL of [`OverdueStore`], shared by both backends.
macro_rules! overdue_sql {
    ($store:ty, $begin_write:literal, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::OverdueStore for $store {
            #[tracing::instrument(skip_all)]
            async fn requests_with_due_tasks(
                &self,
                now: chrono::DateTime<chrono::Utc>,
                limit: i64,
            ) -> $crate::store::Result<Vec<uuid::Uuid>> {
                // Served by the partial index `tasks_due`.
                Ok(sqlx::query_scalar(
                    "SELECT DISTINCT request_id FROM tasks \
                     WHERE open = TRUE AND overdue_at IS NULL AND due_at <= $1 \
                     ORDER BY request_id LIMIT $2",
                )
                .bind(now)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?)
            }

            #[tracing::instrument(skip_all)]
            async fn mark_overdue(
                &self,
                request: uuid::Uuid,
                now: chrono::DateTime<chrono::Utc>,
                audit: &$crate::store::AuditEntry,
            ) -> $crate::store::Result<Option<$crate::store::OverdueMark>> {
                let mut tx = self.writer.begin_with($begin_write).await?;
                // The request's row first, as every write of a request takes it before its
                // task rows: a decision and a mark of one request then queue on it rather than
                // lock its task rows in different orders (the overdue scan may walk them by
                // due time) and deadlock on PostgreSQL. A no-op update, the one row lock both
                // databases can take. A concurrent mark of the same request waits here too
                // (on SQLite, at `BEGIN IMMEDIATE`) and then finds the tasks marked.
                let found: Option<(uuid::Uuid, i64)> = sqlx::query_as(
                    "UPDATE requests SET version = version WHERE id = $1 \
                     RETURNING initiator_id, version",
                )
                .bind(request)
                .fetch_optional(&mut *tx)
                .await?;
                let Some((initiator, version)) = found else {
                    tx.rollback().await?;
                    return Ok(None);
                };
                let marked: Vec<(i32, uuid::Uuid)> = sqlx::query_as(
                    "UPDATE tasks SET overdue_at = $1 \
                     WHERE request_id = $2 AND open = TRUE AND overdue_at IS NULL \
                     AND due_at <= $1 RETURNING task_no, assignee_id",
                )
                .bind(now)
                .bind(request)
                .fetch_all(&mut *tx)
                .await?;
                if marked.is_empty() {
                    tx.rollback().await?;
                    return Ok(None);
                }
                let mut audiences: Vec<uuid::Uuid> = marked.iter().map(|(_, a)| *a).collect();
                audiences.push(initiator);
                audiences.sort();
                audiences.dedup();
                let rows: Vec<$crate::store::FeedRow> = audiences
                    .iter()
                    .map(|person| $crate::store::FeedRow {
                        audience: *person,
                        kind: "request",
                        entity_id: request.to_string(),
                        version,
                        op: "upsert",
                    })
                    .collect();
                $crate::store::audit::append_in_tx!(tx, audit);
                let last_seq = $crate::store::feed::feed_in_tx!(tx, &rows, now);
                tx.commit().await?;
                let mut tasks: Vec<u32> = marked
                    .iter()
                    .map(|(n, _)| u32::try_from(*n).unwrap_or(0))
                    .collect();
                tasks.sort_unstable();
                Ok(Some($crate::store::OverdueMark {
                    request_id: request,
                    tasks,
                    audiences,
                    last_seq,
                }))
            }
        }
    };
}

pub(crate) use overdue_sql;
