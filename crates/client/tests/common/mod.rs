//! What the client's integration tests share: a client on a profile folder with its sign-in
//! kept in memory, and one signed in to a test server and synced.
// Each test file uses the part it needs; the rest is unused there.
#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;

use countersign_client::{Client, ClientOptions, ProfileDir, SessionOnlyCredentials};
use countersign_testkit::{TestServer, tuesday_morning};
use serde_json::json;

pub const PW: &str = countersign_server::seed::DEMO_PASSWORD;

/// A client whose profile is `dir`, in English, remembering its sign-in only in memory.
pub fn client(dir: &Path) -> Client {
    client_with(dir, &SessionOnlyCredentials::default())
}

/// A client on `dir` whose session-only sign-in is shared with the `credentials` of an
/// earlier run: a restarted app, as far as the keyring is concerned.
pub fn client_with(dir: &Path, credentials: &SessionOnlyCredentials) -> Client {
    Client::open(
        ClientOptions {
            profile_dir: ProfileDir::new(dir),
            device_name: "test device".into(),
            os_locale: Some("en-US".into()),
            app_version: "9.9.9".into(),
            default_server: None,
        },
        Arc::new(credentials.clone()),
    )
    .unwrap()
}

/// A signed-in, synced client for `username`, with its profile in `dir`.
pub async fn signed_in(server: &TestServer, dir: &Path, username: &str) -> Client {
    let c = client(dir);
    c.sign_in(&server.url(), username, PW).await.unwrap();
    c.sync(tuesday_morning()).await.unwrap();
    c
}

/// A valid two-day annual leave draft, not submitted.
pub async fn leave_draft(c: &Client) -> uuid::Uuid {
    let now = tuesday_morning();
    let draft = c.draft_new("leave", now).await.unwrap();
    c.draft_set(draft.id, "leave_type", json!("annual"), now)
        .await
        .unwrap();
    c.draft_set(draft.id, "reason", json!("family visit"), now)
        .await
        .unwrap();
    let view = c
        .draft_set(
            draft.id,
            "period",
            json!({"start": "2026-12-07", "end": "2026-12-08"}),
            now,
        )
        .await
        .unwrap();
    assert!(view.errors.is_empty(), "{:?}", view.errors);
    draft.id
}

/// A plain SQLite connection to the offline cache in the profile folder `dir`, to take the
/// file back to an older schema as an earlier version of the app left it.
pub async fn cache_file_connection(dir: &Path) -> sqlx::SqliteConnection {
    use sqlx::ConnectOptions;
    let cache = std::fs::read_dir(dir.join("caches"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "sqlite"))
        .unwrap();
    sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&cache)
        .connect()
        .await
        .unwrap()
}

/// What each migration of the cache added, taken away again, newest first (a later
/// migration's triggers name earlier columns). Tests take a cache back to what an older
/// version of the app left, then check the upgrade keeps what it held.
const UNDO: &[(i64, &[&str])] = &[
    (
        11,
        &[
            "DROP TABLE request_search_terms",
            "DROP INDEX tasks_by_assignee_request_row",
            "ALTER TABLE tasks DROP COLUMN request_row",
        ],
    ),
    (
        10,
        &[
            "DROP INDEX request_notes_held_back",
            "ALTER TABLE request_notes DROP COLUMN held_back_overdue",
            "ALTER TABLE request_notes DROP COLUMN held_back",
        ],
    ),
    (9, &["DROP TABLE request_notes"]),
    (
        8,
        &[
            "DROP TRIGGER tasks_count_insert",
            "DROP TRIGGER tasks_count_delete",
            "DROP TRIGGER tasks_count_update",
            "DROP TABLE inbox_counts",
        ],
    ),
    (
        7,
        &[
            "DROP INDEX tasks_by_assignee",
            "CREATE INDEX tasks_by_assignee ON tasks (assignee, opened_at)",
        ],
    ),
    (
        6,
        &[
            "DROP INDEX tasks_by_assignee_template",
            "ALTER TABLE tasks DROP COLUMN template_id",
        ],
    ),
    (5, &["ALTER TABLE drafts DROP COLUMN resubmits"]),
    (4, &["DROP TABLE meetings"]),
    (3, &["DROP TABLE attachments"]),
    (
        2,
        &[
            "DROP TRIGGER requests_search_insert",
            "DROP TRIGGER requests_search_update",
            "DROP TRIGGER requests_search_delete",
            "DROP TABLE request_search",
            "DROP INDEX requests_by_initiator_status",
        ],
    ),
];

/// Takes the cache on `conn` back to schema `version`: what every later migration added is
/// gone, and so is its record, so that opening the cache runs them again.
pub async fn take_cache_back_to(conn: &mut sqlx::SqliteConnection, version: i64) {
    let newest: i64 = sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(
        UNDO.first().map(|(v, _)| *v),
        Some(newest),
        "a migration newer than the tests know how to undo: add it to UNDO"
    );
    for (_, statements) in UNDO.iter().filter(|(v, _)| *v > version) {
        for &statement in *statements {
            sqlx::query(statement).execute(&mut *conn).await.unwrap();
        }
    }
    sqlx::query("DELETE FROM _sqlx_migrations WHERE version > $1")
        .bind(version)
        .execute(&mut *conn)
        .await
        .unwrap();
}
