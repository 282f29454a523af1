//! Several replicas on one PostgreSQL database (B7): a write through one replica reaches
//! event streams on another (LISTEN/NOTIFY), the relay survives losing its connection, and
//! scheduled jobs flag an overdue task exactly once however the replicas race.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::Duration as Span;
use countersign_server::jobs::{self, JobRun};
use countersign_server::settings::Settings;
use countersign_testkit::{TestDb, TestServer};
use sqlx::Connection;
use support::{Client, WAIT, person_id, seed_demo, seq_of, tuesday_morning};

/// Two replicas on one fresh PostgreSQL database, both relaying. The scheduler is off so the
/// tests decide when jobs run.
async fn two_replicas() -> (TestServer, TestServer) {
    let settings = Settings {
        overdue_scan_secs: 0,
        ..Settings::default()
    };
    let a = TestServer::start_at_with(TestDb::postgres().await, tuesday_morning(), settings).await;
    seed_demo(&a).await;
    let b = a.replica().await;
    for server in [&a, &b] {
        tokio::time::timeout(WAIT, server.state.events.relaying())
            .await
            .expect("each replica listens for the others' writes");
    }
    (a, b)
}

#[tokio::test]
async fn a_write_on_one_replica_hints_streams_on_the_other() {
    let (a, b) = two_replicas().await;
    let jiang_id = person_id(&a, "jiang.tao").await;
    let shen_on_a = Client::sign_in(&a, "shen.yue").await;
    let jiang_on_b = Client::sign_in(&b, "jiang.tao").await;
    let mut jiang_events = jiang_on_b.events(None).await;
    let mut shen_events = shen_on_a.events(None).await;
    jiang_events.next_hint().await;
    shen_events.next_hint().await;

    let submitted = shen_on_a.submit_leave().await;
    let (_, on_b) = jiang_events.next_hint().await;
    let (_, on_a) = shen_events.next_hint().await;
    assert_eq!(on_b, on_a, "the same cursor on both replicas");
    let (changes, _) = jiang_on_b.pull(None).await;
    assert!(
        changes.iter().any(|c| c.id == submitted.id.to_string()),
        "pulling from replica B finds the write made through A"
    );

    // The writing replica heard its own write twice (directly and through NOTIFY); its
    // stream still carries it once: the next hint on A is the decision made through B.
    jiang_on_b.approve(&submitted, jiang_id).await;
    let (_, decided) = shen_events.next_hint().await;
    assert!(seq_of(&decided.cursor) > seq_of(&on_a.cursor));
    let (_, decided_on_b) = jiang_events.next_hint().await;
    assert_eq!(decided_on_b, decided);
}

