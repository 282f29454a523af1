//! countersign-bench: the bench runner (issue 8). It sets up what each figure needs — the real
//! server on SQLite and on PostgreSQL, client cores, the `countersign` CLI, the release
//! desktop app under Xvfb — measures every figure beside a baseline taken in the same run,
//! prints one markdown table and writes it into BENCHMARKS.md ("Bench runner").
//!
//! Not a test: `make test` only compiles it. Run with
//! `cargo run -p countersign-bench --release -- all` (see the README, "Benchmarks").

mod desktop;
mod figures;
mod kill;
mod load;
mod report;
mod stats;
mod world;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand, ValueEnum};
use countersign_server::store::Backend;

use crate::report::{Context, Figure};
use crate::world::World;

#[derive(Parser, Debug)]
#[command(about = "Measures Countersign's figures beside same-run baselines (issue 8).")]
pub(crate) struct Cli {
    #[command(subcommand)]
    figure: Which,
    /// Which server database(s) the server figures run on.
    #[arg(long, value_enum, default_value_t = Backends::Both, global = true)]
    backend: Backends,
    /// Requests (each with one task waiting for the same approver) for the sync, inbox,
    /// memory and desktop figures.
    #[arg(long, default_value_t = 100_000, global = true)]
    rows: usize,
    /// Samples per latency figure (a p99 of 200 samples is their second slowest, which moved
    /// by 2× from run to run here).
    #[arg(long, default_value_t = 1000, global = true)]
    iterations: usize,
    /// Concurrent clients of the throughput figure.
    #[arg(long, default_value_t = 64, global = true)]
    clients: usize,
    /// How long each throughput run lasts at most, in seconds.
    #[arg(long, default_value_t = 8, global = true)]
    seconds: u64,
    /// Task rows in the database for the "pending for me" figure.
    #[arg(long, default_value_t = 1_000_000, global = true)]
    tasks: usize,
    /// Requests waiting to be decided in the throughput figure (its upper bound).
    #[arg(long, default_value_t = 40_000, global = true)]
    decisions: usize,
    /// Iterations of the kill-during-send loop; 0 leaves it out of the run (it needs the
    /// whole workspace built in debug, tests included).
    #[arg(long, default_value_t = 500, global = true)]
    kills: usize,
    /// Seconds the desktop apps idle before their memory is read.
    #[arg(long, default_value_t = 60, global = true)]
    idle: u64,
    /// Keep each desktop start's log (stderr, at `RUST_LOG` when set, else info) in this
    /// directory, to see where a slow start spends its time.
    #[arg(long, global = true)]
    app_logs: Option<PathBuf>,
    /// Also record each desktop start with `perf record` (CPU samples with their stacks and
    /// context switches, of the app and its WebKit processes) beside its log, as
    /// `NAME-N.perf.data`. perf's own cost is in the figures of such a run: they show where
    /// time goes, not how much there is.
    #[arg(long, global = true, requires = "app_logs")]
    app_perf: bool,
    /// Print the table only; leave BENCHMARKS.md as it is.
    #[arg(long, global = true)]
    no_write: bool,
}

#[derive(Subcommand, Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Which {
    /// Every figure.
    All,
    /// Initial sync of --rows requests into an empty cache.
    Sync,
    /// One change on the server → in a watching client's cache.
    Push,
    /// A decision on the server → the client's planner emits the notification.
    Notify,
    /// Server decisions per second under --clients concurrent clients.
    Throughput,
    /// Server "pending for me" with a million task rows.
    Pending,
    /// Client inbox list and full-text search over --rows cached.
    Inbox,
    /// Client (CLI) peak memory during the initial sync.
    Memory,
    /// Desktop cold start to inbox rendered, and idle memory, beside an empty Tauri app.
    Desktop,
    /// Release binary size, stripped, beside the empty Tauri app's.
    Binary,
    /// SIGKILL right after sending a decision, --kills times.
    KillLoop,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
enum Backends {
    Sqlite,
    Postgres,
    Both,
}

impl Backends {
    fn list(self) -> Vec<Backend> {
        match self {
            Backends::Sqlite => vec![Backend::Sqlite],
            Backends::Postgres => vec![Backend::Postgres],
            Backends::Both => vec![Backend::Sqlite, Backend::Postgres],
        }
    }
}

impl Cli {
    pub(crate) fn wants(&self, figure: Which) -> bool {
        self.figure == Which::All || self.figure == figure
    }
}

