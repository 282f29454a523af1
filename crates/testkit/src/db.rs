//! Per-test databases. Every test gets its own, so tests run in parallel and never see each
//! other's rows; the database is removed when the test ends, pass or fail.

use std::path::PathBuf;

use countersign_server::store::Backend;
use sqlx::Connection;

/// The PostgreSQL the tests use: `COUNTERSIGN_TEST_PG_URL`, or the role `make test` creates
/// on the local server.
pub fn pg_admin_url() -> String {
    std::env::var("COUNTERSIGN_TEST_PG_URL").unwrap_or_else(|_| {
        "postgres://countersign_test:countersign_test@127.0.0.1:5432/postgres".to_owned()
    })
}

#[derive(Debug)]
pub struct TestDb {
    url: String,
    backend: Backend,
    /// Holds the SQLite file (and its -wal/-shm) until drop.
    dir: Option<tempfile::TempDir>,
    pg_name: Option<String>,
}

impl TestDb {
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory for the test database");
        let url = format!("sqlite://{}", dir.path().join("countersign.db").display());
        Self {
            url,
            backend: Backend::Sqlite,
            dir: Some(dir),
            pg_name: None,
        }
    }

    /// Creates a fresh database on the test PostgreSQL. Panics with what to do when the
    /// server is not running: PostgreSQL tests are never skipped.
    pub async fn postgres() -> Self {
        let admin = pg_admin_url();
        let name = format!("cs_test_{}", uuid::Uuid::now_v7().simple());
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "cannot reach the test PostgreSQL at {admin}: {e}\n\
                 `make test` starts it; by hand: `make postgres`"
                )
            });
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("CREATE DATABASE");
        let _ = conn.close().await;
        let url = match admin.rsplit_once('/') {
            Some((base, _)) => format!("{base}/{name}"),
            None => panic!("COUNTERSIGN_TEST_PG_URL must end in /DATABASE"),
        };
        Self {
            url,
            backend: Backend::Postgres,
            dir: None,
            pg_name: Some(name),
        }
    }

    pub async fn of(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => Self::sqlite(),
            Backend::Postgres => Self::postgres().await,
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The SQLite file, for tests that damage or inspect it.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| d.path().join("countersign.db"))
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(name) = self.pg_name.take() else {
            return; // the TempDir removes the SQLite file, -wal and -shm
        };
        // Drop runs inside the test's runtime or after it; a thread with its own small
        // runtime works in both cases.
        let admin = pg_admin_url();
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let mut conn = sqlx::PgConnection::connect(&admin).await.ok()?;
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut conn)
                .await
                .ok()?;
                conn.close().await.ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(()))) {
            eprintln!("warning: could not drop test database {}", self.url);
        }
    }
}
