//! What the desktop's screens show, shaped for them: a page of the inbox or of the person's
//! requests (never the whole list: a virtualised list asks for the rows it shows, so 100k
//! cached items stay instant), a request with its timeline in names rather than ids, and the
//! templates with their typed form schemas. Everything is answered by the cache; nothing here
//! waits for the network.

use chrono::{DateTime, Duration, Utc};
use countersign_api::requests::RequestView;
use countersign_domain::engine::{EventKind, Task, TaskOutcome};
use countersign_domain::form::{FormSchema, Label};
use countersign_domain::workflow::PlannedKind;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Client;
use crate::cache::{Cache, DirectoryRow, InboxRow, ListFilter};
use crate::error::Result;
use crate::notify;
use crate::work::{Act, OutboxItem, status_name};

/// The most rows one page may ask for: a screenful or two of a virtualised list.
const MAX_PAGE: u32 = 500;
/// A task due within this is "due soon".
const DUE_SOON: Duration = Duration::hours(24);
/// The most entries a directory search answers: a picker shows a handful, and typing more
/// narrows it.
const MAX_DIRECTORY: u32 = 20;

/// Which part of the inbox to show.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct InboxQuery {
    #[serde(default)]
    pub search: Option<String>,
    #[serde(default)]
    pub template_id: Option<String>,
    #[serde(default)]
    pub sla: Option<SlaFilter>,
    /// Newest first (the tray's five newest) instead of oldest first (the inbox: what has
    /// waited longest comes first).
    #[serde(default)]
    pub newest_first: bool,
    #[serde(default)]
    pub offset: u32,
    pub limit: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum SlaFilter {
    /// Due within a day and not yet overdue.
    DueSoon,
    Overdue,
}

/// Where a task stands against its service level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Sla {
    /// The step has no time limit.
    None,
    OnTime,
    DueSoon,
    Overdue,
}

impl Sla {
    fn of(due_at: Option<DateTime<Utc>>, flagged: bool, now: DateTime<Utc>) -> Self {
        match due_at {
            _ if flagged => Sla::Overdue,
            None => Sla::None,
            Some(due) if due < now => Sla::Overdue,
            Some(due) if due < now + DUE_SOON => Sla::DueSoon,
            Some(_) => Sla::OnTime,
        }
    }
}

/// A request's key figure (a total, leave days, a period), ready to show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FigureView {
    pub field: String,
    /// The field's label, when the template is known.
    pub label: Option<Label>,
    /// `CNY 4,800.00`, `3.5`, `2026-12-01 – 2026-12-03`.
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PersonRef {
    pub id: Uuid,
    /// The display name, or the id when the directory does not know them.
    pub name: String,
}

/// One line of the inbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct InboxEntry {
    pub request_id: Uuid,
    pub task: u32,
    pub title: String,
    pub template_id: String,
    pub template_name: Option<Label>,
    pub initiator: PersonRef,
    pub figures: Vec<FigureView>,
    pub opened_at: DateTime<Utc>,
    pub due_at: Option<DateTime<Utc>>,
    pub sla: Sla,
    /// The request's version a decision is made against.
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub version: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TemplateCount {
    pub template_id: String,
    pub name: Option<Label>,
    pub count: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct InboxPage {
    pub items: Vec<InboxEntry>,
    /// How many match the query in all (the list's length).
    pub total: u32,
    pub offset: u32,
    /// Every template with tasks waiting, for the filter.
    pub templates: Vec<TemplateCount>,
}

/// Which of the person's requests to show.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct MyRequestsQuery {
    #[serde(default)]
    pub search: Option<String>,
    /// `in_progress`, `returned`, `approved`, `rejected`, `withdrawn`; any when empty.
    #[serde(default)]
    pub statuses: Vec<String>,
    #[serde(default)]
    pub offset: u32,
    pub limit: u32,
}

