//! The template gallery and its versions.

use axum::Json;
use axum::extract::{Path, State};
use countersign_api::requests::TemplateView;

use super::Origin;
use crate::auth::Caller;
use crate::error::{Error, Result};
use crate::state::AppState;

pub(super) async fn current(
    State(state): State<AppState>,
    caller: Caller,
    origin: Origin,
) -> Result<Json<Vec<TemplateView>>> {
    let templates = state.current_templates().await?;
    state
        .audit(
            Some(&caller.person),
            "template.list",
            "templates",
            "ok",
            &origin,
        )
        .await?;
    Ok(Json(templates))
}

pub(super) async fn versions(
    State(state): State<AppState>,
    caller: Caller,
    origin: Origin,
    Path(id): Path<String>,
) -> Result<Json<Vec<TemplateView>>> {
    let versions = state.template_versions(&id).await;
    let outcome = versions
        .as_ref()
        .map_or_else(|e| e.code().as_str(), |_| "ok");
    state
        .audit(
            Some(&caller.person),
            "template.read",
            &format!("template:{id}"),
            outcome,
            &origin,
        )
        .await?;
    Ok(Json(versions?))
}

pub(super) async fn version(
    State(state): State<AppState>,
    caller: Caller,
    origin: Origin,
    Path((id, version)): Path<(String, String)>,
) -> Result<Json<TemplateView>> {
    let version: u32 = version
        .parse()
        .map_err(|_| Error::malformed(format!("'{version}' is not a template version number")))?;
    let found = state.template_version(&id, version).await;
    let outcome = found.as_ref().map_or_else(|e| e.code().as_str(), |_| "ok");
    state
        .audit(
            Some(&caller.person),
            "template.read",
            &format!("template:{id}@{version}"),
            outcome,
            &origin,
        )
        .await?;
    Ok(Json(found?))
}
