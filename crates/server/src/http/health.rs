//! Liveness, readiness and identity: the endpoints load balancers, monitors and clients ask
//! before anything else. None needs a token.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use countersign_api::{API_VERSION, Health, SERVICE_NAME, ServerInfo};

use crate::state::AppState;

/// The process is up and serving HTTP.
#[utoipa::path(get, path = "/healthz", tag = "health",
    responses((status = 200, description = "The process is up", body = Health)))]
pub(super) async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        detail: None,
    })
}

/// The server can do useful work: its database answers.
#[utoipa::path(get, path = "/readyz", tag = "health",
    responses(
        (status = 200, description = "Ready: the database answers", body = Health),
        (status = 503, description = "Not ready: the database does not answer", body = Health),
    ))]
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

/// Who answers at this URL, asked before sign-in.
#[utoipa::path(get, path = "/v1/info", tag = "health",
    responses((status = 200, description = "A Countersign server and its API version", body = ServerInfo)))]
pub(super) async fn info() -> Json<ServerInfo> {
    Json(ServerInfo {
        service: SERVICE_NAME.into(),
        api_version: API_VERSION,
        server_version: env!("CARGO_PKG_VERSION").into(),
    })
}
