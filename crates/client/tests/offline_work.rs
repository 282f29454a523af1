//! The client core's offline work against the real server: drafting with the domain rules,
//! submitting while the server is down and sending on reconnect, decisions checked locally
//! and answered by the server, a decision that lost to a withdrawal rolled back with the
//! reason, and a damaged cache rebuilt without losing drafts.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use countersign_api::requests::RequestView;
use countersign_client::cache::OutboxState;
use countersign_client::{Act, ClientErrorCode};
use countersign_testkit::tuesday_morning;
use countersign_testkit::{TestDb, TestServer};
use serde_json::json;

mod common;

use common::{client, leave_draft, signed_in};

async fn demo() -> TestServer {
    let server = TestServer::start_at(TestDb::sqlite(), tuesday_morning()).await;
    server.seed_demo().await;
    server
}

#[tokio::test]
async fn a_draft_is_checked_by_the_domain_rules_while_it_is_written() {
    let server = demo().await;
    let dir = tempfile::tempdir().unwrap();
    let shen = signed_in(&server, dir.path(), "shen.yue").await;
    let now = tuesday_morning();

    let templates = shen.templates().await.unwrap();
    assert!(templates.iter().any(|t| t.template.id == "reimbursement"));
    let draft = shen.draft_new("leave", now).await.unwrap();
    let required: Vec<&str> = draft.errors.iter().map(|e| e.path.as_str()).collect();
    assert!(
        required.contains(&"leave_type") && required.contains(&"period"),
        "{required:?}"
    );
    assert!(
        draft.errors[0].message.chars().any(char::is_alphabetic),
        "a message in words"
    );

    let unknown = shen
        .draft_set(draft.id, "leave_kind", json!("annual"), now)
        .await
        .unwrap_err();
    assert_eq!(unknown.code, ClientErrorCode::InvalidInput);
    assert!(
        unknown.message.contains("leave_type"),
        "names the fields: {}",
        unknown.message
    );
    assert_eq!(
        shen.draft(draft.id).await.unwrap().form,
        json!({}),
        "unchanged"
    );

    let backwards = shen
        .draft_set(
            draft.id,
            "period",
            json!({"start": "2026-12-09", "end": "2026-12-07"}),
            now,
        )
        .await
        .unwrap_err();
    assert_eq!(backwards.code, ClientErrorCode::InvalidInput);
    assert!(
        backwards.message.starts_with("period"),
        "{}",
        backwards.message
    );
    assert_eq!(
        shen.draft(draft.id).await.unwrap().form,
        json!({}),
        "an invalid value leaves the draft as it was"
    );
    let typed = shen
        .draft_set(draft.id, "leave_type", json!("annual"), now)
        .await
        .unwrap();
    assert!(
        typed.errors.iter().any(|e| e.path == "period"),
        "other fields may still be missing while drafting"
    );
    let submit = shen.submit_draft(draft.id, now).await.unwrap_err();
    assert_eq!(
        submit.code,
        ClientErrorCode::InvalidInput,
        "refused locally"
    );
    assert!(shen.outbox().await.unwrap().is_empty());

    let unknown_template = shen.draft_new("holiday", now).await.unwrap_err();
    assert_eq!(unknown_template.code, ClientErrorCode::InvalidInput);

    // Every change is on disk when the call returns: a new process sees it.
    let id = leave_draft(&shen).await;
    let again = client(dir.path());
    let reread = again.draft(id).await.unwrap();
    assert_eq!(reread.form["reason"], "family visit");
    assert_eq!(
        reread.computed["days"],
        json!({"kind": "number", "value": "2"}),
        "two working days: {}",
        reread.computed
    );
}

