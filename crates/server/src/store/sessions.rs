//! Per-device sessions (only token hashes are stored) and the sign-in throttle state.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::org::PersonRow;
use super::{Person, Result};

/// A session as stored: only hashes of its tokens, never the tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub id: Uuid,
    pub person_id: Uuid,
    pub device_name: String,
    pub source: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub access_hash: Vec<u8>,
    pub access_expires_at: DateTime<Utc>,
    pub refresh_hash: Vec<u8>,
    pub refresh_expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_reason: Option<String>,
}

/// The hashes and expiry times of a freshly issued token pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedHashes {
    pub access_hash: Vec<u8>,
    pub access_expires_at: DateTime<Utc>,
    pub refresh_hash: Vec<u8>,
    pub refresh_expires_at: DateTime<Utc>,
}

/// Failed sign-ins counted under one key (an account or a source address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleState {
    pub failures: u32,
    pub window_started_at: DateTime<Utc>,
    pub locked_until: Option<DateTime<Utc>>,
}

/// Per-device sessions and sign-in throttling.
#[async_trait::async_trait]
pub trait SessionStore: Send + Sync + 'static {
    /// Opens a session and records the sign-in on the person, in one transaction.
    async fn insert_session(&self, session: &SessionRecord) -> Result<()>;
    async fn find_session(&self, id: Uuid) -> Result<Option<SessionRecord>>;
    /// The session an access token belongs to, with its person, read in one statement: every
    /// authenticated request asks this first, and each statement is a round trip.
    async fn find_session_by_access(
        &self,
        access_hash: &[u8],
    ) -> Result<Option<(SessionRecord, Person)>>;
    async fn find_session_by_refresh(&self, refresh_hash: &[u8]) -> Result<Option<SessionRecord>>;
    /// The session a refresh token belonged to, if that token was already traded in.
    async fn find_spent_refresh(&self, refresh_hash: &[u8]) -> Result<Option<Uuid>>;
    /// Replaces the token pair of a live session whose current refresh hash is
    /// `old_refresh_hash`, remembering the old one as spent. Returns false when another
    /// request rotated it first (or it was revoked), so the caller can refuse.
    async fn rotate_session(
        &self,
        session_id: Uuid,
        old_refresh_hash: &[u8],
        issued: &IssuedHashes,
        now: DateTime<Utc>,
    ) -> Result<bool>;
    async fn touch_session(&self, session_id: Uuid, now: DateTime<Utc>) -> Result<()>;
    /// Returns false when the session was already revoked or does not exist.
    async fn revoke_session(
        &self,
        session_id: Uuid,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<bool>;
    /// The person's live sessions (not revoked), newest first.
    async fn list_sessions(&self, person_id: Uuid) -> Result<Vec<SessionRecord>>;

    async fn load_throttle(&self, key: &str) -> Result<Option<ThrottleState>>;
    async fn save_throttle(&self, key: &str, state: &ThrottleState) -> Result<()>;
    async fn clear_throttle(&self, key: &str) -> Result<()>;
}

#[derive(sqlx::FromRow)]
pub(super) struct SessionRow {
    id: Uuid,
    person_id: Uuid,
    device_name: String,
    source: Option<String>,
    created_at: DateTime<Utc>,
    last_seen_at: DateTime<Utc>,
    access_hash: Vec<u8>,
    access_expires_at: DateTime<Utc>,
    refresh_hash: Vec<u8>,
    refresh_expires_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
    revoked_reason: Option<String>,
}

impl From<SessionRow> for SessionRecord {
    fn from(r: SessionRow) -> Self {
        SessionRecord {
            id: r.id,
            person_id: r.person_id,
            device_name: r.device_name,
            source: r.source,
            created_at: r.created_at,
            last_seen_at: r.last_seen_at,
            access_hash: r.access_hash,
            access_expires_at: r.access_expires_at,
            refresh_hash: r.refresh_hash,
            refresh_expires_at: r.refresh_expires_at,
            revoked_at: r.revoked_at,
            revoked_reason: r.revoked_reason,
        }
    }
}

/// A session joined with its person (see `find_session_by_access`).
#[derive(sqlx::FromRow)]
pub(super) struct SessionPersonRow {
    #[sqlx(flatten)]
    session: SessionRow,
    #[sqlx(flatten)]
    person: PersonRow,
}

