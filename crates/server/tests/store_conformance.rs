//! The storage conformance suite: every test runs against SQLite and against PostgreSQL, so
//! the two implementations of `Store` cannot drift apart.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use countersign_server::store::{
    self, AuditEntry, Department, IssuedHashes, Person, PersonStatus, SessionRecord, Store,
    StoreError, ThrottleState,
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
);

fn t0() -> DateTime<Utc> {
    // Whole microseconds: both databases keep microsecond precision.
    DateTime::from_timestamp(1_790_000_000, 123_456_000).unwrap()
}

async fn open(db: &TestDb) -> Arc<dyn Store> {
    store::open(db.url()).await.unwrap()
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
        status: PersonStatus::Active,
        password_hash: Some("$argon2id$stub".into()),
        created_at: t0(),
        last_sign_in_at: None,
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
    store.insert_person(&p).await.unwrap();
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
    store.insert_person(&person("wang.fang")).await.unwrap();
    let err = store.insert_person(&person("wang.fang")).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err:?}");
}

async fn departments_have_codes_and_heads(db: &TestDb) {
    let store = open(db).await;
    let head = person("qian.li");
    store.insert_person(&head).await.unwrap();
    let dept = Department {
        id: Uuid::now_v7(),
        code: "FIN".into(),
        name: "财务部 Finance".into(),
        parent_id: None,
        head_id: None,
        created_at: t0(),
    };
    store.insert_department(&dept).await.unwrap();
    store.set_department_head(dept.id, head.id).await.unwrap();
    let found = store.find_department_by_code("FIN").await.unwrap().unwrap();
    assert_eq!(found.head_id, Some(head.id));
    assert_eq!(found.name, "财务部 Finance", "Chinese names survive");
    assert_eq!(store.find_department(dept.id).await.unwrap(), Some(found));
}

async fn a_refresh_token_rotates_exactly_once(db: &TestDb) {
    let store = open(db).await;
    let p = person("zhou.jie");
    store.insert_person(&p).await.unwrap();
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
    store.insert_person(&p).await.unwrap();
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
