//! Storage: one [`Store`] trait, one implementation per database.
//!
//! The SQLite file is the zero-configuration default; PostgreSQL serves organisations that
//! run several replicas. Both implementations share their query text (the SQL we need is the
//! common subset) through the `sql_store!` macro and own their migrations under
//! `migrations/<backend>/`. The conformance suite in `tests/store_conformance.rs` runs every
//! storage test against both.

mod postgres;
mod sqlite;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique key would be violated; `constraint` names it where the database says.
    #[error("already exists ({constraint})")]
    Conflict { constraint: String },
    /// The database cannot be reached or refused the connection.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A URL the server cannot use as a database.
    #[error("{0}")]
    BadUrl(String),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error(transparent)]
    Database(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        if let Some(db) = err.as_database_error()
            && db.is_unique_violation()
        {
            return StoreError::Conflict {
                constraint: db.constraint().unwrap_or("unique").to_owned(),
            };
        }
        match err {
            sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Tls(_) => StoreError::Unavailable(err.to_string()),
            other => StoreError::Database(other),
        }
    }
}

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Opens the store a database URL names, runs its migrations, and returns it. The scheme
/// picks the implementation: `sqlite:` or `postgres:`/`postgresql:`.
pub async fn open(url: &str) -> Result<Arc<dyn Store>> {
    match url.split_once(':').map(|(scheme, _)| scheme) {
        Some("sqlite") => Ok(Arc::new(SqliteStore::open(url).await?)),
        Some("postgres" | "postgresql") => Ok(Arc::new(PostgresStore::open(url).await?)),
        Some(other) => Err(StoreError::BadUrl(format!(
            "unsupported database URL scheme '{other}:' — use sqlite://PATH or postgres://HOST/DB"
        ))),
        None => Err(StoreError::BadUrl(format!(
            "'{url}' is not a database URL — use sqlite://PATH or postgres://HOST/DB"
        ))),
    }
}

/// The status of an account. Only `Active` people may sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonStatus {
    Active,
    Disabled,
    Departed,
}

impl PersonStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PersonStatus::Active => "active",
            PersonStatus::Disabled => "disabled",
            PersonStatus::Departed => "departed",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "active" => PersonStatus::Active,
            "departed" => PersonStatus::Departed,
            // Anything unexpected is treated as not allowed to sign in: deny by default.
            _ => PersonStatus::Disabled,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Department {
    pub id: Uuid,
    /// A short stable code (`FIN`, `IT`) used by seeds, imports and reports.
    pub code: String,
    pub name: String,
    pub parent_id: Option<Uuid>,
    pub head_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, PartialEq, Eq)]
pub struct Person {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub department_id: Option<Uuid>,
    pub manager_id: Option<Uuid>,
    pub roles: Vec<String>,
    pub status: PersonStatus,
    /// PHC-format argon2id hash; `None` for an account that has not been activated.
    pub password_hash: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_sign_in_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for Person {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Person")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

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

/// One stored line of the audit log with its place in the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub seq: i64,
    pub entry: AuditEntry,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

/// Everything the server keeps, behind one interface so the handlers and services never know
/// which database they run on. Methods that change several rows are atomic.
#[async_trait::async_trait]
pub trait Store: Send + Sync + 'static {
    fn backend(&self) -> Backend;

    /// Round-trips to the database; `/readyz` is ready when this succeeds.
    async fn ping(&self) -> Result<()>;

    async fn close(&self);

    async fn meta_get(&self, key: &str) -> Result<Option<String>>;
    async fn meta_set(&self, key: &str, value: &str) -> Result<()>;

    async fn insert_department(&self, department: &Department) -> Result<()>;
    async fn set_department_head(&self, department_id: Uuid, head_id: Uuid) -> Result<()>;
    async fn find_department(&self, id: Uuid) -> Result<Option<Department>>;
    async fn find_department_by_code(&self, code: &str) -> Result<Option<Department>>;

    /// Fails with [`StoreError::Conflict`] when the user name is taken.
    async fn insert_person(&self, person: &Person) -> Result<()>;
    async fn find_person(&self, id: Uuid) -> Result<Option<Person>>;
    async fn find_person_by_username(&self, username: &str) -> Result<Option<Person>>;
    async fn count_people(&self) -> Result<i64>;

    /// Opens a session and records the sign-in on the person, in one transaction.
    async fn insert_session(&self, session: &SessionRecord) -> Result<()>;
    async fn find_session(&self, id: Uuid) -> Result<Option<SessionRecord>>;
    async fn find_session_by_access(&self, access_hash: &[u8]) -> Result<Option<SessionRecord>>;
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
    // Serialising a struct of strings, options and a timestamp cannot fail.
    let body = serde_json::to_vec(entry).unwrap_or_default();
    hasher.update(&body);
    hasher.finalize().to_vec()
}

/// The first line whose hash does not follow from its predecessor, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainBreak {
    pub seq: i64,
    pub reason: String,
}

