//! Templates, requests with their tasks and participants, and client mutations.
//!
//! A request is stored whole (its form and the engine's state as JSON) plus what queries need
//! as columns: its tasks (for "pending for me" and the overdue scan) and its participants
//! (for visibility). Every change is one [`RequestWrite`], applied atomically with its audit
//! line, its feed rows and, for a client mutation, the mutation's answer.

use chrono::{DateTime, Utc};
use countersign_domain::engine::RequestState;
use countersign_domain::templates::Template;
use uuid::Uuid;

use super::{AuditEntry, FeedRow, Result};

/// One published version of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateRecord {
    pub template: Template,
    pub published_at: DateTime<Utc>,
    pub published_by: Option<Uuid>,
    /// The approved process-change request that published it (S6); none for the library.
    pub source_request: Option<Uuid>,
    pub retired_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    pub id: Uuid,
    pub template_id: String,
    pub template_version: u32,
    pub initiator_id: Uuid,
    pub title: String,
    /// The form as submitted.
    pub form: serde_json::Value,
    /// Computed fields as the server computed them (the domain's typed values by key).
    pub computed: serde_json::Value,
    pub state: RequestState,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Tasks the overdue scan marked (S9), by number, ascending. Read from the task rows;
    /// writes of the request ignore it.
    pub overdue_tasks: Vec<u32>,
}

impl RequestRecord {
    /// The stored version: the engine's revision.
    pub fn version(&self) -> i64 {
        i64::try_from(self.state.revision).unwrap_or(i64::MAX)
    }
}

/// One task as a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRecord {
    pub request_id: Uuid,
    pub task_no: u32,
    pub assignee_id: Uuid,
    pub seat_id: Uuid,
    pub step_id: String,
    pub open: bool,
    pub opened_at: DateTime<Utc>,
    pub due_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// When the overdue warning went out; kept across rewrites of the task.
    pub overdue_at: Option<DateTime<Utc>>,
}

impl TaskRecord {
    /// The task rows of a request's state.
    pub fn of(state: &RequestState) -> Vec<TaskRecord> {
        state
            .tasks
            .iter()
            .map(|t| TaskRecord {
                request_id: state.request,
                task_no: t.id,
                assignee_id: t.assignee,
                seat_id: t.seat,
                step_id: t.step_id.clone(),
                open: t.is_open(),
                opened_at: t.opened_at,
                due_at: t.due_at,
                closed_at: t.closed_at,
                overdue_at: None,
            })
            .collect()
    }

    /// The task rows of `after` that `before`'s rows do not already say (all of them for a
    /// new request, `before` being `None`): what a change of the request must write. A
    /// comment changes none and a decision one or two, and every statement is a round trip.
    pub fn changed(before: Option<&RequestState>, after: &RequestState) -> Vec<TaskRecord> {
        let stored = before.map(TaskRecord::of).unwrap_or_default();
        TaskRecord::of(after)
            .into_iter()
            .filter(|task| !stored.contains(task))
            .collect()
    }
}

/// What [`RequestStore::read_for_decision`] found.
#[derive(Debug, Clone)]
pub struct DecisionRead {
    pub request: RequestRecord,
    pub takes_part: bool,
    /// As [`crate::store::FeedStore::everyone_head`] at this read.
    pub everyone_head: i64,
    /// The mutation was answered before: it is a replay.
    pub mutation_seen: bool,
}

/// A client mutation's answer, kept so that a replay gets the same answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MutationRecord {
    pub id: Uuid,
    pub person_id: Uuid,
    pub kind: String,
    /// `applied` or `refused`.
    pub status: String,
    pub result: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

/// Everything one change to a request writes, in one transaction.
#[derive(Debug, Clone)]
pub struct RequestWrite {
    pub request: RequestRecord,
    /// `None` inserts a new request; `Some(v)` updates it only while its stored version is
    /// still `v` (optimistic concurrency).
    pub expected_version: Option<i64>,
    /// The task rows to insert or update: [`TaskRecord::changed`] against the stored state
    /// the change started from (the one at `expected_version`). The overdue mark is kept.
    pub tasks: Vec<TaskRecord>,
    /// People to add to the request's participants (rows are never removed): those the
    /// change brought into its audience, or all of them for a new request.
    pub participants: Vec<Uuid>,
    pub feed: Vec<FeedRow>,
    pub audit: AuditEntry,
    pub mutation: Option<MutationRecord>,
}

/// Request writes waiting for the writer thread, which takes them in batches: one
/// transaction and one commit for every write queued while the one before committed. A
/// commit (its log write on SQLite, its round trip on PostgreSQL) is then shared by a burst of
/// decisions, and each is answered once its batch is committed.
#[derive(Debug, Clone)]
pub(crate) struct RequestQueue(tokio::sync::mpsc::UnboundedSender<Vec<QueuedWrite>>);

/// A write in the queue, with where to answer.
pub(crate) type QueuedWrite = (RequestWrite, Answer);

/// Where a queued write's outcome goes.
pub(crate) type Answer = tokio::sync::oneshot::Sender<Result<WriteOutcome>>;

/// The most writes one batch takes: enough for a burst from every connection a server keeps
/// busy, few enough that one batch's transaction stays short.
const WRITES_PER_BATCH: usize = 64;

impl RequestQueue {
    pub(crate) fn new() -> (Self, tokio::sync::mpsc::UnboundedReceiver<Vec<QueuedWrite>>) {
        let (queue, waiting) = tokio::sync::mpsc::unbounded_channel();
        (Self(queue), waiting)
    }

    /// Queues `write` and waits for its batch to be committed (or refused).
    pub(crate) async fn write(&self, write: RequestWrite) -> Result<WriteOutcome> {
        self.write_together(vec![write])
            .await
            .pop()
            .unwrap_or_else(|| Err(Self::stopped()))
    }

