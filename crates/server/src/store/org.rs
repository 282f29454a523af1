//! The organisation: departments (a tree with heads) and people (manager, department, roles,
//! status).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{AuditEntry, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonStatus {
    Active,
    Disabled,
    Departed,
    /// Opened by an approved account application (S1) and not yet activated: no password,
    /// cannot sign in until the new employee sets one with the activation secret.
    Invited,
}

impl PersonStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PersonStatus::Active => "active",
            PersonStatus::Disabled => "disabled",
            PersonStatus::Departed => "departed",
            PersonStatus::Invited => "invited",
        }
    }

    pub(super) fn parse(s: &str) -> Self {
        match s {
            "active" => PersonStatus::Active,
            "departed" => PersonStatus::Departed,
            "invited" => PersonStatus::Invited,
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
    /// +1 per change, for the change feed.
    pub version: i64,
}

#[derive(Clone, PartialEq, Eq)]
pub struct Person {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub department_id: Option<Uuid>,
    pub manager_id: Option<Uuid>,
    /// Access roles (employee, manager, hr, …): what the person may do.
    pub roles: Vec<String>,
    /// Routing positions (finance_director, it_head, …): which approvals come to them.
    pub positions: Vec<String>,
    pub status: PersonStatus,
    /// PHC-format argon2id hash; `None` for an account that has not been activated.
    pub password_hash: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_sign_in_at: Option<DateTime<Utc>>,
    /// +1 per change, for the change feed.
    pub version: i64,
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

/// A scheduled out-of-office delegation.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Delegation {
    pub id: Uuid,
    pub from_id: Uuid,
    pub to_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

/// Departments and people. Every write appends its audit line and a directory change to the
/// feed in the same transaction.
#[async_trait::async_trait]
pub trait OrgStore: Send + Sync + 'static {
    async fn insert_department(&self, department: &Department, audit: &AuditEntry) -> Result<()>;
    async fn set_department_head(
        &self,
        department_id: Uuid,
        head_id: Uuid,
        audit: &AuditEntry,
    ) -> Result<()>;
    async fn find_department(&self, id: Uuid) -> Result<Option<Department>>;
    async fn find_department_by_code(&self, code: &str) -> Result<Option<Department>>;
    async fn list_departments(&self) -> Result<Vec<Department>>;

    /// Fails with [`super::StoreError::Conflict`] when the user name is taken.
    async fn insert_person(&self, person: &Person, audit: &AuditEntry) -> Result<()>;
    async fn find_person(&self, id: Uuid) -> Result<Option<Person>>;
    async fn find_person_by_username(&self, username: &str) -> Result<Option<Person>>;
    async fn find_people(&self, ids: &[Uuid]) -> Result<Vec<Person>>;
    /// Everyone, departed people included (history names them).
    async fn list_people(&self) -> Result<Vec<Person>>;
    async fn count_people(&self) -> Result<i64>;
    /// No write path yet. One must also write a directory row to the feed, as every change
    /// to people and departments does: the server keeps the organisation until one comes.
    async fn list_delegations(&self) -> Result<Vec<Delegation>>;
}

#[derive(sqlx::FromRow)]
pub(super) struct DepartmentRow {
    id: Uuid,
    code: String,
    name: String,
    parent_id: Option<Uuid>,
    head_id: Option<Uuid>,
    created_at: DateTime<Utc>,
    version: i64,
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
            version: r.version,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct PersonRow {
    // Read under names no other table uses for another thing (see `PERSON_COLUMNS`), so a
    // person can be read joined with a session, which has its own `id` and `created_at`.
    #[sqlx(rename = "person_id")]
    id: Uuid,
    username: String,
    display_name: String,
    email: Option<String>,
    department_id: Option<Uuid>,
    manager_id: Option<Uuid>,
    roles: sqlx::types::Json<Vec<String>>,
    positions: sqlx::types::Json<Vec<String>>,
    status: String,
    password_hash: Option<String>,
    #[sqlx(rename = "person_created_at")]
    created_at: DateTime<Utc>,
    last_sign_in_at: Option<DateTime<Utc>>,
    version: i64,
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
            positions: r.positions.0,
            status: PersonStatus::parse(&r.status),
            password_hash: r.password_hash,
            created_at: r.created_at,
            last_sign_in_at: r.last_sign_in_at,
            version: r.version,
        }
    }
}

