//! The server and client-core figures: each measured through the real path beside its
//! baseline in the same run.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::Utc;
use countersign_api::requests::RequestView;
use countersign_api::sync::{ActPayload, Mutation, MutationBatch, MutationKind, MutationStatus};
use countersign_client::{Client, InboxQuery, WatchEvent};
use countersign_domain::engine::Action;
use sqlx::Connection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::report::{Figure, Verdict};
use crate::stats::{Samples, ms, ratio, secs};
use crate::world::{World, api_session, signed_in};

/// A client's first sync of everything its person may see, timed, beside the baseline.
pub struct FirstSync {
    pub figure: Figure,
    pub client: Arc<Client>,
    pub _dir: tempfile::TempDir,
}

pub async fn first_sync(world: &World, rows: usize) -> anyhow::Result<FirstSync> {
    let dir = tempfile::tempdir()?;
    let client = signed_in(&world.url(), dir.path(), "jiang.tao").await?;
    let started = Instant::now();
    let report = client.sync(Utc::now()).await?;
    let took = started.elapsed();
    let cached = cached_requests(dir.path()).await?;
    anyhow::ensure!(
        cached.len() >= rows,
        "the first sync brought {} requests, fewer than the {rows} loaded",
        cached.len()
    );
    let baseline = raw_insert(cached).await?;
    let goal_met = took <= Duration::from_secs(2) && took <= baseline * 2;
    Ok(FirstSync {
        figure: Figure {
            name: format!(
                "initial sync of {} requests/tasks into an empty cache ({})",
                thousands(rows),
                world.backend().name()
            ),
            ours: secs(took),
            baseline: format!("{} (raw sqlx insert, one transaction)", secs(baseline)),
            ratio: ratio(took.as_secs_f64(), baseline.as_secs_f64()),
            goal: "≤ 2 s and ≤ 2× baseline".into(),
            verdict: Verdict::of(goal_met),
            note: format!(
                "`Client::sync` in this process against the server on loopback: {} changes in \
                 pages of 500, server hydration, notification planning, cache writes with the \
                 full-text index. The baseline inserts the same request and task rows into \
                 plain tables of a fresh SQLite file (WAL, synchronous=FULL), no index \
                 triggers, rows prepared beforehand.",
                report.pulled
            ),
        },
        client,
        _dir: dir,
    })
}

/// The requests the first sync stored, read back from the client's cache file under `home`
/// (the rows the baseline inserts).
async fn cached_requests(home: &std::path::Path) -> anyhow::Result<Vec<RequestView>> {
    let file = std::fs::read_dir(home.join("caches"))?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "sqlite"))
        .context("the client's cache file")?;
    let options = SqliteConnectOptions::new().filename(file).read_only(true);
    let mut conn = sqlx::SqliteConnection::connect_with(&options).await?;
    let bodies: Vec<String> = sqlx::query_scalar("SELECT body FROM requests")
        .fetch_all(&mut conn)
        .await?;
    Ok(bodies
        .iter()
        .filter_map(|b| serde_json::from_str(b).ok())
        .collect())
}

