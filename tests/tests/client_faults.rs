//! The fault suite (issue 5, points 7 and 8): the real server on loopback, real `countersign`
//! processes with their tokens in a real Secret Service and their caches in real SQLite files,
//! and testkit's fault proxy between them. The network fails on purpose (server down, a page
//! or an answer cut, a request delivered twice or late), clients are killed with SIGKILL at
//! chosen moments (the proxy holds a request or an answer until the kill), tokens expire and
//! sessions are revoked, the server comes back from an older backup — and two people decide
//! the same thing offline (B1). After each, what a person sees is checked against the server:
//! no draft lost, no decision applied twice, the outbox drained, a lost race explained.
//!
//! No sleeps synchronise anything: the proxy's observations and processes' exits are awaited
//! with deadlines. The only timed waits are the random kill points of the draft-save and
//! catch-up loops, which choose *when* to inject the fault, not when something is done.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use countersign_client::{Client, ClientOptions, ProfileDir, SessionOnlyCredentials};
use countersign_domain::engine::{EventKind, RequestStatus};
use countersign_server::seed::DEMO_PASSWORD as PW;
use countersign_server::store::{AuditEntry, EVERYONE, FeedRow, TemplateRecord};
use countersign_testkit::tuesday_morning;
use countersign_testkit::{
    DesktopSession, Fault, FaultProxy, PausedServer, TestDb, TestServer, cargo_bin,
};
use serde_json::{Value, json};
use uuid::Uuid;

/// Generous: it only costs time when a test fails.
const WAIT: Duration = Duration::from_secs(20);

/// The demo organisation on a real server with a clock the test moves, behind a proxy.
struct World {
    /// `None` only while the server is paused.
    server: Option<TestServer>,
    proxy: FaultProxy,
    desktop: DesktopSession,
    bin: PathBuf,
    /// Shen Yue's in-process client, straight to the server (not through the proxy): she
    /// files the requests the scenarios decide on.
    shen: Client,
    _shen_dir: tempfile::TempDir,
}

async fn world() -> World {
    let server = TestServer::start_at(TestDb::sqlite(), tuesday_morning()).await;
    server.seed_demo().await;
    publish_team_leave(&server).await;
    let proxy = FaultProxy::start(server.addr).await;
    let shen_dir = tempfile::tempdir().unwrap();
    let shen = in_process_client(shen_dir.path(), Arc::new(SessionOnlyCredentials::default()));
    shen.sign_in(&server.url(), "shen.yue", PW).await.unwrap();
    shen.sync(tuesday_morning()).await.unwrap();
    let desktop = DesktopSession::headless();
    let bin = cargo_bin("countersign");
    World {
        server: Some(server),
        proxy,
        desktop,
        bin,
        shen,
        _shen_dir: shen_dir,
    }
}

fn in_process_client(dir: &Path, credentials: Arc<SessionOnlyCredentials>) -> Client {
    Client::open(
        ClientOptions {
            profile_dir: ProfileDir::new(dir),
            device_name: "fault suite".into(),
            os_locale: Some("en-US".into()),
            app_version: "9.9.9".into(),
            default_server: None,
        },
        credentials,
    )
    .unwrap()
}

/// `team_leave`: the shipped leave form whose first step is decided by any one of the
/// finance people (或签: 钱立, 孙慧, 何平), then, for more than three days, the department
/// head. The library has no any-one step a leave-sized form reaches, so the suite publishes
/// this variant the way a process change would, feed row included.
async fn publish_team_leave(server: &TestServer) {
    let mut template = countersign_domain::templates::shipped("leave").unwrap();
    template.id = "team_leave".into();
    let mut workflow = serde_json::to_value(&template.workflow).unwrap();
    let first = &mut workflow["steps"][0];
    assert_eq!(first["id"], "manager");
    first["approvers"] = json!([{"kind": "role", "role": "finance"}]);
    first["mode"] = json!("any");
    template.workflow = serde_json::from_value(workflow).unwrap();
    template.check().unwrap();
    let feed_id = countersign_server::templates::feed_id("team_leave", 1);
    let record = TemplateRecord {
        template,
        published_at: tuesday_morning(),
        published_by: None,
        source_request: None,
        retired_at: None,
    };
    let feed = [FeedRow {
        audience: EVERYONE,
        kind: "template",
        entity_id: feed_id.clone(),
        version: 1,
        op: "upsert",
    }];
    let audit = AuditEntry::system(
        tuesday_morning(),
        "template.publish",
        format!("template:{feed_id}"),
    );
    server
        .state
        .store
        .publish_template(&record, &feed, &audit)
        .await
        .unwrap();
}