#[tokio::test]
async fn a_request_submitted_while_the_server_is_down_is_sent_when_it_is_back() {
    let server = demo().await;
    let dir = tempfile::tempdir().unwrap();
    let shen = signed_in(&server, dir.path(), "shen.yue").await;
    let draft = leave_draft(&shen).await;

    let paused = server.pause().await;
    let queued = shen.submit_draft(draft, tuesday_morning()).await.unwrap();
    assert_eq!(queued.state, OutboxState::Pending);
    let offline = shen.sync(tuesday_morning()).await.unwrap_err();
    assert_eq!(offline.code, ClientErrorCode::ServerUnreachable);
    let status = shen.sync_status().await.unwrap();
    assert!(!status.online);
    assert_eq!(status.outbox_pending, 1);
    let mine = shen.my_requests().await.unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].status, "queued");
    assert_eq!(mine[0].id, queued.request_id);

    let server = paused.resume().await;
    let report = shen.sync(tuesday_morning()).await.unwrap();
    assert_eq!(report.applied, 1);
    let mine = shen.my_requests().await.unwrap();
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_eq!(mine[0].status, "in_progress");
    assert_eq!(mine[0].waiting_on.len(), 1, "waiting on the manager");
    assert!(
        shen.drafts().await.unwrap().is_empty(),
        "the draft became the request"
    );
    assert!(shen.sync_status().await.unwrap().online);

    // Sent once: the server has exactly one request from her.
    let jiang_dir = tempfile::tempdir().unwrap();
    let jiang = signed_in(&server, jiang_dir.path(), "jiang.tao").await;
    let inbox = jiang.inbox().await.unwrap();
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].request_id, queued.request_id);
    assert_ne!(
        inbox[0].initiator_name,
        inbox[0].initiator.to_string(),
        "the initiator is shown by name"
    );
}

#[tokio::test]
async fn a_decision_is_checked_here_first_and_the_server_has_the_last_word() {
    let server = demo().await;
    let (d1, d2, d3) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let shen = signed_in(&server, d1.path(), "shen.yue").await;
    let draft = leave_draft(&shen).await;
    let queued = shen.submit_draft(draft, tuesday_morning()).await.unwrap();
    shen.sync(tuesday_morning()).await.unwrap();
    let request = queued.request_id;

    // A colleague outside the request: refused here, nothing queued.
    let han = signed_in(&server, d2.path(), "han.bing").await;
    let not_found = han
        .act(
            request,
            Act::Approve {
                comment: String::new(),
            },
            tuesday_morning(),
        )
        .await
        .unwrap_err();
    assert_eq!(
        not_found.code,
        ClientErrorCode::NotFound,
        "han cannot see it"
    );

    let jiang = signed_in(&server, d3.path(), "jiang.tao").await;
    let reject = jiang
        .act(
            request,
            Act::Reject {
                comment: " ".into(),
            },
            tuesday_morning(),
        )
        .await
        .unwrap_err();
    assert_eq!(
        reject.code,
        ClientErrorCode::InvalidInput,
        "a rejection says why"
    );
    let withdraw = jiang
        .act(
            request,
            Act::Withdraw {
                comment: String::new(),
            },
            tuesday_morning(),
        )
        .await
        .unwrap_err();
    assert_eq!(withdraw.code, ClientErrorCode::Refused, "not his request");

    // Jiang decides without syncing (as if offline) while Shen withdraws and syncs.
    jiang
        .act(
            request,
            Act::Approve {
                comment: "ok".into(),
            },
            tuesday_morning(),
        )
        .await
        .unwrap();
    assert!(
        jiang.inbox().await.unwrap().is_empty(),
        "decided, as far as he can see"
    );
    // Deciding again while the first decision waits in the outbox: refused here, one queued.
    let twice = jiang
        .act(
            request,
            Act::Reject {
                comment: "second thoughts".into(),
            },
            tuesday_morning(),
        )
        .await
        .unwrap_err();
    assert_eq!(twice.code, ClientErrorCode::Refused, "{twice:?}");
    assert!(
        twice.message.contains("no task pending for you"),
        "{twice:?}"
    );
    assert_eq!(jiang.sync_status().await.unwrap().outbox_pending, 1);
    shen.act(
        request,
        Act::Withdraw {
            comment: "plans changed".into(),
        },
        tuesday_morning(),
    )
    .await
    .unwrap();
    shen.sync(tuesday_morning()).await.unwrap();

    let report = jiang.sync(tuesday_morning()).await.unwrap();
    assert_eq!(report.refused.len(), 1, "{report:?}");
    let reason = report.refused[0].reason.as_ref().unwrap();
    assert_eq!(reason.code, "request_withdrawn", "{reason:?}");
    // Said plainly, with who and when (B1): not just "the initiator withdrew".
    assert!(
        reason.message.contains("沈月") && reason.message.contains("2026-12-01 01:30 UTC"),
        "{}",
        reason.message
    );
    let status = jiang.sync_status().await.unwrap();
    assert_eq!(status.outbox_pending, 0);
    assert_eq!(
        status.refused.len(),
        1,
        "the refusal is shown with its reason"
    );
    assert!(
        jiang.inbox().await.unwrap().is_empty(),
        "the server's truth: withdrawn"
    );
    let view = jiang.request(request).await.unwrap();
    assert_eq!(
        serde_json::to_value(view.status).unwrap(),
        json!("withdrawn")
    );
    // A decision on a finished request is refused here now.
    let late = jiang
        .act(
            request,
            Act::Approve {
                comment: String::new(),
            },
            tuesday_morning(),
        )
        .await
        .unwrap_err();
    assert_eq!(late.code, ClientErrorCode::Refused);
}

