//! The live event stream (`GET /v1/events`) over real TCP: who hears what, resuming with
//! `Last-Event-ID`, heartbeats, the scheduler's overdue hints, and a shutdown that does not
//! hang on open streams. Absence is shown without waiting for silence: the next frame a
//! stream delivers is checked to be a later, unrelated change.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use chrono::Duration as Span;
use countersign_api::requests::RequestView;
use countersign_api::sync::EntityKind;
use countersign_server::settings::Settings;
use countersign_server::sync::{Cursor, server_id};
use countersign_testkit::{TestApi, TestDb, TestServer};
use support::{Client, Frame, person_id, seed_demo, seq_of, tuesday_morning};
use uuid::Uuid;

async fn demo_with(settings: Settings) -> TestServer {
    let server = TestServer::start_at_with(TestDb::sqlite(), tuesday_morning(), settings).await;
    seed_demo(&server).await;
    server
}

async fn demo() -> TestServer {
    demo_with(Settings::default()).await
}

#[tokio::test]
async fn a_decision_hints_the_approver_and_the_initiator_and_nobody_else() {
    let server = demo().await;
    let shen = Client::sign_in(&server, "shen.yue").await;
    let jiang = Client::sign_in(&server, "jiang.tao").await;
    let wang = Client::sign_in(&server, "wang.fang").await;
    let jiang_id = person_id(&server, "jiang.tao").await;

    let mut shen_events = shen.events(None).await;
    let mut jiang_events = jiang.events(None).await;
    let mut wang_events = wang.events(None).await;
    // Without Last-Event-ID a stream starts with the head, so the client knows where it is.
    let (start, _) = shen_events.next_hint().await;
    jiang_events.next_hint().await;
    wang_events.next_hint().await;

    let submitted = shen.submit_leave().await;
    let (_, on_submit) = jiang_events.next_hint().await;
    assert!(
        seq_of(&on_submit.cursor) > seq_of(&start),
        "the submission reaches the manager"
    );
    let (_, shen_on_submit) = shen_events.next_hint().await;
    assert_eq!(shen_on_submit, on_submit, "and the initiator, same cursor");

    let approved = jiang.approve(&submitted, jiang_id).await;
    let (id, for_jiang) = jiang_events.next_hint().await;
    assert_eq!(
        id, for_jiang.cursor,
        "the SSE id is the cursor, for Last-Event-ID"
    );
    let (_, for_shen) = shen_events.next_hint().await;
    assert_eq!(for_shen, for_jiang);
    assert!(seq_of(&for_shen.cursor) > seq_of(&on_submit.cursor));

    // The hint leads to the change: pulling after the previous cursor yields the decision.
    let (changes, _) = shen.pull(Some(&on_submit.cursor)).await;
    let change = changes
        .iter()
        .find(|c| c.kind == EntityKind::Request && c.id == submitted.id.to_string())
        .expect("the request changed");
    assert_eq!(change.version, approved.version);

    // The outsider heard neither: the next hint on their stream is their own submission,
    // which comes after the decision.
    let own = wang.submit_leave().await;
    let (_, for_wang) = wang_events.next_hint().await;
    assert!(seq_of(&for_wang.cursor) > seq_of(&for_shen.cursor));
    let (changes, _) = wang.pull(None).await;
    assert!(
        changes
            .iter()
            .filter(|c| c.kind == EntityKind::Request)
            .all(|c| c.id == own.id.to_string()),
        "the outsider's feed holds only their own request"
    );
}

#[tokio::test]
async fn a_resumed_stream_hints_at_once_only_when_changes_are_pending() {
    let server = demo().await;
    let shen = Client::sign_in(&server, "shen.yue").await;
    let jiang = Client::sign_in(&server, "jiang.tao").await;
    let wang = Client::sign_in(&server, "wang.fang").await;

    let (before, _) = jiang.events(None).await.next_hint().await;
    // While jiang is offline, shen submits a request for jiang to approve.
    shen.submit_leave().await;

    let mut resumed = jiang.events(Some(&before)).await;
    let (caught_up, hint) = resumed.next_hint().await;
    assert!(
        seq_of(&hint.cursor) > seq_of(&before),
        "changes are pending for jiang: hinted at once"
    );
    drop(resumed);

    // Nothing new for jiang since `caught_up`, nor for wang since `before`: no hint at
    // connect, so the first hint each sees is the next change that concerns them.
    let mut jiang_quiet = jiang.events(Some(&caught_up)).await;
    let mut wang_quiet = wang.events(Some(&before)).await;
    shen.submit_leave().await;
    let (_, next) = jiang_quiet.next_hint().await;
    assert!(seq_of(&next.cursor) > seq_of(&caught_up));
    wang.submit_leave().await;
    let (_, wang_next) = wang_quiet.next_hint().await;
    assert!(
        seq_of(&wang_next.cursor) > seq_of(&next.cursor),
        "wang's first hint is wang's own submission, not an immediate one"
    );
}

