//! Requests and tasks over REST. The same operations are reachable offline-first through
//! `POST /v1/mutations`; both call the one service in `crate::requests`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use countersign_api::ApiError;
use countersign_api::accounts::ActResponse;
use countersign_api::requests::{ActRequest, Page, PendingTask, RequestView, SubmitRequest};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{Body, Origin, Params, uuid_segment};
use crate::auth::Caller;
use crate::error::{Error, Result};
use crate::state::AppState;

/// Submits a new request.
#[utoipa::path(post, path = "/v1/requests", tag = "requests", security(("bearer" = [])),
    request_body = SubmitRequest,
    responses(
        (status = 201, description = "Submitted", body = RequestView),
        (status = 404, description = "No such template or version", body = ApiError),
        (status = 409, description = "`refused` by the rules (an invalid form, a retired version) or `conflict` (the id exists)", body = ApiError),
    ))]
pub(super) async fn submit(
    State(state): State<AppState>,
    caller: Caller,
    origin: Origin,
    Body(req): Body<SubmitRequest>,
) -> Result<(StatusCode, Json<RequestView>)> {
    let view = state.submit_request(&caller, req, &origin, None).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct ListQuery {
    /// The `next` of the previous page.
    #[param(value_type = Option<chrono::DateTime<chrono::Utc>>)]
    before: Option<String>,
    limit: Option<i64>,
}

/// The caller's own requests, newest first.
#[utoipa::path(get, path = "/v1/requests", tag = "requests", security(("bearer" = [])),
    params(ListQuery),
    responses((status = 200, description = "A page of requests", body = Page<RequestView>)))]
pub(super) async fn mine(
    State(state): State<AppState>,
    caller: Caller,
    origin: Origin,
    Params(query): Params<ListQuery>,
) -> Result<Json<Page<RequestView>>> {
    let before = match query.before.as_deref() {
        None => None,
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

/// One request, for a participant (or an auditor).
#[utoipa::path(get, path = "/v1/requests/{id}", tag = "requests", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The request")),
    responses(
        (status = 200, description = "The request", body = RequestView),
        (status = 404, description = "No such request, or not visible to the caller", body = ApiError),
    ))]
pub(super) async fn read(
    State(state): State<AppState>,
    caller: Caller,
    origin: Origin,
    Path(id): Path<String>,
) -> Result<Json<RequestView>> {
    let id = uuid_segment(&id, "a request")?;
    Ok(Json(state.read_request(&caller, id, &origin).await?))
}

/// Acts on a request: approve, reject, return, transfer, add a signer, withdraw, urge, comment.
#[utoipa::path(post, path = "/v1/requests/{id}/actions", tag = "requests", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The request")),
    request_body = ActRequest,
    responses(
        (status = 200, description = "The request after the action", body = ActResponse),
        (status = 404, description = "No such request, or not visible to the caller", body = ApiError),
        (status = 409, description = "`refused` by the rules: what happened instead, who and when", body = ApiError),
    ))]
pub(super) async fn act(
    State(state): State<AppState>,
    caller: Caller,
    origin: Origin,
    Path(id): Path<String>,
    Body(act): Body<ActRequest>,
) -> Result<Json<ActResponse>> {
    let id = uuid_segment(&id, "a request")?;
    super::version_in_range(act.expected_version, "expected_version")?;
    // This answer is not stored, so it may carry an opened account's secret (S1).
    Ok(Json(
        state
            .act_on_request_revealing(&caller, id, act, &origin, None, true)
            .await?,
    ))
}

/// The tasks waiting for the caller.
#[utoipa::path(get, path = "/v1/tasks", tag = "requests", security(("bearer" = [])),
    responses((status = 200, description = "Open tasks with their requests", body = Vec<PendingTask>)))]
pub(super) async fn tasks(
    State(state): State<AppState>,
    caller: Caller,
    origin: Origin,
) -> Result<Json<Vec<PendingTask>>> {
    Ok(Json(state.pending_tasks(&caller, &origin).await?))
}