#[tokio::test]
async fn a_damaged_cache_is_moved_aside_and_rebuilt_keeping_the_drafts() {
    let server = demo().await;
    let dir = tempfile::tempdir().unwrap();
    let shen = signed_in(&server, dir.path(), "shen.yue").await;
    let draft = leave_draft(&shen).await;
    let proof = dir.path().join("proof.pdf");
    std::fs::write(
        &proof,
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n",
    )
    .unwrap();
    let attached = shen
        .draft_attach(draft, "certificate", &proof, tuesday_morning())
        .await
        .unwrap();
    let file_id: uuid::Uuid = attached.form["certificate"][0]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    shen.sign_out().await.unwrap();

    // The file now claims a schema from a newer app: readable, but not this version's.
    let caches = dir.path().join("caches");
    let file = std::fs::read_dir(&caches)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "sqlite"))
        .unwrap();
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", file.display()))
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (999, 'from the future', 1, x'00', 0)",
    )
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;

    let shen = signed_in(&server, dir.path(), "shen.yue").await;
    let status = shen.sync_status().await.unwrap();
    let recovery = status.recovery.expect("the rebuild is reported");
    assert!(recovery.contains("newer version"), "{recovery}");
    assert!(recovery.contains("1 draft(s)"), "{recovery}");
    assert_eq!(
        shen.draft(draft).await.unwrap().form["reason"],
        "family visit"
    );
    // The draft's file is still known here: its record came back with the draft.
    let states = shen.attachment_states(&[file_id]).await.unwrap();
    assert!(
        states[0].on_this_device && !states[0].uploaded,
        "the attached file is kept with the draft: {states:?}"
    );
    assert!(
        !shen.templates().await.unwrap().is_empty(),
        "rebuilt by a full sync"
    );
    let kept: Vec<_> = std::fs::read_dir(&caches)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".damaged-"))
        .collect();
    assert!(!kept.is_empty(), "the old file is kept");

    // Garbage where the cache should be: rebuilt too.
    shen.sign_out().await.unwrap();
    std::fs::write(
        &file,
        b"this is not a database, just some bytes on a bad disk",
    )
    .unwrap();
    let shen = signed_in(&server, dir.path(), "shen.yue").await;
    let recovery = shen
        .sync_status()
        .await
        .unwrap()
        .recovery
        .expect("reported");
    assert!(recovery.contains("0 draft(s)"), "{recovery}");
    assert!(!shen.templates().await.unwrap().is_empty());
}

