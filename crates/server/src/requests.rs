//! Requests and tasks: submitting, acting, reading. The rules are the domain engine's; this
//! module loads what the engine reads (template version, organisation, calendar), decides
//! visibility with the policy, and writes each transition atomically with its audit line,
//! feed rows and, for client mutations, the mutation's answer.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use countersign_api::accounts::ActResponse;
use countersign_api::requests::{
    ActRequest, Page, PendingTask, RefusalView, RequestView, SubmitRequest,
};
use countersign_api::sync::{MutationKind, MutationResult, MutationStatus};
use countersign_domain::engine::{Action, Actor, Engine, Refusal, RequestState};
use countersign_domain::messages::Locale;
use countersign_domain::org::{self, OrgSnapshot};
use countersign_domain::templates::Template;
use serde_json::json;
use uuid::Uuid;

use crate::auth::{Caller, Origin};
use crate::error::{Error, Result};
use crate::policy;
use crate::state::AppState;
use crate::store::{
    ApprovalEffect, AuditEntry, FeedNotice, FeedRow, MutationRecord, PersonStatus, RequestRecord,
    RequestWrite, StoreError, TaskRecord, TemplateRecord, WriteOutcome,
};

/// How often a decision is retried on a fresh read when another write got in between.
const MAX_ATTEMPTS: usize = 4;

/// A client mutation being applied: its id is stored with the write so a replay is answered
/// from the record instead of acting twice.
#[derive(Debug, Clone, Copy)]
pub struct MutationTag {
    pub id: Uuid,
    pub kind: MutationKind,
}

impl MutationTag {
    /// The record of this mutation applied by `person` at `at`, answering with `entity` (a
    /// meeting's answers and receipts name none: a replay reads the meeting as it is then).
    pub fn applied(
        self,
        person: Uuid,
        entity: Option<Box<RequestView>>,
        at: chrono::DateTime<chrono::Utc>,
    ) -> MutationRecord {
        MutationRecord {
            id: self.id,
            person_id: person,
            kind: self.kind.as_str().to_owned(),
            status: "applied".to_owned(),
            result: serde_json::to_value(MutationResult {
                id: self.id,
                status: MutationStatus::Applied,
                original: None,
                reason: None,
                entity,
                meeting: None,
            })
            .unwrap_or_else(|_| json!({})),
            created_at: at,
        }
    }
}

/// The view every participant sees.
pub fn view(record: &RequestRecord) -> RequestView {
    RequestView {
        id: record.id,
        template_id: record.template_id.clone(),
        template_version: record.template_version,
        title: record.title.clone(),
        initiator: record.state.initiator,
        status: record.state.status,
        version: record.state.revision,
        form: record.form.clone(),
        computed: record.computed.clone(),
        state: record.state.clone(),
        created_at: record.created_at,
        updated_at: record.updated_at,
        overdue_tasks: record.overdue_tasks.clone(),
    }
}

/// A refusal of the engine's, for the wire.
pub fn refusal_view(refusal: Refusal, current_version: Option<u64>) -> RefusalView {
    RefusalView {
        code: refusal.code().to_owned(),
        message: refusal.message(Locale::En),
        refusal: Some(refusal),
        current_version,
        request: None,
    }
}

/// A refusal that is not the engine's (unknown template, a retired version…).
pub fn plain_refusal(code: &str, message: impl Into<String>) -> RefusalView {
    RefusalView {
        code: code.to_owned(),
        message: message.into(),
        refusal: None,
        current_version: None,
        request: None,
    }
}

/// The feed rows of a request change: one per person who may see it.
fn request_feed(state: &RequestState, audience: &[Uuid]) -> Vec<FeedRow> {
    audience
        .iter()
        .map(|person| FeedRow {
            audience: *person,
            kind: "request",
            entity_id: state.request.to_string(),
            version: i64::try_from(state.revision).unwrap_or(i64::MAX),
            op: "upsert",
        })
        .collect()
}

