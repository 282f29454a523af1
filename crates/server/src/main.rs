//! The `countersign-server` binary: settings, logging and subcommands around the library.

use std::io::{IsTerminal, Read};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use countersign_server::clock::{Clock, SystemClock};
use countersign_server::people::{AddPersonError, NewPerson, add_person};
use countersign_server::settings::{self, FlagOverrides, LogFormat, Settings};
use countersign_server::store::{self, StoreError};
use countersign_server::{AppState, seed};

#[derive(Parser)]
#[command(
    name = "countersign-server",
    version,
    about = "The Countersign OA server"
)]
struct Cli {
    /// Settings file (TOML). Default: server.toml in the platform config directory, if any.
    #[arg(long, global = true, env = "COUNTERSIGN_CONFIG")]
    config: Option<PathBuf>,
    /// Database URL: sqlite://PATH or postgres://USER@HOST/DB. Default: a SQLite file in
    /// the data directory.
    #[arg(long, global = true)]
    database_url: Option<String>,
    /// Directory for the embedded database and other server files.
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// Log output format.
    #[arg(long, global = true, value_enum)]
    log_format: Option<LogFormat>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API.
    Serve {
        /// Address to listen on [default: 127.0.0.1].
        #[arg(long)]
        bind: Option<IpAddr>,
        /// Port to listen on [default: 8470].
        #[arg(long)]
        port: Option<u16>,
    },
    /// Create or upgrade the database schema, then exit.
    Migrate,
    /// Add a demo organisation (departments, ~20 people) to an empty database and print the
    /// demo credentials. Safe to run again.
    SeedDemo,
    /// Manage people.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Bookable meeting rooms.
    Room {
        #[command(subcommand)]
        command: RoomCommand,
    },
}

#[derive(Subcommand)]
enum RoomCommand {
    /// Add a room that meetings can book.
    Add {
        /// The name people see, e.g. "3F 会议室 A".
        name: String,
        /// Seats.
        #[arg(long)]
        capacity: Option<u32>,
    },
    /// List the rooms.
    List,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a person. The password is read from standard input, never from the command line
    /// (where other users could see it in the process list).
    Add {
        #[arg(long)]
        username: String,
        #[arg(long)]
        display_name: String,
        #[arg(long)]
        email: Option<String>,
        /// Department code, e.g. FIN.
        #[arg(long)]
        department: Option<String>,
        /// The user name of their manager.
        #[arg(long)]
        manager: Option<String>,
        /// A role; repeat for several. Default: employee.
        #[arg(long = "role")]
        roles: Vec<String>,
        /// A routing position such as finance_director or it_head; repeat for several.
        #[arg(long = "position")]
        positions: Vec<String>,
    },
    /// List active accounts with no sign-in and no session activity for DAYS days (S3).
    /// With --disable, disable each one: its sessions end and its open tasks go to its
    /// manager, audited as `system`, one transaction per account.
    Dormant {
        /// Days without activity.
        #[arg(long, default_value_t = countersign_server::reports::DEFAULT_DORMANT_DAYS)]
        days: u32,
        /// Disable the accounts listed.
        #[arg(long)]
        disable: bool,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the hash chain of the audit log and report the first broken line.
    Verify,
}

/// A failure with the exit code it deserves: 2 for what the operator must fix in the
/// invocation or settings, 1 for everything else.
struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    fn usage(message: impl Into<String>) -> Self {
        Self {
            code: 2,
            message: message.into(),
        }
    }