impl World {
    fn server(&self) -> &TestServer {
        self.server.as_ref().expect("the server is running")
    }

    /// Stops the server (its port stays ours) until [`World::resume`].
    async fn pause(&mut self) -> PausedServer {
        self.server.take().expect("running").pause().await
    }

    async fn resume(&mut self, paused: PausedServer) {
        self.server = Some(paused.resume().await);
    }

    /// A signed-in `countersign` for `username`, talking through the proxy.
    fn cli(&self, username: &str) -> Cli {
        self.cli_via(username, &self.proxy)
    }

    fn cli_via(&self, username: &str, proxy: &FaultProxy) -> Cli {
        let cli = Cli {
            env: self.desktop.env(),
            bin: self.bin.clone(),
            server: proxy.url(),
            home: self
                .desktop
                .home()
                .join(format!("{username}-{}", Uuid::now_v7().simple())),
        };
        cli.login(username);
        cli
    }

    /// Shen files `n` leave requests of `days` working days on `template` (2 days: her
    /// manager Jiang Tao decides alone; on `team_leave` with 4 days, any one of finance, then
    /// the department head).
    async fn file(&self, template: &str, n: usize, days: u32) -> Vec<Uuid> {
        let now = tuesday_morning();
        let end = 6 + days; // Monday 7 December onwards, a working week.
        let mut ids = Vec::new();
        for _ in 0..n {
            let draft = self.shen.draft_new(template, now).await.unwrap();
            for (field, value) in [
                ("leave_type", json!("annual")),
                ("reason", json!("family visit")),
                (
                    "period",
                    json!({"start": "2026-12-07", "end": format!("2026-12-{end:02}")}),
                ),
            ] {
                self.shen
                    .draft_set(draft.id, field, value, now)
                    .await
                    .unwrap();
            }
            ids.push(
                self.shen
                    .submit_draft(draft.id, now)
                    .await
                    .unwrap()
                    .request_id,
            );
        }
        let report = self.shen.sync(now).await.unwrap();
        assert_eq!(report.applied, n, "{report:?}");
        ids
    }

    /// The request as the server has it.
    async fn truth(&self, id: Uuid) -> countersign_server::store::RequestRecord {
        self.server()
            .state
            .store
            .find_request(id)
            .await
            .unwrap()
            .expect("the server has the request")
    }

    /// How many approvals the server recorded on the request.
    async fn approvals(&self, id: Uuid) -> usize {
        self.truth(id)
            .await
            .state
            .events
            .iter()
            .filter(|e| matches!(e.what, EventKind::Approved { .. }))
            .count()
    }

    async fn person(&self, username: &str) -> countersign_server::store::Person {
        self.server()
            .state
            .store
            .find_person_by_username(username)
            .await
            .unwrap()
            .unwrap()
    }
}

/// One device of one person: a profile directory, the real binary, the session's keyring.
struct Cli {
    env: Vec<(String, String)>,
    bin: PathBuf,
    /// The address it signs in to (a proxy's).
    server: String,
    home: PathBuf,
}

impl Cli {
    fn std_command(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(&self.bin);
        cmd.env_remove("DISPLAY").envs(self.env.iter().cloned());
        cmd
    }

    fn command(&self, args: &[&str]) -> tokio::process::Command {
        let mut cmd = self.std_command();
        cmd.arg("--home")
            .arg(&self.home)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut cmd = tokio::process::Command::from(cmd);
        cmd.kill_on_drop(true);
        cmd
    }

    async fn run(&self, args: &[&str]) -> Output {
        let child = self.command(args).spawn().unwrap();
        tokio::time::timeout(WAIT, child.wait_with_output())
            .await
            .unwrap_or_else(|_| panic!("countersign {args:?} did not finish within {WAIT:?}"))
            .unwrap()
    }

    fn spawn(&self, args: &[&str]) -> tokio::process::Child {
        self.command(args).spawn().unwrap()
    }

