//! Accounts and organisation administration end to end through the router (and, for the
//! dormant-account command, the binary): S1 account applications and activation, S3
//! departures, transfers and dormant accounts, S6 template proposals published by an
//! approved process change, and the auditors' audit-log query (S13, B5).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::http::{Method, StatusCode};
use chrono::{Duration, Utc};
use countersign_api::ErrorCode;
use countersign_api::accounts::{
    AccountActivation, ActResponse, ActivatedAccount, AuditLine, AuditPage, DormantReport,
    PersonChangeResult, ProposalStatus, TemplateProposalView,
};
use countersign_api::directory::PersonEntry;
use countersign_api::requests::{PendingTask, RequestView};
use countersign_domain::engine::{EventKind, RequestStatus};
use countersign_server::store::{PersonStatus, TemplateRecord};
use countersign_testkit::tuesday_morning;
use countersign_testkit::{Answer, TestApi};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

const PW: &str = "countersign-demo";
const NEW_PW: &str = "a brand new password";

async fn demo() -> TestApi {
    let api = TestApi::new(tuesday_morning()).await;
    api.seed_demo().await;
    api
}

async fn person_id(api: &TestApi, username: &str) -> Uuid {
    api.store()
        .find_person_by_username(username)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{username} exists"))
        .id
}

async fn department_id(api: &TestApi, code: &str) -> Uuid {
    api.store()
        .find_department_by_code(code)
        .await
        .unwrap()
        .unwrap()
        .id
}

fn leave(start: &str, end: &str) -> Value {
    json!({
        "template_id": "leave",
        "form": {
            "leave_type": "annual",
            "reason": "family visit",
            "period": {"start": start, "end": end}
        }
    })
}

async fn submit(api: &TestApi, token: &str, body: Value) -> RequestView {
    let answer = api.post("/v1/requests", token, body).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    answer.json()
}

/// The caller's open task on `request`, through `GET /v1/tasks` as a client finds it.
async fn my_task(api: &TestApi, token: &str, request: Uuid) -> Option<u32> {
    let pending: Vec<PendingTask> = api.get("/v1/tasks", token).await.json();
    pending
        .into_iter()
        .find(|p| p.request.id == request)
        .map(|p| p.task)
}

async fn approve(api: &TestApi, token: &str, request: Uuid) -> Answer {
    let task = my_task(api, token, request)
        .await
        .expect("the approver has a task on the request");
    api.post(
        &format!("/v1/requests/{request}/actions"),
        token,
        json!({"action": {"kind": "approve", "task": task}}),
    )
    .await
}

async fn audit_actions(api: &TestApi) -> Vec<(String, String, String, String)> {
    api.store()
        .audit_lines(0, 100_000)
        .await
        .unwrap()
        .into_iter()
        .map(|l| {
            (
                l.entry.actor,
                l.entry.action,
                l.entry.resource,
                l.entry.outcome,
            )
        })
        .collect()
}

fn account_application(department: Uuid, number: &str) -> Value {
    json!({
        "template_id": "account_application",
        "form": {
            "employee_name": "许明",
            "employee_number": number,
            "department": department,
            "position": "Engineer",
            "start_date": "2026-12-07",
            "systems": ["oa", "email"],
            "permissions": "OA as an employee"
        }
    })
}

/// A manager applies for a new employee's account; the department head approves; the request
/// reaches IT. Returns the request and IT's (zheng.yu's) token.
async fn application_at_it(api: &TestApi, number: &str) -> (RequestView, String) {
    let rd = department_id(api, "RD").await;
    let jiang = api.token("jiang.tao", PW).await;
    let submitted = submit(api, &jiang, account_application(rd, number)).await;
    let wei = api.token("wei.dong", PW).await;
    assert!(
        my_task(api, &jiang, submitted.id).await.is_none(),
        "the applicant does not approve"
    );
    let answer = approve(api, &wei, submitted.id).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let after_head: ActResponse = answer.json();
    assert_eq!(after_head.request.status, RequestStatus::InProgress);
    assert!(
        after_head.activation.is_none(),
        "no account before IT's approval"
    );
    let zheng = api.token("zheng.yu", PW).await;
    assert!(
        my_task(api, &zheng, submitted.id).await.is_some(),
        "IT's turn"
    );
    (submitted, zheng)
}

async fn activate(api: &TestApi, username: &str, secret: &str, password: &str) -> Answer {
    api.call(
        Method::POST,
        "/v1/accounts/activate",
        None,
        Some(json!({"username": username, "activation_secret": secret, "password": password})),
    )
    .await
}

