//! Meetings on the client against a real server with the demo organisation: an invitation
//! notified once (also after a restart) and acknowledged to the organiser's ledger, two
//! changes seen offline as one notice naming both, a cancellation that takes back the
//! invitation and the reminder, the reminder at start − 15 minutes and not before, an
//! answer given offline that reaches the server later, and local times in another zone.

#![allow(clippy::unwrap_used, clippy::expect_used)]
// The organiser's side talks to the server directly, in plain HTTP on loopback; the crate's
// rule (HTTP clients only through `api::http_client`) is about the shipped app's TLS.
#![allow(clippy::disallowed_methods)]

mod common;

use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use common::{PW, client_with, signed_in};
use countersign_api::meetings::MeetingView;
use countersign_client::notify::{NotificationKind, Planned};
use countersign_client::{
    Client, LanguagePreference, MeetingForm, SessionOnlyCredentials, parse_zone,
};
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

#[tokio::test]
async fn an_answer_the_server_refuses_is_explained_in_the_persons_language() {
    let server = TestServer::start_at(TestDb::sqlite(), tuesday_morning()).await;
    server.seed_demo().await;
    let (org_dir, dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let organiser = signed_in(&server, org_dir.path(), "jiang.tao").await;
    let shen = signed_in(&server, dir.path(), "shen.yue").await;
    shen.set_language(LanguagePreference::ZhCn).await.unwrap();
    let meeting = plan_weekly(&organiser, &["shen.yue"]).await;
    let now = tuesday_morning() + Duration::minutes(1);
    shen.sync(now).await.unwrap();

    // She answers from her copy while the organiser has already called it off: the server
    // refuses with its own code (not an engine refusal), and her client, in Chinese, says
    // why in Chinese rather than passing on the server's English sentence.
    organiser.cancel_meeting(meeting.id, None).await.unwrap();
    let item = shen
        .rsvp(meeting.id, Rsvp::Accept, None, now)
        .await
        .unwrap();
    let report = shen.sync(now).await.unwrap();
    let refused = report
        .refused
        .iter()
        .find(|r| r.id == item.id)
        .expect("the answer is refused");
    let reason = refused.reason.as_ref().unwrap();
    assert_eq!(reason.code, "meeting_cancelled");
    assert_eq!(reason.message, "该会议已取消");
    assert_eq!(
        shen.sync_status().await.unwrap().refused[0]
            .reason
            .as_ref()
            .unwrap()
            .message,
        "该会议已取消",
        "the outbox says the same later"
    );
    // In English, the server's own sentence, which says a little more.
    shen.set_language(LanguagePreference::En).await.unwrap();
    let status = shen.sync_status().await.unwrap();
    let english = &status.refused[0].reason.as_ref().unwrap().message;
    assert!(
        english.starts_with("This meeting was cancelled"),
        "{english}"
    );
}

#[tokio::test]
async fn materials_open_offline_and_calendar_files_go_out_and_come_back() {
    let server = TestServer::start_at(TestDb::sqlite(), tuesday_morning()).await;
    server.seed_demo().await;
    let (org_dir, dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let organiser = signed_in(&server, org_dir.path(), "jiang.tao").await;
    let shen = signed_in(&server, dir.path(), "shen.yue").await;
    let meeting = plan_weekly(&organiser, &["shen.yue"]).await;

    // The organiser adds the agenda document as material.
    let jiang = token(&server, "jiang.tao").await;
    let material: Value = reqwest::Client::new()
        .post(format!("{}/v1/attachments?name=agenda.txt", server.url()))
        .bearer_auth(&jiang)
        .header("content-type", "text/plain")
        .body("1. 进度\n2. 风险\n")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let material_id: Uuid = serde_json::from_value(material["id"].clone()).unwrap();
    let view = meeting_as(&server, &jiang, meeting.id).await;
    call(
        reqwest::Method::PUT,
        format!("{}/v1/meetings/{}", server.url(), meeting.id),
        &jiang,
        Some(json!({"plan": view.plan, "materials": [material_id]})),
    )
    .await;

    let now = tuesday_morning() + Duration::minutes(1);
    let zone = parse_zone("Asia/Shanghai").unwrap();
    shen.sync(now).await.unwrap();
    let waiting = shen.unanswered_invitations(now, zone, 5).await.unwrap();
    assert_eq!(waiting.len(), 1, "the invitation waits for an answer");
    assert_eq!(waiting[0].id, meeting.id);

    // Offline: the material synced with the meeting opens from this device.
    let paused = server.pause().await;
    let file = shen.attachment_file(material_id, now).await.unwrap();
    assert_eq!(file.file_name().unwrap(), "agenda.txt");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "1. 进度\n2. 风险\n"
    );
    shen.rsvp(meeting.id, Rsvp::Tentative, None, now)
        .await
        .unwrap();
    assert!(
        shen.unanswered_invitations(now, zone, 5)
            .await
            .unwrap()
            .is_empty(),
        "an answer in the outbox is an answer given"
    );

    // Out as a calendar file: UTC times, our UID, the material named.
    let out = shen.meeting_calendar_file(meeting.id, now).await.unwrap();
    assert_eq!(out.file_name, "研发周会.ics");
    assert!(
        out.text
            .contains(&format!("UID:{}@countersign", meeting.id))
    );
    assert!(
        out.text.contains("DTSTART:20261201T020000Z"),
        "{}",
        out.text
    );
    assert!(out.text.contains("METHOD:PUBLISH"));
    assert!(out.text.contains("agenda.txt"));
    // ...and back: the same meeting, recognised.
    let back = shen.read_calendar_file(&out.text, zone).await.unwrap();
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].meeting_id, Some(meeting.id));
    assert_eq!(back[0].local_start, "2026-12-01 10:00");

    // An Outlook invitation in a Windows zone name, attendees matched by user name.
    let outlook = "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\n\
        UID:040000008200E00074C5B7101A82E0080000000@exchange\r\nSUMMARY:供应商评审\r\n\
        DTSTART;TZID=China Standard Time:20261203T140000\r\n\
        DTEND;TZID=China Standard Time:20261203T150000\r\n\
        ORGANIZER;CN=Vendor PM:mailto:pm@vendor.example\r\n\
        ATTENDEE;CN=沈月;RSVP=TRUE:mailto:Shen.Yue@corp.example\r\n\
        ATTENDEE;CN=Someone Else:mailto:someone@vendor.example\r\n\
        RRULE:FREQ=WEEKLY;COUNT=4\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    let new_york = parse_zone("America/New_York").unwrap();
    let read = shen.read_calendar_file(outlook, new_york).await.unwrap();
    let event = &read[0];
    assert_eq!(event.meeting_id, None);
    assert_eq!(event.title, "供应商评审");
    assert_eq!(
        event.starts_at,
        DateTime::parse_from_rfc3339("2026-12-03T14:00:00+08:00").unwrap()
    );
    assert_eq!(
        event.local_start, "2026-12-03 01:00",
        "shown in the reader's zone"
    );
    assert_eq!(
        event.sender_time_zone.as_deref(),
        Some("China Standard Time")
    );
    assert_eq!(event.organiser.as_deref(), Some("Vendor PM"));
    let names: Vec<&str> = event.people.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["沈月"]);
    assert_eq!(event.not_found, ["Someone Else <someone@vendor.example>"]);
    assert_eq!(event.repeats.as_deref(), Some("FREQ=WEEKLY;COUNT=4"));

    // Broken and oversized files: a clear error, nothing saved.
    let broken = outlook.replace("END:VEVENT\r\n", "");
    let err = shen.read_calendar_file(&broken, zone).await.unwrap_err();
    assert_eq!(err.code, countersign_client::ClientErrorCode::InvalidInput);
    assert!(err.message.contains("line"), "{}", err.message);
    let huge = dir.path().join("dump.ics");
    std::fs::write(&huge, vec![b'x'; 2 * 1024 * 1024]).unwrap();
    let err = shen.read_calendar_path(&huge, zone).await.unwrap_err();
    assert_eq!(err.code, countersign_client::ClientErrorCode::FileTooLarge);
    drop(paused);
}

