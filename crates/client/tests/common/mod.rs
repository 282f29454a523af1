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