async fn sign_in(api: &TestApi, username: &str, password: &str) -> Answer {
    api.call(
        Method::POST,
        "/v1/sessions",
        None,
        Some(json!({"username": username, "password": password, "device_name": "test"})),
    )
    .await
}

#[tokio::test]
async fn an_approved_account_application_opens_an_account_that_activates_once() {
    let api = demo().await;
    let (request, zheng) = application_at_it(&api, "E1024").await;

    let answer = approve(&api, &zheng, request.id).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let approved: ActResponse = answer.json();
    assert_eq!(approved.request.status, RequestStatus::Approved);
    let activation = approved
        .activation
        .expect("IT's approval answer carries the secret");
    assert_eq!(
        activation.username, "e1024",
        "the user name is the employee number in lower case"
    );
    assert!(activation.secret.starts_with("csact_"));
    assert_eq!(
        activation.expires_at,
        tuesday_morning() + Duration::days(7),
        "valid for seven days"
    );

    // The account exists, invited, in the application's department, as an employee, with no
    // password; it cannot sign in yet.
    let person = api
        .store()
        .find_person_by_username("e1024")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(person.id, activation.person_id);
    assert_eq!(person.status, PersonStatus::Invited);
    assert_eq!(person.display_name, "许明");
    assert_eq!(person.department_id, Some(department_id(&api, "RD").await));
    assert_eq!(person.manager_id, Some(person_id(&api, "wei.dong").await));
    assert_eq!(person.roles, vec!["employee"]);
    assert!(person.password_hash.is_none());
    let refused = sign_in(&api, "e1024", NEW_PW).await;
    assert_eq!(refused.error().code, ErrorCode::InvalidCredentials);

    // The secret is shown once: never again, to anyone, and it is not stored in the clear.
    for token in [&zheng, &api.token("jiang.tao", PW).await] {
        let read = api
            .get(&format!("/v1/requests/{}", request.id), token)
            .await;
        assert_eq!(read.status, StatusCode::OK);
        assert!(read.body.get("activation").is_none(), "{}", read.body);
        assert!(!read.body.to_string().contains(&activation.secret));
    }
    let stored = api
        .store()
        .find_activation(person.id)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(stored.secret_hash, activation.secret.as_bytes());
    assert_eq!(stored.request_id, Some(request.id));
    let everything = format!("{:?}", api.store().audit_lines(0, 100_000).await.unwrap());
    assert!(
        !everything.contains(&activation.secret),
        "not in the audit log"
    );

    // A wrong secret and a short password are refused; the right one activates.
    let wrong = activate(&api, "e1024", "csact_wrong", NEW_PW).await;
    assert_eq!(
        (wrong.status, wrong.error().code),
        (StatusCode::UNAUTHORIZED, ErrorCode::InvalidCredentials)
    );
    let short = activate(&api, "e1024", &activation.secret, "short").await;
    assert_eq!(short.error().code, ErrorCode::MalformedRequest);
    let done = activate(&api, "E1024", &activation.secret, NEW_PW).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let done: ActivatedAccount = done.json();
    assert_eq!(done.person_id, person.id);
    let token = api.token("e1024", NEW_PW).await;
    let me = api.get("/v1/me", &token).await;
    assert_eq!(me.body["department"]["name"], "研发部 R&D");
    let directory: Vec<PersonEntry> = api.get("/v1/people", &token).await.json();
    assert!(directory.iter().any(|p| p.username == "e1024" && p.active));

    // Used once: a second use is refused for what it is.
    let again = activate(&api, "e1024", &activation.secret, "another long password").await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    assert_eq!(again.error().refusal.unwrap().code, "activation_used");
    assert!(
        api.token("e1024", NEW_PW).await.starts_with("csa_"),
        "the first password still stands"
    );

    let actions = audit_actions(&api).await;
    let has = |actor: &str, action: &str, outcome: &str| {
        actions
            .iter()
            .any(|(a, act, _, o)| a == actor && act == action && o == outcome)
    };
    assert!(has("zheng.yu", "account.open", "ok"));
    assert!(has("zheng.yu", "account.activation_shown", "ok"));
    assert!(has("e1024", "account.activate", "ok"));
    assert!(has("anonymous", "account.activate", "invalid_credentials"));
    assert!(has("anonymous", "account.activate", "refused"));
}