#[tokio::test]
async fn a_replica_that_lost_its_listener_reconnects_and_misses_nothing() {
    let (a, b) = two_replicas().await;
    let shen_on_a = Client::sign_in(&a, "shen.yue").await;
    let jiang_on_b = Client::sign_in(&b, "jiang.tao").await;
    let mut jiang_events = jiang_on_b.events(None).await;
    let (start, _) = jiang_events.next_hint().await;

    // Kill every listening session on the database, as a failover or a network cut would.
    let mut admin = sqlx::PgConnection::connect(a.db().url()).await.unwrap();
    let killed: Vec<(i32, bool)> = sqlx::query_as(
        "SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND query LIKE 'LISTEN%'",
    )
    .fetch_all(&mut admin)
    .await
    .unwrap();
    assert_eq!(killed.len(), 2, "one listener per replica");
    assert!(killed.iter().all(|(_, done)| *done));
    let killed: BTreeSet<i32> = killed.into_iter().map(|(pid, _)| pid).collect();
    tokio::time::timeout(WAIT, async {
        while !listening_sessions(&mut admin).await.is_disjoint(&killed) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the killed sessions are gone");

    // Written while B may still be reconnecting: the NOTIFY can be lost, the hint cannot
    // (B tells its streams to pull the head once it listens again).
    shen_on_a.submit_leave().await;
    let (_, hint) = jiang_events.next_hint().await;
    assert!(seq_of(&hint.cursor) > seq_of(&start));

    tokio::time::timeout(WAIT, async {
        while listening_sessions(&mut admin).await.len() < 2 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("both replicas listen again, on new sessions");
    admin.close().await.unwrap();
}

/// The sessions on the test database that listen for feed notices.
async fn listening_sessions(admin: &mut sqlx::PgConnection) -> BTreeSet<i32> {
    let pids: Vec<i32> = sqlx::query_scalar(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() \
         AND query LIKE 'LISTEN%'",
    )
    .fetch_all(admin)
    .await
    .unwrap();
    pids.into_iter().collect()
}

#[tokio::test]
async fn replicas_racing_the_overdue_scan_flag_a_task_exactly_once() {
    let (a, b) = two_replicas().await;
    let shen = person_id(&a, "shen.yue").await;
    let jiang = person_id(&a, "jiang.tao").await;
    let shen_on_a = Client::sign_in(&a, "shen.yue").await;
    let first = shen_on_a.submit_leave().await;
    let second = shen_on_a.submit_leave().await;
    a.clock.as_ref().unwrap().advance(Span::days(3));
    let head = a.state.store.feed_head().await.unwrap();

    // Each replica runs its scheduler's job several times at once, under the lock.
    let runs = futures::future::join_all(
        (0..8).map(|i| jobs::run_overdue_scan(if i % 2 == 0 { &a.state } else { &b.state })),
    )
    .await;
    let mut flagged = Vec::new();
    for run in runs {
        match run.unwrap() {
            JobRun::Ran(marks) => flagged.extend(marks.into_iter().map(|m| m.request_id)),
            JobRun::Skipped => {}
        }
    }
    flagged.sort();
    let mut expected = vec![first.id, second.id];
    expected.sort();
    assert_eq!(flagged, expected, "each request flagged by exactly one run");

    // Even without the lock (two scans that started together) the mark is conditional.
    a.clock.as_ref().unwrap().advance(Span::days(3));
    let third = Client::sign_in(&a, "shen.yue").await.submit_leave().await;
    a.clock.as_ref().unwrap().advance(Span::days(3));
    let (x, y) = tokio::join!(jobs::scan_overdue(&a.state), jobs::scan_overdue(&b.state));
    let both: Vec<_> = x.unwrap().into_iter().chain(y.unwrap()).collect();
    assert_eq!(both.len(), 1);
    assert_eq!(both[0].request_id, third.id);

    for request in [first.id, second.id, third.id] {
        for person in [shen, jiang] {
            let rows = a
                .state
                .store
                .feed_after(person, head, 1000)
                .await
                .unwrap()
                .into_iter()
                .filter(|e| e.entity_id == request.to_string())
                .count();
            let expected = if request == third.id { 2 } else { 1 };
            assert_eq!(
                rows, expected,
                "one overdue row per audience (the third also has its submission row)"
            );
        }
    }
    let audit = a.state.store.audit_lines(0, 100_000).await.unwrap();
    assert_eq!(
        audit
            .iter()
            .filter(|l| l.entry.action == "request.overdue")
            .count(),
        3
    );
}

#[tokio::test]
async fn shutdown_with_streams_open_on_two_replicas_is_prompt() {
    let (a, b) = two_replicas().await;
    let mut on_a = Client::sign_in(&a, "jiang.tao").await.events(None).await;
    let mut on_b = Client::sign_in(&b, "jiang.tao").await.events(None).await;
    on_a.next_hint().await;
    on_b.next_hint().await;
    tokio::time::timeout(Duration::from_secs(5), async {
        tokio::join!(a.stop(), b.stop());
    })
    .await
    .expect("both replicas stop with streams and listeners open");
    assert_eq!(on_a.next_frame().await, None);
    assert_eq!(on_b.next_frame().await, None);
}

/// Each replica keeps the organisation that routing reads; a transfer made through another
/// replica still sends the next request to the new manager.
#[tokio::test]
async fn a_transfer_through_one_replica_routes_the_next_request_on_the_other() {
    let (a, b) = two_replicas().await;
    let jiang_id = person_id(&a, "jiang.tao").await;
    let wang_id = person_id(&a, "wang.fang").await;
    let shen_id = person_id(&a, "shen.yue").await;
    let first = Client::sign_in(&b, "shen.yue").await.submit_leave().await;
    assert!(
        first.open_tasks_for(jiang_id).next().is_some(),
        "her manager decides first: {first:?}"
    );

    let sales = a
        .state
        .store
        .find_department_by_code("SALES")
        .await
        .unwrap()
        .unwrap()
        .id;
    let hr_on_a = Client::sign_in(&a, "li.wei").await;
    let (status, body) = hr_on_a
        .post(
            &format!("/v1/people/{shen_id}/transfer"),
            serde_json::json!({"department_id": sales, "manager_id": wang_id,
                               "roles": ["employee"], "positions": [],
                               "reason": "moves to sales"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    // The transfer ended her sessions; she signs in again on B.
    let second = Client::sign_in(&b, "shen.yue").await.submit_leave().await;
    assert!(
        second.open_tasks_for(wang_id).next().is_some(),
        "routed to her new manager: {second:?}"
    );
    assert!(second.open_tasks_for(jiang_id).next().is_none());
}
