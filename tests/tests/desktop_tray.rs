//! The tray and the edges of notifications, end to end (issue 6): the real app under Xvfb on a
//! private D-Bus session, with the test StatusNotifierWatcher as the panel that shows the tray
//! and the test notification server, against the real server behind a fault proxy (which can
//! hold the app's live event stream, so that the app hears of a change only when it asks).
//!
//! (a) the tray shows the pending count beside the icon, a badge, and the newest five of six
//!     pending requests, each with Approve / Reject… / Open in the words notifications use;
//! (b) Approve pressed in the tray approves on the server and the count drops;
//! (c) Open and Reject… bring the window up on the request;
//! (d) Sync now fetches what the app had not heard of;
//! (e) Pause notifications: a request arriving while paused raises no notification, the next
//!     one after resuming does;
//! (f) Approve pressed on a notification about a task decided elsewhere meanwhile: one clear
//!     follow-up notification, no error on screen;
//! (g) closing the window keeps the app in the tray, and Open window brings it back;
//! (h) start at login writes the system's autostart entry (starting hidden) and removes it;
//! (i) Quit ends the app (its tray item goes), and the window's size comes back at the next
//!     start.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::{Duration, Instant};

use countersign_domain::engine::RequestStatus;
use countersign_e2e::{
    App, Driver, app_env, colleague, leave_from, status_on_server, tray_where,
    wait_for_status_on_server,
};
use countersign_testkit::{
    DesktopSession, Fault, FaultProxy, NotificationServer, Notified, Observed,
    StatusNotifierWatcher, TestDb, TestServer, TopLevel, cargo_bin,
};
use uuid::Uuid;

const WITHIN: Duration = Duration::from_secs(30);
/// 沈月 (shen.yue) sends the requests; 蒋涛 (jiang.tao), her manager, decides them.
const FROM: &str = "沈月";

fn entry(title: &str) -> String {
    format!("{title} — {FROM}")
}

fn pending_for(title: &str) -> impl FnMut(&Notified) -> bool + '_ {
    move |n| n.summary.contains(title) && n.has_action("approve")
}

/// Makes the app deaf to the server's hints: its open event stream is cut and the next one is
/// held unanswered, so until the stream times out (45 s) the app learns of a change only
/// when it syncs for another reason (Sync now, a decision of its own). Returns once the new
/// stream is held — after the app's catch-up sync, which comes first on every reconnection.
async fn deafen(proxy: &FaultProxy) {
    let held = proxy.observed().held;
    proxy.once_on("GET /v1/events", Fault::HoldRequest);
    proxy.reset_connections().await;
    proxy
        .wait_until(WITHIN, "the app's next event stream held", |o| {
            o.held > held
        })
        .await;
}

fn syncs(observed: &Observed) -> usize {
    observed
        .requests
        .iter()
        .filter(|r| r.target.starts_with("/v1/sync"))
        .count()
}