/// One of the person's requests as "My requests" lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct MyRequestEntry {
    pub id: Uuid,
    pub title: String,
    pub template_id: String,
    pub template_name: Option<Label>,
    /// As the request statuses, or `queued` while its submission waits in the outbox.
    pub status: String,
    /// The step it waits at, while in progress.
    pub current_step: Option<Label>,
    /// Who holds it now.
    pub waiting_on: Vec<PersonRef>,
    pub figures: Vec<FigureView>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct MyRequestsPage {
    pub items: Vec<MyRequestEntry>,
    pub total: u32,
    pub offset: u32,
}

/// A template as the gallery and the form renderer need it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TemplateInfo {
    pub id: String,
    pub version: u32,
    pub name: Label,
    pub description: Label,
    pub form: FormSchema,
    pub retired: bool,
}

/// The part of the directory a picker searches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum DirectoryKind {
    People,
    Departments,
}

/// What a person or department picker has typed so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DirectoryQuery {
    pub kind: DirectoryKind,
    /// Part of a name, a user name or a department code; everyone (up to `limit`) when
    /// empty. `%` and `_` are the characters themselves.
    #[serde(default)]
    pub text: String,
    /// At most this many, and never more than 20 (0 means 20).
    #[serde(default)]
    pub limit: u32,
}

/// A person or a department as a picker or a read-only form shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DirectoryEntry {
    pub id: Uuid,
    pub kind: DirectoryKind,
    /// A person's display name; a department's name.
    pub name: String,
    /// A person's department; a department's code.
    pub detail: Option<String>,
    /// False for someone who left the company or was disabled: still found, so a form
    /// about them reads right, but marked.
    pub active: bool,
}

/// What became of one request of a bulk action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct BulkOutcome {
    pub request_id: Uuid,
    pub queued: Option<OutboxItem>,
    pub error: Option<crate::ClientError>,
}

/// A request with everything its detail screen shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RequestDetail {
    pub id: Uuid,
    pub title: String,
    pub template_id: String,
    pub template_version: u32,
    /// The template to render the form with; absent when this device does not have it (the
    /// screen then says so instead of rendering nothing).
    pub template: Option<TemplateInfo>,
    pub status: String,
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub version: u64,
    pub initiator: PersonRef,
    /// The form as submitted, in the domain's input shape.
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Unknown))]
    pub form: serde_json::Value,
    /// Computed fields (totals, leave days) as the server computed them.
    #[cfg_attr(feature = "specta", specta(type = specta_typescript::Unknown))]
    pub computed: serde_json::Value,
    pub figures: Vec<FigureView>,
    pub steps: Vec<StepView>,
    pub events: Vec<EventView>,
    /// The person's open tasks on it that no queued decision answers yet.
    pub my_tasks: Vec<u32>,
    /// The person started it and it is still open: they may withdraw or urge it.
    pub mine_and_open: bool,
    /// What the person did here that waits to be sent, and what the server refused.
    pub queued: Vec<OutboxItem>,
    pub refused: Vec<OutboxItem>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// One step of the request's route and the tasks it had, across rounds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct StepView {
    pub step_id: String,
    pub name: Label,
    /// `approval`, `cc` or `skipped`.
    pub kind: String,
    pub current: bool,
    /// CC recipients, or the approvers planned for a step not reached yet.
    pub people: Vec<PersonRef>,
    pub tasks: Vec<TaskView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TaskView {
    pub task: u32,
    pub round: u32,
    pub assignee: PersonRef,
    /// Set when the assignee acts for someone else (an out-of-office delegate).
    pub on_behalf_of: Option<PersonRef>,
    pub opened_at: DateTime<Utc>,
    pub due_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// `approved`, `rejected`, `returned`, `auto_approved`, `transferred`, `deferred`,
    /// `closed`; absent while open.
    pub outcome: Option<String>,
    pub closed_by: Option<PersonRef>,
    /// How long it was open (so far, while open), wall clock and working time.
    #[cfg_attr(feature = "specta", specta(type = Option<f64>))]
    pub elapsed_secs: Option<i64>,
    #[cfg_attr(feature = "specta", specta(type = Option<f64>))]
    pub working_secs: Option<i64>,
    pub sla: Sla,
}

