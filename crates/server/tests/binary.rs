//! The `countersign-server` binary as an operator meets it: settings mistakes, an unknown
//! database, PostgreSQL down, a busy port, the demo seed, `user add`, and a clean stop.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Output, Stdio};

use countersign_testkit::TestDb;

fn server() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_countersign-server"));
    // Never pick up the machine's own settings or database.
    cmd.env_remove("DATABASE_URL")
        .env_remove("COUNTERSIGN_CONFIG")
        .env("XDG_CONFIG_HOME", "/nonexistent-countersign-test")
        .env_remove("RUST_LOG")
        .env("COUNTERSIGN_LOG__LEVEL", "warn");
    cmd
}

fn run(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null()).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Runs `user add` with these arguments, the password arriving on stdin as it would
/// from a pipe.
fn user_add(db: &TestDb, args: &[&str], password: &str) -> Output {
    let mut add = server()
        .args(["--database-url", db.url(), "user", "add"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    add.stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())
        .unwrap();
    add.wait_with_output().unwrap()
}

/// Starts `serve` and waits for its "listening on URL" line; returns the child and URL.
fn serve(db: &TestDb, extra: &[&str]) -> (Child, String) {
    let mut child = server()
        .args(["serve", "--port", "0", "--database-url", db.url()])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("expected the listening line, got {line:?}"))
        .to_owned();
    (child, url)
}

fn terminate(child: &mut Child) -> std::process::ExitStatus {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    child.wait().unwrap()
}

