//! The standard template library (requirement S7) and the template type itself.
//!
//! A template is a versioned pair of a form and a workflow. The library ships as JSON data in
//! `data/templates/`, embedded at build time, so an administrator can read, copy and change
//! it as data; a changed template is published as a new version (S6) and a running request
//! keeps the version it started with — the server stores `(id, version)` with the request.
//! Templates name roles (`finance`, `it_admin`, `finance_director`…), never fixed people, so
//! the same library fits any organisation whose people hold those roles.

use serde::{Deserialize, Serialize};

use crate::form::{FormSchema, Label, SchemaError};
use crate::workflow::{DefinitionError, WorkflowDefinition};

/// The shipped templates, in gallery order.
const LIBRARY: &[(&str, &str)] = &[
    ("leave", include_str!("../data/templates/leave.json")),
    (
        "reimbursement",
        include_str!("../data/templates/reimbursement.json"),
    ),
    ("purchase", include_str!("../data/templates/purchase.json")),
    (
        "business_trip",
        include_str!("../data/templates/business_trip.json"),
    ),
    ("overtime", include_str!("../data/templates/overtime.json")),
    (
        "account_application",
        include_str!("../data/templates/account_application.json"),
    ),
    (
        "process_change",
        include_str!("../data/templates/process_change.json"),
    ),
];

/// Roles the shipped templates route to; an organisation assigns them to people.
pub const LIBRARY_ROLES: &[&str] = &[
    "hr",
    "finance",
    "finance_director",
    "general_manager",
    "procurement",
    "it_admin",
    "it_head",
    "workflow_admin",
];

/// A versioned form and workflow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    pub id: String,
    /// Starts at 1 and only grows; a published version never changes.
    pub version: u32,
    pub name: Label,
    pub description: Label,
    pub form: FormSchema,
    pub workflow: WorkflowDefinition,
}

/// Why a template cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum TemplateError {
    #[error("template is not valid JSON of the expected shape: {message}")]
    Parse { message: String },
    #[error("template id or version is invalid")]
    InvalidIdentity,
    #[error("the form is invalid: {}", problems.first().map(ToString::to_string).unwrap_or_default())]
    Form { problems: Vec<SchemaError> },
    #[error("the workflow is invalid: {error}")]
    Workflow { error: DefinitionError },
    #[error("no template {id:?} in the library")]
    NotFound { id: String },
}

impl Template {
    /// Parses a template and checks its form, its workflow and how they fit together.
    pub fn from_json(json: &str) -> Result<Self, TemplateError> {
        let template: Self = serde_json::from_str(json).map_err(|e| TemplateError::Parse {
            message: e.to_string(),
        })?;
        template.check()?;
        Ok(template)
    }

    pub fn check(&self) -> Result<(), TemplateError> {
        let id_ok = !self.id.is_empty()
            && self.id.len() <= 64
            && self
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !id_ok || self.version == 0 {
            return Err(TemplateError::InvalidIdentity);
        }
        self.form
            .check()
            .map_err(|problems| TemplateError::Form { problems })?;
        self.workflow
            .check()
            .and_then(|()| self.workflow.check_against(&self.form))
            .map_err(|error| TemplateError::Workflow { error })
    }
}

/// Every shipped template, checked.
pub fn library() -> Result<Vec<Template>, TemplateError> {
    LIBRARY
        .iter()
        .map(|(_, json)| Template::from_json(json))
        .collect()
}

/// The shipped template `id`.
pub fn shipped(id: &str) -> Result<Template, TemplateError> {
    let (_, json) = LIBRARY
        .iter()
        .find(|(name, _)| *name == id)
        .ok_or_else(|| TemplateError::NotFound { id: id.to_owned() })?;
    Template::from_json(json)
}

/// The ids of the shipped templates, in gallery order.
pub fn shipped_ids() -> impl Iterator<Item = &'static str> {
    LIBRARY.iter().map(|(id, _)| *id)
}
