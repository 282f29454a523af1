//! Meetings on the wire (requirement S14): planning, changing and cancelling a meeting, the
//! answers, the receipts clients send when an invitation reaches them, the delivery ledger
//! and the coverage report that shows whether every invitee was reached.
//!
//! A meeting travels in the sync feed as a [`MeetingView`] shaped for the person reading it:
//! invitees see the plan, the people invited and their own answer; the organiser (and their
//! delegates) also see everyone's answer and the ledger.

use chrono::{DateTime, Utc};
use countersign_domain::meetings::{Invitee, MeetingField, MeetingPlan, MeetingStatus, Rsvp};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::attachments::AttachmentInfo;

/// `POST /v1/meetings`: plan a meeting and send the invitations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct NewMeeting {
    /// A client-made id (UUIDv7); sending the same meeting twice then refuses the second.
    #[serde(default)]
    pub id: Option<Uuid>,
    pub plan: MeetingPlan,
    pub invitees: Vec<Invitee>,
    /// Attachments the organiser uploaded (`POST /v1/attachments`).
    #[serde(default)]
    pub materials: Vec<Uuid>,
}

/// `PUT /v1/meetings/{id}`: change a meeting. The invitees and materials, when given,
/// replace the lists; people no longer invited lose sight of the meeting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct MeetingEdit {
    pub plan: MeetingPlan,
    #[serde(default)]
    pub invitees: Option<Vec<Invitee>>,
    #[serde(default)]
    pub materials: Option<Vec<Uuid>>,
    /// The `version` the organiser changed; refused with `conflict` if it moved on.
    #[serde(default)]
    #[cfg_attr(feature = "specta", specta(type = Option<f64>))]
    pub expected_version: Option<u64>,
}

/// `POST /v1/meetings/{id}/cancel`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct CancelMeeting {
    #[serde(default)]
    pub reason: Option<String>,
}

/// `POST /v1/meetings/{id}/rsvp`, and the payload of the `rsvp_meeting` mutation (with
/// `meeting_id`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct RsvpRequest {
    /// Absent in the REST body (the path names the meeting); required in the mutation.
    #[serde(default)]
    pub meeting_id: Option<Uuid>,
    pub answer: Rsvp,
    #[serde(default)]
    pub note: Option<String>,
}

/// One receipt: this invitation, at this sequence, reached one of the caller's clients (and,
/// with `opened_at`, was opened by them then).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct MeetingReceipt {
    pub meeting_id: Uuid,
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub sequence: u64,
    /// When the person opened the meeting in the client; the server keeps the first one and
    /// never records a time in its own future.
    #[serde(default)]
    pub opened_at: Option<DateTime<Utc>>,
}

/// `POST /v1/meetings/receipts`, and the payload of the `meeting_receipts` mutation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct MeetingReceipts {
    pub receipts: Vec<MeetingReceipt>,
}

/// How many receipts changed the ledger (a repeated receipt changes nothing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ReceiptsRecorded {
    pub recorded: u32,
}

/// A room, as the room list and a meeting name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RoomView {
    pub id: Uuid,
    pub name: String,
    #[serde(default)]
    pub capacity: Option<u32>,
}

/// One person on a meeting, with their answer and, for the organiser's eyes, the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct InviteeView {
    pub person_id: Uuid,
    /// Invited through this department rather than by name.
    #[serde(default)]
    pub via_department: Option<Uuid>,
    #[serde(default)]
    pub answer: Option<Rsvp>,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub answered_at: Option<DateTime<Utc>>,
    /// When one of their clients received the current version of the invitation.
    #[serde(default)]
    pub reached_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub opened_at: Option<DateTime<Utc>>,
}

/// Someone the organiser named who was not invited, and why (a departed colleague).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SkippedInvitee {
    pub person_id: Uuid,
    /// `departed`, `disabled` or `unknown_person`.
    pub reason: String,
}

/// A meeting as one person sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct MeetingView {
    pub id: Uuid,
    /// Changes with every write (answers and receipts too): what sync compares.
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub version: u64,
    /// Changes only when the plan, the invitees or the materials change, or on cancellation:
    /// each value is announced to the invitees once.
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub sequence: u64,
    pub organiser_id: Uuid,
    pub plan: MeetingPlan,
    pub status: MeetingStatus,
    #[serde(default)]
    pub room: Option<RoomView>,
    #[serde(default)]
    pub materials: Vec<AttachmentInfo>,
    /// Invitees (not delegates). For an invitee who is not the organiser, everyone's answer
    /// and ledger columns are left out but their own.
    #[serde(default)]
    pub invitees: Vec<InviteeView>,
    /// What the last change changed (empty for a new meeting).
    #[serde(default)]
    pub changed: Vec<MeetingField>,
    #[serde(default)]
    pub cancel_reason: Option<String>,
    /// Named invitees who could not be invited; shown to the organiser only.
    #[serde(default)]
    pub skipped: Vec<SkippedInvitee>,
    /// The reader's own part: `invitee`, `organiser` or `delegate`.
    pub my_role: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(default)]
    pub cancelled_at: Option<DateTime<Utc>>,
}

impl MeetingView {
    /// The reader's own line among the invitees.
    pub fn invitee(&self, person: Uuid) -> Option<&InviteeView> {
        self.invitees.iter().find(|i| i.person_id == person)
    }
}

/// A room clash, named: which meeting holds the room and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoomClash {
    pub meeting_id: Uuid,
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

/// The coverage of one meeting: the measured form of "invitations reach 100% of invitees".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MeetingCoverage {
    pub meeting_id: Uuid,
    pub title: String,
    pub organiser_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub status: MeetingStatus,
    pub invited: u32,
    /// Reached by the current version of the invitation.
    pub reached: u32,
    /// Reached before the meeting started.
    pub reached_before_start: u32,
    pub opened: u32,
    pub answered: u32,
    pub accepted: u32,
    pub tentative: u32,
    pub declined: u32,
    /// The number of materials, and whether all of them were attached by their due time
    /// (the start when no due time was set).
    pub materials: u32,
    pub materials_in_time: bool,
    /// Invitees not reached by the current version, by id.
    pub not_reached: Vec<Uuid>,
    /// Invitees who have not answered, by id.
    pub not_answered: Vec<Uuid>,
}

/// One month's totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CoverageMonth {
    /// `YYYY-MM`, by the meetings' start in UTC.
    pub month: String,
    pub meetings: u32,
    pub invited: u32,
    pub reached: u32,
    pub opened: u32,
    pub answered: u32,
    /// reached / invited, in per mille (1000 = everyone reached); 1000 for no invitees.
    pub reached_per_mille: u32,
}

/// `GET /v1/reports/meetings`: per meeting and per month. Organisers see their own meetings;
/// those who read reports see everyone's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CoverageReport {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub meetings: Vec<MeetingCoverage>,
    pub months: Vec<CoverageMonth>,
}