/// The baseline of the first sync: the same rows, raw, in one transaction.
async fn raw_insert(views: Vec<RequestView>) -> anyhow::Result<Duration> {
    let rows: Vec<(RequestView, String, String)> = views
        .into_iter()
        .map(|v| {
            let body = serde_json::to_string(&v).unwrap_or_default();
            let status = serde_json::to_value(v.status)
                .ok()
                .and_then(|s| s.as_str().map(str::to_owned))
                .unwrap_or_default();
            (v, body, status)
        })
        .collect();
    let dir = tempfile::tempdir()?;
    let options = SqliteConnectOptions::new()
        .filename(dir.path().join("baseline.db"))
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full);
    let mut conn = sqlx::SqliteConnection::connect_with(&options).await?;
    sqlx::raw_sql(
        "CREATE TABLE requests (id TEXT PRIMARY KEY NOT NULL, version INTEGER NOT NULL, \
         initiator TEXT NOT NULL, template_id TEXT NOT NULL, status TEXT NOT NULL, \
         title TEXT NOT NULL, updated_at TEXT NOT NULL, body TEXT NOT NULL); \
         CREATE TABLE tasks (request_id TEXT NOT NULL, task_no INTEGER NOT NULL, \
         assignee TEXT NOT NULL, opened_at TEXT NOT NULL, due_at TEXT, \
         PRIMARY KEY (request_id, task_no));",
    )
    .execute(&mut conn)
    .await?;
    let started = Instant::now();
    let mut tx = conn.begin().await?;
    for (v, body, status) in &rows {
        sqlx::query(
            "INSERT INTO requests (id, version, initiator, template_id, status, title, \
             updated_at, body) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(v.id.to_string())
        .bind(i64::try_from(v.version).unwrap_or(i64::MAX))
        .bind(v.initiator.to_string())
        .bind(&v.template_id)
        .bind(status)
        .bind(&v.title)
        .bind(v.updated_at.to_rfc3339())
        .bind(body)
        .execute(&mut *tx)
        .await?;
        for t in v.state.open_tasks() {
            sqlx::query(
                "INSERT INTO tasks (request_id, task_no, assignee, opened_at, due_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(v.id.to_string())
            .bind(i64::from(t.id))
            .bind(t.assignee.to_string())
            .bind(t.opened_at.to_rfc3339())
            .bind(t.due_at.map(|d| d.to_rfc3339()))
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await?;
    Ok(started.elapsed())
}

/// The inbox's first page and a full-text search in each language, from the synced cache.
pub async fn inbox(client: &Client, rows: usize, iterations: usize) -> anyhow::Result<Vec<Figure>> {
    let now = Utc::now();
    let cases = [
        (
            "client inbox list (first page of 50)",
            None,
            Duration::from_millis(5),
            "≤ 5 ms",
        ),
        (
            "client full-text search, Chinese (\"探亲\")",
            Some("探亲"),
            Duration::from_millis(20),
            "≤ 20 ms",
        ),
        (
            "client full-text search, English (\"wedding\")",
            Some("wedding"),
            Duration::from_millis(20),
            "≤ 20 ms",
        ),
    ];
    let mut figures = Vec::new();
    for (name, search, goal, goal_text) in cases {
        let query = InboxQuery {
            search: search.map(str::to_owned),
            limit: 50,
            ..InboxQuery::default()
        };
        let first = client.inbox_page(&query, now).await?;
        anyhow::ensure!(!first.items.is_empty(), "{name}: no rows");
        let mut samples = Vec::with_capacity(iterations);
        for _ in 0..iterations {
            let started = Instant::now();
            let page = client.inbox_page(&query, now).await?;
            samples.push(started.elapsed());
            std::hint::black_box(page);
        }
        let s = Samples::new(samples);
        figures.push(Figure {
            name: format!("{name} over {} cached", thousands(rows)),
            ours: s.summary(),
            baseline: "—".into(),
            ratio: "—".into(),
            goal: goal_text.into(),
            verdict: Verdict::of(s.median() <= goal),
            note: format!(
                "`Client::inbox_page` (what the desktop's inbox command calls), {} matching \
                 rows in all; the goal is held against the median.",
                first.total
            ),
        });
    }
    Ok(figures)
}

/// "Pending for me" (`GET /v1/tasks`) for 钱立, with `total_tasks` task rows in the database.
pub async fn pending(
    world: &World,
    requests: &[Uuid],
    total_tasks: usize,
    iterations: usize,
) -> anyhow::Result<Figure> {
    let store = world.server.state.store.clone();
    let qian = store
        .find_person_by_username("qian.li")
        .await?
        .context("qian.li is in the demo organisation")?;
    // Filler up to `total_tasks` rows (nine more per request for 100k requests and 1M tasks)
    // over 5,000 made-up assignees, plus 钱立's own open tasks on every 2,000th request.
    let per_request =
        u32::try_from(total_tasks.saturating_sub(requests.len()) / requests.len().max(1))
            .unwrap_or(0);
    let assignees: Vec<Uuid> = (1..=5000u128).map(Uuid::from_u128).collect();
    let opened = Utc::now();
    let mut filler = crate::load::filler_tasks(requests, per_request, &assignees, opened);
    let mine: Vec<Uuid> = requests.iter().step_by(2000).copied().collect();
    filler.extend(
        crate::load::filler_tasks(&mine, 1, &[qian.id], opened)
            .into_iter()
            .map(|mut t| {
                t.task_no = 99;
                t.open = true;
                t
            }),
    );
    let setup = Instant::now();
    crate::load::write(world.server.db().url(), &[], &filler).await?;
    let setup = setup.elapsed();
    let total: i64 = match world.backend() {
        countersign_server::store::Backend::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(world.server.db().url()).await?;
            sqlx::query_scalar("SELECT count(*) FROM tasks")
                .fetch_one(&mut c)
                .await?
        }
        countersign_server::store::Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(world.server.db().url()).await?;
            sqlx::query_scalar("SELECT count(*) FROM tasks")
                .fetch_one(&mut c)
                .await?
        }
    };
    let (_, token) = api_session(&world.url(), "qian.li").await?;
    let http = reqwest::Client::new();
    let url = format!("{}/v1/tasks", world.url());
    let get = || async {
        let started = Instant::now();
        let answer = http
            .get(&url)
            .bearer_auth(&token)
            .send()
            .await?
            .error_for_status()?;
        let tasks: Vec<serde_json::Value> = answer.json().await?;
        anyhow::Ok((started.elapsed(), tasks.len()))
    };
    let (_, found) = get().await?;
    let mut samples = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        samples.push(get().await?.0);
    }
    let s = Samples::new(samples);
    Ok(Figure {
        name: format!(
            "server \"pending for me\" at {} tasks in the database ({})",
            thousands(usize::try_from(total).unwrap_or(0)),
            world.backend().name()
        ),
        ours: s.summary(),
        baseline: "—".into(),
        ratio: "—".into(),
        goal: "p99 ≤ 10 ms".into(),
        verdict: Verdict::of(s.p99() <= Duration::from_millis(10)),
        note: format!(
            "`GET /v1/tasks` over loopback for a person with {found} open tasks, answered with \
             their requests and audited; filler task rows written directly ({} s), then \
             checkpointed (the load's pages written out before measuring).",
            setup.as_secs()
        ),
    })
}