    fn login(&self, username: &str) {
        let mut cmd = self.std_command();
        let mut child = cmd
            .arg("--home")
            .arg(&self.home)
            .args(["login", "--server", &self.server])
            .args(["--user", username, "--password-stdin"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(PW.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "login {username}: {}", text(&out));
    }

    /// Runs a command that must succeed with `--json` and parses what it printed.
    async fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        let out = self.run(&all).await;
        assert!(out.status.success(), "{args:?}: {}", text(&out));
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{args:?} printed no JSON ({e}): {}", text(&out)))
    }

    async fn sync(&self) -> Value {
        self.json(&["sync"]).await
    }

    async fn status(&self) -> Value {
        self.json(&["status"]).await
    }

    async fn inbox(&self) -> Vec<Uuid> {
        let inbox = self.json(&["inbox"]).await;
        inbox
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["request_id"].as_str().unwrap().parse().unwrap())
            .collect()
    }

    /// The request's status as this device shows it.
    async fn shown_status(&self, id: Uuid) -> String {
        let view = self.json(&["show", &id.to_string()]).await;
        view["status"].as_str().unwrap().to_owned()
    }
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// SIGKILL (what `Child::start_kill` sends on Unix), then reaps the process.
async fn kill_9(mut child: tokio::process::Child) {
    child.start_kill().unwrap();
    tokio::time::timeout(WAIT, child.wait())
        .await
        .expect("a killed process is reaped")
        .unwrap();
}

/// Waits (with the deadline) until the proxy has held `n` requests or answers in all.
async fn held(proxy: &FaultProxy, n: usize) {
    proxy
        .wait_until(WAIT, &format!("{n} held"), |o| o.held >= n)
        .await;
}

// ---------------------------------------------------------------------------------------
// 7. Faults

/// The server goes down: a decision waits in the outbox; then the server dies between the
/// push and the pull of a sync. The decision reached it once, and the next sync completes.
#[tokio::test(flavor = "multi_thread")]
async fn the_server_down_before_and_during_a_sync() {
    let mut w = world().await;
    let requests = w.file("leave", 1, 2).await;
    let r = requests[0];
    let jiang = w.cli("jiang.tao");
    jiang.sync().await;
    assert_eq!(jiang.inbox().await, vec![r]);

    let paused = w.pause().await;
    let out = jiang.run(&["approve", &r.to_string()]).await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Queued"),
        "{}",
        text(&out)
    );
    assert_eq!(jiang.status().await["outbox_pending"], 1);
    assert!(
        jiang.inbox().await.is_empty(),
        "decided, as far as he can see offline"
    );
    w.resume(paused).await;

    // Back, and down again mid-sync: the outbox is pushed, the pull's request is held, and
    // the server stops before it arrives.
    w.proxy.once_on("GET /v1/sync", Fault::HoldRequest);
    let before = w.proxy.observed().held;
    let syncing = jiang.spawn(&["sync", "--json"]);
    held(&w.proxy, before + 1).await;
    let paused = w.pause().await;
    w.proxy.release();
    let out = tokio::time::timeout(WAIT, syncing.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Cannot reach"),
        "{}",
        text(&out)
    );
    w.resume(paused).await;
    assert_eq!(w.approvals(r).await, 1, "pushed before the outage, once");
    assert_eq!(jiang.status().await["outbox_pending"], 0, "answered");

    let report = jiang.sync().await;
    assert!(report["pulled"].as_u64().unwrap() >= 1, "{report}");
    assert_eq!(report["sent"], 0, "nothing sent twice: {report}");
    assert_eq!(jiang.shown_status(r).await, "approved");
    assert_eq!(w.approvals(r).await, 1);
}