/// One entry of the history, with names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct EventView {
    pub at: DateTime<Utc>,
    pub actor: PersonRef,
    /// `submitted`, `approved`, `rejected`, `returned`, `transferred`, `commented`, …
    pub kind: String,
    pub comment: String,
    /// The other person involved: whom it was transferred to, the signer added.
    pub other: Option<PersonRef>,
}

impl Client {
    /// One page of the inbox, as filtered, with the total and the template filter's counts.
    pub async fn inbox_page(&self, query: &InboxQuery, now: DateTime<Utc>) -> Result<InboxPage> {
        let (cache, me) = self.open_cache().await?;
        let filter = ListFilter {
            search: query.search.clone(),
            template_id: query.template_id.clone(),
            overdue_at: (query.sla == Some(SlaFilter::Overdue)).then_some(now),
            due_between: (query.sla == Some(SlaFilter::DueSoon)).then_some((now, now + DUE_SOON)),
            ..ListFilter::default()
        };
        // Read first: the per-template counts also give the total, sparing a second count
        // of every open task (tens of ms at 100k).
        let open_by_template = cache.inbox_templates(me).await?;
        let (rows, total) = cache
            .inbox_page(
                me,
                &filter,
                query.newest_first,
                i64::from(query.offset),
                i64::from(query.limit.min(MAX_PAGE)),
                Some(&open_by_template),
            )
            .await?;
        let names = Names::load(&cache).await?;
        let items = rows
            .iter()
            .map(|row| inbox_entry(row, &names, now))
            .collect();
        let templates = open_by_template
            .into_iter()
            .map(|(template_id, count)| TemplateCount {
                name: names.template_name(&template_id),
                template_id,
                count: u32::try_from(count).unwrap_or(u32::MAX),
            })
            .collect();
        Ok(InboxPage {
            items,
            total: u32::try_from(total).unwrap_or(u32::MAX),
            offset: query.offset,
            templates,
        })
    }

    /// One page of the person's requests; those queued for submission come first.
    pub async fn my_requests_page(&self, query: &MyRequestsQuery) -> Result<MyRequestsPage> {
        let (cache, me) = self.open_cache().await?;
        let names = Names::load(&cache).await?;
        let mut items = Vec::new();
        // Submissions still in the outbox: few, and shown on top whatever the filter but a
        // status filter that leaves "queued" out.
        let mut queued = Vec::new();
        if query.statuses.is_empty() || query.statuses.iter().any(|s| s == "queued") {
            for summary in self.queued_submissions(&cache).await? {
                let matches = query.search.as_deref().is_none_or(|s| {
                    summary
                        .title
                        .to_lowercase()
                        .contains(&s.trim().to_lowercase())
                });
                if matches {
                    queued.push(MyRequestEntry {
                        id: summary.id,
                        template_name: names.template_name(&summary.template_id),
                        title: summary.title,
                        template_id: summary.template_id,
                        status: "queued".into(),
                        current_step: None,
                        waiting_on: Vec::new(),
                        figures: Vec::new(),
                        updated_at: summary.updated_at,
                    });
                }
            }
        }
        let queued_count = u32::try_from(queued.len()).unwrap_or(u32::MAX);
        let offset = query.offset;
        let limit = query.limit.min(MAX_PAGE);
        items.extend(
            queued
                .into_iter()
                .skip(offset as usize)
                .take(limit as usize),
        );
        let filter = ListFilter {
            search: query.search.clone(),
            statuses: query
                .statuses
                .iter()
                .filter(|s| *s != "queued")
                .cloned()
                .collect(),
            ..ListFilter::default()
        };
        let only_queued = !query.statuses.is_empty() && filter.statuses.is_empty();
        let mut total = queued_count;
        if !only_queued {
            let cached_offset = offset.saturating_sub(queued_count);
            let room = limit.saturating_sub(u32::try_from(items.len()).unwrap_or(u32::MAX));
            let (views, cached_total) = cache
                .requests_of_page(me, &filter, i64::from(cached_offset), i64::from(room))
                .await?;
            total += u32::try_from(cached_total).unwrap_or(u32::MAX);
            for view in &views {
                items.push(my_request_entry(view, &names));
            }
        }
        Ok(MyRequestsPage {
            items,
            total,
            offset,
        })
    }