/// Polls a condition only the X server or the file system can answer (neither tells a test
/// when it changes), failing after [`WITHIN`].
async fn eventually(what: &str, check: impl Fn() -> bool) {
    let deadline = Instant::now() + WITHIN;
    while !check() {
        assert!(Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The app's window, by its title. (GTK also gives the process a never-mapped helper
/// window named after the program, which takes WM_DELETE_WINDOW as well.)
fn app_window(session: &DesktopSession, app: &App) -> TopLevel {
    let windows = session.top_levels(app.pid());
    let mine: Vec<_> = windows
        .iter()
        .filter(|w| w.title == "Countersign")
        .collect();
    assert_eq!(mine.len(), 1, "the app has one window: {windows:?}");
    mine[0].clone()
}

fn window_shown(session: &DesktopSession, app: &App) -> bool {
    app_window(session, app).shown
}

#[tokio::test(flavor = "multi_thread")]
async fn the_tray_and_the_edges_of_notifications_in_the_real_app() {
    let server = TestServer::start(TestDb::sqlite()).await;
    server.seed_demo().await;
    let proxy = FaultProxy::start(server.addr).await;
    let session = DesktopSession::with_display();
    let notifications = NotificationServer::start(&session.dbus_address).await;
    // Before the app: libayatana-appindicator registers its item when it finds a watcher at
    // start, and otherwise falls back to an XEmbed icon no test can read.
    let watcher = StatusNotifierWatcher::start(&session.dbus_address).await;
    let app_binary = cargo_bin("countersign-desktop");
    let profile = session.home().join("jiang-profile");
    let env = app_env(&profile);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();

    // Six leave requests wait for 蒋涛, one more than the tray lists; "Leave 6" is the newest.
    let days = [7, 8, 9, 10, 11, 14];
    let mut waiting: Vec<(String, Uuid)> = Vec::new();
    for (n, day) in days.iter().enumerate() {
        let title = format!("Leave {}", n + 1);
        let id = leave_from(&server, "shen.yue", &title, (*day, *day)).await;
        waiting.push((title, id));
    }

    let driver = Driver::start(&session, &env);
    let app = driver.launch(&app_binary).await;
    let item = watcher.wait_for_item(WITHIN).await;

    // Signed out: the tray offers only the window and Quit, and shows no count.
    let signed_out = tray_where(
        &watcher,
        &item,
        "the signed-out tray, its icon a file",
        |tray| {
            tray.menu.labels() == ["Open window", "—", "Quit"]
                && tray.properties.icon_file.is_some()
        },
    )
    .await;
    assert_eq!(signed_out.properties.label, "", "no count before sign-in");
    let plain_icon = signed_out.properties.icon_file.clone().unwrap();

    // (a) Signed in: six waiting, the newest five listed.
    app.sign_in(&proxy.url(), "jiang.tao").await;
    let mut newest_five: Vec<String> = waiting[1..].iter().rev().map(|(t, _)| entry(t)).collect();
    let expected_menu = |heading: &str, listed: &[String]| {
        let mut labels = vec![heading.to_owned()];
        labels.extend(listed.iter().cloned());
        labels.extend(
            [
                "—",
                "Sync now",
                "Pause notifications",
                "Open window",
                "—",
                "Quit",
            ]
            .map(String::from),
        );
        labels
    };
    let wanted = expected_menu("6 approvals waiting", &newest_five);
    let tray = tray_where(
        &watcher,
        &item,
        "six waiting, the newest five listed",
        move |tray| {
            tray.properties.label == "6"
                && tray.menu.labels() == wanted
                && tray.properties.icon_file.is_some()
        },
    )
    .await;
    assert!(
        !tray.menu.children[0].enabled,
        "the count heading is information, not an action"
    );
    for listed in &newest_five {
        let submenu = tray.menu.find(&[listed]).unwrap();
        assert_eq!(
            submenu.labels(),
            ["Approve", "Reject…", "Open"],
            "each item offers what its notification offers, in the same words (驳回 in Chinese, \
             as on a notification's button)"
        );
    }
    let badged = tray.properties.icon_file.clone().unwrap();
    assert_ne!(
        badged, plain_icon,
        "the icon carries a badge while something waits"
    );

    // (b) Approve in the tray: decided on the server, the count drops, the next one shows up.
    let (sixth_title, sixth) = waiting[5].clone();
    watcher
        .click(&item, &[&entry(&sixth_title), "Approve"])
        .await;
    wait_for_status_on_server(
        &server,
        sixth,
        RequestStatus::Approved,
        "Approve pressed in the tray reaches the server",
    )
    .await;
    newest_five.remove(0);
    newest_five.push(entry(&waiting[0].0));
    let wanted = expected_menu("5 approvals waiting", &newest_five);
    let five = tray_where(
        &watcher,
        &item,
        "five waiting after the approval",
        move |tray| tray.properties.label == "5" && tray.menu.labels() == wanted,
    )
    .await;
    assert_eq!(
        five.properties.icon_name, tray.properties.icon_name,
        "only the count moved: the badged icon stays the file the panel already loaded"
    );
    notifications
        .wait_for_notification(WITHIN, "the tray's approval confirmed", |n| {
            n.summary == format!("You approved: {sixth_title}")
        })
        .await;

    // (c) Open and Reject… bring the window up on the request; Reject… asks for the reason.
    watcher.click(&item, &[&entry("Leave 5"), "Open"]).await;
    app.wait_for_text_containing("h1", "Leave 5").await;
    watcher.click(&item, &[&entry("Leave 4"), "Reject…"]).await;
    app.wait_for_text_containing("h1", "Leave 4").await;
    app.wait_for("#act-text").await;
    app.snapshot("50-tray-reject-asks-why-en").await;

    // (d) Sync now: with the app deaf to hints, a new request shows only once it is pressed.
    deafen(&proxy).await;
    let quiet = syncs(&proxy.observed());
    leave_from(&server, "shen.yue", "Leave 7", (15, 15)).await;
    assert!(
        tray_where(&watcher, &item, "the tray read", |_| true)
            .await
            .properties
            .label
            == "5",
        "the deaf app has not heard of Leave 7"
    );
    watcher.click(&item, &["Sync now"]).await;
    proxy
        .wait_until(WITHIN, "the sync Sync now asked for", |o| syncs(o) > quiet)
        .await;
    tray_where(&watcher, &item, "Leave 7 fetched by Sync now", |tray| {
        tray.properties.label == "6" && tray.menu.find(&[&entry("Leave 7")]).is_some()
    })
    .await;
    notifications
        .wait_for_notification(WITHIN, "Leave 7's notification", pending_for("Leave 7"))
        .await;

    // (e) Pause: a request arriving while paused raises nothing; after resuming, the next does.
    watcher.click(&item, &["Pause notifications"]).await;
    tray_where(&watcher, &item, "Pause notifications ticked", |tray| {
        tray.menu
            .find(&["Pause notifications"])
            .is_some_and(|e| e.toggle_type == "checkmark" && e.toggle_state == 1)
    })
    .await;
    leave_from(&server, "shen.yue", "Leave 8", (16, 16)).await;
    watcher.click(&item, &["Sync now"]).await;
    tray_where(&watcher, &item, "Leave 8 fetched while paused", |tray| {
        tray.properties.label == "7"
    })
    .await;
    watcher.click(&item, &["Pause notifications"]).await;
    tray_where(&watcher, &item, "Pause notifications unticked", |tray| {
        tray.menu
            .find(&["Pause notifications"])
            .is_some_and(|e| e.toggle_state == 0)
    })
    .await;
    let ninth_title = "Leave 9";
    let ninth = leave_from(&server, "shen.yue", ninth_title, (17, 17)).await;
    watcher.click(&item, &["Sync now"]).await;
    let raised = notifications
        .wait_for_notification(WITHIN, "Leave 9's notification", pending_for(ninth_title))
        .await;
    // The app shows notifications in the order it learns of requests, so Leave 8's would have
    // come before Leave 9's.
    assert!(
        !notifications
            .notifications()
            .iter()
            .any(|n| n.summary.contains("Leave 8")),
        "nothing was raised for Leave 8, which arrived while notifications were paused: {:#?}",
        notifications.notifications()
    );

    // (f) Leave 9 is approved on another device while the app hears nothing of it; then
    // Approve is pressed on its notification, which is still showing.
    deafen(&proxy).await;
    let (elsewhere, _profile) = colleague(&server.url(), "jiang.tao").await;
    elsewhere
        .act(
            ninth,
            countersign_client::Act::Approve {
                comment: "from my phone".into(),
            },
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    elsewhere.sync(chrono::Utc::now()).await.unwrap();
    assert_eq!(
        status_on_server(&server, ninth).await,
        RequestStatus::Approved,
        "decided on the other device"
    );
    notifications
        .wait_for_action_listener(WITHIN, raised.id)
        .await;
    notifications.invoke_action(raised.id, "approve").await;
    let refused = notifications
        .wait_for_notification(WITHIN, "the follow-up to a refused Approve", |n| {
            n.summary == format!("Could not be done: {ninth_title}")
        })
        .await;
    assert!(
        refused.body.contains("already approved"),
        "the follow-up says why: {refused:#?}"
    );
    assert!(
        refused.has_action("default") || refused.actions.iter().any(|(_, l)| l == "Open"),
        "the follow-up leads to the request: {refused:#?}"
    );
    // The same sync that brought the refusal brought the decision: Leave 9 leaves the tray.
    // (Its notification went when it was clicked, as a notification server does; a showing
    // notification taken back is desktop_flows' case.)
    let ninth_entry = entry(ninth_title);
    tray_where(&watcher, &item, "Leave 9 gone from the tray", move |tray| {
        tray.properties.label == "7" && tray.menu.find(&[&ninth_entry]).is_none()
    })
    .await;
    assert_eq!(
        notifications
            .notifications()
            .iter()
            .filter(|n| n.summary.contains(ninth_title) && n.has_action("approve"))
            .count(),
        1,
        "Leave 9 is not announced again as waiting"
    );
    app.wait_until(
        "the window shows no error dialog",
        "return document.querySelectorAll(\"[role='alertdialog'], dialog[open]\").length === 0",
    )
    .await;

    // (g) Closing the window keeps the app in the tray; Open window brings it back.
    let window = app_window(&session, &app);
    assert!(window.shown, "{window:?}");
    session.request_close(window.id);
    eventually("the window hides when closed", || {
        !window_shown(&session, &app)
    })
    .await;
    assert_eq!(
        watcher.items(),
        std::slice::from_ref(&item),
        "the app is still running, in the tray"
    );
    watcher.click(&item, &["Open window"]).await;
    eventually("Open window shows the window again", || {
        window_shown(&session, &app)
    })
    .await;
    app.wait_for("[data-testid='shell']").await;

    // (h) Start at login: the autostart entry where the desktop looks ($XDG_CONFIG_HOME,
    // which the session sets), starting hidden in the tray; gone when turned off.
    let autostart = session.home().join("config/autostart/Countersign.desktop");
    assert!(!autostart.exists(), "off until the person turns it on");
    app.click("[data-testid='nav-settings']").await;
    app.wait_until(
        "the switch knows the current setting",
        "return document.querySelector('#start-at-login').getAttribute('aria-disabled') === 'false'",
    )
    .await;
    // The switch moves at once and moves back if the app could not make the change, so
    // "on" is only reported once the app has answered (the switch is no longer busy).
    let switch_settles_at = |on: bool| {
        format!(
            "return document.querySelector('#start-at-login').checked === {on} \
             && document.querySelector('#start-at-login').getAttribute('aria-disabled') === 'false'"
        )
    };
    app.click("#start-at-login").await;
    app.wait_until("start at login reports on", &switch_settles_at(true))
        .await;
    let text = std::fs::read_to_string(&autostart).expect("the autostart entry is written");
    let exec = text
        .lines()
        .find(|l| l.starts_with("Exec="))
        .unwrap_or_default();
    assert!(
        exec.contains("countersign-desktop") && exec.ends_with(" --hidden"),
        "the entry starts this app hidden in the tray: {text}"
    );
    app.click("#start-at-login").await;
    app.wait_until("start at login reports off", &switch_settles_at(false))
        .await;
    assert!(!autostart.exists(), "turned off, the entry is removed");
    assert!(
        app.text("#start-at-login-error").await.is_empty(),
        "no error beside the switch"
    );

    // (i) The window's size is kept across a restart; Quit in the tray ends the app.
    let (_, _, first_width, first_height) = app.client.get_window_rect().await.unwrap();
    app.client.set_window_size(1000, 700).await.unwrap();
    let (_, _, width, height) = app.client.get_window_rect().await.unwrap();
    assert_ne!(
        (width, height),
        (first_width, first_height),
        "the window took a new size"
    );
    let pid = app.pid();
    watcher.click(&item, &["Quit"]).await;
    watcher.wait_for_item_gone(&item, WITHIN).await;
    eventually("Quit ends the app", || {
        !Path::new(&format!("/proc/{pid}")).exists()
            || std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .is_ok_and(|s| s.split_whitespace().nth(2) == Some("Z"))
    })
    .await;
    drop(app);
    drop(driver);
    let driver = Driver::start(&session, &env);
    let app = driver.launch(&app_binary).await;
    app.wait_for("[data-testid='shell']").await;
    assert_eq!(
        app.client.get_window_size().await.unwrap(),
        (width, height),
        "the window comes back at the size it was left at"
    );
    app.quit().await;
    drop(driver);
}
