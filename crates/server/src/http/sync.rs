//! The sync protocol's endpoints: the change feed and client mutations.

use axum::Json;
use axum::extract::State;
use countersign_api::sync::{MutationBatch, MutationResults, SyncPage};
use serde::Deserialize;

use super::{Body, Origin, Params};
use crate::auth::Caller;
use crate::error::Result;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SyncQuery {
    after: Option<String>,
    limit: Option<i64>,
}

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

pub(super) async fn mutations(
    State(state): State<AppState>,
    caller: Caller,
    origin: Origin,
    Body(batch): Body<MutationBatch>,
) -> Result<Json<MutationResults>> {
    Ok(Json(state.apply_mutations(&caller, batch, &origin).await?))
}
