//! The authorisation matrix (requirement S2): every route of the router against every role.
//! The expected outcomes are written out here, independently of the policy module, so a
//! change to a route's access or to a role's grants fails this test until someone decides
//! it on purpose. A route missing from the table fails the test too.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use axum::http::{Method, StatusCode};
use chrono::{DateTime, Utc};
use countersign_server::http::routes;
use countersign_server::people::{NewPerson, add_person};
use countersign_testkit::TestApi;

const PW: &str = "a long enough password";

/// Who may call what. `anyone` includes callers without a token; `signed_in` is any person
/// whatever their roles; `work` is every role that grants the everyday work permission.
fn expected() -> BTreeMap<&'static str, &'static [&'static str]> {
    const ANYONE: &[&str] = &[
        "anonymous",
        "no_role",
        "employee",
        "manager",
        "hr",
        "finance",
        "it_admin",
        "process_admin",
        "auditor",
        "support_agent",
        "admin",
    ];
    const SIGNED_IN: &[&str] = &[
        "no_role",
        "employee",
        "manager",
        "hr",
        "finance",
        "it_admin",
        "process_admin",
        "auditor",
        "support_agent",
        "admin",
    ];
    const WORK: &[&str] = &[
        "employee",
        "manager",
        "hr",
        "finance",
        "it_admin",
        "process_admin",
        "auditor",
        "support_agent",
        "admin",
    ];
    BTreeMap::from([
        ("GET /healthz", ANYONE),
        ("GET /readyz", ANYONE),
        ("GET /v1/info", ANYONE),
        ("GET /v1/openapi.json", ANYONE),
        ("POST /v1/sessions", ANYONE),
        ("POST /v1/sessions/refresh", ANYONE),
        ("GET /v1/sessions", SIGNED_IN),
        ("DELETE /v1/sessions/{id}", SIGNED_IN),
        ("GET /v1/me", SIGNED_IN),
        ("GET /v1/people", WORK),
        ("GET /v1/departments", WORK),
        ("GET /v1/templates", WORK),
        ("GET /v1/templates/{id}", WORK),
        ("GET /v1/templates/{id}/versions/{version}", WORK),
        ("POST /v1/requests", WORK),
        ("GET /v1/requests", WORK),
        ("GET /v1/requests/{id}", WORK),
        ("POST /v1/requests/{id}/actions", WORK),
        ("GET /v1/tasks", WORK),
        ("GET /v1/sync", WORK),
        ("POST /v1/mutations", WORK),
        ("GET /v1/events", WORK),
        // Accounts and organisation administration: activation is for someone with no
        // password yet; a new secret is IT's; departures and transfers are HR's and the
        // administrators'; proposing a template version is the process administrators'.
        ("POST /v1/accounts/activate", ANYONE),
        ("POST /v1/accounts/{id}/activation", &["it_admin", "admin"]),
        ("POST /v1/people/{id}/departure", &["hr", "admin"]),
        ("POST /v1/people/{id}/transfer", &["hr", "admin"]),
        ("POST /v1/templates/proposals", &["process_admin"]),
        ("GET /v1/templates/proposals/{id}", WORK),
        // Oversight: the audit log is the auditors' alone (not the administrators': they
        // are among those it watches); reports are for IT, auditors and administrators.
        ("GET /v1/audit", &["auditor"]),
        (
            "GET /v1/reports/dormant-accounts",
            &["it_admin", "auditor", "admin"],
        ),
        // Attachments are part of doing one's work; which file one may read is decided per
        // file (uploader or the request's participants), like requests.
        ("POST /v1/attachments", WORK),
        ("GET /v1/attachments/{id}", WORK),
        ("POST /v1/meetings", WORK),
        ("GET /v1/meetings", WORK),
        ("POST /v1/meetings/receipts", WORK),
        ("GET /v1/meetings/{id}", WORK),
        ("PUT /v1/meetings/{id}", WORK),
        ("POST /v1/meetings/{id}/cancel", WORK),
        ("POST /v1/meetings/{id}/rsvp", WORK),
        ("GET /v1/rooms", WORK),
        // Organisers get their own meetings' coverage; report readers everyone's.
        ("GET /v1/reports/meetings", WORK),
    ])
}

