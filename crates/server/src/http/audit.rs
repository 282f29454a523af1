//! Oversight over REST: the audit-log query for auditors (S13, B5) and organisation reports.
//! Read-only by design: there is no route that edits or deletes an audit line.

use axum::Json;
use axum::extract::State;
use countersign_api::accounts::{AuditPage, DormantReport};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{Origin, Params};
use crate::auth::Caller;
use crate::error::Result;
use crate::reports::AuditParams;
use crate::state::AppState;

/// The audit log with its hash chain, for auditors.
#[utoipa::path(get, path = "/v1/audit", tag = "audit", security(("bearer" = [])),
    params(AuditParams),
    responses((status = 200, description = "A page of audit lines", body = AuditPage)))]
pub(super) async fn query(
    State(state): State<AppState>,
    caller: Caller,
    origin: Origin,
    Params(params): Params<AuditParams>,
) -> Result<Json<AuditPage>> {
    Ok(Json(state.audit_page(&caller, params, &origin).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct DormantQuery {
    /// Days without activity; 90 when absent.
    #[param(minimum = 1, maximum = 3650)]
    days: Option<u32>,
}

/// Accounts without activity for some days.
#[utoipa::path(get, path = "/v1/reports/dormant-accounts", tag = "audit", security(("bearer" = [])),
    params(DormantQuery),
    responses((status = 200, description = "The report", body = DormantReport)))]
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