/// The select list of [`PersonRow`] from `people`.
pub(super) const PERSON_COLUMNS: &str = "id AS person_id, username, display_name, email, \
     department_id, manager_id, roles, positions, status, password_hash, \
     created_at AS person_created_at, last_sign_in_at, version";

pub(super) const DEPARTMENT_COLUMNS: &str =
    "id, code, name, parent_id, head_id, created_at, version";

/// The directory change every write of a person or department adds to the feed.
pub(super) fn directory_change(kind: &'static str, id: Uuid, version: i64) -> super::FeedRow {
    super::FeedRow {
        audience: super::EVERYONE,
        kind,
        entity_id: id.to_string(),
        version,
        op: "upsert",
    }
}

/// The SQL of [`OrgStore`], shared by both backends.
/// Inserts a person row inside an open transaction `$tx` (adding someone, opening an
/// approved account).
macro_rules! insert_person_in_tx {
    ($tx:ident, $person:expr) => {{
        let p: &$crate::store::Person = $person;
        sqlx::query(
            "INSERT INTO people (id, username, display_name, email, department_id, \
             manager_id, roles, positions, status, password_hash, created_at, \
             last_sign_in_at, version) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(p.id)
        .bind(&p.username)
        .bind(&p.display_name)
        .bind(&p.email)
        .bind(p.department_id)
        .bind(p.manager_id)
        .bind(sqlx::types::Json(&p.roles))
        .bind(sqlx::types::Json(&p.positions))
        .bind(p.status.as_str())
        .bind(&p.password_hash)
        .bind(p.created_at)
        .bind(p.last_sign_in_at)
        .bind(p.version)
        .execute(&mut *$tx)
        .await?;
    }};
}

pub(crate) use insert_person_in_tx;

macro_rules! org_sql {
    ($store:ty, $begin_write:literal, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::OrgStore for $store {
            #[tracing::instrument(skip_all)]
            async fn insert_department(
                &self,
                d: &$crate::store::Department,
                audit: &$crate::store::AuditEntry,
            ) -> $crate::store::Result<()> {
                let mut tx = self.writer.begin_with($begin_write).await?;
                sqlx::query(
                    "INSERT INTO departments (id, code, name, parent_id, head_id, created_at, \
                     version) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(d.id)
                .bind(&d.code)
                .bind(&d.name)
                .bind(d.parent_id)
                .bind(d.head_id)
                .bind(d.created_at)
                .bind(d.version)
                .execute(&mut *tx)
                .await?;
                $crate::store::audit::append_in_tx!(tx, audit);
                let change = $crate::store::org::directory_change("department", d.id, d.version);
                $crate::store::feed::feed_in_tx!(tx, [&change], audit.at);
                tx.commit().await?;
                Ok(())
            }

            #[tracing::instrument(skip_all)]
            async fn set_department_head(
                &self,
                department_id: uuid::Uuid,
                head_id: uuid::Uuid,
                audit: &$crate::store::AuditEntry,
            ) -> $crate::store::Result<()> {
                let mut tx = self.writer.begin_with($begin_write).await?;
                let version: i64 = sqlx::query_scalar(
                    "UPDATE departments SET head_id = $1, version = version + 1 WHERE id = $2 \
                     RETURNING version",
                )
                .bind(head_id)
                .bind(department_id)
                .fetch_one(&mut *tx)
                .await?;
                $crate::store::audit::append_in_tx!(tx, audit);
                let change =
                    $crate::store::org::directory_change("department", department_id, version);
                $crate::store::feed::feed_in_tx!(tx, [&change], audit.at);
                tx.commit().await?;
                Ok(())
            }

            #[tracing::instrument(skip_all)]
            async fn find_department(
                &self,
                id: uuid::Uuid,
            ) -> $crate::store::Result<Option<$crate::store::Department>> {
                let row: Option<$crate::store::org::DepartmentRow> =
                    sqlx::query_as(sqlx::AssertSqlSafe(format!(
                        "SELECT {} FROM departments WHERE id = $1",
                        $crate::store::org::DEPARTMENT_COLUMNS
                    )))
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
                let row: Option<$crate::store::org::DepartmentRow> =
                    sqlx::query_as(sqlx::AssertSqlSafe(format!(
                        "SELECT {} FROM departments WHERE code = $1",
                        $crate::store::org::DEPARTMENT_COLUMNS
                    )))
                    .bind(code)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(row.map(Into::into))
            }

            #[tracing::instrument(skip_all)]
            async fn list_departments(
                &self,
            ) -> $crate::store::Result<Vec<$crate::store::Department>> {
                let rows: Vec<$crate::store::org::DepartmentRow> =
                    sqlx::query_as(sqlx::AssertSqlSafe(format!(
                        "SELECT {} FROM departments ORDER BY code",
                        $crate::store::org::DEPARTMENT_COLUMNS
                    )))
                    .fetch_all(&self.pool)
                    .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            #[tracing::instrument(skip_all)]
            async fn insert_person(
                &self,
                p: &$crate::store::Person,
                audit: &$crate::store::AuditEntry,
            ) -> $crate::store::Result<()> {
                let mut tx = self.writer.begin_with($begin_write).await?;
                $crate::store::org::insert_person_in_tx!(tx, p);
                $crate::store::audit::append_in_tx!(tx, audit);
                let change = $crate::store::org::directory_change("person", p.id, p.version);
                $crate::store::feed::feed_in_tx!(tx, [&change], audit.at);
                tx.commit().await?;
                Ok(())
            }

            #[tracing::instrument(skip_all)]
            async fn find_person(
                &self,
                id: uuid::Uuid,
            ) -> $crate::store::Result<Option<$crate::store::Person>> {
                let row: Option<$crate::store::org::PersonRow> =
                    sqlx::query_as(sqlx::AssertSqlSafe(format!(
                        "SELECT {} FROM people WHERE id = $1",
                        $crate::store::org::PERSON_COLUMNS
                    )))
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
                let row: Option<$crate::store::org::PersonRow> =
                    sqlx::query_as(sqlx::AssertSqlSafe(format!(
                        "SELECT {} FROM people WHERE username = $1",
                        $crate::store::org::PERSON_COLUMNS
                    )))
                    .bind(username)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(row.map(Into::into))
            }

            #[tracing::instrument(skip_all)]
            async fn find_people(
                &self,
                ids: &[uuid::Uuid],
            ) -> $crate::store::Result<Vec<$crate::store::Person>> {
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                let mut query = sqlx::QueryBuilder::<$db>::new(format!(
                    "SELECT {} FROM people WHERE id IN (",
                    $crate::store::org::PERSON_COLUMNS
                ));
                let mut list = query.separated(", ");
                for id in ids {
                    list.push_bind(*id);
                }
                list.push_unseparated(")");
                let rows: Vec<$crate::store::org::PersonRow> =
                    query.build_query_as().fetch_all(&self.pool).await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            #[tracing::instrument(skip_all)]
            async fn list_people(&self) -> $crate::store::Result<Vec<$crate::store::Person>> {
                let rows: Vec<$crate::store::org::PersonRow> =
                    sqlx::query_as(sqlx::AssertSqlSafe(format!(
                        "SELECT {} FROM people ORDER BY username",
                        $crate::store::org::PERSON_COLUMNS
                    )))
                    .fetch_all(&self.pool)
                    .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            #[tracing::instrument(skip_all)]
            async fn count_people(&self) -> $crate::store::Result<i64> {
                Ok(sqlx::query_scalar("SELECT COUNT(*) FROM people")
                    .fetch_one(&self.pool)
                    .await?)
            }

            #[tracing::instrument(skip_all)]
            async fn list_delegations(
                &self,
            ) -> $crate::store::Result<Vec<$crate::store::Delegation>> {
                Ok(sqlx::query_as(
                    "SELECT id, from_id, to_id, starts_at, ends_at FROM delegations \
                     ORDER BY starts_at",
                )
                .fetch_all(&self.pool)
                .await?)
            }
        }
    };
}

pub(crate) use org_sql;
