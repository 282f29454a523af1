//! Departures, transfers and disabled dormant accounts (requirement S3): permissions change
//! at once. One operation changes the person's record, revokes every session they have (their
//! access tokens answer `session_revoked` from the next request on), hands every open task
//! they hold to a named person or to their manager through the engine's admin transfer, and
//! records the personnel history, the audit lines and the feed rows — all in one
//! transaction. If any task cannot be handed on, nothing happens and the refusal names the
//! request, so the administrator can settle it and try again.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use countersign_api::accounts::{
    DepartureRequest, PersonChangeResult, PersonRecordView, ReassignedTask, TransferRequest,
};
use countersign_api::requests::RefusalView;
use countersign_domain::engine::{Action, Actor, Engine};
use serde_json::json;
use uuid::Uuid;

use crate::auth::{Caller, Origin};
use crate::error::{Error, Result};
use crate::people::ROLES;
use crate::policy;
use crate::requests::{plain_refusal, refusal_view};
use crate::state::AppState;
use crate::store::{
    AuditEntry, FeedNotice, FeedRow, Person, PersonChange, PersonChangeOutcome, PersonStatus,
    PersonnelChange, RequestWrite, TaskRecord,
};

/// How often an operation is planned again when a request or the person changed under it.
const MAX_ATTEMPTS: usize = 4;

/// The most open tasks one person may hold for a departure to hand on in one transaction.
const MAX_TASKS: i64 = 10_000;

const MAX_REASON: usize = 500;

/// Who carries out a change: a signed-in administrator, or the server itself (the
/// `user dormant --disable` command), which the audit log names `system`.
#[derive(Debug, Clone)]
pub struct Acting {
    person: Option<Person>,
    source: Option<String>,
    device: Option<String>,
}

impl Acting {
    pub fn caller(caller: &Caller, origin: &Origin) -> Self {
        Self {
            person: Some(caller.person.clone()),
            source: origin.source.clone(),
            device: Some(caller.session.device_name.clone()),
        }
    }

    pub fn system() -> Self {
        Self {
            person: None,
            source: None,
            device: None,
        }
    }

    fn audit(
        &self,
        at: DateTime<Utc>,
        action: &str,
        resource: String,
        outcome: &str,
    ) -> AuditEntry {
        AuditEntry {
            at,
            actor_id: self.person.as_ref().map(|p| p.id),
            actor: self
                .person
                .as_ref()
                .map_or_else(|| "system".to_owned(), |p| p.username.clone()),
            action: action.to_owned(),
            resource,
            outcome: outcome.to_owned(),
            source: self.source.clone(),
            device: self.device.clone(),
        }
    }

    /// The engine actor: an administrator, so that anyone's open task may be handed on. The
    /// server acting alone is the nil id in the request's history.
    fn engine_actor(&self) -> Actor {
        Actor::admin(self.person.as_ref().map_or(Uuid::nil(), |p| p.id))
    }
}

/// Which change, for the history, the audit log and the revoked sessions' reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Departure,
    Transfer,
    DormantDisabled,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Departure => "departure",
            Kind::Transfer => "transfer",
            Kind::DormantDisabled => "dormant_disabled",
        }
    }

    fn action(self) -> &'static str {
        match self {
            Kind::Departure => "person.depart",
            Kind::Transfer => "person.transfer",
            Kind::DormantDisabled => "person.disable_dormant",
        }
    }

    /// The revoked sessions' reason.
    fn revoke_reason(self) -> &'static str {
        match self {
            Kind::Departure => "departed",
            Kind::Transfer => "transferred",
            Kind::DormantDisabled => "dormant",
        }
    }

    /// The comment on each handed-on task: the request's participants read it, so it says
    /// why without the personnel reason, which may be private.
    fn handover_comment(self) -> &'static str {
        match self {
            Kind::Departure => "Handed on: the approver has left the organisation.",
            Kind::Transfer => "Handed on: the approver has moved to another post.",
            Kind::DormantDisabled => "Handed on: the approver's unused account was disabled.",
        }
    }
}

/// The person's record after the change.
#[derive(Debug, Clone)]
struct Target {
    status: PersonStatus,
    department_id: Option<Uuid>,
    manager_id: Option<Uuid>,
    roles: Vec<String>,
    positions: Vec<String>,
}

impl Target {
    fn of(person: &Person) -> Self {
        Self {
            status: person.status,
            department_id: person.department_id,
            manager_id: person.manager_id,
            roles: person.roles.clone(),
            positions: person.positions.clone(),
        }
    }