#[tokio::test]
async fn an_expired_activation_secret_is_refused_and_it_issues_a_new_one() {
    let api = demo().await;
    let (request, zheng) = application_at_it(&api, "E2048").await;
    let first: ActResponse = approve(&api, &zheng, request.id).await.json();
    let first = first.activation.unwrap();

    api.clock.advance(Duration::days(7) + Duration::minutes(1));
    let late = activate(&api, "e2048", &first.secret, NEW_PW).await;
    assert_eq!(late.status, StatusCode::CONFLICT, "{}", late.body);
    assert_eq!(late.error().refusal.unwrap().code, "activation_expired");

    // IT replaces it; only the new secret works, and only for seven days from now.
    let zheng = api.token("zheng.yu", PW).await;
    let path = format!("/v1/accounts/{}/activation", first.person_id);
    let answer = api.call(Method::POST, &path, Some(&zheng), None).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    let second: AccountActivation = answer.json();
    assert_ne!(second.secret, first.secret);
    assert_eq!(second.expires_at, api.state.clock.now() + Duration::days(7));
    let old = activate(&api, "e2048", &first.secret, NEW_PW).await;
    assert_eq!(old.error().code, ErrorCode::InvalidCredentials);
    let ok = activate(&api, "e2048", &second.secret, NEW_PW).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);

    // An active account gets no new secret.
    let refused = api.call(Method::POST, &path, Some(&zheng), None).await;
    assert_eq!(refused.error().refusal.unwrap().code, "not_invited");
}

