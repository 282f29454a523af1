//! Meetings through the router, on SQLite and on PostgreSQL: invitations to people and whole
//! departments, answers (REST and the offline mutation), receipts and the delivery ledger,
//! a change announced once with what changed, cancellation, room clashes, bad plans that
//! save nothing, and the coverage report at 200 invitees.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::http::{Method, StatusCode};
use chrono::{DateTime, Duration, Utc};
use countersign_api::ErrorCode;
use countersign_api::meetings::{CoverageReport, MeetingView, ReceiptsRecorded, RoomView};
use countersign_api::sync::{ChangeOp, EntityKind, MutationResults, MutationStatus, SyncPage};
use countersign_domain::meetings::{MeetingField, MeetingStatus, Rsvp};
use countersign_server::settings::Settings;
use countersign_server::store::{LedgerChange, LedgerWrite, Person, PersonStatus};
use countersign_testkit::{TestApi, TestDb, tuesday_morning};
use serde_json::{Value, json};
use uuid::Uuid;

const PW: &str = "countersign-demo";

/// Expands one async test body into `sqlite` and `postgres` test functions.
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn sqlite() {
                    super::$name(countersign_testkit::TestDb::sqlite()).await;
                }

                #[tokio::test]
                async fn postgres() {
                    super::$name(countersign_testkit::TestDb::postgres().await).await;
                }
            }
        )*
    };
}

both_backends!(
    invitations_answers_and_the_ledger,
    a_change_is_announced_once_and_a_cancellation_frees_the_room,
    a_double_booked_room_is_refused_with_the_clash_named,
    bad_plans_are_refused_and_nothing_is_saved,
    two_hundred_invitees_across_departments_are_counted,
);

async fn demo(db: TestDb) -> TestApi {
    let api = TestApi::with(db, tuesday_morning(), Settings::default()).await;
    api.seed_demo().await;
    api
}

async fn person(api: &TestApi, username: &str) -> Person {
    api.store()
        .find_person_by_username(username)
        .await
        .unwrap()
        .unwrap()
}

async fn department(api: &TestApi, code: &str) -> Uuid {
    api.store()
        .find_department_by_code(code)
        .await
        .unwrap()
        .unwrap()
        .id
}

fn at(hours_from_now: i64) -> DateTime<Utc> {
    tuesday_morning() + Duration::hours(hours_from_now)
}

/// A plan starting `start` hours from now, an hour long, in Shanghai.
fn plan(title: &str, start: i64, room: Option<Uuid>) -> Value {
    json!({
        "title": title,
        "agenda": "1. 进度 2. 风险",
        "starts_at": at(start),
        "ends_at": at(start + 1),
        "time_zone": "Asia/Shanghai",
        "room_id": room,
        "online_link": "https://meet.example.invalid/abc",
    })
}

async fn rooms(api: &TestApi, token: &str) -> Vec<RoomView> {
    api.get("/v1/rooms", token).await.json()
}

async fn feed_meetings(api: &TestApi, token: &str) -> Vec<(String, ChangeOp, Option<Value>)> {
    let page: SyncPage = api.get("/v1/sync?limit=1000", token).await.json();
    page.changes
        .into_iter()
        .filter(|c| c.kind == EntityKind::Meeting)
        .map(|c| (c.id, c.op, c.data))
        .collect()
}

