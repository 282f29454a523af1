//! Meetings, their people (invitees with the delivery ledger, and delegates), materials and
//! rooms.
//!
//! A meeting's plan is stored whole (the domain's `MeetingPlan` as JSON) with what queries
//! need as columns. Two counters: `sequence` moves with each change the invitees are told
//! about, `revision` with every write (answers and receipts too) and is what the feed and
//! optimistic concurrency compare. A room booking is checked inside the writing transaction,
//! after taking the room's row (SQLite: the write lock), so two bookings of one room at once
//! cannot both pass the check.

use chrono::{DateTime, Utc};
use countersign_api::meetings::{RoomClash, SkippedInvitee};
use countersign_domain::meetings::{MeetingField, MeetingPlan, MeetingStatus, Rsvp};
use uuid::Uuid;

use super::{AuditEntry, FeedRow, MutationRecord, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeetingRecord {
    pub id: Uuid,
    pub organiser_id: Uuid,
    pub plan: MeetingPlan,
    pub status: MeetingStatus,
    pub sequence: i64,
    pub revision: i64,
    pub changed: Vec<MeetingField>,
    pub cancel_reason: Option<String>,
    pub skipped: Vec<SkippedInvitee>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub cancelled_at: Option<DateTime<Utc>>,
}

/// How a person takes part in a meeting.
pub const INVITEE: &str = "invitee";
/// Someone who sees a meeting on behalf of the organiser or an invitee (S14's "their
/// delegates"); not counted in the ledger.
pub const DELEGATE: &str = "delegate";

/// One person on a meeting, with the ledger columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeetingPerson {
    pub meeting_id: Uuid,
    pub person_id: Uuid,
    /// [`INVITEE`] or [`DELEGATE`].
    pub role: String,
    pub via_department: Option<Uuid>,
    pub invited_at: DateTime<Utc>,
    pub reached_at: Option<DateTime<Utc>>,
    pub reached_sequence: Option<i64>,
    pub opened_at: Option<DateTime<Utc>>,
    pub answer: Option<Rsvp>,
    pub note: Option<String>,
    pub answered_at: Option<DateTime<Utc>>,
}

impl MeetingPerson {
    pub fn is_invitee(&self) -> bool {
        self.role == INVITEE
    }

    /// Whether the current version of the invitation (`sequence`) reached them.
    pub fn reached(&self, sequence: i64) -> bool {
        self.reached_sequence.is_some_and(|s| s >= sequence)
    }
}

/// A material of a meeting: an attachment's metadata and when it was added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeetingMaterial {
    pub meeting_id: Uuid,
    pub attachment_id: Uuid,
    pub name: String,
    pub content_type: String,
    pub size: u64,
    pub added_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Room {
    pub id: Uuid,
    pub name: String,
    pub capacity: Option<i32>,
    pub active: bool,
}

