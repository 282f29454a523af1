//! The `countersign` CLI against the real server on loopback, with its tokens in a real
//! Secret Service on a private D-Bus session.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, Utc};
use countersign_testkit::{DesktopSession, TestDb, TestServer, TlsFront};

const PASSWORD: &str = "correct horse battery";

struct Cli<'a> {
    session: &'a DesktopSession,
    home: PathBuf,
}

impl<'a> Cli<'a> {
    fn new(session: &'a DesktopSession) -> Self {
        let home = session
            .home()
            .join(format!("profile-{}", uuid::Uuid::now_v7().simple()));
        Self { session, home }
    }

    fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        self.run_with(&[], args, stdin)
    }

    /// `run` with extra environment variables, such as `SSL_CERT_FILE`.
    fn run_with(&self, env: &[(&str, &Path)], args: &[&str], stdin: Option<&str>) -> Output {
        let mut cmd: Command = self.session.command(env!("CARGO_BIN_EXE_countersign"));
        // Only what a test gives decides which certificate authorities are trusted.
        cmd.env_remove("SSL_CERT_FILE").env_remove("SSL_CERT_DIR");
        cmd.envs(env.iter().copied());
        cmd.arg("--home").arg(&self.home).args(args);
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let mut input = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            input.write_all(text.as_bytes()).unwrap();
        }
        drop(input);
        child.wait_with_output().unwrap()
    }

    fn login(&self, server: &str, user: &str, password: &str) -> Output {
        self.login_with(&[], server, user, password)
    }

    fn login_with(
        &self,
        env: &[(&str, &Path)],
        server: &str,
        user: &str,
        password: &str,
    ) -> Output {
        self.run_with(
            env,
            &[
                "login",
                "--server",
                server,
                "--user",
                user,
                "--password-stdin",
            ],
            Some(password),
        )
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// True when any file under `dir` contains `needle`.
fn any_file_contains(dir: &Path, needle: &str) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|e| {
        let path = e.path();
        if path.is_dir() {
            any_file_contains(&path, needle)
        } else {
            std::fs::read(&path).is_ok_and(|b| String::from_utf8_lossy(&b).contains(needle))
        }
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn login_whoami_sessions_logout_with_tokens_only_in_the_keyring() {
    let server = TestServer::start(TestDb::sqlite()).await;
    server
        .add_person("li.wei", PASSWORD, &["employee", "hr"])
        .await;
    let desktop = DesktopSession::headless();
    let cli = Cli::new(&desktop);

    let out = cli.login(&server.url(), "li.wei", PASSWORD);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("Signed in to"), "{}", stdout(&out));

    let out = cli.run(&["whoami", "--json"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["person"]["username"], "li.wei");
    assert_eq!(json["offline"], false);

    let out = cli.run(&["sessions", "--json"], None);
    let sessions: Vec<countersign_api::SessionInfo> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(sessions.len(), 1);
    assert!(sessions[0].current);
    assert!(
        sessions[0].device_name.starts_with("countersign CLI on "),
        "{}",
        sessions[0].device_name
    );

    // D7: the tokens are in the keyring, not in any file the CLI wrote.
    assert!(
        !any_file_contains(&cli.home, "csa_"),
        "access token in a plain file"
    );
    assert!(
        !any_file_contains(&cli.home, "csr_"),
        "refresh token in a plain file"
    );
    let found = desktop
        .command("secret-tool")
        .args(["search", "--all", "service", "countersign"])
        .output()
        .expect("secret-tool (apt package libsecret-tools; `make test` installs it)");
    let listing = format!("{}{}", stdout(&found), stderr(&found));
    assert!(
        listing.contains("li.wei@"),
        "the keyring holds the sign-in: {listing}"
    );

    let out = cli.run(&["logout"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = cli.run(&["whoami"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("Not signed in"), "{}", stderr(&out));
    assert!(
        server.sessions_of("li.wei").await.is_empty(),
        "logout ended the session on the server"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_password_fails_with_a_plain_message_and_exit_code_1() {
    let server = TestServer::start(TestDb::sqlite()).await;
    server.add_person("li.wei", PASSWORD, &[]).await;
    let desktop = DesktopSession::headless();
    let cli = Cli::new(&desktop);
    for user in ["li.wei", "nobody"] {
        let out = cli.login(&server.url(), user, "not the password");
        assert_eq!(out.status.code(), Some(1));
        assert!(
            stderr(&out).contains("Wrong user name or password."),
            "{}",
            stderr(&out)
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_server_is_named_within_five_seconds() {
    let desktop = DesktopSession::headless();
    let cli = Cli::new(&desktop);
    // A port that was just free: nothing listens there.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    // A server that accepts connections and then never answers (hung, or a black-holing
    // firewall): the client must give up on its own.
    let hung = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let hung_addr = hung.local_addr().unwrap();
    for url in [format!("http://{closed}"), format!("http://{hung_addr}")] {
        let started = Instant::now();
        let out = cli.login(&url, "li.wei", PASSWORD);
        let took = started.elapsed();
        assert_eq!(out.status.code(), Some(1));
        assert!(
            stderr(&out).contains(&format!("Cannot reach {url}")),
            "{}",
            stderr(&out)
        );
        assert!(took < StdDuration::from_secs(5), "took {took:?} for {url}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_is_not_countersign_is_told_apart() {
    use axum::routing::get;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new()
        .route("/", get(|| async { axum::response::Html("<h1>Intranet</h1>") }))
        .route("/other/v1/info", get(|| async { axum::Json(serde_json::json!({"service": "gitlab", "api_version": 4, "server_version": "17"})) }));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let desktop = DesktopSession::headless();
    let cli = Cli::new(&desktop);
    for url in [format!("http://{addr}"), format!("http://{addr}/other")] {
        let out = cli.login(&url, "li.wei", PASSWORD);
        assert_eq!(out.status.code(), Some(1));
        assert!(
            stderr(&out).contains("is not a Countersign server"),
            "{}",
            stderr(&out)
        );
    }
}

/// The organisation's server behind HTTPS (a TLS-terminating proxy): the CLI signs in only
/// when this computer trusts the certificate, and a refused certificate is told apart from a
/// server that cannot be reached, before any password leaves the machine.
#[tokio::test(flavor = "multi_thread")]
async fn https_signs_in_only_where_the_certificate_is_trusted() {
    let server = TestServer::start(TestDb::sqlite()).await;
    server.add_person("li.wei", PASSWORD, &["employee"]).await;
    let front = TlsFront::start(server.addr, &["localhost"]).await;
    let desktop = DesktopSession::headless();
    let cli = Cli::new(&desktop);
    let trusted = [("SSL_CERT_FILE", front.authority_file())];
    let url = front.url("localhost");

    // The organisation's authority is not installed on this computer.
    let out = cli.login(&url, "li.wei", PASSWORD);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stderr(&out).contains(&format!(
            "The certificate of {url} is not trusted here: it is signed by an authority this \
             computer does not trust."
        )),
        "{}",
        stderr(&out)
    );

    // Installed, but the server is asked for by a name its certificate does not carry.
    let by_address = front.url("127.0.0.1");
    let out = cli.login_with(&trusted, &by_address, "li.wei", PASSWORD);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("it was issued for another address"),
        "{}",
        stderr(&out)
    );
    assert!(
        server.sessions_of("li.wei").await.is_empty(),
        "a refused certificate still let a sign-in through"
    );

    // Installed and the right name: signed in, and later commands go over TLS as well.
    let out = cli.login_with(&trusted, &url, "li.wei", PASSWORD);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(&format!("Signed in to {url}")),
        "{}",
        stdout(&out)
    );
    let out = cli.run_with(&trusted, &["whoami", "--json"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["person"]["username"], "li.wei");
    assert_eq!(json["offline"], false);

    // The authority removed again (a reinstalled machine): the signed-in CLI carries on from
    // its cache, as without a network, instead of failing or signing out.
    let out = cli.run(&["whoami", "--json"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["person"]["username"], "li.wei");
    assert_eq!(json["offline"], true);
    assert_eq!(server.sessions_of("li.wei").await.len(), 1);
}

/// A server whose certificate nobody renewed is named as such, not as unreachable, even where
/// its authority is trusted.
#[tokio::test(flavor = "multi_thread")]
async fn an_expired_certificate_is_named() {
    let server = TestServer::start(TestDb::sqlite()).await;
    server.add_person("li.wei", PASSWORD, &["employee"]).await;
    let front = TlsFront::start_expired(server.addr, &["localhost"]).await;
    let desktop = DesktopSession::headless();
    let cli = Cli::new(&desktop);
    let url = front.url("localhost");

    let trusted = [("SSL_CERT_FILE", front.authority_file())];
    let out = cli.login_with(&trusted, &url, "li.wei", PASSWORD);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stderr(&out).contains(&format!(
            "The certificate of {url} is not trusted here: it has expired."
        )),
        "{}",
        stderr(&out)
    );
    assert!(server.sessions_of("li.wei").await.is_empty());
}

fn start() -> DateTime<Utc> {
    Utc::now()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_access_token_is_refreshed_without_asking() {
    let server = TestServer::start_at(TestDb::sqlite(), start()).await;
    server.add_person("li.wei", PASSWORD, &[]).await;
    let desktop = DesktopSession::headless();
    let cli = Cli::new(&desktop);
    assert!(
        cli.login(&server.url(), "li.wei", PASSWORD)
            .status
            .success()
    );
    let clock = server.clock.as_ref().unwrap();

    clock.advance(Duration::minutes(20));
    for _ in 0..2 {
        // Twice: the second run must use the refreshed pair stored by the first.
        let out = cli.run(&["whoami"], None);
        assert!(out.status.success(), "{}", stderr(&out));
        clock.advance(Duration::minutes(20));
    }
    assert_eq!(server.sessions_of("li.wei").await.len(), 1, "same session");

    clock.advance(Duration::days(31));
    let out = cli.run(&["whoami"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("expired"), "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revoked_session_signs_the_cli_out_with_the_reason() {
    let server = TestServer::start(TestDb::sqlite()).await;
    server.add_person("li.wei", PASSWORD, &[]).await;
    let desktop = DesktopSession::headless();
    let laptop = Cli::new(&desktop);
    let desk = Cli::new(&desktop);
    assert!(
        laptop
            .login(&server.url(), "li.wei", PASSWORD)
            .status
            .success()
    );
    assert!(
        desk.login(&server.url(), "li.wei", PASSWORD)
            .status
            .success()
    );

    let out = desk.run(&["sessions", "--json"], None);
    let sessions: Vec<countersign_api::SessionInfo> = serde_json::from_slice(&out.stdout).unwrap();
    let other = sessions.iter().find(|s| !s.current).unwrap();
    let out = desk.run(&["sessions", "--revoke", &other.id.to_string()], None);
    assert!(out.status.success(), "{}", stderr(&out));

    let out = laptop.run(&["whoami"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("revoked"), "{}", stderr(&out));
    let out = laptop.run(&["whoami"], None);
    assert!(
        stderr(&out).contains("Not signed in"),
        "the dead tokens were forgotten: {}",
        stderr(&out)
    );
    assert!(
        desk.run(&["whoami"], None).status.success(),
        "the other device is unaffected"
    );
}

/// Runs a CLI command that must succeed and parses its `--json` output.
fn json_of(cli: &Cli<'_>, args: &[&str]) -> serde_json::Value {
    let out = cli.run(args, None);
    assert!(
        out.status.success(),
        "{args:?}: {}{}",
        stdout(&out),
        stderr(&out)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?} printed no JSON ({e}): {}", stdout(&out)))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_drafted_submitted_offline_and_approved_through_the_cli() {
    let server = TestServer::start_at(TestDb::sqlite(), start()).await;
    server.seed_demo().await;
    let demo = countersign_server::seed::DEMO_PASSWORD;
    let desktop = DesktopSession::headless();
    let shen = Cli::new(&desktop);
    assert!(shen.login(&server.url(), "shen.yue", demo).status.success());
    json_of(&shen, &["sync", "--json"]);
    let templates = json_of(&shen, &["templates", "--json"]);
    assert!(
        templates
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["template"]["id"] == "leave"),
        "{templates}"
    );

    let draft = json_of(&shen, &["draft", "new", "leave", "--json"]);
    let id = draft["id"].as_str().unwrap().to_owned();
    assert!(!draft["errors"].as_array().unwrap().is_empty());
    let unknown = shen.run(&["draft", "set", &id, "leave_kind", "annual"], None);
    assert_eq!(unknown.status.code(), Some(2), "{}", stderr(&unknown));
    assert!(
        stderr(&unknown).contains("leave_type"),
        "{}",
        stderr(&unknown)
    );
    let backwards = r#"{"start":"2026-12-09","end":"2026-12-07"}"#;
    let refused = shen.run(&["draft", "set", &id, "period", backwards], None);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    for (field, value) in [
        ("leave_type", "annual"),
        ("reason", "family visit"),
        ("period", r#"{"start":"2026-12-07","end":"2026-12-08"}"#),
    ] {
        let out = shen.run(&["draft", "set", &id, field, value], None);
        assert!(out.status.success(), "{field}: {}", stderr(&out));
    }
    // Files from the command line: the PDF is attached, the program is refused by name
    // (exit code 1: the command was right, a file was not) without keeping the PDF out.
    let files = tempfile::tempdir().unwrap();
    let proof = files.path().join("证明.pdf");
    std::fs::write(
        &proof,
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n",
    )
    .unwrap();
    let program = files.path().join("setup.exe");
    std::fs::write(
        &program,
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff",
    )
    .unwrap();
    let (proof_arg, program_arg) = (proof.to_str().unwrap(), program.to_str().unwrap());
    let attached = shen.run(
        &[
            "draft",
            "attach",
            &id,
            "certificate",
            proof_arg,
            program_arg,
        ],
        None,
    );
    assert_eq!(attached.status.code(), Some(1), "{}", stderr(&attached));
    assert!(
        stderr(&attached).contains("setup.exe"),
        "{}",
        stderr(&attached)
    );
    let shown = json_of(&shen, &["draft", "show", &id, "--json"]);
    let certificate = shown["form"]["certificate"].as_array().unwrap();
    assert_eq!(certificate.len(), 1, "{shown}");
    assert_eq!(certificate[0]["name"], "证明.pdf");
    assert_eq!(shown["errors"], serde_json::json!([]), "{shown}");

    // The server goes down: the submission waits in the outbox.
    let paused = server.pause().await;
    let out = shen.run(&["submit", &id], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("Queued"), "{}", stdout(&out));
    let status = json_of(&shen, &["status", "--json"]);
    assert_eq!(status["outbox_pending"], 1, "{status}");
    let mine = json_of(&shen, &["requests", "--json"]);
    assert_eq!(mine[0]["status"], "queued", "{mine}");

    let server = paused.resume().await;
    let synced = json_of(&shen, &["sync", "--json"]);
    assert_eq!(synced["applied"], 1, "{synced}");
    let mine = json_of(&shen, &["requests", "--json"]);
    assert_eq!(mine[0]["status"], "in_progress", "{mine}");
    let request = mine[0]["id"].as_str().unwrap().to_owned();

    let jiang = Cli::new(&desktop);
    assert!(
        jiang
            .login(&server.url(), "jiang.tao", demo)
            .status
            .success()
    );
    json_of(&jiang, &["sync", "--json"]);
    let inbox = json_of(&jiang, &["inbox", "--json"]);
    assert_eq!(inbox[0]["request_id"], request.as_str(), "{inbox}");
    let approved = jiang.run(&["approve", &request, "--comment", "enjoy"], None);
    assert!(approved.status.success(), "{}", stderr(&approved));
    assert!(stdout(&approved).contains("Done"), "{}", stdout(&approved));
    assert_eq!(json_of(&jiang, &["inbox", "--json"]), serde_json::json!([]));

    // Someone with no task on it is told so, with exit code 1.
    let han = Cli::new(&desktop);
    assert!(han.login(&server.url(), "han.bing", demo).status.success());
    json_of(&han, &["sync", "--json"]);
    let not_his = han.run(&["approve", &request], None);
    assert_eq!(not_his.status.code(), Some(1), "{}", stderr(&not_his));

    json_of(&shen, &["sync", "--json"]);
    let mine = json_of(&shen, &["requests", "--json"]);
    assert_eq!(mine[0]["status"], "approved", "{mine}");
    let view = json_of(&shen, &["show", &request, "--json"]);
    assert!(
        view["state"]["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["comment"] == "enjoy"),
        "the timeline has the decision: {view}"
    );
}