async fn invitations_answers_and_the_ledger(db: TestDb) {
    let api = demo(db).await;
    let jiang = api.token("jiang.tao", PW).await;
    let shen = api.token("shen.yue", PW).await;
    let qian = api.token("qian.li", PW).await;
    let sun = api.token("sun.hui", PW).await;
    let hr = api.token("li.wei", PW).await;
    let qian_p = person(&api, "qian.li").await;
    let chu = person(&api, "chu.yun").await;
    // 楚云 left the company: naming them must not fail the invitation, only be reported.
    let gone = api
        .post(
            &format!("/v1/people/{}/departure", chu.id),
            &hr,
            json!({"reason": "resigned"}),
        )
        .await;
    assert_eq!(gone.status, StatusCode::OK, "{}", gone.body);
    let rd = department(&api, "RD").await;

    let answer = api
        .post(
            "/v1/meetings",
            &jiang,
            json!({
                "plan": plan("研发周会", 2, None),
                "invitees": [
                    {"kind": "department", "id": rd},
                    {"kind": "person", "id": qian_p.id},
                    {"kind": "person", "id": chu.id},
                ],
            }),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    let meeting: MeetingView = answer.json();
    assert_eq!(meeting.my_role, "organiser");
    assert_eq!(meeting.sequence, 1);
    let rd_people: Vec<Uuid> = api
        .store()
        .list_people()
        .await
        .unwrap()
        .into_iter()
        .filter(|p| p.department_id == Some(rd) && p.status == PersonStatus::Active)
        .map(|p| p.id)
        .collect();
    let jiang_p = person(&api, "jiang.tao").await;
    let expected = rd_people.iter().filter(|p| **p != jiang_p.id).count() + 1;
    assert_eq!(
        meeting.invitees.len(),
        expected,
        "R&D expanded (without the organiser) plus 钱立 by name"
    );
    assert!(
        meeting
            .invitees
            .iter()
            .any(|i| i.person_id == qian_p.id && i.via_department.is_none()),
        "钱立 was named, not invited through a department"
    );
    assert_eq!(
        meeting.skipped.len(),
        1,
        "the departed colleague is reported"
    );
    assert_eq!(meeting.skipped[0].person_id, chu.id);
    assert_eq!(meeting.skipped[0].reason, "departed");

    // The invitation is in each invitee's feed, and not in anyone else's.
    let shen_feed = feed_meetings(&api, &shen).await;
    assert_eq!(shen_feed.len(), 1, "沈月 (R&D) is invited");
    let seen: MeetingView = serde_json::from_value(shen_feed[0].2.clone().unwrap()).unwrap();
    assert_eq!(seen.my_role, "invitee");
    assert!(
        seen.skipped.is_empty(),
        "the skipped list is for the organiser"
    );
    assert!(
        feed_meetings(&api, &sun).await.is_empty(),
        "孙慧 (Finance) is not invited"
    );
    let not_yours = api.get(&format!("/v1/meetings/{}", meeting.id), &sun).await;
    assert_eq!(
        not_yours.status,
        StatusCode::NOT_FOUND,
        "{}",
        not_yours.body
    );

    // An answer through the offline path, sent twice: applied once.
    let mutation = json!({"mutations": [{
        "id": Uuid::now_v7(),
        "kind": "rsvp_meeting",
        "payload": {"meeting_id": meeting.id, "answer": "accept", "note": "会准时到"},
    }]});
    let first: MutationResults = api
        .post("/v1/mutations", &shen, mutation.clone())
        .await
        .json();
    assert_eq!(
        first.results[0].status,
        MutationStatus::Applied,
        "{first:?}"
    );
    let mine = first.results[0].meeting.as_ref().unwrap();
    let shen_p = person(&api, "shen.yue").await;
    assert_eq!(mine.invitee(shen_p.id).unwrap().answer, Some(Rsvp::Accept));
    let again: MutationResults = api.post("/v1/mutations", &shen, mutation).await.json();
    assert_eq!(again.results[0].status, MutationStatus::Duplicate);

    // 钱立 declines over REST; 孙慧 cannot answer a meeting they are not invited to.
    let declined = api
        .post(
            &format!("/v1/meetings/{}/rsvp", meeting.id),
            &qian,
            json!({"answer": "decline", "note": "出差"}),
        )
        .await;
    assert_eq!(declined.status, StatusCode::OK, "{}", declined.body);
    let qian_view: MeetingView = declined.json();
    assert!(
        qian_view
            .invitees
            .iter()
            .filter(|i| i.person_id != qian_p.id)
            .all(|i| i.answer.is_none()),
        "an invitee sees their own answer, not the others'"
    );
    let refused = api
        .post(
            &format!("/v1/meetings/{}/rsvp", meeting.id),
            &sun,
            json!({"answer": "accept"}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.body);

    // Receipts: 沈月's client got it and she opened it; a repeat changes nothing.
    api.clock.advance(Duration::minutes(5));
    let receipt = json!({"receipts": [{"meeting_id": meeting.id, "sequence": 1, "opened_at": api.state.clock.now()}]});
    let recorded: ReceiptsRecorded = api
        .post("/v1/meetings/receipts", &shen, receipt.clone())
        .await
        .json();
    assert_eq!(recorded.recorded, 1);
    let repeat: ReceiptsRecorded = api
        .post("/v1/meetings/receipts", &shen, receipt)
        .await
        .json();
    assert_eq!(repeat.recorded, 0, "a receipt sent twice is counted once");
    // A receipt for a meeting one is not on changes nothing and is no error.
    let stray: ReceiptsRecorded = api
        .post(
            "/v1/meetings/receipts",
            &sun,
            json!({"receipts": [{"meeting_id": meeting.id, "sequence": 1}]}),
        )
        .await
        .json();
    assert_eq!(stray.recorded, 0);

    // The organiser sees every answer and the ledger.
    let organiser: MeetingView = api
        .get(&format!("/v1/meetings/{}", meeting.id), &jiang)
        .await
        .json();
    let shen_line = organiser.invitee(shen_p.id).unwrap();
    assert_eq!(shen_line.answer, Some(Rsvp::Accept));
    assert_eq!(shen_line.note.as_deref(), Some("会准时到"));
    assert!(shen_line.reached_at.is_some() && shen_line.opened_at.is_some());
    assert_eq!(
        organiser.invitee(qian_p.id).unwrap().answer,
        Some(Rsvp::Decline)
    );

    let report: CoverageReport = api
        .get(
            &format!(
                "/v1/reports/meetings?from={}&to={}",
                urlencode(at(-24)),
                urlencode(at(24 * 30))
            ),
            &jiang,
        )
        .await
        .json();
    assert_eq!(report.meetings.len(), 1);
    let cover = &report.meetings[0];
    assert_eq!(cover.invited as usize, expected);
    assert_eq!((cover.reached, cover.opened, cover.answered), (1, 1, 2));
    assert_eq!((cover.accepted, cover.declined), (1, 1));
    assert_eq!(cover.not_reached.len(), expected - 1);
    assert!(!cover.not_reached.contains(&shen_p.id));
    assert_eq!(report.months.len(), 1);
    assert_eq!(report.months[0].month, "2026-12");
    // Someone who organises nothing and reads no reports sees an empty report.
    let empty: CoverageReport = api
        .get(
            &format!(
                "/v1/reports/meetings?from={}&to={}",
                urlencode(at(-24)),
                urlencode(at(24 * 30))
            ),
            &sun,
        )
        .await
        .json();
    assert!(empty.meetings.is_empty());
    // A period that ends before it starts is empty, not an error.
    let inverted: Vec<MeetingView> = api
        .get(
            &format!(
                "/v1/meetings?from={}&to={}",
                urlencode(at(24)),
                urlencode(at(-24))
            ),
            &jiang,
        )
        .await
        .json();
    assert!(inverted.is_empty());
    // A receipt's sequence beyond what the server can have sent is malformed, not ignored.
    let huge = api
        .post(
            "/v1/meetings/receipts",
            &shen,
            json!({"receipts": [{"meeting_id": meeting.id, "sequence": 9_223_372_036_854_775_808_u64}]}),
        )
        .await;
    assert_eq!(huge.status, StatusCode::BAD_REQUEST, "{}", huge.body);
    // Reading a meeting is audited.
    let audited = api
        .store()
        .audit_lines(0, 100_000)
        .await
        .unwrap()
        .iter()
        .any(|r| {
            r.entry.action == "meeting.read"
                && r.entry.resource == format!("meeting:{}", meeting.id)
        });
    assert!(audited, "every data access is audited");
}

fn urlencode(t: DateTime<Utc>) -> String {
    t.to_rfc3339().replace('+', "%2B")
}

async fn a_change_is_announced_once_and_a_cancellation_frees_the_room(db: TestDb) {
    let api = demo(db).await;
    let jiang = api.token("jiang.tao", PW).await;
    let shen = api.token("shen.yue", PW).await;
    let shen_p = person(&api, "shen.yue").await;
    let room = rooms(&api, &jiang).await[0].id;
    let created: MeetingView = api
        .post(
            "/v1/meetings",
            &jiang,
            json!({"plan": plan("架构评审", 3, Some(room)), "invitees": [{"kind": "person", "id": shen_p.id}]}),
        )
        .await
        .json();
    api.post(
        "/v1/meetings/receipts",
        &shen,
        json!({"receipts": [{"meeting_id": created.id, "sequence": 1}]}),
    )
    .await;

    // Moved by an hour and to a place: one new sequence naming both.
    let mut moved = plan("架构评审", 4, Some(room));
    moved["place"] = json!("5F 白板区");
    let answer = api
        .call(
            Method::PUT,
            &format!("/v1/meetings/{}", created.id),
            Some(&jiang),
            Some(json!({"plan": moved.clone()})),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let changed: MeetingView = answer.json();
    assert_eq!(changed.sequence, 2, "one change, one new sequence");
    assert_eq!(
        changed.changed,
        vec![MeetingField::Time, MeetingField::Place]
    );
    assert_eq!(
        changed.invitee(shen_p.id).unwrap().reached_at,
        None,
        "the receipt was for the old version: the change has not reached her yet"
    );
    // The same plan again changes nothing and announces nothing.
    let same: MeetingView = api
        .call(
            Method::PUT,
            &format!("/v1/meetings/{}", created.id),
            Some(&jiang),
            Some(json!({"plan": moved})),
        )
        .await
        .json();
    assert_eq!(same.sequence, 2);
    // Only the organiser may change it.
    let not_organiser = api
        .call(
            Method::PUT,
            &format!("/v1/meetings/{}", created.id),
            Some(&shen),
            Some(json!({"plan": plan("改了", 5, None)})),
        )
        .await;
    assert_eq!(not_organiser.status, StatusCode::FORBIDDEN);

    let cancelled: MeetingView = api
        .post(
            &format!("/v1/meetings/{}/cancel", created.id),
            &jiang,
            json!({"reason": "需求推迟"}),
        )
        .await
        .json();
    assert_eq!(cancelled.status, MeetingStatus::Cancelled);
    assert_eq!(cancelled.sequence, 3);
    let feed = feed_meetings(&api, &shen).await;
    let last: MeetingView =
        serde_json::from_value(feed.last().unwrap().2.clone().unwrap()).unwrap();
    assert_eq!(
        last.status,
        MeetingStatus::Cancelled,
        "the invitee's feed has the cancellation"
    );
    assert_eq!(last.cancel_reason.as_deref(), Some("需求推迟"));
    // The room is free again at that time.
    let rebooked = api
        .post(
            "/v1/meetings",
            &jiang,
            json!({"plan": plan("另一个会", 4, Some(room)), "invitees": [{"kind": "person", "id": shen_p.id}]}),
        )
        .await;
    assert_eq!(rebooked.status, StatusCode::CREATED, "{}", rebooked.body);
    // A cancelled meeting takes no answer.
    let late = api
        .post(
            &format!("/v1/meetings/{}/rsvp", created.id),
            &shen,
            json!({"answer": "accept"}),
        )
        .await;
    assert_eq!(late.status, StatusCode::CONFLICT);
    assert!(late.error().message.contains("cancelled"), "{}", late.body);
}

async fn a_double_booked_room_is_refused_with_the_clash_named(db: TestDb) {
    let api = demo(db).await;
    let jiang = api.token("jiang.tao", PW).await;
    let qian = api.token("qian.li", PW).await;
    let shen_p = person(&api, "shen.yue").await;
    let room = rooms(&api, &jiang).await[0].clone();
    let invitees = json!([{"kind": "person", "id": shen_p.id}]);
    let first = api
        .post(
            "/v1/meetings",
            &jiang,
            json!({"plan": plan("预算评审", 2, Some(room.id)), "invitees": invitees}),
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    // Half an hour into the first: refused, naming the meeting that holds the room.
    let mut overlapping = plan("客户来访", 2, Some(room.id));
    overlapping["starts_at"] = json!(at(2) + Duration::minutes(30));
    overlapping["ends_at"] = json!(at(3) + Duration::minutes(30));
    let clash = api
        .post(
            "/v1/meetings",
            &qian,
            json!({"plan": overlapping, "invitees": invitees}),
        )
        .await;
    assert_eq!(clash.status, StatusCode::CONFLICT, "{}", clash.body);
    let error = clash.error();
    assert_eq!(error.code, ErrorCode::Refused);
    assert!(
        error.message.contains("预算评审") && error.message.contains(&room.name),
        "the clash is named: {}",
        error.message
    );
    assert!(
        error.message.contains("11:30") && error.message.contains("12:30"),
        "in the organiser's local time (Shanghai): {}",
        error.message
    );
    // Back to back is fine.
    let after = api
        .post(
            "/v1/meetings",
            &qian,
            json!({"plan": plan("客户来访", 3, Some(room.id)), "invitees": invitees}),
        )
        .await;
    assert_eq!(after.status, StatusCode::CREATED, "{}", after.body);
    let theirs: Vec<MeetingView> = api
        .get(
            &format!(
                "/v1/meetings?from={}&to={}",
                urlencode(at(0)),
                urlencode(at(48))
            ),
            &qian,
        )
        .await
        .json();
    assert_eq!(theirs.len(), 1, "the refused meeting was not saved");
}

async fn bad_plans_are_refused_and_nothing_is_saved(db: TestDb) {
    let api = demo(db).await;
    let jiang = api.token("jiang.tao", PW).await;
    let shen_p = person(&api, "shen.yue").await;
    let invitees = json!([{"kind": "person", "id": shen_p.id}]);
    let mut ends_first = plan("倒着开", 2, None);
    ends_first["ends_at"] = json!(at(1));
    let mut unknown_zone = plan("时区", 2, None);
    unknown_zone["time_zone"] = json!("Mars/Olympus");
    let cases = [
        (
            json!({"plan": ends_first, "invitees": invitees}),
            "ends_before_start",
        ),
        (
            json!({"plan": plan("昨天的会", -30, None), "invitees": invitees}),
            "starts_in_the_past",
        ),
        (
            json!({"plan": unknown_zone, "invitees": invitees}),
            "unknown_time_zone",
        ),
        (
            json!({"plan": plan("没有人", 2, None), "invitees": []}),
            "no_invitees",
        ),
        (
            json!({"plan": plan("虚构会议室", 2, Some(Uuid::now_v7())), "invitees": invitees}),
            "unknown_room",
        ),
        (
            json!({"plan": plan("虚构部门", 2, None), "invitees": [{"kind": "department", "id": Uuid::now_v7()}]}),
            "unknown_department",
        ),
        (
            json!({"plan": plan("别人的文件", 2, None), "invitees": invitees, "materials": [Uuid::now_v7()]}),
            "unknown_material",
        ),
    ];
    for (body, code) in cases {
        let answer = api.post("/v1/meetings", &jiang, body).await;
        assert_eq!(
            answer.status,
            StatusCode::CONFLICT,
            "{code}: {}",
            answer.body
        );
        let error = answer.error();
        assert_eq!(
            error.refusal.as_ref().map(|r| r.code.as_str()),
            Some(code),
            "{}",
            answer.body
        );
        assert!(!error.message.is_empty());
    }
    // A malformed body is a 400 naming the problem, not a 500.
    let malformed = api
        .post(
            "/v1/meetings",
            &jiang,
            json!({"plan": {"title": 3}, "invitees": []}),
        )
        .await;
    assert_eq!(
        malformed.status,
        StatusCode::BAD_REQUEST,
        "{}",
        malformed.body
    );
    let saved = api
        .store()
        .meetings_between(at(-1000), at(1000), None)
        .await
        .unwrap();
    assert!(saved.is_empty(), "nothing half-saved: {saved:?}");
    let refusals = api
        .store()
        .audit_lines(0, 100_000)
        .await
        .unwrap()
        .iter()
        .filter(|r| r.entry.action == "meeting.create" && r.entry.outcome != "ok")
        .count();
    assert_eq!(refusals, 7, "each refusal is audited");
}

async fn two_hundred_invitees_across_departments_are_counted(db: TestDb) {
    let api = demo(db).await;
    let jiang = api.token("jiang.tao", PW).await;
    let departments = ["FIN", "HR", "IT", "SALES"];
    let mut ids = Vec::new();
    for d in departments {
        ids.push(department(&api, d).await);
    }
    // 200 more people, 50 per department (inserted directly: signing in 200 people would
    // test argon2, not meetings).
    let now = tuesday_morning();
    for n in 0..200 {
        let p = Person {
            id: Uuid::now_v7(),
            username: format!("staff{n:03}"),
            display_name: format!("员工{n:03}"),
            email: None,
            department_id: Some(ids[n % 4]),
            manager_id: None,
            roles: vec!["employee".into()],
            positions: vec![],
            status: PersonStatus::Active,
            password_hash: None,
            created_at: now,
            last_sign_in_at: None,
            version: 1,
        };
        let audit = countersign_server::store::AuditEntry::system(
            now,
            "person.create",
            format!("person:{}", p.id),
        );
        api.store().insert_person(&p, &audit).await.unwrap();
    }
    let answer = api
        .post(
            "/v1/meetings",
            &jiang,
            json!({
                "plan": plan("年终全员会", 5, None),
                "invitees": departments.iter().zip(&ids).map(|(_, id)| json!({"kind": "department", "id": id})).collect::<Vec<_>>(),
            }),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    let meeting: MeetingView = answer.json();
    let invited: Vec<Uuid> = meeting.invitees.iter().map(|i| i.person_id).collect();
    let demo_in_those = api
        .store()
        .list_people()
        .await
        .unwrap()
        .iter()
        .filter(|p| {
            p.department_id.is_some_and(|d| ids.contains(&d)) && !p.username.starts_with("staff")
        })
        .count();
    assert_eq!(
        invited.len(),
        200 + demo_in_those,
        "every department member, once"
    );

    // Receipts from the first 150, answers from the first 100 (60 accept, 30 tentative,
    // 10 decline), written through the store's ledger as the service would.
    let at_now = api.state.clock.now();
    let mut changes = Vec::new();
    for (n, person) in invited.iter().enumerate() {
        if n < 150 {
            changes.push(LedgerWrite {
                meeting_id: meeting.id,
                person_id: *person,
                change: LedgerChange::Receipt {
                    sequence: 1,
                    opened_at: (n < 120).then_some(at_now),
                },
                at: at_now,
                audience: vec![meeting.organiser_id],
            });
        }
        if n < 100 {
            let answer = match n % 10 {
                0 => Rsvp::Decline,
                1..=3 => Rsvp::Tentative,
                _ => Rsvp::Accept,
            };
            changes.push(LedgerWrite {
                meeting_id: meeting.id,
                person_id: *person,
                change: LedgerChange::Answer { answer, note: None },
                at: at_now,
                audience: vec![meeting.organiser_id],
            });
        }
    }
    let audit =
        countersign_server::store::AuditEntry::system(at_now, "test.ledger", "meeting".into());
    let (changed, _) = api
        .store()
        .write_ledger(&changes, &audit, None)
        .await
        .unwrap();
    assert_eq!(changed, 250);
    let report: CoverageReport = api
        .get(
            &format!(
                "/v1/reports/meetings?from={}&to={}",
                urlencode(at(0)),
                urlencode(at(24))
            ),
            &jiang,
        )
        .await
        .json();
    let c = &report.meetings[0];
    let total = u32::try_from(invited.len()).unwrap();
    assert_eq!(c.invited, total);
    assert_eq!(
        (c.reached, c.reached_before_start, c.opened),
        (150, 150, 120)
    );
    assert_eq!(
        (c.answered, c.accepted, c.tentative, c.declined),
        (100, 60, 30, 10)
    );
    assert_eq!(
        c.not_reached.len(),
        invited.len() - 150,
        "the stragglers are named"
    );
    assert_eq!(c.not_reached, invited[150..].to_vec());
    assert_eq!(report.months[0].reached_per_mille, 150 * 1000 / total);
}
