//! Sign-in and the caller's own sessions (requirement S4: personal accounts, per device,
//! listable and revocable).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use countersign_api::{Me, RefreshRequest, SessionInfo, SignInRequest, SignInResponse, Tokens};
use uuid::Uuid;

use super::{Body, Origin};
use crate::auth::Caller;
use crate::error::{Error, Result};
use crate::state::AppState;

pub(super) async fn sign_in(
    State(state): State<AppState>,
    origin: Origin,
    Body(req): Body<SignInRequest>,
) -> Result<(StatusCode, Json<SignInResponse>)> {
    let response = state.sign_in(req, &origin).await?;
    Ok((StatusCode::CREATED, Json(response)))
}

pub(super) async fn refresh(
    State(state): State<AppState>,
    origin: Origin,
    Body(req): Body<RefreshRequest>,
) -> Result<Json<Tokens>> {
    Ok(Json(state.refresh(&req.refresh_token, &origin).await?))
}

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