/// A generous ceiling: a stuck figure must not hang the run.
const FIGURE_TIMEOUT: Duration = Duration::from_secs(600);
/// The ceiling of the figures that build before they measure.
pub(crate) const LONG_FIGURE_TIMEOUT: Duration = Duration::from_secs(45 * 60);

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let command = std::env::args().skip(1).fold(
        "cargo run -p countersign-bench --release --".to_owned(),
        |acc, a| acc + " " + &a,
    );
    let ctx = Context::now(command);
    let started = Instant::now();
    let figures = run(&cli).await;
    let table = report::render(&figures);
    println!("\n{table}");
    eprintln!(
        "bench: finished in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    if !cli.no_write {
        let path = repo_root().join("BENCHMARKS.md");
        let preface = PREFACE.to_owned();
        match report::write_into(&path, &report::section(&ctx, &figures, &preface)) {
            Ok(()) => eprintln!("bench: wrote {}", path.display()),
            Err(e) => {
                eprintln!("bench: could not write {}: {e}", path.display());
                return std::process::ExitCode::FAILURE;
            }
        }
    }
    std::process::ExitCode::SUCCESS
}

const PREFACE: &str = "Written by `countersign-bench` (`crates/bench`). Every figure is \
measured through the real path (HTTP on loopback, the client core, the release binaries); \
setup data is loaded with direct SQL inserts (see `crates/bench/src/load.rs`), generated \
from fixed seeds so runs compare. Latencies are nearest-rank percentiles. The load \
generators share the machine's cores with the server, so throughput figures are a floor.";

pub(crate) fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The target directory this runner was built into (`<target>/release/countersign-bench`),
/// where it builds and finds the other binaries.
pub(crate) fn target_dir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.to_path_buf()))
        .unwrap_or_else(|| repo_root().join("target"))
}

/// A cargo invocation from the repository's root that builds into the target directory this
/// runner was built in: without it, a run whose shell lacks `CARGO_TARGET_DIR` would start a
/// cold build in the clone's own `target/` (and measure nothing for half an hour).
pub(crate) fn cargo() -> std::process::Command {
    let mut cmd =
        std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()));
    cmd.current_dir(repo_root())
        .env("CARGO_TARGET_DIR", target_dir());
    cmd
}

/// Runs one figure's measurement, turning a failure or a timeout into a "not measured" row.
pub(crate) async fn guarded<F>(names: &[(&str, &str)], work: F) -> Vec<Figure>
where
    F: std::future::Future<Output = anyhow::Result<Vec<Figure>>>,
{
    guarded_within(FIGURE_TIMEOUT, names, work).await
}

/// [`guarded`] with its own ceiling, for the figures that build or run long by design (the
/// desktop's, which build the release apps and download the whole cache first; the kill
/// loop, which builds the fault suite and runs 500 kills).
pub(crate) async fn guarded_within<F>(
    limit: Duration,
    names: &[(&str, &str)],
    work: F,
) -> Vec<Figure>
where
    F: std::future::Future<Output = anyhow::Result<Vec<Figure>>>,
{
    let started = Instant::now();
    let why = match tokio::time::timeout(limit, work).await {
        Ok(Ok(figures)) => {
            for f in &figures {
                eprintln!(
                    "bench: {} — {} (baseline {}) [{:.0} s]",
                    f.name,
                    f.ours,
                    f.baseline,
                    started.elapsed().as_secs_f64()
                );
            }
            return figures;
        }
        Ok(Err(e)) => format!("failed: {e:#}"),
        Err(_) => format!("did not finish within {} s", limit.as_secs()),
    };
    eprintln!("bench: {} {why}", names.first().map_or("", |n| n.0));
    names
        .iter()
        .map(|(name, goal)| Figure::not_measured(name, goal, why.clone()))
        .collect()
}

/// Starts the local PostgreSQL the tests use, and its role, as `make test` does (the script
/// is idempotent): the runner sets up what it measures.
fn start_postgres() -> Result<(), String> {
    let script = repo_root().join("scripts/postgres.sh");
    match std::process::Command::new("bash").arg(&script).status() {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(format!(
            "PostgreSQL did not start (`scripts/postgres.sh` exited with {status})"
        )),
        Err(e) => Err(format!("could not run {}: {e}", script.display())),
    }
}

