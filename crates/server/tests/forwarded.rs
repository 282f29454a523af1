//! Behind a load balancer: the client's address comes from `X-Forwarded-For` only when the
//! balancer is a trusted proxy, so the audit log and per-source throttling see the person's
//! address, and a client cannot pick its own.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use countersign_server::settings::Settings;
use countersign_testkit::{TestDb, TestServer};
use serde_json::json;

async fn failed_sign_in_source(server: &TestServer, forwarded_for: &str) -> Option<String> {
    let answer = reqwest::Client::new()
        .post(format!("{}/v1/sessions", server.url()))
        .header("X-Forwarded-For", forwarded_for)
        .json(&json!({"username": "nobody", "password": "wrong password", "device_name": "t"}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 401);
    let lines = server.state.store.audit_lines(0, 10_000).await.unwrap();
    lines.last().unwrap().entry.source.clone()
}

#[tokio::test]
async fn a_trusted_balancer_forwards_the_clients_address_and_nobody_else_can() {
    // The test client connects from 127.0.0.1: as the balancer here.
    let settings = Settings {
        trusted_proxies: vec!["127.0.0.0/8".parse().unwrap()],
        ..Settings::default()
    };
    let server = TestServer::start_with(TestDb::sqlite(), settings).await;
    assert_eq!(
        failed_sign_in_source(&server, "198.51.100.9, 203.0.113.7")
            .await
            .as_deref(),
        Some("203.0.113.7"),
        "the address the balancer saw, not what the client wrote before it"
    );
    server.stop().await;

    let server = TestServer::start(TestDb::sqlite()).await;
    assert_eq!(
        failed_sign_in_source(&server, "203.0.113.7")
            .await
            .as_deref(),
        Some("127.0.0.1"),
        "without a trusted proxy the header is ignored"
    );
}