/// Decisions per second from `clients` concurrent connections, and /healthz under the same
/// load as the baseline.
pub async fn throughput(
    world: &World,
    requests: &[Uuid],
    clients: usize,
    budget: Duration,
) -> anyhow::Result<Figure> {
    let (api, token) = api_session(&world.url(), "jiang.tao").await?;
    let api = Arc::new(api);
    let token = Arc::new(token);
    let requests = Arc::new(requests.to_vec());
    let next = Arc::new(AtomicUsize::new(0));
    let refused = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..clients {
        let (api, token, requests, next, refused) = (
            api.clone(),
            token.clone(),
            requests.clone(),
            next.clone(),
            refused.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut done = 0usize;
            while started.elapsed() < budget {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(id) = requests.get(i) else { break };
                let batch = approve(*id);
                let answer = api.mutations(&token, &batch).await?;
                if answer
                    .results
                    .iter()
                    .any(|r| r.status != MutationStatus::Applied)
                {
                    refused.fetch_add(1, Ordering::Relaxed);
                }
                done += 1;
            }
            anyhow::Ok(done)
        }));
    }
    let mut decided = 0;
    for w in workers {
        decided += w.await??;
    }
    let took = started.elapsed();
    let rate = decided as f64 / took.as_secs_f64();

    // The baseline: the same connections asking /healthz for as long.
    let http = reqwest::Client::new();
    let health = format!("{}/healthz", world.url());
    let started = Instant::now();
    let count = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..clients {
        let (http, health, count) = (http.clone(), health.clone(), count.clone());
        workers.push(tokio::spawn(async move {
            while started.elapsed() < took {
                http.get(&health).send().await?.error_for_status()?;
                count.fetch_add(1, Ordering::Relaxed);
            }
            anyhow::Ok(())
        }));
    }
    for w in workers {
        w.await??;
    }
    let health_rate = count.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();
    let (goal, goal_text) = match world.backend() {
        countersign_server::store::Backend::Sqlite => (5000.0, "≥ 5,000/s"),
        countersign_server::store::Backend::Postgres => (3000.0, "≥ 3,000/s"),
    };
    let refused = refused.load(Ordering::Relaxed);
    Ok(Figure {
        name: format!(
            "server decisions/s, {clients} concurrent clients, audit + feed fan-out ({})",
            world.backend().name()
        ),
        ours: format!("{rate:.0}/s"),
        baseline: format!("{health_rate:.0}/s (/healthz)"),
        ratio: ratio(rate, health_rate),
        goal: goal_text.into(),
        verdict: Verdict::of(rate >= goal && refused == 0),
        note: format!(
            "{decided} approvals as `POST /v1/mutations` (one `act_on_request` each, what a \
             client sends) in {}, {refused} not applied; client load generator in the same \
             process as the server, on the same 2 cores.",
            secs(took)
        ),
    })
}

