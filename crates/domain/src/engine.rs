//! The approval engine: a request's state and the one function that changes it.
//!
//! [`Engine::apply`] takes a [`RequestState`], an [`Action`], the acting person and the time,
//! and returns either a [`Transition`] (the new state, the tasks opened and closed, who must be
//! told, what was recorded) or a typed [`Refusal`] that says plainly why nothing happened —
//! "already decided by X at T" rather than a bare error, so a client whose offline decision
//! lost a race can explain it (requirement B1). The state is plain serde data: the server
//! stores it as JSON and calls `apply` again on the next action.
//!
//! Inside a step, approvers sit in *lanes*: a sequential step is one lane of people in order,
//! a parallel step (all / any / at least M) has one lane per approver. Adding a signer inserts
//! a seat into the actor's lane, before or after them; a transfer replaces the seat; a
//! delegation changes who acts for a seat, not the seat. Every task ever opened stays in the
//! state with its outcome, so nothing is lost or duplicated and the timeline is complete.
//!
//! Time is passed in. A `now` earlier than the last recorded time (clock skew between
//! replicas) is treated as that time, so recorded durations are never negative.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use uuid::Uuid;

use crate::calendar::WorkingCalendar;
use crate::form::{FieldError, FormSchema, validate};
use std::collections::BTreeMap;

use crate::messages::{Locale, MessageKey};
use crate::org::OrgSnapshot;
use crate::workflow::{
    ApprovalMode, InitiatorApprover, PlannedKind, PlannedStep, ResubmitFrom, ReturnTarget,
    RouteError, RouteInput, WorkflowDefinition, plan,
};

/// Longest comment accepted, in characters.
pub const MAX_COMMENT: usize = 2_000;
/// How often an initiator may urge (催办) the same request.
pub const URGE_INTERVAL: TimeDelta = TimeDelta::hours(1);

/// A task's number within its request (1, 2, 3…): small, stable and deterministic, so the
/// same actions always give the same ids on client and server.
pub type TaskId = u32;

/// Who acts. An administrator may also reassign anyone's open task (a person who left,
/// requirement S3) and comment on any request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Actor {
    pub id: Uuid,
    #[serde(default)]
    pub admin: bool,
}

impl Actor {
    pub fn person(id: Uuid) -> Self {
        Self { id, admin: false }
    }

    pub fn admin(id: Uuid) -> Self {
        Self { id, admin: true }
    }
}

/// What a person does to a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// Submit the draft with its form data.
    Submit {
        form: Json,
    },
    Approve {
        task: TaskId,
        #[serde(default)]
        comment: String,
    },
    /// Reject the request; a reason is required.
    Reject {
        task: TaskId,
        comment: String,
    },
    /// 退回: send the request back, to the initiator or the previous step; without `to`, to
    /// where the step's definition sends returns by default. A reason is required.
    Return {
        task: TaskId,
        #[serde(default)]
        to: Option<ReturnTarget>,
        comment: String,
    },
    /// Resubmit a returned request with its corrected form.
    Resubmit {
        form: Json,
        #[serde(default)]
        comment: String,
    },
    /// 转交: hand one's task to someone else.
    Transfer {
        task: TaskId,
        to: Uuid,
        #[serde(default)]
        comment: String,
    },
    /// 加签: ask someone to approve before or after oneself.
    AddSigner {
        task: TaskId,
        signer: Uuid,
        position: SignerPosition,
        #[serde(default)]
        comment: String,
    },
    /// 撤回: the initiator takes the request back while it is not finished.
    Withdraw {
        #[serde(default)]
        comment: String,
    },
    /// 催办: remind whoever holds the request.
    Urge {
        #[serde(default)]
        comment: String,
    },
    Comment {
        text: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignerPosition {
    /// The signer decides first; the task comes back to the actor after their approval.
    Before,
    /// The actor approves now; the signer decides after them.
    After,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    Draft,
    InProgress,
    /// Back with the initiator after a return; can be resubmitted or withdrawn.
    Returned,
    Approved,
    Rejected,
    Withdrawn,
}

impl RequestStatus {
    pub fn is_finished(self) -> bool {
        matches!(self, Self::Approved | Self::Rejected | Self::Withdrawn)
    }
}

/// A decision that closed a task or a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approved,
    Rejected,
    Returned,
    Withdrawn,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AutoReason {
    /// The initiator is an approver of their own request.
    Initiator,
    /// The person approved the step just before.
    Repeated,
}

/// How a task ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TaskOutcome {
    Approved,
    Rejected,
    Returned {
        to: ReturnTarget,
    },
    AutoApproved {
        reason: AutoReason,
    },
    Transferred {
        to: Uuid,
    },
    /// A signer was added before the task's holder; a new task comes back to them later.
    Deferred {
        signer: Uuid,
    },
    /// Someone else's decision made this task moot.
    Closed {
        by: Uuid,
        cause: Decision,
    },
}

/// One person's part in one step: open until decided, then kept with its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    pub id: TaskId,
    /// Index into the request's route.
    pub step: usize,
    pub step_id: String,
    /// Submission round: 1 for the first submission, +1 per resubmission.
    pub round: u32,
    pub lane: usize,
    /// Whose approval this is.
    pub seat: Uuid,
    /// Who acts: the seat, or their out-of-office delegate.
    pub assignee: Uuid,
    pub opened_at: DateTime<Utc>,
    /// When the SLA runs out; absent without an SLA or when the calendar has no data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_by: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<TaskOutcome>,
    /// Wall-clock seconds the task was open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elapsed_secs: Option<i64>,
    /// Working seconds the task was open (on the calendar); absent when the calendar could
    /// not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_secs: Option<i64>,
}