    /// A cached request with its timeline, for its detail screen.
    pub async fn request_detail(&self, id: Uuid, now: DateTime<Utc>) -> Result<RequestDetail> {
        let view = self.request(id).await?;
        let (cache, me) = self.open_cache().await?;
        let names = Names::load(&cache).await?;
        let template = cache
            .template(&view.template_id, Some(view.template_version))
            .await?
            .map(|t| template_info(t.template, t.retired));
        let (queued, refused) = self.outbox_of_request(&cache, id).await?;
        let answered: Vec<u32> = queued.iter().filter_map(|q| q.task).collect();
        let my_tasks = view
            .open_tasks_for(me)
            .filter(|t| !answered.contains(t))
            .collect();
        let state = &view.state;
        let steps = state
            .route
            .iter()
            .enumerate()
            .map(|(index, step)| {
                let people: &[Uuid] = match &step.kind {
                    PlannedKind::Approval { approvers, .. } => approvers,
                    PlannedKind::Cc { recipients } => recipients,
                    PlannedKind::Skipped => &[],
                };
                StepView {
                    step_id: step.step_id.clone(),
                    name: step.name.clone(),
                    kind: match step.kind {
                        PlannedKind::Approval { .. } => "approval",
                        PlannedKind::Cc { .. } => "cc",
                        PlannedKind::Skipped => "skipped",
                    }
                    .into(),
                    current: state.current == Some(index) && !state.status.is_finished(),
                    people: people.iter().map(|p| names.person(*p)).collect(),
                    tasks: state
                        .tasks
                        .iter()
                        .filter(|t| t.step == index)
                        .map(|t| task_view(t, &view, &names, now))
                        .collect(),
                }
            })
            .collect();
        let events = state
            .events
            .iter()
            .map(|e| {
                let (kind, other) = match &e.what {
                    EventKind::Transferred { to, .. } => ("transferred", Some(names.person(*to))),
                    EventKind::SignerAdded { signer, .. } => {
                        ("signer_added", Some(names.person(*signer)))
                    }
                    other => (variant_name(other), None),
                };
                EventView {
                    at: e.at,
                    actor: names.person(e.actor),
                    kind: kind.to_owned(),
                    comment: e.comment.clone(),
                    other,
                }
            })
            .collect();
        Ok(RequestDetail {
            id: view.id,
            title: view.title.clone(),
            template_id: view.template_id.clone(),
            template_version: view.template_version,
            figures: figures(&view, &names),
            template,
            status: status_name(view.status),
            version: view.version,
            initiator: names.person(view.initiator),
            mine_and_open: view.initiator == me && !view.status.is_finished(),
            form: view.form.clone(),
            computed: view.computed.clone(),
            steps,
            events,
            my_tasks,
            queued,
            refused,
            created_at: state.created_at,
            updated_at: view.updated_at,
            submitted_at: state.submitted_at,
            finished_at: state.finished_at,
        })
    }

    /// The same action on several requests (bulk approve): each is queued or refused on its
    /// own, and one refusal does not stop the others.
    pub async fn act_many(
        &self,
        requests: &[Uuid],
        act: &Act,
        now: DateTime<Utc>,
    ) -> Vec<BulkOutcome> {
        let mut out = Vec::with_capacity(requests.len());
        for &request_id in requests {
            let result = self.act(request_id, act.clone(), now).await;
            out.push(BulkOutcome {
                request_id,
                queued: result.as_ref().ok().cloned(),
                error: result.err(),
            });
        }
        out
    }

