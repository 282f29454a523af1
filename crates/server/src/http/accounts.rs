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

use super::{Body, Origin, uuid_segment};
use crate::auth::Caller;
use crate::error::Result;
use crate::state::AppState;

pub(super) async fn activate(
    State(state): State<AppState>,
    origin: Origin,
    Body(req): Body<ActivateRequest>,
) -> Result<Json<ActivatedAccount>> {
    Ok(Json(state.activate_account(req, &origin).await?))
}

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

pub(super) async fn propose(
    State(state): State<AppState>,
    caller: Caller,
    origin: Origin,
    Body(req): Body<ProposeTemplate>,
) -> Result<(StatusCode, Json<TemplateProposalView>)> {
    let proposal = state.propose_template(&caller, req, &origin).await?;
    Ok((StatusCode::CREATED, Json(proposal)))
}

pub(super) async fn proposal(
    State(state): State<AppState>,
    caller: Caller,
    origin: Origin,
    Path(id): Path<String>,
) -> Result<Json<TemplateProposalView>> {
    let id = uuid_segment(&id, "a template proposal")?;
    Ok(Json(state.read_proposal(&caller, id, &origin).await?))
}
