//! Templates, requests and tasks: what clients submit, act on and read.

use chrono::{DateTime, Utc};
use countersign_domain::engine::{Action, Refusal, RequestState, RequestStatus, TaskId};
use countersign_domain::form::FieldError;
use countersign_domain::templates::Template;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One published version of a template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TemplateView {
    /// The template with its form and workflow, exactly as published.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub template: Template,
    pub published_at: DateTime<Utc>,
    /// Retired versions stay readable (running requests use them) but take no new requests.
    #[serde(default)]
    pub retired: bool,
}

/// `POST /v1/requests`: submit a new request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SubmitRequest {
    /// Chosen by the client (UUIDv7) so an offline draft keeps its id once submitted; the
    /// server makes one when absent.
    #[serde(default)]
    pub id: Option<Uuid>,
    pub template_id: String,
    /// The version the draft was made with; the current version when absent. A retired
    /// version is refused.
    #[serde(default)]
    pub template_version: Option<u32>,
    /// A short title for lists; derived from the template when absent.
    #[serde(default)]
    pub title: Option<String>,
    /// The form data, in the shape the form schema describes.
    pub form: serde_json::Value,
}

/// `POST /v1/requests/{id}/actions`: act on a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ActRequest {
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::Action))]
    pub action: Action,
    /// The request version the person saw when they acted. When it is stale the action is
    /// tried on the current state: if it still applies it is applied; if not, the refusal
    /// says what happened in between (who decided, when).
    #[serde(default)]
    pub expected_version: Option<u64>,
}

/// A request as every participant sees it: the form, the route, every task and the whole
/// history with who, when and how long.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RequestView {
    pub id: Uuid,
    pub template_id: String,
    pub template_version: u32,
    pub title: String,
    pub initiator: Uuid,
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::RequestStatus))]
    pub status: RequestStatus,
    /// +1 per change; what `expected_version` refers to.
    pub version: u64,
    /// The form as submitted (input shape).
    pub form: serde_json::Value,
    /// Computed fields (totals, leave days) as the server computed them: an object of
    /// the domain's typed values by field key.
    #[serde(default)]
    pub computed: serde_json::Value,
    /// Route, tasks, visits and events.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub state: RequestState,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Tasks that passed their due time while open and were flagged overdue (S9), ascending.
    /// A flagged task stays listed after it is decided; whether it still waits is in `state`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<u32>))]
    pub overdue_tasks: Vec<TaskId>,
}

impl RequestView {
    /// The open tasks that wait for `person` (as assignee).
    pub fn open_tasks_for(&self, person: Uuid) -> impl Iterator<Item = TaskId> + '_ {
        self.state
            .open_tasks()
            .filter(move |t| t.assignee == person)
            .map(|t| t.id)
    }

    /// The open tasks waiting for `person` that are flagged overdue: what a client warns
    /// about.
    pub fn overdue_tasks_for(&self, person: Uuid) -> impl Iterator<Item = TaskId> + '_ {
        self.open_tasks_for(person)
            .filter(|t| self.overdue_tasks.contains(t))
    }
}

/// Why an action or submission was refused, for people and for programs.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefusalView {
    /// The stable code (`already_decided`, `request_withdrawn`, `invalid_form`, …).
    pub code: String,
    /// In English; clients translate by `refusal`.
    pub message: String,
    /// The engine's refusal with its details (who decided, when, field errors).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    #[cfg_attr(feature = "specta", specta(type = Option<specta_typescript::Unknown>))]
    pub refusal: Option<Refusal>,
    /// The request's current version, when the refusal concerns one.
    #[serde(default)]
    #[cfg_attr(feature = "specta", specta(type = Option<f64>))]
    pub current_version: Option<u64>,
    /// The request the refusal concerns when the call did not name it: a departure refused
    /// because one of the person's open tasks cannot be handed on names that request here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<Uuid>,
}

impl RefusalView {
    pub fn field_errors(&self) -> &[FieldError] {
        match &self.refusal {
            Some(Refusal::InvalidForm { errors }) => errors,
            _ => &[],
        }
    }
}

/// `GET /v1/tasks`: one task waiting for the caller, with its request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PendingTask {
    #[cfg_attr(feature = "openapi", schema(value_type = u32))]
    pub task: TaskId,
    pub request: RequestView,
}

/// A page of a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `before` for the next page; absent on the last page.
    #[serde(default)]
    pub next: Option<String>,
}