    /// The templates a new request can be started from, with their forms.
    pub async fn template_gallery(&self) -> Result<Vec<TemplateInfo>> {
        Ok(self
            .templates()
            .await?
            .into_iter()
            .map(|t| template_info(t.template, t.retired))
            .collect())
    }

    /// A template version the cache has (a draft's, say), retired or not.
    pub async fn template_info(&self, id: &str, version: u32) -> Result<Option<TemplateInfo>> {
        let (cache, _) = self.open_cache().await?;
        Ok(cache
            .template(id, Some(version))
            .await?
            .map(|t| template_info(t.template, t.retired)))
    }
}

impl Client {
    /// People or departments matching what a picker has typed, from the cache (offline too).
    pub async fn directory_search(&self, query: &DirectoryQuery) -> Result<Vec<DirectoryEntry>> {
        let (cache, _) = self.open_cache().await?;
        let limit = match query.limit {
            0 => MAX_DIRECTORY,
            n => n.min(MAX_DIRECTORY),
        };
        let rows = match query.kind {
            DirectoryKind::People => cache.search_people(&query.text, i64::from(limit)).await?,
            DirectoryKind::Departments => {
                cache
                    .search_departments(&query.text, i64::from(limit))
                    .await?
            }
        };
        Ok(rows
            .into_iter()
            .map(|row| directory_entry(row, query.kind))
            .collect())
    }

    /// The people and departments among `ids` (a form's person and department fields), in
    /// the order asked; an id the directory does not know is left out, for the screen to
    /// show as it is.
    pub async fn directory_names(&self, ids: &[Uuid]) -> Result<Vec<DirectoryEntry>> {
        let (cache, _) = self.open_cache().await?;
        let mut found: std::collections::HashMap<Uuid, DirectoryEntry> = cache
            .people_by_id(ids)
            .await?
            .into_iter()
            .map(|row| (row.id, directory_entry(row, DirectoryKind::People)))
            .collect();
        for row in cache.departments_by_id(ids).await? {
            found
                .entry(row.id)
                .or_insert_with(|| directory_entry(row, DirectoryKind::Departments));
        }
        Ok(ids.iter().filter_map(|id| found.get(id).cloned()).collect())
    }
}

fn directory_entry(row: DirectoryRow, kind: DirectoryKind) -> DirectoryEntry {
    DirectoryEntry {
        id: row.id,
        kind,
        name: row.name,
        detail: row.detail,
        active: row.active,
    }
}

fn template_info(t: countersign_domain::templates::Template, retired: bool) -> TemplateInfo {
    TemplateInfo {
        id: t.id,
        version: t.version,
        name: t.name,
        description: t.description,
        form: t.form,
        retired,
    }
}

/// The names lists show, loaded once per page rather than once per row.
pub(crate) struct Names(notify::Names);

impl Names {
    pub(crate) async fn load(cache: &Cache) -> Result<Self> {
        Ok(Self(notify::Names {
            people: cache
                .people()
                .await?
                .into_iter()
                .map(|p| (p.id, p.display_name))
                .collect(),
            templates: cache
                .templates()
                .await?
                .into_iter()
                .map(|t| t.template)
                .collect(),
        }))
    }

    pub(crate) fn into_inner(self) -> notify::Names {
        self.0
    }

    fn person(&self, id: Uuid) -> PersonRef {
        PersonRef {
            id,
            name: self
                .0
                .people
                .get(&id)
                .cloned()
                .unwrap_or_else(|| id.to_string()),
        }
    }

    fn template_name(&self, id: &str) -> Option<Label> {
        self.0
            .templates
            .iter()
            .rev()
            .find(|t| t.id == id)
            .map(|t| t.name.clone())
    }
}

