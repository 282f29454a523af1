//! The storage conformance suite: every test runs against SQLite and against PostgreSQL, so
//! the two implementations of `Store` cannot drift apart.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use countersign_server::store::{
    self, AuditEntry, Department, EVERYONE, FeedRow, IssuedHashes, MutationRecord, Person,
    PersonStatus, RequestRecord, RequestWrite, SessionRecord, Store, StoreError, TaskRecord,
    TemplateRecord, ThrottleState, WriteOutcome,
};
use countersign_testkit::TestDb;
use uuid::Uuid;

/// Expands one async test body into `sqlite` and `postgres` test functions.
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn sqlite() {
                    let db = countersign_testkit::TestDb::sqlite();
                    super::$name(&db).await;
                }

                #[tokio::test]
                async fn postgres() {
                    let db = countersign_testkit::TestDb::postgres().await;
                    super::$name(&db).await;
                }
            }
        )*
    };
}

conformance!(
    people_are_stored_and_found_by_name,
    a_taken_username_is_a_conflict,
    departments_have_codes_and_heads,
    a_refresh_token_rotates_exactly_once,
    revoked_sessions_leave_the_list,
    throttle_state_round_trips,
    the_audit_chain_links_every_line,
    an_edited_audit_line_breaks_the_chain,
    meta_values_are_upserted,
    a_request_write_is_atomic_and_versioned,
    the_feed_is_per_person_and_in_order,
    template_versions_are_kept_apart,
    a_request_before_many_people_is_written_whole,
    only_a_change_everyone_sees_moves_everyones_head,
    a_write_refused_for_a_concurrent_one_is_busy_and_retryable,
    request_writes_sent_at_once_are_each_answered_as_if_alone,
);

fn t0() -> DateTime<Utc> {
    // Whole microseconds: both databases keep microsecond precision.
    DateTime::from_timestamp(1_790_000_000, 123_456_000).unwrap()
}

async fn open(db: &TestDb) -> Arc<dyn Store> {
    store::open(db.url()).await.unwrap()
}

fn sys(action: &str) -> AuditEntry {
    AuditEntry::system(t0(), action, "test".into())
}

fn person(username: &str) -> Person {
    Person {
        id: Uuid::now_v7(),
        username: username.into(),
        display_name: format!("Display {username}"),
        email: None,
        department_id: None,
        manager_id: None,
        roles: vec!["employee".into(), "finance".into()],
        positions: vec!["finance_director".into()],
        status: PersonStatus::Active,
        password_hash: Some("$argon2id$stub".into()),
        created_at: t0(),
        last_sign_in_at: None,
        version: 1,
    }
}

fn session(person_id: Uuid, tag: u8, at: DateTime<Utc>) -> SessionRecord {
    SessionRecord {
        id: Uuid::now_v7(),
        person_id,
        device_name: format!("device {tag}"),
        source: Some("127.0.0.1".into()),
        created_at: at,
        last_seen_at: at,
        access_hash: vec![tag; 32],
        access_expires_at: at + Duration::minutes(15),
        refresh_hash: vec![tag.wrapping_add(100); 32],
        refresh_expires_at: at + Duration::days(30),
        revoked_at: None,
        revoked_reason: None,
    }
}

