//! The overdue scan (S9) and the job lock, on SQLite and on PostgreSQL: a task past its due
//! time is flagged once, with feed rows for its assignee and the initiator and an audit line;
//! a decided task never is; decisions are unaffected; one lock holder at a time.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use chrono::Duration as Span;
use countersign_api::requests::RequestView;
use countersign_server::jobs::{self, JobRun};
use countersign_server::settings::Settings;
use countersign_server::store::{self, Backend, Store};
use countersign_testkit::tuesday_morning;
use countersign_testkit::{TestApi, TestDb};
use serde_json::json;
use uuid::Uuid;

const PW: &str = countersign_server::seed::DEMO_PASSWORD;

countersign_testkit::both_backends!(
    a_task_past_its_due_time_is_flagged_once_for_its_assignee_and_initiator,
    a_task_decided_in_time_is_never_flagged,
    the_job_lock_has_one_holder_at_a_time,
);

async fn demo(backend: Backend) -> TestApi {
    let db = TestDb::of(backend).await;
    let api = TestApi::with(db, tuesday_morning(), Settings::default()).await;
    api.seed_demo().await;
    api
}

async fn person_id(api: &TestApi, username: &str) -> Uuid {
    api.store()
        .find_person_by_username(username)
        .await
        .unwrap()
        .unwrap()
        .id
}

