//! Notifications: which incoming changes deserve the person's attention (requirement D4), and
//! the [`Notifier`]s that deliver them.
//!
//! [`plan`] is a pure function of the signed-in person, one change from the sync feed, the
//! cached version of that request and a [`NotificationRecord`] that the caller persists with
//! its cache. It answers what to show and what to take back, and the updated record. It never
//! reads the clock or the network, so the CLI, the desktop and the tests get the same answer.
//!
//! The planner looks at the state a request is in, not at the history since the last change:
//! "a task of mine is open", "my request was returned in round 2". Each such subject has a
//! stable [`NotificationId`] and is shown at most once, which is what makes it safe against
//! the feed's replays, a resync's re-download and changes from several devices. A notified
//! subject that no longer holds (the task was decided elsewhere, withdrawn, transferred) is
//! retracted, so the desktop never offers Approve on a task that is gone.
//!
//! # Who is told what
//!
//! - **Pending approval**: a task assigned to me is open, unless my own action opened it
//!   (my submission, my approval of the step before). Offers Approve, Reject and Open when
//!   the request's template lets its notifications carry Approve
//!   ([`Template::may_approve_from_notification`]: a claim up to CNY 5,000, say), Open only
//!   otherwise — and when the template is not known, since approving blind is then a guess.
//! - **Overdue**: a task of mine is flagged in `overdue_tasks`; and, for the initiator, a
//!   task their request waits on is. A task first seen already overdue is one pending notice
//!   marked overdue, not two.
//! - **Outcome**: my request was approved, rejected or returned to me, by someone else. A
//!   return is news once per submission round.
//! - **Action refused**: Approve or Reject pressed on a notification could not be done (the
//!   task was decided elsewhere meanwhile): [`action_refused`] builds the follow-up, one per
//!   request, so a second click replaces it rather than stacking another.
//! - **Retract**: anything shown whose subject no longer holds — a pending task decided by
//!   me elsewhere, by a co-approver of an any-one step, withdrawn or transferred; a warning
//!   about a task since decided; a return since resubmitted; a request gone from the feed.
//!
//! The server's overdue scan flags tasks without bumping the request's version, so a change
//! of the same version is planned again (and must be applied by the cache, too); only an
//! older version, or exactly the cached copy, is skipped outright.
//!
//! # Catch-up
//!
//! A first download (a fresh install, a cache rebuilt after a resync) brings the whole history
//! at once. In [`SyncMode::CatchUp`] nothing is shown while it runs: outcomes of past requests
//! and overdue warnings about other people's tasks are recorded as seen without a word, and
//! only what waits for the person now — their open tasks — is held back, in the request's
//! notes (stored page by page, so an interrupted download goes on holding what it held). When
//! the download is done, [`finish_catch_up`] shows the held tasks one by one, as they are
//! then, if there are at most [`CATCH_UP_SHOW_LIMIT`], otherwise one summary ("12 approvals
//! are waiting for you") that opens the inbox. The summary is never retracted; the next
//! catch-up summary replaces it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::Write;
use std::sync::Mutex;

use chrono::{DateTime, FixedOffset, Utc};
use countersign_api::meetings::MeetingView;
use countersign_api::requests::RequestView;
use countersign_api::sync::{Change, ChangeOp, EntityKind};
use countersign_domain::engine::{EventKind, RequestState, RequestStatus, Task, TaskId};
use countersign_domain::form::{DateRange, Label, Money, Value};
use countersign_domain::meetings::{
    MeetingField, MeetingPlan, MeetingStatus, Rsvp, reminder_at, what_changed,
};
use countersign_domain::messages::Locale;
use countersign_domain::templates::Template;
use countersign_domain::workflow::ReturnTarget;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// At most this many waiting tasks are shown one by one after a catch-up; more become one
/// summary. Three fit on a screen corner without burying the person.
pub const CATCH_UP_SHOW_LIMIT: usize = 3;
/// Key figures per notification: a notification is read at a glance, not studied.
const MAX_FIGURES: usize = 3;
/// Longest comment quoted in a notification, in characters; the request shows the rest.
const MAX_QUOTED_COMMENT: usize = 120;

/// How the changes being planned arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncMode {
    /// Changes as they happen: everything new is shown.
    Live,
    /// A first full download: hold back, then [`finish_catch_up`]. See the module docs.
    CatchUp,
}

/// A notification's stable identity: the same subject always has the same id, so the desktop
/// can replace or retract what it showed, even after a restart.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NotificationId(String);

impl NotificationId {
    fn about(request: Uuid, subject: Subject) -> Self {
        let tail = match subject {
            Subject::Pending { task } => format!("pending/{task}"),
            Subject::Overdue { task } => format!("overdue/{task}"),
            Subject::RequestOverdue { task } => format!("request-overdue/{task}"),
            Subject::Outcome { round, outcome } => format!("outcome/{round}/{}", outcome.code()),
        };
        Self(format!("request/{request}/{tail}"))
    }

    /// The one summary a catch-up shows.
    pub fn catch_up() -> Self {
        Self("catch-up".to_owned())
    }

    /// The follow-up saying an action taken from a notification about `request` failed.
    pub fn action_refused(request: Uuid) -> Self {
        Self(format!("request/{request}/action-refused"))
    }

    /// The confirmation that a decision taken from a notification took effect.
    pub fn decision_applied(request: Uuid) -> Self {
        Self(format!("request/{request}/decision-applied"))
    }

    /// The invitation to `meeting`.
    pub fn meeting_invite(meeting: Uuid) -> Self {
        Self(format!("meeting/{meeting}/invite"))
    }

    /// The announcement of `meeting`'s change to `sequence`: one per sequence.
    pub fn meeting_changed(meeting: Uuid, sequence: u64) -> Self {
        Self(format!("meeting/{meeting}/changed/{sequence}"))
    }

    pub fn meeting_cancelled(meeting: Uuid) -> Self {
        Self(format!("meeting/{meeting}/cancelled"))
    }

    /// The reminder of `meeting` starting at `starts_at`: a meeting moved gets a new one.
    pub fn meeting_reminder(meeting: Uuid, starts_at: DateTime<Utc>) -> Self {
        Self(format!(
            "meeting/{meeting}/reminder/{}",
            starts_at.timestamp()
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for NotificationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a notification about a request is about. With the request id it makes the
/// notification's id; the record keeps subjects, not texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Subject {
    /// A task of mine is open. Ordered first so a task's pending notice is planned before its
    /// overdue warning and can stand for both.
    Pending { task: TaskId },
    /// A task of mine is open and flagged overdue.
    Overdue { task: TaskId },
    /// My request waits on someone else's overdue task.
    RequestOverdue { task: TaskId },
    /// My request was decided; returns count per submission round.
    Outcome { round: u32, outcome: Outcome },
}

/// How the person's own request was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Approved,
    Rejected,
    /// 退回 to the initiator, to correct and resubmit.
    Returned,
}

impl Outcome {
    fn code(self) -> &'static str {
        match self {
            Outcome::Approved => "approved",
            Outcome::Rejected => "rejected",
            Outcome::Returned => "returned",
        }
    }

    fn of(status: RequestStatus) -> Option<Self> {
        match status {
            RequestStatus::Approved => Some(Outcome::Approved),
            RequestStatus::Rejected => Some(Outcome::Rejected),
            RequestStatus::Returned => Some(Outcome::Returned),
            RequestStatus::Draft | RequestStatus::InProgress | RequestStatus::Withdrawn => None,
        }
    }
}

/// The request a notification is about, as much as a notification needs of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestSummary {
    pub id: Uuid,
    pub title: String,
    pub template_id: String,
    pub template_version: u32,
    pub initiator: Uuid,
    /// The version the notification was planned from: what an Approve from it expects.
    pub version: u64,
}

impl RequestSummary {
    fn of(view: &RequestView) -> Self {
        Self {
            id: view.id,
            title: view.title.clone(),
            template_id: view.template_id.clone(),
            template_version: view.template_version,
            initiator: view.initiator,
            version: view.version,
        }
    }
}

/// One key figure of a request (a total, leave days, a period), by its form field key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Figure {
    pub field: String,
    pub value: Value<'static>,
}