fn approve(id: Uuid) -> MutationBatch {
    act(
        id,
        Action::Approve {
            task: 1,
            comment: String::new(),
        },
    )
}

fn act(id: Uuid, action: Action) -> MutationBatch {
    MutationBatch {
        mutations: vec![Mutation {
            id: Uuid::now_v7(),
            kind: MutationKind::ActOnRequest,
            payload: serde_json::to_value(ActPayload {
                request_id: id,
                action,
            })
            .unwrap_or_default(),
            base_version: None,
        }],
    }
}

/// What a watching client reported.
enum Seen {
    Live,
    Synced {
        at: Instant,
        changed: Vec<String>,
        notified: Vec<String>,
    },
}

/// A client core watching the server live; each sync it reports arrives on `synced`.
struct Watching {
    synced: mpsc::UnboundedReceiver<Seen>,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Watching {
    fn start(client: Arc<Client>) -> Self {
        let (tx, synced) = mpsc::unbounded_channel();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = client
                .watch(
                    Utc::now,
                    move |event| {
                        let at = Instant::now();
                        let seen = match event {
                            WatchEvent::Synced(report) => Seen::Synced {
                                at,
                                changed: report.changed.iter().map(|c| c.id.clone()).collect(),
                                // The request id is in every notification about it.
                                notified: report
                                    .notifications
                                    .iter()
                                    .map(|n| format!("{n:?}"))
                                    .collect(),
                            },
                            WatchEvent::Live => Seen::Live,
                            WatchEvent::Offline(_) | WatchEvent::Reminders(_) => return,
                        };
                        let _ = tx.send(seen);
                    },
                    async {
                        let _ = stopped.await;
                    },
                )
                .await;
        });
        Watching {
            synced,
            stop: Some(stop),
            task,
        }
    }

    /// When the first sync whose changes (or notifications) mention `id` was reported.
    async fn until(&mut self, id: Uuid, notified: bool) -> anyhow::Result<Instant> {
        let id = id.to_string();
        let deadline = Duration::from_secs(20);
        loop {
            let seen = tokio::time::timeout(deadline, self.synced.recv())
                .await
                .context("no sync reported within 20 s")?
                .context("the watch ended")?;
            let Seen::Synced {
                at,
                changed,
                notified: notes,
            } = seen
            else {
                continue;
            };
            let hit = if notified {
                notes.iter().any(|n| n.contains(&id))
            } else {
                changed.contains(&id)
            };
            if hit {
                return Ok(at);
            }
        }
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = self.task.await;
    }
}