#[tokio::test]
async fn an_organiser_changes_adds_materials_reads_the_coverage_and_cancels() {
    let server = TestServer::start_at(TestDb::sqlite(), tuesday_morning()).await;
    server.seed_demo().await;
    let (org_dir, dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let organiser = signed_in(&server, org_dir.path(), "jiang.tao").await;
    let shen = signed_in(&server, dir.path(), "shen.yue").await;
    let meeting = plan_weekly(&organiser, &["shen.yue", "li.wei"]).await;
    let now = tuesday_morning() + Duration::minutes(1);
    let zone = parse_zone("Asia/Shanghai").unwrap();
    shen.sync(now).await.unwrap();

    // Only the organiser may change it; the refusal comes before any round trip.
    let err = shen
        .edit_meeting(meeting.id, |plan| plan.title = "改名".into())
        .await
        .unwrap_err();
    assert_eq!(err.code, countersign_client::ClientErrorCode::Refused);

    // Moved by half an hour, with a room: invitees learn both in one change.
    let room = organiser.room_named("3F 会议室 A").await.unwrap();
    let moved = organiser
        .edit_meeting(meeting.id, |plan| {
            plan.starts_at += Duration::minutes(30);
            plan.ends_at += Duration::minutes(30);
            plan.room_id = Some(room);
        })
        .await
        .unwrap();
    assert!(
        moved.changed.contains(&MeetingField::Time),
        "{:?}",
        moved.changed
    );
    assert!(
        moved.changed.contains(&MeetingField::Room),
        "{:?}",
        moved.changed
    );
    // The room is now taken at that time: a second booking is refused, the clash named, as
    // a refusal the person can act on (not a server failure).
    let clash = organiser
        .new_meeting(&MeetingForm {
            title: "另一个会".into(),
            starts_at: ten_o_clock() + Duration::minutes(45),
            ends_at: ten_o_clock() + Duration::minutes(75),
            time_zone: "Asia/Shanghai".into(),
            room: Some("3F 会议室 A".into()),
            invite: vec!["shen.yue".into()],
            ..MeetingForm::default()
        })
        .await
        .unwrap_err();
    assert_eq!(clash.code, countersign_client::ClientErrorCode::Refused);
    assert!(clash.message.contains("研发周会"), "{}", clash.message);
    let notes = dir.path().join("minutes.txt");
    std::fs::write(&notes, "上周纪要").unwrap();
    let with_material = organiser.add_materials(meeting.id, &[notes]).await.unwrap();
    assert_eq!(with_material.materials.len(), 1);
    assert_eq!(with_material.materials[0].name, "minutes.txt");
    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, "").unwrap();
    let err = organiser
        .add_materials(meeting.id, &[empty])
        .await
        .unwrap_err();
    assert_eq!(
        err.code,
        countersign_client::ClientErrorCode::FileUnreadable
    );

    shen.sync(now).await.unwrap();
    let seen = shen.meeting(meeting.id, zone, now).await.unwrap();
    assert_eq!(seen.entry.local_start, "2026-12-01 10:30");
    assert_eq!(seen.entry.room.as_deref(), Some("3F 会议室 A"));
    assert_eq!(seen.materials.len(), 1, "the material reached the invitee");
    shen.rsvp(meeting.id, Rsvp::Accept, None, now)
        .await
        .unwrap();
    shen.sync(now).await.unwrap();

    // The coverage: shen reached and answered; li.wei (never synced) is named as a straggler.
    let report = organiser
        .meeting_coverage(
            tuesday_morning() - Duration::days(1),
            tuesday_morning() + Duration::days(7),
            zone,
        )
        .await
        .unwrap();
    let line = report
        .meetings
        .iter()
        .find(|m| m.meeting_id == meeting.id)
        .unwrap();
    assert_eq!((line.invited, line.reached, line.answered), (2, 1, 1));
    assert_eq!(line.reached_per_mille, 500);
    assert_eq!(line.organiser.name, "蒋涛");
    let not_reached: Vec<&str> = line.not_reached.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(not_reached, ["李伟"]);
    assert_eq!(line.local_start, "2026-12-01 10:30");
    assert_eq!(report.months.len(), 1);
    // An invitee reads no one's coverage but their own meetings' (none here).
    let theirs = shen
        .meeting_coverage(
            tuesday_morning() - Duration::days(1),
            tuesday_morning() + Duration::days(7),
            zone,
        )
        .await;
    assert!(
        theirs.map_or(true, |r| r.meetings.is_empty()),
        "an invitee does not see the organiser's ledger"
    );

    // Cancelled: the invitee's copy says so after a sync, and changing it is refused.
    organiser
        .cancel_meeting(meeting.id, Some("项目暂停".into()))
        .await
        .unwrap();
    shen.sync(now).await.unwrap();
    let cancelled = shen.meeting(meeting.id, zone, now).await.unwrap();
    assert_eq!(cancelled.cancel_reason.as_deref(), Some("项目暂停"));
    let err = organiser
        .edit_meeting(meeting.id, |plan| plan.title = "又开了".into())
        .await
        .unwrap_err();
    assert_eq!(err.code, countersign_client::ClientErrorCode::Refused);
}

