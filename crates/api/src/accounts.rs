//! Accounts and organisation administration on the wire (requirements S1, S3, S6, S13, B5):
//! opening an account from an approved application and activating it, departures and
//! transfers, the dormant-account report, template proposals and the audit-log query.

use chrono::{DateTime, Utc};
use countersign_domain::engine::TaskId;
use countersign_domain::templates::Template;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::requests::RequestView;

/// The one-time activation secret of an account opened by an approved account application
/// (S1). The server keeps only its hash: it is shown once, to the IT administrator whose
/// approval opened the account, who hands it to the new employee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountActivation {
    pub person_id: Uuid,
    pub username: String,
    pub secret: String,
    pub expires_at: DateTime<Utc>,
}

/// `POST /v1/requests/{id}/actions`: the request after the action, and — only for the IT
/// administrator whose approval opened an account — its activation secret. The request's
/// fields are inlined, so a client that reads a [`RequestView`] reads this too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActResponse {
    #[serde(flatten)]
    pub request: RequestView,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activation: Option<AccountActivation>,
}

/// `POST /v1/accounts/activate`: the new employee sets their password with the secret IT gave
/// them. Unauthenticated: they have no password yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ActivateRequest {
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 64, pattern = r"\S")
    )]
    pub username: String,
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 32, pattern = r"\S")
    )]
    pub activation_secret: String,
    /// At most 1024 bytes of UTF-8.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 256))]
    pub password: String,
}

/// `POST /v1/accounts/activate` answer: the account may sign in now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActivatedAccount {
    pub person_id: Uuid,
    pub username: String,
}

/// `POST /v1/people/{id}/departure` (S3): the person leaves; their sessions end at once and
/// every open task they hold goes to `reassign_to`, or to their manager when absent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DepartureRequest {
    #[serde(default)]
    pub reassign_to: Option<Uuid>,
    /// Kept in the personnel history, not shown on the requests.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 500, pattern = r"\S")
    )]
    pub reason: String,
}

/// `POST /v1/people/{id}/transfer` (S3): a new post. Absent fields stay as they are. The
/// person's sessions end (their permissions changed) and their open tasks go to
/// `reassign_to`, or to the manager they had before the transfer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    #[serde(default)]
    pub department_id: Option<Uuid>,
    #[serde(default)]
    pub manager_id: Option<Uuid>,
    /// Replaces the person's access roles.
    #[serde(default)]
    pub roles: Option<Vec<String>>,
    /// Replaces the person's routing positions.
    #[serde(default)]
    pub positions: Option<Vec<String>>,
    #[serde(default)]
    pub reassign_to: Option<Uuid>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 500))]
    pub reason: Option<String>,
}

/// A person as administrators see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PersonRecordView {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    #[serde(default)]
    pub department_id: Option<Uuid>,
    #[serde(default)]
    pub manager_id: Option<Uuid>,
    pub roles: Vec<String>,
    #[serde(default)]
    pub positions: Vec<String>,
    /// `active`, `invited`, `disabled` or `departed`.
    pub status: String,
    pub version: i64,
}

/// One open task handed on by a departure or transfer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReassignedTask {
    pub request: Uuid,
    /// The task that was closed as transferred.
    #[cfg_attr(feature = "openapi", schema(value_type = u32))]
    pub task: TaskId,
    pub to: Uuid,
}

/// What a departure or transfer did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PersonChangeResult {
    pub person: PersonRecordView,
    pub sessions_revoked: u64,
    #[serde(default)]
    pub reassigned: Vec<ReassignedTask>,
}

/// One account in the dormant-account report (S3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DormantAccount {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    #[serde(default)]
    pub department_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub last_sign_in_at: Option<DateTime<Utc>>,
    /// The last request any of their sessions made (a desktop client refreshes its session
    /// without signing in again, so this counts as activity too).
    #[serde(default)]
    pub last_seen_at: Option<DateTime<Utc>>,
    /// Whole days since the last sign-in or session activity (since creation if never).
    pub idle_days: i64,
    /// Open tasks waiting for them: disabling them hands these to their manager.
    #[serde(default)]
    pub open_tasks: i64,
}

/// `GET /v1/reports/dormant-accounts?days=N`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DormantReport {
    pub days: u32,
    /// Accounts with no activity since this instant are listed.
    pub cutoff: DateTime<Utc>,
    pub accounts: Vec<DormantAccount>,
}

/// `POST /v1/templates/proposals` (S6): a new version of a template (or a new template),
/// published only when a process-change request that names the proposal is approved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProposeTemplate {
    /// The template as JSON (the library's format). Its `version` is ignored: the server
    /// numbers the proposal as the current version + 1.
    pub template: serde_json::Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ProposalStatus {
    /// Waiting for an approved process-change request.
    Proposed,
    /// Published as a template version.
    Published,
    #[serde(other)]
    Unknown,
}

/// A template proposal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TemplateProposalView {
    pub id: Uuid,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub template: Template,
    pub proposed_by: Uuid,
    pub proposed_at: DateTime<Utc>,
    pub status: ProposalStatus,
    /// The approved process-change request that published it.
    #[serde(default)]
    pub request_id: Option<Uuid>,
    #[serde(default)]
    pub published_at: Option<DateTime<Utc>>,
}

/// One line of the audit log (S13, B5), with its place in the hash chain, so that an auditor
/// can check it offline: `hash` is SHA-256 over the bytes of `prev_hash`, `seq` as 8 bytes
/// big-endian, and the compact JSON of `entry` with its fields in the order declared here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditLine {
    pub seq: i64,
    pub entry: AuditEntryView,
    /// Lower-case hex.
    pub prev_hash: String,
    /// Lower-case hex.
    pub hash: String,
}

/// The hashed part of an audit line. Field order is part of the contract: the hash covers
/// this struct's JSON exactly as serde writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntryView {
    pub at: DateTime<Utc>,
    pub actor_id: Option<Uuid>,
    /// A user name, or `anonymous` / `system`.
    pub actor: String,
    pub action: String,
    pub resource: String,
    /// `ok`, or a stable error code.
    pub outcome: String,
    pub source: Option<String>,
    pub device: Option<String>,
}

/// `GET /v1/audit?after=SEQ&limit=N&actor=&action=&resource=`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditPage {
    pub lines: Vec<AuditLine>,
    /// Pass as `after` for the next page; absent when this page reached the end.
    #[serde(default)]
    pub next_after: Option<i64>,
    /// The head of the chain when the page was read, to anchor an offline check.
    pub head_seq: i64,
    pub head_hash: String,
}
