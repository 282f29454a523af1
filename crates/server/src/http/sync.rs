//! The sync protocol's endpoints: the change feed and client mutations.

use axum::Json;
use axum::extract::State;
use countersign_api::ApiError;
use countersign_api::sync::{MutationBatch, MutationResults, SyncPage};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{Body, Origin, Params};
use crate::auth::Caller;
use crate::error::Result;
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct SyncQuery {
    /// The `cursor` of the previous page; from the start when absent.
    after: Option<String>,
    limit: Option<i64>,
}

/// The caller's change feed after a cursor.
#[utoipa::path(get, path = "/v1/sync", tag = "sync", security(("bearer" = [])),
    params(SyncQuery),
    responses(
        (status = 200, description = "A page of changes", body = SyncPage),
        (status = 410, description = "`resync_required`: the cursor is not this server's", body = ApiError),
    ))]
pub(super) async fn pull(
    State(state): State<AppState>,
    caller: Caller,
    origin: Origin,
    Params(query): Params<SyncQuery>,
) -> Result<Json<SyncPage>> {
    Ok(Json(
        state
            .sync_page(&caller, query.after.as_deref(), query.limit, &origin)
            .await?,
    ))
}

/// Applies client mutations, idempotently by mutation id.
#[utoipa::path(post, path = "/v1/mutations", tag = "sync", security(("bearer" = [])),
    request_body = MutationBatch,
    responses(
        (status = 200, description = "One result per mutation, in order", body = MutationResults),
        (status = 409, description = "`conflict`: the same mutation is being applied concurrently", body = ApiError),
    ))]
pub(super) async fn mutations(
    State(state): State<AppState>,
    caller: Caller,
    origin: Origin,
    Body(batch): Body<MutationBatch>,
) -> Result<Json<MutationResults>> {
    for m in &batch.mutations {
        super::version_in_range(m.base_version, "base_version")?;
    }
    Ok(Json(state.apply_mutations(&caller, batch, &origin).await?))
}
