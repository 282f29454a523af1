//! The API through the router without a socket (`Router::oneshot`), on a fresh database with
//! a manual clock: for handler tests that check every status, code and body.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use chrono::{DateTime, Utc};
use countersign_api::{ApiError, SignInResponse};
use countersign_server::clock::ManualClock;
use countersign_server::settings::Settings;
use countersign_server::store::{self, Store};
use countersign_server::{AppState, http};
use serde_json::Value;
use tower::ServiceExt;

use crate::TestDb;

/// An answer: status, JSON body (`Null` when empty) and headers.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
    pub headers: HeaderMap,
}

impl Answer {
    /// The body as an error; panics with the body when it is not one.
    pub fn error(&self) -> ApiError {
        serde_json::from_value(self.body.clone())
            .unwrap_or_else(|_| panic!("an ApiError body, got {} {}", self.status, self.body))
    }

    /// The body as `T`; panics with status and body when it does not fit.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> T {
        serde_json::from_value(self.body.clone())
            .unwrap_or_else(|e| panic!("{e}: {} {}", self.status, self.body))
    }
}

pub struct TestApi {
    pub router: Router,
    pub state: AppState,
    pub clock: Arc<ManualClock>,
    pub db: TestDb,
}

impl TestApi {
    /// A prepared server (template library published) on SQLite at `now`.
    pub async fn new(now: DateTime<Utc>) -> Self {
        Self::with(TestDb::sqlite(), now, Settings::default()).await
    }

    pub async fn with(db: TestDb, now: DateTime<Utc>, settings: Settings) -> Self {
        let store = store::open(db.url()).await.expect("open the test database");
        let clock = Arc::new(ManualClock::new(now));
        let state = AppState::new(store, clock.clone(), settings).expect("server state");
        state.prepare().await.expect("prepare the test database");
        Self {
            router: http::router(state.clone()),
            state,
            clock,
            db,
        }
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.state.store
    }

    /// Seeds the demo organisation (20 people, password `countersign-demo`).
    pub async fn seed_demo(&self) {
        let now = countersign_server::clock::Clock::now(self.clock.as_ref());
        countersign_server::seed::seed_demo(self.state.store.as_ref(), now)
            .await
            .expect("seed the demo organisation");
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let req = match body {
            Some(b) => req
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(b.to_string())),
            None => req.body(Body::empty()),
        }
        .expect("a request");
        self.send(req).await
    }

    /// Sends `req` and reads the answer. An event stream (`text/event-stream`) never ends,
    /// so only its status and headers are read: its body is `Null` and the stream is dropped.
    pub async fn send(&self, req: Request<Body>) -> Answer {
        let response = self.router.clone().oneshot(req).await.expect("an answer");
        let status = response.status();
        let headers = response.headers().clone();
        let streaming = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        if streaming {
            return Answer {
                status,
                body: Value::Null,
                headers,
            };
        }
        let bytes = axum::body::to_bytes(response.into_body(), 64 << 20)
            .await
            .expect("the body");
        Self::answer(status, headers, &bytes)
    }

    fn answer(status: StatusCode, headers: HeaderMap, bytes: &[u8]) -> Answer {
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(bytes).unwrap_or_else(|_| {
                panic!(
                    "every answer is JSON, got {status} {:?}",
                    String::from_utf8_lossy(bytes)
                )
            })
        };
        Answer {
            status,
            body,
            headers,
        }
    }

    /// Sends `req` and answers status, headers and the body's bytes, for answers that are
    /// files rather than JSON.
    pub async fn send_raw(&self, req: Request<Body>) -> (StatusCode, HeaderMap, Vec<u8>) {
        let response = self.router.clone().oneshot(req).await.expect("an answer");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), 64 << 20)
            .await
            .expect("the body");
        (status, headers, bytes.to_vec())
    }

    /// Uploads `bytes` as an attachment named `name` (URL-encoded here), declared as
    /// `content_type`.
    pub async fn upload(
        &self,
        token: &str,
        name: &str,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> Answer {
        let name: String = url::form_urlencoded::byte_serialize(name.as_bytes()).collect();
        let req = Request::builder()
            .method(Method::POST)
            .uri(format!("/v1/attachments?name={name}"))
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(bytes))
            .expect("a request");
        let (status, headers, body) = self.send_raw(req).await;
        Self::answer(status, headers, &body)
    }

    pub async fn get(&self, path: &str, token: &str) -> Answer {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Answer {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    /// Signs `username` in and returns the access token.
    pub async fn token(&self, username: &str, password: &str) -> String {
        let body =
            serde_json::json!({"username": username, "password": password, "device_name": "test"});
        let answer = self
            .call(Method::POST, "/v1/sessions", None, Some(body))
            .await;
        assert_eq!(
            answer.status,
            StatusCode::CREATED,
            "sign in {username}: {}",
            answer.body
        );
        answer.json::<SignInResponse>().tokens.access_token
    }
}