/// Text fields that make a good list title, in order of preference.
const TITLE_FIELDS: [&str; 6] = [
    "subject",
    "title",
    "purpose",
    "process_name",
    "destination",
    "employee_name",
];

fn derive_title(template: &Template, form: &serde_json::Value) -> String {
    let name = &template.name.zh;
    TITLE_FIELDS
        .iter()
        .find_map(|key| form.get(*key).and_then(|v| v.as_str()))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map_or_else(
            || name.clone(),
            |s| format!("{name}：{}", s.chars().take(80).collect::<String>()),
        )
}

/// The organisation as routing last read it, with the head of the everyone-feed at that read.
/// Every change to the people or the departments writes a row everyone sees (the directory's
/// sync), so while that head stands the organisation is unchanged, and a decision reads one
/// index entry instead of three whole tables. Replicas each keep their own; the head is the
/// database's, so a change made through another replica is seen at its commit.
#[derive(Debug, Default)]
pub struct KeptOrg(Mutex<Option<(i64, Arc<OrgSnapshot>)>>);

impl KeptOrg {
    fn at(&self, head: i64) -> Option<Arc<OrgSnapshot>> {
        let kept = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        kept.as_ref()
            .filter(|(read_at, _)| *read_at == head)
            .map(|(_, org)| org.clone())
    }

    fn keep(&self, head: i64, org: Arc<OrgSnapshot>) {
        let mut kept = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        // A slower reader of an older head does not replace a newer read.
        if kept.as_ref().is_none_or(|(read_at, _)| *read_at <= head) {
            *kept = Some((head, org));
        }
    }
}

impl AppState {
    /// The organisation as routing reads it: people with manager, department, roles and
    /// positions, departments with heads, and delegations. Read again only when a change
    /// everyone sees was written since (see [`KeptOrg`]).
    pub async fn org_snapshot(&self) -> Result<Arc<OrgSnapshot>> {
        // The head first: a change committed while the tables are read then makes the next
        // call read them again, never the other way round.
        let head = self.store.everyone_head().await?;
        self.org_snapshot_at(head).await
    }

    /// [`Self::org_snapshot`] with the everyone-feed's head already read (before the tables,
    /// as there).
    async fn org_snapshot_at(&self, head: i64) -> Result<Arc<OrgSnapshot>> {
        if let Some(org) = self.kept_org.at(head) {
            return Ok(org);
        }
        let org = Arc::new(self.read_org().await?);
        self.kept_org.keep(head, org.clone());
        Ok(org)
    }

    async fn read_org(&self) -> Result<OrgSnapshot> {
        let people = self.store.list_people().await?;
        let departments = self.store.list_departments().await?;
        let delegations = self.store.list_delegations().await?;
        Ok(OrgSnapshot {
            people: people
                .into_iter()
                .map(|p| {
                    let mut roles: std::collections::BTreeSet<String> =
                        p.roles.iter().cloned().collect();
                    roles.extend(p.positions.iter().cloned());
                    (
                        p.id,
                        org::Person {
                            name: p.display_name,
                            department: p.department_id,
                            manager: p.manager_id,
                            roles,
                            active: p.status == PersonStatus::Active,
                        },
                    )
                })
                .collect(),
            departments: departments
                .into_iter()
                .map(|d| {
                    (
                        d.id,
                        org::Department {
                            name: d.name,
                            parent: d.parent_id,
                            head: d.head_id,
                        },
                    )
                })
                .collect(),
            delegations: delegations
                .into_iter()
                .map(|d| org::Delegation {
                    from: d.from_id,
                    to: d.to_id,
                    starts_at: d.starts_at,
                    ends_at: d.ends_at,
                })
                .collect(),
        })
    }

    pub(crate) fn audit_entry(
        &self,
        caller: &Caller,
        action: &str,
        resource: String,
        outcome: &str,
        origin: &Origin,
    ) -> AuditEntry {
        AuditEntry {
            at: self.clock.now(),
            actor_id: Some(caller.person.id),
            actor: caller.person.username.clone(),
            action: action.to_owned(),
            resource,
            outcome: outcome.to_owned(),
            source: origin.source.clone(),
            device: Some(caller.session.device_name.clone()),
        }
    }

