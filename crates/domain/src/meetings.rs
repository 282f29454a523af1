//! Meetings (requirement S14): what an organiser plans, the rules a plan must keep, and what
//! changed between two versions of a plan (each change is announced to the invitees once,
//! saying what changed).
//!
//! Times are instants (`DateTime<Utc>`) with the organiser's IANA time zone beside them: the
//! instant is what every client shows in its own zone, the zone is what "10:00 every
//! Tuesday" meant to the organiser and what a calendar file carries. The clock is never read
//! here; `now` is passed in.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The longest title, in characters (a notification shows about this much).
pub const MAX_TITLE_CHARS: usize = 200;
/// The longest agenda, in characters.
pub const MAX_AGENDA_CHARS: usize = 20_000;
/// The longest meeting: a whole-day offsite fits, a week-long "meeting" is a mistake.
pub const MAX_LENGTH_HOURS: i64 = 24;
/// How far ahead a meeting may be planned.
pub const MAX_DAYS_AHEAD: i64 = 2 * 366;
/// The default reminder, in minutes before the start.
pub const DEFAULT_REMINDER_MINUTES: u32 = 15;

/// An invitee's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Rsvp {
    Accept,
    Tentative,
    Decline,
}

impl Rsvp {
    pub fn as_str(self) -> &'static str {
        match self {
            Rsvp::Accept => "accept",
            Rsvp::Tentative => "tentative",
            Rsvp::Decline => "decline",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "accept" | "accepted" | "yes" => Some(Rsvp::Accept),
            "tentative" | "maybe" => Some(Rsvp::Tentative),
            "decline" | "declined" | "no" => Some(Rsvp::Decline),
            _ => None,
        }
    }
}

/// Whether a meeting still takes place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MeetingStatus {
    Scheduled,
    Cancelled,
}

impl MeetingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MeetingStatus::Scheduled => "scheduled",
            MeetingStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Self {
        if text == "cancelled" {
            MeetingStatus::Cancelled
        } else {
            MeetingStatus::Scheduled
        }
    }
}

/// Who is invited, as the organiser named them. A department stands for everyone in it and
/// its sub-departments at the moment the invitation is sent (frozen then: someone who joins
/// later is not invited behind the organiser's back).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Invitee {
    Person(Uuid),
    Department(Uuid),
}

/// What the organiser decides about a meeting: everything but who is invited and the files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MeetingPlan {
    pub title: String,
    #[serde(default)]
    pub agenda: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// The organiser's IANA zone (`Asia/Shanghai`).
    pub time_zone: String,
    /// A bookable room; refused when another meeting holds it at the same time.
    #[serde(default)]
    pub room_id: Option<Uuid>,
    /// A place that is not a room (a site, a customer's office).
    #[serde(default)]
    pub place: Option<String>,
    /// An online meeting link (http or https).
    #[serde(default)]
    pub online_link: Option<String>,
    /// Materials should be attached before this; the ledger shows what was in hand by then.
    #[serde(default)]
    pub materials_due: Option<DateTime<Utc>>,
}

/// A rule a plan breaks. Each has a stable code for clients and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum PlanProblem {
    #[error("A meeting needs a title.")]
    TitleMissing,
    #[error("The title is longer than {max} characters.")]
    TitleTooLong { max: usize },
    #[error("The agenda is longer than {max} characters.")]
    AgendaTooLong { max: usize },
    #[error("The meeting ends before it starts (or when it starts).")]
    EndsBeforeStart,
    #[error("The meeting starts in the past.")]
    StartsInThePast,
    #[error("A meeting may last at most {max_hours} hours.")]
    TooLong { max_hours: i64 },
    #[error("A meeting may be planned at most {max_days} days ahead.")]
    TooFarAhead { max_days: i64 },
    #[error("'{zone}' is not a time zone name such as Asia/Shanghai.")]
    UnknownTimeZone { zone: String },
    #[error("The online link must start with https:// or http://.")]
    LinkNotWeb,
    #[error("Materials must be due before the meeting starts.")]
    MaterialsDueAfterStart,
    #[error("Invite at least one person or department.")]
    NoInvitees,
    #[error("A meeting needs a room, a place or an online link.")]
    NowhereToMeet,
}

impl PlanProblem {
    /// The stable code, identical to the serde tag.
    pub fn code(&self) -> &'static str {
        match self {
            PlanProblem::TitleMissing => "title_missing",
            PlanProblem::TitleTooLong { .. } => "title_too_long",
            PlanProblem::AgendaTooLong { .. } => "agenda_too_long",
            PlanProblem::EndsBeforeStart => "ends_before_start",
            PlanProblem::StartsInThePast => "starts_in_the_past",
            PlanProblem::TooLong { .. } => "too_long",
            PlanProblem::TooFarAhead { .. } => "too_far_ahead",
            PlanProblem::UnknownTimeZone { .. } => "unknown_time_zone",
            PlanProblem::LinkNotWeb => "link_not_web",
            PlanProblem::MaterialsDueAfterStart => "materials_due_after_start",
            PlanProblem::NoInvitees => "no_invitees",
            PlanProblem::NowhereToMeet => "nowhere_to_meet",
        }
    }
}