    /// Queues `writes` as one, so that one batch takes them all, and waits for their answers
    /// (in the same order).
    pub(crate) async fn write_together(
        &self,
        writes: Vec<RequestWrite>,
    ) -> Vec<Result<WriteOutcome>> {
        let (queued, answered): (Vec<QueuedWrite>, Vec<_>) = writes
            .into_iter()
            .map(|write| {
                let (answer, answered) = tokio::sync::oneshot::channel();
                ((write, answer), answered)
            })
            .unzip();
        // Sent or not, every answer then comes (a dropped sender is "stopped").
        let _ = self.0.send(queued);
        let mut answers = Vec::with_capacity(answered.len());
        for answered in answered {
            answers.push(answered.await.unwrap_or_else(|_| Err(Self::stopped())));
        }
        answers
    }

    fn stopped() -> super::StoreError {
        super::StoreError::Unavailable("the store's writer has stopped".into())
    }

    /// `first` and whatever else is waiting, up to [`WRITES_PER_BATCH`] (writes queued as
    /// one are never split), by request.
    pub(crate) fn batch(
        first: Vec<QueuedWrite>,
        waiting: &mut tokio::sync::mpsc::UnboundedReceiver<Vec<QueuedWrite>>,
    ) -> (Vec<RequestWrite>, Vec<Answer>) {
        let mut batch = first;
        while batch.len() < WRITES_PER_BATCH {
            match waiting.try_recv() {
                Ok(next) => batch.extend(next),
                Err(_) => break,
            }
        }
        // Rows locked in one order by every batch, so that batches in flight together
        // (PostgreSQL) wait for each other instead of deadlocking; the sort is stable, so two
        // writes to one request keep their order.
        batch.sort_by_key(|(write, _)| write.request.id);
        batch.into_iter().unzip()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    /// Committed; the last feed sequence number its transaction wrote (writes committed
    /// together in one batch share their batch's), what the event streams hint up to.
    Written { last_seq: i64 },
    /// Someone changed the request since `expected_version`: nothing was written.
    Stale,
}

#[async_trait::async_trait]
pub trait TemplateStore: Send + Sync + 'static {
    /// Publishes a version; fails with a conflict when that version exists.
    async fn publish_template(
        &self,
        template: &TemplateRecord,
        feed: &[FeedRow],
        audit: &AuditEntry,
    ) -> Result<i64>;
    async fn find_template(&self, id: &str, version: u32) -> Result<Option<TemplateRecord>>;
    /// The highest version that is not retired.
    async fn current_template(&self, id: &str) -> Result<Option<TemplateRecord>>;
    /// Every version of every template, by id and version.
    async fn list_templates(&self) -> Result<Vec<TemplateRecord>>;
}

#[async_trait::async_trait]
pub trait RequestStore: Send + Sync + 'static {
    /// Inserts or updates a request, its tasks and participants, with its audit line, feed
    /// rows and mutation answer, atomically. A mutation id seen before is a conflict.
    async fn write_request(&self, write: &RequestWrite) -> Result<WriteOutcome>;
    /// Writes `writes` in one batch (one transaction) when they can all be written together,
    /// and answers each as [`Self::write_request`] would have alone, in the same order: the
    /// writes of decisions arriving at once are batched so.
    async fn write_requests(&self, writes: &[RequestWrite]) -> Vec<Result<WriteOutcome>>;
    async fn find_request(&self, id: Uuid) -> Result<Option<RequestRecord>>;
    async fn find_requests(&self, ids: &[Uuid]) -> Result<Vec<RequestRecord>>;
    async fn is_participant(&self, request: Uuid, person: Uuid) -> Result<bool>;
    /// The request and whether `person` takes part in it, in one read: every decision and
    /// every read of a request asks both, and on SQLite each statement is a round trip to the
    /// connection's thread.
    async fn find_request_for(
        &self,
        id: Uuid,
        person: Uuid,
    ) -> Result<Option<(RequestRecord, bool)>>;
    /// Requests `person` started, most recently changed first, changed before `before`.
    async fn requests_started_by(
        &self,
        person: Uuid,
        before: Option<DateTime<Utc>>,
        limit: i64,
    ) -> Result<Vec<RequestRecord>>;
    /// Open tasks assigned to `person`, oldest first.
    async fn open_tasks_of(&self, person: Uuid, limit: i64) -> Result<Vec<TaskRecord>>;
    /// What a decision reads before it is worked out, in one statement (on SQLite each is a
    /// round trip to the connection's thread): the request, whether `person` takes part in
    /// it, the everyone-feed's head (whether the organisation changed since routing last read
    /// it), and whether `mutation` was answered before. `None` when the request does not exist.
    async fn read_for_decision(
        &self,
        id: Uuid,
        person: Uuid,
        mutation: Option<Uuid>,
    ) -> Result<Option<DecisionRead>>;
    async fn find_mutation(&self, id: Uuid) -> Result<Option<MutationRecord>>;
    /// Records a refused mutation's answer (an applied one is written with its request).
    async fn record_mutation(&self, mutation: &MutationRecord, audit: &AuditEntry) -> Result<()>;
}

#[derive(sqlx::FromRow)]
pub(super) struct TemplateRow {
    body: sqlx::types::Json<Template>,
    published_at: DateTime<Utc>,
    published_by: Option<Uuid>,
    source_request: Option<Uuid>,
    retired_at: Option<DateTime<Utc>>,
}