/// Whose overdue task an [`NotificationKind::Overdue`] warns about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OverdueFor {
    /// The person's own task is past its due time.
    MyTask,
    /// The person's request waits on `assignee`, whose task is past its due time.
    MyRequest { assignee: Uuid },
}

/// What a notification tells, as data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NotificationKind {
    /// A task waits for the person's decision.
    PendingApproval {
        request: RequestSummary,
        task: TaskId,
        step_id: String,
        /// When the SLA runs out, if the step has one.
        due_at: Option<DateTime<Utc>>,
        /// Already flagged overdue when first shown (after some time offline).
        overdue: bool,
        figures: Vec<Figure>,
    },
    Overdue {
        request: RequestSummary,
        task: TaskId,
        step_id: String,
        due_at: Option<DateTime<Utc>>,
        whose: OverdueFor,
    },
    /// The person's own request was decided by someone else.
    Outcome {
        request: RequestSummary,
        outcome: Outcome,
        decided_by: Uuid,
        decided_at: DateTime<Utc>,
        comment: String,
    },
    /// An invitation to a meeting, for an invitee (never its organiser).
    MeetingInvite {
        meeting: Uuid,
        title: String,
        organiser: Uuid,
        starts_at: DateTime<Utc>,
    },
    /// A meeting I am invited to changed; `changed` is everything that changed since the
    /// person was last told, however many changes that took.
    MeetingChanged {
        meeting: Uuid,
        title: String,
        sequence: u64,
        changed: Vec<MeetingField>,
        starts_at: DateTime<Utc>,
    },
    MeetingCancelled {
        meeting: Uuid,
        title: String,
        starts_at: DateTime<Utc>,
        #[serde(default)]
        reason: Option<String>,
    },
    /// A meeting I am going to starts soon.
    MeetingReminder {
        meeting: Uuid,
        title: String,
        starts_at: DateTime<Utc>,
        minutes_before: u32,
    },
    /// An action taken from a notification could not be done; `reason` says why, in words
    /// (the refusal as the client explained it).
    ActionRefused {
        request: Uuid,
        title: String,
        reason: String,
    },
    /// A decision taken from a notification or the tray reached the server and took effect
    /// (it may have been taken offline, long before).
    DecisionApplied {
        request: Uuid,
        /// `approve`, `reject`, …
        action: String,
        title: String,
    },
    /// The end of a catch-up with more waiting tasks than are shown one by one.
    CatchUp {
        pending: usize,
        /// How many of the pending tasks are already overdue.
        overdue: usize,
    },
}

/// What a notification offers to do, as data: the desktop turns these into buttons and
/// sends them down the same decide path as the UI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NotificationAction {
    /// Approve `task` of `request`, expecting `version`.
    Approve {
        request: Uuid,
        task: TaskId,
        version: u64,
    },
    /// Reject needs a reason: the desktop asks for it before sending.
    Reject {
        request: Uuid,
        task: TaskId,
        version: u64,
    },
    Open {
        request: Uuid,
    },
    OpenMeeting {
        meeting: Uuid,
    },
    /// Answer an invitation (Accept or Decline); goes down the same path as the CLI's
    /// `rsvp` (the outbox).
    Rsvp {
        meeting: Uuid,
        answer: Rsvp,
    },
    OpenInbox,
}

/// A text as a catalogue key and typed parameters, translated only when shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub key: NotificationKey,
    #[serde(default)]
    pub params: BTreeMap<String, Param>,
}

impl Message {
    fn new(key: NotificationKey) -> Self {
        Self {
            key,
            params: BTreeMap::new(),
        }
    }

    fn with(mut self, name: &str, value: Param) -> Self {
        self.params.insert(name.to_owned(), value);
        self
    }
}

/// A message parameter. Names and dates stay ids and instants until rendering, because the
/// planner knows neither the directory nor the person's time zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Param {
    Text(String),
    Person(Uuid),
    Template {
        id: String,
        version: u32,
    },
    Time(Option<DateTime<Utc>>),
    Figures {
        template_id: String,
        template_version: u32,
        figures: Vec<Figure>,
    },
    /// A decision's comment, quoted when present.
    Comment(String),
    Count(usize),
    /// What changed in a meeting, named in the reader's language.
    Fields(Vec<MeetingField>),
}

/// One notification to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    pub id: NotificationId,
    pub kind: NotificationKind,
    pub actions: Vec<NotificationAction>,
    pub title: Message,
    pub body: Message,
}

/// What the planner asks a [`Notifier`] to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", content = "notification", rename_all = "snake_case")]
// Most planned items are shows; boxing them would allocate for the common case to save
// space in the rare retraction.
#[allow(clippy::large_enum_variant)]
pub enum Planned {
    Show(Notification),
    /// Take back a notification shown earlier: what it was about no longer holds.
    Retract(NotificationId),
}

/// The planner's answer: what to deliver, and the record to persist with the cache.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub planned: Vec<Planned>,
    pub record: NotificationRecord,
}

/// What was already notified, for dedup across restarts. The caller stores it with the cache,
/// in the same transaction as the change it reflects, and hands it back to the next [`plan`].
///
/// It has one small [`RequestNotes`] per request ever met (a finished request keeps only its
/// version and what is still on screen) and a little more (meetings, what a catch-up holds).
/// The notes are stored apart, one row per request, and a sync loads only those of the
/// requests it is about ([`NotificationRecord::remember`], [`notes_key`]) and stores them
/// back ([`NotificationRecord::take_request_notes`]): at 100k cached requests the record
/// read and written whole was 10 MB decoded and encoded on every sync. A record missing the
/// notes of a request the change is about plans as if nothing was said about it yet.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NotificationRecord {
    /// Only the requests loaded for this plan. Serialised for the tests' whole records and
    /// read from bodies written before the notes were stored apart; stored bodies leave it
    /// out.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    requests: BTreeMap<Uuid, RequestNotes>,
    /// Invitations still to answer, held back during a catch-up like open tasks: what waits
    /// for the person now is told on a new device too (S14), not only the tray.
    #[serde(default)]
    held_invitations: Vec<HeldInvitation>,
    #[serde(default)]
    meetings: BTreeMap<Uuid, MeetingNotes>,
}

/// What was said about one meeting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct MeetingNotes {
    /// The newest sequence dealt with; each is announced once.
    sequence: u64,
    /// The plan as the person was last told it: what a change is compared with, so that
    /// several changes seen at once are one notification naming all of them.
    plan: MeetingPlan,
    #[serde(default)]
    cancelled: bool,
    /// The invitation, change or cancellation on screen.
    #[serde(default)]
    shown: Option<NotificationId>,
    /// The start the reminder was shown for, while it is on screen or was shown.
    #[serde(default)]
    reminded: Option<DateTime<Utc>>,
}

impl MeetingNotes {
    /// Takes back whatever is on screen about the meeting.
    fn retract_all(&mut self, meeting: Uuid, planned: &mut Vec<Planned>) {
        if let Some(id) = self.shown.take() {
            planned.push(Planned::Retract(id));
        }
        if let Some(at) = self.reminded.take() {
            planned.push(Planned::Retract(NotificationId::meeting_reminder(
                meeting, at,
            )));
        }
    }
}

/// What was said about one request: stored as one row with the cache.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RequestNotes {
    /// The newest version planned; an older one is stale.
    version: u64,
    /// Finished requests raise nothing new; their subjects are dropped to keep this small.
    #[serde(default)]
    finished: bool,
    /// Every subject already dealt with: shown, held, or deliberately kept quiet.
    #[serde(default)]
    notified: BTreeSet<Subject>,
    /// Shown and not yet retracted.
    #[serde(default)]
    shown: BTreeSet<Subject>,
    /// Held back by the catch-up under way, for [`finish_catch_up`]. Kept with the request's
    /// notes, so that a first download stores them page by page with everything else and an
    /// interrupted one goes on where it stopped, holding what it held.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    held: Vec<HeldSubject>,
}

