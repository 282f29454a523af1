//! Requests and tasks over REST. The same operations are reachable offline-first through
//! `POST /v1/mutations`; both call the one service in `crate::requests`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use countersign_api::accounts::ActResponse;
use countersign_api::requests::{ActRequest, Page, PendingTask, RequestView, SubmitRequest};
use serde::Deserialize;

use super::{Body, Origin, Params, uuid_segment};
use crate::auth::Caller;
use crate::error::{Error, Result};
use crate::state::AppState;

pub(super) async fn submit(
    State(state): State<AppState>,
    caller: Caller,
    origin: Origin,
    Body(req): Body<SubmitRequest>,
) -> Result<(StatusCode, Json<RequestView>)> {
    let view = state.submit_request(&caller, req, &origin, None).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ListQuery {
    /// The `next` of the previous page.
    before: Option<String>,
    limit: Option<i64>,
}

pub(super) async fn mine(
    State(state): State<AppState>,
    caller: Caller,
    origin: Origin,
    Params(query): Params<ListQuery>,
) -> Result<Json<Page<RequestView>>> {
    let before = match query.before.as_deref() {
        None | Some("") => None,
        Some(text) => Some(
            DateTime::parse_from_rfc3339(text)
                .map_err(|_| Error::malformed("'before' must be the 'next' of a previous page"))?
                .with_timezone(&Utc),
        ),
    };
    let page = state
        .my_requests(&caller, before, query.limit.unwrap_or(50), &origin)
        .await?;
    Ok(Json(page))
}

pub(super) async fn read(
    State(state): State<AppState>,
    caller: Caller,
    origin: Origin,
    Path(id): Path<String>,
) -> Result<Json<RequestView>> {
    let id = uuid_segment(&id, "a request")?;
    Ok(Json(state.read_request(&caller, id, &origin).await?))
}

pub(super) async fn act(
    State(state): State<AppState>,
    caller: Caller,
    origin: Origin,
    Path(id): Path<String>,
    Body(act): Body<ActRequest>,
) -> Result<Json<ActResponse>> {
    let id = uuid_segment(&id, "a request")?;
    // This answer is not stored, so it may carry an opened account's secret (S1).
    Ok(Json(
        state
            .act_on_request_revealing(&caller, id, act, &origin, None, true)
            .await?,
    ))
}

pub(super) async fn tasks(
    State(state): State<AppState>,
    caller: Caller,
    origin: Origin,
) -> Result<Json<Vec<PendingTask>>> {
    Ok(Json(state.pending_tasks(&caller, &origin).await?))
}