/// The zone a plan names, if it is an IANA name.
pub fn zone_of(plan: &MeetingPlan) -> Option<Tz> {
    plan.time_zone.parse().ok()
}

/// Every rule `plan` breaks, at `now`, with `invitees` as the organiser named them. A plan
/// that is being changed may keep a start that has passed only if it does not move it
/// (`unchanged_start`): correcting the agenda of a meeting under way is allowed.
pub fn check_plan(
    plan: &MeetingPlan,
    invitees: &[Invitee],
    now: DateTime<Utc>,
    unchanged_start: Option<DateTime<Utc>>,
) -> Vec<PlanProblem> {
    let mut problems = Vec::new();
    let title = plan.title.trim();
    if title.is_empty() {
        problems.push(PlanProblem::TitleMissing);
    } else if title.chars().count() > MAX_TITLE_CHARS {
        problems.push(PlanProblem::TitleTooLong {
            max: MAX_TITLE_CHARS,
        });
    }
    if plan.agenda.chars().count() > MAX_AGENDA_CHARS {
        problems.push(PlanProblem::AgendaTooLong {
            max: MAX_AGENDA_CHARS,
        });
    }
    if plan.ends_at <= plan.starts_at {
        problems.push(PlanProblem::EndsBeforeStart);
    } else if plan.ends_at - plan.starts_at > Duration::hours(MAX_LENGTH_HOURS) {
        problems.push(PlanProblem::TooLong {
            max_hours: MAX_LENGTH_HOURS,
        });
    }
    if plan.starts_at < now && unchanged_start != Some(plan.starts_at) {
        problems.push(PlanProblem::StartsInThePast);
    }
    if plan.starts_at > now + Duration::days(MAX_DAYS_AHEAD) {
        problems.push(PlanProblem::TooFarAhead {
            max_days: MAX_DAYS_AHEAD,
        });
    }
    if zone_of(plan).is_none() {
        problems.push(PlanProblem::UnknownTimeZone {
            zone: plan.time_zone.clone(),
        });
    }
    if let Some(link) = plan.online_link.as_deref().map(str::trim)
        && !link.is_empty()
        && !is_web_link(link)
    {
        problems.push(PlanProblem::LinkNotWeb);
    }
    if plan.materials_due.is_some_and(|due| due > plan.starts_at) {
        problems.push(PlanProblem::MaterialsDueAfterStart);
    }
    if invitees.is_empty() {
        problems.push(PlanProblem::NoInvitees);
    }
    let has = |s: &Option<String>| s.as_deref().is_some_and(|s| !s.trim().is_empty());
    if plan.room_id.is_none() && !has(&plan.place) && !has(&plan.online_link) {
        problems.push(PlanProblem::NowhereToMeet);
    }
    problems
}

/// Whether `link` is an http(s) address with a host and no blank or control character: the
/// only kind of online link a plan may carry and the desktop app will hand to the browser.
pub fn is_web_link(link: &str) -> bool {
    let lower = link.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    rest.is_some_and(|r| {
        !r.is_empty()
            && !r.starts_with('/')
            && !r.contains(|c: char| c.is_whitespace() || c.is_control())
    })
}

/// A part of a plan that an update can change; an invitee is told which.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MeetingField {
    Title,
    Agenda,
    Time,
    Room,
    Place,
    OnlineLink,
    Materials,
    Invitees,
}

impl MeetingField {
    pub fn as_str(self) -> &'static str {
        match self {
            MeetingField::Title => "title",
            MeetingField::Agenda => "agenda",
            MeetingField::Time => "time",
            MeetingField::Room => "room",
            MeetingField::Place => "place",
            MeetingField::OnlineLink => "online_link",
            MeetingField::Materials => "materials",
            MeetingField::Invitees => "invitees",
        }
    }
}

/// The fields of the plan that differ between `before` and `after`, in a fixed order. A
/// change of zone alone (same instants) is not a change anyone needs to hear about.
pub fn what_changed(before: &MeetingPlan, after: &MeetingPlan) -> Vec<MeetingField> {
    let mut fields = Vec::new();
    if before.title.trim() != after.title.trim() {
        fields.push(MeetingField::Title);
    }
    if before.agenda.trim() != after.agenda.trim() {
        fields.push(MeetingField::Agenda);
    }
    if before.starts_at != after.starts_at || before.ends_at != after.ends_at {
        fields.push(MeetingField::Time);
    }
    if before.room_id != after.room_id {
        fields.push(MeetingField::Room);
    }
    let text = |s: &Option<String>| s.as_deref().map(str::trim).unwrap_or("").to_owned();
    if text(&before.place) != text(&after.place) {
        fields.push(MeetingField::Place);
    }
    if text(&before.online_link) != text(&after.online_link) {
        fields.push(MeetingField::OnlineLink);
    }
    fields
}