#[tokio::test]
async fn damage_in_server_data_is_found_by_the_daily_check_and_rebuilt_at_the_next_start() {
    use countersign_client::SessionOnlyCredentials;
    let server = demo().await;
    let dir = tempfile::tempdir().unwrap();
    let keyring = SessionOnlyCredentials::default();
    let shen = common::client_with(dir.path(), &keyring);
    shen.sign_in(&server.url(), "shen.yue", common::PW)
        .await
        .unwrap();
    shen.sync(tuesday_morning()).await.unwrap();
    let draft = leave_draft(&shen).await;
    let checked = tuesday_morning();
    assert_eq!(shen.check_cache(checked).await.unwrap(), None, "sound");
    shen.close().await.unwrap();

    // A bad sector under the cached directory of people: server data, not the person's own.
    let file = std::fs::read_dir(dir.path().join("caches"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "sqlite"))
        .unwrap();
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", file.display()))
        .await
        .unwrap();
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&pool)
        .await
        .unwrap();
    let page_size: i64 = sqlx::query_scalar("PRAGMA page_size")
        .fetch_one(&pool)
        .await
        .unwrap();
    let root: i64 = sqlx::query_scalar("SELECT rootpage FROM sqlite_schema WHERE name = 'people'")
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    let mut bytes = std::fs::read(&file).unwrap();
    let page = usize::try_from((root - 1) * page_size).unwrap();
    let size = usize::try_from(page_size).unwrap();
    bytes[page..page + size].fill(0xA5);
    std::fs::write(&file, bytes).unwrap();

    // Opening checks only what this device alone holds: the app starts, the draft is there.
    let restarted = common::client_with(dir.path(), &keyring);
    restarted.restore().await.unwrap();
    assert_eq!(
        restarted.draft(draft).await.unwrap().form["reason"],
        "family visit"
    );
    assert_eq!(
        restarted
            .check_cache(checked + chrono::Duration::hours(1))
            .await
            .unwrap(),
        None,
        "checked less than a day ago: not checked again"
    );
    let damage = restarted
        .check_cache(checked + chrono::Duration::hours(25))
        .await
        .unwrap()
        .expect("the daily check reads every page");
    assert!(!damage.is_empty());
    restarted.close().await.unwrap();

    // The next start moves the file aside and rebuilds it, keeping the draft.
    let rebuilt = common::client_with(dir.path(), &keyring);
    rebuilt.restore().await.unwrap();
    let recovery = rebuilt
        .sync_status()
        .await
        .unwrap()
        .recovery
        .expect("the rebuild is reported");
    assert!(recovery.contains("1 draft(s)"), "{recovery}");
    assert_eq!(
        rebuilt.draft(draft).await.unwrap().form["reason"],
        "family visit"
    );
    rebuilt.sync(tuesday_morning()).await.unwrap();
    assert!(
        !rebuilt.templates().await.unwrap().is_empty(),
        "rebuilt by a full sync"
    );
    assert_eq!(
        rebuilt
            .check_cache(checked + chrono::Duration::hours(26))
            .await
            .unwrap(),
        None,
        "the rebuilt file is sound"
    );
}

/// 沈悦's leave request, submitted and synced: the server's copy of it.
#[tokio::test]
async fn a_first_download_counts_its_changes_and_a_later_sync_names_each() {
    use countersign_api::sync::EntityKind;

    let server = demo().await;
    let dir = tempfile::tempdir().unwrap();
    let shen = client(dir.path());
    shen.sign_in(&server.url(), "shen.yue", common::PW)
        .await
        .unwrap();
    let first = shen.sync(tuesday_morning()).await.unwrap();
    assert!(
        first.pulled >= 20,
        "the directory and the templates: {}",
        first.pulled
    );
    assert!(
        first.changed.is_empty(),
        "everything is new after a first download; listing it only costs memory: {} listed",
        first.changed.len()
    );

    let draft = leave_draft(&shen).await;
    let queued = shen.submit_draft(draft, tuesday_morning()).await.unwrap();
    let later = shen.sync(tuesday_morning()).await.unwrap();
    let request = queued.request_id.to_string();
    assert!(
        later
            .changed
            .iter()
            .any(|c| c.kind == EntityKind::Request && c.id == request),
        "a live sync names what it changed: {:?}",
        later.changed
    );
    assert_eq!(later.changed.len(), later.pulled);
}

async fn submitted_request(server: &TestServer, dir: &std::path::Path) -> RequestView {
    let shen = signed_in(server, dir, "shen.yue").await;
    let draft = leave_draft(&shen).await;
    let queued = shen.submit_draft(draft, tuesday_morning()).await.unwrap();
    shen.sync(tuesday_morning()).await.unwrap();
    shen.request(queued.request_id).await.unwrap()
}

/// `view` as the server's feed carries an update.
fn upsert(view: &RequestView) -> countersign_api::sync::Change {
    countersign_api::sync::Change {
        kind: countersign_api::sync::EntityKind::Request,
        id: view.id.to_string(),
        version: view.version,
        op: countersign_api::sync::ChangeOp::Upsert,
        data: Some(serde_json::to_value(view).unwrap()),
    }
}