/// Everything a change of a meeting writes, in one transaction.
#[derive(Debug, Clone)]
pub struct MeetingWrite {
    pub meeting: MeetingRecord,
    /// `None` inserts; `Some(r)` updates only while the stored revision is still `r`.
    pub expected_revision: Option<i64>,
    /// The people, replacing those stored (ledger columns of people kept are kept; the
    /// ledger of a person is reset only by the service, through `reached_sequence`). `None`
    /// leaves them as they are.
    pub people: Option<Vec<MeetingPerson>>,
    /// The materials, replacing those stored; `None` leaves them.
    pub materials: Option<Vec<Uuid>>,
    pub feed: Vec<FeedRow>,
    pub audit: AuditEntry,
    pub mutation: Option<MutationRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MeetingWriteOutcome {
    Written {
        last_seq: i64,
    },
    /// The meeting changed since `expected_revision`; nothing was written.
    Stale,
    /// The room is held by another meeting at an overlapping time; nothing was written.
    RoomTaken(RoomClash),
}

/// An answer or receipts: ledger changes that bump the meeting's revision and tell
/// `audience` (the organiser's side and the person themself).
#[derive(Debug, Clone)]
pub struct LedgerWrite {
    pub meeting_id: Uuid,
    pub person_id: Uuid,
    pub change: LedgerChange,
    pub at: DateTime<Utc>,
    pub audience: Vec<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LedgerChange {
    Answer {
        answer: Rsvp,
        note: Option<String>,
    },
    /// The invitation at `sequence` reached the person (kept only if newer than what is
    /// recorded); `opened_at` is kept if none was recorded yet.
    Receipt {
        sequence: i64,
        opened_at: Option<DateTime<Utc>>,
    },
}

#[async_trait::async_trait]
pub trait MeetingStore: Send + Sync + 'static {
    async fn write_meeting(&self, write: &MeetingWrite) -> Result<MeetingWriteOutcome>;
    /// Applies ledger changes in one transaction with one audit line; each change that
    /// altered something bumps its meeting's revision and writes feed rows. Answers the
    /// number of changes that altered something and the last feed sequence written.
    async fn write_ledger(
        &self,
        changes: &[LedgerWrite],
        audit: &AuditEntry,
        mutation: Option<&MutationRecord>,
    ) -> Result<(u32, i64)>;
    async fn find_meeting(&self, id: Uuid) -> Result<Option<MeetingRecord>>;
    async fn find_meetings(&self, ids: &[Uuid]) -> Result<Vec<MeetingRecord>>;
    /// The people of these meetings.
    async fn meeting_people(&self, meetings: &[Uuid]) -> Result<Vec<MeetingPerson>>;
    async fn meeting_materials(&self, meetings: &[Uuid]) -> Result<Vec<MeetingMaterial>>;
    /// Meetings `person` organises or takes part in, starting in `[from, to)`, by start.
    async fn meetings_of(
        &self,
        person: Uuid,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<MeetingRecord>>;
    /// Meetings starting in `[from, to)`, of one organiser or of all, by start.
    async fn meetings_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        organiser: Option<Uuid>,
    ) -> Result<Vec<MeetingRecord>>;
    /// Whether `person` may read the attachment as a material of a meeting they are on.
    async fn is_material_for(&self, attachment: Uuid, person: Uuid) -> Result<bool>;
    async fn insert_room(&self, room: &Room, audit: &AuditEntry) -> Result<()>;
    async fn list_rooms(&self) -> Result<Vec<Room>>;
}

#[derive(sqlx::FromRow)]
pub(super) struct MeetingRow {
    id: Uuid,
    organiser_id: Uuid,
    plan: sqlx::types::Json<MeetingPlan>,
    status: String,
    sequence: i64,
    revision: i64,
    changed: sqlx::types::Json<Vec<MeetingField>>,
    cancel_reason: Option<String>,
    skipped: sqlx::types::Json<Vec<SkippedInvitee>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    cancelled_at: Option<DateTime<Utc>>,
}

impl From<MeetingRow> for MeetingRecord {
    fn from(r: MeetingRow) -> Self {
        MeetingRecord {
            id: r.id,
            organiser_id: r.organiser_id,
            plan: r.plan.0,
            status: MeetingStatus::parse(&r.status),
            sequence: r.sequence,
            revision: r.revision,
            changed: r.changed.0,
            cancel_reason: r.cancel_reason,
            skipped: r.skipped.0,
            created_at: r.created_at,
            updated_at: r.updated_at,
            cancelled_at: r.cancelled_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct PersonRow {
    meeting_id: Uuid,
    person_id: Uuid,
    role: String,
    via_department: Option<Uuid>,
    invited_at: DateTime<Utc>,
    reached_at: Option<DateTime<Utc>>,
    reached_sequence: Option<i64>,
    opened_at: Option<DateTime<Utc>>,
    answer: Option<String>,
    note: Option<String>,
    answered_at: Option<DateTime<Utc>>,
}

impl From<PersonRow> for MeetingPerson {
    fn from(r: PersonRow) -> Self {
        MeetingPerson {
            meeting_id: r.meeting_id,
            person_id: r.person_id,
            role: r.role,
            via_department: r.via_department,
            invited_at: r.invited_at,
            reached_at: r.reached_at,
            reached_sequence: r.reached_sequence,
            opened_at: r.opened_at,
            answer: r.answer.as_deref().and_then(Rsvp::parse),
            note: r.note,
            answered_at: r.answered_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct MaterialRow {
    meeting_id: Uuid,
    attachment_id: Uuid,
    name: String,
    content_type: String,
    size: i64,
    added_at: DateTime<Utc>,
}

impl From<MaterialRow> for MeetingMaterial {
    fn from(r: MaterialRow) -> Self {
        MeetingMaterial {
            meeting_id: r.meeting_id,
            attachment_id: r.attachment_id,
            name: r.name,
            content_type: r.content_type,
            size: u64::try_from(r.size).unwrap_or(0),
            added_at: r.added_at,
        }
    }
}

pub(super) const MEETING_COLUMNS: &str = "id, organiser_id, plan, status, sequence, revision, \
     changed, cancel_reason, skipped, created_at, updated_at, cancelled_at";

pub(super) const PERSON_COLUMNS: &str = "meeting_id, person_id, role, via_department, \
     invited_at, reached_at, reached_sequence, opened_at, answer, note, answered_at";

/// `$1, $2, …, $n` for a list bound one value at a time.
pub(super) fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Runs `$sql` (a format string with one `{}` for the id list) over `$ids` in chunks of
/// 500 binds (SQLite's and PostgreSQL's parameter limits are far above that) and collects the
/// rows as `$row`, converted.
macro_rules! fetch_in_chunks {
    ($pool:expr, $db:ty, $row:ty, $ids:expr, $sql:expr) => {{
        let mut found = Vec::new();
        for chunk in $ids.chunks(500) {
            let sql = $sql.replace(
                "{ids}",
                &$crate::store::meetings::placeholders(1, chunk.len()),
            );
            let mut query = sqlx::query_as::<$db, $row>(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                query = query.bind(*id);
            }
            found.extend(query.fetch_all($pool).await?.into_iter().map(Into::into));
        }
        found
    }};
}

pub(crate) use fetch_in_chunks;

macro_rules! meetings_sql {
    ($store:ty, $begin_write:literal, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::MeetingStore for $store {
            #[tracing::instrument(skip_all)]
            async fn write_meeting(
                &self,
                write: &$crate::store::MeetingWrite,
            ) -> $crate::store::Result<$crate::store::MeetingWriteOutcome> {
                let m = &write.meeting;
                let mut tx = self.writer.begin_with($begin_write).await?;
                if let Some(mu) = &write.mutation {
                    $crate::store::requests::mutation_in_tx!(tx, mu);
                }
                if let (Some(room), countersign_domain::meetings::MeetingStatus::Scheduled) =
                    (m.plan.room_id, m.status)
                {
                    // Holding the room's row orders two bookings of it (PostgreSQL: the second
                    // waits here, and its check below then sees the first committed); on
                    // SQLite, `BEGIN IMMEDIATE` already orders every write.
                    sqlx::query("UPDATE rooms SET bookings = bookings + 1 WHERE id = $1")
                        .bind(room)
                        .execute(&mut *tx)
                        .await?;
                    let clash: Option<(uuid::Uuid, sqlx::types::Json<countersign_domain::meetings::MeetingPlan>)> =
                        sqlx::query_as(
                            "SELECT id, plan FROM meetings WHERE room_id = $1 \
                             AND status = 'scheduled' AND id <> $2 \
                             AND starts_at < $3 AND ends_at > $4 ORDER BY starts_at LIMIT 1",
                        )
                        .bind(room)
                        .bind(m.id)
                        .bind(m.plan.ends_at)
                        .bind(m.plan.starts_at)
                        .fetch_optional(&mut *tx)
                        .await?;
                    if let Some((id, plan)) = clash {
                        return Ok($crate::store::MeetingWriteOutcome::RoomTaken(
                            countersign_api::meetings::RoomClash {
                                meeting_id: id,
                                title: plan.0.title,
                                starts_at: plan.0.starts_at,
                                ends_at: plan.0.ends_at,
                            },
                        ));
                    }
                }
                match write.expected_revision {
                    None => {
                        sqlx::query(
                            "INSERT INTO meetings (id, organiser_id, plan, starts_at, ends_at, \
                             room_id, status, sequence, revision, changed, cancel_reason, \
                             skipped, created_at, updated_at, cancelled_at) VALUES ($1, $2, $3, \
                             $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
                        )
                        .bind(m.id)
                        .bind(m.organiser_id)
                        .bind(sqlx::types::Json(&m.plan))
                        .bind(m.plan.starts_at)
                        .bind(m.plan.ends_at)
                        .bind(m.plan.room_id)
                        .bind(m.status.as_str())
                        .bind(m.sequence)
                        .bind(m.revision)
                        .bind(sqlx::types::Json(&m.changed))
                        .bind(&m.cancel_reason)
                        .bind(sqlx::types::Json(&m.skipped))
                        .bind(m.created_at)
                        .bind(m.updated_at)
                        .bind(m.cancelled_at)
                        .execute(&mut *tx)
                        .await?;
                    }
                    Some(expected) => {
                        let updated = sqlx::query(
                            "UPDATE meetings SET plan = $2, starts_at = $3, ends_at = $4, \
                             room_id = $5, status = $6, sequence = $7, revision = $8, \
                             changed = $9, cancel_reason = $10, skipped = $11, \
                             updated_at = $12, cancelled_at = $13 \
                             WHERE id = $1 AND revision = $14",
                        )
                        .bind(m.id)
                        .bind(sqlx::types::Json(&m.plan))
                        .bind(m.plan.starts_at)
                        .bind(m.plan.ends_at)
                        .bind(m.plan.room_id)
                        .bind(m.status.as_str())
                        .bind(m.sequence)
                        .bind(m.revision)
                        .bind(sqlx::types::Json(&m.changed))
                        .bind(&m.cancel_reason)
                        .bind(sqlx::types::Json(&m.skipped))
                        .bind(m.updated_at)
                        .bind(m.cancelled_at)
                        .bind(expected)
                        .execute(&mut *tx)
                        .await?;
                        if updated.rows_affected() == 0 {
                            return Ok($crate::store::MeetingWriteOutcome::Stale);
                        }
                    }
                }
                if let Some(people) = &write.people {
                    let keep: Vec<uuid::Uuid> = people.iter().map(|p| p.person_id).collect();
                    // Those no longer on the meeting; the rest are upserted, keeping their
                    // ledger unless the service reset it.
                    let stored: Vec<uuid::Uuid> = sqlx::query_scalar(
                        "SELECT person_id FROM meeting_people WHERE meeting_id = $1",
                    )
                    .bind(m.id)
                    .fetch_all(&mut *tx)
                    .await?;
                    for gone in stored.iter().filter(|p| !keep.contains(p)) {
                        sqlx::query(
                            "DELETE FROM meeting_people WHERE meeting_id = $1 AND person_id = $2",
                        )
                        .bind(m.id)
                        .bind(gone)
                        .execute(&mut *tx)
                        .await?;
                    }
                    for p in people {
                        sqlx::query(
                            "INSERT INTO meeting_people (meeting_id, person_id, role, \
                             via_department, invited_at, reached_at, reached_sequence, \
                             opened_at, answer, note, answered_at) VALUES ($1, $2, $3, $4, $5, \
                             $6, $7, $8, $9, $10, $11) ON CONFLICT (meeting_id, person_id) DO \
                             UPDATE SET role = excluded.role, \
                             via_department = excluded.via_department, \
                             reached_at = excluded.reached_at, \
                             reached_sequence = excluded.reached_sequence, \
                             opened_at = excluded.opened_at, answer = excluded.answer, \
                             note = excluded.note, answered_at = excluded.answered_at",
                        )
                        .bind(m.id)
                        .bind(p.person_id)
                        .bind(&p.role)
                        .bind(p.via_department)
                        .bind(p.invited_at)
                        .bind(p.reached_at)
                        .bind(p.reached_sequence)
                        .bind(p.opened_at)
                        .bind(p.answer.map(|a| a.as_str()))
                        .bind(&p.note)
                        .bind(p.answered_at)
                        .execute(&mut *tx)
                        .await?;
                    }
                }
                if let Some(materials) = &write.materials {
                    sqlx::query("DELETE FROM meeting_materials WHERE meeting_id = $1")
                        .bind(m.id)
                        .execute(&mut *tx)
                        .await?;
                    for a in materials {
                        // Re-adding a material keeps the time it was first added.
                        let added: Option<chrono::DateTime<chrono::Utc>> = sqlx::query_scalar(
                            "SELECT MIN(added_at) FROM meeting_materials WHERE attachment_id = $1",
                        )
                        .bind(a)
                        .fetch_one(&mut *tx)
                        .await?;
                        sqlx::query(
                            "INSERT INTO meeting_materials (meeting_id, attachment_id, added_at) \
                             VALUES ($1, $2, $3)",
                        )
                        .bind(m.id)
                        .bind(a)
                        .bind(added.unwrap_or(m.updated_at))
                        .execute(&mut *tx)
                        .await?;
                    }
                }
                $crate::store::audit::append_in_tx!(tx, &write.audit);
                let last_seq = $crate::store::feed::feed_in_tx!(tx, &write.feed, m.updated_at);
                tx.commit().await?;
                Ok($crate::store::MeetingWriteOutcome::Written { last_seq })
            }

            #[tracing::instrument(skip_all)]
            async fn write_ledger(
                &self,
                changes: &[$crate::store::LedgerWrite],
                audit: &$crate::store::AuditEntry,
                mutation: Option<&$crate::store::MutationRecord>,
            ) -> $crate::store::Result<(u32, i64)> {
                let mut tx = self.writer.begin_with($begin_write).await?;
                if let Some(mu) = mutation {
                    $crate::store::requests::mutation_in_tx!(tx, mu);
                }
                let mut changed: u32 = 0;
                let mut rows: Vec<$crate::store::FeedRow> = Vec::new();
                let at = changes.last().map_or(audit.at, |c| c.at);
                // Each meeting's row before its people's rows, as `write_meeting` takes them,
                // and the meetings in id order: without that an answer and an edit of the
                // meeting, or two batches of receipts over the same meetings, could each hold
                // a row the other waits for (a deadlock on PostgreSQL). A no-op update, the
                // one row lock both databases can take.
                let mut in_lock_order: Vec<&$crate::store::LedgerWrite> = changes.iter().collect();
                in_lock_order.sort_by_key(|c| c.meeting_id);
                let mut locked: Option<uuid::Uuid> = None;
                for c in in_lock_order {
                    if locked != Some(c.meeting_id) {
                        sqlx::query("UPDATE meetings SET revision = revision WHERE id = $1")
                            .bind(c.meeting_id)
                            .execute(&mut *tx)
                            .await?;
                        locked = Some(c.meeting_id);
                    }
                    let done = match &c.change {
                        $crate::store::LedgerChange::Answer { answer, note } => sqlx::query(
                            "UPDATE meeting_people SET answer = $3, note = $4, answered_at = $5 \
                             WHERE meeting_id = $1 AND person_id = $2 AND role = 'invitee'",
                        )
                        .bind(c.meeting_id)
                        .bind(c.person_id)
                        .bind(answer.as_str())
                        .bind(note)
                        .bind(c.at)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected(),
                        $crate::store::LedgerChange::Receipt {
                            sequence,
                            opened_at,
                        } => {
                            let reached = sqlx::query(
                                "UPDATE meeting_people SET reached_at = $3, \
                                 reached_sequence = $4 WHERE meeting_id = $1 AND person_id = $2 \
                                 AND role = 'invitee' AND (reached_sequence IS NULL \
                                 OR reached_sequence < $4)",
                            )
                            .bind(c.meeting_id)
                            .bind(c.person_id)
                            .bind(c.at)
                            .bind(sequence)
                            .execute(&mut *tx)
                            .await?
                            .rows_affected();
                            let opened = match opened_at {
                                Some(o) => sqlx::query(
                                    "UPDATE meeting_people SET opened_at = $3 \
                                     WHERE meeting_id = $1 AND person_id = $2 \
                                     AND role = 'invitee' AND opened_at IS NULL",
                                )
                                .bind(c.meeting_id)
                                .bind(c.person_id)
                                .bind(o)
                                .execute(&mut *tx)
                                .await?
                                .rows_affected(),
                                None => 0,
                            };
                            reached + opened
                        }
                    };
                    if done == 0 {
                        continue;
                    }
                    changed += 1;
                    let revision: i64 = sqlx::query_scalar(
                        "UPDATE meetings SET revision = revision + 1 WHERE id = $1 \
                         RETURNING revision",
                    )
                    .bind(c.meeting_id)
                    .fetch_one(&mut *tx)
                    .await?;
                    rows.extend(c.audience.iter().map(|p| $crate::store::FeedRow {
                        audience: *p,
                        kind: "meeting",
                        entity_id: c.meeting_id.to_string(),
                        version: revision,
                        op: "upsert",
                    }));
                }
                $crate::store::audit::append_in_tx!(tx, audit);
                let last_seq = $crate::store::feed::feed_in_tx!(tx, &rows, at);
                tx.commit().await?;
                Ok((changed, last_seq))
            }

            #[tracing::instrument(skip_all)]
            async fn find_meeting(
                &self,
                id: uuid::Uuid,
            ) -> $crate::store::Result<Option<$crate::store::MeetingRecord>> {
                Ok(self.find_meetings(&[id]).await?.into_iter().next())
            }

            #[tracing::instrument(skip_all)]
            async fn find_meetings(
                &self,
                ids: &[uuid::Uuid],
            ) -> $crate::store::Result<Vec<$crate::store::MeetingRecord>> {
                let found: Vec<$crate::store::MeetingRecord> =
                    $crate::store::meetings::fetch_in_chunks!(
                        &self.pool,
                        $db,
                        $crate::store::meetings::MeetingRow,
                        ids,
                        format!(
                            "SELECT {} FROM meetings WHERE id IN ({{ids}})",
                            $crate::store::meetings::MEETING_COLUMNS
                        )
                    );
                Ok(found)
            }

            #[tracing::instrument(skip_all)]
            async fn meeting_people(
                &self,
                meetings: &[uuid::Uuid],
            ) -> $crate::store::Result<Vec<$crate::store::MeetingPerson>> {
                let found: Vec<$crate::store::MeetingPerson> =
                    $crate::store::meetings::fetch_in_chunks!(
                        &self.pool,
                        $db,
                        $crate::store::meetings::PersonRow,
                        meetings,
                        format!(
                            "SELECT {} FROM meeting_people WHERE meeting_id IN ({{ids}}) \
                             ORDER BY meeting_id, invited_at, person_id",
                            $crate::store::meetings::PERSON_COLUMNS
                        )
                    );
                Ok(found)
            }

            #[tracing::instrument(skip_all)]
            async fn meeting_materials(
                &self,
                meetings: &[uuid::Uuid],
            ) -> $crate::store::Result<Vec<$crate::store::MeetingMaterial>> {
                let found: Vec<$crate::store::MeetingMaterial> =
                    $crate::store::meetings::fetch_in_chunks!(
                        &self.pool,
                        $db,
                        $crate::store::meetings::MaterialRow,
                        meetings,
                        String::from(
                            "SELECT m.meeting_id, m.attachment_id, a.name, a.content_type, \
                             a.size, m.added_at FROM meeting_materials m \
                             JOIN attachments a ON a.id = m.attachment_id \
                             WHERE m.meeting_id IN ({ids}) ORDER BY m.added_at, a.name"
                        )
                    );
                Ok(found)
            }

            #[tracing::instrument(skip_all)]
            async fn meetings_of(
                &self,
                person: uuid::Uuid,
                from: chrono::DateTime<chrono::Utc>,
                to: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::Result<Vec<$crate::store::MeetingRecord>> {
                let rows: Vec<$crate::store::meetings::MeetingRow> =
                    sqlx::query_as(sqlx::AssertSqlSafe(format!(
                        "SELECT {} FROM meetings WHERE starts_at >= $2 AND starts_at < $3 \
                         AND (organiser_id = $1 OR id IN \
                         (SELECT meeting_id FROM meeting_people WHERE person_id = $1)) \
                         ORDER BY starts_at, id",
                        $crate::store::meetings::MEETING_COLUMNS
                    )))
                    .bind(person)
                    .bind(from)
                    .bind(to)
                    .fetch_all(&self.pool)
                    .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            #[tracing::instrument(skip_all)]
            async fn meetings_between(
                &self,
                from: chrono::DateTime<chrono::Utc>,
                to: chrono::DateTime<chrono::Utc>,
                organiser: Option<uuid::Uuid>,
            ) -> $crate::store::Result<Vec<$crate::store::MeetingRecord>> {
                let rows: Vec<$crate::store::meetings::MeetingRow> =
                    sqlx::query_as(sqlx::AssertSqlSafe(format!(
                        "SELECT {} FROM meetings WHERE starts_at >= $1 AND starts_at < $2 \
                         AND ($3 IS NULL OR organiser_id = $3) ORDER BY starts_at, id",
                        $crate::store::meetings::MEETING_COLUMNS
                    )))
                    .bind(from)
                    .bind(to)
                    .bind(organiser)
                    .fetch_all(&self.pool)
                    .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            #[tracing::instrument(skip_all)]
            async fn is_material_for(
                &self,
                attachment: uuid::Uuid,
                person: uuid::Uuid,
            ) -> $crate::store::Result<bool> {
                Ok(sqlx::query_scalar(
                    "SELECT EXISTS (SELECT 1 FROM meeting_materials m \
                     JOIN meetings g ON g.id = m.meeting_id \
                     WHERE m.attachment_id = $1 AND (g.organiser_id = $2 OR EXISTS \
                     (SELECT 1 FROM meeting_people p WHERE p.meeting_id = m.meeting_id \
                      AND p.person_id = $2)))",
                )
                .bind(attachment)
                .bind(person)
                .fetch_one(&self.pool)
                .await?)
            }

            #[tracing::instrument(skip_all)]
            async fn insert_room(
                &self,
                room: &$crate::store::Room,
                audit: &$crate::store::AuditEntry,
            ) -> $crate::store::Result<()> {
                let mut tx = self.writer.begin_with($begin_write).await?;
                sqlx::query("INSERT INTO rooms (id, name, capacity, active) VALUES ($1, $2, $3, $4)")
                    .bind(room.id)
                    .bind(&room.name)
                    .bind(room.capacity)
                    .bind(room.active)
                    .execute(&mut *tx)
                    .await?;
                $crate::store::audit::append_in_tx!(tx, audit);
                tx.commit().await?;
                Ok(())
            }

            #[tracing::instrument(skip_all)]
            async fn list_rooms(&self) -> $crate::store::Result<Vec<$crate::store::Room>> {
                Ok(
                    sqlx::query_as("SELECT id, name, capacity, active FROM rooms ORDER BY name")
                        .fetch_all(&self.pool)
                        .await?,
                )
            }
        }
    };
}

pub(crate) use meetings_sql;