impl RequestNotes {
    /// How many subjects are held back, and how many of those are about an overdue task:
    /// stored beside the notes, so a catch-up's end counts them without reading every row.
    pub fn held(&self) -> (usize, usize) {
        let overdue = self.held.iter().filter(|h| h.overdue).count();
        (self.held.len(), overdue)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct HeldSubject {
    subject: Subject,
    /// The summary says how many of the held are overdue.
    #[serde(default)]
    overdue: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct HeldInvitation {
    meeting: Uuid,
    ends_at: DateTime<Utc>,
    notification: Notification,
}

impl NotificationRecord {
    /// The notifications shown and not retracted, in id order.
    pub fn on_screen(&self) -> Vec<NotificationId> {
        let mut ids: Vec<NotificationId> = self
            .requests
            .iter()
            .flat_map(|(request, notes)| {
                notes
                    .shown
                    .iter()
                    .map(|subject| NotificationId::about(*request, *subject))
            })
            .collect();
        ids.extend(self.meetings.iter().flat_map(|(meeting, notes)| {
            notes.shown.clone().into_iter().chain(
                notes
                    .reminded
                    .map(|at| NotificationId::meeting_reminder(*meeting, at)),
            )
        }));
        ids.sort();
        ids
    }

    /// How many notifications a catch-up is holding back, of the requests in the record.
    pub fn held(&self) -> usize {
        self.held_counts().0
    }

    /// The held back [`NotificationRecord::held`], and how many of them are overdue.
    pub fn held_counts(&self) -> (usize, usize) {
        self.requests
            .values()
            .map(RequestNotes::held)
            .fold((0, 0), |(a, b), (c, d)| (a + c, b + d))
    }

    /// Adds notes stored apart, for the requests about to be planned. Notes the record
    /// already holds stay: they are newer than the stored ones.
    pub fn remember(&mut self, notes: impl IntoIterator<Item = (Uuid, RequestNotes)>) {
        for (request, n) in notes {
            self.requests.entry(request).or_insert(n);
        }
    }

    /// Whether the notes about `request` are in the record (met or loaded).
    pub fn knows(&self, request: Uuid) -> bool {
        self.requests.contains_key(&request)
    }

    /// The requests in the record whose notifications a catch-up holds.
    pub fn held_requests(&self) -> BTreeSet<Uuid> {
        self.requests
            .iter()
            .filter(|(_, n)| !n.held.is_empty())
            .map(|(id, _)| *id)
            .collect()
    }

    /// Takes the per-request notes out, to be stored one row each; what is left is stored as
    /// one small body.
    pub fn take_request_notes(&mut self) -> BTreeMap<Uuid, RequestNotes> {
        std::mem::take(&mut self.requests)
    }
}

/// The request whose [`RequestNotes`] planning `change` reads and writes, if any.
pub fn notes_key(change: &Change) -> Option<Uuid> {
    request_id(change)
}

/// Plans the notifications for one change from the sync feed, as seen by `me`.
///
/// `previous` is the cached copy of the request *before* this change is applied: a change
/// older than it, or identical to it (same version and overdue flags), is a replay even if
/// the record was lost. Changes about anything but requests, and request data this client
/// cannot read, plan nothing.
///
/// `template` is the template version the request runs on, if the caller has it: it decides
/// whether a pending approval offers Approve. A template of another id or version counts as
/// unknown, and an unknown template offers Open only.
pub fn plan(
    me: Uuid,
    mode: SyncMode,
    change: &Change,
    previous: Option<&RequestView>,
    template: Option<&Template>,
    mut record: NotificationRecord,
) -> Plan {
    if change.kind == EntityKind::Meeting {
        return plan_meeting(me, mode, change, record);
    }
    let mut planned = Vec::new();
    let Some(request) = request_id(change) else {
        return Plan { planned, record };
    };
    let newest_known = record
        .requests
        .get(&request)
        .map(|n| n.version)
        .into_iter()
        .chain(previous.map(|p| p.version))
        .max();
    // An older version arriving late says nothing new. The same version may: the server's
    // overdue scan flags tasks without a new version, so it is planned again and the
    // subjects already notified keep it quiet — unless the cache already holds exactly it.
    let older = newest_known.is_some_and(|known| change.version < known);
    if older || same_as_cached(change, previous) {
        return Plan { planned, record };
    }
    let mut finished_now = false;
    let desired = match change.op {
        // Gone or no longer visible: whatever was said about it no longer holds.
        ChangeOp::Delete => BTreeMap::new(),
        ChangeOp::Upsert => {
            let view = change
                .data
                .as_ref()
                .and_then(|data| RequestView::deserialize(data).ok())
                .filter(|view| view.id == request);
            let Some(view) = view else {
                return Plan { planned, record };
            };
            finished_now = view.status.is_finished();
            candidates(me, &view, template)
        }
    };
    let notes = record.requests.entry(request).or_default();
    notes.held.retain(|h| desired.contains_key(&h.subject));
    notes.version = notes.version.max(change.version);
    let gone: Vec<Subject> = notes
        .shown
        .iter()
        .filter(|s| !desired.contains_key(s))
        .copied()
        .collect();
    for subject in gone {
        notes.shown.remove(&subject);
        planned.push(Planned::Retract(NotificationId::about(request, subject)));
    }
    // A finished request raises nothing new: its subjects were dealt with when it finished
    // (and then dropped from `notified`, so they must not be looked at again).
    let raise_new = !notes.finished;
    notes.finished |= finished_now;
    let mut showing_pending: BTreeSet<TaskId> = BTreeSet::new();
    let new_subjects = if raise_new { desired } else { BTreeMap::new() };
    for (subject, candidate) in new_subjects {
        if notes.notified.contains(&subject) {
            continue;
        }
        notes.notified.insert(subject);
        if candidate.own_doing {
            continue;
        }
        // A task first seen already overdue is one notification, not two: the pending notice
        // says it is overdue.
        if let Subject::Overdue { task } = subject
            && showing_pending.contains(&task)
        {
            continue;
        }
        match (mode, subject) {
            (SyncMode::Live, _) => {
                if let Subject::Pending { task } = subject {
                    showing_pending.insert(task);
                }
                notes.shown.insert(subject);
                planned.push(Planned::Show(candidate.notification));
            }
            (SyncMode::CatchUp, Subject::Pending { .. } | Subject::Overdue { .. }) => {
                if let Subject::Pending { task } = subject {
                    showing_pending.insert(task);
                }
                // A task held as pending and flagged overdue later in the same download is
                // still one notice, now saying it is overdue.
                if let Subject::Overdue { task } = subject
                    && let Some(pending) = notes
                        .held
                        .iter_mut()
                        .find(|h| h.subject == Subject::Pending { task })
                {
                    pending.overdue = true;
                    continue;
                }
                notes.held.push(HeldSubject {
                    subject,
                    overdue: is_overdue(&candidate.notification),
                });
            }
            // History: recorded as seen, not shown.
            (SyncMode::CatchUp, _) => {}
        }
    }
    if notes.finished {
        // What was merely noted can go; what is on screen stays until retracted.
        notes.notified = notes.shown.clone();
    }
    Plan { planned, record }
}

/// What a catch-up held back, as the caller found it in the stored notes.
#[derive(Debug, Clone, Copy)]
pub struct HeldBack<'a> {
    /// Held subjects in all, and how many of them are about overdue tasks.
    pub count: usize,
    pub overdue: usize,
    /// When `count` is at most [`CATCH_UP_SHOW_LIMIT`]: the requests they are about as now
    /// cached, each with its template version if known. Their notes must be in the record.
    pub requests: &'a [(&'a RequestView, Option<&'a Template>)],
}

/// Ends a catch-up: shows what it held back, one by one or as one summary; and the
/// invitations still to answer of meetings not over at `now`, the soonest
/// [`CATCH_UP_SHOW_LIMIT`] of them (the tray and the agenda list them all).
///
/// Held tasks shown one by one are told as they are now, not as first met: a request
/// changed later in the download says so. The caller forgets what is held in the notes it
/// did not load (see [`NotificationRecord::held_counts`]).
pub fn finish_catch_up(
    me: Uuid,
    mut record: NotificationRecord,
    held: HeldBack<'_>,
    now: DateTime<Utc>,
) -> Plan {
    let mut planned = Vec::new();
    let mut invitations: Vec<HeldInvitation> = std::mem::take(&mut record.held_invitations)
        .into_iter()
        .filter(|h| h.ends_at > now)
        .collect();
    invitations.sort_by_key(|h| match &h.notification.kind {
        NotificationKind::MeetingInvite { starts_at, .. } => *starts_at,
        _ => h.ends_at,
    });
    for h in invitations.into_iter().take(CATCH_UP_SHOW_LIMIT) {
        // Answered or cancelled since it was held: nothing to say.
        let Some(notes) = record.meetings.get_mut(&h.meeting) else {
            continue;
        };
        if notes.cancelled {
            continue;
        }
        notes.shown = Some(h.notification.id.clone());
        planned.push(Planned::Show(h.notification));
    }
    if held.count > CATCH_UP_SHOW_LIMIT {
        planned.push(Planned::Show(catch_up_summary(held.count, held.overdue)));
    } else {
        for (view, template) in held.requests {
            let Some(notes) = record.requests.get_mut(&view.id) else {
                continue;
            };
            let mut desired = candidates(me, view, *template);
            for h in std::mem::take(&mut notes.held) {
                if let Some(candidate) = desired.remove(&h.subject) {
                    notes.shown.insert(h.subject);
                    planned.push(Planned::Show(candidate.notification));
                }
            }
        }
    }
    for notes in record.requests.values_mut() {
        notes.held.clear();
    }
    Plan { planned, record }
}

/// Plans a meeting change for `me`: an invitation the first time it is seen, one change
/// notice per new sequence (replacing the previous notice), a cancellation that takes back
/// everything shown about it. The organiser and their delegates are told nothing about their
/// own meetings. In a catch-up, what is seen is recorded, not shown.
fn plan_meeting(me: Uuid, mode: SyncMode, change: &Change, mut record: NotificationRecord) -> Plan {
    let mut planned = Vec::new();
    let Ok(meeting) = change.id.parse::<Uuid>() else {
        return Plan { planned, record };
    };
    let view = match change.op {
        ChangeOp::Upsert => change
            .data
            .as_ref()
            .and_then(|data| MeetingView::deserialize(data).ok())
            .filter(|view| view.id == meeting),
        ChangeOp::Delete => None,
    };
    let Some(view) = view else {
        // No longer visible (uninvited, deleted): nothing said about it holds.
        if change.op == ChangeOp::Delete
            && let Some(mut notes) = record.meetings.remove(&meeting)
        {
            notes.retract_all(meeting, &mut planned);
        }
        return Plan { planned, record };
    };
    if view.my_role != "invitee" || view.organiser_id == me {
        return Plan { planned, record };
    }
    let live = mode == SyncMode::Live;
    let cancelled = view.status == MeetingStatus::Cancelled;
    let Some(notes) = record.meetings.get_mut(&meeting) else {
        let mut notes = MeetingNotes {
            sequence: view.sequence,
            plan: view.plan.clone(),
            cancelled,
            shown: None,
            reminded: None,
        };
        // A meeting first seen cancelled was never announced: nothing to take back.
        if live && !cancelled {
            let invite = meeting_invite(&view);
            notes.shown = Some(invite.id.clone());
            planned.push(Planned::Show(invite));
        } else if !cancelled && view.invitee(me).is_some_and(|i| i.answer.is_none()) {
            record.held_invitations.push(HeldInvitation {
                meeting,
                ends_at: view.plan.ends_at,
                notification: meeting_invite(&view),
            });
        }
        record.meetings.insert(meeting, notes);
        return Plan { planned, record };
    };
    if view.sequence <= notes.sequence || notes.cancelled {
        return Plan { planned, record };
    }
    notes.sequence = view.sequence;
    if cancelled {
        notes.cancelled = true;
        notes.retract_all(meeting, &mut planned);
        if live {
            let notice = meeting_cancelled(&view);
            notes.shown = Some(notice.id.clone());
            planned.push(Planned::Show(notice));
        }
        return Plan { planned, record };
    }
    let mut changed = what_changed(&notes.plan, &view.plan);
    changed.extend(view.changed.iter().copied());
    changed.sort();
    changed.dedup();
    notes.plan = view.plan.clone();
    if let Some(id) = notes.shown.take() {
        planned.push(Planned::Retract(id));
    }
    if changed.contains(&MeetingField::Time)
        && let Some(at) = notes.reminded.take()
    {
        // The reminder was for the old time; the new time gets its own.
        planned.push(Planned::Retract(NotificationId::meeting_reminder(
            meeting, at,
        )));
    }
    if live {
        let notice = meeting_changed(&view, changed);
        notes.shown = Some(notice.id.clone());
        planned.push(Planned::Show(notice));
    }
    Plan { planned, record }
}

/// Plans the reminders due at `now`: for each meeting I am invited to and have not declined,
/// one reminder `minutes_before` its start, shown once (until the meeting moves). `meetings`
/// are the cached meetings; the caller runs this from its sync and watch loops with the
/// clock's time.
/// Whether `me` is to be reminded of `view` at all: an invitee (not its organiser) of a
/// meeting still on, who has not declined.
fn wants_reminder(me: Uuid, view: &MeetingView) -> bool {
    let declined = view
        .invitee(me)
        .is_some_and(|i| i.answer == Some(Rsvp::Decline));
    view.my_role == "invitee"
        && view.organiser_id != me
        && view.status == MeetingStatus::Scheduled
        && !declined
}

/// When the next reminder after `now` comes due, if any.
pub fn next_meeting_reminder(
    me: Uuid,
    meetings: &[MeetingView],
    minutes_before: u32,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    meetings
        .iter()
        .filter(|view| wants_reminder(me, view))
        .map(|view| reminder_at(view.plan.starts_at, minutes_before))
        .filter(|at| *at > now)
        .min()
}

pub fn plan_meeting_reminders(
    me: Uuid,
    meetings: &[MeetingView],
    minutes_before: u32,
    now: DateTime<Utc>,
    mut record: NotificationRecord,
) -> Plan {
    let mut planned = Vec::new();
    for view in meetings {
        let start = view.plan.starts_at;
        let due = reminder_at(start, minutes_before) <= now && now < start;
        if !wants_reminder(me, view) || !due {
            continue;
        }
        let notes = record
            .meetings
            .entry(view.id)
            .or_insert_with(|| MeetingNotes {
                sequence: view.sequence,
                plan: view.plan.clone(),
                cancelled: false,
                shown: None,
                reminded: None,
            });
        if notes.cancelled || notes.reminded == Some(start) {
            continue;
        }
        if let Some(old) = notes.reminded.replace(start) {
            planned.push(Planned::Retract(NotificationId::meeting_reminder(
                view.id, old,
            )));
        }
        planned.push(Planned::Show(meeting_reminder(view, minutes_before)));
    }
    Plan { planned, record }
}

fn open_meeting(view: &MeetingView) -> NotificationAction {
    NotificationAction::OpenMeeting { meeting: view.id }
}

fn meeting_invite(view: &MeetingView) -> Notification {
    let rsvp = |answer| NotificationAction::Rsvp {
        meeting: view.id,
        answer,
    };
    Notification {
        id: NotificationId::meeting_invite(view.id),
        actions: vec![rsvp(Rsvp::Accept), rsvp(Rsvp::Decline), open_meeting(view)],
        title: Message::new(NotificationKey::MeetingInviteTitle)
            .with("title", Param::Text(view.plan.title.clone())),
        body: Message::new(NotificationKey::MeetingInviteBody)
            .with("organiser", Param::Person(view.organiser_id))
            .with("starts", Param::Time(Some(view.plan.starts_at))),
        kind: NotificationKind::MeetingInvite {
            meeting: view.id,
            title: view.plan.title.clone(),
            organiser: view.organiser_id,
            starts_at: view.plan.starts_at,
        },
    }
}

fn meeting_changed(view: &MeetingView, changed: Vec<MeetingField>) -> Notification {
    Notification {
        id: NotificationId::meeting_changed(view.id, view.sequence),
        actions: vec![open_meeting(view)],
        title: Message::new(NotificationKey::MeetingChangedTitle)
            .with("title", Param::Text(view.plan.title.clone())),
        body: Message::new(NotificationKey::MeetingChangedBody)
            .with("changed", Param::Fields(changed.clone()))
            .with("starts", Param::Time(Some(view.plan.starts_at))),
        kind: NotificationKind::MeetingChanged {
            meeting: view.id,
            title: view.plan.title.clone(),
            sequence: view.sequence,
            changed,
            starts_at: view.plan.starts_at,
        },
    }
}

fn meeting_cancelled(view: &MeetingView) -> Notification {
    let reason = view.cancel_reason.clone().filter(|r| !r.trim().is_empty());
    Notification {
        id: NotificationId::meeting_cancelled(view.id),
        actions: vec![open_meeting(view)],
        title: Message::new(NotificationKey::MeetingCancelledTitle)
            .with("title", Param::Text(view.plan.title.clone())),
        body: Message::new(NotificationKey::MeetingCancelledBody)
            .with("starts", Param::Time(Some(view.plan.starts_at)))
            .with("reason", Param::Comment(reason.clone().unwrap_or_default())),
        kind: NotificationKind::MeetingCancelled {
            meeting: view.id,
            title: view.plan.title.clone(),
            starts_at: view.plan.starts_at,
            reason,
        },
    }
}

fn meeting_reminder(view: &MeetingView, minutes_before: u32) -> Notification {
    let place = view
        .room
        .as_ref()
        .map(|r| r.name.clone())
        .or_else(|| view.plan.place.clone())
        .or_else(|| view.plan.online_link.clone())
        .unwrap_or_default();
    Notification {
        id: NotificationId::meeting_reminder(view.id, view.plan.starts_at),
        actions: vec![open_meeting(view)],
        title: Message::new(NotificationKey::MeetingReminderTitle)
            .with("title", Param::Text(view.plan.title.clone())),
        body: Message::new(NotificationKey::MeetingReminderBody)
            .with("starts", Param::Time(Some(view.plan.starts_at)))
            .with("place", Param::Text(place)),
        kind: NotificationKind::MeetingReminder {
            meeting: view.id,
            title: view.plan.title.clone(),
            starts_at: view.plan.starts_at,
            minutes_before,
        },
    }
}

/// Whether `change` is the cached copy again: same version, same overdue flags.
fn same_as_cached(change: &Change, previous: Option<&RequestView>) -> bool {
    let Some(previous) = previous else {
        return false;
    };
    if change.version != previous.version || change.op != ChangeOp::Upsert {
        return false;
    }
    let flags = change
        .data
        .as_ref()
        .and_then(|data| data.get("overdue_tasks"))
        .and_then(|flags| Vec::<TaskId>::deserialize(flags).ok())
        .unwrap_or_default();
    flags == previous.overdue_tasks
}

fn request_id(change: &Change) -> Option<Uuid> {
    match change.kind {
        EntityKind::Request => change.id.parse().ok(),
        EntityKind::Template
        | EntityKind::Person
        | EntityKind::Department
        | EntityKind::Meeting
        | EntityKind::Unknown => None,
    }
}

struct Candidate {
    notification: Notification,
    /// Caused by the person's own action: noted, never shown — they know.
    own_doing: bool,
}

/// Every subject that holds for `me` in `view` right now, with its notification.
fn candidates(
    me: Uuid,
    view: &RequestView,
    template: Option<&Template>,
) -> BTreeMap<Subject, Candidate> {
    let state = &view.state;
    let summary = RequestSummary::of(view);
    let may_approve = template
        .filter(|t| t.id == view.template_id && t.version == view.template_version)
        .is_some_and(|t| t.may_approve_from_notification(&view.form, &view.computed));
    let mut out = BTreeMap::new();
    for task in state.open_tasks().filter(|t| t.assignee == me) {
        let overdue = view.overdue_tasks.contains(&task.id);
        out.insert(
            Subject::Pending { task: task.id },
            Candidate {
                notification: pending_approval(view, &summary, task, overdue, may_approve),
                own_doing: opened_by(state, task, me),
            },
        );
        if overdue {
            out.insert(
                Subject::Overdue { task: task.id },
                Candidate {
                    notification: overdue_warning(&summary, task, OverdueFor::MyTask),
                    own_doing: false,
                },
            );
        }
    }
    if view.initiator == me {
        let waiting = state
            .open_tasks()
            .filter(|t| t.assignee != me && view.overdue_tasks.contains(&t.id));
        for task in waiting {
            let whose = OverdueFor::MyRequest {
                assignee: task.assignee,
            };
            out.insert(
                Subject::RequestOverdue { task: task.id },
                Candidate {
                    notification: overdue_warning(&summary, task, whose),
                    own_doing: false,
                },
            );
        }
        if let Some(outcome) = Outcome::of(view.status)
            && let Some((by, at, comment)) = decision(state, outcome)
        {
            out.insert(
                Subject::Outcome {
                    round: state.round,
                    outcome,
                },
                Candidate {
                    notification: outcome_notice(&summary, state.round, outcome, by, at, comment),
                    own_doing: by == me,
                },
            );
        }
    }
    out
}

/// Whether the action that opened `task` was `me`'s: every event of that instant is theirs.
/// A transition stamps its events and the tasks it opens with the same time and actor.
fn opened_by(state: &RequestState, task: &Task, me: Uuid) -> bool {
    let mut actors = state
        .events
        .iter()
        .filter(|e| e.at == task.opened_at)
        .map(|e| e.actor)
        .peekable();
    actors.peek().is_some() && actors.all(|actor| actor == me)
}

/// Who decided the request's `outcome`, when, and with what comment.
fn decision(state: &RequestState, outcome: Outcome) -> Option<(Uuid, DateTime<Utc>, &str)> {
    let decisive = state.events.iter().rev().find(|e| {
        matches!(
            (outcome, &e.what),
            (
                Outcome::Approved,
                EventKind::Approved { .. } | EventKind::AutoApproved { .. }
            ) | (Outcome::Rejected, EventKind::Rejected { .. })
                | (
                    Outcome::Returned,
                    EventKind::Returned {
                        to: ReturnTarget::Initiator,
                        ..
                    }
                )
        )
    });
    // A request approved with no approval at all (every step skipped) finished on its
    // submission: the finishing event names who did it.
    decisive
        .or_else(|| {
            state
                .events
                .iter()
                .rev()
                .find(|e| matches!(e.what, EventKind::Finished { .. }))
        })
        .map(|e| (e.actor, e.at, e.comment.as_str()))
}

/// A task waiting for the person. `may_approve`: the template lets its notifications
/// carry Approve for this request; without it the person opens the request to decide.
fn pending_approval(
    view: &RequestView,
    summary: &RequestSummary,
    task: &Task,
    overdue: bool,
    may_approve: bool,
) -> Notification {
    let figures = figures(view);
    let body_key = match (task.due_at, overdue) {
        (_, true) => NotificationKey::PendingBodyOverdue,
        (Some(_), false) => NotificationKey::PendingBodyDue,
        (None, false) => NotificationKey::PendingBody,
    };
    let open = NotificationAction::Open {
        request: summary.id,
    };
    let actions = if may_approve {
        vec![
            NotificationAction::Approve {
                request: summary.id,
                task: task.id,
                version: summary.version,
            },
            NotificationAction::Reject {
                request: summary.id,
                task: task.id,
                version: summary.version,
            },
            open,
        ]
    } else {
        vec![open]
    };
    Notification {
        id: NotificationId::about(summary.id, Subject::Pending { task: task.id }),
        actions,
        title: Message::new(NotificationKey::PendingTitle)
            .with("title", Param::Text(summary.title.clone())),
        body: Message::new(body_key)
            .with("initiator", Param::Person(summary.initiator))
            .with("template", template_param(summary))
            .with(
                "figures",
                Param::Figures {
                    template_id: summary.template_id.clone(),
                    template_version: summary.template_version,
                    figures: figures.clone(),
                },
            )
            .with("due", Param::Time(task.due_at)),
        kind: NotificationKind::PendingApproval {
            request: summary.clone(),
            task: task.id,
            step_id: task.step_id.clone(),
            due_at: task.due_at,
            overdue,
            figures,
        },
    }
}

fn overdue_warning(summary: &RequestSummary, task: &Task, whose: OverdueFor) -> Notification {
    let (subject, title, body) = match whose {
        OverdueFor::MyTask => (
            Subject::Overdue { task: task.id },
            NotificationKey::OverdueTitle,
            Message::new(NotificationKey::OverdueBody),
        ),
        OverdueFor::MyRequest { assignee } => (
            Subject::RequestOverdue { task: task.id },
            NotificationKey::RequestOverdueTitle,
            Message::new(NotificationKey::RequestOverdueBody)
                .with("assignee", Param::Person(assignee)),
        ),
    };
    Notification {
        id: NotificationId::about(summary.id, subject),
        actions: vec![NotificationAction::Open {
            request: summary.id,
        }],
        title: Message::new(title).with("title", Param::Text(summary.title.clone())),
        body: body.with("due", Param::Time(task.due_at)),
        kind: NotificationKind::Overdue {
            request: summary.clone(),
            task: task.id,
            step_id: task.step_id.clone(),
            due_at: task.due_at,
            whose,
        },
    }
}

fn outcome_notice(
    summary: &RequestSummary,
    round: u32,
    outcome: Outcome,
    decided_by: Uuid,
    decided_at: DateTime<Utc>,
    comment: &str,
) -> Notification {
    let (title, body) = match outcome {
        Outcome::Approved => (
            NotificationKey::ApprovedTitle,
            NotificationKey::ApprovedBody,
        ),
        Outcome::Rejected => (
            NotificationKey::RejectedTitle,
            NotificationKey::RejectedBody,
        ),
        Outcome::Returned => (
            NotificationKey::ReturnedTitle,
            NotificationKey::ReturnedBody,
        ),
    };
    Notification {
        id: NotificationId::about(summary.id, Subject::Outcome { round, outcome }),
        actions: vec![NotificationAction::Open {
            request: summary.id,
        }],
        title: Message::new(title).with("title", Param::Text(summary.title.clone())),
        body: Message::new(body)
            .with("decider", Param::Person(decided_by))
            .with("comment", Param::Comment(comment.to_owned())),
        kind: NotificationKind::Outcome {
            request: summary.clone(),
            outcome,
            decided_by,
            decided_at,
            comment: comment.to_owned(),
        },
    }
}

/// The follow-up to an Approve or Reject pressed on a notification that could not be done —
/// the task was decided elsewhere meanwhile, the request withdrawn, the server said no.
/// `reason` is the refusal in words, as the client explains it ("Already approved by 孙慧 at
/// …"). Its id is the same for every refusal about `request`, so a second click replaces the
/// first answer rather than stacking another; it offers Open.
pub fn action_refused(request: Uuid, title: String, reason: String) -> Notification {
    Notification {
        id: NotificationId::action_refused(request),
        actions: vec![NotificationAction::Open { request }],
        title: Message::new(NotificationKey::ActionRefusedTitle)
            .with("title", Param::Text(title.clone())),
        body: Message::new(NotificationKey::ActionRefusedBody)
            .with("reason", Param::Text(reason.clone())),
        kind: NotificationKind::ActionRefused {
            request,
            title,
            reason,
        },
    }
}

/// How a decision taken from a notification or the tray ended, once the server answered:
/// took effect, or refused with `reason` in words (then it is [`action_refused`]'s
/// follow-up). It offers Open.
pub fn decision_answered(
    request: Uuid,
    action: &str,
    title: String,
    reason: Option<String>,
) -> Notification {
    if let Some(reason) = reason {
        return action_refused(request, title, reason);
    }
    let title_key = if action == "approve" {
        NotificationKey::DecisionApprovedTitle
    } else {
        NotificationKey::DecisionDoneTitle
    };
    Notification {
        id: NotificationId::decision_applied(request),
        actions: vec![NotificationAction::Open { request }],
        title: Message::new(title_key).with("title", Param::Text(title.clone())),
        body: Message::new(NotificationKey::DecisionAppliedBody),
        kind: NotificationKind::DecisionApplied {
            request,
            action: action.to_owned(),
            title,
        },
    }
}

/// Whether a notification about a task says the task is overdue.
fn is_overdue(notification: &Notification) -> bool {
    match &notification.kind {
        NotificationKind::PendingApproval { overdue, .. } => *overdue,
        NotificationKind::Overdue { .. } => true,
        _ => false,
    }
}

fn catch_up_summary(pending: usize, overdue: usize) -> Notification {
    let body = if overdue > 0 {
        Message::new(NotificationKey::CatchUpBodyOverdue).with("overdue", Param::Count(overdue))
    } else {
        Message::new(NotificationKey::CatchUpBody)
    };
    Notification {
        id: NotificationId::catch_up(),
        kind: NotificationKind::CatchUp { pending, overdue },
        actions: vec![NotificationAction::OpenInbox],
        title: Message::new(NotificationKey::CatchUpTitle).with("count", Param::Count(pending)),
        body,
    }
}

fn template_param(summary: &RequestSummary) -> Param {
    Param::Template {
        id: summary.template_id.clone(),
        version: summary.template_version,
    }
}

/// The figures worth a glance: computed values first (a claim's total, leave days), then
/// amounts and periods entered on the form.
pub(crate) fn figures(view: &RequestView) -> Vec<Figure> {
    let mut out = Vec::new();
    if let Some(computed) = view.computed.as_object() {
        for (field, json) in computed {
            if let Ok(value) = Value::deserialize(json)
                && matches!(
                    value,
                    Value::Money(_) | Value::Number(_) | Value::DateRange(_) | Value::Date(_)
                )
            {
                out.push(Figure {
                    field: field.clone(),
                    value,
                });
            }
        }
    }
    if let Some(form) = view.form.as_object() {
        for (field, json) in form {
            let value = Money::deserialize(json)
                .map(Value::Money)
                .or_else(|_| DateRange::deserialize(json).map(Value::DateRange));
            if let Ok(value) = value
                && !out.iter().any(|f| &f.field == field)
            {
                out.push(Figure {
                    field: field.clone(),
                    value,
                });
            }
        }
    }
    out.truncate(MAX_FIGURES);
    out
}

// ---------------------------------------------------------------------------------------
// Texts.

macro_rules! catalogue {
    ($( $variant:ident => $code:literal, $zh:literal, $en:literal; )*) => {
        /// A notification text's stable key; its serde form is the snake_case code. Like the
        /// domain's catalogue: add keys, never rename them.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum NotificationKey {
            $( $variant, )*
        }

        impl NotificationKey {
            pub const ALL: &'static [NotificationKey] = &[$( NotificationKey::$variant, )*];

            pub fn code(self) -> &'static str {
                match self { $( NotificationKey::$variant => $code, )* }
            }

            /// The text in `locale`; `{name}` marks a parameter.
            pub fn template(self, locale: Locale) -> &'static str {
                match (self, locale) {
                    $( (NotificationKey::$variant, Locale::ZhCn) => $zh,
                       (NotificationKey::$variant, Locale::En) => $en, )*
                }
            }
        }
    };
}