impl Task {
    pub fn is_open(&self) -> bool {
        self.outcome.is_none()
    }

    /// Overdue at `now` (open past its due time).
    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        self.is_open() && self.due_at.is_some_and(|due| now > due)
    }

    /// Closed after its due time: a node not handled as the rules require (S11).
    pub fn was_late(&self) -> bool {
        matches!((self.closed_at, self.due_at), (Some(closed), Some(due)) if closed > due)
    }
}

/// A stretch of the request's life: one visit of an approval step, or a stay with the
/// initiator after a return (`step` absent). Visits are contiguous from submission to the
/// end, so their durations add up to the request's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Visit {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_id: Option<String>,
    pub round: u32,
    pub opened_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elapsed_secs: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_secs: Option<i64>,
}

/// The approvers of the current step in one chain of seats.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lane {
    pub seats: Vec<Uuid>,
    /// How many seats, from the front, have approved.
    pub approved: usize,
    pub rejected: bool,
}

impl Lane {
    fn is_complete(&self) -> bool {
        !self.rejected && self.approved >= self.seats.len()
    }
}

/// One entry of the request's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub at: DateTime<Utc>,
    pub actor: Uuid,
    pub what: EventKind,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub comment: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventKind {
    Submitted,
    Resubmitted {
        round: u32,
    },
    Approved {
        task: TaskId,
    },
    AutoApproved {
        task: TaskId,
        reason: AutoReason,
    },
    Rejected {
        task: TaskId,
    },
    Returned {
        task: TaskId,
        to: ReturnTarget,
    },
    Transferred {
        task: TaskId,
        from: Uuid,
        to: Uuid,
    },
    SignerAdded {
        task: TaskId,
        signer: Uuid,
        position: SignerPosition,
    },
    Withdrawn,
    Urged,
    Commented,
    StepSkipped {
        step: usize,
    },
    CcSent {
        step: usize,
        recipients: Vec<Uuid>,
    },
    Finished {
        status: RequestStatus,
    },
}

/// A request's whole state, stored by the server as JSON. New fields are only ever added
/// with defaults, never renamed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestState {
    pub request: Uuid,
    pub initiator: Uuid,
    pub status: RequestStatus,
    /// +1 per transition, for optimistic concurrency in the store.
    pub revision: u64,
    pub round: u32,
    #[serde(default)]
    pub route: Vec<PlannedStep>,
    /// The approval step waiting for decisions, while in progress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<usize>,
    #[serde(default)]
    pub lanes: Vec<Lane>,
    /// The step that returned the request to the initiator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub returned_from: Option<String>,
    /// Who approved the last completed approval step (for merging repeats).
    #[serde(default)]
    pub last_approvers: Vec<Uuid>,
    #[serde(default)]
    pub tasks: Vec<Task>,
    #[serde(default)]
    pub visits: Vec<Visit>,
    #[serde(default)]
    pub events: Vec<Event>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submitted_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_urged_at: Option<DateTime<Utc>>,
}

impl RequestState {
    /// A new draft of `initiator`'s.
    pub fn draft(request: Uuid, initiator: Uuid, now: DateTime<Utc>) -> Self {
        Self {
            request,
            initiator,
            status: RequestStatus::Draft,
            revision: 0,
            round: 0,
            route: Vec::new(),
            current: None,
            lanes: Vec::new(),
            returned_from: None,
            last_approvers: Vec::new(),
            tasks: Vec::new(),
            visits: Vec::new(),
            events: Vec::new(),
            created_at: now,
            updated_at: now,
            submitted_at: None,
            finished_at: None,
            last_urged_at: None,
        }
    }

    pub fn task(&self, id: TaskId) -> Option<&Task> {
        self.tasks.iter().find(|t| t.id == id)
    }

    pub fn open_tasks(&self) -> impl Iterator<Item = &Task> {
        self.tasks.iter().filter(|t| t.is_open())
    }

    /// Open tasks of `person`, as assignee or as the seat they hold.
    pub fn open_tasks_of(&self, person: Uuid) -> impl Iterator<Item = &Task> {
        self.open_tasks()
            .filter(move |t| t.assignee == person || t.seat == person)
    }

    /// Open tasks past their due time at `now` (S9 warnings).
    pub fn overdue_tasks(&self, now: DateTime<Utc>) -> impl Iterator<Item = &Task> {
        self.open_tasks().filter(move |t| t.is_overdue(now))
    }

    /// Whether `person` took part: initiator, approver, delegate or CC recipient.
    pub fn is_participant(&self, person: Uuid) -> bool {
        person == self.initiator
            || self
                .tasks
                .iter()
                .any(|t| t.assignee == person || t.seat == person)
            || self.route.iter().any(|s| match &s.kind {
                PlannedKind::Cc { recipients } => recipients.contains(&person),
                PlannedKind::Approval { approvers, .. } => approvers.contains(&person),
                PlannedKind::Skipped => false,
            })
    }
}

/// Why somebody must be told.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NoticeReason {
    /// A task is waiting for them.
    TaskAssigned {
        task: TaskId,
    },
    /// Their open task was closed by someone else's decision or a withdrawal.
    TaskClosed {
        task: TaskId,
        cause: Decision,
    },
    /// 抄送.
    CarbonCopy {
        step: usize,
    },
    /// The initiator's request came back to them.
    Returned,
    /// The initiator's request finished.
    Finished {
        status: RequestStatus,
    },
    Urged {
        task: TaskId,
    },
    Commented,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Notice {
    pub to: Uuid,
    pub reason: NoticeReason,
}