/// A sync page cut mid-body is fetched again; a decision whose answer is cut mid-body was
/// applied by the server and, sent again, is answered as a duplicate: applied once.
#[tokio::test(flavor = "multi_thread")]
async fn a_page_or_an_answer_cut_mid_body_is_fetched_or_sent_again_never_applied_twice() {
    let w = world().await;
    let mut requests = w.file("leave", 3, 2).await;
    requests.sort();
    let jiang = w.cli("jiang.tao");

    w.proxy
        .once_on("GET /v1/sync", Fault::CutResponseAfter { body_bytes: 200 });
    let out = jiang.run(&["sync", "--json"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    jiang.sync().await;
    let mut inbox = jiang.inbox().await;
    inbox.sort();
    assert_eq!(inbox, requests, "the whole feed, once");
    assert!(jiang.status().await["recovery"].is_null(), "no damage");

    let r = requests[0];
    w.proxy.once_on(
        "POST /v1/mutations",
        Fault::CutResponseAfter { body_bytes: 20 },
    );
    let out = jiang.run(&["approve", &r.to_string()]).await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Queued"),
        "the client did not hear the answer: {}",
        text(&out)
    );
    assert_eq!(w.approvals(r).await, 1, "the server acted on it");
    assert_eq!(jiang.status().await["outbox_pending"], 1);
    let report = jiang.sync().await;
    assert_eq!(
        (&report["sent"], &report["applied"]),
        (&json!(1), &json!(1)),
        "{report}"
    );
    assert_eq!(w.approvals(r).await, 1, "sent again, applied once");
    assert_eq!(jiang.status().await["outbox_pending"], 0);
    assert_eq!(jiang.shown_status(r).await, "approved");
}

/// A decision delivered twice is applied once; a stale copy held on the wire that arrives
/// after the restarted app sent it again and commented after it changes nothing.
#[tokio::test(flavor = "multi_thread")]
async fn a_decision_delivered_twice_or_late_is_applied_once() {
    let w = world().await;
    let requests = w.file("leave", 2, 2).await;
    let jiang = w.cli("jiang.tao");
    jiang.sync().await;

    w.proxy
        .once_on("POST /v1/mutations", Fault::DuplicateRequest);
    let out = jiang.run(&["approve", &requests[0].to_string()]).await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Done"),
        "{}",
        text(&out)
    );
    assert_eq!(
        w.approvals(requests[0]).await,
        1,
        "delivered twice, applied once"
    );

    // Reordered: two instances of the app on one profile (the old one still waiting on the
    // wire after a restart). The old one's copy arrives last.
    let r = requests[1];
    let now = tuesday_morning();
    let dir = tempfile::tempdir().unwrap();
    let credentials = Arc::new(SessionOnlyCredentials::default());
    let old = in_process_client(dir.path(), credentials.clone());
    old.sign_in(&w.proxy.url(), "jiang.tao", PW).await.unwrap();
    old.sync(now).await.unwrap();
    old.act(
        r,
        countersign_client::Act::Approve {
            comment: "ok".into(),
        },
        now,
    )
    .await
    .unwrap();
    w.proxy.once_on("POST /v1/mutations", Fault::HoldRequest);
    let before = w.proxy.observed().held;
    let stale = tokio::spawn(async move { old.sync(now).await });
    held(&w.proxy, before + 1).await;
    assert_eq!(w.approvals(r).await, 0, "still on the wire");

    let restarted = in_process_client(dir.path(), credentials);
    let report = restarted.sync(now).await.unwrap();
    assert_eq!(report.applied, 1, "{report:?}");
    restarted
        .act(
            r,
            countersign_client::Act::Comment {
                text: "after the approval".into(),
            },
            now,
        )
        .await
        .unwrap();
    assert_eq!(restarted.sync(now).await.unwrap().applied, 1);
    let revision = w.truth(r).await.state.revision;

    w.proxy.release();
    let late = tokio::time::timeout(WAIT, stale)
        .await
        .expect("the stale sync ends once released")
        .unwrap()
        .unwrap();
    assert!(late.refused.is_empty(), "{late:?}");
    assert_eq!(late.applied, 1, "answered with the first answer: {late:?}");
    let truth = w.truth(r).await;
    assert_eq!(w.approvals(r).await, 1);
    assert_eq!(
        truth.state.revision, revision,
        "the late copy changed nothing"
    );
    assert!(
        matches!(
            truth.state.events.last().map(|e| &e.what),
            Some(EventKind::Commented)
        ),
        "the comment is still the last word: {:?}",
        truth.state.events
    );
    assert!(
        restarted
            .outbox()
            .await
            .unwrap()
            .iter()
            .all(|i| i.state == countersign_client::cache::OutboxState::Applied)
    );
}