catalogue! {
    PendingTitle => "pending_title", "待您审批：{title}", "Waiting for your approval: {title}";
    PendingBody => "pending_body", "{initiator}提交的{template}{figures}", "{template} from {initiator}{figures}";
    PendingBodyDue => "pending_body_due", "{initiator}提交的{template}{figures}，请在 {due} 前处理", "{template} from {initiator}{figures}; due {due}";
    PendingBodyOverdue => "pending_body_overdue", "{initiator}提交的{template}{figures}，已超过处理时限 {due}", "{template} from {initiator}{figures}; overdue since {due}";
    OverdueTitle => "overdue_title", "审批已超时：{title}", "Overdue: {title}";
    OverdueBody => "overdue_body", "您的审批已超过处理时限 {due}", "Your approval was due {due}";
    RequestOverdueTitle => "request_overdue_title", "您的申请已超时：{title}", "Your request is overdue: {title}";
    RequestOverdueBody => "request_overdue_body", "正在等待{assignee}处理，时限为 {due}", "Waiting for {assignee}, who was due to act by {due}";
    ApprovedTitle => "approved_title", "已通过：{title}", "Approved: {title}";
    ApprovedBody => "approved_body", "{decider}同意了您的申请{comment}", "{decider} approved your request{comment}";
    RejectedTitle => "rejected_title", "已驳回：{title}", "Rejected: {title}";
    RejectedBody => "rejected_body", "{decider}驳回了您的申请{comment}", "{decider} rejected your request{comment}";
    ReturnedTitle => "returned_title", "已退回：{title}", "Returned to you: {title}";
    ReturnedBody => "returned_body", "{decider}退回了您的申请，请修改后重新提交{comment}", "{decider} sent your request back for changes{comment}";
    MeetingInviteTitle => "meeting_invite_title", "会议邀请：{title}", "Meeting invitation: {title}";
    MeetingInviteBody => "meeting_invite_body", "{organiser}邀请您参加，{starts} 开始", "From {organiser}, starts {starts}";
    MeetingChangedTitle => "meeting_changed_title", "会议已变更：{title}", "Meeting changed: {title}";
    MeetingChangedBody => "meeting_changed_body", "变更了{changed}，{starts} 开始", "Changed: {changed}; starts {starts}";
    MeetingCancelledTitle => "meeting_cancelled_title", "会议已取消：{title}", "Meeting cancelled: {title}";
    MeetingCancelledBody => "meeting_cancelled_body", "原定 {starts} 开始{reason}", "Was to start {starts}{reason}";
    MeetingReminderTitle => "meeting_reminder_title", "会议即将开始：{title}", "Starting soon: {title}";
    MeetingReminderBody => "meeting_reminder_body", "{starts} 开始，地点：{place}", "Starts {starts} at {place}";
    MeetingFieldTitle => "meeting_field_title", "主题", "title";
    MeetingFieldAgenda => "meeting_field_agenda", "议程", "agenda";
    MeetingFieldTime => "meeting_field_time", "时间", "time";
    MeetingFieldRoom => "meeting_field_room", "会议室", "room";
    MeetingFieldPlace => "meeting_field_place", "地点", "place";
    MeetingFieldOnlineLink => "meeting_field_online_link", "线上会议链接", "online link";
    MeetingFieldMaterials => "meeting_field_materials", "材料", "materials";
    MeetingFieldInvitees => "meeting_field_invitees", "参会人", "invitees";
    ActionAccept => "action_accept", "接受", "Accept";
    ActionTentative => "action_tentative", "待定", "Tentative";
    ActionDecline => "action_decline", "拒绝", "Decline";
    CatchUpTitle => "catch_up_title", "有 {count} 项待您审批", "{count} approvals are waiting for you";
    CatchUpBody => "catch_up_body", "打开待办查看", "Open your inbox to review them";
    CatchUpBodyOverdue => "catch_up_body_overdue", "其中 {overdue} 项已超时", "{overdue} of them are overdue";
    ActionRefusedTitle => "action_refused_title", "未能处理：{title}", "Could not be done: {title}";
    ActionRefusedBody => "action_refused_body", "{reason}。请打开申请查看当前状态", "{reason}. Open the request to see where it stands";
    DecisionApprovedTitle => "decision_approved_title", "您已同意：{title}", "You approved: {title}";
    DecisionDoneTitle => "decision_done_title", "您已处理：{title}", "Done: {title}";
    DecisionAppliedBody => "decision_applied_body", "服务器已收到并记录您的决定", "The server has received and recorded your decision";
    ActionApprove => "action_approve", "同意", "Approve";
    ActionReject => "action_reject", "驳回", "Reject";
    ActionOpen => "action_open", "查看", "Open";
    ActionOpenInbox => "action_open_inbox", "打开待办", "Open inbox";
    // The tray's own words (crate::tray), beside the action names it shares with notifications.
    TrayWaitingNone => "tray_waiting_none", "没有待审批", "Nothing waiting for you";
    TrayWaitingOne => "tray_waiting_one", "1 项待审批", "1 approval waiting";
    TrayWaitingMany => "tray_waiting_many", "{count} 项待审批", "{count} approvals waiting";
    TrayTooltipNone => "tray_tooltip_none", "Countersign：没有待审批", "Countersign: nothing waiting";
    TrayTooltipOne => "tray_tooltip_one", "Countersign：1 项待审批", "Countersign: 1 approval waiting";
    TrayTooltipMany => "tray_tooltip_many", "Countersign：{count} 项待审批", "Countersign: {count} approvals waiting";
    TrayInvitations => "tray_invitations", "待回复的会议邀请", "Invitations to answer";
    TraySyncNow => "tray_sync_now", "立即同步", "Sync now";
    TrayPause => "tray_pause", "暂停通知", "Pause notifications";
    TrayOpenWindow => "tray_open_window", "打开窗口", "Open window";
    TrayQuit => "tray_quit", "退出", "Quit";
}

