//! The desktop app end to end (issue 6, point 5): the real app, twice (a manager's and an
//! employee's, each with its own profile), under Xvfb on a private D-Bus session with the
//! test notification server, against the real server.
//!
//! (a) sign in, the inbox lists the pending requests, open one, approve it with a comment,
//!     and the server has it approved;
//! (b) with the server down, draft a leave request (the computed days show), kill the app,
//!     start it again and find the draft intact; with the server back, submit it: the
//!     manager's app raises a notification with actions, the test presses Approve through
//!     the notification server, and the employee's app shows it approved and raises its own
//!     notification;
//! (c) a task decided in the window takes its notification back.
//!
//! Then a tour of every screen in both languages, saved as screenshots.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use countersign_domain::engine::RequestStatus;
use countersign_e2e::{
    App, Driver, kill_app_with_env, leave_from, status_on_server, wait_for_status_on_server,
};
use countersign_testkit::{
    DesktopSession, NotificationServer, Notified, TestDb, TestServer, cargo_bin,
};
use uuid::Uuid;

const NOTIFIED_WITHIN: Duration = Duration::from_secs(30);

/// Approves the open request with `comment` from its detail screen.
async fn approve_in_window(app: &App, comment: &str) {
    app.click("[data-testid='act-approve']").await;
    if !comment.is_empty() {
        app.fill("#act-text", comment).await;
    }
    app.click("[data-testid='act-send']").await;
}

fn pending_for(title: &str) -> impl FnMut(&Notified) -> bool + '_ {
    move |n| n.summary.contains(title) && n.has_action("approve")
}

