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
    /// Sign out on this device.
    Logout,
}

fn main() -> ExitCode {
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
            ExitCode::from(1)
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
        Command::Logout => {
            client.sign_out().await?;
            println!("Signed out.");
            Ok(())
        }
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