    fn json(&self) -> serde_json::Value {
        json!({
            "status": self.status.as_str(),
            "department_id": self.department_id,
            "manager_id": self.manager_id,
            "roles": self.roles,
            "positions": self.positions,
        })
    }
}

/// The feed rows of a request change: one per person who may see it.
fn request_feed(audience: &[Uuid], id: Uuid, version: i64) -> Vec<FeedRow> {
    audience
        .iter()
        .map(|person| FeedRow {
            audience: *person,
            kind: "request",
            entity_id: id.to_string(),
            version,
            op: "upsert",
        })
        .collect()
}

fn record_view(person: &Person, target: &Target, version: i64) -> PersonRecordView {
    PersonRecordView {
        id: person.id,
        username: person.username.clone(),
        display_name: person.display_name.clone(),
        department_id: target.department_id,
        manager_id: target.manager_id,
        roles: target.roles.clone(),
        positions: target.positions.clone(),
        status: target.status.as_str().to_owned(),
        version,
    }
}

fn valid_position(p: &str) -> bool {
    (1..=64).contains(&p.len())
        && p.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl AppState {
    /// `POST /v1/people/{id}/departure`.
    pub async fn depart(
        &self,
        caller: &Caller,
        person_id: Uuid,
        req: DepartureRequest,
        origin: &Origin,
    ) -> Result<PersonChangeResult> {
        let acting = Acting::caller(caller, origin);
        let reason = req.reason.trim().to_owned();
        if reason.is_empty() || reason.chars().count() > MAX_REASON {
            return Err(Error::malformed(format!(
                "Give the reason for the departure (1–{MAX_REASON} characters)."
            )));
        }
        self.change_person(
            &acting,
            person_id,
            Kind::Departure,
            req.reassign_to,
            reason,
            |p| {
                let mut target = Target::of(p);
                target.status = PersonStatus::Departed;
                Ok(target)
            },
        )
        .await
    }

    /// `POST /v1/people/{id}/transfer`.
    pub async fn transfer(
        &self,
        caller: &Caller,
        person_id: Uuid,
        req: TransferRequest,
        origin: &Origin,
    ) -> Result<PersonChangeResult> {
        let acting = Acting::caller(caller, origin);
        let reason = req
            .reason
            .as_deref()
            .map(str::trim)
            .unwrap_or_default()
            .to_owned();
        if reason.chars().count() > MAX_REASON {
            return Err(Error::malformed(format!(
                "The reason may have at most {MAX_REASON} characters."
            )));
        }
        if let Some(roles) = &req.roles {
            if let Some(unknown) = roles.iter().find(|r| !ROLES.contains(&r.as_str())) {
                return Err(Error::malformed(format!(
                    "Unknown role '{unknown}' (known roles: {}).",
                    ROLES.join(", ")
                )));
            }
            // Least privilege for administrators too: nobody hands out a permission they do
            // not hold themselves (an HR officer cannot make someone an auditor).
            let beyond = roles.iter().find(|role| {
                policy::granted_by(role)
                    .iter()
                    .any(|p| !policy::has(&caller.person, *p))
            });
            if let Some(role) = beyond {
                let error = Error::forbidden(format!(
                    "You cannot grant the role '{role}': it allows more than your own roles do."
                ));
                return Err(self
                    .refuse_audited(
                        caller,
                        Kind::Transfer.action(),
                        format!("person:{person_id}"),
                        error,
                        origin,
                    )
                    .await);
            }
        }
        if let Some(positions) = &req.positions
            && let Some(bad) = positions.iter().find(|p| !valid_position(p))
        {
            return Err(Error::malformed(format!(
                "'{bad}' is not a position name (lower-case letters, digits and '_')."
            )));
        }
        if let Some(department) = req.department_id
            && self.store.find_department(department).await?.is_none()
        {
            return Err(Error::malformed(format!(
                "There is no department {department}."
            )));
        }
        if let Some(manager) = req.manager_id {
            let usable = self
                .store
                .find_person(manager)
                .await?
                .is_some_and(|m| m.status == PersonStatus::Active && m.id != person_id);
            if !usable {
                return Err(Error::malformed(format!(
                    "{manager} cannot be the manager: no active person other than the one \
                     transferred has that id."
                )));
            }
        }
        self.change_person(
            &acting,
            person_id,
            Kind::Transfer,
            req.reassign_to,
            reason,
            |p| {
                let mut target = Target::of(p);
                if let Some(d) = req.department_id {
                    target.department_id = Some(d);
                }
                if let Some(m) = req.manager_id {
                    target.manager_id = Some(m);
                }
                if let Some(roles) = &req.roles {
                    let mut roles = roles.clone();
                    roles.sort();
                    roles.dedup();
                    target.roles = roles;
                }
                if let Some(positions) = &req.positions {
                    let mut positions = positions.clone();
                    positions.sort();
                    positions.dedup();
                    target.positions = positions;
                }
                Ok(target)
            },
        )
        .await
    }

    /// Disables one dormant account for `user dormant --disable`: its sessions end and its
    /// open tasks go to its manager, audited as `system`.
    pub async fn disable_dormant(&self, person_id: Uuid, days: u32) -> Result<PersonChangeResult> {
        let reason = format!("no sign-in or session activity for {days} days");
        self.change_person(
            &Acting::system(),
            person_id,
            Kind::DormantDisabled,
            None,
            reason,
            |p| {
                if p.status != PersonStatus::Active {
                    return Err(Box::new(plain_refusal(
                        "not_active",
                        format!("{} is no longer active.", p.username),
                    )));
                }
                let mut target = Target::of(p);
                target.status = PersonStatus::Disabled;
                Ok(target)
            },
        )
        .await
    }

    /// Plans and writes one change, planning again when something moved in between.
    async fn change_person(
        &self,
        acting: &Acting,
        person_id: Uuid,
        kind: Kind,
        reassign_to: Option<Uuid>,
        reason: String,
        target_of: impl Fn(&Person) -> std::result::Result<Target, Box<RefusalView>>,
    ) -> Result<PersonChangeResult> {
        let resource = format!("person:{person_id}");
        if acting.person.as_ref().is_some_and(|p| p.id == person_id) {
            let error = Error::forbidden(
                "You cannot change your own post or departure; ask another administrator.",
            );
            return Err(self.refuse_acting(acting, kind, &resource, error).await);
        }
        for _ in 0..MAX_ATTEMPTS {
            let Some(person) = self.store.find_person(person_id).await? else {
                let error = Error::not_found("That person");
                return Err(self.refuse_acting(acting, kind, &resource, error).await);
            };
            if person.status == PersonStatus::Departed {
                let error = Error::rule(plain_refusal(
                    "person_departed",
                    format!("{} has already left the organisation.", person.username),
                ));
                return Err(self.refuse_acting(acting, kind, &resource, error).await);
            }
            let target = match target_of(&person) {
                Ok(t) => t,
                Err(view) => {
                    let error = Error::rule(*view);
                    return Err(self.refuse_acting(acting, kind, &resource, error).await);
                }
            };
            let planned = match self
                .plan_handover(acting, &person, kind, reassign_to)
                .await?
            {
                Ok(planned) => planned,
                Err(view) => {
                    let error = Error::rule(*view);
                    return Err(self.refuse_acting(acting, kind, &resource, error).await);
                }
            };
            let now = self.clock.now();
            let change = PersonChange {
                person_id,
                expected_version: person.version,
                status: target.status,
                department_id: target.department_id,
                manager_id: target.manager_id,
                roles: target.roles.clone(),
                positions: target.positions.clone(),
                revoke_reason: kind.revoke_reason().to_owned(),
                history: PersonnelChange {
                    id: Uuid::now_v7(),
                    kind: kind.name().to_owned(),
                    reason: reason.clone(),
                    actor_id: acting.person.as_ref().map(|p| p.id),
                    details: json!({"before": Target::of(&person).json(), "after": target.json()}),
                },
                at: now,
                audit: acting.audit(now, kind.action(), resource.clone(), "ok"),
                requests: planned.writes,
            };
            match self.store.change_person(&change).await? {
                PersonChangeOutcome::Written {
                    version,
                    sessions_revoked,
                    last_seq,
                } => {
                    let mut rows: Vec<FeedRow> = change
                        .requests
                        .iter()
                        .flat_map(|w| w.feed.iter().cloned())
                        .collect();
                    rows.push(FeedRow {
                        audience: crate::store::EVERYONE,
                        kind: "person",
                        entity_id: person_id.to_string(),
                        version,
                        op: "upsert",
                    });
                    self.events.publish(FeedNotice::of(&rows, last_seq));
                    return Ok(PersonChangeResult {
                        person: record_view(&person, &target, version),
                        sessions_revoked,
                        reassigned: planned.reassigned,
                    });
                }
                // The person or one of the requests changed since it was read: plan again.
                PersonChangeOutcome::Stale => {}
            }
        }
        Err(Error::refused(
            countersign_api::ErrorCode::Conflict,
            "The person's tasks are changing too fast right now; try again.",
        ))
    }

    /// Hands every open task `person` holds to `reassign_to`, or to their manager: the
    /// request writes to make, or the refusal naming the first request that cannot be
    /// handed on.
    async fn plan_handover(
        &self,
        acting: &Acting,
        person: &Person,
        kind: Kind,
        reassign_to: Option<Uuid>,
    ) -> Result<std::result::Result<Handover, Box<RefusalView>>> {
        if let Some(heir) = reassign_to {
            let usable = heir != person.id
                && self
                    .store
                    .find_person(heir)
                    .await?
                    .is_some_and(|h| h.status == PersonStatus::Active);
            if !usable {
                return Ok(Err(Box::new(plain_refusal(
                    "invalid_reassignee",
                    format!(
                        "{heir} cannot take over the tasks: no active person other than {} has \
                         that id.",
                        person.username
                    ),
                ))));
            }
        }
        let tasks = self.store.open_tasks_of(person.id, MAX_TASKS).await?;
        let mut ids: Vec<Uuid> = tasks.iter().map(|t| t.request_id).collect();
        ids.sort();
        ids.dedup();
        if ids.is_empty() {
            return Ok(Ok(Handover::default()));
        }
        let heir = reassign_to.or(person.manager_id);
        let requests = self.store.find_requests(&ids).await?;
        let Some(heir) = heir else {
            let first = requests.first().map_or(ids[0], |r| r.id);
            let mut view = plain_refusal(
                "no_reassignee",
                format!(
                    "{} holds open tasks (request {first} among them) and has no manager to \
                     take them over; name someone to reassign them to.",
                    person.username
                ),
            );
            view.request = Some(first);
            return Ok(Err(Box::new(view)));
        };
        let org = self.org_snapshot().await?;
        let mut templates = BTreeMap::new();
        let mut handover = Handover::default();
        for record in requests {
            let key = (record.template_id.clone(), record.template_version);
            if !templates.contains_key(&key) {
                let found = self
                    .store
                    .find_template(&record.template_id, record.template_version)
                    .await?
                    .ok_or_else(|| {
                        Error::Internal(format!(
                            "request {} names a missing template version {}@{}",
                            record.id, record.template_id, record.template_version
                        ))
                    })?;
                templates.insert(key.clone(), found);
            }
            let Some(template) = templates.get(&key) else {
                continue;
            };
            let engine = Engine {
                schema: &template.template.form,
                definition: &template.template.workflow,
                org: &org,
                calendar: &self.calendar,
            };
            let now = self.clock.now();
            let expected = record.version();
            let stored = record.state.clone();
            let mut next = record;
            let held: Vec<u32> = next
                .state
                .open_tasks()
                .filter(|t| t.assignee == person.id)
                .map(|t| t.id)
                .collect();
            for task in held {
                let action = Action::Transfer {
                    task,
                    to: heir,
                    comment: kind.handover_comment().to_owned(),
                };
                match engine.apply(&next.state, &action, acting.engine_actor(), now) {
                    Ok(transition) => next.state = transition.state,
                    Err(refusal) => {
                        let engine_says = refusal.message(countersign_domain::messages::Locale::En);
                        let mut view = refusal_view(refusal, Some(next.state.revision));
                        view.code = "cannot_reassign".to_owned();
                        view.message = format!(
                            "Task {task} of request {} (\u{201c}{}\u{201d}) cannot be handed \
                             to {heir}: {engine_says}",
                            next.id, next.title
                        );
                        view.request = Some(next.id);
                        return Ok(Err(Box::new(view)));
                    }
                }
                handover.reassigned.push(ReassignedTask {
                    request: next.id,
                    task,
                    to: heir,
                });
            }
            next.updated_at = next.state.updated_at;
            let audience = policy::request_audience(&next.state);
            let feed = request_feed(&audience, next.id, next.version());
            let audit = acting.audit(
                now,
                "request.transfer",
                format!("request:{}", next.id),
                "ok",
            );
            handover.writes.push(RequestWrite {
                tasks: TaskRecord::changed(Some(&stored), &next.state),
                participants: policy::audience_added(Some(&stored), &next.state),
                request: next,
                expected_version: Some(expected),
                feed,
                audit,
                mutation: None,
            });
        }
        Ok(Ok(handover))
    }

    async fn refuse_acting(
        &self,
        acting: &Acting,
        kind: Kind,
        resource: &str,
        error: Error,
    ) -> Error {
        let entry = acting.audit(
            self.clock.now(),
            kind.action(),
            resource.to_owned(),
            error.code().as_str(),
        );
        match self.store.append_audit(&entry).await {
            Ok(_) => error,
            Err(e) => e.into(),
        }
    }
}

/// The request writes of a handover and what they hand on.
#[derive(Default)]
struct Handover {
    writes: Vec<RequestWrite>,
    reassigned: Vec<ReassignedTask>,
}