/// Something the transition did that deserves an administrator's attention but must not
/// block the person acting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Warning {
    /// The calendar could not place a due time or count working time (a year not loaded).
    Calendar { code: String, message: String },
}

/// What one action did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    pub state: RequestState,
    /// The history entries this action added (also appended to `state.events`).
    pub events: Vec<Event>,
    pub opened: Vec<TaskId>,
    pub closed: Vec<TaskId>,
    pub notices: Vec<Notice>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Warning>,
}

/// Why an action was refused. Nothing changed.
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Refusal {
    #[error("task {task} is not yours to act on")]
    NotYourTurn { task: TaskId },
    #[error("task {task} was already decided ({decision:?}) by {by} at {at}")]
    AlreadyDecided {
        task: TaskId,
        by: Uuid,
        decision: Decision,
        at: DateTime<Utc>,
    },
    #[error("task {task} was handed to {to} at {at}")]
    TaskReassigned {
        task: TaskId,
        to: Uuid,
        at: DateTime<Utc>,
    },
    #[error("the request was withdrawn at {at}")]
    RequestWithdrawn { at: DateTime<Utc> },
    #[error("the request finished ({status:?}) at {at}")]
    RequestFinished {
        status: RequestStatus,
        at: DateTime<Utc>,
    },
    #[error("not permitted")]
    NotPermitted,
    #[error("the request has not been submitted")]
    NotSubmitted,
    #[error("the request was already submitted")]
    AlreadySubmitted,
    #[error("only a returned request can be resubmitted")]
    NotReturned,
    #[error("no task {task} on this request")]
    UnknownTask { task: TaskId },
    #[error("the form has {} errors", errors.len())]
    InvalidForm { errors: Vec<FieldError> },
    #[error("routing failed: {error}")]
    Routing { error: RouteError },
    #[error("there is no previous step to return to")]
    NoPreviousStep,
    #[error("this step cannot return the request to {target:?}")]
    ReturnNotAllowed { target: ReturnTarget },
    #[error("urged recently; next possible at {next_allowed_at}")]
    UrgedRecently { next_allowed_at: DateTime<Utc> },
    #[error("{person} cannot be added as a signer")]
    InvalidSigner { person: Uuid },
    #[error("the task cannot be transferred to {person}")]
    InvalidTransfer { person: Uuid },
    #[error("a comment is required")]
    CommentRequired,
    #[error("a comment may have at most {max} characters")]
    CommentTooLong { max: usize },
}

impl Refusal {
    /// The catalogue key that explains this refusal to the person who acted.
    pub fn message_key(&self) -> MessageKey {
        match self {
            Self::NotYourTurn { .. } => MessageKey::NotYourTurn,
            Self::AlreadyDecided { .. } | Self::TaskReassigned { .. } => MessageKey::AlreadyDecided,
            Self::RequestWithdrawn { .. } => MessageKey::RequestWithdrawn,
            Self::RequestFinished { .. } => MessageKey::RequestFinished,
            Self::NotPermitted => MessageKey::NotPermitted,
            Self::NotSubmitted => MessageKey::NotSubmitted,
            Self::AlreadySubmitted => MessageKey::AlreadySubmitted,
            Self::NotReturned => MessageKey::NotReturned,
            Self::UnknownTask { .. } => MessageKey::UnknownTask,
            Self::InvalidForm { .. } => MessageKey::InvalidForm,
            Self::Routing {
                error: RouteError::Definition(_),
            } => MessageKey::DefinitionInvalid,
            Self::Routing { .. } => MessageKey::NoApprover,
            Self::NoPreviousStep => MessageKey::NoPreviousStep,
            Self::ReturnNotAllowed { .. } => MessageKey::ReturnNotAllowed,
            Self::UrgedRecently { .. } => MessageKey::UrgedRecently,
            Self::InvalidSigner { .. } => MessageKey::InvalidSigner,
            Self::InvalidTransfer { .. } => MessageKey::InvalidTransfer,
            Self::CommentRequired => MessageKey::CommentEmpty,
            Self::CommentTooLong { .. } => MessageKey::CommentTooLong,
        }
    }

    /// The parameters the message of [`Self::message_key`] names.
    pub fn message_params(&self) -> BTreeMap<String, String> {
        let mut params = BTreeMap::new();
        match self {
            Self::Routing {
                error: RouteError::NoApprover { step } | RouteError::QuorumUnreachable { step, .. },
            } => {
                params.insert("step".to_owned(), step.clone());
            }
            Self::Routing {
                error: RouteError::Definition(error),
            } => {
                params.insert("detail".to_owned(), error.to_string());
            }
            Self::CommentTooLong { max } => {
                params.insert("max".to_owned(), max.to_string());
            }
            _ => {}
        }
        params
    }

    /// The refusal explained in `locale`, for a client that shows it as it is.
    pub fn message(&self, locale: Locale) -> String {
        self.message_key().render(locale, &self.message_params())
    }