/// A comment on `view` queued in the outbox and not answered yet.
fn unanswered_comment(view: &RequestView) -> countersign_client::cache::OutboxEntry {
    countersign_client::cache::OutboxEntry {
        id: uuid::Uuid::now_v7(),
        kind: "act_on_request".into(),
        request_id: view.id,
        task: None,
        action: "comment".into(),
        base_version: Some(view.version),
        payload: json!({"request_id": view.id, "action": {"kind": "comment", "text": "hi"}}),
        created_at: tuesday_morning(),
        state: OutboxState::Pending,
        attempts: 0,
        next_attempt_at: None,
        last_error: None,
        answer: None,
        answered_at: None,
    }
}

#[tokio::test]
async fn a_server_update_waits_while_a_local_change_to_the_same_request_is_unanswered() {
    use countersign_api::sync::{MutationResult, MutationStatus};
    use countersign_client::cache::Cache;

    let server = demo().await;
    let dir = tempfile::tempdir().unwrap();
    let v1 = submitted_request(&server, dir.path()).await;

    let (cache, _) = Cache::open(&dir.path().join("rule.sqlite")).await.unwrap();
    cache.apply_page(&[upsert(&v1)], "c1").await.unwrap();
    // The person comments here; the comment is not answered yet.
    let entry = unanswered_comment(&v1);
    cache.enqueue(&entry).await.unwrap();

    let mut v2 = v1.clone();
    v2.version += 1;
    v2.title = "changed on the server".into();
    cache.apply_page(&[upsert(&v2)], "c2").await.unwrap();
    assert_eq!(
        cache.request(v1.id).await.unwrap().unwrap().version,
        v1.version,
        "held back while the comment is unanswered"
    );
    assert_eq!(cache.cursor().await.unwrap().as_deref(), Some("c2"));

    let refused = MutationResult {
        id: entry.id,
        status: MutationStatus::Refused,
        original: None,
        reason: None,
        entity: None,
        meeting: None,
    };
    cache
        .record_answer(&refused, tuesday_morning())
        .await
        .unwrap();
    let now = cache.request(v1.id).await.unwrap().unwrap();
    assert_eq!(
        now.version, v2.version,
        "applied once the comment was answered"
    );
    assert_eq!(now.title, "changed on the server");
    cache.close().await;
}

#[tokio::test]
async fn a_page_ends_as_its_changes_applied_one_by_one_would() {
    use countersign_api::sync::{Change, ChangeOp};
    use countersign_client::cache::{Cache, KeptNotes, NotesRow};

    let server = demo().await;
    let dir = tempfile::tempdir().unwrap();
    let a1 = submitted_request(&server, dir.path()).await;
    let approver = a1.state.open_tasks().next().expect("an open task").assignee;
    let delete = |view: &RequestView| Change {
        op: ChangeOp::Delete,
        data: None,
        ..upsert(view)
    };
    let version = |view: &RequestView, v: u64, title: &str| {
        let mut next = view.clone();
        next.version = v;
        next.title = title.into();
        next
    };
    let other = |title: &str| {
        let mut view = a1.clone();
        view.id = uuid::Uuid::now_v7();
        view.title = title.into();
        view
    };
    let (b, c, d) = (
        other("re-added"),
        other("waits for its comment"),
        other("written before a delete"),
    );
    let (a2, a3) = (
        version(&a1, a1.version + 1, "two"),
        version(&a1, a1.version + 2, "three"),
    );

    let (cache, _) = Cache::open(&dir.path().join("page.sqlite")).await.unwrap();
    // A comment on c is in flight: c's update waits.
    cache.enqueue(&unanswered_comment(&c)).await.unwrap();
    let notes = |body: &str| NotesRow {
        request: a1.id,
        body: body.into(),
        held: 0,
        held_overdue: 0,
    };
    let kept = KeptNotes {
        requests: vec![notes("{\"first\":1}"), notes("{\"second\":2}")],
        ..KeptNotes::default()
    };
    let page = [
        upsert(&a2),
        upsert(&a1),
        upsert(&b),
        upsert(&d),
        delete(&b),
        upsert(&c),
        upsert(&b),
        upsert(&a3),
        upsert(&a2),
    ];
    cache
        .apply_page_noting(&page, Some("p1"), &kept)
        .await
        .unwrap();

    let a = cache.request(a1.id).await.unwrap().expect("a is cached");
    assert_eq!(
        (a.version, a.title.as_str()),
        (a3.version, "three"),
        "the newest copy stands, whatever its place in the page"
    );
    assert_eq!(
        cache.request(b.id).await.unwrap().map(|v| v.title),
        Some("re-added".to_owned()),
        "written again after its delete"
    );
    assert!(
        cache.request(c.id).await.unwrap().is_none(),
        "held back while its comment is unanswered"
    );
    let mut inbox: Vec<_> = cache
        .inbox(approver, 50)
        .await
        .unwrap()
        .into_iter()
        .map(|row| (row.request.title, row.task))
        .collect();
    inbox.sort();
    let task = a1.state.open_tasks().next().unwrap().id;
    assert_eq!(
        inbox,
        vec![
            ("re-added".to_owned(), task),
            ("three".to_owned(), task),
            ("written before a delete".to_owned(), task)
        ],
        "each written request's open task once, c's not yet"
    );
    assert_eq!(
        cache.request_notes(&[a1.id]).await.unwrap(),
        vec![(a1.id, "{\"second\":2}".to_owned())],
        "a request's notes met twice: the later stand"
    );
    assert_eq!(cache.cursor().await.unwrap().as_deref(), Some("p1"));
    cache.close().await;
}