/// SIGKILL while `draft set` runs, at points spread over how long a save takes: the draft
/// is always the old value or the new one, never lost or damaged.
#[tokio::test(flavor = "multi_thread")]
async fn killed_while_saving_a_draft_the_draft_is_old_or_new_never_lost() {
    let w = world().await;
    let shen = w.cli("shen.yue");
    shen.sync().await;
    let draft = shen.json(&["draft", "new", "leave"]).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let started = Instant::now();
    shen.json(&["draft", "set", &draft, "reason", "v0"]).await;
    let span = started.elapsed();
    let mut current = "v0".to_owned();
    let (mut old, mut new) = (0, 0);
    const KILLS: u32 = 16;
    for i in 0..KILLS {
        let next = format!("v{}", i + 1);
        let saving = shen.spawn(&["draft", "set", &draft, "reason", &next]);
        // The kill point: a fault injected at a chosen moment, not a wait for something.
        tokio::time::sleep(span * i / KILLS).await;
        kill_9(saving).await;
        let shown = shen.json(&["draft", "show", &draft]).await;
        let reason = shown["form"]["reason"].as_str().unwrap_or_default();
        assert!(
            reason == current || reason == next,
            "kill {i}: {reason:?} is neither {current:?} nor {next:?}"
        );
        if reason == next {
            new += 1;
            current = next;
        } else {
            old += 1;
        }
    }
    let drafts = shen.json(&["draft", "list"]).await;
    assert_eq!(drafts.as_array().unwrap().len(), 1, "{drafts}");
    assert!(shen.status().await["recovery"].is_null(), "never rebuilt");
    eprintln!("draft kills: {old} kept the old value, {new} the new one");
}

/// SIGKILL during the first download: with the page's answer held (server answered, the
/// client not yet), then at points spread over a catch-up. Each time the cache opens
/// undamaged, and the next sync completes with the whole inbox.
#[tokio::test(flavor = "multi_thread")]
async fn killed_during_a_sync_page_write_the_cache_stays_whole() {
    let w = world().await;
    let mut requests = w.file("leave", 30, 2).await;
    requests.sort();
    let jiang = w.cli("jiang.tao");

    w.proxy.once_on("GET /v1/sync", Fault::HoldResponse);
    let syncing = jiang.spawn(&["sync"]);
    held(&w.proxy, 1).await;
    kill_9(syncing).await;
    w.proxy.release();
    assert!(jiang.status().await["recovery"].is_null());

    let started = Instant::now();
    jiang.sync().await;
    let span = started.elapsed();
    let mut inbox = jiang.inbox().await;
    inbox.sort();
    assert_eq!(inbox, requests);

    // Catch-ups from the start, killed part-way: a fresh device each time.
    const KILLS: u32 = 8;
    for i in 0..KILLS {
        let device = w.cli("jiang.tao");
        let syncing = device.spawn(&["sync"]);
        tokio::time::sleep(span * (i + 1) / (KILLS + 1)).await;
        kill_9(syncing).await;
        let status = device.status().await;
        assert!(status["recovery"].is_null(), "kill {i}: {status}");
        device.sync().await;
        let mut inbox = device.inbox().await;
        inbox.sort();
        assert_eq!(inbox, requests, "kill {i}");
    }
}

/// A first download longer than one page (500 changes) cut off after its first page: the
/// next sync goes on from the second page and ends it with the one catch-up summary of
/// everything waiting, not with a notification per task of the pages the first try did not
/// reach.
#[tokio::test(flavor = "multi_thread")]
async fn a_first_download_cut_after_its_first_page_ends_in_one_summary() {
    use countersign_client::notify::{NotificationKind, Planned};

    const WAITING: usize = 520;
    let w = world().await;
    w.file("leave", WAITING, 2).await;
    let dir = tempfile::tempdir().unwrap();
    let jiang = in_process_client(dir.path(), Arc::new(SessionOnlyCredentials::default()));
    jiang
        .sign_in(&w.proxy.url(), "jiang.tao", PW)
        .await
        .unwrap();

    // The first page arrives; the answer to the second is lost on the way.
    w.proxy.once_on("GET /v1/sync", Fault::Pass);
    w.proxy.once_on("GET /v1/sync", Fault::DropResponse);
    let cut = jiang.sync(tuesday_morning()).await;
    assert!(cut.is_err(), "the second page never arrived: {cut:?}");

    let report = jiang.sync(tuesday_morning()).await.unwrap();
    assert!(
        report.pulled < WAITING,
        "resumed after the first page, not started over: {} pulled",
        report.pulled
    );
    let shown: Vec<&NotificationKind> = report
        .notifications
        .iter()
        .filter_map(|p| match p {
            Planned::Show(n) => Some(&n.kind),
            Planned::Retract(_) => None,
        })
        .collect();
    assert!(
        matches!(shown.as_slice(), [NotificationKind::CatchUp { pending, .. }] if *pending >= WAITING),
        "one summary of the {WAITING} waiting tasks: {shown:?}"
    );
    assert!(
        jiang
            .sync(tuesday_morning())
            .await
            .unwrap()
            .notifications
            .is_empty(),
        "and nothing again"
    );
}

