//! Desktop smoke test: the real app under Xvfb with a private D-Bus session and Secret
//! Service, driven through tauri-driver and WebKitWebDriver against the real server.
//! Sign in, see who you are, restart and still be signed in, switch language, and be sent
//! back to sign-in with the reason when the session is revoked elsewhere.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use countersign_e2e::{Driver, artifacts_dir};
use countersign_testkit::{DesktopSession, TestDb, TestServer, cargo_bin};

#[tokio::test(flavor = "multi_thread")]
async fn sign_in_restart_and_revocation_in_the_real_app() {
    let server = TestServer::start(TestDb::sqlite()).await;
    countersign_server::seed::seed_demo(server.state.store.as_ref(), chrono::Utc::now())
        .await
        .unwrap();
    let app_binary = cargo_bin("countersign-desktop");
    let session = DesktopSession::with_display();
    let profile = session.home().join("desktop-profile");
    let profile = profile.to_str().unwrap();
    // The app's log kept with the screenshots, to read when a launch fails.
    let logs = artifacts_dir().join("logs").join("smoke-profile");
    let driver = Driver::start(
        &session,
        &[
            ("COUNTERSIGN_HOME", profile),
            ("COUNTERSIGN_LOG_DIR", logs.to_str().unwrap()),
            ("LANG", "en_US.UTF-8"),
            ("LC_ALL", "en_US.UTF-8"),
        ],
    );

    // First start: nobody signed in.
    let app = driver.launch(&app_binary).await;
    app.wait_for("#server").await;
    app.wait_until(
        "the UI is in English",
        "return document.documentElement.lang === 'en'",
    )
    .await;
    app.screenshot("01-sign-in-en").await;

    // A wrong password is refused in words.
    app.fill("#server", &server.url()).await;
    app.fill("#username", "li.wei").await;
    app.fill("#password", "not the password").await;
    app.click("#sign-in").await;
    app.wait_for_text(
        "[data-testid='sign-in-error']",
        "Wrong user name or password.",
    )
    .await;
    app.screenshot("02-sign-in-wrong-password").await;

    app.fill("#password", countersign_server::seed::DEMO_PASSWORD)
        .await;
    app.click("#sign-in").await;
    app.wait_for_text("[data-testid='display-name']", "李伟")
        .await;
    app.wait_for_text("[data-testid='department']", "人力资源部 Human Resources")
        .await;
    app.wait_for("[data-testid='inbox-empty']").await;
    app.screenshot("03-inbox-en").await;

    app.click("[data-testid='nav-settings']").await;
    app.wait_for("#language").await;
    app.screenshot("04-settings-en").await;
    app.quit().await;

    // Second start: the session comes back from the keyring, no password asked.
    let app = driver.launch(&app_binary).await;
    app.wait_for_text("[data-testid='display-name']", "李伟")
        .await;
    app.click("[data-testid='nav-settings']").await;
    let language = app.wait_for("#language").await;
    language
        .select_by_value("zh-CN")
        .await
        .expect("choose Simplified Chinese");
    app.wait_until(
        "the UI is in Chinese",
        "return document.documentElement.lang === 'zh-CN'",
    )
    .await;
    app.screenshot("05-settings-zh").await;
    app.click("[data-testid='nav-inbox']").await;
    app.wait_for("[data-testid='inbox-empty']").await;
    app.screenshot("06-inbox-zh").await;
    app.quit().await;

    // The person revokes this device's session from elsewhere.
    let store = &server.state.store;
    let person = store
        .find_person_by_username("li.wei")
        .await
        .unwrap()
        .unwrap();
    let sessions = store.list_sessions(person.id).await.unwrap();
    assert_eq!(sessions.len(), 1, "one device signed in");
    assert!(
        sessions[0]
            .device_name
            .starts_with("Countersign desktop on ")
    );
    store
        .revoke_session(sessions[0].id, "revoked_by_owner", chrono::Utc::now())
        .await
        .unwrap();

    // Third start: back at sign-in, told why, with server and user filled in; in Chinese,
    // because the language choice was kept.
    let app = driver.launch(&app_binary).await;
    app.wait_for("[data-testid='signed-out-reason']").await;
    app.wait_until(
        "the UI is still in Chinese",
        "return document.documentElement.lang === 'zh-CN'",
    )
    .await;
    let username = app.wait_for("#username").await;
    assert_eq!(
        username.prop("value").await.unwrap().as_deref(),
        Some("li.wei")
    );
    app.screenshot("07-signed-out-reason-zh").await;

    // Sign in again and sign out from settings: back at sign-in, the session ended on the
    // server and nothing left to restore.
    app.fill("#password", countersign_server::seed::DEMO_PASSWORD)
        .await;
    app.click("#sign-in").await;
    app.wait_for_text("[data-testid='display-name']", "李伟")
        .await;
    app.click("[data-testid='nav-settings']").await;
    app.click("#sign-out").await;
    app.wait_for("#password").await;
    assert!(
        app.client
            .find(fantoccini::Locator::Css(
                "[data-testid='signed-out-reason']"
            ))
            .await
            .is_err(),
        "signing out yourself needs no explanation"
    );
    app.quit().await;
    assert!(
        store.list_sessions(person.id).await.unwrap().is_empty(),
        "signing out ended the session on the server"
    );
    let app = driver.launch(&app_binary).await;
    app.wait_for("#password").await;
    app.quit().await;
    drop(driver);

    // A machine whose locale is Chinese gets the Chinese UI on first start.
    let chinese = session.home().join("chinese-profile");
    let chinese_logs = logs.with_file_name("smoke-chinese-profile");
    let driver = Driver::start(
        &session,
        &[
            ("COUNTERSIGN_HOME", chinese.to_str().unwrap()),
            ("COUNTERSIGN_LOG_DIR", chinese_logs.to_str().unwrap()),
            ("LANG", "zh_CN.UTF-8"),
            ("LC_ALL", "zh_CN.UTF-8"),
        ],
    );
    let app = driver.launch(&app_binary).await;
    app.wait_for("#server").await;
    app.wait_until(
        "the UI follows the Chinese OS locale",
        "return document.documentElement.lang === 'zh-CN'",
    )
    .await;
    app.wait_for_text("#sign-in", "登录").await;
    app.screenshot("08-sign-in-zh-from-os-locale").await;
    app.quit().await;
}