#[tokio::test]
async fn a_returned_request_is_corrected_offline_and_resubmitted_with_a_new_file() {
    let server = demo().await;
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let shen = signed_in(&server, d1.path(), "shen.yue").await;
    let jiang = signed_in(&server, d2.path(), "jiang.tao").await;
    let now = tuesday_morning();
    let draft = leave_draft(&shen).await;
    let request = shen.submit_draft(draft, now).await.unwrap().request_id;
    shen.sync(now).await.unwrap();
    jiang.sync(now).await.unwrap();
    jiang
        .act(
            request,
            Act::Return {
                comment: "请补充病假证明".into(),
            },
            now,
        )
        .await
        .unwrap();
    jiang.sync(now).await.unwrap();
    shen.sync(now).await.unwrap();

    // Only the person it was returned to corrects it.
    let err = jiang.draft_resubmit(request, now).await.unwrap_err();
    assert_eq!(err.code, ClientErrorCode::Refused, "{}", err.message);
    let correction = shen.draft_resubmit(request, now).await.unwrap();
    assert_eq!(correction.resubmits, Some(request));
    assert_eq!(
        correction.form["reason"], "family visit",
        "the form as it was"
    );
    let again = shen.draft_resubmit(request, now).await.unwrap();
    assert_eq!(again.id, correction.id, "asking again finds the same draft");

    // Corrected offline, with the certificate asked for.
    let paused = server.pause().await;
    shen.draft_set(
        correction.id,
        "reason",
        json!("family visit, certificate attached"),
        now,
    )
    .await
    .unwrap();
    let proof = d1.path().join("证明.pdf");
    std::fs::write(
        &proof,
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n",
    )
    .unwrap();
    shen.draft_attach(correction.id, "certificate", &proof, now)
        .await
        .unwrap();
    let item = shen.submit_draft(correction.id, now).await.unwrap();
    assert_eq!(item.request_id, request, "the same request, not a new one");
    assert!(shen.sync(now).await.is_err(), "the server is away");
    let server = paused.resume().await;
    let report = shen.sync(now).await.unwrap();
    assert_eq!(report.applied, 1, "{report:?}");
    assert!(
        shen.draft(correction.id).await.is_err(),
        "the correction is gone once the server has it"
    );

    // The approver has it back, corrected, with the file, under the same number.
    jiang.sync(now).await.unwrap();
    let detail = jiang.request_detail(request, now).await.unwrap();
    assert_eq!(detail.form["reason"], "family visit, certificate attached");
    assert_eq!(detail.form["certificate"][0]["name"], "证明.pdf");
    assert!(
        jiang
            .inbox()
            .await
            .unwrap()
            .iter()
            .any(|i| i.request_id == request),
        "waiting for the approver again"
    );
    let file: uuid::Uuid = detail.form["certificate"][0]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let copy = jiang.attachment_file(file, now).await.unwrap();
    assert!(std::fs::read(copy).unwrap().starts_with(b"%PDF"));
    // Nothing left to resubmit.
    shen.sync(now).await.unwrap();
    let err = shen.draft_resubmit(request, now).await.unwrap_err();
    assert_eq!(err.code, ClientErrorCode::Refused, "{}", err.message);
    drop(server);
}