    /// The stable snake_case code (the serde tag).
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotYourTurn { .. } => "not_your_turn",
            Self::AlreadyDecided { .. } => "already_decided",
            Self::TaskReassigned { .. } => "task_reassigned",
            Self::RequestWithdrawn { .. } => "request_withdrawn",
            Self::RequestFinished { .. } => "request_finished",
            Self::NotPermitted => "not_permitted",
            Self::NotSubmitted => "not_submitted",
            Self::AlreadySubmitted => "already_submitted",
            Self::NotReturned => "not_returned",
            Self::UnknownTask { .. } => "unknown_task",
            Self::InvalidForm { .. } => "invalid_form",
            Self::Routing { .. } => "routing",
            Self::NoPreviousStep => "no_previous_step",
            Self::ReturnNotAllowed { .. } => "return_not_allowed",
            Self::UrgedRecently { .. } => "urged_recently",
            Self::InvalidSigner { .. } => "invalid_signer",
            Self::InvalidTransfer { .. } => "invalid_transfer",
            Self::CommentRequired => "comment_required",
            Self::CommentTooLong { .. } => "comment_too_long",
        }
    }
}

/// Everything a transition reads besides the state: the template's form and workflow (the
/// version the request started with), the organisation and the calendar.
#[derive(Debug, Clone, Copy)]
pub struct Engine<'a> {
    pub schema: &'a FormSchema,
    pub definition: &'a WorkflowDefinition,
    pub org: &'a OrgSnapshot,
    pub calendar: &'a WorkingCalendar,
}

enum Verdict {
    Pending,
    Approved,
    Rejected,
}

impl<'a> Engine<'a> {
    /// Applies `action` by `actor` at `now` to `state`.
    pub fn apply(
        &self,
        state: &RequestState,
        action: &Action,
        actor: Actor,
        now: DateTime<Utc>,
    ) -> Result<Transition, Refusal> {
        let now = now.max(state.updated_at);
        let mut tx = Tx {
            engine: self,
            state: state.clone(),
            actor,
            now,
            events: Vec::new(),
            opened: Vec::new(),
            closed: Vec::new(),
            notices: Vec::new(),
            warnings: Vec::new(),
        };
        match action {
            Action::Submit { form } => tx.submit(form, None)?,
            Action::Resubmit { form, comment } => tx.submit(form, Some(comment))?,
            Action::Approve { task, comment } => tx.approve(*task, comment)?,
            Action::Reject { task, comment } => tx.reject(*task, comment)?,
            Action::Return { task, to, comment } => tx.return_to(*task, *to, comment)?,
            Action::Transfer { task, to, comment } => tx.transfer(*task, *to, comment)?,
            Action::AddSigner {
                task,
                signer,
                position,
                comment,
            } => tx.add_signer(*task, *signer, *position, comment)?,
            Action::Withdraw { comment } => tx.withdraw(comment)?,
            Action::Urge { comment } => tx.urge(comment)?,
            Action::Comment { text } => tx.comment(text)?,
        }
        Ok(tx.finish())
    }

    /// The route a draft would take if submitted now, for the client to show while drafting.
    pub fn preview_route(&self, form: &Json, initiator: Uuid) -> Result<Vec<PlannedStep>, Refusal> {
        let form = validate(self.schema, form, self.calendar)
            .map_err(|errors| Refusal::InvalidForm { errors })?;
        plan(
            self.definition,
            &RouteInput {
                form: &form,
                initiator,
                org: self.org,
            },
        )
        .map_err(|error| Refusal::Routing { error })
    }
}

struct Tx<'e, 'a> {
    engine: &'e Engine<'a>,
    state: RequestState,
    actor: Actor,
    now: DateTime<Utc>,
    events: Vec<Event>,
    opened: Vec<TaskId>,
    closed: Vec<TaskId>,
    notices: Vec<Notice>,
    warnings: Vec<Warning>,
}

fn check_comment(comment: &str, required: bool) -> Result<(), Refusal> {
    if required && comment.trim().is_empty() {
        return Err(Refusal::CommentRequired);
    }
    if comment.chars().count() > MAX_COMMENT {
        return Err(Refusal::CommentTooLong { max: MAX_COMMENT });
    }
    Ok(())
}

impl Tx<'_, '_> {
    fn finish(mut self) -> Transition {
        self.state.revision += 1;
        self.state.updated_at = self.now;
        self.state.events.extend(self.events.iter().cloned());
        // One notice per person and reason, and never to the person who acted: they know.
        let actor = self.actor.id;
        let mut notices: Vec<Notice> = Vec::with_capacity(self.notices.len());
        for notice in self.notices {
            if notice.to != actor && !notices.contains(&notice) {
                notices.push(notice);
            }
        }
        Transition {
            state: self.state,
            events: self.events,
            opened: self.opened,
            closed: self.closed,
            notices,
            warnings: self.warnings,
        }
    }

    fn record(&mut self, what: EventKind, comment: &str) {
        self.events.push(Event {
            at: self.now,
            actor: self.actor.id,
            what,
            comment: comment.trim().to_owned(),
        });
    }

    fn notify(&mut self, to: Uuid, reason: NoticeReason) {
        self.notices.push(Notice { to, reason });
    }

    fn calendar_warning(&mut self, error: &crate::calendar::CalendarError) {
        let warning = Warning::Calendar {
            code: error.code().to_owned(),
            message: error.to_string(),
        };
        if !self.warnings.contains(&warning) {
            self.warnings.push(warning);
        }
    }

    /// Wall and working seconds from `from` to now.
    fn durations(&mut self, from: DateTime<Utc>) -> (i64, Option<i64>) {
        let elapsed = (self.now - from).num_seconds().max(0);
        match self
            .engine
            .calendar
            .working_time_between(from.min(self.now), self.now)
        {
            Ok(working) => (elapsed, Some(working.num_seconds())),
            Err(error) => {
                self.calendar_warning(&error);
                (elapsed, None)
            }
        }
    }

