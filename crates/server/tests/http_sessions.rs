//! Sign-in and sessions through the router, without a socket (`Router::oneshot`): every
//! success and every refusal the contract promises, with its status, code and message.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use chrono::{DateTime, Duration, Utc};
use countersign_api::{ApiError, ErrorCode, Me, SessionInfo, SignInResponse, Tokens};
use countersign_server::clock::ManualClock;
use countersign_server::people::{NewPerson, add_person};
use countersign_server::settings::Settings;
use countersign_server::store::{self, Store};
use countersign_server::{AppState, http};
use countersign_testkit::TestDb;
use serde_json::{Value, json};
use tower::ServiceExt;

const PASSWORD: &str = "correct horse battery";

struct Api {
    router: Router,
    store: Arc<dyn Store>,
    clock: Arc<ManualClock>,
    _db: TestDb,
}

fn start() -> DateTime<Utc> {
    DateTime::from_timestamp(1_790_000_000, 0).unwrap()
}

impl Api {
    async fn new() -> Self {
        Self::with(Settings {
            max_body_bytes: 4096,
            ..Settings::default()
        })
        .await
    }

    async fn with(settings: Settings) -> Self {
        let db = TestDb::sqlite();
        let store = store::open(db.url()).await.unwrap();
        let clock = Arc::new(ManualClock::new(start()));
        let state = AppState::new(store.clone(), clock.clone(), settings).unwrap();
        state.prepare().await.unwrap();
        add_person(
            store.as_ref(),
            NewPerson {
                username: "li.wei".into(),
                display_name: "李伟".into(),
                email: None,
                department_code: None,
                manager_username: None,
                roles: vec!["employee".into(), "hr".into()],
                positions: vec![],
            },
            PASSWORD.into(),
            start(),
        )
        .await
        .unwrap();
        Self {
            router: http::router(state),
            store,
            clock,
            _db: db,
        }
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value, header::HeaderMap) {
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
        .unwrap();
        self.send(req).await
    }

    async fn send(&self, req: Request<Body>) -> (StatusCode, Value, header::HeaderMap) {
        let response = self.router.clone().oneshot(req).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                panic!(
                    "every answer is JSON, got {:?}",
                    String::from_utf8_lossy(&bytes)
                )
            })
        };
        (status, value, headers)
    }

    async fn sign_in(&self, username: &str, password: &str) -> (StatusCode, Value) {
        let body = json!({"username": username, "password": password, "device_name": "laptop"});
        let (s, v, _) = self
            .call(Method::POST, "/v1/sessions", None, Some(body))
            .await;
        (s, v)
    }

    async fn signed_in(&self) -> Tokens {
        let (status, body) = self.sign_in("li.wei", PASSWORD).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        serde_json::from_value::<SignInResponse>(body)
            .unwrap()
            .tokens
    }
}

fn error(body: &Value) -> ApiError {
    serde_json::from_value(body.clone()).unwrap_or_else(|_| panic!("an ApiError body: {body}"))
}

