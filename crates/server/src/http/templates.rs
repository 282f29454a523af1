//! The template gallery and its versions.

use axum::Json;
use axum::extract::{Path, State};
use countersign_api::ApiError;
use countersign_api::requests::TemplateView;

use super::Origin;
use crate::auth::Caller;
use crate::error::{Error, Result};
use crate::state::AppState;

/// The current version of every template.
#[utoipa::path(get, path = "/v1/templates", tag = "templates", security(("bearer" = [])),
    responses((status = 200, description = "The gallery", body = Vec<TemplateView>)))]
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

/// Every published version of one template.
#[utoipa::path(get, path = "/v1/templates/{id}", tag = "templates", security(("bearer" = [])),
    params(("id" = String, Path, description = "The template id, such as `leave`")),
    responses(
        (status = 200, description = "Its versions, oldest first", body = Vec<TemplateView>),
        (status = 404, description = "No such template", body = ApiError),
    ))]
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

/// One version of a template.
#[utoipa::path(get, path = "/v1/templates/{id}/versions/{version}", tag = "templates",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The template id"),
        ("version" = u32, Path, description = "The version number"),
    ),
    responses(
        (status = 200, description = "The version", body = TemplateView),
        (status = 404, description = "No such template version", body = ApiError),
    ))]
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
