//! The client core in-process against the real server: restoring a sign-in, working
//! offline with the last known identity, and session-only credentials.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use countersign_client::{
    Client, ClientErrorCode, ClientOptions, Language, LanguagePreference, ProfileDir,
    SessionOnlyCredentials, SessionView,
};
use countersign_testkit::{Fault, FaultProxy, TestDb, TestServer};

const PASSWORD: &str = "correct horse battery";

fn client(dir: &std::path::Path, creds: &SessionOnlyCredentials, locale: &str) -> Client {
    Client::open(
        ClientOptions {
            profile_dir: ProfileDir::new(dir),
            device_name: "test device".into(),
            os_locale: Some(locale.into()),
            app_version: "9.9.9".into(),
            default_server: Some("https://oa.example.com".into()),
        },
        Arc::new(creds.clone()),
    )
    .unwrap()
}

#[tokio::test]
async fn a_sign_in_is_restored_and_survives_the_server_going_away() {
    let server = TestServer::start(TestDb::sqlite()).await;
    server.add_person("li.wei", PASSWORD, &["employee"]).await;
    let dir = tempfile::tempdir().unwrap();
    let creds = SessionOnlyCredentials::default();

    let first = client(dir.path(), &creds, "en-US");
    let SessionView::SignedOut {
        reason: None,
        server: offered,
        ..
    } = first.restore().await.unwrap()
    else {
        panic!("nobody signed in yet");
    };
    assert_eq!(
        offered.as_deref(),
        Some("https://oa.example.com"),
        "the installer's default server is offered"
    );
    let view = first
        .sign_in(&server.url(), "li.wei", PASSWORD)
        .await
        .unwrap();
    assert!(matches!(view, SessionView::SignedIn { offline: false, .. }));

    // A new start of the app: no password needed.
    let second = client(dir.path(), &creds, "en-US");
    let SessionView::SignedIn { me, offline, .. } = second.restore().await.unwrap() else {
        panic!("restored");
    };
    assert!(!offline);
    assert_eq!(me.username, "li.wei");

    server.stop().await;
    let third = client(dir.path(), &creds, "en-US");
    let SessionView::SignedIn { me, offline, .. } = third.restore().await.unwrap() else {
        panic!("still signed in while offline");
    };
    assert!(offline, "the server is gone");
    assert_eq!(
        me.display_name, "Test li.wei",
        "the last known identity is shown"
    );
}

#[tokio::test]
async fn a_restart_opens_on_the_remembered_identity_while_the_server_hangs() {
    let server = TestServer::start(TestDb::sqlite()).await;
    server.add_person("li.wei", PASSWORD, &["employee"]).await;
    let proxy = FaultProxy::start(server.addr).await;
    let dir = tempfile::tempdir().unwrap();
    let creds = SessionOnlyCredentials::default();
    let first = client(dir.path(), &creds, "en-US");
    first
        .sign_in(&proxy.url(), "li.wei", PASSWORD)
        .await
        .unwrap();
    first.sync(chrono::Utc::now()).await.unwrap();

    // The server now takes every request and never answers: a restart must not wait for it
    // (a request held here would keep this call until its 30 s timeout, then say offline).
    proxy.set(Fault::HoldRequest);
    let second = client(dir.path(), &creds, "en-US");
    let SessionView::SignedIn { me, offline, .. } = second.restore_remembered().await.unwrap()
    else {
        panic!("restored from what the device remembers");
    };
    assert_eq!(me.display_name, "Test li.wei", "the last known identity");
    assert!(!offline, "not known to be offline: nothing was asked yet");
    assert_eq!(
        second.sync_status().await.unwrap().outbox_pending,
        0,
        "the cache answers at once"
    );

    // Signed out on this device: nothing to remember, nothing asked either.
    proxy.release();
    proxy.set(Fault::Pass);
    second.sign_out().await.unwrap();
    proxy.set(Fault::HoldRequest);
    let third = client(dir.path(), &creds, "en-US");
    assert!(matches!(
        third.restore_remembered().await.unwrap(),
        SessionView::SignedOut { reason: None, .. }
    ));
}

#[tokio::test]
async fn signing_out_forgets_the_tokens_but_remembers_server_and_user() {
    let server = TestServer::start(TestDb::sqlite()).await;
    server.add_person("li.wei", PASSWORD, &[]).await;
    let dir = tempfile::tempdir().unwrap();
    let creds = SessionOnlyCredentials::default();
    let c = client(dir.path(), &creds, "en-US");
    c.sign_in(&server.url(), "li.wei", PASSWORD).await.unwrap();
    let SessionView::SignedOut {
        reason,
        server: s,
        username,
    } = c.sign_out().await.unwrap()
    else {
        panic!("signed out");
    };
    assert_eq!(
        (reason, s.as_deref(), username.as_deref()),
        (None, Some(server.url().as_str()), Some("li.wei"))
    );
    let err = c.me().await.unwrap_err();
    assert_eq!(err.code, ClientErrorCode::SignedOut);
    let again = client(dir.path(), &creds, "en-US");
    assert!(matches!(
        again.restore().await.unwrap(),
        SessionView::SignedOut { reason: None, .. }
    ));
}

#[tokio::test]
async fn the_language_follows_the_os_until_chosen_and_the_choice_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let creds = SessionOnlyCredentials::default();
    let c = client(dir.path(), &creds, "zh-CN");
    assert_eq!(c.preferences().await.resolved_language, Language::ZhCn);
    let prefs = c.set_language(LanguagePreference::En).await.unwrap();
    assert_eq!(
        (prefs.language, prefs.resolved_language),
        (LanguagePreference::En, Language::En)
    );
    assert_eq!(prefs.app_version, "9.9.9");
    let reopened = client(dir.path(), &creds, "zh-CN");
    assert_eq!(reopened.preferences().await.resolved_language, Language::En);
}

#[tokio::test]
async fn an_invalid_address_is_refused_before_any_request() {
    let dir = tempfile::tempdir().unwrap();
    let c = client(dir.path(), &SessionOnlyCredentials::default(), "en");
    let err = c
        .sign_in("ftp://files.example.com", "li.wei", PASSWORD)
        .await
        .unwrap_err();
    assert_eq!(err.code, ClientErrorCode::InvalidServerUrl);
}
