//! The sync protocol (v1): the change feed, client mutations and live-event hints.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::requests::{RefusalView, RequestView};

/// What kind of record a change is about. Kinds added later (meetings, tickets, articles)
/// arrive at an older client as `Unknown`, which it skips.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    Request,
    Template,
    Person,
    Department,
    Meeting,
    #[serde(other)]
    Unknown,
}

impl EntityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Request => "request",
            EntityKind::Template => "template",
            EntityKind::Person => "person",
            EntityKind::Department => "department",
            EntityKind::Meeting => "meeting",
            EntityKind::Unknown => "unknown",
        }
    }

    pub fn parse(s: &str) -> Self {
        match s {
            "request" => EntityKind::Request,
            "template" => EntityKind::Template,
            "person" => EntityKind::Person,
            "department" => EntityKind::Department,
            "meeting" => EntityKind::Meeting,
            _ => EntityKind::Unknown,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ChangeOp {
    /// The record as it is now; replaces what the client has.
    Upsert,
    /// The record is gone, or no longer visible to this person.
    Delete,
}

/// One change in the feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Change {
    pub kind: EntityKind,
    /// The record's id (a UUID, or `template-id@version` for templates).
    pub id: String,
    pub version: u64,
    pub op: ChangeOp,
    /// Present for `upsert`. A client that does not know `kind` ignores it.
    #[serde(default)]
    pub data: Option<serde_json::Value>,
}

/// `GET /v1/sync?after=CURSOR&limit=N`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SyncPage {
    pub changes: Vec<Change>,
    /// Pass as `after` next time. Opaque.
    pub cursor: String,
    /// True when more changes wait: ask again at once.
    pub more: bool,
}

/// The mutation kinds a client may send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MutationKind {
    /// Payload: [`crate::requests::SubmitRequest`].
    SubmitRequest,
    /// Payload: [`ActPayload`].
    ActOnRequest,
    /// Payload: [`crate::meetings::RsvpRequest`] with `meeting_id`.
    RsvpMeeting,
    /// Payload: [`crate::meetings::MeetingReceipts`].
    MeetingReceipts,
    #[serde(other)]
    Unknown,
}

impl MutationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MutationKind::SubmitRequest => "submit_request",
            MutationKind::ActOnRequest => "act_on_request",
            MutationKind::RsvpMeeting => "rsvp_meeting",
            MutationKind::MeetingReceipts => "meeting_receipts",
            MutationKind::Unknown => "unknown",
        }
    }
}

/// Payload of `act_on_request`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ActPayload {
    pub request_id: Uuid,
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::Action))]
    pub action: countersign_domain::engine::Action,
}

/// One client mutation. `id` is a UUIDv7 the client made; sending it again is safe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Mutation {
    pub id: Uuid,
    /// A [`MutationKind`]; a kind this server does not know is answered per mutation as
    /// `refused`, not by refusing the batch, so a newer client can talk to an older server.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub kind: MutationKind,
    pub payload: serde_json::Value,
    /// The version of the record the client changed (requests: `RequestView::version`).
    #[serde(default)]
    pub base_version: Option<u64>,
}

/// `POST /v1/mutations`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MutationBatch {
    pub mutations: Vec<Mutation>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MutationStatus {
    /// Done now.
    Applied,
    /// Seen before: this is the first answer again; nothing was done twice.
    Duplicate,
    /// Not done; `reason` says why. The ones after it in the batch are still tried.
    Refused,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MutationResult {
    pub id: Uuid,
    pub status: MutationStatus,
    /// What the first attempt did, for `duplicate`: `applied` or `refused`.
    #[serde(default)]
    pub original: Option<MutationStatus>,
    #[serde(default)]
    pub reason: Option<RefusalView>,
    /// The record as it is after the mutation (applied or duplicate of applied).
    #[serde(default)]
    pub entity: Option<Box<RequestView>>,
    /// The meeting as it is after an applied meeting mutation (an answer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meeting: Option<Box<crate::meetings::MeetingView>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MutationResults {
    pub results: Vec<MutationResult>,
}

/// A live-event hint: there are changes after `cursor`'s predecessor; pull.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventHint {
    pub cursor: String,
}