impl From<TemplateRow> for TemplateRecord {
    fn from(r: TemplateRow) -> Self {
        TemplateRecord {
            template: r.body.0,
            published_at: r.published_at,
            published_by: r.published_by,
            source_request: r.source_request,
            retired_at: r.retired_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct RequestRow {
    id: Uuid,
    template_id: String,
    template_version: i32,
    initiator_id: Uuid,
    title: String,
    form: sqlx::types::Json<serde_json::Value>,
    computed: sqlx::types::Json<serde_json::Value>,
    state: sqlx::types::Json<RequestState>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    overdue_tasks: Option<String>,
}

/// A request with whether the asking person takes part in it (`find_request_for`).
#[derive(sqlx::FromRow)]
pub(super) struct RequestForRow {
    #[sqlx(flatten)]
    request: RequestRow,
    takes_part: bool,
}

/// A row of `read_for_decision`.
#[derive(sqlx::FromRow)]
pub(super) struct DecisionReadRow {
    #[sqlx(flatten)]
    request: RequestRow,
    takes_part: bool,
    everyone_head: Option<i64>,
    mutation_seen: bool,
}

impl From<DecisionReadRow> for DecisionRead {
    fn from(r: DecisionReadRow) -> Self {
        DecisionRead {
            request: r.request.into(),
            takes_part: r.takes_part,
            everyone_head: r.everyone_head.unwrap_or(0),
            mutation_seen: r.mutation_seen,
        }
    }
}

impl From<RequestForRow> for (RequestRecord, bool) {
    fn from(r: RequestForRow) -> Self {
        (r.request.into(), r.takes_part)
    }
}

impl From<RequestRow> for RequestRecord {
    fn from(r: RequestRow) -> Self {
        RequestRecord {
            id: r.id,
            template_id: r.template_id,
            template_version: u32::try_from(r.template_version).unwrap_or(0),
            initiator_id: r.initiator_id,
            title: r.title,
            form: r.form.0,
            computed: r.computed.0,
            state: r.state.0,
            created_at: r.created_at,
            updated_at: r.updated_at,
            overdue_tasks: overdue_list(r.overdue_tasks.as_deref()),
        }
    }
}

/// The task numbers of the `overdue_tasks` column (a comma-separated aggregate), ascending.
fn overdue_list(text: Option<&str>) -> Vec<u32> {
    let mut tasks: Vec<u32> = text
        .unwrap_or_default()
        .split(',')
        .filter_map(|n| n.trim().parse().ok())
        .collect();
    tasks.sort_unstable();
    tasks
}

#[derive(sqlx::FromRow)]
pub(super) struct TaskRow {
    request_id: Uuid,
    task_no: i32,
    assignee_id: Uuid,
    seat_id: Uuid,
    step_id: String,
    open: bool,
    opened_at: DateTime<Utc>,
    due_at: Option<DateTime<Utc>>,
    closed_at: Option<DateTime<Utc>>,
    overdue_at: Option<DateTime<Utc>>,
}

impl From<TaskRow> for TaskRecord {
    fn from(r: TaskRow) -> Self {
        TaskRecord {
            request_id: r.request_id,
            task_no: u32::try_from(r.task_no).unwrap_or(0),
            assignee_id: r.assignee_id,
            seat_id: r.seat_id,
            step_id: r.step_id,
            open: r.open,
            opened_at: r.opened_at,
            due_at: r.due_at,
            closed_at: r.closed_at,
            overdue_at: r.overdue_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct MutationRow {
    id: Uuid,
    person_id: Uuid,
    kind: String,
    status: String,
    result: sqlx::types::Json<serde_json::Value>,
    created_at: DateTime<Utc>,
}

impl From<MutationRow> for MutationRecord {
    fn from(r: MutationRow) -> Self {
        MutationRecord {
            id: r.id,
            person_id: r.person_id,
            kind: r.kind,
            status: r.status,
            result: r.result.0,
            created_at: r.created_at,
        }
    }
}

/// The request status as stored in its column (for reports that filter on it).
pub fn status_name(state: &RequestState) -> String {
    serde_json::to_value(state.status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The last column aggregates the overdue marks of the request's task rows (`string_agg`
/// exists on both databases; SQLite since 3.44), so every read of a request carries them
/// without a second query.
pub(super) const REQUEST_COLUMNS: &str = "id, template_id, template_version, initiator_id, title, \
     form, computed, state, created_at, updated_at, \
     (SELECT string_agg(CAST(o.task_no AS TEXT), ',') FROM tasks o \
      WHERE o.request_id = requests.id AND o.overdue_at IS NOT NULL) AS overdue_tasks";

pub(super) const TEMPLATE_COLUMNS: &str =
    "body, published_at, published_by, source_request, retired_at";

pub(super) const TASK_COLUMNS: &str = "request_id, task_no, assignee_id, seat_id, step_id, open, \
     opened_at, due_at, closed_at, overdue_at";

/// The SQL of [`TemplateStore`] and [`RequestStore`], shared by both backends. `$db` is the
/// sqlx database type, for the few queries built at run time.
macro_rules! requests_sql {
    ($store:ty, $begin_write:literal, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::TemplateStore for $store {
            #[tracing::instrument(skip_all)]
            async fn publish_template(
                &self,
                record: &$crate::store::TemplateRecord,
                feed: &[$crate::store::FeedRow],
                audit: &$crate::store::AuditEntry,
            ) -> $crate::store::Result<i64> {
                let mut tx = self.writer.begin_with($begin_write).await?;
                sqlx::query(
                    "INSERT INTO templates (id, version, body, published_at, published_by, \
                     source_request, retired_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(&record.template.id)
                .bind(i32::try_from(record.template.version).unwrap_or(i32::MAX))
                .bind(sqlx::types::Json(&record.template))
                .bind(record.published_at)
                .bind(record.published_by)
                .bind(record.source_request)
                .bind(record.retired_at)
                .execute(&mut *tx)
                .await?;
                $crate::store::audit::append_in_tx!(tx, audit);
                let last = $crate::store::feed::feed_in_tx!(tx, feed, record.published_at);
                tx.commit().await?;
                Ok(last)
            }

            #[tracing::instrument(skip_all)]
            async fn find_template(
                &self,
                id: &str,
                version: u32,
            ) -> $crate::store::Result<Option<$crate::store::TemplateRecord>> {
                let row: Option<$crate::store::requests::TemplateRow> =
                    sqlx::query_as(sqlx::AssertSqlSafe(format!(
                        "SELECT {} FROM templates WHERE id = $1 AND version = $2",
                        $crate::store::requests::TEMPLATE_COLUMNS
                    )))
                    .bind(id)
                    .bind(i32::try_from(version).unwrap_or(i32::MAX))
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(row.map(Into::into))
            }

            #[tracing::instrument(skip_all)]
            async fn current_template(
                &self,
                id: &str,
            ) -> $crate::store::Result<Option<$crate::store::TemplateRecord>> {
                let row: Option<$crate::store::requests::TemplateRow> =
                    sqlx::query_as(sqlx::AssertSqlSafe(format!(
                        "SELECT {} FROM templates WHERE id = $1 AND retired_at IS NULL \
                         ORDER BY version DESC LIMIT 1",
                        $crate::store::requests::TEMPLATE_COLUMNS
                    )))
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(row.map(Into::into))
            }

            #[tracing::instrument(skip_all)]
            async fn list_templates(
                &self,
            ) -> $crate::store::Result<Vec<$crate::store::TemplateRecord>> {
                let rows: Vec<$crate::store::requests::TemplateRow> =
                    sqlx::query_as(sqlx::AssertSqlSafe(format!(
                        "SELECT {} FROM templates ORDER BY id, version",
                        $crate::store::requests::TEMPLATE_COLUMNS
                    )))
                    .fetch_all(&self.pool)
                    .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }
        }

        impl $store {
            /// Writes `writes` in one transaction: every request's rows first, then every
            /// audit line and feed row, so that the audit chain's head is taken last (see
            /// `append_in_tx!`). A write whose request moved on wrote nothing and is `Stale`.
            async fn write_requests_together(
                writer: &sqlx::Pool<$db>,
                writes: &[$crate::store::RequestWrite],
            ) -> $crate::store::Result<Vec<$crate::store::WriteOutcome>> {
                let mut tx = writer.begin_with($begin_write).await?;
                let written =
                    $crate::store::requests::RequestRowsWrite::write_request_rows(&mut *tx, writes)
                        .await?;
                let last_seq = $crate::store::requests::request_audit_feed_in_tx!(
                    tx,
                    writes
                        .iter()
                        .zip(&written)
                        .filter_map(|(write, written)| written.then_some(write))
                );
                tx.commit().await?;
                Ok(written
                    .into_iter()
                    .map(|written| {
                        if written {
                            $crate::store::WriteOutcome::Written { last_seq }
                        } else {
                            $crate::store::WriteOutcome::Stale
                        }
                    })
                    .collect())
            }

            /// Writes one batch and answers each of its writes. A batch that fails on one of
            /// its writes (a mutation sent twice at once, say) is rolled back and its writes
            /// are made again one by one, so each is answered as if it had been alone.
            async fn write_batch(
                writer: &sqlx::Pool<$db>,
                batch: Vec<$crate::store::RequestWrite>,
                answers: Vec<$crate::store::requests::Answer>,
            ) {
                match Self::write_requests_together(writer, &batch).await {
                    Ok(outcomes) => {
                        for (answer, outcome) in answers.into_iter().zip(outcomes) {
                            // A caller that stopped waiting needs no answer.
                            let _ = answer.send(Ok(outcome));
                        }
                    }
                    Err(failed) if batch.len() == 1 => {
                        if let Some(answer) = answers.into_iter().next() {
                            let _ = answer.send(Err(failed));
                        }
                    }
                    // The database itself is out of reach (a pool timeout, a dropped
                    // connection): one by one would only make the last write wait once per
                    // write before it. Every write is told, and its client tries again.
                    Err($crate::store::StoreError::Unavailable(why)) => {
                        for answer in answers {
                            let _ = answer.send(Err($crate::store::StoreError::Unavailable(
                                why.clone(),
                            )));
                        }
                    }
                    Err(_) => {
                        for (write, answer) in batch.iter().zip(answers) {
                            let alone =
                                Self::write_requests_together(writer, std::slice::from_ref(write))
                                    .await
                                    .map(|outcomes| {
                                        outcomes
                                            .first()
                                            .copied()
                                            .unwrap_or($crate::store::WriteOutcome::Stale)
                                    });
                            let _ = answer.send(alone);
                        }
                    }
                }
            }

            /// Starts the writer thread's consumer of the request queue, with up to
            /// `at_once` batches in flight: one where the database has one writer (SQLite),
            /// a few where writers overlap until the audit chain's head (PostgreSQL). A batch
            /// is taken when a slot is free, so writes queue up while the slots are busy.
            fn start_request_queue(
                writes: &$crate::store::writer_thread::WriterThread,
                writer: sqlx::Pool<$db>,
                at_once: usize,
            ) -> $crate::store::requests::RequestQueue {
                let (queue, mut waiting) = $crate::store::requests::RequestQueue::new();
                let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(at_once));
                writes.spawn(async move {
                    loop {
                        let Ok(slot) = slots.clone().acquire_owned().await else {
                            return;
                        };
                        let Some(first) = waiting.recv().await else {
                            return;
                        };
                        let (batch, answers) =
                            $crate::store::requests::RequestQueue::batch(first, &mut waiting);
                        let writer = writer.clone();
                        tokio::spawn(async move {
                            Self::write_batch(&writer, batch, answers).await;
                            drop(slot);
                        });
                    }
                });
                queue
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::RequestStore for $store {
            #[tracing::instrument(skip_all)]
            async fn write_request(
                &self,
                write: &$crate::store::RequestWrite,
            ) -> $crate::store::Result<$crate::store::WriteOutcome> {
                self.request_queue.write(write.clone()).await
            }

            #[tracing::instrument(skip_all)]
            async fn write_requests(
                &self,
                writes: &[$crate::store::RequestWrite],
            ) -> Vec<$crate::store::Result<$crate::store::WriteOutcome>> {
                self.request_queue.write_together(writes.to_vec()).await
            }

            #[tracing::instrument(skip_all)]
            async fn find_request(
                &self,
                id: uuid::Uuid,
            ) -> $crate::store::Result<Option<$crate::store::RequestRecord>> {
                let row: Option<$crate::store::requests::RequestRow> =
                    sqlx::query_as(sqlx::AssertSqlSafe(format!(
                        "SELECT {} FROM requests WHERE id = $1",
                        $crate::store::requests::REQUEST_COLUMNS
                    )))
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(row.map(Into::into))
            }

            #[tracing::instrument(skip_all)]
            async fn find_request_for(
                &self,
                id: uuid::Uuid,
                person: uuid::Uuid,
            ) -> $crate::store::Result<Option<($crate::store::RequestRecord, bool)>> {
                let row: Option<$crate::store::requests::RequestForRow> =
                    sqlx::query_as(sqlx::AssertSqlSafe(format!(
                        "SELECT {}, EXISTS (SELECT 1 FROM request_participants p \
                         WHERE p.request_id = requests.id AND p.person_id = $2) AS takes_part \
                         FROM requests WHERE id = $1",
                        $crate::store::requests::REQUEST_COLUMNS
                    )))
                    .bind(id)
                    .bind(person)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(row.map(Into::into))
            }

            #[tracing::instrument(skip_all)]
            async fn read_for_decision(
                &self,
                id: uuid::Uuid,
                person: uuid::Uuid,
                mutation: Option<uuid::Uuid>,
            ) -> $crate::store::Result<Option<$crate::store::DecisionRead>> {
                let row: Option<$crate::store::requests::DecisionReadRow> =
                    sqlx::query_as(sqlx::AssertSqlSafe(format!(
                        "SELECT {}, EXISTS (SELECT 1 FROM request_participants p \
                         WHERE p.request_id = requests.id AND p.person_id = $2) AS takes_part, \
                         (SELECT MAX(seq) FROM feed WHERE audience = {}) AS everyone_head, \
                         EXISTS (SELECT 1 FROM mutations m WHERE m.id = $3) AS mutation_seen \
                         FROM requests WHERE id = $1",
                        $crate::store::requests::REQUEST_COLUMNS,
                        <$db as $crate::store::feed::EveryoneInSql>::EVERYONE_SQL,
                    )))
                    .bind(id)
                    .bind(person)
                    .bind(mutation)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(row.map(Into::into))
            }

            #[tracing::instrument(skip_all)]
            async fn find_requests(
                &self,
                ids: &[uuid::Uuid],
            ) -> $crate::store::Result<Vec<$crate::store::RequestRecord>> {
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                let mut query = sqlx::QueryBuilder::<$db>::new(format!(
                    "SELECT {} FROM requests WHERE id IN (",
                    $crate::store::requests::REQUEST_COLUMNS
                ));
                let mut list = query.separated(", ");
                for id in ids {
                    list.push_bind(*id);
                }
                list.push_unseparated(")");
                let rows: Vec<$crate::store::requests::RequestRow> =
                    query.build_query_as().fetch_all(&self.pool).await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            #[tracing::instrument(skip_all)]
            async fn is_participant(
                &self,
                request: uuid::Uuid,
                person: uuid::Uuid,
            ) -> $crate::store::Result<bool> {
                let found: Option<i32> = sqlx::query_scalar(
                    "SELECT 1 FROM request_participants WHERE request_id = $1 AND person_id = $2",
                )
                .bind(request)
                .bind(person)
                .fetch_optional(&self.pool)
                .await?;
                Ok(found.is_some())
            }

            #[tracing::instrument(skip_all)]
            async fn requests_started_by(
                &self,
                person: uuid::Uuid,
                before: Option<chrono::DateTime<chrono::Utc>>,
                limit: i64,
            ) -> $crate::store::Result<Vec<$crate::store::RequestRecord>> {
                // Far enough in the future to stand for "no bound" on both databases.
                let before = before.unwrap_or_else($crate::store::requests::far_future);
                let rows: Vec<$crate::store::requests::RequestRow> =
                    sqlx::query_as(sqlx::AssertSqlSafe(format!(
                        "SELECT {} FROM requests WHERE initiator_id = $1 AND updated_at < $2 \
                         ORDER BY updated_at DESC LIMIT $3",
                        $crate::store::requests::REQUEST_COLUMNS
                    )))
                    .bind(person)
                    .bind(before)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            #[tracing::instrument(skip_all)]
            async fn open_tasks_of(
                &self,
                person: uuid::Uuid,
                limit: i64,
            ) -> $crate::store::Result<Vec<$crate::store::TaskRecord>> {
                let rows: Vec<$crate::store::requests::TaskRow> =
                    sqlx::query_as(sqlx::AssertSqlSafe(format!(
                        "SELECT {} FROM tasks WHERE assignee_id = $1 AND open = TRUE \
                         ORDER BY opened_at LIMIT $2",
                        $crate::store::requests::TASK_COLUMNS
                    )))
                    .bind(person)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            #[tracing::instrument(skip_all)]
            async fn find_mutation(
                &self,
                id: uuid::Uuid,
            ) -> $crate::store::Result<Option<$crate::store::MutationRecord>> {
                let row: Option<$crate::store::requests::MutationRow> = sqlx::query_as(
                    "SELECT id, person_id, kind, status, result, created_at \
                     FROM mutations WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(Into::into))
            }

            #[tracing::instrument(skip_all)]
            async fn record_mutation(
                &self,
                m: &$crate::store::MutationRecord,
                audit: &$crate::store::AuditEntry,
            ) -> $crate::store::Result<()> {
                let mut tx = self.writer.begin_with($begin_write).await?;
                $crate::store::requests::mutation_in_tx!(tx, m);
                $crate::store::audit::append_in_tx!(tx, audit);
                tx.commit().await?;
                Ok(())
            }
        }
    };
}

pub(crate) use requests_sql;

/// Writes the rows of one [`RequestWrite`] inside the open transaction `$tx`: the mutation
/// answer, the request with its tasks and participants, and the files its form claims;
/// everything but its audit line and feed rows, which [`request_audit_feed_in_tx!`] writes
/// once the transaction has made every other write. Evaluates to `true`, or `false` when the
/// stored version moved on, in which case the caller must drop the transaction. Shared by
/// `write_request` and by the writes that change a request together with other records
/// (a departure's reassignments, an approval that opens an account or publishes a template).
macro_rules! request_rows_in_tx {
    ($tx:ident, $write:expr) => {{
        let write: &$crate::store::RequestWrite = $write;
        let r = &write.request;
        'write: {
            let status = $crate::store::requests::status_name(&r.state);
            match write.expected_version {
                None => {
                    sqlx::query(
                        "INSERT INTO requests (id, template_id, template_version, \
                         initiator_id, title, status, version, form, computed, state, \
                         created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                    )
                    .bind(r.id)
                    .bind(&r.template_id)
                    .bind(i32::try_from(r.template_version).unwrap_or(i32::MAX))
                    .bind(r.initiator_id)
                    .bind(&r.title)
                    .bind(&status)
                    .bind(r.version())
                    .bind(sqlx::types::Json(&r.form))
                    .bind(sqlx::types::Json(&r.computed))
                    .bind(sqlx::types::Json(&r.state))
                    .bind(r.created_at)
                    .bind(r.updated_at)
                    .execute(&mut *$tx)
                    .await?;
                }
                Some(expected) => {
                    let updated = sqlx::query(
                        "UPDATE requests SET title = $1, status = $2, version = $3, \
                         form = $4, computed = $5, state = $6, updated_at = $7 \
                         WHERE id = $8 AND version = $9",
                    )
                    .bind(&r.title)
                    .bind(&status)
                    .bind(r.version())
                    .bind(sqlx::types::Json(&r.form))
                    .bind(sqlx::types::Json(&r.computed))
                    .bind(sqlx::types::Json(&r.state))
                    .bind(r.updated_at)
                    .bind(r.id)
                    .bind(expected)
                    .execute(&mut *$tx)
                    .await?
                    .rows_affected();
                    if updated != 1 {
                        break 'write false;
                    }
                }
            }
            // The answer after the request: a write whose request moved on (above) has
            // then written nothing, so that a batch of writes can go on without it.
            if let Some(m) = &write.mutation {
                $crate::store::requests::mutation_in_tx!($tx, m);
            }
            // One statement for the changed tasks and one for new participants (a round trip
            // each), none when the change left them as they were.
            for tasks in write.tasks.chunks($crate::store::feed::ROWS_PER_INSERT) {
                let mut upsert = sqlx::QueryBuilder::new(
                    "INSERT INTO tasks (request_id, task_no, assignee_id, seat_id, step_id, \
                     open, opened_at, due_at, closed_at, overdue_at) ",
                );
                upsert.push_values(tasks, |mut values, task| {
                    values
                        .push_bind(task.request_id)
                        .push_bind(i32::try_from(task.task_no).unwrap_or(i32::MAX))
                        .push_bind(task.assignee_id)
                        .push_bind(task.seat_id)
                        .push_bind(task.step_id.as_str())
                        .push_bind(task.open)
                        .push_bind(task.opened_at)
                        .push_bind(task.due_at)
                        .push_bind(task.closed_at)
                        .push("NULL");
                });
                // The overdue mark is the scan's, not the engine's: an update keeps it.
                upsert.push(
                    " ON CONFLICT (request_id, task_no) DO UPDATE SET \
                     assignee_id = excluded.assignee_id, seat_id = excluded.seat_id, \
                     open = excluded.open, due_at = excluded.due_at, \
                     closed_at = excluded.closed_at",
                );
                upsert.build().execute(&mut *$tx).await?;
            }
            for people in write
                .participants
                .chunks($crate::store::feed::ROWS_PER_INSERT)
            {
                let mut insert = sqlx::QueryBuilder::new(
                    "INSERT INTO request_participants (request_id, person_id) ",
                );
                insert.push_values(people, |mut values, person| {
                    values.push_bind(r.id).push_bind(*person);
                });
                insert.push(" ON CONFLICT DO NOTHING");
                insert.build().execute(&mut *$tx).await?;
            }
            // The files the form references become the request's, so its participants may
            // read them. Only the initiator's own files that no other request claimed: the
            // service checked that before, this keeps it true under any race.
            for file in $crate::attachments::referenced_ids(&r.form) {
                sqlx::query(
                    "UPDATE attachments SET request_id = $1 WHERE id = $2 \
                     AND uploader_id = $3 AND (request_id IS NULL OR request_id = $1)",
                )
                .bind(r.id)
                .bind(file)
                .bind(r.initiator_id)
                .execute(&mut *$tx)
                .await?;
            }
            true
        }
    }};
}

pub(crate) use request_rows_in_tx;

/// Inserts a mutation's answer inside the open transaction `$tx`; a conflict
/// (`mutations_pkey`) when its id was used before.
macro_rules! mutation_in_tx {
    ($tx:ident, $mutation:expr) => {{
        let m: &$crate::store::MutationRecord = $mutation;
        sqlx::query(
            "INSERT INTO mutations (id, person_id, kind, status, result, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(m.id)
        .bind(m.person_id)
        .bind(&m.kind)
        .bind(&m.status)
        .bind(sqlx::types::Json(&m.result))
        .bind(m.created_at)
        .execute(&mut *$tx)
        .await?;
    }};
}

pub(crate) use mutation_in_tx;

/// Writes the rows of request writes inside an open transaction, in their order: each
/// request, its mutation's answer, its tasks, participants and files (not its audit line and
/// feed rows, which `request_audit_feed_in_tx!` appends after every write's rows). Answers, per
/// write, whether it was written: `false` when its request moved on past its
/// `expected_version`, and then nothing of it was written.
pub(crate) trait RequestRowsWrite: Send {
    fn write_request_rows(
        &mut self,
        writes: &[RequestWrite],
    ) -> impl std::future::Future<Output = Result<Vec<bool>>> + Send;
}

impl RequestRowsWrite for sqlx::SqliteConnection {
    /// One write after another, a statement per kind of row each: SQLite's statements run in
    /// this process, and one multi-row statement per kind for a whole batch measured no faster
    /// (BENCHMARKS.md, Tuning history 2026-12-03 06:20).
    async fn write_request_rows(&mut self, writes: &[RequestWrite]) -> Result<Vec<bool>> {
        let tx = self;
        let mut written = Vec::with_capacity(writes.len());
        for write in writes {
            written.push(request_rows_in_tx!(tx, write));
        }
        Ok(written)
    }
}

impl RequestRowsWrite for sqlx::PgConnection {
    /// One statement per kind of row for the whole batch (new requests, updated requests,
    /// mutation answers, tasks, participants, files), each a round trip to PostgreSQL, instead
    /// of one per kind and write. The rows go as arrays through `unnest`, so that each
    /// statement's text is the same for every batch size and is prepared once per connection
    /// (multi-row `VALUES` would make a statement of each size). A batch with two writes to
    /// one request writes them in turn, so that the second is checked against the version the
    /// first wrote.
    async fn write_request_rows(&mut self, writes: &[RequestWrite]) -> Result<Vec<bool>> {
        let mut ids = std::collections::HashSet::with_capacity(writes.len());
        if writes.iter().all(|w| ids.insert(w.request.id)) {
            return write_distinct_requests(self, writes).await;
        }
        let mut written = Vec::with_capacity(writes.len());
        for write in writes {
            written.extend(write_distinct_requests(self, std::slice::from_ref(write)).await?);
        }
        Ok(written)
    }
}

/// [`RequestRowsWrite`] on PostgreSQL for writes to different requests.
async fn write_distinct_requests(
    conn: &mut sqlx::PgConnection,
    writes: &[RequestWrite],
) -> Result<Vec<bool>> {
    use sqlx::types::Json;
    let (new, updates): (Vec<&RequestWrite>, Vec<&RequestWrite>) =
        writes.iter().partition(|w| w.expected_version.is_none());
    let template_version =
        |r: &RequestRecord| i32::try_from(r.template_version).unwrap_or(i32::MAX);
    if !new.is_empty() {
        let insert = sqlx::query(
            "INSERT INTO requests (id, template_id, template_version, initiator_id, title, \
             status, version, form, computed, state, created_at, updated_at) \
             SELECT * FROM unnest($1::uuid[], $2::text[], $3::int4[], $4::uuid[], $5::text[], \
             $6::text[], $7::int8[], $8::jsonb[], $9::jsonb[], $10::jsonb[], \
             $11::timestamptz[], $12::timestamptz[])",
        )
        .bind(array(&new, |w| w.request.id))
        .bind(array(&new, |w| w.request.template_id.as_str()))
        .bind(array(&new, |w| template_version(&w.request)))
        .bind(array(&new, |w| w.request.initiator_id));
        bind_request_body(insert, &new)
            .bind(array(&new, |w| w.request.created_at))
            .bind(array(&new, |w| w.request.updated_at))
            .execute(&mut *conn)
            .await?;
    }
    let updated: std::collections::HashSet<Uuid> = if updates.is_empty() {
        Default::default()
    } else {
        let update = sqlx::query(
            "UPDATE requests r SET title = u.title, status = u.status, version = u.version, \
             form = u.form, computed = u.computed, state = u.state, updated_at = u.updated_at \
             FROM unnest($1::uuid[], $2::int8[], $3::text[], $4::text[], $5::int8[], \
             $6::jsonb[], $7::jsonb[], $8::jsonb[], $9::timestamptz[]) \
             AS u(id, expected, title, status, version, form, computed, state, updated_at) \
             WHERE r.id = u.id AND r.version = u.expected RETURNING r.id",
        )
        .bind(array(&updates, |w| w.request.id))
        .bind(array(&updates, |w| w.expected_version.unwrap_or_default()));
        bind_request_body(update, &updates)
            .bind(array(&updates, |w| w.request.updated_at))
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|row| sqlx::Row::try_get::<Uuid, _>(row, 0))
            .collect::<std::result::Result<_, _>>()?
    };
    let written: Vec<bool> = writes
        .iter()
        .map(|w| w.expected_version.is_none() || updated.contains(&w.request.id))
        .collect();
    let kept: Vec<&RequestWrite> = writes
        .iter()
        .zip(&written)
        .filter_map(|(write, written)| written.then_some(write))
        .collect();

    // The answers after the requests: a write whose request moved on has written nothing.
    let answers: Vec<&MutationRecord> = kept.iter().filter_map(|w| w.mutation.as_ref()).collect();
    if !answers.is_empty() {
        sqlx::query(
            "INSERT INTO mutations (id, person_id, kind, status, result, created_at) \
             SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], \
             $5::jsonb[], $6::timestamptz[])",
        )
        .bind(array(&answers, |m| m.id))
        .bind(array(&answers, |m| m.person_id))
        .bind(array(&answers, |m| m.kind.as_str()))
        .bind(array(&answers, |m| m.status.as_str()))
        .bind(array(&answers, |m| Json(&m.result)))
        .bind(array(&answers, |m| m.created_at))
        .execute(&mut *conn)
        .await?;
    }

    let tasks: Vec<&TaskRecord> = kept.iter().flat_map(|w| &w.tasks).collect();
    if !tasks.is_empty() {
        // The overdue mark is the scan's, not the engine's: an update keeps it.
        sqlx::query(
            "INSERT INTO tasks (request_id, task_no, assignee_id, seat_id, step_id, open, \
             opened_at, due_at, closed_at, overdue_at) \
             SELECT *, NULL FROM unnest($1::uuid[], $2::int4[], $3::uuid[], $4::uuid[], \
             $5::text[], $6::bool[], $7::timestamptz[], $8::timestamptz[], \
             $9::timestamptz[]) \
             ON CONFLICT (request_id, task_no) DO UPDATE SET \
             assignee_id = excluded.assignee_id, seat_id = excluded.seat_id, \
             open = excluded.open, due_at = excluded.due_at, closed_at = excluded.closed_at",
        )
        .bind(array(&tasks, |t| t.request_id))
        .bind(array(&tasks, |t| {
            i32::try_from(t.task_no).unwrap_or(i32::MAX)
        }))
        .bind(array(&tasks, |t| t.assignee_id))
        .bind(array(&tasks, |t| t.seat_id))
        .bind(array(&tasks, |t| t.step_id.as_str()))
        .bind(array(&tasks, |t| t.open))
        .bind(array(&tasks, |t| t.opened_at))
        .bind(array(&tasks, |t| t.due_at))
        .bind(array(&tasks, |t| t.closed_at))
        .execute(&mut *conn)
        .await?;
    }

    let participants: Vec<(Uuid, Uuid)> = kept
        .iter()
        .flat_map(|w| w.participants.iter().map(|p| (w.request.id, *p)))
        .collect();
    if !participants.is_empty() {
        sqlx::query(
            "INSERT INTO request_participants (request_id, person_id) \
             SELECT * FROM unnest($1::uuid[], $2::uuid[]) ON CONFLICT DO NOTHING",
        )
        .bind(array(&participants, |(r, _)| r))
        .bind(array(&participants, |(_, p)| p))
        .execute(&mut *conn)
        .await?;
    }

    // As `request_rows_in_tx!`: the files the form references become the request's, only
    // the initiator's own that no other request claimed.
    let files: Vec<(Uuid, Uuid, Uuid)> = kept
        .iter()
        .flat_map(|w| {
            let r = &w.request;
            crate::attachments::referenced_ids(&r.form)
                .into_iter()
                .map(|file| (r.id, file, r.initiator_id))
        })
        .collect();
    if !files.is_empty() {
        sqlx::query(
            "UPDATE attachments a SET request_id = f.request_id \
             FROM unnest($1::uuid[], $2::uuid[], $3::uuid[]) AS f(request_id, id, uploader_id) \
             WHERE a.id = f.id AND a.uploader_id = f.uploader_id \
             AND (a.request_id IS NULL OR a.request_id = f.request_id)",
        )
        .bind(array(&files, |(r, _, _)| r))
        .bind(array(&files, |(_, f, _)| f))
        .bind(array(&files, |(_, _, u)| u))
        .execute(&mut *conn)
        .await?;
    }
    Ok(written)
}

/// Binds the columns a change of a request rewrites, in the order both the insert and the
/// update of [`write_distinct_requests`] take them: title, status, version, form, computed
/// fields, state.
fn bind_request_body<'q>(
    query: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    writes: &[&'q RequestWrite],
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    use sqlx::types::Json;
    query
        .bind(array(writes, |w| w.request.title.as_str()))
        .bind(array(writes, |w| status_name(&w.request.state)))
        .bind(array(writes, |w| w.request.version()))
        .bind(array(writes, |w| Json(&w.request.form)))
        .bind(array(writes, |w| Json(&w.request.computed)))
        .bind(array(writes, |w| Json(&w.request.state)))
}

/// One column of `rows`, as an array for `unnest`.
fn array<R: Copy, T>(rows: &[R], value: impl Fn(R) -> T) -> Vec<T> {
    rows.iter().copied().map(value).collect()
}

/// Appends the audit lines of `$writes` (an iterator of `&RequestWrite` whose rows
/// [`request_rows_in_tx!`] wrote), in their order, and then all their feed rows, each at its
/// request's time; evaluates to the last feed sequence number (0 when they have none), which
/// the writes share. One statement for all the lines and one for all the rows, not one each
/// per write: under the audit head every round trip holds up every other writer. The
/// transaction must make no write after this but other audit lines and feed rows (see
/// `append_in_tx!`).
macro_rules! request_audit_feed_in_tx {
    ($tx:ident, $writes:expr) => {{
        let writes: Vec<&$crate::store::RequestWrite> = $writes.into_iter().collect();
        let lines: Vec<&$crate::store::AuditEntry> = writes.iter().map(|w| &w.audit).collect();
        $crate::store::audit::append_in_tx!($tx, lines &lines);
        $crate::store::feed::feed_in_tx!(
            $tx,
            timed writes
                .iter()
                .flat_map(|w| w.feed.iter().map(|row| (row, w.request.updated_at)))
        )
    }};
}

pub(crate) use request_audit_feed_in_tx;

/// 9999-12-31: "no upper bound" for time filters. Not `DateTime::MAX_UTC`, whose text form
/// (`+262142-…`) sorts before every real date in SQLite's text comparison.
pub(super) fn far_future() -> DateTime<Utc> {
    DateTime::from_timestamp(253_402_300_799, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
}
