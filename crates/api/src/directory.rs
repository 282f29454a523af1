//! The people directory as every employee may see it: enough to pick an approver or a
//! transfer target, nothing private (no e-mail, no sign-in times, no password state).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PersonEntry {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    #[serde(default)]
    pub department_id: Option<Uuid>,
    #[serde(default)]
    pub manager_id: Option<Uuid>,
    /// False for people who left or were disabled: kept so history shows their names.
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DepartmentEntry {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub parent_id: Option<Uuid>,
    #[serde(default)]
    pub head_id: Option<Uuid>,
}