/// Names the planner only knows by id: people and templates. The cache implements it from
/// its directory and template tables; [`Names`] is a ready-made one.
pub trait Directory {
    fn person_name(&self, person: Uuid) -> Option<String>;
    fn template(&self, id: &str, version: u32) -> Option<&Template>;
}

/// A [`Directory`] held in memory.
#[derive(Debug, Clone, Default)]
pub struct Names {
    pub people: BTreeMap<Uuid, String>,
    pub templates: Vec<Template>,
}

impl Directory for Names {
    fn person_name(&self, person: Uuid) -> Option<String> {
        self.people.get(&person).cloned()
    }

    fn template(&self, id: &str, version: u32) -> Option<&Template> {
        self.templates
            .iter()
            .find(|t| t.id == id && t.version == version)
            .or_else(|| self.templates.iter().find(|t| t.id == id))
    }
}

/// How to turn messages into text: the language, the person's UTC offset, and names.
#[derive(Clone, Copy)]
pub struct RenderContext<'a> {
    pub locale: Locale,
    pub offset: FixedOffset,
    pub directory: &'a dyn Directory,
}

/// A notification in words, ready for a notification server or a terminal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedNotification {
    pub id: NotificationId,
    pub title: String,
    pub body: String,
    /// Each action with its button label.
    pub actions: Vec<(NotificationAction, String)>,
}