const SUBJECTS: [&str; 11] = [
    "anonymous",
    "no_role",
    "employee",
    "manager",
    "hr",
    "finance",
    "it_admin",
    "process_admin",
    "auditor",
    "support_agent",
    "admin",
];

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-01T09:30:00+08:00")
        .unwrap()
        .with_timezone(&Utc)
}

#[tokio::test]
async fn every_route_answers_every_role_as_the_matrix_says() {
    let api = TestApi::new(now()).await;
    let mut tokens: BTreeMap<&str, String> = BTreeMap::new();
    for subject in SUBJECTS.iter().skip(1) {
        let username = subject.replace('_', ".");
        let roles = if *subject == "no_role" {
            vec![]
        } else {
            vec![(*subject).to_owned()]
        };
        let person = add_person(
            api.store().as_ref(),
            NewPerson {
                username: username.clone(),
                display_name: (*subject).to_owned(),
                email: None,
                department_code: None,
                manager_username: None,
                roles,
                positions: vec![],
            },
            PW.into(),
            now(),
        )
        .await
        .unwrap();
        if *subject == "no_role" {
            // Accounts are created with at least `employee`; strip it, as a departure would,
            // to see what a person holding no role at all may still do.
            let pool = sqlx::SqlitePool::connect(api.db.url()).await.unwrap();
            sqlx::query("UPDATE people SET roles = '[]' WHERE id = $1")
                .bind(person.id)
                .execute(&pool)
                .await
                .unwrap();
            pool.close().await;
        }
        tokens.insert(subject, api.token(&username, PW).await);
    }

    let table = expected();
    let routes = routes();
    for route in &routes {
        let key = format!("{} {}", route.method, route.path);
        assert!(
            table.contains_key(key.as_str()),
            "route {key} has no entry in the authorisation matrix"
        );
    }
    assert_eq!(
        routes.len(),
        table.len(),
        "the matrix names routes the router does not have"
    );

    for route in &routes {
        let key = format!("{} {}", route.method, route.path);
        let allowed = table[key.as_str()];
        let path = route
            .path
            .replace("{id}", &uuid::Uuid::now_v7().to_string())
            .replace("{version}", "1");
        let body = (route.method == Method::POST || route.method == Method::PUT)
            .then(|| serde_json::json!({}));
        for subject in SUBJECTS {
            let token = tokens.get(subject).map(String::as_str);
            let answer = api
                .call(route.method.clone(), &path, token, body.clone())
                .await;
            let may = allowed.contains(&subject);
            if may {
                assert!(
                    answer.status != StatusCode::FORBIDDEN
                        && answer.status != StatusCode::UNAUTHORIZED,
                    "{subject} should reach {key}, got {} {}",
                    answer.status,
                    answer.body
                );
            } else if subject == "anonymous" {
                assert_eq!(
                    answer.status,
                    StatusCode::UNAUTHORIZED,
                    "{subject} on {key}: {}",
                    answer.body
                );
            } else {
                assert_eq!(
                    answer.status,
                    StatusCode::FORBIDDEN,
                    "{subject} on {key}: {}",
                    answer.body
                );
            }
        }
    }

    // Every denial was written to the audit log.
    let denied = api
        .store()
        .audit_lines(0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|l| l.entry.action == "access.denied")
        .count();
    let expected_denials: usize = table
        .values()
        .map(|allowed| {
            SUBJECTS
                .iter()
                .skip(1)
                .filter(|s| !allowed.contains(s))
                .count()
        })
        .sum();
    assert_eq!(denied, expected_denials);
}