    /// Refuses any action on a request that is not running.
    fn ensure_running(&self) -> Result<(), Refusal> {
        let at = self.state.finished_at.unwrap_or(self.state.updated_at);
        match self.state.status {
            RequestStatus::Draft => Err(Refusal::NotSubmitted),
            RequestStatus::Withdrawn => Err(Refusal::RequestWithdrawn { at }),
            status @ (RequestStatus::Approved | RequestStatus::Rejected) => {
                Err(Refusal::RequestFinished { status, at })
            }
            RequestStatus::InProgress | RequestStatus::Returned => Ok(()),
        }
    }

    /// The index of the open task `id` that the actor may decide, or why not.
    fn decidable_task(&self, id: TaskId) -> Result<usize, Refusal> {
        self.ensure_running()?;
        let index = self
            .state
            .tasks
            .iter()
            .position(|t| t.id == id)
            .ok_or(Refusal::UnknownTask { task: id })?;
        let task = &self.state.tasks[index];
        let mine = task.assignee == self.actor.id || task.seat == self.actor.id;
        if !mine {
            return Err(Refusal::NotYourTurn { task: id });
        }
        match task.outcome {
            None => Ok(index),
            Some(_) => Err(self.explain_closed(task)),
        }
    }

    /// Why a closed task can no longer be acted on: who decided what, and when.
    fn explain_closed(&self, task: &Task) -> Refusal {
        let at = task.closed_at.unwrap_or(self.state.updated_at);
        let by = task.closed_by.unwrap_or(task.assignee);
        let id = task.id;
        let decided = |by, decision| Refusal::AlreadyDecided {
            task: id,
            by,
            decision,
            at,
        };
        match task.outcome {
            None => Refusal::NotYourTurn { task: id },
            Some(TaskOutcome::Approved | TaskOutcome::AutoApproved { .. }) => {
                decided(by, Decision::Approved)
            }
            Some(TaskOutcome::Rejected) => decided(by, Decision::Rejected),
            Some(TaskOutcome::Returned { .. }) => decided(by, Decision::Returned),
            Some(TaskOutcome::Closed { by, cause }) => decided(by, cause),
            Some(TaskOutcome::Transferred { to }) => Refusal::TaskReassigned { task: id, to, at },
            Some(TaskOutcome::Deferred { signer }) => Refusal::TaskReassigned {
                task: id,
                to: signer,
                at,
            },
        }
    }

    fn step(&self, index: usize) -> Option<&PlannedStep> {
        self.state.route.get(index)
    }

    fn open_task(&mut self, step: usize, lane: usize, seat: Uuid) -> TaskId {
        let id = self.state.tasks.len() as TaskId + 1;
        let org = self.engine.org;
        // A delegate acts for the seat during their window, but never the initiator: no one
        // approves their own request by the back door.
        let assignee = org
            .delegate_for(seat, self.now)
            .filter(|d| *d != self.state.initiator)
            .unwrap_or(seat);
        let (step_id, sla) = match self.step(step) {
            Some(PlannedStep {
                step_id,
                kind: PlannedKind::Approval { sla_hours, .. },
                ..
            }) => (step_id.clone(), *sla_hours),
            Some(planned) => (planned.step_id.clone(), None),
            None => (String::new(), None),
        };
        let due_at =
            sla.and_then(
                |hours| match self.engine.calendar.add_working_hours(self.now, hours) {
                    Ok(due) => Some(due),
                    Err(error) => {
                        self.calendar_warning(&error);
                        None
                    }
                },
            );
        self.state.tasks.push(Task {
            id,
            step,
            step_id,
            round: self.state.round,
            lane,
            seat,
            assignee,
            opened_at: self.now,
            due_at,
            closed_at: None,
            closed_by: None,
            outcome: None,
            elapsed_secs: None,
            working_secs: None,
        });
        self.opened.push(id);
        self.notify(assignee, NoticeReason::TaskAssigned { task: id });
        id
    }

    fn close_task(&mut self, index: usize, outcome: TaskOutcome, by: Uuid) {
        let opened_at = self.state.tasks[index].opened_at;
        let (elapsed, working) = self.durations(opened_at);
        let task = &mut self.state.tasks[index];
        task.outcome = Some(outcome);
        task.closed_at = Some(self.now);
        task.closed_by = Some(by);
        task.elapsed_secs = Some(elapsed);
        task.working_secs = working;
        let id = task.id;
        self.opened.retain(|t| *t != id);
        if !self.closed.contains(&id) {
            self.closed.push(id);
        }
    }

    /// Closes every open task because of someone else's decision, and tells their holders.
    fn close_open_tasks(&mut self, cause: Decision) {
        let by = self.actor.id;
        let open: Vec<usize> = (0..self.state.tasks.len())
            .filter(|i| self.state.tasks[*i].is_open())
            .collect();
        for index in open {
            let (task, assignee) = (self.state.tasks[index].id, self.state.tasks[index].assignee);
            let opened_now = self.opened.contains(&task);
            self.close_task(index, TaskOutcome::Closed { by, cause }, by);
            // A task opened and closed in the same action was never seen: no notice.
            if opened_now {
                self.notices
                    .retain(|n| n.reason != NoticeReason::TaskAssigned { task });
            } else {
                self.notify(assignee, NoticeReason::TaskClosed { task, cause });
            }
        }
    }

    fn open_visit(&mut self, step: Option<usize>) {
        let step_id = step.and_then(|s| self.step(s)).map(|s| s.step_id.clone());
        self.state.visits.push(Visit {
            step,
            step_id,
            round: self.state.round,
            opened_at: self.now,
            closed_at: None,
            elapsed_secs: None,
            working_secs: None,
        });
    }