#[tokio::test(flavor = "multi_thread")]
async fn approvals_drafts_and_notifications_in_the_real_app() {
    let server = TestServer::start(TestDb::sqlite()).await;
    server.seed_demo().await;
    let session = DesktopSession::with_display();
    let notifications = NotificationServer::start(&session.dbus_address).await;
    let app_binary = cargo_bin("countersign-desktop");
    let home = |name: &str| session.home().join(name).to_str().unwrap().to_owned();
    let (manager_home, employee_home) = (home("jiang-profile"), home("shen-profile"));
    let env = |profile: &str| countersign_e2e::app_env(std::path::Path::new(profile));
    let start = |profile: &str| {
        let vars = env(profile);
        let pairs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        Driver::start(&session, &pairs)
    };

    // (a) Two leave requests wait for 蒋涛 (jiang.tao), shen.yue's manager.
    let first = leave_from(&server, "shen.yue", "年假 回老家", (7, 8)).await;
    let second = leave_from(&server, "shen.yue", "Annual leave: moving house", (9, 9)).await;
    let manager_driver = start(&manager_home);
    let manager = manager_driver.launch(&app_binary).await;
    manager.sign_in(&server.url(), "jiang.tao").await;
    manager
        .wait_for_text_containing("[data-testid='inbox-total']", "2")
        .await;
    manager.snapshot("10-inbox-two-pending-en").await;
    manager.open_from_inbox("年假 回老家").await;
    manager.wait_for("[data-testid='timeline']").await;
    manager.wait_for("[data-testid='read-only-form']").await;
    manager.snapshot("11-request-detail-en").await;
    approve_in_window(&manager, "同意，注意交接").await;
    wait_for_status_on_server(
        &server,
        first,
        RequestStatus::Approved,
        "the approval from the window reaches the server",
    )
    .await;
    let record = server
        .state
        .store
        .find_request(first)
        .await
        .unwrap()
        .unwrap();
    assert!(
        record
            .state
            .events
            .iter()
            .any(|e| e.comment == "同意，注意交接"),
        "the comment went with the decision"
    );
    manager
        .wait_for_text_containing("[data-testid='request-status']", "Approved")
        .await;
    assert_eq!(
        status_on_server(&server, second).await,
        RequestStatus::InProgress
    );

    // (b) The employee drafts while the server is down.
    let employee_driver = start(&employee_home);
    let employee = employee_driver.launch(&app_binary).await;
    employee.sign_in(&server.url(), "shen.yue").await;
    employee.wait_for_first_sync().await;
    let paused = server.pause().await;
    employee.click("[data-testid='nav-new-request']").await;
    employee.click("[data-testid='template-leave']").await;
    employee.wait_for("[data-testid='draft-editor']").await;
    employee
        .set_value("#draft-title", "Offline leave draft")
        .await;
    employee.set_value("#field-leave_type", "annual").await;
    employee
        .set_value("#field-reason", "Family visit, written offline")
        .await;
    employee
        .set_value_nth("#field-period input[type='date']", 0, "2026-12-14")
        .await;
    employee
        .set_value_nth("#field-period input[type='date']", 1, "2026-12-15")
        .await;
    employee
        .wait_for_text_containing("[data-testid='computed-days']", "2")
        .await;
    employee
        .wait_for_text_containing("[data-testid='autosave-state']", "Saved")
        .await;
    employee.snapshot("20-draft-offline-en").await;

    // Killed mid-work, started again: the draft is all there.
    assert_eq!(kill_app_with_env("COUNTERSIGN_HOME", &employee_home), 1);
    drop(employee);
    drop(employee_driver);
    let employee_driver = start(&employee_home);
    let employee = employee_driver.launch(&app_binary).await;
    employee.wait_for("[data-testid='shell']").await;
    employee.click("[data-testid='nav-drafts']").await;
    employee.click("[data-testid='draft-item'] button").await;
    employee.wait_for("[data-testid='draft-editor']").await;
    employee
        .wait_until(
            "the reason survived the kill",
            "return document.querySelector('#field-reason').value === 'Family visit, written offline'",
        )
        .await;
    employee
        .wait_for_text_containing("[data-testid='computed-days']", "2")
        .await;
    employee.snapshot("21-draft-after-kill-en").await;

    // The server is back: submit. The manager's app notifies with actions.
    let server = paused.resume().await;
    employee.click("#submit-draft").await;
    employee.wait_for("[data-testid='draft-outcome']").await;
    let shown = notifications
        .wait_for_notification(
            NOTIFIED_WITHIN,
            "the manager's pending-approval notification",
            pending_for("Offline leave draft"),
        )
        .await;
    assert!(shown.has_action("reject"), "{shown:#?}");
    assert!(
        shown.body.contains("沈月"),
        "the initiator by name: {shown:#?}"
    );
    notifications
        .wait_for_action_listener(NOTIFIED_WITHIN, shown.id)
        .await;
    notifications.invoke_action(shown.id, "approve").await;

    // The employee's app learns the outcome: the list says approved, and a notification.
    notifications
        .wait_for_notification(
            NOTIFIED_WITHIN,
            "the employee's outcome notification",
            |n| {
                n.summary.contains("Offline leave draft")
                    && n.body.contains("approved your request")
            },
        )
        .await;
    // And the manager's app confirms that his Approve from the notification took effect.
    notifications
        .wait_for_notification(NOTIFIED_WITHIN, "the manager's confirmation", |n| {
            n.summary.contains("You approved: Offline leave draft")
        })
        .await;
    employee.click("[data-testid='nav-my-requests']").await;
    employee
        .wait_until(
            "my requests shows the leave approved",
            "return Array.from(document.querySelectorAll(\"[data-testid='my-request-row']\"))\
             .some(r => r.textContent.includes('Approved'))",
        )
        .await;
    employee.snapshot("22-my-requests-approved-en").await;

    // (c) A task decided in the window takes its notification back.
    let third = leave_from(&server, "shen.yue", "Third leave", (21, 21)).await;
    let raised = notifications
        .wait_for_notification(
            NOTIFIED_WITHIN,
            "the third request's notification",
            pending_for("Third leave"),
        )
        .await;
    manager.open_from_inbox("Third leave").await;
    approve_in_window(&manager, "").await;
    notifications
        .wait_for_closed(NOTIFIED_WITHIN, "the notification taken back", raised.id)
        .await;
    wait_for_status_on_server(
        &server,
        third,
        RequestStatus::Approved,
        "the approval in the window reaches the server",
    )
    .await;

    // A link opened while the app runs (a second launch, as the system does for a
    // countersign:// link): the running app shows the request, the second launch goes away.
    let open_link = |link: String| {
        let mut second = session.command(&app_binary);
        second
            .arg(link)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        for (key, value) in env(&manager_home) {
            second.env(key, value);
        }
        let status = second.status().expect("launch the app a second time");
        assert!(
            status.success(),
            "the second launch hands over and exits: {status}"
        );
    };
    manager.click("[data-testid='nav-settings']").await;
    open_link(format!("countersign://request/{second}"));
    manager
        .wait_for_text_containing("h1", "Annual leave: moving house")
        .await;
    // A link to a request this person may not see says so in words.
    open_link(format!("countersign://request/{}", Uuid::now_v7()));
    manager.wait_for("[data-testid='request-not-found']").await;
    manager.snapshot("23-link-to-unknown-request-en").await;

    // Every screen in both languages.
    for (language, tag) in [("en", "en"), ("zh-CN", "zh")] {
        manager.click("[data-testid='nav-settings']").await;
        let select = manager.wait_for("#language").await;
        select.select_by_value(language).await.unwrap();
        manager
            .wait_until(
                "the language applied",
                &format!("return document.documentElement.lang === '{language}'"),
            )
            .await;
        manager.snapshot(&format!("30-settings-{tag}")).await;
        manager.click("[data-testid='nav-inbox']").await;
        manager
            .wait_for("[data-testid='inbox-row'], [data-testid='inbox-empty']")
            .await;
        manager.snapshot(&format!("31-inbox-{tag}")).await;
        manager.click("[data-testid='nav-my-requests']").await;
        manager
            .wait_for("[data-testid='my-request-row'], [data-testid='my-requests-empty']")
            .await;
        manager.snapshot(&format!("32-my-requests-{tag}")).await;
        manager.click("[data-testid='nav-new-request']").await;
        manager.wait_for("[data-testid='template-leave']").await;
        manager
            .snapshot(&format!("33-new-request-gallery-{tag}"))
            .await;
        manager
            .click("[data-testid='template-reimbursement']")
            .await;
        manager.wait_for("[data-testid='form-editor']").await;
        manager
            .snapshot(&format!("34-new-request-form-{tag}"))
            .await;
        manager.click("[data-testid='nav-drafts']").await;
        manager
            .wait_for("[data-testid='draft-item'], [data-testid='drafts-empty']")
            .await;
        manager.snapshot(&format!("35-drafts-{tag}")).await;
        manager.open_from_inbox("Annual leave: moving house").await;
        manager.wait_for("[data-testid='timeline']").await;
        manager.snapshot(&format!("36-request-detail-{tag}")).await;
        manager.click("[data-testid='nav-settings']").await;
        manager.click("[data-testid='open-about']").await;
        manager.wait_for("[data-testid='about']").await;
        manager.snapshot(&format!("37-about-{tag}")).await;
    }

    employee.quit().await;
    manager.quit().await;
    drop(employee_driver);
    drop(manager_driver);
}