#[tokio::test]
async fn an_approval_from_the_outbox_opens_the_account_without_keeping_the_secret() {
    let api = demo().await;
    let (request, zheng) = application_at_it(&api, "E4096").await;
    let task = my_task(&api, &zheng, request.id).await.unwrap();
    let batch = json!({"mutations": [{"id": Uuid::now_v7(), "kind": "act_on_request",
        "payload": {"request_id": request.id, "action": {"kind": "approve", "task": task}}}]});
    let answer = api.post("/v1/mutations", &zheng, batch).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["results"][0]["status"], "applied");
    assert!(
        !answer.body.to_string().contains("csact_"),
        "a stored mutation answer never holds the secret: {}",
        answer.body
    );
    let person = api
        .store()
        .find_person_by_username("e4096")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(person.status, PersonStatus::Invited, "the account is open");
    // IT gets a secret by replacing the one nobody saw.
    let answer = api
        .call(
            Method::POST,
            &format!("/v1/accounts/{}/activation", person.id),
            Some(&zheng),
            None,
        )
        .await;
    let secret: AccountActivation = answer.json();
    assert_eq!(
        activate(&api, "e4096", &secret.secret, NEW_PW).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn an_application_whose_user_name_is_taken_is_refused_at_it_and_opens_nothing() {
    let api = demo().await;
    countersign_server::people::add_person(
        api.store().as_ref(),
        countersign_server::people::NewPerson {
            username: "e8192".into(),
            display_name: "Someone".into(),
            email: None,
            department_code: None,
            manager_username: None,
            roles: vec![],
            positions: vec![],
        },
        NEW_PW.into(),
        tuesday_morning(),
    )
    .await
    .unwrap();
    let (request, zheng) = application_at_it(&api, "E8192").await;
    let answer = approve(&api, &zheng, request.id).await;
    assert_eq!(answer.status, StatusCode::CONFLICT, "{}", answer.body);
    assert_eq!(answer.error().refusal.unwrap().code, "username_taken");
    let read: RequestView = api
        .get(&format!("/v1/requests/{}", request.id), &zheng)
        .await
        .json();
    assert_eq!(
        read.status,
        RequestStatus::InProgress,
        "the approval did not stand without its account"
    );
    assert_eq!(api.store().count_people().await.unwrap(), 21);
}

#[tokio::test]
async fn a_departure_hands_open_tasks_to_the_manager_and_ends_sessions_at_once() {
    let api = demo().await;
    let shen = api.token("shen.yue", PW).await;
    let han = api.token("han.bing", PW).await;
    let first = submit(&api, &shen, leave("2026-12-07", "2026-12-08")).await;
    let second = submit(&api, &han, leave("2026-12-09", "2026-12-09")).await;
    let jiang = api.token("jiang.tao", PW).await;
    let jiang_id = person_id(&api, "jiang.tao").await;
    let wei_id = person_id(&api, "wei.dong").await;
    assert!(my_task(&api, &jiang, first.id).await.is_some());
    assert!(my_task(&api, &jiang, second.id).await.is_some());

    let hr = api.token("li.wei", PW).await;
    let answer = api
        .post(
            &format!("/v1/people/{jiang_id}/departure"),
            &hr,
            json!({"reason": "resigned"}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let result: PersonChangeResult = answer.json();
    assert_eq!(result.person.status, "departed");
    assert_eq!(result.sessions_revoked, 1);
    assert_eq!(result.reassigned.len(), 2);
    assert!(
        result.reassigned.iter().all(|r| r.to == wei_id),
        "without a named person, the tasks go to the manager"
    );

    // The departed person's token stops working at once, and they cannot sign in again.
    let answer = api.get("/v1/tasks", &jiang).await;
    assert_eq!(
        (answer.status, answer.error().code),
        (StatusCode::UNAUTHORIZED, ErrorCode::SessionRevoked)
    );
    let answer = sign_in(&api, "jiang.tao", PW).await;
    assert_eq!(
        (answer.status, answer.error().code),
        (StatusCode::FORBIDDEN, ErrorCode::AccountDisabled)
    );

    // The manager finds both tasks in their inbox and can decide them.
    let wei = api.token("wei.dong", PW).await;
    let pending: Vec<PendingTask> = api.get("/v1/tasks", &wei).await.json();
    let ids: Vec<Uuid> = pending.iter().map(|p| p.request.id).collect();
    assert!(
        ids.contains(&first.id) && ids.contains(&second.id),
        "{ids:?}"
    );
    let handed = pending.iter().find(|p| p.request.id == first.id).unwrap();
    assert!(handed.request.state.events.iter().any(|e| matches!(
        e.what,
        EventKind::Transferred { from, to, .. } if from == jiang_id && to == wei_id
    )));
    let decided: ActResponse = approve(&api, &wei, first.id).await.json();
    assert_eq!(decided.request.status, RequestStatus::Approved);

    // The directory shows them as gone; the audit log has the departure and each handover.
    let directory: Vec<PersonEntry> = api.get("/v1/people", &shen).await.json();
    assert!(
        directory.iter().any(|p| p.id == jiang_id && !p.active),
        "kept for history, inactive"
    );
    let actions = audit_actions(&api).await;
    assert!(
        actions
            .iter()
            .any(|(actor, action, resource, outcome)| actor == "li.wei"
                && action == "person.depart"
                && resource == &format!("person:{jiang_id}")
                && outcome == "ok")
    );
    let handovers = actions
        .iter()
        .filter(|(actor, action, _, _)| actor == "li.wei" && action == "request.transfer")
        .count();
    assert_eq!(handovers, 2);

    // Leaving twice is refused.
    let again = api
        .post(
            &format!("/v1/people/{jiang_id}/departure"),
            &hr,
            json!({"reason": "again"}),
        )
        .await;
    assert_eq!(again.error().refusal.unwrap().code, "person_departed");
}

#[tokio::test]
async fn a_departure_that_cannot_hand_a_task_on_changes_nothing() {
    let api = demo().await;
    let shen = api.token("shen.yue", PW).await;
    let han = api.token("han.bing", PW).await;
    let first = submit(&api, &shen, leave("2026-12-07", "2026-12-08")).await;
    let second = submit(&api, &han, leave("2026-12-09", "2026-12-09")).await;
    let jiang = api.token("jiang.tao", PW).await;
    let jiang_id = person_id(&api, "jiang.tao").await;
    let shen_id = person_id(&api, "shen.yue").await;
    let hr = api.token("li.wei", PW).await;
    let before = api.store().find_person(jiang_id).await.unwrap().unwrap();

    // shen.yue cannot take over her own request's approval: the engine refuses that handover,
    // so the whole departure is refused, naming the request.
    let answer = api
        .post(
            &format!("/v1/people/{jiang_id}/departure"),
            &hr,
            json!({"reason": "resigned", "reassign_to": shen_id}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CONFLICT, "{}", answer.body);
    let refusal = answer.error().refusal.unwrap();
    assert_eq!(refusal.code, "cannot_reassign");
    assert_eq!(refusal.request, Some(first.id));
    assert!(
        refusal.message.contains(&first.id.to_string()),
        "{}",
        refusal.message
    );

    // Nothing was done: not the person, not the sessions, not the other request either.
    let after = api.store().find_person(jiang_id).await.unwrap().unwrap();
    assert_eq!(after, before);
    assert!(
        my_task(&api, &jiang, first.id).await.is_some(),
        "token still works"
    );
    assert!(my_task(&api, &jiang, second.id).await.is_some());
    for id in [first.id, second.id] {
        let stored = api.store().find_request(id).await.unwrap().unwrap();
        assert_eq!(stored.state.revision, 1, "request {id} untouched");
    }
    let actions = audit_actions(&api).await;
    assert!(
        actions
            .iter()
            .any(|(actor, action, _, outcome)| actor == "li.wei"
                && action == "person.depart"
                && outcome == "refused")
    );
    assert!(
        !actions
            .iter()
            .any(|(_, action, _, _)| action == "request.transfer"),
        "no handover was recorded"
    );

    // Someone with open tasks and no manager needs a named successor.
    let wang = api.token("wang.fang", PW).await;
    let theirs = submit(&api, &wang, leave("2026-12-10", "2026-12-10")).await;
    let zhao_id = person_id(&api, "zhao.min").await;
    let answer = api
        .post(
            &format!("/v1/people/{zhao_id}/departure"),
            &hr,
            json!({"reason": "retired"}),
        )
        .await;
    let refusal = answer.error().refusal.unwrap();
    assert_eq!(refusal.code, "no_reassignee");
    assert_eq!(refusal.request, Some(theirs.id));
    assert_eq!(
        api.store()
            .find_person(zhao_id)
            .await
            .unwrap()
            .unwrap()
            .status,
        PersonStatus::Active
    );

    // Nobody departs themselves.
    let hr_id = person_id(&api, "li.wei").await;
    let answer = api
        .post(
            &format!("/v1/people/{hr_id}/departure"),
            &hr,
            json!({"reason": "me"}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_transfer_changes_roles_hands_tasks_to_the_named_person_and_ends_sessions() {
    let api = demo().await;
    // zheng.yu (IT) holds a task: IT's step of an account application.
    let (request, zheng) = application_at_it(&api, "E3333").await;
    let zheng_id = person_id(&api, "zheng.yu").await;
    let qin_id = person_id(&api, "qin.hao").await;
    let wang_id = person_id(&api, "wang.fang").await;
    let sales = department_id(&api, "SALES").await;
    assert_eq!(
        api.get("/v1/reports/dormant-accounts", &zheng).await.status,
        StatusCode::OK,
        "IT reads reports"
    );

    // HR may not hand out a role that grants more than HR holds.
    let hr = api.token("li.wei", PW).await;
    let answer = api
        .post(
            &format!("/v1/people/{zheng_id}/transfer"),
            &hr,
            json!({"roles": ["employee", "auditor"]}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.body);
    assert_eq!(
        api.get("/v1/tasks", &zheng).await.status,
        StatusCode::OK,
        "a refused transfer changes nothing"
    );

    let answer = api
        .post(
            &format!("/v1/people/{zheng_id}/transfer"),
            &hr,
            json!({"department_id": sales, "manager_id": wang_id, "roles": ["employee"],
                   "positions": [], "reassign_to": qin_id, "reason": "moves to sales"}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let result: PersonChangeResult = answer.json();
    assert_eq!(result.person.status, "active");
    assert_eq!(result.person.roles, vec!["employee"]);
    assert_eq!(result.person.department_id, Some(sales));
    assert_eq!(result.person.manager_id, Some(wang_id));
    assert_eq!(result.sessions_revoked, 1);
    assert_eq!(result.reassigned.len(), 1);
    assert_eq!(
        (result.reassigned[0].request, result.reassigned[0].to),
        (request.id, qin_id),
        "the named person takes the task"
    );

    // The old session is over; a new one carries only the new post's permissions.
    let answer = api.get("/v1/tasks", &zheng).await;
    assert_eq!(answer.error().code, ErrorCode::SessionRevoked);
    let zheng = api.token("zheng.yu", PW).await;
    let me = api.get("/v1/me", &zheng).await;
    assert_eq!(me.body["roles"], json!(["employee"]));
    assert_eq!(
        api.get("/v1/reports/dormant-accounts", &zheng).await.status,
        StatusCode::FORBIDDEN,
        "the IT role is gone"
    );
    let qin = api.token("qin.hao", PW).await;
    assert!(my_task(&api, &qin, request.id).await.is_some());
    assert!(my_task(&api, &zheng, request.id).await.is_none());
}

#[tokio::test]
async fn the_dormant_report_counts_sign_ins_and_session_activity() {
    let api = demo().await;
    // jiang.tao signs in on day 60 and his client refreshes its session on day 85.
    api.clock.advance(Duration::days(60));
    let answer = sign_in(&api, "jiang.tao", PW).await;
    let refresh = answer.body["tokens"]["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    api.clock.advance(Duration::days(25));
    let refreshed = api
        .call(
            Method::POST,
            "/v1/sessions/refresh",
            None,
            Some(json!({"refresh_token": refresh})),
        )
        .await;
    assert_eq!(refreshed.status, StatusCode::OK, "{}", refreshed.body);
    // Day 151: the auditor asks for accounts idle for 90 days.
    api.clock.advance(Duration::days(66));
    let auditor = api.token("zhu.lin", PW).await;
    let answer = api
        .get("/v1/reports/dormant-accounts?days=90", &auditor)
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let report: DormantReport = answer.json();
    assert_eq!(report.days, 90);
    let names: Vec<&str> = report
        .accounts
        .iter()
        .map(|a| a.username.as_str())
        .collect();
    assert!(!names.contains(&"zhu.lin"), "signed in just now");
    assert!(
        !names.contains(&"jiang.tao"),
        "his session was active on day 85: {names:?}"
    );
    assert_eq!(names.len(), 18, "everyone else never signed in: {names:?}");
    let shen = report
        .accounts
        .iter()
        .find(|a| a.username == "shen.yue")
        .unwrap();
    assert_eq!(shen.idle_days, 151);
    assert!(shen.last_sign_in_at.is_none());

    let answer = api
        .get("/v1/reports/dormant-accounts?days=0", &auditor)
        .await;
    assert_eq!(answer.error().code, ErrorCode::MalformedRequest);
    assert!(
        audit_actions(&api)
            .await
            .iter()
            .any(|(actor, action, resource, _)| actor == "zhu.lin"
                && action == "report.read"
                && resource == "report:dormant_accounts?days=90")
    );
}

/// Recomputes a line's hash as an auditor's own tool would, from the wire alone.
fn line_hash(line: &AuditLine) -> String {
    let prev = (0..line.prev_hash.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&line.prev_hash[i..i + 2], 16).unwrap())
        .collect::<Vec<u8>>();
    let mut hasher = Sha256::new();
    hasher.update(&prev);
    hasher.update(line.seq.to_be_bytes());
    hasher.update(serde_json::to_vec(&line.entry).unwrap());
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn auditors_read_the_audit_log_and_can_verify_it_offline() {
    let api = demo().await;
    let auditor = api.token("zhu.lin", PW).await;
    let _ = api.token("shen.yue", PW).await;

    // Page through the whole log and check every link of the chain from the wire.
    let mut after = 0;
    let mut prev_hash = "00".repeat(32);
    let mut lines = 0;
    let mut head = None;
    for _ in 0..1000 {
        let answer = api
            .get(&format!("/v1/audit?after={after}&limit=7"), &auditor)
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        let page: AuditPage = answer.json();
        head.get_or_insert((page.head_seq, page.head_hash.clone()));
        for line in &page.lines {
            assert_eq!(line.seq, lines + 1, "no gaps");
            assert_eq!(
                line.prev_hash, prev_hash,
                "line {} links to its predecessor",
                line.seq
            );
            assert_eq!(line_hash(line), line.hash, "line {} is intact", line.seq);
            prev_hash = line.hash.clone();
            lines += 1;
        }
        match page.next_after {
            Some(next) => after = next,
            None => break,
        }
    }
    let (head_seq, head_hash) = head.unwrap();
    assert!(
        lines >= head_seq,
        "read up to the head the first page named"
    );
    assert!(lines > 40, "the demo seed alone writes many lines: {lines}");
    let page: AuditPage = api
        .get(
            &format!("/v1/audit?after={}&limit=1", head_seq - 1),
            &auditor,
        )
        .await
        .json();
    assert_eq!(page.lines[0].hash, head_hash);

    // Filters: exact, a prefix, an actor.
    let page: AuditPage = api
        .get("/v1/audit?action=session.create&limit=1000", &auditor)
        .await
        .json();
    assert_eq!(page.lines.len(), 2, "two sign-ins");
    assert!(
        page.lines
            .iter()
            .all(|l| l.entry.action == "session.create")
    );
    let page: AuditPage = api
        .get(
            "/v1/audit?action=audit.*&actor=zhu.lin&limit=1000",
            &auditor,
        )
        .await
        .json();
    assert!(
        page.lines.len() >= 2,
        "every read of the log is itself in the log"
    );
    assert!(
        page.lines
            .iter()
            .all(|l| l.entry.action == "audit.read" && l.entry.actor == "zhu.lin")
    );
    let page: AuditPage = api
        .get("/v1/audit?resource=nothing:here", &auditor)
        .await
        .json();
    assert!(page.lines.is_empty() && page.next_after.is_none());

    // Administrators and employees may not read it; the attempt is recorded.
    for user in ["wu.gang", "shen.yue"] {
        let token = api.token(user, PW).await;
        let answer = api.get("/v1/audit", &token).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{user}");
    }
    let denied = audit_actions(&api)
        .await
        .into_iter()
        .filter(|(_, action, resource, _)| action == "access.denied" && resource == "GET /v1/audit")
        .count();
    assert_eq!(denied, 2);

    // No route writes to the log.
    for route in countersign_server::http::routes() {
        if route.path.starts_with("/v1/audit") {
            assert_eq!(route.method, Method::GET, "{}", route.path);
        }
    }
}

/// The process-change template as the domain will ship it once it has the field that names a
/// template proposal (a change requested of the domain's owner); published here as version 2.
async fn publish_process_change_with_proposal_field(api: &TestApi) {
    let mut template = countersign_domain::templates::shipped("process_change").unwrap();
    template.version = 2;
    template.form.fields.push(
        serde_json::from_value(json!({
            "key": "template_proposal",
            "label": {"zh-CN": "模板提案", "en": "Template proposal"},
            "type": {"kind": "text", "max_length": 36}
        }))
        .unwrap(),
    );
    template.check().unwrap();
    let record = TemplateRecord {
        template,
        published_at: tuesday_morning(),
        published_by: None,
        source_request: None,
        retired_at: None,
    };
    let audit = countersign_server::store::AuditEntry::system(
        tuesday_morning(),
        "template.publish",
        "template:process_change@2".into(),
    );
    api.store()
        .publish_template(&record, &[], &audit)
        .await
        .unwrap();
}

fn leave_v2_proposal() -> Value {
    let mut template =
        serde_json::to_value(countersign_domain::templates::shipped("leave").unwrap()).unwrap();
    template["description"]["en"] = json!("Leave, with a handover note.");
    template["form"]["fields"]
        .as_array_mut()
        .unwrap()
        .push(json!({
            "key": "handover_to",
            "label": {"zh-CN": "工作交接", "en": "Handover"},
            "type": {"kind": "long_text", "max_length": 500}
        }));
    json!({ "template": template })
}

#[tokio::test]
async fn a_template_version_is_published_only_by_an_approved_process_change() {
    let api = demo().await;
    publish_process_change_with_proposal_field(&api).await;
    let shen = api.token("shen.yue", PW).await;
    let jiang = api.token("jiang.tao", PW).await;
    // A request already running on leave v1.
    let running = submit(&api, &shen, leave("2026-12-07", "2026-12-08")).await;
    assert_eq!(running.template_version, 1);

    let wei = api.token("wei.dong", PW).await;
    let bad = api
        .post(
            "/v1/templates/proposals",
            &wei,
            json!({"template": {"id": "leave"}}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::CONFLICT, "{}", bad.body);
    assert_eq!(bad.error().refusal.unwrap().code, "invalid_template");
    let answer = api
        .post("/v1/templates/proposals", &wei, leave_v2_proposal())
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    let proposal: TemplateProposalView = answer.json();
    assert_eq!(proposal.template.version, 2, "numbered current + 1");
    assert_eq!(proposal.status, ProposalStatus::Proposed);
    let versions = api.get("/v1/templates/leave", &shen).await;
    assert_eq!(
        versions.body.as_array().unwrap().len(),
        1,
        "a proposal alone publishes nothing"
    );

    // The process change names the proposal; the joint review is SALES's head and IT's head.
    let sales = department_id(&api, "SALES").await;
    let change = submit(
        &api,
        &wei,
        json!({"template_id": "process_change", "form": {
            "process_name": "请假 leave",
            "change_type": "change",
            "business_department": sales,
            "description": "Add a handover note to leave requests.",
            "template_proposal": proposal.id.to_string()
        }}),
    )
    .await;
    assert_eq!(change.template_version, 2);
    let wang = api.token("wang.fang", PW).await;
    let reviewed = api
        .get(&format!("/v1/templates/proposals/{}", proposal.id), &wang)
        .await;
    assert_eq!(
        reviewed.status,
        StatusCode::OK,
        "reviewers read the proposal"
    );
    let first: ActResponse = approve(&api, &wang, change.id).await.json();
    assert_eq!(first.request.status, RequestStatus::InProgress);
    assert!(
        api.store()
            .find_template("leave", 2)
            .await
            .unwrap()
            .is_none(),
        "one of two reviewers is not enough"
    );
    let wu = api.token("wu.gang", PW).await;
    let answer = approve(&api, &wu, change.id).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let done: ActResponse = answer.json();
    assert_eq!(done.request.status, RequestStatus::Approved);

    let published = api
        .store()
        .find_template("leave", 2)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(published.source_request, Some(change.id));
    assert_eq!(
        published.published_by,
        Some(person_id(&api, "wei.dong").await)
    );
    assert_eq!(
        published.template.description.en,
        "Leave, with a handover note."
    );
    let versions = api.get("/v1/templates/leave", &shen).await;
    assert_eq!(versions.body.as_array().unwrap().len(), 2);
    let proposal: TemplateProposalView = api
        .get(&format!("/v1/templates/proposals/{}", proposal.id), &wang)
        .await
        .json();
    assert_eq!(proposal.status, ProposalStatus::Published);
    assert_eq!(proposal.request_id, Some(change.id));

    // The running request keeps version 1 and can still be decided.
    let decided: ActResponse = approve(&api, &jiang, running.id).await.json();
    assert_eq!(decided.request.status, RequestStatus::Approved);
    assert_eq!(decided.request.template_version, 1);
    // New requests start on version 2 and may use its new field.
    let mut body = leave("2026-12-14", "2026-12-14");
    body["form"]["handover_to"] = json!("han.bing covers");
    let han = api.token("han.bing", PW).await;
    let fresh = submit(&api, &han, body).await;
    assert_eq!(fresh.template_version, 2);

    // A second process change naming the same proposal cannot publish it again.
    let again = submit(
        &api,
        &wei,
        json!({"template_id": "process_change", "form": {
            "process_name": "请假 leave",
            "change_type": "change",
            "business_department": sales,
            "description": "The same again.",
            "template_proposal": proposal.id.to_string()
        }}),
    )
    .await;
    let _ = approve(&api, &wang, again.id).await;
    let answer = approve(&api, &wu, again.id).await;
    assert_eq!(answer.status, StatusCode::CONFLICT, "{}", answer.body);
    assert_eq!(answer.error().refusal.unwrap().code, "proposal_published");
    assert!(
        api.store()
            .find_template("leave", 3)
            .await
            .unwrap()
            .is_none()
    );
}

/// `user dormant` through the binary, on a database whose people were created 200 days ago.
#[tokio::test(flavor = "multi_thread")]
async fn user_dormant_lists_and_disables_idle_accounts_through_the_binary() {
    use std::process::{Command, Stdio};

    let long_ago = Utc::now() - Duration::days(200);
    let api = TestApi::new(long_ago).await;
    api.seed_demo().await;
    let shen = api.token("shen.yue", PW).await;
    let request = submit(&api, &shen, leave("2026-12-07", "2026-12-08")).await;
    let _ = api.token("jiang.tao", PW).await;
    // Everyone but jiang.tao and han.bing signed in yesterday.
    let pool = sqlx::SqlitePool::connect(api.db.url()).await.unwrap();
    sqlx::query(
        "UPDATE people SET last_sign_in_at = $1 WHERE username NOT IN ('jiang.tao', 'han.bing')",
    )
    .bind(Utc::now() - Duration::days(1))
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;

    let run = |days: &str, extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_countersign-server"))
            .env_remove("DATABASE_URL")
            .env_remove("COUNTERSIGN_CONFIG")
            .env("XDG_CONFIG_HOME", "/nonexistent-countersign-test")
            .env_remove("RUST_LOG")
            .env("COUNTERSIGN_LOG__LEVEL", "warn")
            .args([
                "--database-url",
                api.db.url(),
                "user",
                "dormant",
                "--days",
                days,
            ])
            .args(extra)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let listed = run("90", &[]);
    let out = String::from_utf8_lossy(&listed.stdout).into_owned();
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    assert!(out.contains("2 dormant account(s)"), "{out}");
    let jiang_line = out.lines().find(|l| l.contains("jiang.tao")).unwrap();
    assert!(jiang_line.contains("open tasks 1"), "{jiang_line}");
    assert!(out.contains("han.bing"));
    let jiang = api
        .store()
        .find_person_by_username("jiang.tao")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        jiang.status,
        PersonStatus::Active,
        "listing changes nothing"
    );

    let disabled = run("90", &["--disable"]);
    let out = String::from_utf8_lossy(&disabled.stdout).into_owned();
    assert!(
        disabled.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&disabled.stderr)
    );
    assert!(out.contains("disabled han.bing"), "{out}");
    assert!(
        out.contains("disabled jiang.tao (1 session(s) revoked, 1 task(s) handed on)"),
        "{out}"
    );
    for name in ["jiang.tao", "han.bing"] {
        let p = api
            .store()
            .find_person_by_username(name)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(p.status, PersonStatus::Disabled, "{name}");
    }
    assert!(
        api.store()
            .list_sessions(jiang.id)
            .await
            .unwrap()
            .is_empty()
    );
    let wei_id = person_id(&api, "wei.dong").await;
    let held = api.store().open_tasks_of(wei_id, 10).await.unwrap();
    assert_eq!(
        held.iter().map(|t| t.request_id).collect::<Vec<_>>(),
        vec![request.id],
        "the task went to jiang.tao's manager"
    );
    let lines = api.store().audit_lines(0, 100_000).await.unwrap();
    let by_system = lines
        .iter()
        .filter(|l| l.entry.actor == "system" && l.entry.action == "person.disable_dormant")
        .count();
    assert_eq!(by_system, 2, "audited as system");

    let again = run("90", &[]);
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("no dormant accounts"),
        "{}",
        String::from_utf8_lossy(&again.stdout)
    );
    let bad = run("0", &[]);
    assert_eq!(bad.status.code(), Some(2), "a usage error");
}