#[tokio::test]
async fn a_new_device_tells_of_the_invitations_still_to_answer_once() {
    let server = TestServer::start_at(TestDb::sqlite(), tuesday_morning()).await;
    server.seed_demo().await;
    let (org_dir, dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let organiser = signed_in(&server, org_dir.path(), "jiang.tao").await;
    let waiting = plan_weekly(&organiser, &["shen.yue"]).await;
    let called_off = plan_weekly(&organiser, &["shen.yue"]).await;
    organiser.cancel_meeting(called_off.id, None).await.unwrap();

    // 沈月 signs in on a new device: the first download is a catch-up, yet the invitation
    // that waits for her answer is told (the cancelled one is not).
    let credentials = SessionOnlyCredentials::default();
    let shen = client_with(dir.path(), &credentials);
    shen.sign_in(&server.url(), "shen.yue", PW).await.unwrap();
    let now = tuesday_morning() + Duration::minutes(1);
    let first = shen.sync(now).await.unwrap();
    let invited: Vec<Uuid> = shown(&first.notifications)
        .into_iter()
        .filter_map(|k| match k {
            NotificationKind::MeetingInvite { meeting, .. } => Some(*meeting),
            _ => None,
        })
        .collect();
    assert_eq!(invited, [waiting.id]);

    let again = restarted(dir.path(), &credentials).await;
    let later = again.sync(now).await.unwrap();
    assert!(
        shown(&later.notifications).is_empty(),
        "told once: {:?}",
        later.notifications
    );
}