#[tokio::test]
async fn signing_in_returns_tokens_and_the_person() {
    let api = Api::new().await;
    let (status, body) = api.sign_in("  Li.Wei ", PASSWORD).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "user names are case-insensitive: {body}"
    );
    let response: SignInResponse = serde_json::from_value(body).unwrap();
    assert_eq!(response.person.display_name, "李伟");
    assert_eq!(response.person.roles, vec!["employee", "hr"]);
    assert!(response.tokens.access_token.starts_with("csa_"));
    assert_eq!(
        response.tokens.access_expires_at,
        start() + Duration::minutes(15)
    );

    let (status, me, _) = api
        .call(
            Method::GET,
            "/v1/me",
            Some(&response.tokens.access_token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(serde_json::from_value::<Me>(me).unwrap().username, "li.wei");
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_are_refused_alike() {
    let api = Api::new().await;
    let (s1, wrong_password) = api.sign_in("li.wei", "not the password").await;
    let (s2, unknown_user) = api.sign_in("nobody.here", PASSWORD).await;
    assert_eq!(
        (s1, s2),
        (StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED)
    );
    let (a, b) = (error(&wrong_password), error(&unknown_user));
    assert_eq!(a.code, ErrorCode::InvalidCredentials);
    assert_eq!(a, b, "the answer must not reveal which accounts exist");
    assert_eq!(a.message, "Wrong user name or password.");
}

#[tokio::test]
async fn repeated_failures_lock_the_account_and_say_for_how_long() {
    let api = Api::new().await;
    for _ in 0..5 {
        let (status, _) = api.sign_in("li.wei", "guess").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    // Locked now: even the right password is refused until the lock ends.
    let (status, body) = api.sign_in("li.wei", PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let err = error(&body);
    assert_eq!(err.code, ErrorCode::LoginThrottled);
    assert_eq!(err.retry_after_secs, Some(30));
    assert!(err.message.contains("Try again in 30 s"), "{}", err.message);

    api.clock.advance(Duration::seconds(12));
    let body = json!({"username": "li.wei", "password": PASSWORD, "device_name": "x"});
    let (_, body, headers) = api
        .call(Method::POST, "/v1/sessions", None, Some(body))
        .await;
    assert_eq!(
        error(&body).retry_after_secs,
        Some(18),
        "the wait counts down"
    );
    assert_eq!(headers.get(header::RETRY_AFTER).unwrap(), "18");

    api.clock.advance(Duration::seconds(18));
    let (status, _) = api.sign_in("li.wei", PASSWORD).await;
    assert_eq!(status, StatusCode::CREATED, "the lock ends on time");
}

#[tokio::test]
async fn many_failures_from_one_source_lock_that_source_for_every_account() {
    let mut settings = Settings::default();
    settings.auth.source_throttle.free_failures = 3;
    let api = Api::with(settings).await;
    // Guessing across many accounts never trips a per-account lock…
    for name in ["a.one", "b.two", "c.three"] {
        let (status, _) = api.sign_in(name, "guess").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    // …but the source is now locked, for a real account too.
    let (status, body) = api.sign_in("li.wei", PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(error(&body).retry_after_secs, Some(60));
    api.clock.advance(Duration::seconds(60));
    let (status, _) = api.sign_in("li.wei", PASSWORD).await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn a_refresh_rotates_and_a_replayed_refresh_ends_the_session() {
    let api = Api::new().await;
    let first = api.signed_in().await;
    api.clock.advance(Duration::minutes(20));

    let (status, _, _) = api
        .call(Method::GET, "/v1/me", Some(&first.access_token), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (_, body, _) = api
        .call(Method::GET, "/v1/me", Some(&first.access_token), None)
        .await;
    assert_eq!(error(&body).code, ErrorCode::TokenExpired);

    let refresh = json!({"refresh_token": first.refresh_token});
    let (status, body, _) = api
        .call(
            Method::POST,
            "/v1/sessions/refresh",
            None,
            Some(refresh.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let second: Tokens = serde_json::from_value(body).unwrap();
    assert_eq!(second.session_id, first.session_id);
    assert_ne!(second.refresh_token, first.refresh_token);
    let (status, _, _) = api
        .call(Method::GET, "/v1/me", Some(&second.access_token), None)
        .await;
    assert_eq!(status, StatusCode::OK);

    // The first refresh token again: a copy is loose, so the whole session ends.
    let (status, body, _) = api
        .call(Method::POST, "/v1/sessions/refresh", None, Some(refresh))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error(&body).code, ErrorCode::RefreshReused);
    let (_, body, _) = api
        .call(Method::GET, "/v1/me", Some(&second.access_token), None)
        .await;
    assert_eq!(
        error(&body).code,
        ErrorCode::SessionRevoked,
        "the live pair died too"
    );
}

#[tokio::test]
async fn sessions_are_listed_per_device_and_revocable_by_their_owner_only() {
    let api = Api::new().await;
    let laptop = api.signed_in().await;
    api.clock.advance(Duration::seconds(5));
    let desktop = api.signed_in().await;
    let (status, body, _) = api
        .call(
            Method::GET,
            "/v1/sessions",
            Some(&desktop.access_token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let sessions: Vec<SessionInfo> = serde_json::from_value(body).unwrap();
    assert_eq!(sessions.len(), 2);
    assert!(sessions[0].current && sessions[0].id == desktop.session_id);
    assert!(!sessions[1].current);

    // Another person cannot revoke li.wei's session, and learns nothing about it.
    add_person(
        api.store.as_ref(),
        NewPerson {
            username: "wang.fang".into(),
            display_name: "王芳".into(),
            email: None,
            department_code: None,
            manager_username: None,
            roles: vec![],
            positions: vec![],
        },
        PASSWORD.into(),
        start(),
    )
    .await
    .unwrap();
    let (_, body) = api.sign_in("wang.fang", PASSWORD).await;
    let other = serde_json::from_value::<SignInResponse>(body)
        .unwrap()
        .tokens;
    let path = format!("/v1/sessions/{}", laptop.session_id);
    let (status, body, _) = api
        .call(Method::DELETE, &path, Some(&other.access_token), None)
        .await;
    assert_eq!(
        (status, error(&body).code),
        (StatusCode::NOT_FOUND, ErrorCode::NotFound)
    );

    let (status, _, _) = api
        .call(Method::DELETE, &path, Some(&desktop.access_token), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, body, _) = api
        .call(Method::GET, "/v1/me", Some(&laptop.access_token), None)
        .await;
    assert_eq!(error(&body).code, ErrorCode::SessionRevoked);
    let refresh = json!({"refresh_token": laptop.refresh_token});
    let (_, body, _) = api
        .call(Method::POST, "/v1/sessions/refresh", None, Some(refresh))
        .await;
    assert_eq!(
        error(&body).code,
        ErrorCode::SessionRevoked,
        "a revoked session cannot be refreshed"
    );
}

#[tokio::test]
async fn a_disabled_account_cannot_sign_in_or_use_its_tokens() {
    let api = Api::new().await;
    let tokens = api.signed_in().await;
    let pool = sqlx::SqlitePool::connect(api._db.url()).await.unwrap();
    sqlx::query("UPDATE people SET status = 'departed' WHERE username = 'li.wei'")
        .execute(&pool)
        .await
        .unwrap();
    let (status, body, _) = api
        .call(Method::GET, "/v1/me", Some(&tokens.access_token), None)
        .await;
    assert_eq!(
        (status, error(&body).code),
        (StatusCode::FORBIDDEN, ErrorCode::AccountDisabled)
    );
    let (status, body) = api.sign_in("li.wei", PASSWORD).await;
    assert_eq!(
        (status, error(&body).code),
        (StatusCode::FORBIDDEN, ErrorCode::AccountDisabled)
    );
}

#[tokio::test]
async fn bad_tokens_get_precise_codes() {
    let api = Api::new().await;
    let (_, body, _) = api.call(Method::GET, "/v1/me", None, None).await;
    assert_eq!(error(&body).code, ErrorCode::Unauthenticated);
    let (_, body, _) = api
        .call(Method::GET, "/v1/me", Some("csa_forged"), None)
        .await;
    assert_eq!(error(&body).code, ErrorCode::TokenInvalid);
    let req = Request::get("/v1/me")
        .header(header::AUTHORIZATION, "Basic abc")
        .body(Body::empty())
        .unwrap();
    let (status, body, _) = api.send(req).await;
    assert_eq!(
        (status, error(&body).code),
        (StatusCode::UNAUTHORIZED, ErrorCode::Unauthenticated)
    );
}

#[tokio::test]
async fn malformed_bodies_are_typed_errors_that_say_what_is_wrong() {
    let api = Api::new().await;
    let send_raw = |content_type: &'static str, body: Vec<u8>| {
        Request::post("/v1/sessions")
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .unwrap()
    };
    let (status, body, _) = api
        .send(send_raw("application/json", b"{not json".to_vec()))
        .await;
    assert_eq!(
        (status, error(&body).code),
        (StatusCode::BAD_REQUEST, ErrorCode::MalformedRequest)
    );

    let unknown =
        json!({"username": "a", "password": "b", "device_name": "c", "remember_me": true});
    let (status, body, _) = api
        .call(Method::POST, "/v1/sessions", None, Some(unknown))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        error(&body).message.contains("remember_me"),
        "names the field: {body}"
    );

    let (status, body, _) = api.send(send_raw("text/plain", b"{}".to_vec())).await;
    assert_eq!(
        (status, error(&body).code),
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedMediaType
        )
    );

    let (status, body, _) = api
        .send(send_raw("application/json", vec![0xff, 0xfe, 0x00]))
        .await;
    assert_eq!(
        (status, error(&body).code),
        (StatusCode::BAD_REQUEST, ErrorCode::MalformedRequest)
    );

    let huge = json!({"username": "a", "password": "x".repeat(10_000), "device_name": "c"});
    let (status, body, _) = api
        .call(Method::POST, "/v1/sessions", None, Some(huge))
        .await;
    assert_eq!(
        (status, error(&body).code),
        (StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::PayloadTooLarge)
    );

    let empty = json!({"username": "", "password": "", "device_name": "c"});
    let (status, _, _) = api
        .call(Method::POST, "/v1/sessions", None, Some(empty))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_in_json() {
    let api = Api::new().await;
    let (status, body, _) = api.call(Method::GET, "/v1/nothing-here", None, None).await;
    assert_eq!(
        (status, error(&body).code),
        (StatusCode::NOT_FOUND, ErrorCode::NotFound)
    );
    let (status, body, _) = api.call(Method::PUT, "/v1/sessions", None, None).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(error(&body).code, ErrorCode::MalformedRequest);
    let (status, body, _) = api
        .call(
            Method::DELETE,
            "/v1/sessions/not-a-uuid",
            Some("csa_x"),
            None,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "authentication comes before parsing: {body}"
    );
}

#[tokio::test]
async fn health_readiness_and_identity_need_no_token() {
    let api = Api::new().await;
    let (status, body, _) = api.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("ok"))
    );
    let (status, body, _) = api.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["detail"], "database: sqlite");
    let (status, body, _) = api.call(Method::GET, "/v1/info", None, None).await;
    assert_eq!(
        (
            status,
            body["service"].as_str(),
            body["api_version"].as_u64()
        ),
        (StatusCode::OK, Some("countersign"), Some(1))
    );

    api.store.close().await;
    let (status, body, _) = api.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("unavailable"))
    );
}

#[tokio::test]
async fn every_sign_in_attempt_is_audited() {
    let api = Api::new().await;
    api.sign_in("li.wei", "wrong").await;
    api.signed_in().await;
    let all = api.store.audit_lines(0, 1000).await.unwrap();
    let lines: Vec<_> = all
        .iter()
        .filter(|l| l.entry.action == "session.create")
        .collect();
    let outcomes: Vec<(&str, &str, &str)> = lines
        .iter()
        .map(|l| {
            (
                l.entry.actor.as_str(),
                l.entry.action.as_str(),
                l.entry.outcome.as_str(),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        vec![
            ("anonymous", "session.create", "invalid_credentials"),
            ("li.wei", "session.create", "ok"),
        ]
    );
    assert_eq!(lines[1].entry.device.as_deref(), Some("laptop"));
    assert_eq!(
        store::verify_audit_chain(api.store.as_ref()).await.unwrap(),
        Ok(i64::try_from(all.len()).unwrap()),
        "the whole chain, set-up included, verifies"
    );
}
