//! The fault proxy in front of the real server, driven by reqwest (or raw TCP where the test
//! must own the connection): each fault does what it says, to the request it was meant for,
//! and the server's store shows what really reached it. Every wait has a deadline.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use countersign_api::SignInResponse;
use countersign_server::settings::Settings;
use countersign_testkit::{Fault, FaultProxy, Observed, TestDb, TestServer};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use uuid::Uuid;

/// Generous: it only costs time when a test fails.
const WAIT: Duration = Duration::from_secs(10);
const PASSWORD: &str = "correct horse battery staple";

struct Setup {
    server: TestServer,
    proxy: FaultProxy,
    http: reqwest::Client,
    person: Uuid,
}

async fn setup() -> Setup {
    setup_with(Settings::default()).await
}

async fn setup_with(settings: Settings) -> Setup {
    let server = TestServer::start_with(TestDb::sqlite(), settings).await;
    let person = server.add_person("ana.li", PASSWORD, &["employee"]).await;
    let proxy = FaultProxy::start(server.addr).await;
    Setup {
        server,
        proxy,
        http: reqwest::Client::new(),
        person: person.id,
    }
}

impl Setup {
    /// Signs in through the proxy, naming the session after `device`.
    async fn sign_in(&self, device: &str) -> reqwest::Result<SignInResponse> {
        self.http
            .post(format!("{}/v1/sessions", self.proxy.url()))
            .json(&json!({"username": "ana.li", "password": PASSWORD, "device_name": device}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await
    }

    async fn healthz(&self) -> reqwest::Result<String> {
        healthz(&self.http, &self.proxy).await
    }

    /// Which sessions the server really opened on `device`, read from its store.
    async fn sessions_on(&self, device: &str) -> Vec<Uuid> {
        self.server
            .state
            .store
            .list_sessions(self.person)
            .await
            .unwrap()
            .into_iter()
            .filter(|s| s.device_name == device)
            .map(|s| s.id)
            .collect()
    }

    async fn open_events(&self, token: &str) -> reqwest::Response {
        let response = self
            .http
            .get(format!("{}/v1/events", self.proxy.url()))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "the event stream opens");
        response
    }
}

async fn healthz(http: &reqwest::Client, proxy: &FaultProxy) -> reqwest::Result<String> {
    http.get(format!("{}/healthz", proxy.url()))
        .send()
        .await?
        .error_for_status()?
        .text()
        .await
}

/// Reads the event stream until its text so far contains `wanted`; panics at the deadline.
async fn read_until(events: &mut reqwest::Response, seen: &mut String, wanted: &str) {
    let reading = async {
        while !seen.contains(wanted) {
            let chunk = events.chunk().await.unwrap().expect("the stream goes on");
            seen.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    };
    tokio::time::timeout(WAIT, reading)
        .await
        .unwrap_or_else(|_| panic!("{wanted:?} not on the stream within {WAIT:?}: {seen:?}"));
}

fn faults(seen: &Observed) -> Vec<(String, Fault)> {
    seen.requests
        .iter()
        .map(|e| (format!("{} {}", e.method, e.target), e.fault.clone()))
        .collect()
}

fn request(line: &str, fault: Fault) -> (String, Fault) {
    (line.to_owned(), fault)
}

/// `GET /healthz` over a connection the test owns, reading one `Content-Length` response.
async fn healthz_on(conn: &mut TcpStream) -> std::io::Result<String> {
    conn.write_all(b"GET /healthz HTTP/1.1\r\nhost: countersign\r\n\r\n")
        .await?;
    let mut got = Vec::new();
    loop {
        let mut buf = [0u8; 4096];
        let n = conn.read(&mut buf).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        got.extend_from_slice(&buf[..n]);
        let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&got[..end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .expect("a sized /healthz answer")
            .trim()
            .parse()
            .unwrap();
        let body = end + 4..end + 4 + length;
        if got.len() >= body.end {
            return Ok(String::from_utf8(got[body].to_vec()).unwrap());
        }
    }
}

#[tokio::test]
async fn faults_apply_per_request_on_a_kept_alive_connection() {
    let s = setup().await;
    let mut conn = TcpStream::connect(s.proxy.addr()).await.unwrap();
    let first = healthz_on(&mut conn).await.unwrap();
    assert!(first.contains("ok"), "the first request passes: {first}");

    s.proxy.once(Fault::DropResponse);
    let second = healthz_on(&mut conn).await;
    assert!(
        second.is_err(),
        "the fault hits the second request on the same connection: {second:?}"
    );
    let seen = s.proxy.observed();
    assert_eq!(seen.connections_accepted, 1, "one connection carried both");
    assert_eq!(
        faults(&seen),
        [
            request("GET /healthz", Fault::Pass),
            request("GET /healthz", Fault::DropResponse)
        ]
    );
    assert_eq!(
        (seen.forwarded, seen.answered),
        (2, 2),
        "both reached the server and were answered"
    );
}

#[tokio::test]
async fn pass_forwards_requests_and_an_event_stream_as_it_flows() {
    let s = setup_with(Settings {
        events_heartbeat_secs: 1,
        ..Settings::default()
    })
    .await;
    let signed = s.sign_in("laptop").await.unwrap();
    assert!(s.healthz().await.unwrap().contains("ok"));

    let mut events = s.open_events(&signed.tokens.access_token).await;
    let mut seen = String::new();
    // A stream without Last-Event-ID starts with the head; the heartbeat comes later. Both
    // arriving shows the proxy streams a response that never ends instead of buffering it.
    read_until(&mut events, &mut seen, "data:").await;
    read_until(&mut events, &mut seen, "heartbeat").await;

    let observed = s.proxy.observed();
    assert_eq!(
        faults(&observed),
        [
            request("POST /v1/sessions", Fault::Pass),
            request("GET /healthz", Fault::Pass),
            request("GET /v1/events", Fault::Pass)
        ]
    );
    assert_eq!(observed.forwarded, 3);
    assert_eq!(observed.answered, 2, "the event stream is still going");
    assert!(observed.bytes_to_client >= seen.len() as u64);

    // A client that goes away is let go of, stream and all.
    drop(events);
    drop(s.http);
    s.proxy
        .wait_until(WAIT, "every client connection closed", |o| {
            o.connections_open == 0
        })
        .await;
}

#[tokio::test]
async fn offline_refuses_connections_and_ends_open_streams_until_online() {
    let s = setup().await;
    let signed = s.sign_in("laptop").await.unwrap();
    let mut events = s.open_events(&signed.tokens.access_token).await;
    let mut seen = String::new();
    read_until(&mut events, &mut seen, "data:").await;

    s.proxy.offline().await;
    let after = tokio::time::timeout(WAIT, events.chunk())
        .await
        .expect("the stream ends at once");
    assert!(
        after.is_err(),
        "an open stream is cut, not ended cleanly: {after:?}"
    );
    let refused = TcpStream::connect(s.proxy.addr()).await.unwrap_err();
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
    let fresh = reqwest::Client::new();
    let error = healthz(&fresh, &s.proxy).await.unwrap_err();
    assert!(
        error.is_connect(),
        "a client sees a server that is down: {error:?}"
    );

    s.proxy.online().await;
    assert!(healthz(&fresh, &s.proxy).await.unwrap().contains("ok"));
    assert!(
        s.healthz().await.unwrap().contains("ok"),
        "on the same port"
    );
}

#[tokio::test]
async fn cut_response_after_gives_the_client_a_body_error() {
    let s = setup().await;
    s.proxy
        .once_on("GET /healthz", Fault::CutResponseAfter { body_bytes: 5 });
    let response = s
        .http
        .get(format!("{}/healthz", s.proxy.url()))
        .send()
        .await
        .expect("the head arrives whole");
    assert_eq!(response.status(), 200);
    let body = response.text().await;
    assert!(body.is_err(), "the body is cut short: {body:?}");

    assert!(
        s.healthz().await.unwrap().contains("ok"),
        "the fault was for one request"
    );
    let seen = s.proxy.observed();
    assert_eq!(
        faults(&seen),
        [
            request("GET /healthz", Fault::CutResponseAfter { body_bytes: 5 }),
            request("GET /healthz", Fault::Pass)
        ]
    );
    assert_eq!(seen.connections_accepted, 2, "the cut connection is gone");
}

#[tokio::test]
async fn drop_response_the_server_acts_and_the_client_hears_nothing() {
    let s = setup().await;
    s.proxy.once_on("POST /v1/sessions", Fault::DropResponse);
    assert!(
        s.healthz().await.unwrap().contains("ok"),
        "other requests pass the fault by"
    );

    let lost = s.sign_in("lost answer").await.unwrap_err();
    assert!(
        lost.status().is_none(),
        "no answer at all reached the client: {lost:?}"
    );
    assert_eq!(
        s.sessions_on("lost answer").await.len(),
        1,
        "yet the server opened the session"
    );
    let seen = s.proxy.observed();
    assert_eq!((seen.forwarded, seen.answered), (2, 2));
    assert_eq!(
        faults(&seen)[1],
        request("POST /v1/sessions", Fault::DropResponse)
    );

    s.sign_in("lost answer").await.unwrap();
    assert_eq!(
        s.sessions_on("lost answer").await.len(),
        2,
        "a retry opens another"
    );
}

#[tokio::test]
async fn duplicate_request_reaches_the_server_twice_and_the_client_hears_once() {
    let s = setup().await;
    s.proxy.once(Fault::DuplicateRequest);
    let signed = s.sign_in("twice").await.unwrap();

    let opened = s.sessions_on("twice").await;
    assert_eq!(opened.len(), 2, "the server handled the request twice");
    assert!(
        opened.contains(&signed.tokens.session_id),
        "the client got one of the two answers"
    );
    let seen = s.proxy.observed();
    assert_eq!(seen.requests.len(), 1, "the client sent it once");
    assert_eq!((seen.forwarded, seen.answered), (2, 2));
}

#[tokio::test]
async fn drop_request_never_reaches_the_server() {
    let s = setup().await;
    s.proxy.set(Fault::DropRequest);
    let lost = s.sign_in("never").await.unwrap_err();
    assert!(lost.status().is_none(), "no answer: {lost:?}");
    assert!(s.sessions_on("never").await.is_empty());

    s.proxy.set(Fault::Pass);
    s.sign_in("never").await.unwrap();
    let seen = s.proxy.wait_for_requests(2, WAIT).await;
    assert_eq!(seen.forwarded, 1, "only the second sign-in was sent on");
    assert_eq!(s.sessions_on("never").await.len(), 1);
}

#[tokio::test]
async fn latency_holds_each_request_back() {
    let s = setup().await;
    let latency = Duration::from_millis(300);
    s.proxy.set_latency(latency);
    let started = Instant::now();
    assert!(s.healthz().await.unwrap().contains("ok"));
    assert!(started.elapsed() >= latency, "{:?}", started.elapsed());
}

#[tokio::test]
async fn hold_request_waits_for_release_before_the_server_hears_of_it() {
    let s = setup().await;
    s.proxy.once_on("POST /v1/sessions", Fault::HoldRequest);
    let signing_in = tokio::spawn({
        let http = s.http.clone();
        let url = s.proxy.url();
        async move {
            http.post(format!("{url}/v1/sessions"))
                .json(&json!({"username": "ana.li", "password": PASSWORD, "device_name": "held"}))
                .send()
                .await
                .and_then(reqwest::Response::error_for_status)
        }
    });
    let seen = s.proxy.wait_until(WAIT, "the hold", |o| o.held == 1).await;
    assert_eq!(seen.forwarded, 0, "held before the server");
    assert!(
        s.sessions_on("held").await.is_empty(),
        "the server has not heard of it"
    );
    s.proxy.release();
    let answer = tokio::time::timeout(WAIT, signing_in)
        .await
        .unwrap()
        .unwrap();
    assert!(answer.is_ok(), "released, it passes: {answer:?}");
    assert_eq!(s.sessions_on("held").await.len(), 1);
}

#[tokio::test]
async fn hold_response_keeps_the_answer_until_release_after_the_server_acted() {
    let s = setup().await;
    s.proxy.once_on("POST /v1/sessions", Fault::HoldResponse);
    let signing_in = tokio::spawn({
        let http = s.http.clone();
        let url = s.proxy.url();
        async move {
            http.post(format!("{url}/v1/sessions"))
                .json(&json!({"username": "ana.li", "password": PASSWORD, "device_name": "late"}))
                .send()
                .await
        }
    });
    let seen = s.proxy.wait_until(WAIT, "the hold", |o| o.held == 1).await;
    assert_eq!((seen.forwarded, seen.answered), (1, 1));
    assert_eq!(
        s.sessions_on("late").await.len(),
        1,
        "the server acted while the client waits"
    );
    assert!(!signing_in.is_finished(), "the client has not heard");
    s.proxy.release();
    let answer = tokio::time::timeout(WAIT, signing_in)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(answer.status(), reqwest::StatusCode::CREATED);
}