    fn close_visit(&mut self) {
        let Some(opened_at) = self
            .state
            .visits
            .last()
            .filter(|v| v.closed_at.is_none())
            .map(|v| v.opened_at)
        else {
            return;
        };
        let (elapsed, working) = self.durations(opened_at);
        if let Some(visit) = self.state.visits.last_mut() {
            visit.closed_at = Some(self.now);
            visit.elapsed_secs = Some(elapsed);
            visit.working_secs = working;
        }
    }

    fn end(&mut self, status: RequestStatus) {
        self.close_visit();
        self.state.status = status;
        self.state.finished_at = Some(self.now);
        self.state.current = None;
        self.state.lanes.clear();
        self.record(EventKind::Finished { status }, "");
        if status != RequestStatus::Withdrawn {
            self.notify(self.state.initiator, NoticeReason::Finished { status });
        }
    }

    fn submit(&mut self, form: &Json, resubmit_comment: Option<&String>) -> Result<(), Refusal> {
        // A finished request is finished for everyone; say that before who may submit.
        if self.state.status.is_finished() {
            self.ensure_running()?;
        }
        if self.actor.id != self.state.initiator {
            return Err(Refusal::NotPermitted);
        }
        match (self.state.status, resubmit_comment.is_some()) {
            (RequestStatus::Draft, false) | (RequestStatus::Returned, true) => {}
            (RequestStatus::Draft, true) => return Err(Refusal::NotSubmitted),
            (RequestStatus::InProgress | RequestStatus::Returned, false) => {
                return Err(Refusal::AlreadySubmitted);
            }
            (RequestStatus::InProgress, true) => return Err(Refusal::NotReturned),
            _ => self.ensure_running()?,
        }
        if let Some(comment) = resubmit_comment {
            check_comment(comment, false)?;
        }
        let form = validate(self.engine.schema, form, self.engine.calendar)
            .map_err(|errors| Refusal::InvalidForm { errors })?;
        let route = plan(
            self.engine.definition,
            &RouteInput {
                form: &form,
                initiator: self.state.initiator,
                org: self.engine.org,
            },
        )
        .map_err(|error| Refusal::Routing { error })?;
        let mut start = 0;
        if let Some(comment) = resubmit_comment {
            self.close_visit();
            if self.engine.definition.resubmit_from == ResubmitFrom::ReturningStep
                && let Some(returned) = &self.state.returned_from
            {
                start = route
                    .iter()
                    .position(|s| &s.step_id == returned)
                    .unwrap_or(0);
            }
            self.state.round += 1;
            let round = self.state.round;
            self.record(EventKind::Resubmitted { round }, comment);
        } else {
            self.state.round = 1;
            self.state.submitted_at = Some(self.now);
            self.record(EventKind::Submitted, "");
        }
        self.state.route = route;
        self.state.status = RequestStatus::InProgress;
        self.state.returned_from = None;
        self.state.last_approvers.clear();
        self.enter(start);
        Ok(())
    }

    /// Moves through the route from `index`: CC and skipped steps pass at once, an approval
    /// step opens its tasks and waits unless every seat is approved automatically.
    fn enter(&mut self, mut index: usize) {
        loop {
            let Some(step) = self.step(index).cloned() else {
                self.state.current = None;
                self.state.lanes.clear();
                self.end(RequestStatus::Approved);
                return;
            };
            match step.kind {
                PlannedKind::Skipped => {
                    self.record(EventKind::StepSkipped { step: index }, "");
                    index += 1;
                }
                PlannedKind::Cc { recipients } => {
                    for person in &recipients {
                        self.notify(*person, NoticeReason::CarbonCopy { step: index });
                    }
                    self.record(
                        EventKind::CcSent {
                            step: index,
                            recipients,
                        },
                        "",
                    );
                    index += 1;
                }
                PlannedKind::Approval {
                    approvers, mode, ..
                } => {
                    self.state.current = Some(index);
                    self.state.lanes = match mode {
                        ApprovalMode::Sequential => vec![Lane {
                            seats: approvers,
                            approved: 0,
                            rejected: false,
                        }],
                        _ => approvers
                            .into_iter()
                            .map(|a| Lane {
                                seats: vec![a],
                                approved: 0,
                                rejected: false,
                            })
                            .collect(),
                    };
                    self.open_visit(Some(index));
                    for lane in 0..self.state.lanes.len() {
                        self.advance_lane(index, lane);
                        if !matches!(self.verdict(), Verdict::Pending) {
                            break;
                        }
                    }
                    match self.verdict() {
                        Verdict::Pending => return,
                        // Seats are only approved automatically here, so the step can only
                        // have been approved.
                        Verdict::Approved | Verdict::Rejected => {
                            self.complete_step();
                            index += 1;
                        }
                    }
                }
            }
        }
    }

