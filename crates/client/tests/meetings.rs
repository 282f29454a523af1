//! Meetings on the client against a real server with the demo organisation: an invitation
//! notified once (also after a restart) and acknowledged to the organiser's ledger, two
//! changes seen offline as one notice naming both, a cancellation that takes back the
//! invitation and the reminder, the reminder at start − 15 minutes and not before, an
//! answer given offline that reaches the server later, and local times in another zone.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use common::{PW, client_with, signed_in};
use countersign_api::meetings::MeetingView;
use countersign_client::notify::{NotificationKind, Planned};
use countersign_client::{Client, MeetingForm, SessionOnlyCredentials, parse_zone};
use countersign_domain::meetings::{MeetingField, Rsvp};
use countersign_testkit::{TestDb, TestServer, tuesday_morning};
use serde_json::{Value, json};
use uuid::Uuid;

/// 10:00 in Shanghai on the demo Tuesday: half an hour after the server's clock.
fn ten_o_clock() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-01T10:00:00+08:00")
        .unwrap()
        .with_timezone(&Utc)
}

async fn token(server: &TestServer, username: &str) -> String {
    let answer: Value = reqwest::Client::new()
        .post(format!("{}/v1/sessions", server.url()))
        .json(&json!({"username": username, "password": PW, "device_name": "test"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["tokens"]["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn call(method: reqwest::Method, url: String, token: &str, body: Option<Value>) -> Value {
    let mut request = reqwest::Client::new()
        .request(method, url)
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert!(status.is_success(), "{status}: {body}");
    body
}

async fn meeting_as(server: &TestServer, token: &str, id: Uuid) -> MeetingView {
    let body = call(
        reqwest::Method::GET,
        format!("{}/v1/meetings/{id}", server.url()),
        token,
        None,
    )
    .await;
    serde_json::from_value(body).unwrap()
}

/// The organiser changes the plan (PUT /v1/meetings/{id}).
async fn edit(server: &TestServer, token: &str, id: Uuid, change: impl FnOnce(&mut Value)) {
    let view = meeting_as(server, token, id).await;
    let mut plan = serde_json::to_value(&view.plan).unwrap();
    change(&mut plan);
    call(
        reqwest::Method::PUT,
        format!("{}/v1/meetings/{id}", server.url()),
        token,
        Some(json!({"plan": plan})),
    )
    .await;
}

fn shown(planned: &[Planned]) -> Vec<&NotificationKind> {
    planned
        .iter()
        .filter_map(|p| match p {
            Planned::Show(n) => Some(&n.kind),
            Planned::Retract(_) => None,
        })
        .collect()
}

fn retracted(planned: &[Planned]) -> Vec<String> {
    planned
        .iter()
        .filter_map(|p| match p {
            Planned::Retract(id) => Some(id.to_string()),
            Planned::Show(_) => None,
        })
        .collect()
}

/// A client on `dir` sharing `credentials` with an earlier one: the same device restarted.
async fn restarted(dir: &Path, credentials: &SessionOnlyCredentials) -> Client {
    let c = client_with(dir, credentials);
    c.restore().await.unwrap();
    c
}

async fn plan_weekly(organiser: &Client, invite: &[&str]) -> MeetingView {
    organiser
        .new_meeting(&MeetingForm {
            title: "研发周会".into(),
            agenda: "1. 进度".into(),
            starts_at: ten_o_clock(),
            ends_at: ten_o_clock() + Duration::hours(1),
            time_zone: "Asia/Shanghai".into(),
            online_link: Some("https://meet.example.invalid/rd".into()),
            invite: invite.iter().map(|s| (*s).to_owned()).collect(),
            ..MeetingForm::default()
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn an_invitation_is_notified_once_changes_once_and_a_cancellation_takes_it_back() {
    let server = TestServer::start_at(TestDb::sqlite(), tuesday_morning()).await;
    server.seed_demo().await;
    let (org_dir, dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let organiser = signed_in(&server, org_dir.path(), "jiang.tao").await;
    let credentials = SessionOnlyCredentials::default();
    let shen = restarted(dir.path(), &credentials).await;
    shen.sign_in(&server.url(), "shen.yue", PW).await.unwrap();
    shen.sync(tuesday_morning()).await.unwrap();

    let meeting = plan_weekly(&organiser, &["shen.yue"]).await;
    let now = tuesday_morning() + Duration::minutes(1);
    let first = shen.sync(now).await.unwrap();
    let invites: Vec<_> = shown(&first.notifications)
        .into_iter()
        .filter(|k| matches!(k, NotificationKind::MeetingInvite { .. }))
        .collect();
    assert_eq!(
        invites.len(),
        1,
        "one invitation: {:?}",
        first.notifications
    );
    assert!(
        organiser.sync(now).await.unwrap().notifications.is_empty(),
        "the organiser is not notified of their own meeting"
    );

    // The receipt went out in the same sync: the organiser's ledger shows shen.yue reached.
    let jiang = token(&server, "jiang.tao").await;
    let ledger = meeting_as(&server, &jiang, meeting.id).await;
    let me = shen.me().await.unwrap().id;
    assert!(
        ledger.invitee(me).unwrap().reached_at.is_some(),
        "the receipt reached the ledger"
    );

    // A restart of the invitee's app: the same feed again raises nothing.
    drop(shen);
    let shen = restarted(dir.path(), &credentials).await;
    let again = shen.sync(now).await.unwrap();
    assert!(
        shown(&again.notifications).is_empty(),
        "nothing shown twice after a restart: {:?}",
        again.notifications
    );

    // Two changes while the invitee does not sync: one notice naming both.
    edit(&server, &jiang, meeting.id, |plan| {
        plan["title"] = json!("研发周会（改）");
    })
    .await;
    edit(&server, &jiang, meeting.id, |plan| {
        plan["online_link"] = json!("https://meet.example.invalid/rd-2");
    })
    .await;
    let changed = shen.sync(now).await.unwrap();
    let notices: Vec<_> = shown(&changed.notifications)
        .into_iter()
        .filter_map(|k| match k {
            NotificationKind::MeetingChanged { changed, .. } => Some(changed.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(notices.len(), 1, "{:?}", changed.notifications);
    assert!(
        notices[0].contains(&MeetingField::Title) && notices[0].contains(&MeetingField::OnlineLink),
        "both changes named: {:?}",
        notices[0]
    );
    assert!(
        retracted(&changed.notifications)
            .iter()
            .any(|id| id.ends_with("/invite")),
        "the notice replaces the invitation"
    );

    // The reminder: not at start − 16 min, once at start − 15 min.
    let early = shen
        .meeting_reminders(ten_o_clock() - Duration::minutes(16))
        .await
        .unwrap();
    assert!(early.is_empty(), "not before 15 minutes: {early:?}");
    let due = shen
        .meeting_reminders(ten_o_clock() - Duration::minutes(15))
        .await
        .unwrap();
    assert!(
        matches!(
            shown(&due)[..],
            [NotificationKind::MeetingReminder {
                minutes_before: 15,
                ..
            }]
        ),
        "{due:?}"
    );
    assert!(
        shen.meeting_reminders(ten_o_clock() - Duration::minutes(10))
            .await
            .unwrap()
            .is_empty(),
        "a reminder is shown once"
    );

    // Cancelled: the change notice and the reminder are taken back, one cancellation shown.
    call(
        reqwest::Method::POST,
        format!("{}/v1/meetings/{}/cancel", server.url(), meeting.id),
        &jiang,
        Some(json!({"reason": "项目延期"})),
    )
    .await;
    let cancelled = shen.sync(now).await.unwrap();
    assert!(
        matches!(
            shown(&cancelled.notifications)[..],
            [NotificationKind::MeetingCancelled { .. }]
        ),
        "{:?}",
        cancelled.notifications
    );
    let taken_back = retracted(&cancelled.notifications);
    assert!(
        taken_back.iter().any(|id| id.contains("/changed/"))
            && taken_back.iter().any(|id| id.contains("/reminder/")),
        "the notice and the reminder are retracted: {taken_back:?}"
    );
}

#[tokio::test]
async fn an_answer_given_offline_reaches_the_organiser_and_times_show_in_my_zone() {
    let server = TestServer::start_at(TestDb::sqlite(), tuesday_morning()).await;
    server.seed_demo().await;
    let (org_dir, dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let organiser = signed_in(&server, org_dir.path(), "jiang.tao").await;
    let shen = signed_in(&server, dir.path(), "shen.yue").await;
    let meeting = plan_weekly(&organiser, &["shen.yue"]).await;
    let now = tuesday_morning() + Duration::minutes(1);
    shen.sync(now).await.unwrap();

    // In New York, 10:00 in Shanghai is 21:00 the evening before.
    let new_york = parse_zone("America/New_York").unwrap();
    let agenda = shen
        .meetings(
            ten_o_clock() - Duration::days(1),
            ten_o_clock() + Duration::days(1),
            new_york,
        )
        .await
        .unwrap();
    assert_eq!(agenda.len(), 1);
    assert_eq!(agenda[0].local_start, "2026-11-30 21:00");
    assert_eq!(agenda[0].organiser_name, "蒋涛");
    // Opened at the server's own time: the server never records an opening in its future.
    let opened = tuesday_morning();
    let detail = shen.meeting(meeting.id, new_york, opened).await.unwrap();
    assert_eq!(detail.entry.local_end, "2026-11-30 22:00");
    assert_eq!(
        detail.opened_at,
        Some(opened),
        "opening is noted for the ledger"
    );

    // Offline: the answer is queued and shown at once.
    let paused = server.pause().await;
    let item = shen
        .rsvp(meeting.id, Rsvp::Accept, Some("会准时到".into()), now)
        .await
        .unwrap();
    assert!(shen.sync(now).await.is_err(), "the server is away");
    let queued = shen.meeting(meeting.id, new_york, now).await.unwrap();
    assert_eq!(
        queued.entry.my_answer,
        Some(Rsvp::Accept),
        "shown before sent"
    );
    assert!(
        shen.outbox().await.unwrap().iter().any(|o| o.id == item.id),
        "the answer waits in the outbox"
    );

    let server = paused.resume().await;
    shen.sync(now).await.unwrap();
    let jiang = token(&server, "jiang.tao").await;
    let ledger = meeting_as(&server, &jiang, meeting.id).await;
    let me = shen.me().await.unwrap().id;
    let line = ledger.invitee(me).unwrap();
    assert_eq!(
        line.answer,
        Some(Rsvp::Accept),
        "the organiser sees the answer"
    );
    assert_eq!(line.note.as_deref(), Some("会准时到"));
    assert!(line.opened_at.is_some(), "and when it was opened");
}