async fn submit_leave(api: &TestApi, username: &str) -> RequestView {
    let token = api.token(username, PW).await;
    let answer = api
        .post(
            "/v1/requests",
            &token,
            json!({
                "template_id": "leave",
                "form": {
                    "leave_type": "annual",
                    "reason": "family visit",
                    "period": {"start": "2026-12-07", "end": "2026-12-08"}
                }
            }),
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    answer.json()
}

async fn approve(api: &TestApi, username: &str, request: &RequestView, task: u32) -> RequestView {
    let token = api.token(username, PW).await;
    let answer = api
        .post(
            &format!("/v1/requests/{}/actions", request.id),
            &token,
            json!({"action": {"kind": "approve", "task": task}, "expected_version": request.version}),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.json()
}

/// Feed rows of `person` after `after` that concern `request`.
async fn rows_about(store: &dyn Store, person: Uuid, after: i64, request: Uuid) -> usize {
    store
        .feed_after(person, after, 1000)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.kind == "request" && e.entity_id == request.to_string())
        .count()
}

async fn a_task_past_its_due_time_is_flagged_once_for_its_assignee_and_initiator(backend: Backend) {
    let api = demo(backend).await;
    let shen = person_id(&api, "shen.yue").await;
    let jiang = person_id(&api, "jiang.tao").await;
    let wang = person_id(&api, "wang.fang").await;
    let submitted = submit_leave(&api, "shen.yue").await;
    let task = submitted.open_tasks_for(jiang).next().unwrap();
    let due = submitted.state.task(task).unwrap().due_at.expect("an SLA");
    assert!(
        due > tuesday_morning() + Span::hours(8),
        "8 working hours reach into the next day"
    );

    api.clock
        .advance(due - tuesday_morning() - Span::seconds(1));
    assert_eq!(
        jobs::scan_overdue(&api.state).await.unwrap(),
        vec![],
        "a second before it is due, nothing is overdue"
    );

    let head = api.store().feed_head().await.unwrap();
    api.clock.advance(Span::seconds(1));
    let marks = jobs::scan_overdue(&api.state).await.unwrap();
    assert_eq!(marks.len(), 1, "due now: flagged");
    assert_eq!(marks[0].request_id, submitted.id);
    assert_eq!(marks[0].tasks, vec![task]);
    let mut expected = vec![shen, jiang];
    expected.sort();
    assert_eq!(
        marks[0].audiences, expected,
        "the assignee and the initiator"
    );
    assert_eq!(marks[0].last_seq, api.store().feed_head().await.unwrap());

    assert_eq!(
        jobs::scan_overdue(&api.state).await.unwrap(),
        vec![],
        "a flagged task is not flagged again"
    );
    for (who, rows) in [(shen, 1), (jiang, 1), (wang, 0)] {
        assert_eq!(
            rows_about(api.store().as_ref(), who, head, submitted.id).await,
            rows,
            "one feed row each for the assignee and the initiator, none for others"
        );
    }
    let audit = api.store().audit_lines(0, 100_000).await.unwrap();
    let flagged: Vec<_> = audit
        .iter()
        .filter(|l| l.entry.action == "request.overdue")
        .collect();
    assert_eq!(flagged.len(), 1);
    assert_eq!(flagged[0].entry.actor, "system");
    assert_eq!(
        flagged[0].entry.resource,
        format!("request:{}", submitted.id)
    );

    // Reads carry the flag; the engine's version is unchanged, so a decision made on the
    // version the approver saw still applies.
    let token = api.token("jiang.tao", PW).await;
    let read: RequestView = api
        .get(&format!("/v1/requests/{}", submitted.id), &token)
        .await
        .json();
    assert_eq!(read.overdue_tasks, vec![task]);
    assert_eq!(read.version, submitted.version);
    assert_eq!(
        read.overdue_tasks_for(jiang).collect::<Vec<_>>(),
        vec![task]
    );
    let approved = approve(&api, "jiang.tao", &submitted, task).await;
    assert_eq!(
        approved.overdue_tasks,
        vec![task],
        "the history keeps that it was late"
    );
    assert_eq!(
        approved.overdue_tasks_for(jiang).count(),
        0,
        "but nothing is waiting any more"
    );
}

async fn a_task_decided_in_time_is_never_flagged(backend: Backend) {
    let api = demo(backend).await;
    let jiang = person_id(&api, "jiang.tao").await;
    let submitted = submit_leave(&api, "shen.yue").await;
    let task = submitted.open_tasks_for(jiang).next().unwrap();
    api.clock.advance(Span::hours(1));
    approve(&api, "jiang.tao", &submitted, task).await;
    api.clock.advance(Span::days(5));
    assert_eq!(jobs::scan_overdue(&api.state).await.unwrap(), vec![]);
    assert_eq!(
        jobs::run_overdue_scan(&api.state).await.unwrap(),
        JobRun::Ran(vec![]),
        "the scan ran (nobody else holds its lock) and found nothing"
    );
}

async fn the_job_lock_has_one_holder_at_a_time(backend: Backend) {
    let db = TestDb::of(backend).await;
    let a = store::open(db.url()).await.unwrap();
    let b = store::open(db.url()).await.unwrap();
    let held = a
        .try_job_lock("demo")
        .await
        .unwrap()
        .expect("free at first");
    let other = b.try_job_lock("another job").await.unwrap();
    assert!(other.is_some(), "locks of different jobs are independent");
    drop(other);
    match backend {
        Backend::Sqlite => {
            // One process owns a SQLite file: every lock is granted.
            assert!(b.try_job_lock("demo").await.unwrap().is_some());
            held.release().await;
        }
        Backend::Postgres => {
            assert!(
                b.try_job_lock("demo").await.unwrap().is_none(),
                "another replica holds it"
            );
            held.release().await;
            let taken = b
                .try_job_lock("demo")
                .await
                .unwrap()
                .expect("released: the other replica gets it");
            // Dropped without release (a crashed job): its session is closed, so the lock
            // cannot linger in a pooled connection. The close happens in the background.
            drop(taken);
            let mut regained = None;
            tokio::time::timeout(Duration::from_secs(10), async {
                loop {
                    if let Some(lock) = a.try_job_lock("demo").await.unwrap() {
                        regained = Some(lock);
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            })
            .await
            .expect("a dropped lock is freed");
            regained.unwrap().release().await;
        }
    }
    a.close().await;
    b.close().await;
}