impl Notification {
    pub fn render(&self, ctx: &RenderContext<'_>) -> RenderedNotification {
        RenderedNotification {
            id: self.id.clone(),
            title: self.title.render(ctx),
            body: self.body.render(ctx),
            actions: self
                .actions
                .iter()
                .map(|a| (a.clone(), a.label(ctx.locale).to_owned()))
                .collect(),
        }
    }
}

impl NotificationAction {
    pub fn label(&self, locale: Locale) -> &'static str {
        let key = match self {
            NotificationAction::Approve { .. } => NotificationKey::ActionApprove,
            NotificationAction::Reject { .. } => NotificationKey::ActionReject,
            NotificationAction::Open { .. } | NotificationAction::OpenMeeting { .. } => {
                NotificationKey::ActionOpen
            }
            NotificationAction::OpenInbox => NotificationKey::ActionOpenInbox,
            NotificationAction::Rsvp { answer, .. } => match answer {
                Rsvp::Accept => NotificationKey::ActionAccept,
                Rsvp::Tentative => NotificationKey::ActionTentative,
                Rsvp::Decline => NotificationKey::ActionDecline,
            },
        };
        key.template(locale)
    }
}

impl Message {
    /// The text with every `{name}` filled in; a parameter that is missing stays visible
    /// rather than silently dropped, as in the domain's catalogue.
    pub fn render(&self, ctx: &RenderContext<'_>) -> String {
        let template = self.key.template(ctx.locale);
        let mut out = String::with_capacity(template.len() + 32);
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let Some(close) = after.find('}') else {
                out.push_str(&rest[open..]);
                rest = "";
                break;
            };
            let name = &after[..close];
            match self.params.get(name) {
                Some(param) => out.push_str(&param.render(ctx)),
                None => {
                    out.push('{');
                    out.push_str(name);
                    out.push('}');
                }
            }
            rest = &after[close + 1..];
        }
        out.push_str(rest);
        out
    }
}