/// When the reminder for a meeting starting at `starts_at` is due.
pub fn reminder_at(starts_at: DateTime<Utc>, minutes_before: u32) -> DateTime<Utc> {
    starts_at - Duration::minutes(i64::from(minutes_before))
}

/// Two meetings in the same room clash when their times overlap; back-to-back is fine.
pub fn overlaps(a: (DateTime<Utc>, DateTime<Utc>), b: (DateTime<Utc>, DateTime<Utc>)) -> bool {
    a.0 < b.1 && b.0 < a.1
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, h, m, 0)
            .single()
            .unwrap_or_default()
    }

    fn plan() -> MeetingPlan {
        MeetingPlan {
            title: "周例会".into(),
            agenda: "1. 进度".into(),
            starts_at: at(2, 0),
            ends_at: at(3, 0),
            time_zone: "Asia/Shanghai".into(),
            room_id: None,
            place: Some("3F".into()),
            online_link: None,
            materials_due: Some(at(1, 0)),
        }
    }

    const ONE: [Invitee; 1] = [Invitee::Person(Uuid::nil())];

    #[test]
    fn a_sound_plan_breaks_no_rule() {
        assert_eq!(check_plan(&plan(), &ONE, at(0, 0), None), vec![]);
    }

    #[test]
    fn each_broken_rule_is_named() {
        let mut p = plan();
        p.title = "  ".into();
        p.ends_at = p.starts_at;
        p.time_zone = "China Standard Time".into();
        p.online_link = Some("javascript:alert(1)".into());
        p.materials_due = Some(at(5, 0));
        let codes: Vec<&str> = check_plan(&p, &[], at(0, 0), None)
            .iter()
            .map(PlanProblem::code)
            .collect();
        assert_eq!(
            codes,
            [
                "title_missing",
                "ends_before_start",
                "unknown_time_zone",
                "link_not_web",
                "materials_due_after_start",
                "no_invitees"
            ]
        );
    }

    #[test]
    fn the_past_is_refused_unless_the_start_is_kept() {
        let p = plan();
        let late = at(2, 30);
        assert_eq!(
            check_plan(&p, &ONE, late, None),
            vec![PlanProblem::StartsInThePast],
            "a new meeting cannot start in the past"
        );
        assert_eq!(
            check_plan(&p, &ONE, late, Some(p.starts_at)),
            vec![],
            "an update under way that keeps the start is allowed"
        );
    }

    #[test]
    fn too_long_too_far_and_nowhere() {
        let mut p = plan();
        p.ends_at = p.starts_at + Duration::hours(25);
        p.place = None;
        let problems = check_plan(&p, &ONE, at(0, 0), None);
        assert!(problems.contains(&PlanProblem::TooLong { max_hours: 24 }));
        assert!(problems.contains(&PlanProblem::NowhereToMeet));
        let mut far = plan();
        far.starts_at = at(0, 0) + Duration::days(800);
        far.ends_at = far.starts_at + Duration::hours(1);
        far.materials_due = None;
        assert!(
            check_plan(&far, &ONE, at(0, 0), None)
                .iter()
                .any(|p| p.code() == "too_far_ahead")
        );
    }

    #[test]
    fn changes_are_named_once_each() {
        let before = plan();
        let mut after = plan();
        after.starts_at = at(4, 0);
        after.ends_at = at(5, 0);
        after.place = Some("5F".into());
        after.time_zone = "Europe/Berlin".into();
        assert_eq!(
            what_changed(&before, &after),
            vec![MeetingField::Time, MeetingField::Place],
            "the zone alone is no change; time and place are"
        );
        assert_eq!(what_changed(&before, &before), vec![]);
    }

    #[test]
    fn overlap_and_reminder() {
        assert!(overlaps((at(2, 0), at(3, 0)), (at(2, 30), at(4, 0))));
        assert!(
            !overlaps((at(2, 0), at(3, 0)), (at(3, 0), at(4, 0))),
            "back to back"
        );
        assert_eq!(reminder_at(at(2, 0), DEFAULT_REMINDER_MINUTES), at(1, 45));
        assert_eq!(Rsvp::parse("Declined"), Some(Rsvp::Decline));
        assert_eq!(Rsvp::parse("perhaps"), None);
    }
}