#[test]
fn a_malformed_settings_file_names_the_file_and_key_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("server.toml");
    std::fs::write(&file, "port = \"eighty\"\n").unwrap();
    let out = run(server().arg("--config").arg(&file).arg("migrate"));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&file.display().to_string()) && err.contains("`port`"),
        "{err}"
    );

    std::fs::write(&file, "[auth]\naccess_ttl = 5\n").unwrap();
    let out = run(server().arg("--config").arg(&file).arg("migrate"));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("access_ttl"), "{}", stderr(&out));

    let out = run(server().args(["--config", "/no/such/server.toml", "migrate"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("/no/such/server.toml"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_database_url_of_an_unknown_scheme_exits_2() {
    let out = run(server().args(["--database-url", "mysql://db/countersign", "migrate"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unsupported database URL scheme 'mysql:'"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn postgresql_down_at_start_is_a_clear_message_and_a_failure() {
    // Nothing listens on port 1.
    let url = "postgres://countersign:secret@127.0.0.1:1/countersign";
    let out = run(server().args(["--database-url", url, "migrate"]));
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("cannot connect to PostgreSQL at 127.0.0.1:1"),
        "{err}"
    );
    assert!(
        !err.contains("secret"),
        "the password must not be printed: {err}"
    );
}

#[test]
fn a_port_in_use_is_named_and_a_failure() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let db = TestDb::sqlite();
    let out = run(server().args(["serve", "--port", &port, "--database-url", db.url()]));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(&format!("127.0.0.1:{port}: the port is already in use")),
        "{}",
        stderr(&out)
    );
}

#[test]
fn seed_demo_creates_the_organisation_once_and_prints_the_credentials() {
    let db = TestDb::sqlite();
    let first = run(server().args(["--database-url", db.url(), "seed-demo"]));
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(stdout(&first).contains("Demo organisation created."));
    assert!(stdout(&first).contains("password for all: countersign-demo"));
    assert_eq!(
        stdout(&first)
            .lines()
            .filter(|l| l.starts_with("  "))
            .count(),
        20
    );

    let second = run(server().args(["--database-url", db.url(), "seed-demo"]));
    assert!(second.status.success(), "{}", stderr(&second));
    assert!(
        stdout(&second).contains("already present"),
        "{}",
        stdout(&second)
    );

    let rt = tokio::runtime::Runtime::new().unwrap();
    let people = rt.block_on(async {
        let store = countersign_server::store::open(db.url()).await.unwrap();
        let n = store.count_people().await.unwrap();
        let head = store
            .find_department_by_code("FIN")
            .await
            .unwrap()
            .unwrap()
            .head_id;
        let qian = store
            .find_person_by_username("qian.li")
            .await
            .unwrap()
            .unwrap();
        let sun = store
            .find_person_by_username("sun.hui")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(head, Some(qian.id), "department heads are set");
        assert_eq!(sun.manager_id, Some(qian.id), "manager chains are set");
        let waiting = store.open_tasks_of(qian.id, 10).await.unwrap();
        assert_eq!(waiting.len(), 1, "sun.hui's demo trip waits for qian.li");
        store.close().await;
        n
    });
    assert_eq!(people, 20, "no duplicates after a second run");
    assert!(
        stdout(&first).contains("4 demo requests wait for decisions"),
        "{}",
        stdout(&first)
    );
}

#[test]
fn seed_demo_leaves_a_real_organisation_alone() {
    let db = TestDb::sqlite();
    let added = user_add(
        &db,
        &["--username", "ceo", "--display-name", "CEO"],
        "a long enough password",
    );
    assert!(added.status.success(), "{}", stderr(&added));
    let out = run(server().args(["--database-url", db.url(), "seed-demo"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("seed-demo only seeds an empty database"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn user_add_takes_the_password_from_stdin_and_the_person_can_sign_in() {
    let db = TestDb::sqlite();
    let seeded = run(server().args(["--database-url", db.url(), "seed-demo"]));
    assert!(seeded.status.success());
    let out = user_add(
        &db,
        &[
            "--username",
            "Xu.Ming",
            "--display-name",
            "许明",
            "--department",
            "RD",
            "--manager",
            "jiang.tao",
            "--role",
            "employee",
            "--role",
            "auditor",
        ],
        "a long enough password",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("added xu.ming"));

    let bad_role = run(server().args([
        "--database-url",
        db.url(),
        "user",
        "add",
        "--username",
        "x.y",
        "--display-name",
        "X",
        "--role",
        "superuser",
    ]));
    assert_eq!(
        bad_role.status.code(),
        Some(2),
        "no password yet and a bad role: usage error"
    );

    let (mut child, url) = serve(&db, &[]);
    let http = reqwest::Client::new();
    let response = http
        .post(format!("{url}/v1/sessions"))
        .json(&serde_json::json!({"username": "xu.ming", "password": "a long enough password", "device_name": "t"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let body: countersign_api::SignInResponse = response.json().await.unwrap();
    assert_eq!(body.person.department.unwrap().name, "研发部 R&D");
    assert_eq!(body.person.roles, vec!["auditor", "employee"]);

    // The demo credentials work too.
    let response = http
        .post(format!("{url}/v1/sessions"))
        .json(&serde_json::json!({"username": "qian.li", "password": "countersign-demo", "device_name": "t"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);

    let status = terminate(&mut child);
    assert!(status.success(), "SIGTERM is a clean stop: {status:?}");
}

#[test]
fn settings_come_from_the_environment_below_flags() {
    let db = TestDb::sqlite();
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);
    let mut child = server()
        .env("COUNTERSIGN_PORT", port.to_string())
        .env("DATABASE_URL", db.url())
        .arg("serve")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), format!("listening on http://127.0.0.1:{port}"));
    assert!(terminate(&mut child).success());
}

#[test]
fn audit_verify_passes_an_intact_log_and_names_the_first_edited_line() {
    let db = TestDb::sqlite();
    let seeded = run(server().args(["--database-url", db.url(), "seed-demo"]));
    assert!(seeded.status.success(), "{}", stderr(&seeded));
    for name in ["first", "second"] {
        let added = user_add(
            &db,
            &["--username", name, "--display-name", name],
            "a long enough password",
        );
        assert!(added.status.success(), "{}", stderr(&added));
    }
    let intact = run(server().args(["--database-url", db.url(), "audit", "verify"]));
    assert!(intact.status.success(), "{}", stderr(&intact));
    let lines: u64 = stdout(&intact)
        .trim()
        .strip_prefix("audit log intact: ")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a line count: {}", stdout(&intact)));
    assert!(lines >= 2, "{lines}");

    // Someone with the database file changes one byte of the last line's action.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let edited: i64 = rt.block_on(async {
        let pool = sqlx::SqlitePool::connect(db.url()).await.unwrap();
        let last: i64 = sqlx::query_scalar("SELECT max(seq) FROM audit_log")
            .fetch_one(&pool)
            .await
            .unwrap();
        sqlx::query("UPDATE audit_log SET action = 'X' || substr(action, 2) WHERE seq = $1")
            .bind(last)
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
        last
    });
    let broken = run(server().args(["--database-url", db.url(), "audit", "verify"]));
    assert_eq!(broken.status.code(), Some(1), "{}", stdout(&broken));
    assert!(
        stderr(&broken).contains(&format!("audit log broken at line {edited}")),
        "{}",
        stderr(&broken)
    );
}

#[test]
fn rooms_are_added_listed_and_a_duplicate_name_is_refused() {
    let db = TestDb::sqlite();
    let seeded = run(server().args(["--database-url", db.url(), "seed-demo"]));
    assert!(seeded.status.success(), "{}", stderr(&seeded));
    let listed = run(server().args(["--database-url", db.url(), "room", "list"]));
    assert!(
        stdout(&listed).contains("3F 会议室 A"),
        "the demo organisation has rooms for `make run`: {}",
        stdout(&listed)
    );
    let added = run(server().args([
        "--database-url",
        db.url(),
        "room",
        "add",
        "7F 培训室",
        "--capacity",
        "30",
    ]));
    assert!(added.status.success(), "{}", stderr(&added));
    let listed = run(server().args(["--database-url", db.url(), "room", "list"]));
    assert!(
        stdout(&listed).contains("7F 培训室, 30 seats"),
        "{}",
        stdout(&listed)
    );
    let again = run(server().args(["--database-url", db.url(), "room", "add", "7F 培训室"]));
    assert_eq!(
        again.status.code(),
        Some(2),
        "a name already taken is the operator's to fix"
    );
    assert!(
        stderr(&again).contains("already a room named 7F 培训室"),
        "{}",
        stderr(&again)
    );
}