/// "One change on the server → in the client cache" and "a decision → the planner's
/// notification": two clients watching live, changes sent over HTTP one at a time.
pub async fn live(world: &World, iterations: usize) -> anyhow::Result<Vec<Figure>> {
    let requests = world.load(2 * iterations, 11).await?;
    let (pushed, decided) = requests.split_at(iterations);
    let jiang_dir = tempfile::tempdir()?;
    let shen_dir = tempfile::tempdir()?;
    let jiang = signed_in(&world.url(), jiang_dir.path(), "jiang.tao").await?;
    let shen = signed_in(&world.url(), shen_dir.path(), "shen.yue").await?;
    jiang.sync(Utc::now()).await?;
    shen.sync(Utc::now()).await?;
    let (api, shen_token) = api_session(&world.url(), "shen.yue").await?;
    let (_, jiang_token) = api_session(&world.url(), "jiang.tao").await?;

    // The baseline: one loopback round trip.
    let http = reqwest::Client::new();
    let health = format!("{}/healthz", world.url());
    http.get(&health).send().await?;
    let mut rtt = Vec::new();
    for _ in 0..iterations {
        let started = Instant::now();
        http.get(&health).send().await?.bytes().await?;
        rtt.push(started.elapsed());
    }
    let rtt = Samples::new(rtt);

    let mut watching = Watching::start(jiang.clone());
    watching.until_ready().await?;
    let mut push = Vec::new();
    for id in pushed {
        let started = Instant::now();
        let batch = act(
            *id,
            Action::Comment {
                text: "bench: one change".into(),
            },
        );
        api.mutations(&shen_token, &batch).await?;
        push.push(watching.until(*id, false).await? - started);
    }
    watching.stop().await;

    let mut watching = Watching::start(shen.clone());
    watching.until_ready().await?;
    let mut notify = Vec::new();
    for id in decided {
        let started = Instant::now();
        api.mutations(&jiang_token, &approve(*id)).await?;
        notify.push(watching.until(*id, true).await? - started);
    }
    watching.stop().await;

    let push = Samples::new(push);
    let notify = Samples::new(notify);
    let backend = world.backend().name();
    Ok(vec![
        Figure {
            name: format!("one change on the server → in the client cache ({backend})"),
            ours: push.summary(),
            baseline: format!("{} (loopback HTTP round trip, p50)", ms(rtt.median())),
            ratio: ratio(push.median().as_secs_f64(), rtt.median().as_secs_f64()),
            goal: "p50 ≤ 10 ms".into(),
            verdict: Verdict::of(push.median() <= Duration::from_millis(10)),
            note: "from sending 沈悦's comment (`POST /v1/mutations`, its write included) to \
                   蒋涛's watching client reporting the sync that stored it (SSE hint, pull, \
                   cache write)."
                .into(),
        },
        Figure {
            name: format!(
                "a decision on the server → the client's planner emits the notification ({backend})"
            ),
            ours: notify.summary(),
            baseline: "—".into(),
            ratio: "—".into(),
            goal: "p50 ≤ 50 ms, p99 ≤ 100 ms".into(),
            verdict: Verdict::of(
                notify.median() <= Duration::from_millis(50)
                    && notify.p99() <= Duration::from_millis(100),
            ),
            note: "from sending 蒋涛's approval to 沈悦's watching client reporting the planned \
                   \"your request was approved\" notification."
                .into(),
        },
    ])
}

impl Watching {
    /// Waits until the live stream is open (the watch syncs first, then opens it).
    async fn until_ready(&mut self) -> anyhow::Result<()> {
        loop {
            let seen = tokio::time::timeout(Duration::from_secs(20), self.synced.recv())
                .await
                .context("the live stream did not open within 20 s")?
                .context("the watch ended")?;
            if matches!(seen, Seen::Live) {
                return Ok(());
            }
        }
    }
}

/// 100000 → "100k", 1000000 → "1M".
pub fn thousands(n: usize) -> String {
    if n >= 1_000_000 && n.is_multiple_of(1_000_000) {
        format!("{}M", n / 1_000_000)
    } else if n >= 1000 && n.is_multiple_of(1000) {
        format!("{}k", n / 1000)
    } else {
        n.to_string()
    }
}
