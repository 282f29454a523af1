//! Requests end to end through the router: submit, route, decide, lose a race, read, list,
//! and the same through the sync feed and idempotent mutations.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::http::StatusCode;
use chrono::Duration;
use countersign_api::ErrorCode;
use countersign_api::requests::{PendingTask, RequestView};
use countersign_api::sync::{ChangeOp, EntityKind, MutationResults, MutationStatus, SyncPage};
use countersign_domain::engine::RequestStatus;
use countersign_testkit::TestApi;
use countersign_testkit::tuesday_morning;
use serde_json::{Value, json};
use uuid::Uuid;

const PW: &str = "countersign-demo";

async fn demo() -> TestApi {
    let api = TestApi::new(tuesday_morning()).await;
    api.seed_demo().await;
    api
}

fn two_days_leave() -> Value {
    json!({
        "template_id": "leave",
        "form": {
            "leave_type": "annual",
            "reason": "family visit",
            "period": {"start": "2026-12-07", "end": "2026-12-08"}
        }
    })
}

async fn person_id(api: &TestApi, username: &str) -> Uuid {
    api.store()
        .find_person_by_username(username)
        .await
        .unwrap()
        .unwrap()
        .id
}

#[tokio::test]
async fn a_leave_request_reaches_the_manager_who_approves_it() {
    let api = demo().await;
    let shen = api.token("shen.yue", PW).await;
    let jiang = api.token("jiang.tao", PW).await;

    let answer = api.post("/v1/requests", &shen, two_days_leave()).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    let submitted: RequestView = answer.json();
    assert_eq!(submitted.status, RequestStatus::InProgress);
    assert_eq!(submitted.template_version, 1);
    assert_eq!(
        submitted.computed["days"]["value"], "2",
        "the server computed the working days: {}",
        submitted.computed
    );
    let jiang_id = person_id(&api, "jiang.tao").await;
    let open: Vec<_> = submitted.state.open_tasks().collect();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].assignee, jiang_id, "direct manager first");

    let pending: Vec<PendingTask> = api.get("/v1/tasks", &jiang).await.json();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].request.id, submitted.id);
    let shen_tasks: Vec<PendingTask> = api.get("/v1/tasks", &shen).await.json();
    assert!(shen_tasks.is_empty(), "nothing waits for the initiator");

    api.clock.advance(Duration::minutes(10));
    let approve = json!({"action": {"kind": "approve", "task": pending[0].task, "comment": "enjoy"}, "expected_version": submitted.version});
    let answer = api
        .post(
            &format!("/v1/requests/{}/actions", submitted.id),
            &jiang,
            approve,
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let approved: RequestView = answer.json();
    assert_eq!(approved.status, RequestStatus::Approved);
    let task = approved.state.task(pending[0].task).unwrap();
    assert_eq!(
        task.elapsed_secs,
        Some(10 * 60),
        "who, when and how long are recorded"
    );

    let mine: countersign_api::requests::Page<RequestView> =
        api.get("/v1/requests", &shen).await.json();
    assert_eq!(mine.items.len(), 1);
    assert_eq!(mine.items[0].status, RequestStatus::Approved);
    assert!(
        api.get("/v1/tasks", &jiang)
            .await
            .json::<Vec<PendingTask>>()
            .is_empty()
    );

    // Someone who takes no part learns nothing, not even that it exists.
    let outsider = api.token("wang.fang", PW).await;
    let answer = api
        .get(&format!("/v1/requests/{}", submitted.id), &outsider)
        .await;
    assert_eq!(
        (answer.status, answer.error().code),
        (StatusCode::NOT_FOUND, ErrorCode::NotFound)
    );
    // The HR copy recipient may read it; an auditor may read everything.
    let hr = api.token("zhou.jie", PW).await;
    assert_eq!(
        api.get(&format!("/v1/requests/{}", submitted.id), &hr)
            .await
            .status,
        StatusCode::OK
    );
    let auditor = api.token("zhu.lin", PW).await;
    assert_eq!(
        api.get(&format!("/v1/requests/{}", submitted.id), &auditor)
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_decision_that_lost_the_race_says_who_decided_and_when() {
    let api = demo().await;
    let shen = api.token("shen.yue", PW).await;
    let jiang = api.token("jiang.tao", PW).await;
    let submitted: RequestView = api
        .post("/v1/requests", &shen, two_days_leave())
        .await
        .json();
    let task = submitted.state.open_tasks().next().unwrap().id;
    let path = format!("/v1/requests/{}/actions", submitted.id);

    // The initiator withdraws; the manager, still looking at the old version, approves.
    let withdraw = json!({"action": {"kind": "withdraw", "comment": "plans changed"}});
    assert_eq!(
        api.post(&path, &shen, withdraw).await.status,
        StatusCode::OK
    );
    let approve =
        json!({"action": {"kind": "approve", "task": task}, "expected_version": submitted.version});
    let answer = api.post(&path, &jiang, approve).await;
    assert_eq!(answer.status, StatusCode::CONFLICT);
    let error = answer.error();
    assert_eq!(error.code, ErrorCode::Refused);
    let refusal = error.refusal.unwrap();
    assert_eq!(refusal.code, "request_withdrawn");
    assert_eq!(refusal.current_version, Some(submitted.version + 1));
    match refusal.refusal.unwrap() {
        countersign_domain::engine::Refusal::RequestWithdrawn { at } => {
            assert_eq!(at, tuesday_morning())
        }
        other => panic!("expected a withdrawal, got {other:?}"),
    }
}

#[tokio::test]
async fn an_invalid_form_is_refused_with_every_field_error_and_nothing_is_stored() {
    let api = demo().await;
    let shen = api.token("shen.yue", PW).await;
    let bad = json!({"template_id": "leave", "form": {"leave_type": "holiday", "period": {"start": "2026-12-09", "end": "2026-12-07"}}});
    let answer = api.post("/v1/requests", &shen, bad).await;
    assert_eq!(answer.status, StatusCode::CONFLICT, "{}", answer.body);
    let refusal = answer.error().refusal.unwrap();
    assert_eq!(refusal.code, "invalid_form");
    let paths: Vec<&str> = refusal
        .field_errors()
        .iter()
        .map(|e| e.path.as_str())
        .collect();
    assert!(
        paths.contains(&"leave_type") && paths.contains(&"reason"),
        "{paths:?}"
    );
    let mine: countersign_api::requests::Page<RequestView> =
        api.get("/v1/requests", &shen).await.json();
    assert!(mine.items.is_empty());

    let unknown = json!({"template_id": "holiday", "form": {}});
    let refusal = api
        .post("/v1/requests", &shen, unknown)
        .await
        .error()
        .refusal
        .unwrap();
    assert_eq!(refusal.code, "unknown_template");
}

/// Pulls the whole feed from `cursor`, page by page.
async fn pull_all(
    api: &TestApi,
    token: &str,
    mut cursor: Option<String>,
) -> (Vec<countersign_api::sync::Change>, String) {
    let mut changes = Vec::new();
    for _ in 0..100 {
        let path = match &cursor {
            Some(c) => format!("/v1/sync?after={c}&limit=10"),
            None => "/v1/sync?limit=10".to_owned(),
        };
        let answer = api.get(&path, token).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        let page: SyncPage = answer.json();
        assert!(page.changes.len() <= 10);
        changes.extend(page.changes);
        cursor = Some(page.cursor);
        if !page.more {
            break;
        }
    }
    (changes, cursor.unwrap())
}

#[tokio::test]
async fn the_feed_pages_through_what_each_person_may_see_and_resumes() {
    let api = demo().await;
    let shen = api.token("shen.yue", PW).await;
    let (first, cursor) = pull_all(&api, &shen, None).await;
    // A record changed twice (a department, then its head) may come twice across pages;
    // the client keeps the last. Count records, not changes.
    let count = |kind: EntityKind| {
        let mut ids: Vec<&str> = first
            .iter()
            .filter(|c| c.kind == kind)
            .map(|c| c.id.as_str())
            .collect();
        ids.sort();
        ids.dedup();
        ids.len()
    };
    assert_eq!(count(EntityKind::Template), 7, "the template library");
    assert_eq!(count(EntityKind::Person), 20, "the directory");
    assert_eq!(count(EntityKind::Department), 6);
    assert_eq!(count(EntityKind::Request), 0);
    assert!(
        first
            .iter()
            .all(|c| c.op == ChangeOp::Upsert && c.data.is_some())
    );

    let submitted: RequestView = api
        .post("/v1/requests", &shen, two_days_leave())
        .await
        .json();
    let (next, cursor) = pull_all(&api, &shen, Some(cursor)).await;
    assert_eq!(next.len(), 1, "only what changed since: {next:?}");
    assert_eq!(next[0].kind, EntityKind::Request);
    assert_eq!(next[0].id, submitted.id.to_string());
    let (nothing, _) = pull_all(&api, &shen, Some(cursor.clone())).await;
    assert!(nothing.is_empty(), "resuming never re-downloads");

    // Someone outside the request never sees it in their feed.
    let wang = api.token("wang.fang", PW).await;
    let (theirs, _) = pull_all(&api, &wang, None).await;
    assert!(theirs.iter().all(|c| c.kind != EntityKind::Request));

    // A cursor from another server, or ahead of this one, asks for a resync.
    let foreign = countersign_server::sync::Cursor {
        server: Uuid::now_v7(),
        seq: 1,
    }
    .encode();
    let answer = api.get(&format!("/v1/sync?after={foreign}"), &shen).await;
    assert_eq!(
        (answer.status, answer.error().code),
        (StatusCode::GONE, ErrorCode::ResyncRequired)
    );
    let server = countersign_server::sync::server_id(api.store().as_ref())
        .await
        .unwrap();
    let ahead = countersign_server::sync::Cursor {
        server,
        seq: 1_000_000,
    }
    .encode();
    let answer = api.get(&format!("/v1/sync?after={ahead}"), &shen).await;
    assert_eq!(answer.error().code, ErrorCode::ResyncRequired);
    let answer = api.get("/v1/sync?after=garbage", &shen).await;
    assert_eq!(answer.error().code, ErrorCode::MalformedRequest);
}

#[tokio::test]
async fn mutations_apply_once_and_a_refusal_blocks_nothing_behind_it() {
    let api = demo().await;
    let shen = api.token("shen.yue", PW).await;
    let jiang = api.token("jiang.tao", PW).await;
    let request_id = Uuid::now_v7();
    let submit_id = Uuid::now_v7();
    let mut payload = two_days_leave();
    payload["id"] = json!(request_id);
    let batch =
        json!({"mutations": [{"id": submit_id, "kind": "submit_request", "payload": payload}]});

    let first: MutationResults = api.post("/v1/mutations", &shen, batch.clone()).await.json();
    assert_eq!(first.results[0].status, MutationStatus::Applied);
    let again: MutationResults = api.post("/v1/mutations", &shen, batch).await.json();
    assert_eq!(again.results[0].status, MutationStatus::Duplicate);
    assert_eq!(again.results[0].original, Some(MutationStatus::Applied));
    assert_eq!(
        again.results[0].entity, first.results[0].entity,
        "the first answer, again"
    );
    let mine: countersign_api::requests::Page<RequestView> =
        api.get("/v1/requests", &shen).await.json();
    assert_eq!(mine.items.len(), 1, "submitted once");

    let task = first.results[0]
        .entity
        .as_ref()
        .unwrap()
        .state
        .open_tasks()
        .next()
        .unwrap()
        .id;
    let refused_id = Uuid::now_v7();
    let approve_id = Uuid::now_v7();
    let batch = json!({"mutations": [
        // The initiator cannot approve their own request's task: refused…
        {"id": refused_id, "kind": "act_on_request", "payload": {"request_id": request_id, "action": {"kind": "approve", "task": task}}},
        // …and a comment behind it still goes through.
        {"id": approve_id, "kind": "act_on_request", "payload": {"request_id": request_id, "action": {"kind": "comment", "text": "back on the 9th"}}},
    ]});
    let results: MutationResults = api.post("/v1/mutations", &shen, batch.clone()).await.json();
    assert_eq!(results.results[0].status, MutationStatus::Refused);
    assert_eq!(
        results.results[0].reason.as_ref().unwrap().code,
        "not_your_turn"
    );
    assert_eq!(results.results[1].status, MutationStatus::Applied);
    let replay: MutationResults = api.post("/v1/mutations", &shen, batch).await.json();
    assert_eq!(replay.results[0].status, MutationStatus::Duplicate);
    assert_eq!(replay.results[0].original, Some(MutationStatus::Refused));
    assert_eq!(replay.results[1].original, Some(MutationStatus::Applied));
    let view: RequestView = api
        .get(&format!("/v1/requests/{request_id}"), &shen)
        .await
        .json();
    let comments = view
        .state
        .events
        .iter()
        .filter(|e| e.comment == "back on the 9th")
        .count();
    assert_eq!(comments, 1, "a replayed comment is not added twice");

    // The manager's approval, sent twice in one batch, is applied once.
    let decide = Uuid::now_v7();
    let mutation = json!({"id": decide, "kind": "act_on_request", "base_version": view.version, "payload": {"request_id": request_id, "action": {"kind": "approve", "task": task}}});
    let batch = json!({"mutations": [mutation.clone(), mutation]});
    let results: MutationResults = api.post("/v1/mutations", &jiang, batch).await.json();
    assert_eq!(results.results[0].status, MutationStatus::Applied);
    assert_eq!(results.results[1].status, MutationStatus::Duplicate);
    assert_eq!(
        results.results[0].entity.as_ref().unwrap().status,
        RequestStatus::Approved
    );

    // A mutation id is one person's: someone else replaying it learns nothing.
    let stolen: MutationResults = api
        .post(
            "/v1/mutations",
            &jiang,
            json!({"mutations": [{"id": submit_id, "kind": "submit_request", "payload": {}}]}),
        )
        .await
        .json();
    assert_eq!(stolen.results[0].status, MutationStatus::Refused);
    assert!(stolen.results[0].entity.is_none());
    // So is a decision's, even sent well-formed on a request the other may see.
    let stolen: MutationResults = api
        .post(
            "/v1/mutations",
            &jiang,
            json!({"mutations": [{"id": approve_id, "kind": "act_on_request", "payload": {"request_id": request_id, "action": {"kind": "comment", "text": "mine now"}}}]}),
        )
        .await
        .json();
    assert_eq!(stolen.results[0].status, MutationStatus::Refused);
    assert!(stolen.results[0].entity.is_none());
    let view: RequestView = api
        .get(&format!("/v1/requests/{request_id}"), &jiang)
        .await
        .json();
    assert!(
        view.state.events.iter().all(|e| e.comment != "mine now"),
        "the stolen id changed nothing"
    );
}

countersign_testkit::both_backends!(pending_lists_follow_every_change_that_moves_a_task);

/// The tasks `token`'s holder has open on `request`, through `GET /v1/tasks`.
async fn open_on(api: &TestApi, token: &str, request: Uuid) -> Vec<u32> {
    let pending: Vec<PendingTask> = api.get("/v1/tasks", token).await.json();
    pending
        .iter()
        .filter(|p| p.request.id == request)
        .map(|p| p.task)
        .collect()
}

/// A change writes only the task and participant rows it moves (a comment none): the
/// pending lists and who may read the request stay right through comments, a transfer, an
/// added signer and the decisions.
async fn pending_lists_follow_every_change_that_moves_a_task(
    backend: countersign_server::store::Backend,
) {
    let db = countersign_testkit::TestDb::of(backend).await;
    let api = TestApi::with(
        db,
        tuesday_morning(),
        countersign_server::settings::Settings::default(),
    )
    .await;
    api.seed_demo().await;
    let shen = api.token("shen.yue", PW).await;
    let jiang = api.token("jiang.tao", PW).await;
    let han = api.token("han.bing", PW).await;
    let yang = api.token("yang.fan", PW).await;
    let (han_id, yang_id) = (
        person_id(&api, "han.bing").await,
        person_id(&api, "yang.fan").await,
    );
    let act = |token: &str, id: Uuid, action: Value| {
        let api = &api;
        let token = token.to_owned();
        async move {
            let answer = api
                .post(
                    &format!("/v1/requests/{id}/actions"),
                    &token,
                    json!({ "action": action }),
                )
                .await;
            assert_eq!(answer.status, StatusCode::OK, "{action}: {}", answer.body);
            answer.json::<RequestView>()
        }
    };

    let submitted: RequestView = api
        .post("/v1/requests", &shen, two_days_leave())
        .await
        .json();
    let id = submitted.id;
    let first = submitted.state.open_tasks().next().unwrap().id;
    assert_eq!(open_on(&api, &jiang, id).await, vec![first]);

    act(
        &shen,
        id,
        json!({"kind": "comment", "text": "back on the 9th"}),
    )
    .await;
    assert_eq!(
        open_on(&api, &jiang, id).await,
        vec![first],
        "a comment leaves the task where it was"
    );
    assert_eq!(
        api.get(&format!("/v1/requests/{id}"), &han).await.status,
        StatusCode::NOT_FOUND,
        "not han.bing's to read yet"
    );

    let moved = act(
        &jiang,
        id,
        json!({"kind": "transfer", "task": first, "to": han_id, "comment": "you cover"}),
    )
    .await;
    let handed = moved.state.open_tasks().next().unwrap().id;
    assert!(open_on(&api, &jiang, id).await.is_empty(), "handed on");
    assert_eq!(open_on(&api, &han, id).await, vec![handed]);
    assert_eq!(
        api.get(&format!("/v1/requests/{id}"), &han).await.status,
        StatusCode::OK,
        "the new holder takes part"
    );

    act(&han, id, json!({"kind": "comment", "text": "looking"})).await;
    let added = act(
        &han,
        id,
        json!({"kind": "add_signer", "task": handed, "signer": yang_id, "position": "before"}),
    )
    .await;
    let signer_task = added.state.open_tasks().next().unwrap().id;
    assert!(
        open_on(&api, &han, id).await.is_empty(),
        "waits for the signer"
    );
    assert_eq!(open_on(&api, &yang, id).await, vec![signer_task]);

    act(
        &yang,
        id,
        json!({"kind": "approve", "task": signer_task, "comment": "fine by me"}),
    )
    .await;
    assert!(open_on(&api, &yang, id).await.is_empty());
    let back = open_on(&api, &han, id).await;
    assert_eq!(back.len(), 1, "back with han.bing after the signer");
    let done = act(
        &han,
        id,
        json!({"kind": "approve", "task": back[0], "comment": "enjoy"}),
    )
    .await;
    assert_eq!(done.status, RequestStatus::Approved);
    for token in [&jiang, &han, &yang] {
        assert!(open_on(&api, token, id).await.is_empty());
    }
    assert_eq!(
        api.get(&format!("/v1/requests/{id}"), &yang).await.status,
        StatusCode::OK,
        "the added signer keeps reading what they signed"
    );
}