/// The kill loop: `approve` killed right after sending, alternately with the request held
/// before the server (it has not acted) and with the answer held after it (it acted, the
/// client never heard). The restarted client's sync drains the outbox; every request has
/// exactly one approval.
async fn killed_right_after_sending_a_decision(iterations: usize) {
    let w = world().await;
    let requests = w.file("leave", iterations, 2).await;
    let jiang = w.cli("jiang.tao");
    jiang.sync().await;
    let started = Instant::now();
    let holds = [Fault::HoldResponse, Fault::HoldRequest]
        .into_iter()
        .cycle();
    for (i, (&r, fault)) in requests.iter().zip(holds).enumerate() {
        let answer_held = fault == Fault::HoldResponse;
        w.proxy.once_on("POST /v1/mutations", fault);
        let approving = jiang.spawn(&["approve", &r.to_string()]);
        held(&w.proxy, i + 1).await;
        assert_eq!(
            w.approvals(r).await,
            usize::from(answer_held),
            "iteration {i}: the server acted only if the answer is what was held"
        );
        kill_9(approving).await;
        w.proxy.release();

        let report = jiang.sync().await;
        assert_eq!(report["refused"], json!([]), "iteration {i}: {report}");
        assert_eq!(
            w.approvals(r).await,
            1,
            "iteration {i}: applied exactly once"
        );
        assert_eq!(
            w.truth(r).await.state.status,
            RequestStatus::Approved,
            "iteration {i}"
        );
        let status = jiang.status().await;
        assert_eq!(status["outbox_pending"], 0, "iteration {i}: {status}");
        assert_eq!(status["refused"], json!([]), "iteration {i}: {status}");
    }
    assert!(jiang.inbox().await.is_empty());
    eprintln!(
        "{iterations} kills right after sending a decision in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_right_after_sending_a_decision_50_times() {
    killed_right_after_sending_a_decision(50).await;
}

/// The bench-sized loop: `cargo test --workspace --test client_faults -- --ignored`
/// (COUNTERSIGN_KILL_LOOP sets the iterations, 500 by default).
#[tokio::test(flavor = "multi_thread")]
#[ignore = "heavy: minutes; run by hand or in the nightly bench"]
async fn killed_right_after_sending_a_decision_many_times() {
    let n = std::env::var("COUNTERSIGN_KILL_LOOP")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(500);
    killed_right_after_sending_a_decision(n).await;
}

/// The access token expires while a sync's pull is on the wire: the client renews it and
/// the sync completes, on the same session.
#[tokio::test(flavor = "multi_thread")]
async fn an_access_token_expiring_mid_sync_is_renewed_and_the_sync_completes() {
    let w = world().await;
    let r = w.file("leave", 1, 2).await[0];
    let jiang = w.cli("jiang.tao");
    jiang.sync().await;
    let synced_at = jiang.status().await["last_sync_at"].clone();

    w.proxy.once_on("GET /v1/sync", Fault::HoldRequest);
    let approving = jiang.spawn(&["approve", &r.to_string()]);
    held(&w.proxy, 1).await;
    w.server()
        .clock
        .as_ref()
        .unwrap()
        .advance(chrono::Duration::hours(2));
    w.proxy.release();
    let out = tokio::time::timeout(WAIT, approving.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Done"),
        "{}",
        text(&out)
    );
    let seen = w.proxy.observed();
    let lines: Vec<String> = seen
        .requests
        .iter()
        .map(|e| format!("{} {}", e.method, e.target))
        .collect();
    let refreshed = lines
        .iter()
        .position(|l| l.starts_with("POST /v1/sessions/refresh"))
        .unwrap_or_else(|| panic!("renewed: {lines:?}"));
    assert!(
        lines[refreshed..]
            .iter()
            .any(|l| l.starts_with("GET /v1/sync")),
        "the pull was asked again after renewing: {lines:?}"
    );
    let status = jiang.status().await;
    assert_ne!(
        status["last_sync_at"], synced_at,
        "the sync completed: {status}"
    );
    assert_eq!(w.approvals(r).await, 1);
    let jiang_id = w.person("jiang.tao").await.id;
    let sessions = w
        .server()
        .state
        .store
        .list_sessions(jiang_id)
        .await
        .unwrap();
    assert_eq!(sessions.len(), 1, "the same session");
    assert_eq!(jiang.shown_status(r).await, "approved");
}

/// The session is revoked while the device is offline with a decision queued: the next
/// sync signs the device out saying why and sends nothing; signed in again, the decision
/// that waited is sent.
#[tokio::test(flavor = "multi_thread")]
async fn a_session_revoked_while_offline_sends_nothing_until_signed_in_again() {
    let w = world().await;
    let r = w.file("leave", 1, 2).await[0];
    let jiang = w.cli("jiang.tao");
    jiang.sync().await;

    w.proxy.offline().await;
    let out = jiang.run(&["approve", &r.to_string()]).await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Queued"),
        "{}",
        text(&out)
    );
    let store = &w.server().state.store;
    let jiang_id = w.person("jiang.tao").await.id;
    let sessions = store.list_sessions(jiang_id).await.unwrap();
    assert_eq!(sessions.len(), 1);
    assert!(
        store
            .revoke_session(
                sessions[0].id,
                "revoked from another device",
                tuesday_morning()
            )
            .await
            .unwrap()
    );
    w.proxy.online().await;

    let out = jiang.run(&["sync"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("revoked"),
        "{}",
        text(&out)
    );
    assert_eq!(
        w.approvals(r).await,
        0,
        "nothing goes out on a revoked session"
    );

    jiang.login("jiang.tao");
    assert_eq!(
        jiang.status().await["outbox_pending"],
        1,
        "the decision waited"
    );
    let report = jiang.sync().await;
    assert_eq!(report["applied"], 1, "{report}");
    assert_eq!(w.approvals(r).await, 1);
    assert_eq!(jiang.shown_status(r).await, "approved");
}

/// The server comes back from a backup older than the device's cursor: the device is told
/// to download everything again and shows the restored truth, its drafts kept.
#[tokio::test(flavor = "multi_thread")]
async fn a_server_restored_from_an_older_backup_is_downloaded_again() {
    let mut w = world().await;
    let mut requests = w.file("leave", 2, 2).await;
    requests.sort();
    let jiang = w.cli("jiang.tao");
    jiang.sync().await;
    let draft = jiang.json(&["draft", "new", "leave"]).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    jiang
        .json(&["draft", "set", &draft, "reason", "kept"])
        .await;

    // The backup: the database file as it is now, taken while the server is stopped.
    let db = w.server().db().sqlite_path().unwrap();
    let backup = tempfile::tempdir().unwrap();
    let paused = w.pause().await;
    copy_database(&db, &backup.path().join("countersign.db"));
    w.resume(paused).await;

    let out = jiang.run(&["approve", &requests[0].to_string()]).await;
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Done"),
        "{}",
        text(&out)
    );
    jiang.sync().await;

    // Restored: the approval is gone from the server, and the device's cursor is ahead.
    let paused = w.pause().await;
    copy_database(&backup.path().join("countersign.db"), &db);
    w.resume(paused).await;
    assert_eq!(w.approvals(requests[0]).await, 0);

    let report = jiang.sync().await;
    assert_eq!(report["resynced"], true, "{report}");
    let mut inbox = jiang.inbox().await;
    inbox.sort();
    assert_eq!(
        inbox, requests,
        "the restored truth: both wait for him again"
    );
    assert_eq!(jiang.shown_status(requests[0]).await, "in_progress");
    let kept = jiang.json(&["draft", "show", &draft]).await;
    assert_eq!(kept["form"]["reason"], "kept");
    assert_eq!(jiang.status().await["outbox_pending"], 0);
}

