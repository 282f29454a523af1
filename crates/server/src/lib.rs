//! countersign-server: the Countersign service.
//!
//! It owns the organisation (departments, people, roles), sign-in and per-device sessions,
//! the audit log, and — as later issues land — templates, requests, the sync feed and live
//! events. Storage is behind [`store::Store`], with an embedded SQLite default and
//! PostgreSQL for larger organisations. HTTP lives in [`http`]; time comes from a
//! [`clock::Clock`] handed in, so tests can move it.

pub mod auth;
pub mod clock;
pub mod error;
pub mod events;
pub mod http;
pub mod mutations;
pub mod people;
pub mod policy;
pub mod requests;
pub mod seed;
pub mod settings;
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

/// Serves the API on `listener` until `shutdown` resolves, then lets requests in flight
/// finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = http::router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}
