//! Meetings in the real app (issue 7, points 3 and 5): the app under Xvfb on a private D-Bus
//! session with the test notification server and the test StatusNotifierWatcher (the panel
//! that shows the tray), against the real server. 蒋涛 (jiang.tao) plans from his own client
//! core; 沈月 (shen.yue) answers in the app.
//!
//! (a) an invitation raises a notification with Accept and Decline, and is listed in the tray
//!     under "Invitations to answer" with its start in her zone;
//! (b) Accept pressed on the notification reaches the organiser's ledger, and the invitation
//!     leaves the tray;
//! (c) Decline pressed in the tray does the same for a second invitation;
//! (d) Open in the tray shows the meeting in the window, with her answer; the Meetings view
//!     lists both meetings and no longer asks for an answer; a third invitation is answered
//!     Tentative with a note from the meeting's own page.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use chrono::{DateTime, Datelike, Utc};
use countersign_client::{Client, MeetingForm};
use countersign_domain::ics::Tz;
use countersign_domain::meetings::Rsvp;
use countersign_e2e::{App, Driver, app_env, colleague, tray_where};
use countersign_testkit::{
    DesktopSession, NotificationServer, Notified, StatusNotifierWatcher, TestDb, TestServer,
    cargo_bin,
};
use uuid::Uuid;

const WITHIN: Duration = Duration::from_secs(30);
/// The zone 沈月's app runs in (`TZ`), and the organiser's.
const SHANGHAI: Tz = Tz::Asia__Shanghai;

/// A whole minute `hours` from now, so the local times the app shows are exact.
fn in_hours(hours: i64) -> DateTime<Utc> {
    let at = Utc::now() + chrono::Duration::hours(hours);
    DateTime::from_timestamp(at.timestamp() - at.timestamp() % 60, 0).unwrap()
}

async fn plan(organiser: &Client, title: &str, starts_at: DateTime<Utc>) -> Uuid {
    organiser
        .new_meeting(&MeetingForm {
            title: title.into(),
            agenda: "1. 预算\n2. 风险".into(),
            starts_at,
            ends_at: starts_at + chrono::Duration::hours(1),
            time_zone: "Asia/Shanghai".into(),
            place: Some("三楼东侧".into()),
            invite: vec!["shen.yue".into()],
            ..MeetingForm::default()
        })
        .await
        .unwrap()
        .id
}

/// The tray label of an invitation: its title and its start in Shanghai.
fn invitation_label(title: &str, starts_at: DateTime<Utc>) -> String {
    let local = starts_at.with_timezone(&SHANGHAI).format("%Y-%m-%d %H:%M");
    format!("{title} — {local}")
}