/// Copies a stopped SQLite database with its journal files (absent ones removed).
fn copy_database(from: &Path, to: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let source = PathBuf::from(format!("{}{suffix}", from.display()));
        let target = PathBuf::from(format!("{}{suffix}", to.display()));
        if source.exists() {
            std::fs::copy(&source, &target).unwrap();
        } else if target.exists() {
            std::fs::remove_file(&target).unwrap();
        }
    }
}

// ---------------------------------------------------------------------------------------
// 8. The offline race (B1)

/// Two approvers of an any-one step approve while offline; the first back is applied, the
/// other refused with who and when; both see the request moved on.
#[tokio::test(flavor = "multi_thread")]
async fn two_approvers_of_an_any_one_step_decide_offline_one_wins_the_other_is_told_who_and_when() {
    let w = world().await;
    let r = w.file("team_leave", 1, 4).await[0];
    let other_proxy = FaultProxy::start(w.server().addr).await;
    let sun = w.cli("sun.hui");
    let he = w.cli_via("he.ping", &other_proxy);
    for device in [&sun, &he] {
        device.sync().await;
        assert_eq!(device.inbox().await, vec![r]);
    }

    w.proxy.offline().await;
    other_proxy.offline().await;
    for device in [&sun, &he] {
        let out = device.run(&["approve", &r.to_string()]).await;
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Queued"),
            "{}",
            text(&out)
        );
    }

    w.proxy.online().await;
    let report = sun.sync().await;
    assert_eq!(report["applied"], 1, "{report}");
    other_proxy.online().await;
    let out = he.run(&["sync"]).await;
    assert!(out.status.success(), "{}", text(&out));
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(said.contains("refused: approve"), "{}", text(&out));
    assert!(said.contains("孙慧"), "who: {}", text(&out));
    assert!(said.contains("01:30"), "when (01:30 UTC): {}", text(&out));

    let status = he.status().await;
    assert_eq!(status["outbox_pending"], 0, "{status}");
    let refusal = &status["refused"][0]["reason"];
    assert_eq!(refusal["code"], "already_decided", "{status}");
    let sun_id = w.person("sun.hui").await.id;
    assert_eq!(refusal["refusal"]["by"], sun_id.to_string(), "{status}");

    let truth = w.truth(r).await;
    assert_eq!(w.approvals(r).await, 1);
    assert!(
        truth
            .state
            .events
            .iter()
            .any(|e| matches!(e.what, EventKind::Approved { .. }) && e.actor == sun_id)
    );
    let head = w.person("wei.dong").await.id;
    assert!(
        truth.state.open_tasks().all(|t| t.assignee == head),
        "on to the department head"
    );
    for device in [&sun, &he] {
        assert!(device.inbox().await.is_empty());
        assert_eq!(device.shown_status(r).await, "in_progress");
    }
}

