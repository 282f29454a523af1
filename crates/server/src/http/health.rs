//! Liveness, readiness and identity: the endpoints load balancers, monitors and clients ask
//! before anything else. None needs a token.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use countersign_api::{API_VERSION, Health, SERVICE_NAME, ServerInfo};

use crate::state::AppState;

/// The process is up and serving HTTP.
pub(super) async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        detail: None,
    })
}

/// The server can do useful work: its database answers.
pub(super) async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    match state.store.ping().await {
        Ok(()) => (
            StatusCode::OK,
            Json(Health {
                status: "ok".into(),
                detail: Some(format!("database: {}", state.store.backend().name())),
            }),
        ),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(Health {
                    status: "unavailable".into(),
                    detail: Some("the database does not answer".into()),
                }),
            )
        }
    }
}

pub(super) async fn info() -> Json<ServerInfo> {
    Json(ServerInfo {
        service: SERVICE_NAME.into(),
        api_version: API_VERSION,
        server_version: env!("CARGO_PKG_VERSION").into(),
    })
}
