//! Oversight over REST: the audit-log query for auditors (S13, B5) and organisation reports.
//! Read-only by design: there is no route that edits or deletes an audit line.

use axum::Json;
use axum::extract::State;
use countersign_api::accounts::{AuditPage, DormantReport};
use serde::Deserialize;

use super::{Origin, Params};
use crate::auth::Caller;
use crate::error::Result;
use crate::reports::AuditParams;
use crate::state::AppState;

pub(super) async fn query(
    State(state): State<AppState>,
    caller: Caller,
    origin: Origin,
    Params(params): Params<AuditParams>,
) -> Result<Json<AuditPage>> {
    Ok(Json(state.audit_page(&caller, params, &origin).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DormantQuery {
    days: Option<u32>,
}

pub(super) async fn dormant_accounts(
    State(state): State<AppState>,
    caller: Caller,
    origin: Origin,
    Params(query): Params<DormantQuery>,
) -> Result<Json<DormantReport>> {
    Ok(Json(
        state.dormant_report(&caller, query.days, &origin).await?,
    ))
}