#[tokio::test]
async fn a_last_event_id_this_server_did_not_make_gets_the_head() {
    let server = demo().await;
    let jiang = Client::sign_in(&server, "jiang.tao").await;
    let (head, _) = jiang.events(None).await.next_hint().await;
    let here = server_id(server.state.store.as_ref()).await.unwrap();
    let foreign = Cursor {
        server: Uuid::now_v7(),
        seq: 1,
    }
    .encode();
    let ahead = Cursor {
        server: here,
        seq: seq_of(&head) + 100,
    }
    .encode();
    for bad in ["not a cursor", foreign.as_str(), ahead.as_str()] {
        let (id, hint) = jiang.events(Some(bad)).await.next_hint().await;
        assert_eq!(
            (id.as_str(), hint.cursor.as_str()),
            (head.as_str(), head.as_str()),
            "{bad}: hinted the head at once"
        );
    }
}

#[tokio::test]
async fn an_idle_stream_carries_heartbeats() {
    let server = demo_with(Settings {
        events_heartbeat_secs: 1,
        ..Settings::default()
    })
    .await;
    let jiang = Client::sign_in(&server, "jiang.tao").await;
    let mut events = jiang.events(None).await;
    events.next_hint().await;
    for _ in 0..2 {
        assert_eq!(
            events.next_frame_within(Duration::from_secs(5)).await,
            Some(Frame::Comment("heartbeat".into())),
            "nothing happens, so a heartbeat comes about every second"
        );
    }
}

#[tokio::test]
async fn a_stream_that_falls_behind_is_told_to_pull_the_head() {
    use futures::StreamExt;

    let api = TestApi::new(tuesday_morning()).await;
    api.seed_demo().await;
    let token = api.token("jiang.tao", support::PW).await;
    let caller = api.state.authenticate(Some(&token)).await.unwrap();
    let origin = countersign_server::auth::Origin {
        source: None,
        device: None,
    };
    let stream = api
        .state
        .open_event_stream(&caller, None, &origin)
        .await
        .unwrap();
    let mut stream = std::pin::pin!(stream);
    let first = stream.next().await.unwrap();
    // Far more notices than the hub holds, none of them jiang's: the stream's receiver
    // lags, cannot know whether it missed one of jiang's, and says so with a hint.
    let someone_else = Uuid::now_v7();
    for seq in 1..=3000 {
        api.state
            .events
            .publish(countersign_server::store::FeedNotice {
                last_seq: 1_000_000 + seq,
                audiences: vec![someone_else],
            });
    }
    let hint = tokio::time::timeout(support::WAIT, stream.next())
        .await
        .expect("a hint, not silence")
        .unwrap();
    assert_eq!(hint, first, "the head has not moved: pull it again");
}

#[tokio::test]
async fn every_stream_open_is_audited() {
    let server = demo().await;
    let jiang = Client::sign_in(&server, "jiang.tao").await;
    jiang.events(None).await.next_hint().await;
    let lines = server.state.store.audit_lines(0, 10_000).await.unwrap();
    let opened: Vec<_> = lines
        .iter()
        .filter(|l| l.entry.action == "events.open")
        .collect();
    assert_eq!(opened.len(), 1);
    assert_eq!(opened[0].entry.actor, "jiang.tao");
    assert_eq!(opened[0].entry.outcome, "ok");
}

#[tokio::test]
async fn shutdown_ends_open_streams_and_does_not_hang() {
    let server = demo().await;
    let jiang = Client::sign_in(&server, "jiang.tao").await;
    let mut events = jiang.events(None).await;
    events.next_hint().await;
    tokio::time::timeout(Duration::from_secs(5), server.stop())
        .await
        .expect("graceful shutdown finishes with a stream open");
    assert_eq!(
        events.next_frame().await,
        None,
        "the stream ended cleanly rather than being cut"
    );
}

#[tokio::test]
async fn the_scheduler_flags_an_overdue_task_and_the_assignee_hears_it() {
    let server = demo_with(Settings {
        overdue_scan_secs: 1,
        ..Settings::default()
    })
    .await;
    let shen = Client::sign_in(&server, "shen.yue").await;
    let jiang = Client::sign_in(&server, "jiang.tao").await;
    let jiang_id = person_id(&server, "jiang.tao").await;
    let mut events = jiang.events(None).await;
    events.next_hint().await;
    let submitted = shen.submit_leave().await;
    let (_, on_submit) = events.next_hint().await;
    let task = submitted.open_tasks_for(jiang_id).next().unwrap();
    assert!(submitted.overdue_tasks.is_empty());

    // The manager step's SLA is 8 working hours; three days later it is long overdue.
    server.clock.as_ref().unwrap().advance(Span::days(3));
    let (_, flagged) = events.next_hint().await;
    assert!(seq_of(&flagged.cursor) > seq_of(&on_submit.cursor));

    // Tokens expired with the jump; a fresh sign-in pulls what the hint announced.
    let jiang = Client::sign_in(&server, "jiang.tao").await;
    let (changes, _) = jiang.pull(Some(&on_submit.cursor)).await;
    let change = changes
        .iter()
        .find(|c| c.id == submitted.id.to_string())
        .expect("the overdue request is in jiang's feed");
    let view: RequestView = serde_json::from_value(change.data.clone().unwrap()).unwrap();
    assert_eq!(view.overdue_tasks, vec![task]);
    assert_eq!(
        view.overdue_tasks_for(jiang_id).collect::<Vec<_>>(),
        vec![task],
        "what the client warns jiang about"
    );
    assert_eq!(
        view.version, submitted.version,
        "the engine's state is untouched"
    );
}
