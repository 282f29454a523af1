//! `countersign`: the command-line client. Every command drives [`countersign_client::Client`]
//! exactly as the desktop app does. Exit codes: 0 done, 1 refused or failed, 2 usage.

use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use countersign_client::{
    Client, ClientError, ClientErrorCode, ClientOptions, KeyringCredentials, ProfileDir,
    SessionView,
};
use uuid::Uuid;

mod commands;

#[derive(Parser)]
#[command(name = "countersign", version, about = "The Countersign OA client")]
struct Cli {
    /// Profile directory (sign-in state and preferences). Default: the platform data
    /// directory.
    #[arg(long, global = true, env = "COUNTERSIGN_HOME")]
    home: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Sign in to a Countersign server on this device.
    Login {
        /// Server address, e.g. https://oa.example.com or localhost:8470.
        #[arg(long)]
        server: String,
        /// Your user name.
        #[arg(long = "user")]
        user: String,
        /// Read the password from standard input instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Show who is signed in.
    Whoami {
        #[arg(long)]
        json: bool,
    },
    /// List your sessions on all devices, or revoke one.
    Sessions {
        #[arg(long)]
        json: bool,
        /// Revoke the session with this id instead of listing.
        #[arg(long, value_name = "ID")]
        revoke: Option<Uuid>,
    },
    /// Sign out on this device. The offline cache (drafts, unsent actions) is kept unless
    /// --wipe is given.
    Logout {
        /// Also delete this account's offline cache, unsent actions included.
        #[arg(long)]
        wipe: bool,
    },
    /// Send queued actions and download what changed.
    Sync {
        #[arg(long)]
        json: bool,
        /// Keep going: listen for changes and sync as they happen, printing notifications,
        /// until Ctrl-C.
        #[arg(long)]
        watch: bool,
    },
    /// Online or not, the last sync, and the outbox (queued and refused actions).
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Approvals pending for you.
    Inbox {
        #[arg(long)]
        json: bool,
    },
    /// Your requests (and those queued for submission).
    Requests {
        #[arg(long)]
        json: bool,
    },
    /// Templates you can start a request from.
    Templates {
        #[arg(long)]
        json: bool,
    },
    /// A request with its timeline.
    Show {
        request: Uuid,
        #[arg(long)]
        json: bool,
    },
    /// Every queued, sent and refused action.
    Outbox {
        #[arg(long)]
        json: bool,
    },
    /// Approve a request pending for you.
    Approve(ActArgs),
    /// Reject a request pending for you (a comment is required).
    Reject(ActArgs),
    /// Send a request back to its initiator (a comment is required).
    Return(ActArgs),
    /// Hand your task to a colleague (--to USER).
    Transfer(ActArgs),
    /// Take back a request you submitted.
    Withdraw(ActArgs),
    /// Remind whoever holds a request you submitted.
    Urge(ActArgs),
    /// Comment on a request.
    Comment(ActArgs),
    /// Drafts: new, set, title, show, list, delete.
    Draft {
        #[command(subcommand)]
        command: DraftCommand,
    },
    /// Your meetings (default: from today for two weeks), times in your zone.
    Meetings {
        /// First day, YYYY-MM-DD in your zone.
        #[arg(long)]
        from: Option<String>,
        /// Last day (included), YYYY-MM-DD in your zone.
        #[arg(long)]
        to: Option<String>,
        /// IANA zone to show times in (default: the system's, else Asia/Shanghai).
        #[arg(long)]
        zone: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// A meeting: show, new, edit, cancel, materials, export, import, report.
    Meeting {
        #[command(subcommand)]
        command: MeetingCommand,
    },
    /// Answer a meeting invitation: accept, tentative or decline (queued when offline).
    Rsvp {
        meeting: Uuid,
        answer: String,
        #[arg(long)]
        note: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Submit a draft (queued when offline).
    Submit {
        draft: Uuid,
        #[arg(long)]
        json: bool,
    },
    /// Correct a request returned to you: makes (or finds) a draft with its form; change it
    /// with `draft set`, then `submit` it to resubmit the same request.
    Resubmit {
        request: Uuid,
        #[arg(long)]
        json: bool,
    },
}

#[derive(clap::Args)]
struct ActArgs {
    /// The request.
    request: Uuid,
    #[arg(long, default_value = "")]
    comment: String,
    /// For transfer: the colleague's user name.
    #[arg(long)]
    to: Option<String>,
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum MeetingCommand {
    /// A meeting in full (marks it opened for the organiser's ledger).
    Show {
        meeting: Uuid,
        #[arg(long)]
        zone: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Plan a meeting and send the invitations (needs a connection).
    New {
        #[arg(long)]
        title: String,
        #[arg(long, default_value = "")]
        agenda: String,
        /// RFC 3339, e.g. 2026-12-01T10:00:00+08:00.
        #[arg(long)]
        start: String,
        #[arg(long)]
        end: String,
        /// The meeting's IANA zone (default: the system's, else Asia/Shanghai).
        #[arg(long)]
        zone: Option<String>,
        #[arg(long)]
        room: Option<String>,
        #[arg(long)]
        place: Option<String>,
        #[arg(long)]
        link: Option<String>,
        /// A colleague's user name; repeat for more.
        #[arg(long = "invite")]
        invite: Vec<String>,
        /// A department's code; everyone in it is invited.
        #[arg(long = "department")]
        department: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// Change a meeting you organise (needs a connection); everyone is told what changed.
    Edit {
        meeting: Uuid,
        #[arg(long)]
        title: Option<String>,
        #[arg(long)]
        agenda: Option<String>,
        /// RFC 3339, e.g. 2026-12-01T10:00:00+08:00.
        #[arg(long)]
        start: Option<String>,
        #[arg(long)]
        end: Option<String>,
        /// A room by name; `none` gives the room up.
        #[arg(long)]
        room: Option<String>,
        #[arg(long)]
        place: Option<String>,
        #[arg(long)]
        link: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Cancel a meeting you organise (needs a connection); everyone is told.
    Cancel {
        meeting: Uuid,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Add files to a meeting's materials (needs a connection).
    Materials {
        meeting: Uuid,
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
    },
    /// Who was invited, reached, opened and answered, per meeting and per month, with those
    /// not reached or not answered named (your meetings; everyone's for report readers).
    Report {
        /// First day, YYYY-MM-DD in your zone (default: 30 days ago).
        #[arg(long)]
        from: Option<String>,
        /// Last day (included), YYYY-MM-DD in your zone (default: today).
        #[arg(long)]
        to: Option<String>,
        #[arg(long)]
        zone: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Write the meeting as a calendar file (.ics) for Outlook, Google or Apple calendars.
    Export {
        meeting: Uuid,
        /// Where to write it (default: the meeting's title, .ics, in this folder); `-` prints it.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// Read a calendar file (.ics) someone sent: each event in your time, its attendees
    /// matched to the directory. Nothing is saved.
    Import {
        file: std::path::PathBuf,
        #[arg(long)]
        zone: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum DraftCommand {
    /// Start a draft from a template (see `countersign templates`).
    New {
        template: String,
        #[arg(long)]
        json: bool,
    },
    /// Set a field: `purpose "Client visit"`, `lines[0].amount '{"amount":"12.50","currency":"CNY"}'`.
    /// VALUE is read as JSON when it is JSON, else as text; `null` clears the field.
    Set {
        draft: Uuid,
        field: String,
        value: String,
        #[arg(long)]
        json: bool,
    },
    /// Set the draft's title.
    Title {
        draft: Uuid,
        title: String,
    },
    /// Attach files to a field that takes them (`certificate`, `lines[0].invoice`). Each file
    /// is judged by the field's rules; one refused does not keep the others out.
    Attach {
        draft: Uuid,
        field: String,
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Remove an attached file from a field (its id as `draft show` lists it).
    Detach {
        draft: Uuid,
        field: String,
        attachment: Uuid,
    },
    Show {
        draft: Uuid,
        #[arg(long)]
        json: bool,
    },
    List {
        #[arg(long)]
        json: bool,
    },
    Delete {
        draft: Uuid,
    },
}

fn main() -> ExitCode {
    countersign_client::heap::use_one_heap();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("countersign: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("countersign: {}", err.message);
            // What was asked cannot be done as asked: a usage error, like clap's own.
            let code = if err.code == ClientErrorCode::InvalidInput {
                2
            } else {
                1
            };
            ExitCode::from(code)
        }
    }
}

async fn run(cli: Cli) -> Result<(), ClientError> {
    let profile_dir = match cli.home {
        Some(dir) => ProfileDir::new(dir),
        None => ProfileDir::platform_default()
            .map(|p| ProfileDir::new(p.path().join("cli")))
            .ok_or_else(|| {
                ClientError::settings("No home directory: pass --home or set COUNTERSIGN_HOME.")
            })?,
    };
    let client = Client::open(
        ClientOptions {
            profile_dir,
            device_name: countersign_client::device_name("countersign CLI"),
            os_locale: None,
            default_server: None,
            app_version: env!("CARGO_PKG_VERSION").to_owned(),
        },
        Arc::new(KeyringCredentials::default()),
    )?;

    match cli.command {
        Command::Login {
            server,
            user,
            password_stdin,
        } => {
            let password = read_password(password_stdin)?;
            match client.sign_in(&server, &user, &password).await? {
                SessionView::SignedIn { me, server, .. } => {
                    println!(
                        "Signed in to {server} as {} ({}).",
                        me.display_name, me.username
                    );
                    Ok(())
                }
                SessionView::SignedOut { .. } => {
                    Err(ClientError::internal("sign-in did not stick"))
                }
            }
        }
        Command::Whoami { json } => match client.restore().await? {
            SessionView::SignedIn {
                me,
                server,
                offline,
            } => {
                if json {
                    print_json(
                        &serde_json::json!({ "person": me, "server": server, "offline": offline }),
                    )
                } else {
                    let department = me.department.as_ref().map_or("—", |d| d.name.as_str());
                    println!("{} ({})", me.display_name, me.username);
                    println!("  department: {department}");
                    println!("  roles:      {}", me.roles.join(", "));
                    println!(
                        "  server:     {server}{}",
                        if offline {
                            "  (offline: last known identity)"
                        } else {
                            ""
                        }
                    );
                    Ok(())
                }
            }
            SessionView::SignedOut { reason, .. } => Err(not_signed_in(reason)),
        },
        Command::Sessions { json, revoke } => {
            ensure_signed_in(&client).await?;
            if let Some(id) = revoke {
                client.revoke_session(id).await?;
                println!("Session {id} revoked.");
                return Ok(());
            }
            let sessions = client.sessions().await?;
            if json {
                return print_json(&sessions);
            }
            for s in sessions {
                println!(
                    "{} {}  {:<36} signed in {}  last seen {}  from {}",
                    if s.current { "*" } else { " " },
                    s.id,
                    s.device_name,
                    s.created_at.format("%Y-%m-%d %H:%M"),
                    s.last_seen_at.format("%Y-%m-%d %H:%M"),
                    s.source.as_deref().unwrap_or("?"),
                );
            }
            Ok(())
        }
        Command::Logout { wipe } => {
            if wipe {
                client.sign_out_wiping().await?;
                println!("Signed out; the offline cache of this account was deleted.");
            } else {
                client.sign_out().await?;
                println!(
                    "Signed out. Drafts and unsent actions stay on this device for your next \
                     sign-in (use --wipe to delete them)."
                );
            }
            Ok(())
        }
        other => commands::run(&client, other).await,
    }
}

async fn ensure_signed_in(client: &Client) -> Result<(), ClientError> {
    match client.restore().await? {
        SessionView::SignedIn { offline: true, .. } => Err(ClientError::new(
            ClientErrorCode::ServerUnreachable,
            "The server cannot be reached right now; this needs a connection.",
        )),
        SessionView::SignedIn { .. } => Ok(()),
        SessionView::SignedOut { reason, .. } => Err(not_signed_in(reason)),
    }
}

fn not_signed_in(reason: Option<ClientError>) -> ClientError {
    match reason {
        Some(reason) => ClientError::new(
            reason.code,
            format!(
                "Signed out: {} Run `countersign login` again.",
                reason.message
            ),
        ),
        None => ClientError::new(
            ClientErrorCode::SignedOut,
            "Not signed in. Run `countersign login --server URL --user NAME`.",
        ),
    }
}

fn print_json<T: serde::Serialize>(value: &T) -> Result<(), ClientError> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| ClientError::internal(format!("cannot encode JSON: {e}")))?;
    println!("{text}");
    Ok(())
}

fn read_password(from_stdin: bool) -> Result<String, ClientError> {
    let password = if from_stdin || !std::io::stdin().is_terminal() {
        let mut input = String::new();
        std::io::stdin()
            .lock()
            .take(4096)
            .read_to_string(&mut input)
            .map_err(|e| ClientError::internal(format!("cannot read the password: {e}")))?;
        input.lines().next().unwrap_or_default().to_owned()
    } else {
        rpassword::prompt_password("Password: ")
            .map_err(|e| ClientError::internal(format!("cannot read the password: {e}")))?
    };
    if password.is_empty() {
        return Err(ClientError::new(
            ClientErrorCode::InvalidCredentials,
            "No password given.",
        ));
    }
    Ok(password)
}
