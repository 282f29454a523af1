//! The HTTP surface: one router per module merged into one, the JSON extractor that turns
//! every malformed body into a typed 400, and the layers every route shares (body limit,
//! panic guard, tracing, JSON 404/405).

mod extract;
mod health;
mod sessions;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use countersign_api::{ApiError, ErrorCode};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

pub use extract::{Body, Origin};

use crate::error::error_response;
use crate::state::AppState;

pub fn router(state: AppState) -> Router {
    let max_body = state.settings.max_body_bytes;
    Router::new()
        .merge(health::router())
        .merge(sessions::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(
            TraceLayer::new_for_http()
                .on_response(
                    tower_http::trace::DefaultOnResponse::new().level(tracing::Level::INFO),
                )
                .on_failure(tower_http::trace::DefaultOnFailure::new()),
        )
        .with_state(state)
}

async fn not_found() -> Response {
    error_response(
        ApiError::new(
            ErrorCode::NotFound,
            "There is no such endpoint on this server.",
        ),
        StatusCode::NOT_FOUND,
    )
}

async fn method_not_allowed() -> Response {
    error_response(
        ApiError::new(
            ErrorCode::MalformedRequest,
            "This endpoint does not accept that HTTP method.",
        ),
        StatusCode::METHOD_NOT_ALLOWED,
    )
}

/// A bug must still answer in the contract's shape; the panic itself is logged by the hook.
fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    error_response(
        ApiError::new(
            ErrorCode::Internal,
            "The server failed to handle this request. It has been logged.",
        ),
        StatusCode::INTERNAL_SERVER_ERROR,
    )
    .into_response()
}

/// How long graceful shutdown waits for requests in flight.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