/// A decision made offline while the initiator withdrew: refused with when, and the
/// approver sees it withdrawn; the initiator sees it withdrawn too.
#[tokio::test(flavor = "multi_thread")]
async fn a_decision_made_offline_while_the_initiator_withdrew_is_refused_saying_so() {
    let w = world().await;
    let r = w.file("leave", 1, 2).await[0];
    let jiang = w.cli("jiang.tao");
    jiang.sync().await;

    w.proxy.offline().await;
    let out = jiang.run(&["approve", &r.to_string()]).await;
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Queued"),
        "{}",
        text(&out)
    );
    let now = tuesday_morning();
    w.shen
        .act(
            r,
            countersign_client::Act::Withdraw {
                comment: "plans changed".into(),
            },
            now,
        )
        .await
        .unwrap();
    assert_eq!(w.shen.sync(now).await.unwrap().applied, 1);

    w.proxy.online().await;
    let out = jiang.run(&["sync"]).await;
    assert!(out.status.success(), "{}", text(&out));
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(said.contains("refused: approve"), "{}", text(&out));
    assert!(said.contains("沈月"), "who: {}", text(&out));
    assert!(said.contains("01:30"), "when: {}", text(&out));
    let status = jiang.status().await;
    assert_eq!(
        status["refused"][0]["reason"]["code"], "request_withdrawn",
        "{status}"
    );
    assert_eq!(status["outbox_pending"], 0);

    assert_eq!(w.approvals(r).await, 0);
    assert_eq!(w.truth(r).await.state.status, RequestStatus::Withdrawn);
    assert!(jiang.inbox().await.is_empty());
    assert_eq!(jiang.shown_status(r).await, "withdrawn");
    let mine = w.shen.my_requests().await.unwrap();
    assert_eq!(mine[0].status, "withdrawn");
}