    /// Opens the next seat of a lane, approving automatically the seats the rules spare.
    fn advance_lane(&mut self, step: usize, lane: usize) {
        let initiator_rule = match self.step(step).map(|s| &s.kind) {
            Some(PlannedKind::Approval {
                initiator_approver, ..
            }) => *initiator_approver,
            _ => InitiatorApprover::Decides,
        };
        let merge = self.engine.definition.merge_repeated_approvers;
        loop {
            let Some(l) = self.state.lanes.get(lane) else {
                return;
            };
            if l.rejected || l.approved >= l.seats.len() {
                return;
            }
            let seat = l.seats[l.approved];
            let reason = if seat == self.state.initiator
                && initiator_rule == InitiatorApprover::AutoApprove
            {
                Some(AutoReason::Initiator)
            } else if merge && self.state.last_approvers.contains(&seat) {
                Some(AutoReason::Repeated)
            } else {
                None
            };
            let Some(reason) = reason else {
                self.open_task(step, lane, seat);
                return;
            };
            let task = self.open_task(step, lane, seat);
            let index = self.state.tasks.len() - 1;
            // The automatic approval is the seat's, whoever would have acted for it.
            self.state.tasks[index].assignee = seat;
            self.notices
                .retain(|n| n.reason != NoticeReason::TaskAssigned { task });
            self.close_task(index, TaskOutcome::AutoApproved { reason }, seat);
            self.record(EventKind::AutoApproved { task, reason }, "");
            if let Some(l) = self.state.lanes.get_mut(lane) {
                l.approved += 1;
            }
        }
    }

    fn verdict(&self) -> Verdict {
        let mode = match self
            .state
            .current
            .and_then(|c| self.step(c))
            .map(|s| &s.kind)
        {
            Some(PlannedKind::Approval { mode, .. }) => *mode,
            _ => return Verdict::Pending,
        };
        let lanes = &self.state.lanes;
        let total = lanes.len();
        let complete = lanes.iter().filter(|l| l.is_complete()).count();
        let rejected = lanes.iter().filter(|l| l.rejected).count();
        match mode {
            ApprovalMode::Sequential | ApprovalMode::All => {
                if rejected > 0 {
                    Verdict::Rejected
                } else if complete == total {
                    Verdict::Approved
                } else {
                    Verdict::Pending
                }
            }
            ApprovalMode::Any => {
                if rejected > 0 {
                    Verdict::Rejected
                } else if complete >= 1 {
                    Verdict::Approved
                } else {
                    Verdict::Pending
                }
            }
            ApprovalMode::AtLeast(needed) => {
                let needed = needed as usize;
                if complete >= needed {
                    Verdict::Approved
                } else if total - rejected < needed {
                    Verdict::Rejected
                } else {
                    Verdict::Pending
                }
            }
        }
    }

    /// The current step is approved: close what is still open in it and remember who
    /// approved, for merging a repeat in the next step.
    fn complete_step(&mut self) {
        if self.state.current.is_none() {
            return;
        }
        self.close_open_tasks(Decision::Approved);
        self.close_visit();
        // The lanes of this visit say exactly who approved it, whatever signers were added
        // or tasks transferred on the way.
        self.state.last_approvers = self
            .state
            .lanes
            .iter()
            .flat_map(|l| l.seats.iter().take(l.approved).copied())
            .collect();
    }

    fn after_decision(&mut self, step: usize) {
        match self.verdict() {
            Verdict::Pending => {}
            Verdict::Approved => {
                self.complete_step();
                self.enter(step + 1);
            }
            Verdict::Rejected => {
                self.close_open_tasks(Decision::Rejected);
                self.end(RequestStatus::Rejected);
            }
        }
    }

    fn approve(&mut self, id: TaskId, comment: &str) -> Result<(), Refusal> {
        let index = self.decidable_task(id)?;
        check_comment(comment, false)?;
        let (step, lane) = (self.state.tasks[index].step, self.state.tasks[index].lane);
        self.close_task(index, TaskOutcome::Approved, self.actor.id);
        self.record(EventKind::Approved { task: id }, comment);
        if let Some(l) = self.state.lanes.get_mut(lane) {
            l.approved += 1;
        }
        self.advance_lane(step, lane);
        self.after_decision(step);
        Ok(())
    }

    fn reject(&mut self, id: TaskId, comment: &str) -> Result<(), Refusal> {
        let index = self.decidable_task(id)?;
        check_comment(comment, true)?;
        let (step, lane) = (self.state.tasks[index].step, self.state.tasks[index].lane);
        self.close_task(index, TaskOutcome::Rejected, self.actor.id);
        self.record(EventKind::Rejected { task: id }, comment);
        if let Some(l) = self.state.lanes.get_mut(lane) {
            l.rejected = true;
        }
        self.after_decision(step);
        Ok(())
    }

    /// The most recent earlier approval step that a person approved by hand (in any round:
    /// a request resumed at its returning step keeps its earlier approvals).
    fn previous_step(&self, current: usize) -> Option<usize> {
        (0..current).rev().find(|step| {
            let id = self.state.route.get(*step).map(|s| s.step_id.as_str());
            self.state
                .tasks
                .iter()
                .any(|t| Some(t.step_id.as_str()) == id && t.outcome == Some(TaskOutcome::Approved))
        })
    }

    fn return_to(
        &mut self,
        id: TaskId,
        to: Option<ReturnTarget>,
        comment: &str,
    ) -> Result<(), Refusal> {
        let index = self.decidable_task(id)?;
        check_comment(comment, true)?;
        let step = self.state.tasks[index].step;
        let targets = match self.step(step).map(|s| &s.kind) {
            Some(PlannedKind::Approval { return_targets, .. }) => return_targets.clone(),
            _ => Vec::new(),
        };
        let target = match to.or_else(|| targets.first().copied()) {
            Some(target) if targets.contains(&target) => target,
            Some(target) => return Err(Refusal::ReturnNotAllowed { target }),
            None => {
                return Err(Refusal::ReturnNotAllowed {
                    target: ReturnTarget::Initiator,
                });
            }
        };
        let previous = match target {
            ReturnTarget::PreviousStep => {
                Some(self.previous_step(step).ok_or(Refusal::NoPreviousStep)?)
            }
            ReturnTarget::Initiator => None,
        };
        self.close_task(index, TaskOutcome::Returned { to: target }, self.actor.id);
        self.record(
            EventKind::Returned {
                task: id,
                to: target,
            },
            comment,
        );
        self.close_open_tasks(Decision::Returned);
        self.close_visit();
        self.state.last_approvers.clear();
        match previous {
            Some(previous) => self.enter(previous),
            None => {
                self.state.status = RequestStatus::Returned;
                self.state.returned_from = self.step(step).map(|s| s.step_id.clone());
                self.state.current = None;
                self.state.lanes.clear();
                self.open_visit(None);
                self.notify(self.state.initiator, NoticeReason::Returned);
            }
        }
        Ok(())
    }

