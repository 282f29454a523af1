//! The people directory and departments, as every employee may see them.

use axum::Json;
use axum::extract::State;
use countersign_api::directory::{DepartmentEntry, PersonEntry};

use super::Origin;
use crate::auth::Caller;
use crate::error::Result;
use crate::state::AppState;

/// The people directory.
#[utoipa::path(get, path = "/v1/people", tag = "directory", security(("bearer" = [])),
    responses((status = 200, description = "Everyone, including people who left", body = Vec<PersonEntry>)))]
pub(super) async fn people(
    State(state): State<AppState>,
    caller: Caller,
    origin: Origin,
) -> Result<Json<Vec<PersonEntry>>> {
    let people = state.store.list_people().await?;
    state
        .audit(
            Some(&caller.person),
            "directory.people",
            "people",
            "ok",
            &origin,
        )
        .await?;
    Ok(Json(people.iter().map(crate::sync::person_entry).collect()))
}

/// The departments.
#[utoipa::path(get, path = "/v1/departments", tag = "directory", security(("bearer" = [])),
    responses((status = 200, description = "Every department", body = Vec<DepartmentEntry>)))]
pub(super) async fn departments(
    State(state): State<AppState>,
    caller: Caller,
    origin: Origin,
) -> Result<Json<Vec<DepartmentEntry>>> {
    let departments = state.store.list_departments().await?;
    state
        .audit(
            Some(&caller.person),
            "directory.departments",
            "departments",
            "ok",
            &origin,
        )
        .await?;
    Ok(Json(
        departments
            .into_iter()
            .map(|d| DepartmentEntry {
                id: d.id,
                code: d.code,
                name: d.name,
                parent_id: d.parent_id,
                head_id: d.head_id,
            })
            .collect(),
    ))
}