async fn run(cli: &Cli) -> Vec<Figure> {
    let mut figures = Vec::new();
    let rows = cli.rows;
    let mut desktop_done = false;
    for backend in cli.backend.list() {
        let b = backend.name();
        if backend == Backend::Postgres
            && let Err(why) = start_postgres()
        {
            eprintln!("bench [{b}]: {why}");
            figures.push(Figure::not_measured(
                &format!("server figures ({b})"),
                "—",
                why,
            ));
            continue;
        }
        if cli.wants(Which::Sync)
            || cli.wants(Which::Inbox)
            || cli.wants(Which::Pending)
            || cli.wants(Which::Memory)
            || cli.wants(Which::Desktop)
        {
            eprintln!("bench [{b}]: loading {rows} requests");
            let loaded = Instant::now();
            let setup = async {
                let world = World::start(backend).await?;
                let ids = world.load(rows, 1).await?;
                anyhow::Ok((world, ids))
            };
            let (world, ids) = match setup.await {
                Ok(set) => set,
                Err(e) => {
                    figures.push(Figure::not_measured(
                        &format!("server figures ({b})"),
                        "—",
                        format!("the server or its data did not set up: {e:#}"),
                    ));
                    continue;
                }
            };
            eprintln!(
                "bench [{b}]: started and loaded {rows} requests in {:.1} s (direct SQL, setup)",
                loaded.elapsed().as_secs_f64()
            );
            if cli.wants(Which::Sync) || cli.wants(Which::Inbox) {
                let mut synced = None;
                figures.extend(
                    guarded(&[("initial sync", "≤ 2 s and ≤ 2× baseline")], async {
                        let s = figures::first_sync(&world, rows).await?;
                        let f = s.figure.clone();
                        synced = Some(s);
                        Ok(vec![f])
                    })
                    .await
                    .into_iter()
                    .filter(|_| cli.wants(Which::Sync)),
                );
                // The client's lists do not depend on the server's database: once.
                if cli.wants(Which::Inbox)
                    && backend == cli.backend.list()[0]
                    && let Some(s) = &synced
                {
                    figures.extend(
                        guarded(&[("client inbox list / search", "≤ 5 ms / ≤ 20 ms")], {
                            figures::inbox(&s.client, rows, cli.iterations)
                        })
                        .await,
                    );
                }
            }
            if (cli.wants(Which::Memory) || cli.wants(Which::Desktop)) && !desktop_done {
                desktop_done = true;
                figures.extend(desktop::memory_and_desktop(cli, &world, rows).await);
            }
            if cli.wants(Which::Pending) {
                figures.extend(
                    guarded(&[("server \"pending for me\"", "p99 ≤ 10 ms")], async {
                        Ok(vec![
                            figures::pending(&world, &ids, cli.tasks, cli.iterations).await?,
                        ])
                    })
                    .await,
                );
            }
        }
        if cli.wants(Which::Throughput) {
            let n = cli.decisions;
            figures.extend(
                guarded(
                    &[(
                        "server decisions/s",
                        "SQLite ≥ 5,000/s, PostgreSQL ≥ 3,000/s",
                    )],
                    async {
                        let world = World::start(backend).await?;
                        let ids = world.load(n, 2).await?;
                        figures::throughput(
                            &world,
                            &ids,
                            cli.clients,
                            Duration::from_secs(cli.seconds),
                        )
                        .await
                        .map(|f| vec![f])
                    },
                )
                .await,
            );
        }
        if cli.wants(Which::Push) || cli.wants(Which::Notify) {
            figures.extend(
                guarded(
                    &[
                        (
                            "one change on the server → in the client cache",
                            "p50 ≤ 10 ms",
                        ),
                        (
                            "a decision → the planner's notification",
                            "p50 ≤ 50 ms, p99 ≤ 100 ms",
                        ),
                    ],
                    async {
                        let world = World::start(backend).await?;
                        figures::live(&world, cli.iterations).await
                    },
                )
                .await,
            );
        }
    }
    if cli.wants(Which::Binary) {
        figures.extend(
            guarded(
                &[("release binary, stripped", "≤ baseline + 5 MB")],
                desktop::binary(),
            )
            .await,
        );
    }
    if cli.wants(Which::KillLoop) && cli.kills == 0 {
        figures.push(Figure::not_measured(
            "kill-during-send loop: iterations, lost or doubled decisions",
            "≥ 500, 0",
            "left out of this run (--kills 0); `countersign-bench kill-loop` runs it alone".into(),
        ));
    } else if cli.wants(Which::KillLoop) {
        figures.extend(
            guarded_within(
                LONG_FIGURE_TIMEOUT,
                &[(
                    "kill-during-send loop",
                    "≥ 500 iterations, 0 lost or doubled",
                )],
                kill::run(cli.kills),
            )
            .await,
        );
    }
    figures
}
