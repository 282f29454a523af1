//! What the live-event and replica tests share: a real HTTP client for a `TestServer`, and a
//! reader of Server-Sent Events over it that waits on frames with a deadline (never a sleep).

// Each test file uses a different part of this.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use countersign_api::SignInResponse;
use countersign_api::requests::RequestView;
use countersign_api::sync::{EventHint, SyncPage};
use countersign_testkit::TestServer;
pub use countersign_testkit::tuesday_morning;
use serde_json::{Value, json};
use uuid::Uuid;

pub const PW: &str = countersign_server::seed::DEMO_PASSWORD;

/// How long a test waits for something that should happen. Generous, because it only costs
/// time when the test fails.
pub const WAIT: Duration = Duration::from_secs(10);

pub async fn seed_demo(server: &TestServer) {
    let now = server.state.clock.now();
    countersign_server::seed::seed_demo(server.state.store.as_ref(), now)
        .await
        .expect("seed the demo organisation");
}

pub async fn person_id(server: &TestServer, username: &str) -> Uuid {
    server
        .state
        .store
        .find_person_by_username(username)
        .await
        .unwrap()
        .unwrap()
        .id
}

/// A signed-in person talking to one server over TCP.
#[derive(Clone)]
pub struct Client {
    pub base: String,
    pub token: String,
    http: reqwest::Client,
}

impl Client {
    pub async fn sign_in(server: &TestServer, username: &str) -> Self {
        let http = reqwest::Client::new();
        let base = server.url();
        let answer = http
            .post(format!("{base}/v1/sessions"))
            .json(&json!({"username": username, "password": PW, "device_name": "test"}))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 201, "sign in {username}");
        let token = answer
            .json::<SignInResponse>()
            .await
            .unwrap()
            .tokens
            .access_token;
        Self { base, token, http }
    }

    /// The same person's token against another replica (one database, one session table).
    pub fn on(&self, server: &TestServer) -> Self {
        Self {
            base: server.url(),
            ..self.clone()
        }
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let answer = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = answer.status().as_u16();
        (status, answer.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let answer = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        let status = answer.status().as_u16();
        (status, answer.json().await.unwrap_or(Value::Null))
    }

    /// Submits a two-day annual leave.
    pub async fn submit_leave(&self) -> RequestView {
        let (status, body) = self
            .post(
                "/v1/requests",
                json!({
                    "template_id": "leave",
                    "form": {
                        "leave_type": "annual",
                        "reason": "family visit",
                        "period": {"start": "2026-12-07", "end": "2026-12-08"}
                    }
                }),
            )
            .await;
        assert_eq!(status, 201, "submit: {body}");
        serde_json::from_value(body).unwrap()
    }

    /// Approves the open task of `request` that waits for `me`.
    pub async fn approve(&self, request: &RequestView, me: Uuid) -> RequestView {
        let task = request.open_tasks_for(me).next().expect("a task for me");
        let (status, body) = self
            .post(
                &format!("/v1/requests/{}/actions", request.id),
                json!({"action": {"kind": "approve", "task": task}, "expected_version": request.version}),
            )
            .await;
        assert_eq!(status, 200, "approve: {body}");
        serde_json::from_value(body).unwrap()
    }

    /// Every change after `after` (from the start when `None`), and the cursor at the end.
    pub async fn pull(&self, after: Option<&str>) -> (Vec<countersign_api::sync::Change>, String) {
        let mut changes = Vec::new();
        let mut cursor = after.map(str::to_owned);
        loop {
            let path = match &cursor {
                Some(c) => format!("/v1/sync?after={c}"),
                None => "/v1/sync".to_owned(),
            };
            let (status, body) = self.get(&path).await;
            assert_eq!(status, 200, "pull: {body}");
            let page: SyncPage = serde_json::from_value(body).unwrap();
            changes.extend(page.changes);
            cursor = Some(page.cursor);
            if !page.more {
                return (changes, cursor.unwrap_or_default());
            }
        }
    }

    pub async fn events(&self, last_event_id: Option<&str>) -> Events {
        Events::open(&self.http, &self.base, &self.token, last_event_id).await
    }
}

/// One frame of an event stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// An event: its SSE id and its data.
    Hint { id: String, hint: EventHint },
    /// A comment line (the heartbeat).
    Comment(String),
}

/// An open `GET /v1/events` over TCP.
pub struct Events {
    response: reqwest::Response,
    buffer: String,
}

impl Events {
    async fn open(
        http: &reqwest::Client,
        base: &str,
        token: &str,
        last_event_id: Option<&str>,
    ) -> Self {
        let mut request = http
            .get(format!("{base}/v1/events"))
            .bearer_auth(token)
            .header("accept", "text/event-stream");
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id);
        }
        let response = tokio::time::timeout(WAIT, request.send())
            .await
            .expect("the stream opens in time")
            .unwrap();
        assert_eq!(response.status(), 200);
        let kind = response.headers()["content-type"].to_str().unwrap();
        assert!(kind.starts_with("text/event-stream"), "{kind}");
        Self {
            response,
            buffer: String::new(),
        }
    }

    /// The next frame, `None` when the server ended the stream; panics after `within`.
    pub async fn next_frame_within(&mut self, within: Duration) -> Option<Frame> {
        tokio::time::timeout(within, self.read_frame())
            .await
            .unwrap_or_else(|_| panic!("no event-stream frame within {within:?}"))
    }

    pub async fn next_frame(&mut self) -> Option<Frame> {
        self.next_frame_within(WAIT).await
    }

    /// The next hint, skipping heartbeats; panics when the stream ends or nothing comes.
    pub async fn next_hint(&mut self) -> (String, EventHint) {
        loop {
            match self.next_frame().await {
                Some(Frame::Hint { id, hint }) => return (id, hint),
                Some(Frame::Comment(_)) => continue,
                None => panic!("the stream ended while a hint was expected"),
            }
        }
    }

    async fn read_frame(&mut self) -> Option<Frame> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                if let Some(frame) = parse_block(&block) {
                    return Some(frame);
                }
                continue;
            }
            let chunk = self.response.chunk().await.ok()??;
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }
}

fn parse_block(block: &str) -> Option<Frame> {
    let mut id = None;
    let mut data = String::new();
    let mut comment = None;
    for line in block.lines() {
        if let Some(rest) = line.strip_prefix(':') {
            comment = Some(rest.trim().to_owned());
        } else if let Some(rest) = line.strip_prefix("id:") {
            id = Some(rest.trim().to_owned());
        } else if let Some(rest) = line.strip_prefix("data:") {
            data.push_str(rest.trim());
        }
    }
    match (id, comment) {
        (Some(id), _) => Some(Frame::Hint {
            id,
            hint: serde_json::from_str(&data).expect("hint data is {\"cursor\": …}"),
        }),
        (None, Some(text)) => Some(Frame::Comment(text)),
        (None, None) => None,
    }
}

/// The sequence number inside a cursor (tests may look; clients must not).
pub fn seq_of(cursor: &str) -> i64 {
    countersign_server::sync::Cursor::decode(cursor)
        .expect("a cursor this server made")
        .seq
}