fn figures(view: &RequestView, names: &Names) -> Vec<FigureView> {
    let template = notify::Directory::template(&names.0, &view.template_id, view.template_version);
    notify::figures(view)
        .into_iter()
        .map(|f| FigureView {
            label: template.and_then(|t| notify::field_label(t, &f.field).cloned()),
            text: notify::figure_value(&f.value),
            field: f.field,
        })
        .collect()
}

fn inbox_entry(row: &InboxRow, names: &Names, now: DateTime<Utc>) -> InboxEntry {
    let view = &row.request;
    InboxEntry {
        request_id: view.id,
        task: row.task,
        title: view.title.clone(),
        template_id: view.template_id.clone(),
        template_name: names.template_name(&view.template_id),
        initiator: names.person(view.initiator),
        figures: figures(view, names),
        opened_at: row.opened_at,
        due_at: row.due_at,
        sla: Sla::of(row.due_at, row.overdue, now),
        version: view.version,
    }
}

fn my_request_entry(view: &RequestView, names: &Names) -> MyRequestEntry {
    let state = &view.state;
    let current_step = state
        .current
        .filter(|_| !view.status.is_finished())
        .and_then(|i| state.route.get(i))
        .map(|s| s.name.clone());
    MyRequestEntry {
        id: view.id,
        title: view.title.clone(),
        template_id: view.template_id.clone(),
        template_name: names.template_name(&view.template_id),
        status: status_name(view.status),
        current_step,
        waiting_on: state
            .open_tasks()
            .map(|t| names.person(t.assignee))
            .collect(),
        figures: figures(view, names),
        updated_at: view.updated_at,
    }
}

fn task_view(task: &Task, view: &RequestView, names: &Names, now: DateTime<Utc>) -> TaskView {
    let flagged = task.is_open() && view.overdue_tasks.contains(&task.id);
    TaskView {
        task: task.id,
        round: task.round,
        assignee: names.person(task.assignee),
        on_behalf_of: (task.seat != task.assignee).then(|| names.person(task.seat)),
        opened_at: task.opened_at,
        due_at: task.due_at,
        closed_at: task.closed_at,
        outcome: task.outcome.as_ref().map(|o| {
            match o {
                TaskOutcome::Approved => "approved",
                TaskOutcome::Rejected => "rejected",
                TaskOutcome::Returned { .. } => "returned",
                TaskOutcome::AutoApproved { .. } => "auto_approved",
                TaskOutcome::Transferred { .. } => "transferred",
                TaskOutcome::Deferred { .. } => "deferred",
                TaskOutcome::Closed { .. } => "closed",
            }
            .to_owned()
        }),
        closed_by: task.closed_by.map(|p| names.person(p)),
        elapsed_secs: task
            .elapsed_secs
            .or_else(|| task.is_open().then(|| (now - task.opened_at).num_seconds())),
        working_secs: task.working_secs,
        sla: if task.is_open() {
            Sla::of(task.due_at, flagged, now)
        } else if task.was_late() {
            Sla::Overdue
        } else if task.due_at.is_some() {
            Sla::OnTime
        } else {
            Sla::None
        },
    }
}

/// The serde tag of an event kind (`submitted`, `approved`, …).
fn variant_name(kind: &EventKind) -> &'static str {
    match kind {
        EventKind::Submitted => "submitted",
        EventKind::Resubmitted { .. } => "resubmitted",
        EventKind::Approved { .. } => "approved",
        EventKind::AutoApproved { .. } => "auto_approved",
        EventKind::Rejected { .. } => "rejected",
        EventKind::Returned { .. } => "returned",
        EventKind::Transferred { .. } => "transferred",
        EventKind::SignerAdded { .. } => "signer_added",
        EventKind::Withdrawn => "withdrawn",
        EventKind::Urged => "urged",
        EventKind::Commented => "commented",
        EventKind::StepSkipped { .. } => "step_skipped",
        EventKind::CcSent { .. } => "cc_sent",
        EventKind::Finished { .. } => "finished",
    }
}