impl Param {
    fn render(&self, ctx: &RenderContext<'_>) -> String {
        let zh = ctx.locale == Locale::ZhCn;
        match self {
            Param::Text(text) => text.clone(),
            Param::Count(n) => n.to_string(),
            Param::Fields(fields) => {
                let names: Vec<&str> = fields
                    .iter()
                    .map(|f| field_name(*f).template(ctx.locale))
                    .collect();
                names.join(if zh { "、" } else { ", " })
            }
            Param::Person(id) => ctx
                .directory
                .person_name(*id)
                // An unknown person is still told apart from others.
                .unwrap_or_else(|| id.simple().to_string()[..8].to_owned()),
            Param::Template { id, version } => ctx
                .directory
                .template(id, *version)
                .map(|t| label(&t.name, ctx.locale).to_owned())
                .unwrap_or_else(|| id.clone()),
            Param::Time(Some(at)) => at
                .with_timezone(&ctx.offset)
                .format("%Y-%m-%d %H:%M")
                .to_string(),
            Param::Time(None) => "—".to_owned(),
            Param::Comment(comment) => {
                let comment = comment.trim();
                if comment.is_empty() {
                    return String::new();
                }
                let mut quoted: String = comment.chars().take(MAX_QUOTED_COMMENT).collect();
                if comment.chars().count() > MAX_QUOTED_COMMENT {
                    quoted.push('…');
                }
                if zh {
                    format!("：“{quoted}”")
                } else {
                    format!(": “{quoted}”")
                }
            }
            Param::Figures {
                template_id,
                template_version,
                figures,
            } => {
                if figures.is_empty() {
                    return String::new();
                }
                let template = ctx.directory.template(template_id, *template_version);
                let parts: Vec<String> = figures
                    .iter()
                    .map(|f| {
                        let name = template
                            .and_then(|t| field_label(t, &f.field))
                            .map(|l| label(l, ctx.locale).to_owned())
                            .unwrap_or_else(|| f.field.clone());
                        let sep = if zh { "：" } else { ": " };
                        format!("{name}{sep}{}", figure_value(&f.value))
                    })
                    .collect();
                if zh {
                    format!("（{}）", parts.join("，"))
                } else {
                    format!(" ({})", parts.join(", "))
                }
            }
        }
    }
}