    /// Audits a refusal and hands back the error to answer with.
    async fn refuse_request(
        &self,
        caller: &Caller,
        action: &str,
        resource: String,
        view: RefusalView,
        origin: &Origin,
    ) -> Error {
        let entry = self.audit_entry(caller, action, resource, &view.code, origin);
        match self.store.append_audit(&entry).await {
            Ok(_) => Error::rule(view),
            Err(e) => e.into(),
        }
    }

    async fn template_for(
        &self,
        id: &str,
        version: Option<u32>,
    ) -> Result<TemplateRecord, RefusalView> {
        let found = match version {
            Some(v) => self.store.find_template(id, v).await,
            None => self.store.current_template(id).await,
        };
        match found {
            Ok(Some(t)) if version.is_some() && t.retired_at.is_some() => Err(plain_refusal(
                "template_retired",
                format!(
                    "Version {} of template '{id}' was retired; start the request again on the \
                     current version.",
                    t.template.version
                ),
            )),
            Ok(Some(t)) => Ok(t),
            Ok(None) => Err(plain_refusal(
                "unknown_template",
                format!(
                    "There is no template '{id}'{}.",
                    version.map_or(String::new(), |v| format!(" version {v}"))
                ),
            )),
            Err(e) => {
                tracing::error!(error = %e, "template lookup failed");
                Err(plain_refusal(
                    "unavailable",
                    "The server cannot read its templates right now.",
                ))
            }
        }
    }

