//! Defects schemathesis found by holding the server to its OpenAPI document
//! (scripts/schemathesis.sh), each pinned here so they stay fixed without the fuzzer.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::http::{Method, StatusCode};
use chrono::{DateTime, Utc};
use countersign_api::ErrorCode;
use countersign_api::directory::PersonEntry;
use countersign_testkit::TestApi;
use serde_json::json;

const DEMO_PASSWORD: &str = "countersign-demo";

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-01T09:30:00+08:00")
        .unwrap()
        .with_timezone(&Utc)
}

async fn demo() -> (TestApi, String) {
    let api = TestApi::new(now()).await;
    api.seed_demo().await;
    let token = api.token("wu.gang", DEMO_PASSWORD).await;
    (api, token)
}

#[tokio::test]
async fn a_body_that_is_not_a_json_object_is_malformed() {
    // serde fills a struct from an array too: `[null, null]` was a transfer that changed
    // nothing but still ended the person's sessions, answered 200.
    let (api, token) = demo().await;
    let people: Vec<PersonEntry> = api.get("/v1/people", &token).await.json();
    let someone = people.iter().find(|p| p.username == "chu.yun").unwrap();
    for body in [json!([null, null]), json!("x"), json!(1)] {
        let answer = api
            .post(
                &format!("/v1/people/{}/transfer", someone.id),
                &token,
                body.clone(),
            )
            .await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            answer.body
        );
        assert_eq!(answer.error().code, ErrorCode::MalformedRequest);
    }
}

#[tokio::test]
async fn a_whole_number_written_as_a_float_is_that_integer() {
    // JSON Schema counts `3.0` as the integer 3, and the document says `integer`: refusing
    // it was a schema-valid request rejected.
    let (api, token) = demo().await;
    let id = uuid::Uuid::now_v7();
    let answer = api
        .post(
            &format!("/v1/requests/{id}/actions"),
            &token,
            json!({"action": {"kind": "approve", "task": 1.0}, "expected_version": 3.0}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND, "{}", answer.body);
    // A real fraction is still not an integer.
    let answer = api
        .post(
            &format!("/v1/requests/{id}/actions"),
            &token,
            json!({"action": {"kind": "approve", "task": 1.5}}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
}

#[tokio::test]
async fn a_version_beyond_int64_is_malformed() {
    // The document says `int64`; 2^63 was accepted and answered per mutation instead.
    let (api, token) = demo().await;
    let too_big = json!(9_223_372_036_854_775_808_u64);
    let answer = api
        .post(
            "/v1/mutations",
            &token,
            json!({"mutations": [{"id": uuid::Uuid::now_v7(), "kind": "submit_request",
                                  "payload": {}, "base_version": too_big}]}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
    let answer = api
        .post(
            &format!("/v1/requests/{}/actions", uuid::Uuid::now_v7()),
            &token,
            json!({"action": {"kind": "withdraw"}, "expected_version": too_big}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
}

#[tokio::test]
async fn an_empty_page_cursor_is_malformed_like_any_other_non_timestamp() {
    // The document says `before` is a date-time; an empty one was taken as "first page".
    let (api, token) = demo().await;
    let answer = api
        .call(Method::GET, "/v1/requests?before=", Some(&token), None)
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
    let answer = api.get("/v1/requests", &token).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
}
