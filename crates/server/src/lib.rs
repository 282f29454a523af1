//! countersign-server: the Countersign service.
//!
//! It owns the organisation (departments, people, roles), sign-in and per-device sessions,
//! the audit log, and — as later issues land — templates, requests, the sync feed and live
//! events. Storage is behind [`store::Store`], with an embedded SQLite default and
//! PostgreSQL for larger organisations. HTTP lives in [`http`]; time comes from a
//! [`clock::Clock`] handed in, so tests can move it.

pub mod accounts;
pub mod approvals;
pub mod attachments;
pub mod auth;
pub mod clock;
pub mod error;
pub mod events;
pub mod http;
pub mod jobs;
pub mod meetings;
pub mod mutations;
pub mod offboarding;
pub mod people;
pub mod policy;
pub mod proposals;
pub mod reports;
pub mod requests;
pub mod seed;
pub mod settings;
pub mod shutdown;
pub mod state;
pub mod store;
pub mod sync;
pub mod templates;

use std::future::Future;
use std::net::SocketAddr;

pub use state::AppState;

/// Why the server could not start listening.
#[derive(Debug, thiserror::Error)]
pub enum BindError {
    #[error("cannot listen on {0}: the port is already in use (is another server running?)")]
    InUse(SocketAddr),
    #[error("cannot listen on {0}: {1}")]
    Other(SocketAddr, std::io::Error),
}

pub async fn bind(addr: SocketAddr) -> Result<tokio::net::TcpListener, BindError> {
    tokio::net::TcpListener::bind(addr).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::AddrInUse {
            BindError::InUse(addr)
        } else {
            BindError::Other(addr, e)
        }
    })
}

/// How long `serve` waits for its background work to stop after the last request.
const BACKGROUND_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// Serves the API on `listener` until `shutdown` resolves, then lets requests in flight
/// finish. Also runs, for as long as it serves, the relay of other replicas' writes to the
/// live event streams and the scheduled jobs ([`jobs::run_scheduler`]).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Owned by this call: if it is cancelled, dropping the set aborts the background work.
    let mut background = tokio::task::JoinSet::new();
    background.spawn(events::relay_replica_notices(state.clone()));
    background.spawn(jobs::run_scheduler(state.clone()));
    let stopping = state.shutdown.clone();
    let app = http::router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            // Event streams never end by themselves; graceful shutdown waits for every open
            // response, so they must be told to end first.
            stopping.trigger();
        })
        .await;
    state.shutdown.trigger();
    let drained = tokio::time::timeout(BACKGROUND_GRACE, async {
        while background.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!("background work did not stop in time; aborting it");
    }
    served
}
