//! The organisation: departments (a tree with heads) and people (manager, department, roles,
//! status).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Result;

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

/// Departments and people.
#[async_trait::async_trait]
pub trait OrgStore: Send + Sync + 'static {
    async fn insert_department(&self, department: &Department) -> Result<()>;
    async fn set_department_head(&self, department_id: Uuid, head_id: Uuid) -> Result<()>;
    async fn find_department(&self, id: Uuid) -> Result<Option<Department>>;
    async fn find_department_by_code(&self, code: &str) -> Result<Option<Department>>;

    /// Fails with [`StoreError::Conflict`] when the user name is taken.
    async fn insert_person(&self, person: &Person) -> Result<()>;
    async fn find_person(&self, id: Uuid) -> Result<Option<Person>>;
    async fn find_person_by_username(&self, username: &str) -> Result<Option<Person>>;
    async fn count_people(&self) -> Result<i64>;
}

#[derive(sqlx::FromRow)]
pub(super) struct DepartmentRow {
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
pub(super) struct PersonRow {
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

pub(super) const PERSON_COLUMNS: &str = "id, username, display_name, email, department_id, manager_id, \
     roles, status, password_hash, created_at, last_sign_in_at";

/// The SQL of [`OrgStore`], shared by both backends. `$begin_write` opens a transaction that
/// already holds the write lock where the database needs that said up front (SQLite).
macro_rules! org_sql {
    ($store:ty, $begin_write:literal) => {
        #[async_trait::async_trait]
        impl $crate::store::OrgStore for $store {
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
                let row: Option<$crate::store::org::DepartmentRow> = sqlx::query_as(
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
                let row: Option<$crate::store::org::DepartmentRow> = sqlx::query_as(
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
                let row: Option<$crate::store::org::PersonRow> = sqlx::query_as(sqlx::AssertSqlSafe(
                    format!("SELECT {} FROM people WHERE id = $1", $crate::store::org::PERSON_COLUMNS),
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
                let row: Option<$crate::store::org::PersonRow> = sqlx::query_as(sqlx::AssertSqlSafe(
                    format!(
                        "SELECT {} FROM people WHERE username = $1",
                        $crate::store::org::PERSON_COLUMNS
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
        }
    };
}

pub(crate) use org_sql;