    /// Submits a new request for the caller.
    pub async fn submit_request(
        &self,
        caller: &Caller,
        req: SubmitRequest,
        origin: &Origin,
        mutation: Option<MutationTag>,
    ) -> Result<RequestView> {
        let id = req.id.unwrap_or_else(Uuid::now_v7);
        let resource = format!("request:{id}");
        let template = match self
            .template_for(&req.template_id, req.template_version)
            .await
        {
            Ok(t) => t,
            Err(view) => {
                return Err(self
                    .refuse_request(caller, "request.submit", resource, view, origin)
                    .await);
            }
        };
        if let Some(existing) = self.store.find_request(id).await? {
            let view = if existing.initiator_id == caller.person.id {
                refusal_view(Refusal::AlreadySubmitted, Some(existing.state.revision))
            } else {
                plain_refusal("id_taken", "That request id is already in use.")
            };
            return Err(self
                .refuse_request(caller, "request.submit", resource, view, origin)
                .await);
        }
        let org = self.org_snapshot().await?;
        let engine = Engine {
            schema: &template.template.form,
            definition: &template.template.workflow,
            org: &org,
            calendar: &self.calendar,
        };
        let now = self.clock.now();
        let draft = RequestState::draft(id, caller.person.id, now);
        let action = Action::Submit {
            form: req.form.clone(),
        };
        let transition = match engine.apply(&draft, &action, Actor::person(caller.person.id), now) {
            Ok(t) => t,
            Err(refusal) => {
                let view = refusal_view(refusal, None);
                return Err(self
                    .refuse_request(caller, "request.submit", resource, view, origin)
                    .await);
            }
        };
        if let Some(view) = self
            .attachment_refusal(caller.person.id, id, &req.form)
            .await?
        {
            return Err(self
                .refuse_request(caller, "request.submit", resource, view, origin)
                .await);
        }
        let computed = self.computed_fields(&template.template, &req.form);
        let title = req
            .title
            .map(|t| t.trim().chars().take(200).collect::<String>())
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| derive_title(&template.template, &req.form));
        let record = RequestRecord {
            id,
            template_id: template.template.id.clone(),
            template_version: template.template.version,
            initiator_id: caller.person.id,
            title,
            form: req.form,
            computed,
            state: transition.state,
            created_at: now,
            updated_at: now,
            overdue_tasks: Vec::new(),
        };
        let audit = self.audit_entry(caller, "request.submit", resource, "ok", origin);
        match self.write(caller, record, None, audit, mutation).await? {
            Some(view) => Ok(view),
            // An insert cannot be stale; a concurrent insert of the same id is a conflict.
            None => Err(Error::refused(
                countersign_api::ErrorCode::Conflict,
                "That request was submitted at the same moment from elsewhere.",
            )),
        }
    }

    /// Computed fields (totals, leave days) as the server computes them from the form.
    fn computed_fields(&self, template: &Template, form: &serde_json::Value) -> serde_json::Value {
        let evaluation = countersign_domain::form::evaluate(&template.form, form, &self.calendar);
        serde_json::to_value(&evaluation.form.computed).unwrap_or_else(|_| json!({}))
    }

    /// Applies an engine action to a request the caller can see.
    pub async fn act_on_request(
        &self,
        caller: &Caller,
        id: Uuid,
        act: ActRequest,
        origin: &Origin,
        mutation: Option<MutationTag>,
    ) -> Result<RequestView> {
        // A mutation's answer is stored for replays, so it never carries an activation
        // secret; IT replaces a secret it did not see (`POST /v1/accounts/{id}/activation`).
        let answer = self
            .act_on_request_revealing(caller, id, act, origin, mutation, false)
            .await?;
        Ok(answer.request)
    }

    /// [`Self::act_on_request`], and when this action is the final approval of an account
    /// application and `reveal` is set (the REST answer, which is not stored), the opened
    /// account's activation secret for an approver who manages accounts (S1).
    pub async fn act_on_request_revealing(
        &self,
        caller: &Caller,
        id: Uuid,
        act: ActRequest,
        origin: &Origin,
        mutation: Option<MutationTag>,
        reveal: bool,
    ) -> Result<ActResponse> {
        let resource = format!("request:{id}");
        let kind = action_name(&act.action);
        for _ in 0..MAX_ATTEMPTS {
            let (record, head) = self.decision_read(caller, id, mutation).await?;
            let template = self
                .template_at(&record.template_id, record.template_version)
                .await?
                .ok_or_else(|| {
                    Error::Internal(format!(
                        "request {id} names a missing template version {}@{}",
                        record.template_id, record.template_version
                    ))
                })?;
            let org = self.org_snapshot_at(head).await?;
            let engine = Engine {
                schema: &template.form,
                definition: &template.workflow,
                org: &org,
                calendar: &self.calendar,
            };
            let actor = if policy::acts_as_admin(&caller.person) {
                Actor::admin(caller.person.id)
            } else {
                Actor::person(caller.person.id)
            };
            let now = self.clock.now();
            let transition = match engine.apply(&record.state, &act.action, actor, now) {
                Ok(t) => t,
                Err(refusal) => {
                    let view = refusal_view(refusal, Some(record.state.revision));
                    return Err(self
                        .refuse_request(caller, &kind, resource, view, origin)
                        .await);
                }
            };
            if let Action::Resubmit { form, .. } = &act.action
                && let Some(view) = self
                    .attachment_refusal(record.initiator_id, record.id, form)
                    .await?
            {
                return Err(self
                    .refuse_request(caller, &kind, resource, view, origin)
                    .await);
            }
            let expected = record.version();
            let before = record.state.status;
            let mut next = record;
            if let Action::Resubmit { form, .. } = &act.action {
                next.computed = self.computed_fields(&template, form);
                next.form = form.clone();
            }
            let stored = std::mem::replace(&mut next.state, transition.state);
            next.updated_at = next.state.updated_at;
            // An approval that opens an account or publishes a template does so in the same
            // transaction, or is refused with the reason (S1, S6).
            let consequences = match self
                .approval_consequences(caller, before, &next, reveal, origin)
                .await?
            {
                Ok(c) => c,
                Err(view) => {
                    return Err(self
                        .refuse_request(caller, &kind, resource, view, origin)
                        .await);
                }
            };
            let audit = self.audit_entry(caller, &kind, resource.clone(), "ok", origin);
            if let Some(view) = self
                .write_with(
                    caller,
                    next,
                    Some((expected, &stored)),
                    audit,
                    mutation,
                    &consequences.effects,
                )
                .await?
            {
                return Ok(ActResponse {
                    request: view,
                    activation: consequences.activation,
                });
            }
            // Someone else's write got in between: read again and retry on the new state.
        }
        Err(Error::refused(
            countersign_api::ErrorCode::Conflict,
            "The request is changing too fast right now; try again.",
        ))
    }

    /// Writes a request change. `None` when the stored version moved on (retry).
    async fn write(
        &self,
        caller: &Caller,
        record: RequestRecord,
        stored: Option<(i64, &RequestState)>,
        audit: AuditEntry,
        mutation: Option<MutationTag>,
    ) -> Result<Option<RequestView>> {
        self.write_with(caller, record, stored, audit, mutation, &[])
            .await
    }

    /// [`Self::write`] with what a final approval sets off, in the same transaction.
    /// `stored` is the version and state the change started from (`None` for a new request):
    /// the write goes through only while that version is still stored, and writes only the
    /// task and participant rows that differ from that state's.
    async fn write_with(
        &self,
        caller: &Caller,
        record: RequestRecord,
        stored: Option<(i64, &RequestState)>,
        audit: AuditEntry,
        mutation: Option<MutationTag>,
        effects: &[ApprovalEffect],
    ) -> Result<Option<RequestView>> {
        let view = view(&record);
        let audience = policy::request_audience(&record.state);
        let feed = request_feed(&record.state, &audience);
        let mutation_record =
            mutation.map(|m| m.applied(caller.person.id, Some(Box::new(view.clone())), audit.at));
        let before = stored.map(|(_, state)| state);
        let write = RequestWrite {
            tasks: TaskRecord::changed(before, &record.state),
            participants: policy::audience_added(before, &record.state),
            request: record,
            expected_version: stored.map(|(version, _)| version),
            feed: feed.clone(),
            audit,
            mutation: mutation_record,
        };
        let written = if effects.is_empty() {
            self.store.write_request(&write).await
        } else {
            self.store.write_request_with(&write, effects).await
        };
        match written {
            Ok(WriteOutcome::Written { last_seq }) => {
                let mut rows = feed;
                rows.extend(effects.iter().flat_map(ApprovalEffect::feed_rows));
                self.events.publish(FeedNotice::of(&rows, last_seq));
                Ok(Some(view))
            }
            Ok(WriteOutcome::Stale) => Ok(None),
            Err(StoreError::Conflict { constraint }) => {
                if let Some(m) = mutation
                    && self.store.find_mutation(m.id).await?.is_some()
                {
                    // The same mutation, sent twice at once: the other copy won.
                    return Err(Error::DuplicateMutation(m.id));
                }
                if !effects.is_empty() {
                    return Err(Error::refused(
                        countersign_api::ErrorCode::Conflict,
                        format!(
                            "What this approval opens or publishes was written by someone else \
                             at the same moment ({constraint}); try again."
                        ),
                    ));
                }
                Err(Error::refused(
                    countersign_api::ErrorCode::Conflict,
                    format!("That request already exists ({constraint})."),
                ))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The request a decision is about, as [`Self::visible_request`], with the everyone-feed's
    /// head for [`Self::org_snapshot_at`]; a mutation answered before is
    /// [`Error::DuplicateMutation`] whatever the request's state, so that it is replayed.
    async fn decision_read(
        &self,
        caller: &Caller,
        id: Uuid,
        mutation: Option<MutationTag>,
    ) -> Result<(RequestRecord, i64)> {
        let mutation = mutation.map(|m| m.id);
        match self
            .store
            .read_for_decision(id, caller.person.id, mutation)
            .await?
        {
            Some(read) if read.mutation_seen => {
                Err(Error::DuplicateMutation(mutation.unwrap_or_default()))
            }
            Some(read) if policy::can_see_request(&caller.person, read.takes_part) => {
                Ok((read.request, read.everyone_head))
            }
            Some(_) => Err(Error::not_found("That request")),
            None => match mutation {
                Some(m) if self.store.find_mutation(m).await?.is_some() => {
                    Err(Error::DuplicateMutation(m))
                }
                _ => Err(Error::not_found("That request")),
            },
        }
    }

    /// A request the caller may see, or "not found" (never "forbidden": whether a request
    /// exists is itself not for everyone to learn).
    pub async fn visible_request(&self, caller: &Caller, id: Uuid) -> Result<RequestRecord> {
        match self.store.find_request_for(id, caller.person.id).await? {
            Some((record, takes_part)) if policy::can_see_request(&caller.person, takes_part) => {
                Ok(record)
            }
            _ => Err(Error::not_found("That request")),
        }
    }

    /// `GET /v1/requests/{id}`.
    pub async fn read_request(
        &self,
        caller: &Caller,
        id: Uuid,
        origin: &Origin,
    ) -> Result<RequestView> {
        let resource = format!("request:{id}");
        match self.visible_request(caller, id).await {
            Ok(record) => {
                let entry = self.audit_entry(caller, "request.read", resource, "ok", origin);
                self.store.append_audit(&entry).await?;
                Ok(view(&record))
            }
            Err(e) => {
                let entry =
                    self.audit_entry(caller, "request.read", resource, e.code().as_str(), origin);
                self.store.append_audit(&entry).await?;
                Err(e)
            }
        }
    }

    /// `GET /v1/requests`: the caller's own requests, most recently changed first.
    pub async fn my_requests(
        &self,
        caller: &Caller,
        before: Option<chrono::DateTime<chrono::Utc>>,
        limit: i64,
        origin: &Origin,
    ) -> Result<Page<RequestView>> {
        let limit = limit.clamp(1, 200);
        let records = self
            .store
            .requests_started_by(caller.person.id, before, limit + 1)
            .await?;
        let more = records.len() > usize::try_from(limit).unwrap_or(usize::MAX);
        let items: Vec<RequestView> = records
            .iter()
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .map(view)
            .collect();
        let next = more
            .then(|| items.last().map(|v| v.updated_at.to_rfc3339()))
            .flatten();
        let entry = self.audit_entry(caller, "request.list", "requests:own".into(), "ok", origin);
        self.store.append_audit(&entry).await?;
        Ok(Page { items, next })
    }

    /// `GET /v1/tasks`: the caller's open tasks with their requests, oldest first.
    pub async fn pending_tasks(
        &self,
        caller: &Caller,
        origin: &Origin,
    ) -> Result<Vec<PendingTask>> {
        let tasks = self.store.open_tasks_of(caller.person.id, 1000).await?;
        let mut ids: Vec<Uuid> = tasks.iter().map(|t| t.request_id).collect();
        ids.sort();
        ids.dedup();
        let requests: BTreeMap<Uuid, RequestView> = self
            .store
            .find_requests(&ids)
            .await?
            .iter()
            .map(|r| (r.id, view(r)))
            .collect();
        let entry = self.audit_entry(caller, "task.list", "tasks:own".into(), "ok", origin);
        self.store.append_audit(&entry).await?;
        Ok(tasks
            .into_iter()
            .filter_map(|t| {
                requests.get(&t.request_id).map(|request| PendingTask {
                    task: t.task_no,
                    request: request.clone(),
                })
            })
            .collect())
    }
}

/// The audit action name of an engine action.
fn action_name(action: &Action) -> String {
    let kind = serde_json::to_value(action)
        .ok()
        .and_then(|v| v.get("kind").and_then(|k| k.as_str()).map(str::to_owned))
        .unwrap_or_else(|| "act".to_owned());
    format!("request.{kind}")
}
