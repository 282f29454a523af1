//! The published OpenAPI document against the router (issue 4, point 9): it must describe
//! exactly the routes of the route table — none missing, none extra — declare bearer security
//! exactly where a route needs a session, and describe every error in the `ApiError` shape,
//! so the contract cannot drift from the code without this test failing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode, header};
use chrono::{DateTime, Utc};
use countersign_server::http::{BEARER, routes};
use countersign_server::policy::Access;
use countersign_testkit::TestApi;
use serde_json::Value;

const METHODS: [&str; 5] = ["get", "post", "put", "delete", "patch"];

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-01T09:30:00+08:00")
        .unwrap()
        .with_timezone(&Utc)
}

/// The document as the server serves it, without a token.
async fn served_document(api: &TestApi) -> Value {
    let answer = api.call(Method::GET, "/v1/openapi.json", None, None).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(
        answer.headers[header::CONTENT_TYPE],
        "application/json",
        "schema tools pick the parser by content type"
    );
    answer.body
}

fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                out.push((method.to_uppercase(), path.clone(), op));
            }
        }
    }
    out
}

#[tokio::test]
async fn the_document_lists_exactly_the_routes_of_the_router() {
    let api = TestApi::new(now()).await;
    let doc = served_document(&api).await;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    let documented: BTreeSet<String> = operations(&doc)
        .into_iter()
        .map(|(m, p, _)| format!("{m} {p}"))
        .collect();
    let routed: BTreeSet<String> = routes()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    let missing: Vec<_> = routed.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&routed).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "routes without OpenAPI docs: {missing:?}; documented operations without a route: {extra:?}"
    );
}

#[tokio::test]
async fn routes_that_need_a_session_declare_bearer_security_and_public_ones_do_not() {
    let api = TestApi::new(now()).await;
    let doc = served_document(&api).await;
    assert_eq!(
        doc["components"]["securitySchemes"][BEARER],
        serde_json::json!({"type": "http", "scheme": "bearer"})
    );
    for route in routes() {
        let op = &doc["paths"][route.path][route.method.as_str().to_lowercase()];
        let schemes: Vec<&str> = op["security"]
            .as_array()
            .map(|reqs| {
                reqs.iter()
                    .flat_map(|r| r.as_object().unwrap().keys().map(String::as_str))
                    .collect()
            })
            .unwrap_or_default();
        let key = format!("{} {}", route.method, route.path);
        if route.access == Access::Public {
            assert!(
                schemes.is_empty(),
                "{key} is public but declares {schemes:?}"
            );
        } else {
            assert_eq!(schemes, [BEARER], "{key} needs a session");
            for status in ["401", "403"] {
                assert!(
                    op["responses"].get(status).is_some(),
                    "{key} is guarded, so it may answer {status}"
                );
            }
        }
    }
}

#[tokio::test]
async fn every_error_answer_is_documented_as_an_api_error() {
    let api = TestApi::new(now()).await;
    let doc = served_document(&api).await;
    let api_error = "#/components/schemas/ApiError";
    assert!(doc["components"]["schemas"]["ApiError"].is_object());
    for (method, path, op) in operations(&doc) {
        for status in ["500", "503"] {
            assert!(
                op["responses"].get(status).is_some(),
                "{method} {path} can fail on the server, so it may answer {status}"
            );
        }
        for (status, response) in op["responses"].as_object().unwrap() {
            // `/readyz` answers its 503 in the health shape: load balancers read that one.
            if status.starts_with('2') || (path == "/readyz" && status == "503") {
                continue;
            }
            assert_eq!(
                response["content"]["application/json"]["schema"]["$ref"], api_error,
                "{method} {path} {status} must be an ApiError"
            );
        }
    }
}
