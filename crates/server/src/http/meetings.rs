//! Meetings, rooms and the meeting coverage report over REST. Answers and receipts are also
//! reachable offline-first through `POST /v1/mutations`; both call `crate::meetings`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use countersign_api::ApiError;
use countersign_api::meetings::{
    CancelMeeting, CoverageReport, MeetingEdit, MeetingReceipts, MeetingView, NewMeeting,
    ReceiptsRecorded, RoomView, RsvpRequest,
};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{Body, Origin, Params, uuid_segment};
use crate::auth::Caller;
use crate::error::{Error, Result};
use crate::state::AppState;

/// Plans a meeting and sends its invitations.
#[utoipa::path(post, path = "/v1/meetings", tag = "meetings", security(("bearer" = [])),
    request_body = NewMeeting,
    responses(
        (status = 201, description = "Planned; the invitations are in the invitees' feeds", body = MeetingView),
        (status = 409, description = "`refused`: the plan breaks a rule (`ends_before_start`, `starts_in_the_past`, …), the room is taken (`room_taken`, naming the meeting that holds it), an unknown room, department or material", body = ApiError),
    ))]
pub(super) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    origin: Origin,
    Body(req): Body<NewMeeting>,
) -> Result<(StatusCode, Json<MeetingView>)> {
    let view = state.create_meeting(&caller, req, &origin).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct PeriodQuery {
    /// The start of the period (RFC 3339); meetings starting at or after it.
    from: DateTime<Utc>,
    /// The end of the period (RFC 3339, excluded); a period that ends before it starts is
    /// empty.
    to: DateTime<Utc>,
}

/// The caller's meetings (organised or invited to) starting in a period.
#[utoipa::path(get, path = "/v1/meetings", tag = "meetings", security(("bearer" = [])),
    params(PeriodQuery),
    responses((status = 200, description = "Meetings by start", body = Vec<MeetingView>)))]
pub(super) async fn mine(
    State(state): State<AppState>,
    caller: Caller,
    origin: Origin,
    Params(query): Params<PeriodQuery>,
) -> Result<Json<Vec<MeetingView>>> {
    Ok(Json(
        state
            .my_meetings(&caller, query.from, query.to, &origin)
            .await?,
    ))
}

/// One meeting, for its organiser and the people on it.
#[utoipa::path(get, path = "/v1/meetings/{id}", tag = "meetings", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The meeting")),
    responses(
        (status = 200, description = "The meeting as the caller sees it", body = MeetingView),
        (status = 404, description = "No such meeting, or not visible to the caller", body = ApiError),
    ))]
pub(super) async fn read(
    State(state): State<AppState>,
    caller: Caller,
    origin: Origin,
    Path(id): Path<String>,
) -> Result<Json<MeetingView>> {
    let id = uuid_segment(&id, "a meeting")?;
    Ok(Json(state.read_meeting(&caller, id, &origin).await?))
}

/// Changes a meeting (organiser only); the invitees are told once, with what changed.
#[utoipa::path(put, path = "/v1/meetings/{id}", tag = "meetings", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The meeting")),
    request_body = MeetingEdit,
    responses(
        (status = 200, description = "The meeting as it is now", body = MeetingView),
        (status = 403, description = "Not the organiser", body = ApiError),
        (status = 404, description = "No such meeting, or not visible to the caller", body = ApiError),
        (status = 409, description = "`refused` (a rule, a taken room, a cancelled meeting) or `conflict` (changed since `expected_version`)", body = ApiError),
    ))]
pub(super) async fn edit(
    State(state): State<AppState>,
    caller: Caller,
    origin: Origin,
    Path(id): Path<String>,
    Body(req): Body<MeetingEdit>,
) -> Result<Json<MeetingView>> {
    let id = uuid_segment(&id, "a meeting")?;
    Ok(Json(state.edit_meeting(&caller, id, req, &origin).await?))
}

/// Cancels a meeting (organiser only); everyone on it is told and the room is freed.
#[utoipa::path(post, path = "/v1/meetings/{id}/cancel", tag = "meetings", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The meeting")),
    request_body = CancelMeeting,
    responses(
        (status = 200, description = "The cancelled meeting", body = MeetingView),
        (status = 403, description = "Not the organiser", body = ApiError),
        (status = 404, description = "No such meeting, or not visible to the caller", body = ApiError),
        (status = 409, description = "`refused`: already cancelled", body = ApiError),
    ))]
pub(super) async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    origin: Origin,
    Path(id): Path<String>,
    Body(req): Body<CancelMeeting>,
) -> Result<Json<MeetingView>> {
    let id = uuid_segment(&id, "a meeting")?;
    Ok(Json(state.cancel_meeting(&caller, id, req, &origin).await?))
}

/// Answers an invitation: accept, tentative or decline, with an optional note.
#[utoipa::path(post, path = "/v1/meetings/{id}/rsvp", tag = "meetings", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The meeting")),
    request_body = RsvpRequest,
    responses(
        (status = 200, description = "The meeting with the caller's answer", body = MeetingView),
        (status = 404, description = "No such meeting, or not visible to the caller", body = ApiError),
        (status = 409, description = "`refused`: not invited, cancelled, over, or a note too long", body = ApiError),
    ))]
pub(super) async fn rsvp(
    State(state): State<AppState>,
    caller: Caller,
    origin: Origin,
    Path(id): Path<String>,
    Body(req): Body<RsvpRequest>,
) -> Result<Json<MeetingView>> {
    let id = uuid_segment(&id, "a meeting")?;
    if req.meeting_id.is_some_and(|m| m != id) {
        return Err(Error::malformed(
            "The body names another meeting than the path; leave meeting_id out.",
        ));
    }
    Ok(Json(
        state
            .answer_meeting(&caller, id, req, &origin, None)
            .await?,
    ))
}

/// Receipts from a client: invitations that reached it, and when they were opened.
#[utoipa::path(post, path = "/v1/meetings/receipts", tag = "meetings", security(("bearer" = [])),
    request_body = MeetingReceipts,
    responses(
        (status = 200, description = "How many receipts changed the ledger", body = ReceiptsRecorded),
        (status = 400, description = "More than 500 receipts, or a sequence out of range", body = ApiError),
    ))]
pub(super) async fn receipts(
    State(state): State<AppState>,
    caller: Caller,
    origin: Origin,
    Body(req): Body<MeetingReceipts>,
) -> Result<Json<ReceiptsRecorded>> {
    Ok(Json(
        state.record_receipts(&caller, req, &origin, None).await?,
    ))
}

/// The rooms that can be booked.
#[utoipa::path(get, path = "/v1/rooms", tag = "meetings", security(("bearer" = [])),
    responses((status = 200, description = "Rooms by name", body = Vec<RoomView>)))]
pub(super) async fn rooms(State(state): State<AppState>) -> Result<Json<Vec<RoomView>>> {
    Ok(Json(state.rooms().await?))
}

/// Whether invitations reached everyone (S14): per meeting and per month, with the people
/// not reached and not answered named. Organisers get their own meetings; those who read
/// reports get everyone's.
#[utoipa::path(get, path = "/v1/reports/meetings", tag = "reports", security(("bearer" = [])),
    params(PeriodQuery),
    responses((status = 200, description = "The coverage report", body = CoverageReport)))]
pub(super) async fn coverage(
    State(state): State<AppState>,
    caller: Caller,
    origin: Origin,
    Params(query): Params<PeriodQuery>,
) -> Result<Json<CoverageReport>> {
    Ok(Json(
        state
            .meeting_coverage(&caller, query.from, query.to, &origin)
            .await?,
    ))
}