fn field_name(field: MeetingField) -> NotificationKey {
    match field {
        MeetingField::Title => NotificationKey::MeetingFieldTitle,
        MeetingField::Agenda => NotificationKey::MeetingFieldAgenda,
        MeetingField::Time => NotificationKey::MeetingFieldTime,
        MeetingField::Room => NotificationKey::MeetingFieldRoom,
        MeetingField::Place => NotificationKey::MeetingFieldPlace,
        MeetingField::OnlineLink => NotificationKey::MeetingFieldOnlineLink,
        MeetingField::Materials => NotificationKey::MeetingFieldMaterials,
        MeetingField::Invitees => NotificationKey::MeetingFieldInvitees,
    }
}

fn label(label: &Label, locale: Locale) -> &str {
    match locale {
        Locale::ZhCn => &label.zh,
        Locale::En => &label.en,
    }
}

pub(crate) fn field_label<'t>(template: &'t Template, field: &str) -> Option<&'t Label> {
    let form = &template.form;
    form.fields
        .iter()
        .find(|f| f.key == field)
        .map(|f| &f.label)
        .or_else(|| {
            form.computed
                .iter()
                .find(|c| c.key == field)
                .map(|c| &c.label)
        })
}

pub(crate) fn figure_value(value: &Value<'_>) -> String {
    match value {
        Value::Money(money) => format!("{} {}", money.currency, grouped(&money.amount.to_string())),
        Value::Number(n) => n.normalize().to_string(),
        Value::Date(d) => d.to_string(),
        Value::DateRange(r) => format!("{} – {}", r.start, r.end),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

/// `1234567.50` → `1,234,567.50`: amounts are read at a glance.
fn grouped(amount: &str) -> String {
    let (sign, digits) = match amount.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", amount),
    };
    let (whole, fraction) = match digits.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (digits, None),
    };
    let mut out = String::with_capacity(amount.len() + whole.len() / 3);
    out.push_str(sign);
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if let Some(fraction) = fraction {
        out.push('.');
        out.push_str(fraction);
    }
    out
}

// ---------------------------------------------------------------------------------------
// Delivery.

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("could not write the notification: {0}")]
    Io(#[from] std::io::Error),
    /// The OS notification service refused or is not running.
    #[error("the notification service failed: {0}")]
    Service(String),
}

/// Delivers planned notifications: shows them and takes them back. Synchronous, for the CLI
/// and the tests. The desktop's notifier on Linux, `dbus_notifier::DbusNotifier` (feature
/// `dbus-notifier`), is async and does not implement it: it runs inside the app's runtime,
/// where blocking on D-Bus would stall everything else, and it also reports clicks back.
pub trait Notifier {
    fn deliver(&self, planned: &[Planned]) -> Result<(), NotifyError>;
}

/// The CLI's notifier: one line per notification on standard output.
pub struct StdoutNotifier {
    pub locale: Locale,
    pub offset: FixedOffset,
    pub names: Names,
}

impl StdoutNotifier {
    /// The line printed for `planned`: `show <id> | <title> | <body> [actions]` or
    /// `retract <id>`.
    pub fn line(&self, planned: &Planned) -> String {
        match planned {
            Planned::Show(notification) => {
                let ctx = RenderContext {
                    locale: self.locale,
                    offset: self.offset,
                    directory: &self.names,
                };
                let shown = notification.render(&ctx);
                let actions: Vec<&str> = shown.actions.iter().map(|(_, l)| l.as_str()).collect();
                format!(
                    "show {} | {} | {} [{}]",
                    shown.id,
                    shown.title,
                    shown.body,
                    actions.join(", ")
                )
            }
            Planned::Retract(id) => format!("retract {id}"),
        }
    }
}

impl Notifier for StdoutNotifier {
    fn deliver(&self, planned: &[Planned]) -> Result<(), NotifyError> {
        let mut out = std::io::stdout().lock();
        for p in planned {
            writeln!(out, "{}", self.line(p))?;
        }
        out.flush()?;
        Ok(())
    }
}

/// Records what it is asked to deliver. Public rather than test-only: the desktop's and the
/// CLI's tests live in other crates and use it too, and it costs nothing to compile.
#[derive(Debug, Default)]
pub struct RecordingNotifier {
    delivered: Mutex<Vec<Planned>>,
}

impl RecordingNotifier {
    /// Everything delivered so far, in order.
    pub fn delivered(&self) -> Vec<Planned> {
        self.delivered
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// The notifications shown so far, in order.
    pub fn shown(&self) -> Vec<Notification> {
        self.delivered()
            .into_iter()
            .filter_map(|p| match p {
                Planned::Show(n) => Some(n),
                Planned::Retract(_) => None,
            })
            .collect()
    }
}

impl Notifier for RecordingNotifier {
    fn deliver(&self, planned: &[Planned]) -> Result<(), NotifyError> {
        self.delivered
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .extend_from_slice(planned);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_both_texts_with_the_same_parameters() {
        let names = |s: &str| {
            let mut v: Vec<String> = s
                .split('{')
                .skip(1)
                .filter_map(|p| p.split('}').next().map(str::to_owned))
                .collect();
            v.sort();
            v
        };
        for key in NotificationKey::ALL {
            let (zh, en) = (key.template(Locale::ZhCn), key.template(Locale::En));
            assert!(!zh.is_empty() && !en.is_empty(), "{key:?}");
            // A parameter missing from one language would lose a value in that language.
            assert_eq!(names(zh), names(en), "{key:?}");
            assert_eq!(
                serde_json::to_string(key).unwrap(),
                format!("\"{}\"", key.code())
            );
        }
    }

    #[test]
    fn amounts_are_grouped_by_thousands() {
        assert_eq!(grouped("1234567.50"), "1,234,567.50");
        assert_eq!(grouped("999.00"), "999.00");
        assert_eq!(grouped("1000"), "1,000");
        assert_eq!(grouped("-12345.6"), "-12,345.6");
    }
}