    /// Whether `person` already holds a seat in the current step (pending or approved).
    fn seated(&self, person: Uuid) -> bool {
        self.state.lanes.iter().any(|l| l.seats.contains(&person))
            || self.state.open_tasks().any(|t| t.assignee == person)
    }

    fn transfer(&mut self, id: TaskId, to: Uuid, comment: &str) -> Result<(), Refusal> {
        let index = if self.actor.admin {
            self.ensure_running()?;
            let index = self
                .state
                .tasks
                .iter()
                .position(|t| t.id == id)
                .ok_or(Refusal::UnknownTask { task: id })?;
            if !self.state.tasks[index].is_open() {
                return Err(self.explain_closed(&self.state.tasks[index]));
            }
            index
        } else {
            self.decidable_task(id)?
        };
        check_comment(comment, false)?;
        if !self.engine.org.is_active(to) || to == self.state.initiator || self.seated(to) {
            return Err(Refusal::InvalidTransfer { person: to });
        }
        let (step, lane, from) = {
            let t = &self.state.tasks[index];
            (t.step, t.lane, t.seat)
        };
        self.close_task(index, TaskOutcome::Transferred { to }, self.actor.id);
        self.record(EventKind::Transferred { task: id, from, to }, comment);
        if let Some(l) = self.state.lanes.get_mut(lane)
            && let Some(seat) = l.seats.get_mut(l.approved)
        {
            *seat = to;
        }
        self.open_task(step, lane, to);
        Ok(())
    }

    fn add_signer(
        &mut self,
        id: TaskId,
        signer: Uuid,
        position: SignerPosition,
        comment: &str,
    ) -> Result<(), Refusal> {
        let index = self.decidable_task(id)?;
        check_comment(comment, false)?;
        if !self.engine.org.is_active(signer)
            || signer == self.state.initiator
            || signer == self.actor.id
            || self.seated(signer)
        {
            return Err(Refusal::InvalidSigner { person: signer });
        }
        let (step, lane) = (self.state.tasks[index].step, self.state.tasks[index].lane);
        self.record(
            EventKind::SignerAdded {
                task: id,
                signer,
                position,
            },
            comment,
        );
        let Some(l) = self.state.lanes.get_mut(lane) else {
            return Err(Refusal::NotYourTurn { task: id });
        };
        match position {
            SignerPosition::Before => {
                let at = l.approved.min(l.seats.len());
                l.seats.insert(at, signer);
                self.close_task(index, TaskOutcome::Deferred { signer }, self.actor.id);
            }
            SignerPosition::After => {
                let at = (l.approved + 1).min(l.seats.len());
                l.seats.insert(at, signer);
                l.approved += 1;
                self.close_task(index, TaskOutcome::Approved, self.actor.id);
            }
        }
        self.open_task(step, lane, signer);
        Ok(())
    }

    fn withdraw(&mut self, comment: &str) -> Result<(), Refusal> {
        self.ensure_running()?;
        if self.actor.id != self.state.initiator {
            return Err(Refusal::NotPermitted);
        }
        check_comment(comment, false)?;
        self.record(EventKind::Withdrawn, comment);
        self.close_open_tasks(Decision::Withdrawn);
        self.end(RequestStatus::Withdrawn);
        Ok(())
    }

    fn urge(&mut self, comment: &str) -> Result<(), Refusal> {
        self.ensure_running()?;
        if self.actor.id != self.state.initiator && !self.actor.admin {
            return Err(Refusal::NotPermitted);
        }
        if self.state.status != RequestStatus::InProgress {
            // A returned request waits for its initiator; there is nobody to urge.
            return Err(Refusal::NotPermitted);
        }
        check_comment(comment, false)?;
        if let Some(last) = self.state.last_urged_at
            && self.now < last + URGE_INTERVAL
        {
            return Err(Refusal::UrgedRecently {
                next_allowed_at: last + URGE_INTERVAL,
            });
        }
        self.state.last_urged_at = Some(self.now);
        let open: Vec<(TaskId, Uuid)> = self
            .state
            .open_tasks()
            .map(|t| (t.id, t.assignee))
            .collect();
        for (task, assignee) in open {
            self.notify(assignee, NoticeReason::Urged { task });
        }
        self.record(EventKind::Urged, comment);
        Ok(())
    }

    fn comment(&mut self, text: &str) -> Result<(), Refusal> {
        if self.state.status == RequestStatus::Draft {
            return Err(Refusal::NotSubmitted);
        }
        if !self.actor.admin && !self.state.is_participant(self.actor.id) {
            return Err(Refusal::NotPermitted);
        }
        check_comment(text, true)?;
        let mut audience: Vec<Uuid> = vec![self.state.initiator];
        audience.extend(self.state.open_tasks().map(|t| t.assignee));
        for person in audience {
            self.notify(person, NoticeReason::Commented);
        }
        self.record(EventKind::Commented, text);
        Ok(())
    }
}
