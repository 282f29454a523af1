//! Accounts and organisation administration over REST: activating an account opened by an
//! approved application and replacing its secret (S1), departures and transfers (S3), and
//! template proposals for process-change requests (S6).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use countersign_api::accounts::{
    AccountActivation, ActivateRequest, ActivatedAccount, DepartureRequest, PersonChangeResult,
    ProposeTemplate, TemplateProposalView, TransferRequest,
};

use countersign_api::ApiError;

use super::{Body, Origin, uuid_segment};
use crate::auth::Caller;
use crate::error::Result;
use crate::state::AppState;

/// Sets the password of an account opened by an approved application, with its secret.
#[utoipa::path(post, path = "/v1/accounts/activate", tag = "accounts",
    request_body = ActivateRequest,
    responses(
        (status = 200, description = "The account may sign in now", body = ActivatedAccount),
        (status = 401, description = "`invalid_credentials`: no such account or a wrong or expired secret", body = ApiError),
        (status = 409, description = "`refused`: the password does not meet the rules", body = ApiError),
        (status = 429, description = "`login_throttled`, with `Retry-After`", body = ApiError),
    ))]
pub(super) async fn activate(
    State(state): State<AppState>,
    origin: Origin,
    Body(req): Body<ActivateRequest>,
) -> Result<Json<ActivatedAccount>> {
    Ok(Json(state.activate_account(req, &origin).await?))
}

/// Replaces the activation secret of an account not activated yet.
#[utoipa::path(post, path = "/v1/accounts/{id}/activation", tag = "accounts", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The person")),
    responses(
        (status = 201, description = "The new one-time secret", body = AccountActivation),
        (status = 404, description = "No such person", body = ApiError),
        (status = 409, description = "The account is already active", body = ApiError),
    ))]
pub(super) async fn reissue(
    State(state): State<AppState>,
    caller: Caller,
    origin: Origin,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<AccountActivation>)> {
    let id = uuid_segment(&id, "a person")?;
    let activation = state.reissue_activation(&caller, id, &origin).await?;
    Ok((StatusCode::CREATED, Json(activation)))
}

/// A person leaves: sessions end, open tasks are handed on.
#[utoipa::path(post, path = "/v1/people/{id}/departure", tag = "accounts", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The person")),
    request_body = DepartureRequest,
    responses(
        (status = 200, description = "What the departure did", body = PersonChangeResult),
        (status = 404, description = "No such person", body = ApiError),
        (status = 409, description = "`refused`: a task cannot be handed on, or the person already left", body = ApiError),
    ))]
pub(super) async fn departure(
    State(state): State<AppState>,
    caller: Caller,
    origin: Origin,
    Path(id): Path<String>,
    Body(req): Body<DepartureRequest>,
) -> Result<Json<PersonChangeResult>> {
    let id = uuid_segment(&id, "a person")?;
    Ok(Json(state.depart(&caller, id, req, &origin).await?))
}

/// A person takes a new post.
#[utoipa::path(post, path = "/v1/people/{id}/transfer", tag = "accounts", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The person")),
    request_body = TransferRequest,
    responses(
        (status = 200, description = "What the transfer did", body = PersonChangeResult),
        (status = 404, description = "No such person, department or manager", body = ApiError),
        (status = 409, description = "`refused`: a task cannot be handed on, or the person left", body = ApiError),
    ))]
pub(super) async fn transfer(
    State(state): State<AppState>,
    caller: Caller,
    origin: Origin,
    Path(id): Path<String>,
    Body(req): Body<TransferRequest>,
) -> Result<Json<PersonChangeResult>> {
    let id = uuid_segment(&id, "a person")?;
    Ok(Json(state.transfer(&caller, id, req, &origin).await?))
}

/// Proposes a template version, published when a process-change request naming it is approved.
#[utoipa::path(post, path = "/v1/templates/proposals", tag = "accounts", security(("bearer" = [])),
    request_body = ProposeTemplate,
    responses(
        (status = 201, description = "The proposal", body = TemplateProposalView),
        (status = 409, description = "`refused`: the template is not valid", body = ApiError),
    ))]
pub(super) async fn propose(
    State(state): State<AppState>,
    caller: Caller,
    origin: Origin,
    Body(req): Body<ProposeTemplate>,
) -> Result<(StatusCode, Json<TemplateProposalView>)> {
    let proposal = state.propose_template(&caller, req, &origin).await?;
    Ok((StatusCode::CREATED, Json(proposal)))
}

/// One template proposal.
#[utoipa::path(get, path = "/v1/templates/proposals/{id}", tag = "accounts", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The proposal")),
    responses(
        (status = 200, description = "The proposal", body = TemplateProposalView),
        (status = 404, description = "No such proposal", body = ApiError),
    ))]
pub(super) async fn proposal(
    State(state): State<AppState>,
    caller: Caller,
    origin: Origin,
    Path(id): Path<String>,
) -> Result<Json<TemplateProposalView>> {
    let id = uuid_segment(&id, "a template proposal")?;
    Ok(Json(state.read_proposal(&caller, id, &origin).await?))
}