/// Waits until the organiser's own view of `meeting` has 沈月's answer (his core syncs to
/// learn it: the server has no change feed for a test to await).
async fn wait_for_answer(organiser: &Client, meeting: Uuid, answer: Rsvp, note: Option<&str>) {
    let deadline = Instant::now() + WITHIN;
    loop {
        organiser.sync(Utc::now()).await.unwrap();
        let detail = organiser
            .meeting(meeting, SHANGHAI, Utc::now())
            .await
            .unwrap();
        let shen = detail.people.iter().find(|p| p.name == "沈月").unwrap();
        if shen.answer == Some(answer) && shen.note.as_deref() == note {
            assert!(
                shen.reached_at.is_some(),
                "the ledger shows the invitation reached her"
            );
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the organiser still sees {:?} ({:?}), not {answer:?}",
            shen.answer,
            shen.note
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn invitation_for(title: &str) -> impl FnMut(&Notified) -> bool + '_ {
    move |n| n.summary.contains(title) && n.has_action("accept") && n.has_action("decline")
}

async fn meeting_entry_shown(app: &App, id: Uuid) {
    app.wait_for(&format!(
        "[data-testid='meeting-entry'][data-meeting-id='{id}']"
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn invitations_answered_from_a_notification_the_tray_and_the_window() {
    let server = TestServer::start(TestDb::sqlite()).await;
    server.seed_demo().await;
    let session = DesktopSession::with_display();
    let notifications = NotificationServer::start(&session.dbus_address).await;
    let watcher = StatusNotifierWatcher::start(&session.dbus_address).await;
    let (jiang, _jiang_profile) = colleague(&server.url(), "jiang.tao").await;

    let budget_at = in_hours(3);
    let review_at = in_hours(26);
    let budget = plan(&jiang, "预算评审", budget_at).await;
    let review = plan(&jiang, "季度复盘", review_at).await;

    let profile = session.home().join("shen-profile");
    let mut env = app_env(&profile);
    // 沈月 reads times in Shanghai, whatever the machine's own zone.
    env.push(("TZ".to_owned(), "Asia/Shanghai".to_owned()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let driver = Driver::start(&session, &env);
    let app = driver.launch(&cargo_bin("countersign-desktop")).await;
    let item = watcher.wait_for_item(WITHIN).await;
    app.sign_in(&server.url(), "shen.yue").await;

    // (a) Each invitation raises one notification with Accept / Decline, and the tray lists
    // both under their own heading with Accept / Decline / Open.
    let budget_label = invitation_label("预算评审", budget_at);
    let review_label = invitation_label("季度复盘", review_at);
    let shown = notifications
        .wait_for_notification(
            WITHIN,
            "the invitation's notification",
            invitation_for("预算评审"),
        )
        .await;
    notifications
        .wait_for_notification(
            WITHIN,
            "the second invitation's notification",
            invitation_for("季度复盘"),
        )
        .await;
    let labels = (budget_label.clone(), review_label.clone());
    let tray = tray_where(
        &watcher,
        &item,
        "both invitations in the tray",
        move |tray| {
            tray.menu.find(&["Invitations to answer"]).is_some()
                && tray.menu.find(&[&labels.0]).is_some()
                && tray.menu.find(&[&labels.1]).is_some()
        },
    )
    .await;
    assert_eq!(
        tray.menu.find(&[&review_label]).unwrap().labels(),
        ["Accept", "Decline", "Open"],
        "an invitation in the tray offers what its notification offers, and Open"
    );

    // (b) Accept on the notification: the organiser's ledger has it, the tray drops it.
    notifications
        .wait_for_action_listener(WITHIN, shown.id)
        .await;
    notifications.invoke_action(shown.id, "accept").await;
    wait_for_answer(&jiang, budget, Rsvp::Accept, None).await;
    let gone = budget_label.clone();
    tray_where(
        &watcher,
        &item,
        "the accepted invitation leaves the tray",
        move |tray| tray.menu.find(&[&gone]).is_none(),
    )
    .await;

    // (c) Decline in the tray.
    watcher.click(&item, &[&review_label, "Decline"]).await;
    wait_for_answer(&jiang, review, Rsvp::Decline, None).await;
    tray_where(&watcher, &item, "no invitation left to answer", |tray| {
        tray.menu.find(&["Invitations to answer"]).is_none()
    })
    .await;

    // (d) The window: the meeting, her answer, and the list without anything to answer.
    let third_at = in_hours(50);
    let third = plan(&jiang, "供应商评审", third_at).await;
    let third_label = invitation_label("供应商评审", third_at);
    let wanted = third_label.clone();
    tray_where(
        &watcher,
        &item,
        "the third invitation in the tray",
        move |tray| tray.menu.find(&[&wanted]).is_some(),
    )
    .await;
    watcher.click(&item, &[&third_label, "Open"]).await;
    app.wait_for_text_containing("[data-testid='meeting-title']", "供应商评审")
        .await;
    let local_start = third_at
        .with_timezone(&SHANGHAI)
        .format("%H:%M")
        .to_string();
    app.wait_for_text_containing("[data-testid='meeting-when']", &local_start)
        .await;
    app.wait_for_text_containing("[data-testid='meeting-my-answer']", "Not answered")
        .await;
    app.snapshot("60-meeting-detail-en").await;
    app.fill("[data-testid='rsvp-note']", "可能晚到十分钟")
        .await;
    app.click("[data-testid='rsvp-tentative']").await;
    app.wait_for_text_containing("[data-testid='meeting-my-answer']", "Tentative")
        .await;
    wait_for_answer(&jiang, third, Rsvp::Tentative, Some("可能晚到十分钟")).await;

    app.click("[data-testid='meeting-back']").await;
    app.click("[data-testid='meetings-view-agenda']").await;
    // The agenda shows the week that holds today; the meeting three hours ahead is in the
    // next one when the week turns over first (late on a Sunday).
    let week = |at: DateTime<Utc>| at.with_timezone(&SHANGHAI).iso_week();
    if week(budget_at) != week(Utc::now()) {
        app.click("[data-testid='meetings-next']").await;
    }
    meeting_entry_shown(&app, budget).await;
    app.snapshot("61-meetings-agenda-en").await;
    app.wait_until(
        "nothing left to answer",
        "return !document.querySelector(\"[data-testid='invitations-to-answer'] [data-testid='invitation']\")",
    )
    .await;
}