impl From<SessionPersonRow> for (SessionRecord, Person) {
    fn from(r: SessionPersonRow) -> Self {
        (r.session.into(), r.person.into())
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct ThrottleRow {
    failures: i32,
    window_started_at: DateTime<Utc>,
    locked_until: Option<DateTime<Utc>>,
}

impl From<ThrottleRow> for ThrottleState {
    fn from(r: ThrottleRow) -> Self {
        ThrottleState {
            failures: u32::try_from(r.failures).unwrap_or(0),
            window_started_at: r.window_started_at,
            locked_until: r.locked_until,
        }
    }
}

/// The SQL of [`SessionStore`], shared by both backends. `$begin_write` opens a transaction that
/// already holds the write lock where the database needs that said up front (SQLite).
macro_rules! sessions_sql {
    ($store:ty, $begin_write:literal, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::SessionStore for $store {
            #[tracing::instrument(skip_all)]
            async fn insert_session(
                &self,
                s: &$crate::store::SessionRecord,
            ) -> $crate::store::Result<()> {
                let mut tx = self.writer.begin_with($begin_write).await?;
                sqlx::query(
                    "INSERT INTO sessions (id, person_id, device_name, source, created_at, \
                     last_seen_at, access_hash, access_expires_at, refresh_hash, \
                     refresh_expires_at, revoked_at, revoked_reason) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                )
                .bind(s.id)
                .bind(s.person_id)
                .bind(&s.device_name)
                .bind(&s.source)
                .bind(s.created_at)
                .bind(s.last_seen_at)
                .bind(&s.access_hash)
                .bind(s.access_expires_at)
                .bind(&s.refresh_hash)
                .bind(s.refresh_expires_at)
                .bind(s.revoked_at)
                .bind(&s.revoked_reason)
                .execute(&mut *tx)
                .await?;
                sqlx::query("UPDATE people SET last_sign_in_at = $1 WHERE id = $2")
                    .bind(s.created_at)
                    .bind(s.person_id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            #[tracing::instrument(skip_all)]
            async fn find_session(
                &self,
                id: uuid::Uuid,
            ) -> $crate::store::Result<Option<$crate::store::SessionRecord>> {
                let row: Option<$crate::store::sessions::SessionRow> =
                    sqlx::query_as("SELECT * FROM sessions WHERE id = $1")
                        .bind(id)
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(row.map(Into::into))
            }

            #[tracing::instrument(skip_all)]
            async fn find_session_by_access(
                &self,
                access_hash: &[u8],
            ) -> $crate::store::Result<
                Option<($crate::store::SessionRecord, $crate::store::Person)>,
            > {
                let row: Option<$crate::store::sessions::SessionPersonRow> =
                    // The person's columns carry their own names (`PERSON_COLUMNS`), so the
                    // session's `person_id` comes from the person and the rest from `s`.
                    sqlx::query_as(sqlx::AssertSqlSafe(format!(
                        "SELECT s.id, s.device_name, s.source, s.created_at, s.last_seen_at, \
                         s.access_hash, s.access_expires_at, s.refresh_hash, \
                         s.refresh_expires_at, s.revoked_at, s.revoked_reason, p.* \
                         FROM sessions s JOIN (SELECT {} FROM people) p \
                         ON p.person_id = s.person_id WHERE s.access_hash = $1",
                        $crate::store::org::PERSON_COLUMNS
                    )))
                    .bind(access_hash)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(row.map(Into::into))
            }

            #[tracing::instrument(skip_all)]
            async fn find_session_by_refresh(
                &self,
                refresh_hash: &[u8],
            ) -> $crate::store::Result<Option<$crate::store::SessionRecord>> {
                let row: Option<$crate::store::sessions::SessionRow> =
                    sqlx::query_as("SELECT * FROM sessions WHERE refresh_hash = $1")
                        .bind(refresh_hash)
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(row.map(Into::into))
            }

            #[tracing::instrument(skip_all)]
            async fn find_spent_refresh(
                &self,
                refresh_hash: &[u8],
            ) -> $crate::store::Result<Option<uuid::Uuid>> {
                Ok(sqlx::query_scalar(
                    "SELECT session_id FROM spent_refresh_tokens WHERE hash = $1",
                )
                .bind(refresh_hash)
                .fetch_optional(&self.pool)
                .await?)
            }

            #[tracing::instrument(skip_all)]
            async fn rotate_session(
                &self,
                session_id: uuid::Uuid,
                old_refresh_hash: &[u8],
                issued: &$crate::store::IssuedHashes,
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::Result<bool> {
                let mut tx = self.writer.begin_with($begin_write).await?;
                // The WHERE clause is the compare-and-swap: of two refreshes racing with the
                // same token, exactly one matches.
                let updated = sqlx::query(
                    "UPDATE sessions SET access_hash = $1, access_expires_at = $2, \
                     refresh_hash = $3, refresh_expires_at = $4, last_seen_at = $5 \
                     WHERE id = $6 AND refresh_hash = $7 AND revoked_at IS NULL",
                )
                .bind(&issued.access_hash)
                .bind(issued.access_expires_at)
                .bind(&issued.refresh_hash)
                .bind(issued.refresh_expires_at)
                .bind(now)
                .bind(session_id)
                .bind(old_refresh_hash)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if updated != 1 {
                    return Ok(false);
                }
                sqlx::query(
                    "INSERT INTO spent_refresh_tokens (hash, session_id, spent_at) \
                     VALUES ($1, $2, $3)",
                )
                .bind(old_refresh_hash)
                .bind(session_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(true)
            }

            #[tracing::instrument(skip_all)]
            async fn touch_session(
                &self,
                session_id: uuid::Uuid,
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::Result<()> {
                sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id = $2")
                    .bind(now)
                    .bind(session_id)
                    .execute(&self.writer)
                    .await?;
                Ok(())
            }

            #[tracing::instrument(skip_all)]
            async fn revoke_session(
                &self,
                session_id: uuid::Uuid,
                reason: &str,
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::store::Result<bool> {
                let updated = sqlx::query(
                    "UPDATE sessions SET revoked_at = $1, revoked_reason = $2 \
                     WHERE id = $3 AND revoked_at IS NULL",
                )
                .bind(now)
                .bind(reason)
                .bind(session_id)
                .execute(&self.writer)
                .await?
                .rows_affected();
                Ok(updated == 1)
            }

            #[tracing::instrument(skip_all)]
            async fn list_sessions(
                &self,
                person_id: uuid::Uuid,
            ) -> $crate::store::Result<Vec<$crate::store::SessionRecord>> {
                let rows: Vec<$crate::store::sessions::SessionRow> = sqlx::query_as(
                    "SELECT * FROM sessions WHERE person_id = $1 AND revoked_at IS NULL \
                     ORDER BY created_at DESC, id DESC",
                )
                .bind(person_id)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            #[tracing::instrument(skip_all)]
            async fn load_throttle(
                &self,
                key: &str,
            ) -> $crate::store::Result<Option<$crate::store::ThrottleState>> {
                let row: Option<$crate::store::sessions::ThrottleRow> = sqlx::query_as(
                    "SELECT failures, window_started_at, locked_until \
                     FROM login_throttle WHERE key = $1",
                )
                .bind(key)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(Into::into))
            }

            #[tracing::instrument(skip_all)]
            async fn save_throttle(
                &self,
                key: &str,
                state: &$crate::store::ThrottleState,
            ) -> $crate::store::Result<()> {
                sqlx::query(
                    "INSERT INTO login_throttle (key, failures, window_started_at, locked_until) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO UPDATE SET \
                     failures = excluded.failures, \
                     window_started_at = excluded.window_started_at, \
                     locked_until = excluded.locked_until",
                )
                .bind(key)
                .bind(i32::try_from(state.failures).unwrap_or(i32::MAX))
                .bind(state.window_started_at)
                .bind(state.locked_until)
                .execute(&self.writer)
                .await?;
                Ok(())
            }

            #[tracing::instrument(skip_all)]
            async fn clear_throttle(&self, key: &str) -> $crate::store::Result<()> {
                sqlx::query("DELETE FROM login_throttle WHERE key = $1")
                    .bind(key)
                    .execute(&self.writer)
                    .await?;
                Ok(())
            }
        }
    };
}

pub(crate) use sessions_sql;