    fn runtime(message: impl Into<String>) -> Self {
        Self {
            code: 1,
            message: message.into(),
        }
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::BadUrl(m) => Failure::usage(m),
            other => Failure::runtime(other.to_string()),
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("countersign-server: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("countersign-server: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}

async fn run(cli: Cli) -> Result<(), Failure> {
    let bind_flags = match &cli.command {
        Command::Serve { bind, port } => (*bind, *port),
        _ => (None, None),
    };
    let flags = FlagOverrides {
        bind: bind_flags.0,
        port: bind_flags.1,
        data_dir: cli.data_dir.clone(),
        database_url: cli.database_url.clone(),
    };
    let env: Vec<(String, String)> = std::env::vars().collect();
    let mut settings = settings::load(cli.config.as_deref(), &env, &flags)
        .map_err(|e| Failure::usage(format!("invalid settings: {e}")))?;
    if let Some(format) = cli.log_format {
        settings.log.format = format;
    }
    init_logging(&settings);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);

    match cli.command {
        Command::Serve { .. } => serve(settings, clock).await,
        Command::Migrate => {
            let store = store::open(&settings.database_url()).await?;
            let state = AppState::new(store.clone(), clock, settings)
                .map_err(|e| Failure::usage(e.to_string()))?;
            let prepared = state.prepare().await;
            store.close().await;
            prepared.map_err(|e| Failure::runtime(format!("cannot prepare the database: {e}")))?;
            println!("database schema is up to date ({})", store.backend().name());
            Ok(())
        }
        Command::SeedDemo => seed_demo(&settings, clock).await,
        Command::User {
            command:
                UserCommand::Add {
                    username,
                    display_name,
                    email,
                    department,
                    manager,
                    roles,
                    positions,
                },
        } => {
            let password = read_password()?;
            let store = store::open(&settings.database_url()).await?;
            let new = NewPerson {
                username,
                display_name,
                email,
                department_code: department,
                manager_username: manager,
                roles,
                positions,
            };
            let result = add_person(store.as_ref(), new, password, clock.now()).await;
            store.close().await;
            match result {
                Ok(person) => {
                    println!("added {} ({})", person.username, person.id);
                    Ok(())
                }
                Err(AddPersonError::Store(e)) => Err(e.into()),
                Err(e) => Err(Failure::usage(e.to_string())),
            }
        }
        Command::User {
            command: UserCommand::Dormant { days, disable },
        } => dormant(settings, clock, days, disable).await,
        Command::Room { command } => room(settings, clock, command).await,
        Command::Audit {
            command: AuditCommand::Verify,
        } => {
            let store = store::open(&settings.database_url()).await?;
            let outcome = store::verify_audit_chain(store.as_ref()).await;
            store.close().await;
            match outcome? {
                Ok(lines) => {
                    println!("audit log intact: {lines} lines verified");
                    Ok(())
                }
                Err(broken) => Err(Failure::runtime(format!(
                    "audit log broken at line {}: {}",
                    broken.seq, broken.reason
                ))),
            }
        }
    }
}

async fn room(
    settings: Settings,
    clock: Arc<dyn Clock>,
    command: RoomCommand,
) -> Result<(), Failure> {
    let store = store::open(&settings.database_url()).await?;
    let result = match command {
        RoomCommand::Add { name, capacity } => {
            let name = name.trim().to_owned();
            if name.is_empty() {
                store.close().await;
                return Err(Failure::usage("a room needs a name"));
            }
            let room = store::Room {
                id: uuid::Uuid::now_v7(),
                name: name.clone(),
                capacity: capacity.and_then(|c| i32::try_from(c).ok()),
                active: true,
            };
            let audit =
                store::AuditEntry::system(clock.now(), "room.create", format!("room:{name}"));
            match store.insert_room(&room, &audit).await {
                Ok(()) => {
                    println!("added room {name} ({})", room.id);
                    Ok(())
                }
                Err(store::StoreError::Conflict { .. }) => Err(Failure::usage(format!(
                    "there is already a room named {name}"
                ))),
                Err(e) => Err(e.into()),
            }
        }
        RoomCommand::List => match store.list_rooms().await {
            Ok(rooms) => {
                for r in rooms {
                    let seats = r
                        .capacity
                        .map_or_else(String::new, |c| format!(", {c} seats"));
                    let state = if r.active { "" } else { " (retired)" };
                    println!("{}  {}{seats}{state}", r.id, r.name);
                }
                Ok(())
            }
            Err(e) => Err(e.into()),
        },
    };
    store.close().await;
    result
}

async fn serve(settings: Settings, clock: Arc<dyn Clock>) -> Result<(), Failure> {
    let addr = SocketAddr::new(settings.bind, settings.port);
    // Bind before touching the database so a second server on the same port fails fast
    // and leaves the database alone.
    let listener = countersign_server::bind(addr)
        .await
        .map_err(|e| Failure::runtime(e.to_string()))?;
    let store = store::open(&settings.database_url()).await?;
    let local = listener
        .local_addr()
        .map_err(|e| Failure::runtime(format!("cannot read the listening address: {e}")))?;
    let state =
        AppState::new(store.clone(), clock, settings).map_err(|e| Failure::usage(e.to_string()))?;
    state
        .prepare()
        .await
        .map_err(|e| Failure::runtime(format!("cannot prepare the database: {e}")))?;
    let shutdown = shutdown_signal();
    tracing::info!(
        %local,
        database = store.backend().name(),
        version = env!("CARGO_PKG_VERSION"),
        "countersign-server listening"
    );
    // A line on stdout that scripts (make run, tests) can wait for: the server is ready.
    println!("listening on http://{local}");
    let served = countersign_server::serve(listener, state, shutdown).await;
    store.close().await;
    tracing::info!("countersign-server stopped");
    served.map_err(|e| Failure::runtime(format!("server error: {e}")))
}

async fn seed_demo(settings: &Settings, clock: Arc<dyn Clock>) -> Result<(), Failure> {
    let store = store::open(&settings.database_url()).await?;
    let report = seed::seed_demo(store.as_ref(), clock.now()).await;
    let requests = match &report {
        // The requests go through the server's own submit path, so it needs its templates.
        Ok(report) if report.created => {
            match AppState::new(store.clone(), clock, settings.clone()) {
                Ok(state) => match state.prepare().await {
                    Ok(()) => seed::seed_demo_requests(&state).await.map(Some),
                    Err(e) => Err(seed::SeedError::Request(e.to_string())),
                },
                Err(e) => Err(seed::SeedError::Request(e.to_string())),
            }
        }
        _ => Ok(None),
    };
    store.close().await;
    let report = report.map_err(|e| Failure::runtime(e.to_string()))?;
    let requests = requests.map_err(|e| Failure::runtime(e.to_string()))?;
    if report.created {
        println!("Demo organisation created.");
        if let Some(count) = requests {
            println!(
                "{count} demo requests wait for decisions (蒋涛 jiang.tao, 李伟 li.wei, 钱立 qian.li)."
            );
        }
    } else {
        println!("Demo organisation already present; nothing changed.");
    }
    println!("Demo accounts (password for all: {}):", seed::DEMO_PASSWORD);
    for (username, display_name, department, roles) in &report.accounts {
        println!(
            "  {username:<12} {display_name:<4}  {department:<6} {}",
            roles.join(", ")
        );
    }
    Ok(())
}

/// `user dormant`: lists the dormant accounts and, with `disable`, disables them one by one.
/// An account that cannot be disabled (its tasks have nowhere to go) is reported and the
/// others still are; the command then fails so that a scheduler notices.
async fn dormant(
    settings: Settings,
    clock: Arc<dyn Clock>,
    days: u32,
    disable: bool,
) -> Result<(), Failure> {
    let store = store::open(&settings.database_url()).await?;
    let state =
        AppState::new(store.clone(), clock, settings).map_err(|e| Failure::usage(e.to_string()))?;
    let outcome = dormant_in(&state, days, disable).await;
    store.close().await;
    outcome
}

async fn dormant_in(state: &AppState, days: u32, disable: bool) -> Result<(), Failure> {
    use countersign_server::error::Error;
    let report = state.dormant_accounts(days).await.map_err(|e| match e {
        Error::Refused { message, .. } => Failure::usage(message),
        other => Failure::runtime(other.to_string()),
    })?;
    let audit = countersign_server::store::AuditEntry::system(
        state.clock.now(),
        "report.read",
        format!("report:dormant_accounts?days={days}"),
    );
    state.store.append_audit(&audit).await?;
    let cutoff = report.cutoff.to_rfc3339();
    if report.accounts.is_empty() {
        println!("no dormant accounts: everyone was active since {cutoff}");
        return Ok(());
    }
    println!(
        "{} dormant account(s), no activity since {cutoff}:",
        report.accounts.len()
    );
    for a in &report.accounts {
        let last = a
            .last_sign_in_at
            .max(a.last_seen_at)
            .map_or_else(|| "never".to_owned(), |t| t.to_rfc3339());
        println!(
            "  {:<20} {:<12} idle {:>5} days  last active {last}  open tasks {}",
            a.username, a.display_name, a.idle_days, a.open_tasks
        );
    }
    if !disable {
        return Ok(());
    }
    let mut failed = 0usize;
    for a in &report.accounts {
        match state.disable_dormant(a.id, days).await {
            Ok(done) => println!(
                "disabled {} ({} session(s) revoked, {} task(s) handed on)",
                a.username,
                done.sessions_revoked,
                done.reassigned.len()
            ),
            Err(e) => {
                failed += 1;
                eprintln!("could not disable {}: {e}", a.username);
            }
        }
    }
    if failed > 0 {
        return Err(Failure::runtime(format!(
            "{failed} dormant account(s) could not be disabled"
        )));
    }
    Ok(())
}

/// Reads the password for `user add` from stdin: one line, without the newline.
fn read_password() -> Result<String, Failure> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprintln!("Password (then Enter):");
    }
    let mut input = String::new();
    stdin
        .lock()
        .take(4096)
        .read_to_string(&mut input)
        .map_err(|e| Failure::usage(format!("cannot read the password from stdin: {e}")))?;
    let password = input.lines().next().unwrap_or_default().to_owned();
    if password.is_empty() {
        return Err(Failure::usage(
            "no password on standard input: pipe it in, e.g. `printf '%s' \"$PW\" | countersign-server user add …`",
        ));
    }
    Ok(password)
}

fn init_logging(settings: &Settings) {
    use tracing_subscriber::EnvFilter;
    // RUST_LOG, when set, wins: it is what Rust operators reach for when debugging.
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&settings.log.level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match settings.log.format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// Resolves on Ctrl-C or SIGTERM. The handlers are registered when this is called, not
/// when the future is first polled, so a signal sent the moment the server says it is ready
/// still stops it gracefully.
fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let interrupt = tokio::signal::ctrl_c();
    async move {
        #[cfg(unix)]
        let terminate = async move {
            match terminate {
                Some(mut sig) => {
                    sig.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let terminate = std::future::pending::<()>();
        tokio::select! {
            _ = interrupt => {},
            () = terminate => {},
        }
        tracing::info!("shutting down: finishing requests in flight");
    }
}
