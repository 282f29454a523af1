//! The storage conformance suite: every test runs against SQLite and against PostgreSQL, so
//! the two implementations of `Store` cannot drift apart.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use countersign_server::store::{
    self, AuditEntry, Department, EVERYONE, FeedRow, IssuedHashes, MutationRecord, Person,
    PersonStatus, RequestRecord, RequestWrite, SessionRecord, Store, StoreError, TemplateRecord,
    ThrottleState, WriteOutcome,
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
        id: 1,
        step: 0,
        step_id: "manager".into(),
        round: 1,
        lane: 0,
        seat: approver.id,
        assignee: approver.id,
        opened_at: t0(),
        due_at: Some(t0() + Duration::hours(8)),
        closed_at: None,
        closed_by: None,
        outcome: None,
        elapsed_secs: None,
        working_secs: None,
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
    let tasks = store.open_tasks_of(approver.id, 10).await.unwrap();
    assert_eq!((tasks.len(), tasks[0].task_no), (1, 1));

    // A write against a stale version changes nothing at all.
    let mut later = record.clone();
    later.state.revision = 2;
    later.title = "changed".into();
    let stale = RequestWrite {
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
