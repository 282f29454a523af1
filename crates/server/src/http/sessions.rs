//! Sign-in and the caller's own sessions (requirement S4: personal accounts, per device,
//! listable and revocable).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use countersign_api::{
    ApiError, Me, RefreshRequest, SessionInfo, SignInRequest, SignInResponse, Tokens,
};
use uuid::Uuid;

use super::{Body, Origin};
use crate::auth::Caller;
use crate::error::{Error, Result};
use crate::state::AppState;

/// Signs in on one device.
#[utoipa::path(post, path = "/v1/sessions", tag = "sessions",
    request_body = SignInRequest,
    responses(
        (status = 201, description = "Signed in: a token pair and the person", body = SignInResponse),
        (status = 401, description = "`invalid_credentials`", body = ApiError),
        (status = 403, description = "`account_disabled`", body = ApiError),
        (status = 429, description = "`login_throttled`, with `Retry-After`", body = ApiError),
    ))]
pub(super) async fn sign_in(
    State(state): State<AppState>,
    origin: Origin,
    Body(req): Body<SignInRequest>,
) -> Result<(StatusCode, Json<SignInResponse>)> {
    let response = state.sign_in(req, &origin).await?;
    Ok((StatusCode::CREATED, Json(response)))
}

/// Trades a refresh token for a new pair; the old one stops working.
#[utoipa::path(post, path = "/v1/sessions/refresh", tag = "sessions",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new token pair", body = Tokens),
        (status = 401, description = "`token_invalid`, `token_expired`, `session_revoked` or `refresh_reused`", body = ApiError),
        (status = 403, description = "`account_disabled`", body = ApiError),
    ))]
pub(super) async fn refresh(
    State(state): State<AppState>,
    origin: Origin,
    Body(req): Body<RefreshRequest>,
) -> Result<Json<Tokens>> {
    Ok(Json(state.refresh(&req.refresh_token, &origin).await?))
}

/// The devices the caller is signed in on.
#[utoipa::path(get, path = "/v1/sessions", tag = "sessions", security(("bearer" = [])),
    responses((status = 200, description = "The caller's sessions", body = Vec<SessionInfo>)))]
pub(super) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    origin: Origin,
) -> Result<Json<Vec<SessionInfo>>> {
    let sessions = state.store.list_sessions(caller.person.id).await?;
    state
        .audit(
            Some(&caller.person),
            "session.list",
            "sessions:own",
            "ok",
            &origin,
        )
        .await?;
    Ok(Json(
        sessions
            .into_iter()
            .map(|s| SessionInfo {
                current: s.id == caller.session.id,
                id: s.id,
                device_name: s.device_name,
                created_at: s.created_at,
                last_seen_at: s.last_seen_at,
                source: s.source,
            })
            .collect(),
    ))
}

/// Signs one of the caller's devices out.
#[utoipa::path(delete, path = "/v1/sessions/{id}", tag = "sessions", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The session")),
    responses(
        (status = 204, description = "The session is revoked"),
        (status = 404, description = "No such session of the caller's", body = ApiError),
    ))]
pub(super) async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    origin: Origin,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    let id = Uuid::parse_str(&id)
        .map_err(|_| Error::malformed(format!("'{id}' is not a session id")))?;
    state.revoke_own_session(&caller, id, &origin).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in person.
#[utoipa::path(get, path = "/v1/me", tag = "sessions", security(("bearer" = [])),
    responses((status = 200, description = "The caller", body = Me)))]
pub(super) async fn me(
    State(state): State<AppState>,
    caller: Caller,
    origin: Origin,
) -> Result<Json<Me>> {
    let me = state.me(&caller.person).await?;
    state
        .audit(
            Some(&caller.person),
            "person.read",
            &format!("person:{}", caller.person.id),
            "ok",
            &origin,
        )
        .await?;
    Ok(Json(me))
}