/// Walks the whole audit chain and reports the first broken line; `Ok(count)` when intact.
pub async fn verify_audit_chain(store: &dyn Store) -> Result<std::result::Result<i64, ChainBreak>> {
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
struct DepartmentRow {
    id: Uuid,
    code: String,
    name: String,
    parent_id: Option<Uuid>,
    head_id: Option<Uuid>,
    created_at: DateTime<Utc>,
}

impl From<DepartmentRow> for Department {
    fn from(r: DepartmentRow) -> Self {
        Department {
            id: r.id,
            code: r.code,
            name: r.name,
            parent_id: r.parent_id,
            head_id: r.head_id,
            created_at: r.created_at,
        }
    }
}

#[derive(sqlx::FromRow)]
struct PersonRow {
    id: Uuid,
    username: String,
    display_name: String,
    email: Option<String>,
    department_id: Option<Uuid>,
    manager_id: Option<Uuid>,
    roles: sqlx::types::Json<Vec<String>>,
    status: String,
    password_hash: Option<String>,
    created_at: DateTime<Utc>,
    last_sign_in_at: Option<DateTime<Utc>>,
}

impl From<PersonRow> for Person {
    fn from(r: PersonRow) -> Self {
        Person {
            id: r.id,
            username: r.username,
            display_name: r.display_name,
            email: r.email,
            department_id: r.department_id,
            manager_id: r.manager_id,
            roles: r.roles.0,
            status: PersonStatus::parse(&r.status),
            password_hash: r.password_hash,
            created_at: r.created_at,
            last_sign_in_at: r.last_sign_in_at,
        }
    }
}

#[derive(sqlx::FromRow)]
struct SessionRow {
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

#[derive(sqlx::FromRow)]
struct ThrottleRow {
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

#[derive(sqlx::FromRow)]
struct AuditRow {
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

const PERSON_COLUMNS: &str = "id, username, display_name, email, department_id, manager_id, \
     roles, status, password_hash, created_at, last_sign_in_at";

/// The body of [`Store`] shared by both backends. `$begin_write` opens a transaction that
/// already holds the write lock where the database needs that said up front (SQLite).
macro_rules! sql_store {
    ($store:ty, $backend:expr, $begin_write:literal) => {
        #[async_trait::async_trait]
        impl $crate::store::Store for $store {
            fn backend(&self) -> $crate::store::Backend {
                $backend
            }

            #[tracing::instrument(skip_all)]
            async fn ping(&self) -> $crate::store::Result<()> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn close(&self) {
                self.pool.close().await;
            }

            #[tracing::instrument(skip_all)]
            async fn meta_get(&self, key: &str) -> $crate::store::Result<Option<String>> {
                Ok(
                    sqlx::query_scalar("SELECT value FROM server_meta WHERE key = $1")
                        .bind(key)
                        .fetch_optional(&self.pool)
                        .await?,
                )
            }

            #[tracing::instrument(skip_all)]
            async fn meta_set(&self, key: &str, value: &str) -> $crate::store::Result<()> {
                sqlx::query(
                    "INSERT INTO server_meta (key, value) VALUES ($1, $2) \
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                )
                .bind(key)
                .bind(value)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            #[tracing::instrument(skip_all)]
            async fn insert_department(
                &self,
                d: &$crate::store::Department,
            ) -> $crate::store::Result<()> {
                sqlx::query(
                    "INSERT INTO departments (id, code, name, parent_id, head_id, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(d.id)
                .bind(&d.code)
                .bind(&d.name)
                .bind(d.parent_id)
                .bind(d.head_id)
                .bind(d.created_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            #[tracing::instrument(skip_all)]
            async fn set_department_head(
                &self,
                department_id: uuid::Uuid,
                head_id: uuid::Uuid,
            ) -> $crate::store::Result<()> {
                sqlx::query("UPDATE departments SET head_id = $1 WHERE id = $2")
                    .bind(head_id)
                    .bind(department_id)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            #[tracing::instrument(skip_all)]
            async fn find_department(
                &self,
                id: uuid::Uuid,
            ) -> $crate::store::Result<Option<$crate::store::Department>> {
                let row: Option<$crate::store::DepartmentRow> = sqlx::query_as(
                    "SELECT id, code, name, parent_id, head_id, created_at \
                     FROM departments WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(Into::into))
            }

            #[tracing::instrument(skip_all)]
            async fn find_department_by_code(
                &self,
                code: &str,
            ) -> $crate::store::Result<Option<$crate::store::Department>> {
                let row: Option<$crate::store::DepartmentRow> = sqlx::query_as(
                    "SELECT id, code, name, parent_id, head_id, created_at \
                     FROM departments WHERE code = $1",
                )
                .bind(code)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(Into::into))
            }

            #[tracing::instrument(skip_all)]
            async fn insert_person(&self, p: &$crate::store::Person) -> $crate::store::Result<()> {
                sqlx::query(
                    "INSERT INTO people (id, username, display_name, email, department_id, \
                     manager_id, roles, status, password_hash, created_at, last_sign_in_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                )
                .bind(p.id)
                .bind(&p.username)
                .bind(&p.display_name)
                .bind(&p.email)
                .bind(p.department_id)
                .bind(p.manager_id)
                .bind(sqlx::types::Json(&p.roles))
                .bind(p.status.as_str())
                .bind(&p.password_hash)
                .bind(p.created_at)
                .bind(p.last_sign_in_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            #[tracing::instrument(skip_all)]
            async fn find_person(
                &self,
                id: uuid::Uuid,
            ) -> $crate::store::Result<Option<$crate::store::Person>> {
                let row: Option<$crate::store::PersonRow> = sqlx::query_as(sqlx::AssertSqlSafe(
                    format!("SELECT {} FROM people WHERE id = $1", $crate::store::PERSON_COLUMNS),
                ))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(Into::into))
            }

            #[tracing::instrument(skip_all)]
            async fn find_person_by_username(
                &self,
                username: &str,
            ) -> $crate::store::Result<Option<$crate::store::Person>> {
                let row: Option<$crate::store::PersonRow> = sqlx::query_as(sqlx::AssertSqlSafe(
                    format!(
                        "SELECT {} FROM people WHERE username = $1",
                        $crate::store::PERSON_COLUMNS
                    ),
                ))
                .bind(username)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(Into::into))
            }

            #[tracing::instrument(skip_all)]
            async fn count_people(&self) -> $crate::store::Result<i64> {
                Ok(sqlx::query_scalar("SELECT COUNT(*) FROM people")
                    .fetch_one(&self.pool)
                    .await?)
            }

            #[tracing::instrument(skip_all)]
            async fn insert_session(
                &self,
                s: &$crate::store::SessionRecord,
            ) -> $crate::store::Result<()> {
                let mut tx = self.pool.begin_with($begin_write).await?;
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
                let row: Option<$crate::store::SessionRow> =
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
            ) -> $crate::store::Result<Option<$crate::store::SessionRecord>> {
                let row: Option<$crate::store::SessionRow> =
                    sqlx::query_as("SELECT * FROM sessions WHERE access_hash = $1")
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
                let row: Option<$crate::store::SessionRow> =
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
                let mut tx = self.pool.begin_with($begin_write).await?;
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
                    .execute(&self.pool)
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
                .execute(&self.pool)
                .await?
                .rows_affected();
                Ok(updated == 1)
            }

            #[tracing::instrument(skip_all)]
            async fn list_sessions(
                &self,
                person_id: uuid::Uuid,
            ) -> $crate::store::Result<Vec<$crate::store::SessionRecord>> {
                let rows: Vec<$crate::store::SessionRow> = sqlx::query_as(
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
                let row: Option<$crate::store::ThrottleRow> = sqlx::query_as(
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
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            #[tracing::instrument(skip_all)]
            async fn clear_throttle(&self, key: &str) -> $crate::store::Result<()> {
                sqlx::query("DELETE FROM login_throttle WHERE key = $1")
                    .bind(key)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            #[tracing::instrument(skip_all)]
            async fn append_audit(
                &self,
                entry: &$crate::store::AuditEntry,
            ) -> $crate::store::Result<$crate::store::AuditRecord> {
                let mut tx = self.pool.begin_with($begin_write).await?;
                // Writing the head first takes the lock that serialises appends; RETURNING
                // gives the new sequence number and the previous line's hash.
                let (seq, prev_hash): (i64, Vec<u8>) = sqlx::query_as(
                    "UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash",
                )
                .fetch_one(&mut *tx)
                .await?;
                let hash = $crate::store::audit_hash(&prev_hash, seq, entry);
                sqlx::query(
                    "INSERT INTO audit_log (seq, at, actor_id, actor, action, resource, outcome, \
                     source, device, prev_hash, hash) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                )
                .bind(seq)
                .bind(entry.at)
                .bind(entry.actor_id)
                .bind(&entry.actor)
                .bind(&entry.action)
                .bind(&entry.resource)
                .bind(&entry.outcome)
                .bind(&entry.source)
                .bind(&entry.device)
                .bind(&prev_hash)
                .bind(&hash)
                .execute(&mut *tx)
                .await?;
                sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
                    .bind(&hash)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok($crate::store::AuditRecord {
                    seq,
                    entry: entry.clone(),
                    prev_hash,
                    hash,
                })
            }

            #[tracing::instrument(skip_all)]
            async fn audit_lines(
                &self,
                after: i64,
                limit: i64,
            ) -> $crate::store::Result<Vec<$crate::store::AuditRecord>> {
                let rows: Vec<$crate::store::AuditRow> = sqlx::query_as(
                    "SELECT * FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2",
                )
                .bind(after)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }
        }
    };
}

use sql_store;