async fn people_are_stored_and_found_by_name(db: &TestDb) {
    let store = open(db).await;
    let mut p = person("li.wei");
    p.manager_id = None;
    store
        .insert_person(&p, &sys("person.create"))
        .await
        .unwrap();
    let by_name = store
        .find_person_by_username("li.wei")
        .await
        .unwrap()
        .unwrap();
    let by_id = store.find_person(p.id).await.unwrap().unwrap();
    assert_eq!(by_name, p, "every field survives the round trip");
    assert_eq!(by_id, p);
    assert!(
        store
            .find_person_by_username("nobody")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(store.count_people().await.unwrap(), 1);
}

async fn a_taken_username_is_a_conflict(db: &TestDb) {
    let store = open(db).await;
    store
        .insert_person(&person("wang.fang"), &sys("person.create"))
        .await
        .unwrap();
    let err = store
        .insert_person(&person("wang.fang"), &sys("person.create"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err:?}");
}

async fn departments_have_codes_and_heads(db: &TestDb) {
    let store = open(db).await;
    let head = person("qian.li");
    store
        .insert_person(&head, &sys("person.create"))
        .await
        .unwrap();
    let dept = Department {
        id: Uuid::now_v7(),
        code: "FIN".into(),
        name: "财务部 Finance".into(),
        parent_id: None,
        head_id: None,
        created_at: t0(),
        version: 1,
    };
    store
        .insert_department(&dept, &sys("department.create"))
        .await
        .unwrap();
    store
        .set_department_head(dept.id, head.id, &sys("department.head"))
        .await
        .unwrap();
    let found = store.find_department_by_code("FIN").await.unwrap().unwrap();
    assert_eq!(found.head_id, Some(head.id));
    assert_eq!(found.name, "财务部 Finance", "Chinese names survive");
    assert_eq!(store.find_department(dept.id).await.unwrap(), Some(found));
}

async fn a_refresh_token_rotates_exactly_once(db: &TestDb) {
    let store = open(db).await;
    let p = person("zhou.jie");
    store
        .insert_person(&p, &sys("person.create"))
        .await
        .unwrap();
    let s = session(p.id, 1, t0());
    store.insert_session(&s).await.unwrap();
    assert_eq!(
        store
            .find_person(p.id)
            .await
            .unwrap()
            .unwrap()
            .last_sign_in_at,
        Some(t0()),
        "opening a session records the sign-in"
    );
    let issued = IssuedHashes {
        access_hash: vec![2; 32],
        access_expires_at: t0() + Duration::minutes(30),
        refresh_hash: vec![3; 32],
        refresh_expires_at: t0() + Duration::days(31),
    };
    let later = t0() + Duration::minutes(14);
    assert!(
        store
            .rotate_session(s.id, &s.refresh_hash, &issued, later)
            .await
            .unwrap()
    );
    // A second rotation with the same (now spent) token must lose.
    let again = IssuedHashes {
        access_hash: vec![4; 32],
        refresh_hash: vec![5; 32],
        ..issued.clone()
    };
    assert!(
        !store
            .rotate_session(s.id, &s.refresh_hash, &again, later)
            .await
            .unwrap()
    );
    assert_eq!(
        store.find_spent_refresh(&s.refresh_hash).await.unwrap(),
        Some(s.id)
    );
    let current = store
        .find_session_by_refresh(&issued.refresh_hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(current.access_hash, issued.access_hash);
    assert_eq!(current.last_seen_at, later);
    let (by_access, owner) = store
        .find_session_by_access(&issued.access_hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        by_access, current,
        "the new access token finds the same session"
    );
    assert_eq!(
        Some(owner),
        store.find_person(p.id).await.unwrap(),
        "with its person, read whole"
    );
    assert!(
        store
            .find_session_by_access(&s.access_hash)
            .await
            .unwrap()
            .is_none(),
        "old access token is dead"
    );
}

async fn revoked_sessions_leave_the_list(db: &TestDb) {
    let store = open(db).await;
    let p = person("han.bing");
    store
        .insert_person(&p, &sys("person.create"))
        .await
        .unwrap();
    let a = session(p.id, 10, t0());
    let b = session(p.id, 20, t0() + Duration::seconds(1));
    store.insert_session(&a).await.unwrap();
    store.insert_session(&b).await.unwrap();
    let listed: Vec<Uuid> = store
        .list_sessions(p.id)
        .await
        .unwrap()
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(listed, vec![b.id, a.id], "newest first");
    assert!(
        store
            .revoke_session(a.id, "signed_out", t0())
            .await
            .unwrap()
    );
    assert!(
        !store
            .revoke_session(a.id, "signed_out", t0())
            .await
            .unwrap(),
        "only once"
    );
    let listed: Vec<Uuid> = store
        .list_sessions(p.id)
        .await
        .unwrap()
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(listed, vec![b.id]);
    let revoked = store.find_session(a.id).await.unwrap().unwrap();
    assert_eq!(revoked.revoked_reason.as_deref(), Some("signed_out"));
}

async fn throttle_state_round_trips(db: &TestDb) {
    let store = open(db).await;
    assert_eq!(store.load_throttle("account:x").await.unwrap(), None);
    let state = ThrottleState {
        failures: 5,
        window_started_at: t0(),
        locked_until: Some(t0() + Duration::seconds(30)),
    };
    store.save_throttle("account:x", &state).await.unwrap();
    let bumped = ThrottleState {
        failures: 6,
        ..state
    };
    store.save_throttle("account:x", &bumped).await.unwrap();
    assert_eq!(
        store.load_throttle("account:x").await.unwrap(),
        Some(bumped)
    );
    store.clear_throttle("account:x").await.unwrap();
    assert_eq!(store.load_throttle("account:x").await.unwrap(), None);
}

fn entry(i: i64) -> AuditEntry {
    AuditEntry {
        at: t0() + Duration::seconds(i),
        actor_id: None,
        actor: "anonymous".into(),
        action: "session.create".into(),
        resource: format!("account:user{i}"),
        outcome: "invalid_credentials".into(),
        source: Some("127.0.0.1".into()),
        device: Some("laptop".into()),
    }
}

async fn the_audit_chain_links_every_line(db: &TestDb) {
    let store = open(db).await;
    // Appends from many tasks at once must still form one unbroken chain.
    let mut tasks = Vec::new();
    for i in 0..40 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store.append_audit(&entry(i)).await.unwrap()
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let outcome = store::verify_audit_chain(store.as_ref()).await.unwrap();
    assert_eq!(outcome, Ok(40));
    let lines = store.audit_lines(0, 100).await.unwrap();
    let seqs: Vec<i64> = lines.iter().map(|l| l.seq).collect();
    assert_eq!(seqs, (1..=40).collect::<Vec<_>>());
    let last = lines.last().unwrap();
    assert_eq!(
        store.audit_head().await.unwrap(),
        (40, last.hash.clone()),
        "the head is the newest line"
    );
}

async fn an_edited_audit_line_breaks_the_chain(db: &TestDb) {
    let store = open(db).await;
    for i in 0..5 {
        store.append_audit(&entry(i)).await.unwrap();
    }
    store.close().await;
    // Someone with database access changes one character of line 3.
    let sql = "UPDATE audit_log SET outcome = 'ok' WHERE seq = 3";
    match db.backend() {
        store::Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(db.url()).await.unwrap();
            sqlx::query(sql).execute(&pool).await.unwrap();
            pool.close().await;
        }
        store::Backend::Postgres => {
            let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
            sqlx::query(sql).execute(&pool).await.unwrap();
            pool.close().await;
        }
    }
    let store = open(db).await;
    let broken = store::verify_audit_chain(store.as_ref())
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(broken.seq, 3, "{broken:?}");
}

async fn meta_values_are_upserted(db: &TestDb) {
    let store = open(db).await;
    assert_eq!(store.meta_get("k").await.unwrap(), None);
    store.meta_set("k", "1").await.unwrap();
    store.meta_set("k", "2").await.unwrap();
    assert_eq!(store.meta_get("k").await.unwrap().as_deref(), Some("2"));
}

fn leave_template(version: u32) -> TemplateRecord {
    let mut template = countersign_domain::templates::shipped("leave").unwrap();
    template.version = version;
    TemplateRecord {
        template,
        published_at: t0(),
        published_by: None,
        source_request: None,
        retired_at: None,
    }
}

/// An open task on `assignee`'s own seat, opened at `t0`, with no due time.
fn open_task(no: u32, step_id: &str, assignee: Uuid) -> countersign_domain::engine::Task {
    countersign_domain::engine::Task {
        id: no,
        step: 0,
        step_id: step_id.into(),
        round: 1,
        lane: 0,
        seat: assignee,
        assignee,
        opened_at: t0(),
        due_at: None,
        closed_at: None,
        closed_by: None,
        outcome: None,
        elapsed_secs: None,
        working_secs: None,
    }
}

/// A leave request (template version 1) in `state`, with an empty form, made at `t0`.
fn leave_request(state: countersign_domain::engine::RequestState, title: &str) -> RequestRecord {
    RequestRecord {
        id: state.request,
        template_id: "leave".into(),
        template_version: 1,
        initiator_id: state.initiator,
        title: title.into(),
        form: serde_json::json!({}),
        computed: serde_json::json!({}),
        state,
        created_at: t0(),
        updated_at: t0(),
        overdue_tasks: Vec::new(),
    }
}

fn feed_row(audience: Uuid, id: &str, version: i64) -> FeedRow {
    FeedRow {
        audience,
        kind: "request",
        entity_id: id.to_owned(),
        version,
        op: "upsert",
    }
}

async fn a_request_write_is_atomic_and_versioned(db: &TestDb) {
    let store = open(db).await;
    let initiator = person("shen.yue");
    let approver = person("jiang.tao");
    store
        .insert_person(&initiator, &sys("person.create"))
        .await
        .unwrap();
    store
        .insert_person(&approver, &sys("person.create"))
        .await
        .unwrap();
    store
        .publish_template(&leave_template(1), &[], &sys("template.publish"))
        .await
        .unwrap();

    let id = Uuid::now_v7();
    let mut state = countersign_domain::engine::RequestState::draft(id, initiator.id, t0());
    state.revision = 1;
    state.tasks.push(countersign_domain::engine::Task {
        due_at: Some(t0() + Duration::hours(8)),
        ..open_task(1, "manager", approver.id)
    });
    let record = RequestRecord {
        id,
        template_id: "leave".into(),
        template_version: 1,
        initiator_id: initiator.id,
        title: "请假：家事".into(),
        form: serde_json::json!({"reason": "家事"}),
        computed: serde_json::json!({"days": {"kind": "number", "value": "2"}}),
        state: state.clone(),
        created_at: t0(),
        updated_at: t0(),
        overdue_tasks: Vec::new(),
    };
    let mutation = MutationRecord {
        id: Uuid::now_v7(),
        person_id: initiator.id,
        kind: "submit_request".into(),
        status: "applied".into(),
        result: serde_json::json!({"ok": true}),
        created_at: t0(),
    };
    let write = RequestWrite {
        tasks: TaskRecord::of(&record.state),
        request: record.clone(),
        expected_version: None,
        participants: vec![initiator.id, approver.id],
        feed: vec![
            feed_row(initiator.id, &id.to_string(), 1),
            feed_row(approver.id, &id.to_string(), 1),
        ],
        audit: sys("request.submit"),
        mutation: Some(mutation.clone()),
    };
    let outcome = store.write_request(&write).await.unwrap();
    let WriteOutcome::Written { last_seq } = outcome else {
        panic!("written")
    };
    assert_eq!(
        store.find_request(id).await.unwrap(),
        Some(record.clone()),
        "round trip"
    );
    assert_eq!(
        store.find_mutation(mutation.id).await.unwrap(),
        Some(mutation.clone())
    );
    assert!(store.is_participant(id, approver.id).await.unwrap());
    assert!(!store.is_participant(id, Uuid::now_v7()).await.unwrap());
    assert_eq!(
        store.find_request_for(id, approver.id).await.unwrap(),
        Some((record.clone(), true)),
        "the approver takes part"
    );
    assert_eq!(
        store.find_request_for(id, Uuid::now_v7()).await.unwrap(),
        Some((record.clone(), false)),
        "a stranger gets the request and no part in it"
    );
    assert_eq!(
        store
            .find_request_for(Uuid::now_v7(), approver.id)
            .await
            .unwrap(),
        None
    );
    let read = store
        .read_for_decision(id, approver.id, Some(mutation.id))
        .await
        .unwrap()
        .expect("the request is there");
    assert_eq!(read.request, record);
    assert!(read.takes_part && read.mutation_seen, "{read:?}");
    let read = store
        .read_for_decision(id, Uuid::now_v7(), Some(Uuid::now_v7()))
        .await
        .unwrap()
        .expect("the request is there");
    assert!(!read.takes_part && !read.mutation_seen, "{read:?}");
    assert!(
        store
            .read_for_decision(Uuid::now_v7(), approver.id, None)
            .await
            .unwrap()
            .is_none()
    );
    let tasks = store.open_tasks_of(approver.id, 10).await.unwrap();
    assert_eq!((tasks.len(), tasks[0].task_no), (1, 1));

    // A write against a stale version changes nothing at all.
    let mut later = record.clone();
    later.state.revision = 2;
    later.title = "changed".into();
    let stale = RequestWrite {
        tasks: vec![],
        request: later.clone(),
        expected_version: Some(0),
        participants: vec![],
        feed: vec![feed_row(initiator.id, &id.to_string(), 2)],
        audit: sys("request.approve"),
        mutation: None,
    };
    assert_eq!(
        store.write_request(&stale).await.unwrap(),
        WriteOutcome::Stale
    );
    assert_eq!(
        store.find_request(id).await.unwrap().unwrap().title,
        "请假：家事"
    );
    assert_eq!(
        store.feed_head().await.unwrap(),
        last_seq,
        "no feed row from a stale write"
    );

    // The same mutation id again is a conflict, and nothing of that write lands.
    let replay = RequestWrite {
        expected_version: Some(1),
        mutation: Some(mutation),
        ..stale.clone()
    };
    assert!(matches!(
        store.write_request(&replay).await,
        Err(StoreError::Conflict { .. })
    ));
    assert_eq!(
        store.find_request(id).await.unwrap().unwrap().title,
        "请假：家事"
    );

    // The right version goes through; closing the task takes it off the pending list.
    later.state.tasks[0].outcome = Some(countersign_domain::engine::TaskOutcome::Approved);
    later.state.tasks[0].closed_at = Some(t0() + Duration::minutes(5));
    let good = RequestWrite {
        tasks: TaskRecord::of(&later.state),
        request: later,
        expected_version: Some(1),
        ..stale
    };
    assert!(matches!(
        store.write_request(&good).await.unwrap(),
        WriteOutcome::Written { .. }
    ));
    assert!(
        store
            .open_tasks_of(approver.id, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let found = store.find_requests(&[id, Uuid::now_v7()]).await.unwrap();
    assert_eq!((found.len(), found[0].title.as_str()), (1, "changed"));
    let started = store
        .requests_started_by(initiator.id, None, 10)
        .await
        .unwrap();
    assert_eq!(started.len(), 1);
    assert!(
        store
            .requests_started_by(initiator.id, Some(t0()), 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn the_feed_is_per_person_and_in_order(db: &TestDb) {
    let store = open(db).await;
    let a = person("a.person");
    let b = person("b.person");
    // Inserting people adds directory changes for everyone.
    store
        .insert_person(&a, &sys("person.create"))
        .await
        .unwrap();
    store
        .insert_person(&b, &sys("person.create"))
        .await
        .unwrap();
    let template = leave_template(1);
    let rows = [FeedRow {
        audience: EVERYONE,
        kind: "template",
        entity_id: "leave@1".into(),
        version: 1,
        op: "upsert",
    }];
    store
        .publish_template(&template, &rows, &sys("template.publish"))
        .await
        .unwrap();
    let for_a = store.feed_after(a.id, 0, 100).await.unwrap();
    let for_b = store.feed_after(b.id, 0, 100).await.unwrap();
    assert_eq!(for_a, for_b, "both see only everyone's changes so far");
    let kinds: Vec<&str> = for_a.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, vec!["person", "person", "template"]);
    assert!(for_a.windows(2).all(|w| w[0].seq < w[1].seq), "in order");
    let head = store.feed_head().await.unwrap();
    assert_eq!(head, for_a.last().unwrap().seq);
    let after = store.feed_after(a.id, for_a[0].seq, 1).await.unwrap();
    assert_eq!(after.len(), 1, "limit");
    assert_eq!(after[0].seq, for_a[1].seq, "resumes after the cursor");
}

/// A step every one of 1,500 people must sign: more tasks, participants and feed rows than
/// one multi-row statement carries, so the write is split, and still lands whole or not at all.
async fn a_request_before_many_people_is_written_whole(db: &TestDb) {
    let store = open(db).await;
    let initiator = person("shen.yue");
    store
        .insert_person(&initiator, &sys("person.create"))
        .await
        .unwrap();
    store
        .publish_template(&leave_template(1), &[], &sys("template.publish"))
        .await
        .unwrap();
    let signers: Vec<Uuid> = (0..1500).map(|_| Uuid::now_v7()).collect();
    let id = Uuid::now_v7();
    let mut state = countersign_domain::engine::RequestState::draft(id, initiator.id, t0());
    state.revision = 1;
    for (n, signer) in signers.iter().enumerate() {
        state.tasks.push(open_task(
            u32::try_from(n + 1).unwrap(),
            "everyone",
            *signer,
        ));
    }
    let record = leave_request(state, "全员会签");
    let everyone: Vec<Uuid> = std::iter::once(initiator.id)
        .chain(signers.iter().copied())
        .collect();
    let write = RequestWrite {
        tasks: TaskRecord::of(&record.state),
        request: record.clone(),
        expected_version: None,
        participants: everyone.clone(),
        feed: everyone
            .iter()
            .map(|p| feed_row(*p, &id.to_string(), 1))
            .collect(),
        audit: sys("request.submit"),
        mutation: None,
    };
    let WriteOutcome::Written { last_seq } = store.write_request(&write).await.unwrap() else {
        panic!("written")
    };
    assert_eq!(
        last_seq,
        store.feed_head().await.unwrap(),
        "the last row's number"
    );
    for signer in [signers[0], signers[999], signers[1000], signers[1499]] {
        assert!(store.is_participant(id, signer).await.unwrap());
        let tasks = store.open_tasks_of(signer, 10).await.unwrap();
        assert_eq!(tasks.len(), 1, "each signer has their task");
        assert_eq!(tasks[0].assignee_id, signer);
        let feed = store.feed_after(signer, 0, 10).await.unwrap();
        assert_eq!(feed.last().unwrap().entity_id, id.to_string());
    }
    assert_eq!(store.find_request(id).await.unwrap(), Some(record.clone()));

    // The last signer signs: an update of every task keeps the others open.
    let mut signed = record;
    signed.state.revision = 2;
    let last = signed.state.tasks.last_mut().unwrap();
    last.closed_at = Some(t0() + Duration::hours(1));
    last.outcome = Some(countersign_domain::engine::TaskOutcome::Approved);
    let update = RequestWrite {
        tasks: TaskRecord::of(&signed.state),
        request: signed,
        expected_version: Some(1),
        participants: everyone.clone(),
        feed: everyone
            .iter()
            .map(|p| feed_row(*p, &id.to_string(), 2))
            .collect(),
        audit: sys("request.approve"),
        mutation: None,
    };
    let WriteOutcome::Written { last_seq: after } = store.write_request(&update).await.unwrap()
    else {
        panic!("written")
    };
    assert!(after > last_seq);
    assert!(
        store
            .open_tasks_of(signers[1499], 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.open_tasks_of(signers[1498], 10).await.unwrap().len(),
        1
    );
    assert_eq!(
        store
            .feed_after(signers[1499], last_seq, 10)
            .await
            .unwrap()
            .len(),
        1
    );
}

/// The server keeps the organisation while this head stands: it moves with every directory
/// change and with nothing that only some people see.
async fn only_a_change_everyone_sees_moves_everyones_head(db: &TestDb) {
    let store = open(db).await;
    assert_eq!(store.everyone_head().await.unwrap(), 0, "an empty feed");
    store
        .publish_template(&leave_template(1), &[], &sys("template.publish"))
        .await
        .unwrap();
    let a = person("a.person");
    store
        .insert_person(&a, &sys("person.create"))
        .await
        .unwrap();
    let added = store.everyone_head().await.unwrap();
    assert!(added > 0);
    assert_eq!(added, store.feed_head().await.unwrap());

    let own = Uuid::now_v7();
    let mut state = countersign_domain::engine::RequestState::draft(own, a.id, t0());
    state.revision = 1;
    let write = RequestWrite {
        tasks: vec![],
        request: leave_request(state, "own"),
        expected_version: None,
        participants: vec![a.id],
        feed: vec![feed_row(a.id, &own.to_string(), 1)],
        audit: sys("request.submit"),
        mutation: None,
    };
    store.write_request(&write).await.unwrap();
    assert!(store.feed_head().await.unwrap() > added);
    assert_eq!(
        store.everyone_head().await.unwrap(),
        added,
        "one person's request leaves it"
    );

    let b = person("b.person");
    store
        .insert_person(&b, &sys("person.create"))
        .await
        .unwrap();
    assert_eq!(
        store.everyone_head().await.unwrap(),
        store.feed_head().await.unwrap(),
        "a new colleague moves it"
    );
    // A decision reads the same head with its request.
    let read = store
        .read_for_decision(own, a.id, None)
        .await
        .unwrap()
        .expect("the request is there");
    assert_eq!(read.everyone_head, store.everyone_head().await.unwrap());
    assert!(read.everyone_head > added);
}

async fn template_versions_are_kept_apart(db: &TestDb) {
    let store = open(db).await;
    store
        .publish_template(&leave_template(1), &[], &sys("template.publish"))
        .await
        .unwrap();
    store
        .publish_template(&leave_template(2), &[], &sys("template.publish"))
        .await
        .unwrap();
    let again = store
        .publish_template(&leave_template(2), &[], &sys("template.publish"))
        .await;
    assert!(
        matches!(again, Err(StoreError::Conflict { .. })),
        "a published version never changes"
    );
    assert_eq!(
        store
            .current_template("leave")
            .await
            .unwrap()
            .unwrap()
            .template
            .version,
        2
    );
    assert_eq!(
        store
            .find_template("leave", 1)
            .await
            .unwrap()
            .unwrap()
            .template
            .version,
        1
    );
    assert!(store.find_template("leave", 3).await.unwrap().is_none());
    assert_eq!(store.list_templates().await.unwrap().len(), 2);
}

// Accounts and organisation administration (S1, S3, S6, S13): activation secrets, person
// changes with their handovers, dormant accounts, approval effects and the audit query.

conformance!(
    an_activation_secret_opens_an_invited_account_once,
    a_person_change_is_all_or_nothing,
    dormant_people_count_sign_ins_and_session_activity,
    an_approval_writes_its_effects_in_its_transaction,
    the_audit_query_filters_and_pages,
);

fn invited(username: &str) -> Person {
    Person {
        status: PersonStatus::Invited,
        password_hash: None,
        roles: vec!["employee".into()],
        positions: vec![],
        ..person(username)
    }
}

fn activation(person_id: Uuid, tag: u8) -> store::ActivationRecord {
    store::ActivationRecord {
        person_id,
        secret_hash: vec![tag; 32],
        created_at: t0(),
        expires_at: t0() + Duration::days(7),
        used_at: None,
        request_id: None,
    }
}

async fn an_activation_secret_opens_an_invited_account_once(db: &TestDb) {
    use store::ActivationOutcome;
    let store = open(db).await;
    let newcomer = invited("e1024");
    let active = person("old.hand");
    for p in [&newcomer, &active] {
        store.insert_person(p, &sys("person.create")).await.unwrap();
    }
    let issued = activation(newcomer.id, 7);
    assert!(
        store
            .replace_activation(&issued, &sys("account.activation_reissue"))
            .await
            .unwrap()
    );
    assert_eq!(
        store.find_activation(newcomer.id).await.unwrap(),
        Some(issued.clone()),
        "round trip"
    );
    assert!(
        !store
            .replace_activation(
                &activation(active.id, 8),
                &sys("account.activation_reissue")
            )
            .await
            .unwrap(),
        "only an invited account gets a secret"
    );
    assert!(store.find_activation(active.id).await.unwrap().is_none());

    let try_at = |hash: Vec<u8>, at: DateTime<Utc>| {
        let store = store.clone();
        let id = newcomer.id;
        async move {
            store
                .activate_account(id, &hash, "$argon2id$new", at, &sys("account.activate"))
                .await
                .unwrap()
        }
    };
    let head = store.feed_head().await.unwrap();
    assert_eq!(
        try_at(vec![9; 32], t0()).await,
        ActivationOutcome::WrongSecret
    );
    assert_eq!(
        try_at(vec![7; 32], t0() + Duration::days(8)).await,
        ActivationOutcome::Expired
    );
    assert_eq!(
        store.feed_head().await.unwrap(),
        head,
        "refusals write nothing"
    );
    let ActivationOutcome::Activated { version, last_seq } =
        try_at(vec![7; 32], t0() + Duration::hours(1)).await
    else {
        panic!("the right secret in time activates");
    };
    assert_eq!(version, 2);
    assert_eq!(store.feed_head().await.unwrap(), last_seq);
    let now_active = store.find_person(newcomer.id).await.unwrap().unwrap();
    assert_eq!(now_active.status, PersonStatus::Active);
    assert_eq!(now_active.password_hash.as_deref(), Some("$argon2id$new"));
    assert_eq!(
        store
            .find_activation(newcomer.id)
            .await
            .unwrap()
            .unwrap()
            .used_at,
        Some(t0() + Duration::hours(1))
    );
    assert_eq!(
        try_at(vec![7; 32], t0() + Duration::hours(2)).await,
        ActivationOutcome::Used,
        "once only"
    );
    assert!(
        !store
            .replace_activation(
                &activation(newcomer.id, 9),
                &sys("account.activation_reissue")
            )
            .await
            .unwrap(),
        "an active account gets no new secret"
    );
}

/// A request of `initiator`'s whose one open task is `approver`'s, written at revision 1.
async fn request_waiting_for(
    store: &Arc<dyn Store>,
    initiator: &Person,
    approver: &Person,
) -> RequestRecord {
    let write = submission_waiting_for(initiator, approver, "请假");
    assert!(matches!(
        store.write_request(&write).await.unwrap(),
        WriteOutcome::Written { .. }
    ));
    write.request
}

/// The write that submits a request of `initiator`'s whose one open task is `approver`'s,
/// at revision 1.
fn submission_waiting_for(initiator: &Person, approver: &Person, title: &str) -> RequestWrite {
    let id = Uuid::now_v7();
    let mut state = countersign_domain::engine::RequestState::draft(id, initiator.id, t0());
    state.revision = 1;
    state.tasks.push(open_task(1, "manager", approver.id));
    let record = leave_request(state, title);
    RequestWrite {
        tasks: TaskRecord::of(&record.state),
        request: record,
        expected_version: None,
        participants: vec![initiator.id, approver.id],
        feed: vec![feed_row(approver.id, &id.to_string(), 1)],
        audit: sys("request.submit"),
        mutation: None,
    }
}

async fn a_person_change_is_all_or_nothing(db: &TestDb) {
    use store::PersonChangeOutcome;
    let store = open(db).await;
    let initiator = person("shen.yue");
    let leaver = person("jiang.tao");
    let heir = person("wei.dong");
    for p in [&initiator, &leaver, &heir] {
        store.insert_person(p, &sys("person.create")).await.unwrap();
    }
    store
        .insert_session(&session(leaver.id, 1, t0()))
        .await
        .unwrap();
    store
        .insert_session(&session(leaver.id, 2, t0()))
        .await
        .unwrap();
    store
        .publish_template(&leave_template(1), &[], &sys("template.publish"))
        .await
        .unwrap();
    let record = request_waiting_for(&store, &initiator, &leaver).await;
    let before = store.find_person(leaver.id).await.unwrap().unwrap();

    let mut handed = record.clone();
    handed.state.revision = 2;
    handed.state.tasks[0].outcome =
        Some(countersign_domain::engine::TaskOutcome::Transferred { to: heir.id });
    handed.state.tasks[0].closed_at = Some(t0() + Duration::hours(1));
    let mut reopened = handed.state.tasks[0].clone();
    reopened.id = 2;
    reopened.seat = heir.id;
    reopened.assignee = heir.id;
    reopened.outcome = None;
    reopened.closed_at = None;
    handed.state.tasks.push(reopened);
    let change = |request_version: i64| store::PersonChange {
        person_id: leaver.id,
        expected_version: 1,
        status: PersonStatus::Departed,
        department_id: None,
        manager_id: None,
        roles: vec![],
        positions: vec![],
        revoke_reason: "departed".into(),
        history: store::PersonnelChange {
            id: Uuid::now_v7(),
            kind: "departure".into(),
            reason: "resigned".into(),
            actor_id: None,
            details: serde_json::json!({"before": {}, "after": {}}),
        },
        at: t0() + Duration::hours(1),
        audit: sys("person.depart"),
        requests: vec![RequestWrite {
            tasks: TaskRecord::of(&handed.state),
            request: handed.clone(),
            expected_version: Some(request_version),
            participants: vec![initiator.id, leaver.id, heir.id],
            feed: vec![feed_row(heir.id, &record.id.to_string(), 2)],
            audit: sys("request.transfer"),
            mutation: None,
        }],
    };

    // One stale request and nothing at all happens: not the person, not the sessions.
    let feed_before = store.feed_head().await.unwrap();
    let audit_before = store.audit_head().await.unwrap();
    assert_eq!(
        store.change_person(&change(0)).await.unwrap(),
        PersonChangeOutcome::Stale
    );
    assert_eq!(store.find_person(leaver.id).await.unwrap().unwrap(), before);
    assert_eq!(store.list_sessions(leaver.id).await.unwrap().len(), 2);
    assert_eq!(store.open_tasks_of(leaver.id, 10).await.unwrap().len(), 1);
    assert_eq!(store.feed_head().await.unwrap(), feed_before);
    assert_eq!(
        store.audit_head().await.unwrap(),
        audit_before,
        "no audit line either"
    );

    let PersonChangeOutcome::Written {
        version,
        sessions_revoked,
        last_seq,
    } = store.change_person(&change(1)).await.unwrap()
    else {
        panic!("written");
    };
    assert_eq!((version, sessions_revoked), (2, 2));
    assert_eq!(store.feed_head().await.unwrap(), last_seq);
    let after = store.find_person(leaver.id).await.unwrap().unwrap();
    assert_eq!(after.status, PersonStatus::Departed);
    assert!(after.roles.is_empty() && after.positions.is_empty());
    assert_eq!(after.version, 2);
    assert!(store.list_sessions(leaver.id).await.unwrap().is_empty());
    let (revoked, owner) = store
        .find_session_by_access(&[1; 32])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(revoked.revoked_reason.as_deref(), Some("departed"));
    assert_eq!(
        owner, after,
        "the session is read with its person as they are now"
    );
    assert!(store.open_tasks_of(leaver.id, 10).await.unwrap().is_empty());
    assert_eq!(store.open_tasks_of(heir.id, 10).await.unwrap().len(), 1);
    assert!(store.is_participant(record.id, heir.id).await.unwrap());
    let feed = store.feed_after(heir.id, feed_before, 10).await.unwrap();
    assert!(feed.iter().any(|f| f.kind == "request" && f.version == 2));
    assert!(feed.iter().any(|f| f.kind == "person" && f.version == 2));

    // Planned on the person's old version: stale.
    assert_eq!(
        store.change_person(&change(2)).await.unwrap(),
        PersonChangeOutcome::Stale
    );
}

async fn dormant_people_count_sign_ins_and_session_activity(db: &TestDb) {
    let store = open(db).await;
    let cutoff = t0() + Duration::days(10);
    let never = person("never.in");
    let signed_in = Person {
        last_sign_in_at: Some(t0() + Duration::days(50)),
        ..person("signed.in")
    };
    let refreshing = person("refreshing");
    let stale_session = person("stale.session");
    let newcomer = Person {
        created_at: t0() + Duration::days(20),
        ..person("newcomer")
    };
    let disabled = Person {
        status: PersonStatus::Disabled,
        ..person("disabled")
    };
    let not_yet = invited("not.yet");
    for p in [
        &never,
        &signed_in,
        &refreshing,
        &stale_session,
        &newcomer,
        &disabled,
        &not_yet,
    ] {
        store.insert_person(p, &sys("person.create")).await.unwrap();
    }
    // Signed in on day 1 and still using the session on day 60, without signing in again.
    let live = session(refreshing.id, 1, t0() + Duration::days(1));
    store.insert_session(&live).await.unwrap();
    store
        .touch_session(live.id, t0() + Duration::days(60))
        .await
        .unwrap();
    store
        .insert_session(&session(stale_session.id, 2, t0() + Duration::days(1)))
        .await
        .unwrap();
    store
        .publish_template(&leave_template(1), &[], &sys("template.publish"))
        .await
        .unwrap();
    let _ = request_waiting_for(&store, &signed_in, &never).await;

    let dormant = store.dormant_people(cutoff).await.unwrap();
    let names: Vec<&str> = dormant.iter().map(|d| d.person.username.as_str()).collect();
    assert_eq!(names, vec!["never.in", "stale.session"], "by user name");
    assert_eq!(dormant[0].last_seen_at, None);
    assert_eq!(dormant[0].open_tasks, 1);
    assert_eq!(
        dormant[1].last_seen_at,
        Some(t0() + Duration::days(1)),
        "the latest session activity"
    );
    assert_eq!(dormant[1].open_tasks, 0);
}

async fn an_approval_writes_its_effects_in_its_transaction(db: &TestDb) {
    use store::{ApprovalEffect, OpenAccount, ProposalRecord, PublishProposal};
    let store = open(db).await;
    let initiator = person("jiang.tao");
    let approver = person("zheng.yu");
    for p in [&initiator, &approver] {
        store.insert_person(p, &sys("person.create")).await.unwrap();
    }
    store
        .publish_template(&leave_template(1), &[], &sys("template.publish"))
        .await
        .unwrap();
    let record = request_waiting_for(&store, &initiator, &approver).await;
    let step = |expected: i64| {
        let mut next = record.clone();
        next.state.revision = u64::try_from(expected + 1).unwrap();
        RequestWrite {
            tasks: vec![],
            request: next,
            expected_version: Some(expected),
            participants: vec![],
            feed: vec![feed_row(initiator.id, &record.id.to_string(), expected + 1)],
            audit: sys("request.approve"),
            mutation: None,
        }
    };

    let newcomer = invited("e1024");
    let open_account = ApprovalEffect::OpenAccount(OpenAccount {
        person: newcomer.clone(),
        activation: activation(newcomer.id, 3),
        audits: vec![sys("account.open")],
    });
    let written = store
        .write_request_with(&step(1), std::slice::from_ref(&open_account))
        .await
        .unwrap();
    assert!(matches!(written, WriteOutcome::Written { .. }));
    assert_eq!(
        store.find_person(newcomer.id).await.unwrap().unwrap(),
        newcomer,
        "opened with the approval"
    );
    assert!(store.find_activation(newcomer.id).await.unwrap().is_some());

    // The same account again (the user name is taken): the approval does not stand either.
    let again = store.write_request_with(&step(2), &[open_account]).await;
    assert!(
        matches!(again, Err(StoreError::Conflict { .. })),
        "{again:?}"
    );
    let stored = store.find_request(record.id).await.unwrap().unwrap();
    assert_eq!(stored.state.revision, 2, "rolled back with its effect");

    let proposal = ProposalRecord {
        id: Uuid::now_v7(),
        template: leave_template(2).template,
        proposed_by: initiator.id,
        proposed_at: t0(),
        status: "proposed".into(),
        request_id: None,
        published_at: None,
    };
    store
        .insert_proposal(&proposal, &sys("template.propose"))
        .await
        .unwrap();
    assert_eq!(
        store.find_proposal(proposal.id).await.unwrap(),
        Some(proposal.clone()),
        "round trip"
    );
    let publish = ApprovalEffect::PublishTemplate(PublishProposal {
        proposal_id: proposal.id,
        request_id: record.id,
        template: TemplateRecord {
            source_request: Some(record.id),
            published_by: Some(initiator.id),
            ..leave_template(2)
        },
        feed: vec![FeedRow {
            audience: EVERYONE,
            kind: "template",
            entity_id: "leave@2".into(),
            version: 2,
            op: "upsert",
        }],
        audits: vec![sys("template.publish")],
    });
    let WriteOutcome::Written { last_seq } = store
        .write_request_with(&step(2), std::slice::from_ref(&publish))
        .await
        .unwrap()
    else {
        panic!("written");
    };
    assert_eq!(store.feed_head().await.unwrap(), last_seq);
    let published = store.find_template("leave", 2).await.unwrap().unwrap();
    assert_eq!(published.source_request, Some(record.id));
    let marked = store.find_proposal(proposal.id).await.unwrap().unwrap();
    assert_eq!(
        (marked.status.as_str(), marked.request_id),
        ("published", Some(record.id))
    );

    // A proposal is published once.
    let twice = store.write_request_with(&step(3), &[publish]).await;
    assert!(
        matches!(twice, Err(StoreError::Conflict { .. })),
        "{twice:?}"
    );
    assert_eq!(
        store
            .find_request(record.id)
            .await
            .unwrap()
            .unwrap()
            .state
            .revision,
        3
    );
}

async fn the_audit_query_filters_and_pages(db: &TestDb) {
    use store::{AuditQuery, TextFilter};
    let store = open(db).await;
    for (actor, action, resource) in [
        ("ann", "session.create", "session:1"),
        ("bob", "session.refresh", "session:1"),
        ("ann", "request.read", "request:9"),
        ("bob", "session", "people"),
        ("ann", "session.revoke", "session:2"),
    ] {
        store
            .append_audit(&AuditEntry {
                at: t0(),
                actor_id: None,
                actor: actor.into(),
                action: action.into(),
                resource: resource.into(),
                outcome: "ok".into(),
                source: None,
                device: None,
            })
            .await
            .unwrap();
    }
    let query = |q: AuditQuery| {
        let store = store.clone();
        async move {
            store
                .query_audit(&AuditQuery { limit: 100, ..q })
                .await
                .unwrap()
                .into_iter()
                .map(|r| r.seq)
                .collect::<Vec<i64>>()
        }
    };
    assert_eq!(query(AuditQuery::default()).await, vec![1, 2, 3, 4, 5]);
    let page = store
        .query_audit(&AuditQuery {
            after: 1,
            limit: 2,
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(page.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![2, 3]);
    let all = store.audit_lines(0, 10).await.unwrap();
    assert_eq!(page[0], all[1], "the same lines, hashes and all");
    let actor = |a: &str| Some(a.to_owned());
    let exact = |s: &str| Some(TextFilter::Exact(s.into()));
    let prefix = |s: &str| Some(TextFilter::Prefix(s.into()));
    let q = |actor, action, resource| AuditQuery {
        actor,
        action,
        resource,
        ..AuditQuery::default()
    };
    assert_eq!(query(q(actor("ann"), None, None)).await, vec![1, 3, 5]);
    assert_eq!(
        query(q(None, prefix("session."), None)).await,
        vec![1, 2, 5]
    );
    assert_eq!(query(q(None, exact("session"), None)).await, vec![4]);
    assert_eq!(query(q(None, None, exact("session:1"))).await, vec![1, 2]);
    assert_eq!(query(q(None, None, prefix("request:"))).await, vec![3]);
    assert_eq!(
        query(q(actor("ann"), prefix("session."), None)).await,
        vec![1, 5]
    );
    assert!(
        query(q(None, prefix("session%"), None)).await.is_empty(),
        "no wildcards"
    );
    let (seq, hash) = store.audit_head().await.unwrap();
    assert_eq!((seq, hash), (5, all[4].hash.clone()));
}

// Writers of every kind at once: what the audit head, taken last by every write, must still
// guarantee once writers no longer run one at a time.

conformance!(writers_of_every_kind_at_once_keep_the_chain_and_the_feed);

/// How often one writer plans again after a stale write before the test calls it stuck.
const MAX_REPLANS: usize = 10_000;

/// 32 writers comment on 16 requests that share their initiator and approvers, while two
/// departures hand on overlapping sets of those requests, two overdue scans race over them and
/// new people join. No write may fail: on PostgreSQL, a writer that locked a request after
/// taking the audit head would deadlock with one holding that request and waiting for the head
/// (40P01). The chain must verify with one gapless line per write, and the initiator's feed,
/// read as a client reads it while the writes go on, must hold every change exactly once, in
/// commit order.
async fn writers_of_every_kind_at_once_keep_the_chain_and_the_feed(db: &TestDb) {
    use countersign_domain::engine::{RequestState, Task, TaskOutcome};
    use std::collections::BTreeMap;
    use std::sync::atomic::{AtomicBool, Ordering};
    use store::{PersonChange, PersonChangeOutcome, PersonnelChange};

    let store = open(db).await;
    let initiator = person("shen.yue");
    let heir = person("wei.dong");
    let approvers: Vec<Person> = (0..4).map(|i| person(&format!("approver{i}"))).collect();
    let leavers: Vec<Person> = (0..2).map(|i| person(&format!("leaver{i}"))).collect();
    for p in [&initiator, &heir]
        .into_iter()
        .chain(&approvers)
        .chain(&leavers)
    {
        store.insert_person(p, &sys("person.create")).await.unwrap();
    }
    store
        .publish_template(&leave_template(1), &[], &sys("template.publish"))
        .await
        .unwrap();

    // Each request waits for an approver (overdue on the even ones) and for leaver 0 (requests
    // 0..12) or leaver 1 (4..16) or both, so the two departures overlap on requests 4..12.
    let mut requests = Vec::new();
    for k in 0..16usize {
        let id = Uuid::now_v7();
        let mut state = RequestState::draft(id, initiator.id, t0());
        state.revision = 1;
        let approver = approvers[k % 4].id;
        state.tasks.push(Task {
            due_at: (k % 2 == 0).then(|| t0() - Duration::hours(1)),
            ..open_task(1, "manager", approver)
        });
        let mut participants = vec![initiator.id, approver];
        for (i, leaver) in leavers.iter().enumerate() {
            if (i == 0 && k < 12) || (i == 1 && k >= 4) {
                let no = u32::try_from(state.tasks.len() + 1).unwrap();
                state.tasks.push(open_task(no, "manager", leaver.id));
                participants.push(leaver.id);
            }
        }
        let write = RequestWrite {
            tasks: TaskRecord::of(&state),
            request: leave_request(state, "请假"),
            expected_version: None,
            participants,
            feed: vec![feed_row(initiator.id, &id.to_string(), 1)],
            audit: sys("request.submit"),
            mutation: None,
        };
        assert!(matches!(
            store.write_request(&write).await.unwrap(),
            WriteOutcome::Written { .. }
        ));
        requests.push(id);
    }
    let cursor = store.feed_head().await.unwrap();
    let (audit_before, _) = store.audit_head().await.unwrap();

    let store = &store;
    let requests = &requests;
    let (initiator, heir) = (&initiator, &heir);
    let approvers = &approvers;

    // A comment: the request as it is now, one revision on, with a mutation answer and a feed
    // row for the initiator and the approver. Evaluates to the (request, version) written.
    let comment = |writer: usize, round: usize| async move {
        let k = (writer * 5 + round * 3) % requests.len();
        let id = requests[k];
        for _ in 0..MAX_REPLANS {
            let mut next = store.find_request(id).await.unwrap().unwrap();
            let expected = next.version();
            next.state.revision += 1;
            next.updated_at = t0() + Duration::minutes(1);
            let write = RequestWrite {
                tasks: vec![],
                request: next,
                expected_version: Some(expected),
                participants: vec![],
                feed: vec![
                    feed_row(initiator.id, &id.to_string(), expected + 1),
                    feed_row(approvers[k % 4].id, &id.to_string(), expected + 1),
                ],
                audit: sys("request.comment"),
                mutation: Some(MutationRecord {
                    id: Uuid::now_v7(),
                    person_id: initiator.id,
                    kind: "comment".into(),
                    status: "applied".into(),
                    result: serde_json::json!({"ok": true}),
                    created_at: t0(),
                }),
            };
            if let WriteOutcome::Written { .. } = store.write_request(&write).await.unwrap() {
                return (id, expected + 1);
            }
        }
        panic!("writer {writer} stayed stale on request {k}");
    };
    let commenter = |writer: usize| async move {
        let mut written = Vec::new();
        for round in 0..4 {
            written.push(comment(writer, round).await);
        }
        written
    };

    // A departure: the leaver's open tasks handed to the heir on every request that holds one,
    // planned again whenever a comment got to one of those requests first. Evaluates to the
    // (request, version)s written.
    let depart = |leaver: &Person| {
        let leaver = leaver.id;
        async move {
            for _ in 0..MAX_REPLANS {
                let person = store.find_person(leaver).await.unwrap().unwrap();
                let held = store.open_tasks_of(leaver, 100).await.unwrap();
                let ids: Vec<Uuid> = held.iter().map(|t| t.request_id).collect();
                let mut writes = Vec::new();
                for record in store.find_requests(&ids).await.unwrap() {
                    let expected = record.version();
                    let mut next = record;
                    next.state.revision += 1;
                    let mut handed = Vec::new();
                    for task in next.state.tasks.iter_mut() {
                        if task.assignee == leaver && task.is_open() {
                            task.outcome = Some(TaskOutcome::Transferred { to: heir.id });
                            task.closed_at = Some(t0() + Duration::hours(1));
                            handed.push(task.step_id.clone());
                        }
                    }
                    for step in handed {
                        let no = u32::try_from(next.state.tasks.len() + 1).unwrap();
                        next.state.tasks.push(open_task(no, &step, heir.id));
                    }
                    let entity = next.id.to_string();
                    writes.push(RequestWrite {
                        tasks: TaskRecord::of(&next.state),
                        request: next,
                        expected_version: Some(expected),
                        participants: vec![heir.id],
                        feed: vec![
                            feed_row(initiator.id, &entity, expected + 1),
                            feed_row(heir.id, &entity, expected + 1),
                        ],
                        audit: sys("request.transfer"),
                        mutation: None,
                    });
                }
                let change = PersonChange {
                    person_id: leaver,
                    expected_version: person.version,
                    status: PersonStatus::Departed,
                    department_id: None,
                    manager_id: None,
                    roles: vec![],
                    positions: vec![],
                    revoke_reason: "departed".into(),
                    history: PersonnelChange {
                        id: Uuid::now_v7(),
                        kind: "departure".into(),
                        reason: "resigned".into(),
                        actor_id: None,
                        details: serde_json::json!({}),
                    },
                    at: t0() + Duration::hours(1),
                    audit: sys("person.depart"),
                    requests: writes,
                };
                match store.change_person(&change).await.unwrap() {
                    PersonChangeOutcome::Written { version, .. } => {
                        let written: Vec<(Uuid, i64)> = change
                            .requests
                            .iter()
                            .map(|w| (w.request.id, w.request.version()))
                            .collect();
                        return (leaver, version, written);
                    }
                    PersonChangeOutcome::Stale => tokio::task::yield_now().await,
                }
            }
            panic!("the departure of {leaver} stayed stale");
        }
    };

    // The overdue scan over the even requests; two at once, so each mark races another.
    let scan = || async move {
        let mut marked = Vec::new();
        for id in requests.iter().step_by(2) {
            if let Some(mark) = store
                .mark_overdue(*id, t0(), &sys("task.overdue"))
                .await
                .unwrap()
            {
                marked.push(mark.request_id);
            }
        }
        marked
    };

    let join = |i: usize| async move {
        let newcomer = person(&format!("newcomer{i}"));
        store
            .insert_person(&newcomer, &sys("person.create"))
            .await
            .unwrap();
        newcomer.id
    };

    // The initiator's client, pulling after its cursor while the writers write, and once more
    // after they are done.
    let done = AtomicBool::new(false);
    let reader = async {
        let mut seen = Vec::new();
        let mut after = cursor;
        loop {
            let finished = done.load(Ordering::SeqCst);
            let page = store.feed_after(initiator.id, after, 500).await.unwrap();
            if page.is_empty() && finished {
                return seen;
            }
            if let Some(last) = page.last() {
                after = last.seq;
            }
            seen.extend(page);
            tokio::task::yield_now().await;
        }
    };
    let writers = async {
        let written = tokio::join!(
            futures::future::join_all((0..32).map(commenter)),
            futures::future::join_all(leavers.iter().map(depart)),
            scan(),
            scan(),
            futures::future::join_all((0..6).map(join)),
        );
        done.store(true, Ordering::SeqCst);
        written
    };
    let ((comments, departures, marks_a, marks_b, newcomers), seen) = tokio::join!(writers, reader);

    let comments: Vec<(Uuid, i64)> = comments.into_iter().flatten().collect();
    let marks: Vec<Uuid> = marks_a.into_iter().chain(marks_b).collect();
    assert_eq!(marks.len(), 8, "each even request marked once: {marks:?}");

    // One audit line per write, gapless, and the chain whole.
    let lines = comments.len()
        + departures
            .iter()
            .map(|(_, _, w)| 1 + w.len())
            .sum::<usize>()
        + marks.len()
        + newcomers.len();
    let (head, _) = store.audit_head().await.unwrap();
    assert_eq!(head, audit_before + i64::try_from(lines).unwrap());
    assert_eq!(
        store::verify_audit_chain(store.as_ref()).await.unwrap(),
        Ok(head),
        "every line present and linked"
    );

    // The client missed nothing by reading while the writes went on: its pulls add up to the
    // feed read at the end, in strictly increasing order.
    let feed = store
        .feed_after(initiator.id, cursor, 10_000)
        .await
        .unwrap();
    assert!(feed.windows(2).all(|w| w[0].seq < w[1].seq), "in order");
    assert_eq!(seen, feed, "pulled while writing = read at the end");

    // Each request: every version written (2, 3, ... its last, with no gap, since each write
    // was planned on the one before) appears once, in the order written; a mark adds one row
    // at the version it saw. The people: the newcomers and the two departures.
    let mut written: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for (id, version) in comments
        .iter()
        .chain(departures.iter().flat_map(|(_, _, w)| w))
    {
        written.entry(id.to_string()).or_default().push(*version);
    }
    let mut in_feed: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    let mut people: Vec<(String, i64)> = Vec::new();
    for row in &feed {
        match row.kind.as_str() {
            "request" => in_feed
                .entry(row.entity_id.clone())
                .or_default()
                .push(row.version),
            "person" => people.push((row.entity_id.clone(), row.version)),
            other => panic!("no {other} was written"),
        }
    }
    for id in requests {
        let key = id.to_string();
        let last = store.find_request(*id).await.unwrap().unwrap().version();
        let mut versions = written.remove(&key).unwrap_or_default();
        versions.sort_unstable();
        assert_eq!(versions, (2..=last).collect::<Vec<_>>(), "request {key}");
        let rows = in_feed.remove(&key).unwrap_or_default();
        assert!(
            rows.windows(2).all(|w| w[0] <= w[1]),
            "request {key}: versions in commit order, {rows:?}"
        );
        let mut rest = rows.clone();
        for v in &versions {
            let at = rest.iter().position(|r| r == v);
            rest.remove(at.unwrap_or_else(|| panic!("request {key}: version {v} in {rows:?}")));
        }
        let marked = marks.iter().filter(|m| *m == id).count();
        assert_eq!(
            rest.len(),
            marked,
            "request {key}: one row per write and mark"
        );
        assert!(rest.iter().all(|v| *v == 1 || versions.contains(v)));
    }
    assert!(in_feed.is_empty(), "rows only for the requests");
    let mut expected: Vec<(String, i64)> = newcomers.iter().map(|id| (id.to_string(), 1)).collect();
    expected.extend(departures.iter().map(|(id, v, _)| (id.to_string(), *v)));
    expected.sort();
    people.sort();
    assert_eq!(people, expected, "the directory rows everyone sees");
}

/// A transaction the database gives up on because of another one at the same time (a
/// deadlock's victim on PostgreSQL, the write lock taken on SQLite) is `Busy`, answered as
/// "unavailable, try again" rather than as an internal error: nothing of it was written.
async fn a_write_refused_for_a_concurrent_one_is_busy_and_retryable(db: &TestDb) {
    use countersign_server::error::Error;
    use sqlx::Connection as _;

    let refused = match db.backend() {
        store::Backend::Sqlite => {
            let options = sqlx::sqlite::SqliteConnectOptions::new()
                .filename(db.sqlite_path().unwrap())
                .create_if_missing(true)
                .busy_timeout(std::time::Duration::ZERO);
            let mut a = sqlx::SqliteConnection::connect_with(&options)
                .await
                .unwrap();
            let mut b = sqlx::SqliteConnection::connect_with(&options)
                .await
                .unwrap();
            sqlx::raw_sql("BEGIN IMMEDIATE")
                .execute(&mut a)
                .await
                .unwrap();
            sqlx::raw_sql("BEGIN IMMEDIATE")
                .execute(&mut b)
                .await
                .unwrap_err()
        }
        store::Backend::Postgres => {
            let mut a = sqlx::PgConnection::connect(db.url()).await.unwrap();
            let mut b = sqlx::PgConnection::connect(db.url()).await.unwrap();
            sqlx::raw_sql(
                "CREATE TABLE contended (id INT PRIMARY KEY, n INT NOT NULL); \
                 INSERT INTO contended VALUES (1, 0), (2, 0)",
            )
            .execute(&mut a)
            .await
            .unwrap();
            // Each takes one row, then wants the other's: PostgreSQL ends one of the two.
            sqlx::raw_sql("BEGIN; UPDATE contended SET n = n + 1 WHERE id = 1")
                .execute(&mut a)
                .await
                .unwrap();
            sqlx::raw_sql("BEGIN; UPDATE contended SET n = n + 1 WHERE id = 2")
                .execute(&mut b)
                .await
                .unwrap();
            let (first, second) = tokio::join!(
                sqlx::raw_sql("UPDATE contended SET n = n + 1 WHERE id = 2").execute(&mut a),
                sqlx::raw_sql("UPDATE contended SET n = n + 1 WHERE id = 1").execute(&mut b),
            );
            match (first, second) {
                (Err(e), Ok(_)) | (Ok(_), Err(e)) => e,
                other => panic!("one of the two must be the deadlock's victim: {other:?}"),
            }
        }
    };
    let error = StoreError::from(refused);
    assert!(matches!(error, StoreError::Busy(_)), "{error:?}");
    assert_eq!(
        Error::Store(error).code(),
        countersign_api::ErrorCode::Unavailable,
        "answered as try again, not as an internal error"
    );
}

/// Request writes arriving together are committed in batches (one transaction for many); each
/// must still be answered as if it had been written alone: a stale one changes nothing, a
/// reused mutation id is a conflict that lands nothing, of two writes from one version the
/// first queued wins, and every written one has its audit line and feed rows.
async fn request_writes_sent_at_once_are_each_answered_as_if_alone(db: &TestDb) {
    let store = open(db).await;
    let initiator = person("shen.yue");
    let approver = person("jiang.tao");
    for p in [&initiator, &approver] {
        store.insert_person(p, &sys("person.create")).await.unwrap();
    }
    store
        .publish_template(&leave_template(1), &[], &sys("template.publish"))
        .await
        .unwrap();
    let submit = |title: String| submission_waiting_for(&initiator, &approver, &title);
    let mutation = |kind: &str| MutationRecord {
        id: Uuid::now_v7(),
        person_id: approver.id,
        kind: kind.into(),
        status: "applied".into(),
        result: serde_json::json!({"ok": true}),
        created_at: t0(),
    };
    // The first submission is a client's mutation, answered before the burst below.
    let earlier = mutation("submit_request");
    let mut requests = Vec::new();
    for i in 0..24 {
        let mut write = submit(format!("请假 {i}"));
        if i == 0 {
            write.mutation = Some(earlier.clone());
        }
        store.write_request(&write).await.unwrap();
        requests.push(write.request);
    }
    let approve = |record: &RequestRecord, from: i64, m: Option<MutationRecord>| {
        let mut next = record.clone();
        next.state.revision = 2;
        next.title = format!("{} ✓", record.title);
        next.state.tasks[0].outcome = Some(countersign_domain::engine::TaskOutcome::Approved);
        next.state.tasks[0].closed_at = Some(t0() + Duration::minutes(1));
        RequestWrite {
            tasks: TaskRecord::of(&next.state),
            expected_version: Some(from),
            participants: vec![],
            feed: vec![feed_row(initiator.id, &record.id.to_string(), 2)],
            audit: sys("request.approve"),
            mutation: m,
            request: next,
        }
    };
    let head_before = store.feed_head().await.unwrap();

    // Every request approved once, each with its own mutation, in three groups written
    // together: the first with a write from a version long gone, the second with a second
    // approval of one of its requests from the same version, the third with a new request
    // that reuses the first submission's mutation id.
    let mut writes: Vec<RequestWrite> = requests
        .iter()
        .map(|r| approve(r, r.version(), Some(mutation("act_on_request"))))
        .collect();
    let n = requests.len();
    let stale = approve(&requests[8], 0, None);
    let rival = approve(&requests[10], requests[10].version(), None);
    let mut reused = submit("重复的变更".into());
    reused.mutation = Some(earlier);
    let groups = [
        [&writes[0..8], std::slice::from_ref(&stale)].concat(),
        [&writes[8..16], std::slice::from_ref(&rival)].concat(),
        [&writes[16..n], std::slice::from_ref(&reused)].concat(),
    ];
    let mut answers = Vec::new();
    for group in &groups {
        answers.push(store.write_requests(group).await);
    }

    let written_at = |answers: &[store::Result<WriteOutcome>]| -> Vec<i64> {
        answers
            .iter()
            .map(|a| match a {
                Ok(WriteOutcome::Written { last_seq }) => *last_seq,
                other => panic!("an approval: {other:?}"),
            })
            .collect()
    };
    // The first group: one transaction, the stale write in it answered as stale.
    let first = written_at(&answers[0][..8]);
    assert!(
        first.iter().all(|seq| *seq == first[0]),
        "committed together, the writes share their last feed row: {first:?}"
    );
    assert_eq!(
        answers[0][8].as_ref().ok(),
        Some(&WriteOutcome::Stale),
        "stale"
    );
    // The second: the approval queued first wins, the other from the same version is stale.
    let second = written_at(&answers[1][..8]);
    assert!(second.iter().all(|seq| *seq == second[0]), "{second:?}");
    assert_eq!(
        answers[1][8].as_ref().ok(),
        Some(&WriteOutcome::Stale),
        "the second approval from one version"
    );
    // The third: the reused id fails its batch, whose writes are then made one by one.
    written_at(&answers[2][..n - 16]);
    assert!(
        matches!(answers[2][n - 16], Err(StoreError::Conflict { .. })),
        "a reused mutation id: {:?}",
        answers[2][n - 16]
    );
    assert_eq!(store.find_request(reused.request.id).await.unwrap(), None);
    let answers: Vec<store::Result<WriteOutcome>> = answers
        .into_iter()
        .zip(&groups)
        .flat_map(|(answers, group)| answers.into_iter().take(group.len() - 1))
        .collect();
    writes.truncate(n);

    for r in &requests {
        let stored = store.find_request(r.id).await.unwrap().unwrap();
        assert_eq!(stored.title, format!("{} ✓", r.title));
    }
    for (w, answer) in writes.iter().zip(&answers).take(n) {
        let m = w.mutation.as_ref().unwrap();
        let stored = store.find_mutation(m.id).await.unwrap();
        if matches!(answer, Ok(WriteOutcome::Written { .. })) {
            assert_eq!(
                stored.as_ref(),
                Some(m),
                "a written change keeps its answer"
            );
        } else {
            assert_eq!(stored, None, "a stale write leaves no answer behind");
        }
    }
    assert!(
        store
            .open_tasks_of(approver.id, 100)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.feed_head().await.unwrap() - head_before,
        i64::try_from(n).unwrap(),
        "one feed row per written approval, none from the others"
    );
    // 2 people, 1 template, 24 submissions, 24 approvals: one line each.
    assert_eq!(
        store::verify_audit_chain(store.as_ref()).await.unwrap(),
        Ok(2 + 1 + 24 + 24)
    );

    // With the database out of reach, every write waiting is told so at once.
    store.close().await;
    let late: Vec<RequestWrite> = (0..8).map(|i| submit(format!("关闭后 {i}"))).collect();
    let answers = futures::future::join_all(late.iter().map(|w| store.write_request(w))).await;
    for answer in answers {
        assert!(
            matches!(answer, Err(StoreError::Unavailable(_))),
            "{answer:?}"
        );
    }
}
