//! The notification planner against requests made by the real approval engine with the
//! shipped templates: who is told what, once, and what is taken back.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use countersign_api::requests::RequestView;
use countersign_api::sync::{Change, ChangeOp, EntityKind};
use countersign_client::notify::{
    CATCH_UP_SHOW_LIMIT, HeldBack, Names, Notification, NotificationAction, NotificationId,
    NotificationKind, NotificationRecord, Notifier, Outcome, OverdueFor, Planned,
    RecordingNotifier, RenderContext, StdoutNotifier, SyncMode, action_refused, finish_catch_up,
    plan,
};
use countersign_domain::calendar::WorkingCalendar;
use countersign_domain::engine::{Action, Actor, Engine, RequestState, TaskId};
use countersign_domain::form::{Value, evaluate};
use countersign_domain::messages::Locale;
use countersign_domain::org::{Department, OrgSnapshot, Person};
use countersign_domain::templates::{self, NotificationApprove, Template};
use countersign_domain::workflow::ReturnTarget;
use proptest::prelude::*;
use serde_json::{Value as Json, json};
use uuid::Uuid;

// People.
const CEO: u128 = 1;
const SALES_HEAD: u128 = 2;
const SALES_MANAGER: u128 = 3;
const ALICE: u128 = 4;
const BOB: u128 = 5;
const FIN_DIRECTOR: u128 = 10;
const FINANCE_A: u128 = 11;
const FINANCE_B: u128 = 12;
const HR: u128 = 13;
const WORKFLOW_ADMIN: u128 = 14;
// Departments.
const HQ: u128 = 100;
const SALES: u128 = 101;
const FINANCE_DEPT: u128 = 102;

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn org() -> OrgSnapshot {
    let person = |dept: u128, manager: Option<u128>, roles: &[&str]| Person {
        name: String::new(),
        department: Some(id(dept)),
        manager: manager.map(id),
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        active: true,
    };
    let people = BTreeMap::from([
        (id(CEO), person(HQ, None, &["general_manager"])),
        (id(SALES_HEAD), person(SALES, Some(CEO), &[])),
        (id(SALES_MANAGER), person(SALES, Some(SALES_HEAD), &[])),
        (id(ALICE), person(SALES, Some(SALES_MANAGER), &[])),
        (id(BOB), person(SALES, Some(SALES_MANAGER), &[])),
        (
            id(FIN_DIRECTOR),
            person(FINANCE_DEPT, Some(CEO), &["finance_director"]),
        ),
        (
            id(FINANCE_A),
            person(FINANCE_DEPT, Some(FIN_DIRECTOR), &["finance"]),
        ),
        (
            id(FINANCE_B),
            person(FINANCE_DEPT, Some(FIN_DIRECTOR), &["finance"]),
        ),
        (id(HR), person(HQ, Some(CEO), &["hr"])),
        (
            id(WORKFLOW_ADMIN),
            person(HQ, Some(CEO), &["workflow_admin"]),
        ),
    ]);
    let dept = |name: &str, parent: Option<u128>, head: u128| Department {
        name: name.to_owned(),
        parent: parent.map(id),
        head: Some(id(head)),
    };
    let departments = BTreeMap::from([
        (id(HQ), dept("HQ", None, CEO)),
        (id(SALES), dept("Sales", Some(HQ), SALES_HEAD)),
        (id(FINANCE_DEPT), dept("Finance", Some(HQ), FIN_DIRECTOR)),
    ]);
    OrgSnapshot {
        people,
        departments,
        delegations: Vec::new(),
    }
}

/// Beijing local time in 2026.
fn bj(m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    beijing()
        .with_ymd_and_hms(2026, m, d, h, min, 0)
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

fn beijing() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap()
}

fn claim_form(amount: &str) -> Json {
    json!({"purpose": "Shanghai client visit", "lines": [
        {"date": "2026-03-02", "category": "travel", "description": "train",
         "amount": {"amount": amount, "currency": "CNY"},
         "invoice": [{"id": "0190f5b0-0000-7000-8000-000000000001", "name": "invoice.pdf",
                      "size": 20480, "content_type": "application/pdf"}]}
    ]})
}

fn leave(days_end: &str) -> Json {
    json!({"leave_type": "annual", "reason": "family",
           "period": {"start": "2026-03-16", "end": days_end}})
}

/// The server's side, played by the real engine: it makes the views the feed carries.
struct Server {
    template: Template,
    org: OrgSnapshot,
    calendar: WorkingCalendar,
}

impl Server {
    fn new(template: &str) -> Self {
        Self::with(templates::shipped(template).unwrap())
    }

    fn with(template: Template) -> Self {
        Self {
            template,
            org: org(),
            calendar: WorkingCalendar::cn_mainland().unwrap(),
        }
    }

    fn engine(&self) -> Engine<'_> {
        Engine {
            schema: &self.template.form,
            definition: &self.template.workflow,
            org: &self.org,
            calendar: &self.calendar,
        }
    }

    fn submit(&self, n: u128, initiator: u128, form: Json, at: DateTime<Utc>) -> RequestView {
        let request = Uuid::from_u128(0x5eed_0000 + n);
        let draft = RequestState::draft(request, id(initiator), at);
        let action = Action::Submit { form: form.clone() };
        let state = self
            .engine()
            .apply(&draft, &action, Actor::person(id(initiator)), at)
            .unwrap()
            .state;
        let computed = serde_json::to_value(
            evaluate(&self.template.form, &form, &self.calendar)
                .form
                .computed,
        )
        .unwrap();
        RequestView {
            id: request,
            template_id: self.template.id.clone(),
            template_version: self.template.version,
            title: format!("{}：{n}", self.template.name.zh),
            initiator: id(initiator),
            status: state.status,
            version: state.revision,
            form,
            computed,
            created_at: at,
            updated_at: at,
            state,
            overdue_tasks: Vec::new(),
        }
    }

    fn try_act(
        &self,
        view: &RequestView,
        actor: u128,
        action: Action,
        at: DateTime<Utc>,
    ) -> Option<RequestView> {
        let state = self
            .engine()
            .apply(&view.state, &action, Actor::person(id(actor)), at)
            .ok()?
            .state;
        let mut next = view.clone();
        if let Action::Resubmit { form, .. } = &action {
            next.form = form.clone();
        }
        next.status = state.status;
        next.version = state.revision;
        next.updated_at = state.updated_at;
        next.state = state;
        Some(next)
    }

    fn act(
        &self,
        view: &RequestView,
        actor: u128,
        action: Action,
        at: DateTime<Utc>,
    ) -> RequestView {
        self.try_act(view, actor, action.clone(), at)
            .unwrap_or_else(|| panic!("{action:?} by {actor} refused"))
    }
}

/// As the server's overdue scan does: flags the task without a new version.
fn flag_overdue(view: &RequestView, task: TaskId) -> RequestView {
    let mut next = view.clone();
    next.overdue_tasks.push(task);
    next.overdue_tasks.sort_unstable();
    next
}

fn task_of(view: &RequestView, person: u128) -> TaskId {
    view.open_tasks_for(id(person))
        .next()
        .unwrap_or_else(|| panic!("{person} has no open task"))
}

fn approve(view: &RequestView, person: u128) -> Action {
    Action::Approve {
        task: task_of(view, person),
        comment: "OK".into(),
    }
}

fn upsert(view: &RequestView) -> Change {
    Change {
        kind: EntityKind::Request,
        id: view.id.to_string(),
        version: view.version,
        op: ChangeOp::Upsert,
        data: Some(serde_json::to_value(view).unwrap()),
    }
}

/// One person's client: its cache and its notification record, as the sync loop keeps them.
#[derive(Clone)]
struct Device {
    me: Uuid,
    cache: BTreeMap<Uuid, RequestView>,
    /// The template versions synced, as the cache holds them: the shipped library.
    templates: Vec<Template>,
    record: NotificationRecord,
}

impl Device {
    fn of(person: u128) -> Self {
        Self {
            me: id(person),
            cache: BTreeMap::new(),
            templates: templates::library().unwrap(),
            record: NotificationRecord::default(),
        }
    }

    fn receive_in(&mut self, mode: SyncMode, view: &RequestView) -> Vec<Planned> {
        let change = upsert(view);
        let previous = self.cache.get(&view.id);
        let template = self
            .templates
            .iter()
            .find(|t| t.id == view.template_id && t.version == view.template_version);
        let plan = plan(
            self.me,
            mode,
            &change,
            previous,
            template,
            std::mem::take(&mut self.record),
        );
        self.record = plan.record;
        if previous.is_none_or(|p| p.version <= view.version) {
            self.cache.insert(view.id, view.clone());
        }
        plan.planned
    }

    fn receive(&mut self, view: &RequestView) -> Vec<Planned> {
        self.receive_in(SyncMode::Live, view)
    }

    /// Ends a catch-up as the client does: counts what the notes hold back and hands over
    /// the requests they are about, as cached now.
    fn finish_catch_up(&mut self) -> Vec<Planned> {
        let (count, overdue) = self.record.held_counts();
        let requests: Vec<(&RequestView, Option<&Template>)> = self
            .record
            .held_requests()
            .iter()
            .map(|id| {
                let view = &self.cache[id];
                let template = self
                    .templates
                    .iter()
                    .find(|t| t.id == view.template_id && t.version == view.template_version);
                (view, template)
            })
            .collect();
        let held = HeldBack {
            count,
            overdue,
            requests: &requests,
        };
        let plan = finish_catch_up(
            self.me,
            std::mem::take(&mut self.record),
            held,
            chrono::Utc::now(),
        );
        self.record = plan.record;
        plan.planned
    }

    /// A restart: the record goes to disk as JSON and comes back.
    fn restart(&mut self) {
        let stored = serde_json::to_string(&self.record).unwrap();
        self.record = serde_json::from_str(&stored).unwrap();
    }
}

fn shows(planned: &[Planned]) -> Vec<&Notification> {
    planned
        .iter()
        .filter_map(|p| match p {
            Planned::Show(n) => Some(n),
            Planned::Retract(_) => None,
        })
        .collect()
}

fn retracts(planned: &[Planned]) -> Vec<&NotificationId> {
    planned
        .iter()
        .filter_map(|p| match p {
            Planned::Retract(id) => Some(id),
            Planned::Show(_) => None,
        })
        .collect()
}

fn only_show(planned: &[Planned]) -> &Notification {
    let shown = shows(planned);
    assert_eq!(shown.len(), 1, "exactly one notification: {planned:#?}");
    assert!(
        retracts(planned).is_empty(),
        "nothing retracted: {planned:#?}"
    );
    shown[0]
}

#[test]
fn a_new_claim_notifies_its_approver_with_the_figures_and_decide_buttons() {
    let server = Server::new("reimbursement");
    let claim = server.submit(1, ALICE, claim_form("1200.00"), bj(3, 9, 9, 0));
    let task = task_of(&claim, SALES_MANAGER);

    let mut manager = Device::of(SALES_MANAGER);
    let planned = manager.receive(&claim);
    let shown = only_show(&planned);
    let NotificationKind::PendingApproval {
        request,
        task: notified_task,
        due_at,
        overdue,
        figures,
        ..
    } = &shown.kind
    else {
        panic!("a pending approval: {shown:#?}");
    };
    assert_eq!((request.id, *notified_task), (claim.id, task));
    assert_eq!(request.initiator, id(ALICE));
    assert_eq!(request.template_id, "reimbursement");
    assert_eq!(
        *due_at,
        claim.state.task(task).unwrap().due_at,
        "the SLA due time travels with the notification"
    );
    assert!(due_at.is_some() && !overdue);
    assert_eq!(figures.len(), 1, "the claim's total: {figures:?}");
    assert_eq!(figures[0].field, "total");
    assert!(
        matches!(&figures[0].value, Value::Money(m) if m.amount.to_string() == "1200.00"),
        "{figures:?}"
    );
    assert_eq!(
        shown.actions,
        vec![
            NotificationAction::Approve {
                request: claim.id,
                task,
                version: claim.version
            },
            NotificationAction::Reject {
                request: claim.id,
                task,
                version: claim.version
            },
            NotificationAction::Open { request: claim.id },
        ],
        "a claim of CNY 1,200 can be decided from the notification, against the version shown"
    );

    // The initiator submitted it herself, and Bob has nothing to do with it.
    assert!(Device::of(ALICE).receive(&claim).is_empty());
    assert!(Device::of(BOB).receive(&claim).is_empty());
}

#[test]
fn a_pending_approval_reads_well_in_english_and_chinese() {
    let server = Server::new("reimbursement");
    let claim = server.submit(1, ALICE, claim_form("12345.60"), bj(3, 9, 9, 0));
    let planned = Device::of(SALES_MANAGER).receive(&claim);
    let shown = only_show(&planned);
    let names = Names {
        people: BTreeMap::from([(id(ALICE), "Alice Wang".to_owned())]),
        templates: templates::library().unwrap(),
    };
    let ctx = |locale| RenderContext {
        locale,
        offset: beijing(),
        directory: &names,
    };
    // 16 working hours from Monday 09:00 is Tuesday 18:00 in Beijing.
    let en = shown.render(&ctx(Locale::En));
    assert_eq!(
        en.title,
        format!("Waiting for your approval: {}", claim.title)
    );
    assert_eq!(
        en.body,
        "Expense reimbursement from Alice Wang (Total: CNY 12,345.60); due 2026-03-10 18:00"
    );
    // Above CNY 5,000 the claim is read before it is decided.
    assert_eq!(
        en.actions
            .iter()
            .map(|(_, l)| l.as_str())
            .collect::<Vec<_>>(),
        ["Open"]
    );
    let zh = shown.render(&ctx(Locale::ZhCn));
    assert_eq!(zh.title, format!("待您审批：{}", claim.title));
    assert_eq!(
        zh.body,
        "Alice Wang提交的费用报销（报销合计：CNY 12,345.60），请在 2026-03-10 18:00 前处理"
    );
    assert_eq!(
        zh.actions
            .iter()
            .map(|(_, l)| l.as_str())
            .collect::<Vec<_>>(),
        ["查看"]
    );
}

/// The action kinds a pending approval offers, in order.
fn offered(planned: &[Planned]) -> Vec<&'static str> {
    only_show(planned)
        .actions
        .iter()
        .map(|a| match a {
            NotificationAction::Approve { .. } => "approve",
            NotificationAction::Reject { .. } => "reject",
            NotificationAction::Open { .. } => "open",
            NotificationAction::OpenMeeting { .. } => "open_meeting",
            NotificationAction::Rsvp { .. } => "rsvp",
            NotificationAction::OpenInbox => "open_inbox",
        })
        .collect()
}

#[test]
fn approve_is_offered_only_where_the_template_allows_it() {
    let claims = Server::new("reimbursement");
    let small = claims.submit(1, ALICE, claim_form("4800.00"), bj(3, 9, 9, 0));
    assert_eq!(
        offered(&Device::of(SALES_MANAGER).receive(&small)),
        ["approve", "reject", "open"],
        "CNY 4,800 is within the CNY 5,000 the template allows approving blind"
    );
    let large = claims.submit(2, ALICE, claim_form("12000.00"), bj(3, 9, 9, 0));
    assert_eq!(
        offered(&Device::of(SALES_MANAGER).receive(&large)),
        ["open"],
        "CNY 12,000 must be read before it is decided"
    );
    let boundary = claims.submit(3, ALICE, claim_form("5000.00"), bj(3, 9, 9, 0));
    assert_eq!(
        offered(&Device::of(SALES_MANAGER).receive(&boundary)),
        ["approve", "reject", "open"],
        "the limit itself is allowed"
    );
    let over = claims.submit(4, ALICE, claim_form("5000.01"), bj(3, 9, 9, 0));
    assert_eq!(offered(&Device::of(SALES_MANAGER).receive(&over)), ["open"]);

    let leave_request = Server::new("leave").submit(5, ALICE, leave("2026-03-27"), bj(3, 9, 9, 0));
    assert_eq!(
        offered(&Device::of(SALES_MANAGER).receive(&leave_request)),
        ["approve", "reject", "open"],
        "leave has no money: always approvable from a notification"
    );
}

#[test]
fn without_the_requests_template_version_a_notification_offers_open_only() {
    let server = Server::new("leave");
    let request = server.submit(1, ALICE, leave("2026-03-17"), bj(3, 9, 9, 0));
    // Templates not synced yet: approving blind would be a guess.
    let mut unsynced = Device::of(SALES_MANAGER);
    unsynced.templates.clear();
    assert_eq!(offered(&unsynced.receive(&request)), ["open"]);
    // Another version of the same template does not stand in for the one the request runs on.
    let mut other_version = Device::of(SALES_MANAGER);
    for template in &mut other_version.templates {
        template.version += 1;
    }
    assert_eq!(offered(&other_version.receive(&request)), ["open"]);
    // A template that says never.
    let mut strict = Device::of(SALES_MANAGER);
    for template in &mut strict.templates {
        template.notification_approve = Some(NotificationApprove::Never {});
    }
    assert_eq!(offered(&strict.receive(&request)), ["open"]);
}

#[test]
fn an_action_refused_from_a_notification_is_told_once_per_request_and_offers_open() {
    let request = id(0x5eed_0001);
    let first = action_refused(
        request,
        "请假：1".to_owned(),
        "Already approved by Li Lei at 2026-03-09 10:00 UTC".to_owned(),
    );
    let second = action_refused(request, "请假：1".to_owned(), "Already rejected".to_owned());
    assert_eq!(
        first.id, second.id,
        "a second click replaces the first answer rather than stacking another"
    );
    assert_ne!(
        first.id,
        action_refused(id(0x5eed_0002), String::new(), String::new()).id,
        "one per request"
    );
    assert_eq!(first.actions, vec![NotificationAction::Open { request }]);
    assert!(matches!(
        &first.kind,
        NotificationKind::ActionRefused { request: r, reason, .. }
            if *r == request && reason.starts_with("Already approved")
    ));
    let names = Names::default();
    let ctx = |locale| RenderContext {
        locale,
        offset: beijing(),
        directory: &names,
    };
    let en = first.render(&ctx(Locale::En));
    assert_eq!(en.title, "Could not be done: 请假：1");
    assert_eq!(
        en.body,
        "Already approved by Li Lei at 2026-03-09 10:00 UTC. Open the request to see where it stands"
    );
    let zh = second.render(&ctx(Locale::ZhCn));
    assert_eq!(zh.title, "未能处理：请假：1");
    assert_eq!(zh.body, "Already rejected。请打开申请查看当前状态");
}

#[test]
fn leave_shows_its_days_and_period() {
    let server = Server::new("leave");
    // Monday to Thursday noon: 3.5 working days, so the department head decides too.
    let mut form = leave("2026-03-19");
    form["period"]["end_half"] = json!("am");
    let request = server.submit(1, ALICE, form, bj(3, 9, 9, 0));
    let planned = Device::of(SALES_MANAGER).receive(&request);
    let NotificationKind::PendingApproval { figures, .. } = &only_show(&planned).kind else {
        panic!("pending");
    };
    let fields: Vec<&str> = figures.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(fields, ["days", "period"]);
    assert!(matches!(&figures[0].value, Value::Number(d) if d.to_string() == "3.5"));
}

#[test]
fn a_later_step_opening_notifies_its_approver_once_and_the_earlier_one_nothing_more() {
    let server = Server::new("reimbursement");
    let claim = server.submit(1, ALICE, claim_form("6000.00"), bj(3, 9, 9, 0));
    let mut manager = Device::of(SALES_MANAGER);
    let mut director = Device::of(FIN_DIRECTOR);
    manager.receive(&claim);
    assert!(director.receive(&claim).is_empty(), "not their step yet");

    let approved = server.act(
        &claim,
        SALES_MANAGER,
        approve(&claim, SALES_MANAGER),
        bj(3, 9, 10, 0),
    );
    let planned = director.receive(&approved);
    assert!(matches!(
        only_show(&planned).kind,
        NotificationKind::PendingApproval { .. }
    ));
    // The manager approved it (on this or another device): the notification goes away and
    // nothing else is said to them.
    let planned = manager.receive(&approved);
    assert!(shows(&planned).is_empty());
    assert_eq!(retracts(&planned).len(), 1);
    assert!(manager.record.on_screen().is_empty());
}

#[test]
fn my_own_submission_does_not_ask_me_to_approve_it_but_a_step_opened_by_others_does() {
    // Finance people decide on their own claims like anyone else in this variant.
    let deciding = |first_step_role: Option<&str>| {
        let mut template = templates::shipped("reimbursement").unwrap();
        let mut workflow = serde_json::to_value(&template.workflow).unwrap();
        for step in workflow["steps"].as_array_mut().unwrap() {
            if step["kind"] == "approval" {
                step["initiator_approver"] = json!("decides");
            }
            if let Some(role) = first_step_role
                && step["id"] == "manager"
            {
                step["approvers"] = json!([{"kind": "role", "role": role}]);
                step["mode"] = json!("any");
            }
        }
        template.workflow = serde_json::from_value(workflow).unwrap();
        Server::with(template)
    };

    // The first step is finance itself: the submission opens the submitter's own task.
    let server = deciding(Some("finance"));
    let claim = server.submit(1, FINANCE_A, claim_form("100.00"), bj(3, 9, 9, 0));
    assert!(claim.open_tasks_for(id(FINANCE_A)).next().is_some());
    let mut finance_a = Device::of(FINANCE_A);
    assert!(
        finance_a.receive(&claim).is_empty(),
        "the submitter's own action opened it: they know"
    );
    assert!(
        matches!(
            only_show(&Device::of(FINANCE_B).receive(&claim)).kind,
            NotificationKind::PendingApproval { .. }
        ),
        "the co-approver is told"
    );

    // The usual route: the director's approval opens the finance step, including the
    // submitter's own seat — that one is genuinely new to them.
    let server = deciding(None);
    let claim = server.submit(2, FINANCE_A, claim_form("100.00"), bj(3, 9, 9, 0));
    let mut finance_a = Device::of(FINANCE_A);
    assert!(finance_a.receive(&claim).is_empty());
    let approved = server.act(
        &claim,
        FIN_DIRECTOR,
        approve(&claim, FIN_DIRECTOR),
        bj(3, 9, 10, 0),
    );
    assert!(matches!(
        only_show(&finance_a.receive(&approved)).kind,
        NotificationKind::PendingApproval { .. }
    ));
}

#[test]
fn overdue_warns_the_approver_and_the_initiator_once_and_is_taken_back_when_decided() {
    let server = Server::new("leave");
    let request = server.submit(1, ALICE, leave("2026-03-17"), bj(3, 9, 9, 0));
    let task = task_of(&request, SALES_MANAGER);
    let mut manager = Device::of(SALES_MANAGER);
    let mut alice = Device::of(ALICE);
    manager.receive(&request);
    alice.receive(&request);

    let overdue = flag_overdue(&request, task);
    assert_eq!(
        overdue.version, request.version,
        "the scan does not bump the version"
    );
    let mine = manager.receive(&overdue);
    let warning = only_show(&mine);
    assert!(matches!(
        warning.kind,
        NotificationKind::Overdue { whose: OverdueFor::MyTask, task: t, .. } if t == task
    ));
    assert_eq!(
        warning.actions,
        vec![NotificationAction::Open {
            request: request.id
        }]
    );
    let theirs = alice.receive(&overdue);
    let alice_warning = only_show(&theirs).id.clone();
    assert!(matches!(
        only_show(&theirs).kind,
        NotificationKind::Overdue { whose: OverdueFor::MyRequest { assignee }, .. } if assignee == id(SALES_MANAGER)
    ));

    // Delivered again (a replayed page): nothing.
    assert!(manager.receive(&overdue).is_empty());
    assert!(alice.receive(&overdue).is_empty());

    // Decided: both the pending notice and the warning go; Alice's warning too, and she
    // hears the outcome.
    let approved = server.act(
        &overdue,
        SALES_MANAGER,
        approve(&overdue, SALES_MANAGER),
        bj(3, 10, 9, 0),
    );
    let planned = manager.receive(&approved);
    assert!(shows(&planned).is_empty());
    assert_eq!(
        retracts(&planned).len(),
        2,
        "pending and overdue: {planned:#?}"
    );
    let planned = alice.receive(&approved);
    assert_eq!(retracts(&planned), vec![&alice_warning]);
    assert!(matches!(
        only_outcome(&planned),
        (Outcome::Approved, by) if by == id(SALES_MANAGER)
    ));
}

fn only_outcome(planned: &[Planned]) -> (Outcome, Uuid) {
    let shown = shows(planned);
    assert_eq!(shown.len(), 1, "{planned:#?}");
    match &shown[0].kind {
        NotificationKind::Outcome {
            outcome,
            decided_by,
            ..
        } => (*outcome, *decided_by),
        other => panic!("an outcome: {other:#?}"),
    }
}

#[test]
fn a_pending_task_first_seen_already_overdue_is_one_notification() {
    let server = Server::new("leave");
    let request = server.submit(1, ALICE, leave("2026-03-17"), bj(3, 9, 9, 0));
    let overdue = flag_overdue(&request, task_of(&request, SALES_MANAGER));
    let planned = Device::of(SALES_MANAGER).receive(&overdue);
    assert!(matches!(
        only_show(&planned).kind,
        NotificationKind::PendingApproval { overdue: true, .. }
    ));
}

#[test]
fn the_initiator_hears_approved_rejected_and_returned_with_who_and_why() {
    let server = Server::new("reimbursement");
    let at = bj(3, 9, 10, 0);

    // Approved: the manager, then finance (any one).
    let claim = server.submit(1, ALICE, claim_form("300.00"), bj(3, 9, 9, 0));
    let mut alice = Device::of(ALICE);
    assert!(alice.receive(&claim).is_empty());
    let step1 = server.act(&claim, SALES_MANAGER, approve(&claim, SALES_MANAGER), at);
    assert!(alice.receive(&step1).is_empty(), "in progress is not news");
    let done = server.act(&step1, FINANCE_B, approve(&step1, FINANCE_B), at);
    let planned = alice.receive(&done);
    assert_eq!(only_outcome(&planned), (Outcome::Approved, id(FINANCE_B)));
    assert_eq!(
        shows(&planned)[0].actions,
        vec![NotificationAction::Open { request: done.id }],
        "an outcome is read, not decided"
    );

    // Rejected, with the reason.
    let claim = server.submit(2, ALICE, claim_form("300.00"), bj(3, 9, 9, 0));
    let rejected = server.act(
        &claim,
        SALES_MANAGER,
        Action::Reject {
            task: task_of(&claim, SALES_MANAGER),
            comment: "Not a business trip".into(),
        },
        at,
    );
    let planned = alice.receive(&rejected);
    assert_eq!(
        only_outcome(&planned),
        (Outcome::Rejected, id(SALES_MANAGER))
    );
    let NotificationKind::Outcome { comment, .. } = &shows(&planned)[0].kind else {
        unreachable!()
    };
    assert_eq!(comment, "Not a business trip");
    let en = shows(&planned)[0].render(&RenderContext {
        locale: Locale::En,
        offset: beijing(),
        directory: &Names {
            people: BTreeMap::from([(id(SALES_MANAGER), "Li Lei".to_owned())]),
            templates: Vec::new(),
        },
    });
    assert_eq!(
        en.body,
        "Li Lei rejected your request: “Not a business trip”"
    );

    // Returned, resubmitted, returned again: each return is news; a resubmission takes the
    // first one back.
    let claim = server.submit(3, ALICE, claim_form("300.00"), bj(3, 9, 9, 0));
    let return_it = |view: &RequestView| Action::Return {
        task: task_of(view, SALES_MANAGER),
        to: Some(ReturnTarget::Initiator),
        comment: "Attach the ticket".into(),
    };
    let returned = server.act(&claim, SALES_MANAGER, return_it(&claim), at);
    let planned = alice.receive(&returned);
    assert_eq!(
        only_outcome(&planned),
        (Outcome::Returned, id(SALES_MANAGER))
    );
    let first_return = shows(&planned)[0].id.clone();
    let resubmitted = server.act(
        &returned,
        ALICE,
        Action::Resubmit {
            form: claim_form_again(),
            comment: String::new(),
        },
        bj(3, 9, 11, 0),
    );
    let planned = alice.receive(&resubmitted);
    assert_eq!(retracts(&planned), vec![&first_return]);
    assert!(shows(&planned).is_empty(), "resubmitting is her own doing");
    let again = server.act(
        &resubmitted,
        SALES_MANAGER,
        return_it(&resubmitted),
        bj(3, 9, 12, 0),
    );
    let planned = alice.receive(&again);
    assert_eq!(
        only_outcome(&planned),
        (Outcome::Returned, id(SALES_MANAGER))
    );
    assert_ne!(
        shows(&planned)[0].id,
        first_return,
        "a new round, a new notice"
    );
}

fn claim_form_again() -> Json {
    claim_form("280.00")
}

#[test]
fn my_own_decisions_and_withdrawals_are_never_news_to_me() {
    let server = Server::new("reimbursement");
    let at = bj(3, 9, 10, 0);
    let claim = server.submit(1, ALICE, claim_form("300.00"), bj(3, 9, 9, 0));
    let mut manager = Device::of(SALES_MANAGER);
    manager.receive(&claim);
    let rejected = server.act(
        &claim,
        SALES_MANAGER,
        Action::Reject {
            task: task_of(&claim, SALES_MANAGER),
            comment: "no".into(),
        },
        at,
    );
    let planned = manager.receive(&rejected);
    assert!(
        shows(&planned).is_empty(),
        "the approver is not told of their own rejection"
    );

    let claim = server.submit(2, ALICE, claim_form("300.00"), bj(3, 9, 9, 0));
    let mut alice = Device::of(ALICE);
    alice.receive(&claim);
    let withdrawn = server.act(
        &claim,
        ALICE,
        Action::Withdraw {
            comment: String::new(),
        },
        at,
    );
    assert!(alice.receive(&withdrawn).is_empty());
}

#[test]
fn a_pending_notice_is_taken_back_when_the_task_goes_elsewhere() {
    let server = Server::new("reimbursement");
    let at = bj(3, 9, 10, 0);
    let claim = server.submit(1, ALICE, claim_form("300.00"), bj(3, 9, 9, 0));
    let step1 = server.act(&claim, SALES_MANAGER, approve(&claim, SALES_MANAGER), at);

    // Any one of finance: B decides, A's notice goes.
    let mut finance_a = Device::of(FINANCE_A);
    let shown = only_show(&finance_a.receive(&step1)).id.clone();
    let decided = server.act(&step1, FINANCE_B, approve(&step1, FINANCE_B), at);
    let planned = finance_a.receive(&decided);
    assert_eq!(planned, vec![Planned::Retract(shown)]);

    // Withdrawn by the initiator.
    let mut finance_a = Device::of(FINANCE_A);
    let shown = only_show(&finance_a.receive(&step1)).id.clone();
    let withdrawn = server.act(
        &step1,
        ALICE,
        Action::Withdraw {
            comment: "booked twice".into(),
        },
        at,
    );
    assert_eq!(finance_a.receive(&withdrawn), vec![Planned::Retract(shown)]);

    // Transferred by the holder to a colleague: theirs now, and the colleague is told.
    let mut manager = Device::of(SALES_MANAGER);
    let shown = only_show(&manager.receive(&claim)).id.clone();
    let transferred = server.act(
        &claim,
        SALES_MANAGER,
        Action::Transfer {
            task: task_of(&claim, SALES_MANAGER),
            to: id(SALES_HEAD),
            comment: String::new(),
        },
        at,
    );
    assert_eq!(manager.receive(&transferred), vec![Planned::Retract(shown)]);
    assert!(matches!(
        only_show(&Device::of(SALES_HEAD).receive(&transferred)).kind,
        NotificationKind::PendingApproval { .. }
    ));

    // Gone from my feed altogether.
    let mut manager = Device::of(SALES_MANAGER);
    let shown = only_show(&manager.receive(&claim)).id.clone();
    let deleted = Change {
        kind: EntityKind::Request,
        id: claim.id.to_string(),
        version: claim.version + 1,
        op: ChangeOp::Delete,
        data: None,
    };
    let plan = plan(
        manager.me,
        SyncMode::Live,
        &deleted,
        manager.cache.get(&claim.id),
        None,
        manager.record.clone(),
    );
    assert_eq!(plan.planned, vec![Planned::Retract(shown)]);
}

#[test]
fn duplicates_and_late_arrivals_notify_nothing_more() {
    let server = Server::new("reimbursement");
    let claim = server.submit(1, ALICE, claim_form("6000.00"), bj(3, 9, 9, 0));
    let step1 = server.act(
        &claim,
        SALES_MANAGER,
        approve(&claim, SALES_MANAGER),
        bj(3, 9, 10, 0),
    );
    let mut director = Device::of(FIN_DIRECTOR);
    assert_eq!(shows(&director.receive(&step1)).len(), 1);
    assert!(director.receive(&step1).is_empty(), "the same change twice");

    // The manager's device gets the newer version first, then the older one.
    let mut manager = Device::of(SALES_MANAGER);
    assert!(
        manager.receive(&step1).is_empty(),
        "already decided when first seen"
    );
    assert!(
        manager.receive(&claim).is_empty(),
        "an older version never asks for a decision already taken"
    );

    // The record alone (a cache rebuilt after a resync) is enough to stay quiet.
    director.cache.clear();
    assert!(director.receive(&step1).is_empty());
    // And the cache alone too (a record lost): the same version is a replay.
    let mut fresh = Device::of(FIN_DIRECTOR);
    fresh.cache.insert(step1.id, step1.clone());
    assert!(fresh.receive(&step1).is_empty());
}

#[test]
fn the_record_survives_a_restart() {
    let server = Server::new("reimbursement");
    let claim = server.submit(1, ALICE, claim_form("300.00"), bj(3, 9, 9, 0));
    let mut manager = Device::of(SALES_MANAGER);
    let shown = only_show(&manager.receive(&claim)).id.clone();
    manager.restart();
    manager.cache.clear();
    assert!(
        manager.receive(&claim).is_empty(),
        "not shown again after a restart"
    );
    let transferred = server.act(
        &claim,
        SALES_MANAGER,
        Action::Transfer {
            task: task_of(&claim, SALES_MANAGER),
            to: id(SALES_HEAD),
            comment: String::new(),
        },
        bj(3, 9, 10, 0),
    );
    manager.restart();
    assert_eq!(
        manager.receive(&transferred),
        vec![Planned::Retract(shown)],
        "what was on screen before the restart is still taken back"
    );
}

/// A history like a fresh install finds: many finished requests, some waiting for me.
fn history(server: &Server, count: u128) -> (Vec<RequestView>, usize) {
    let mut views = Vec::new();
    let mut waiting = 0;
    for n in 0..count {
        let submitted = server.submit(n, ALICE, claim_form("300.00"), bj(3, 9, 9, 0));
        let view = match n % 10 {
            0 => {
                waiting += 1;
                submitted
            }
            1 => {
                waiting += 1;
                flag_overdue(&submitted, task_of(&submitted, SALES_MANAGER))
            }
            2..=5 => {
                let step1 = server.act(
                    &submitted,
                    SALES_MANAGER,
                    approve(&submitted, SALES_MANAGER),
                    bj(3, 9, 10, 0),
                );
                server.act(
                    &step1,
                    FINANCE_A,
                    approve(&step1, FINANCE_A),
                    bj(3, 9, 11, 0),
                )
            }
            6 => server.act(
                &submitted,
                SALES_MANAGER,
                Action::Reject {
                    task: task_of(&submitted, SALES_MANAGER),
                    comment: "no".into(),
                },
                bj(3, 9, 10, 0),
            ),
            _ => server.act(
                &submitted,
                SALES_MANAGER,
                approve(&submitted, SALES_MANAGER),
                bj(3, 9, 10, 0),
            ),
        };
        views.push(view);
    }
    (views, waiting)
}

#[test]
fn a_first_download_of_300_requests_is_one_summary_not_hundreds() {
    let server = Server::new("reimbursement");
    let (views, waiting) = history(&server, 300);
    assert_eq!(waiting, 60);

    let mut manager = Device::of(SALES_MANAGER);
    let mut alice = Device::of(ALICE);
    for view in &views {
        assert!(manager.receive_in(SyncMode::CatchUp, view).is_empty());
        assert!(alice.receive_in(SyncMode::CatchUp, view).is_empty());
    }
    let planned = manager.finish_catch_up();
    let summary = only_show(&planned);
    assert_eq!(
        summary.kind,
        NotificationKind::CatchUp {
            pending: 60,
            overdue: 30
        }
    );
    assert_eq!(summary.actions, vec![NotificationAction::OpenInbox]);
    assert!(
        alice.finish_catch_up().is_empty(),
        "the outcomes of her old requests are history, not news"
    );

    // After the catch-up, the same requests again say nothing; new ones do.
    for view in &views {
        assert!(manager.receive(view).is_empty());
        assert!(alice.receive(view).is_empty());
    }
    let fresh = server.submit(1000, ALICE, claim_form("50.00"), bj(3, 12, 9, 0));
    assert_eq!(shows(&manager.receive(&fresh)).len(), 1);
    let decided = server.act(
        &views[7],
        FINANCE_B,
        approve(&views[7], FINANCE_B),
        bj(3, 12, 10, 0),
    );
    assert_eq!(
        only_outcome(&alice.receive(&decided)),
        (Outcome::Approved, id(FINANCE_B))
    );
}

#[test]
fn a_small_catch_up_shows_the_waiting_tasks_themselves() {
    let server = Server::new("reimbursement");
    // Twelve requests, four of them waiting for the manager (two overdue).
    let (views, waiting) = history(&server, 12);
    assert_eq!(waiting, 4);
    let mut manager = Device::of(SALES_MANAGER);
    for view in &views {
        manager.receive_in(SyncMode::CatchUp, view);
    }
    assert_eq!(manager.record.held(), 4);
    // One of them is decided before the download ends: it is dropped, never shown.
    let decided = server.act(
        &views[0],
        SALES_MANAGER,
        approve(&views[0], SALES_MANAGER),
        bj(3, 9, 12, 0),
    );
    assert!(manager.receive_in(SyncMode::CatchUp, &decided).is_empty());
    let planned = manager.finish_catch_up();
    let shown = shows(&planned);
    assert_eq!(shown.len(), CATCH_UP_SHOW_LIMIT, "three fit: no summary");
    let overdue = shown
        .iter()
        .filter(|n| {
            matches!(
                n.kind,
                NotificationKind::PendingApproval { overdue: true, .. }
            )
        })
        .count();
    assert_eq!(
        overdue, 2,
        "an overdue task is one notice that says so, not two"
    );
    assert!(shown.iter().all(|n| n.id != NotificationId::catch_up()));
    let mut on_screen: Vec<NotificationId> = shown.iter().map(|n| n.id.clone()).collect();
    on_screen.sort();
    assert_eq!(
        manager.record.on_screen(),
        on_screen,
        "shown at the end of a catch-up, and retractable like any other"
    );
}

#[test]
fn a_large_catch_up_whittled_down_to_a_few_shows_those_few_as_they_are_now() {
    let server = Server::new("reimbursement");
    // 400 requests, 80 waiting for the manager.
    let (views, waiting) = history(&server, 400);
    assert_eq!(waiting, 80);
    let mut manager = Device::of(SALES_MANAGER);
    for view in &views {
        manager.receive_in(SyncMode::CatchUp, view);
    }
    // All but the last two are decided on another device before the download ends.
    let waiting: Vec<&RequestView> = views
        .iter()
        .enumerate()
        .filter(|(n, _)| n % 10 < 2)
        .map(|(_, v)| v)
        .collect();
    for view in &waiting[..waiting.len() - 2] {
        let decided = server.act(
            view,
            SALES_MANAGER,
            approve(view, SALES_MANAGER),
            bj(3, 9, 12, 0),
        );
        assert!(manager.receive_in(SyncMode::CatchUp, &decided).is_empty());
    }
    assert_eq!(manager.record.held(), 2);
    let planned = manager.finish_catch_up();
    let shown = shows(&planned);
    let mut overdue: Vec<bool> = shown
        .iter()
        .map(|n| match n.kind {
            NotificationKind::PendingApproval { overdue, .. } => overdue,
            _ => panic!("only the two tasks left: {shown:#?}"),
        })
        .collect();
    overdue.sort_unstable();
    assert_eq!(
        overdue,
        [false, true],
        "the two left, one by one, the overdue one saying so"
    );
}

#[test]
fn notifiers_print_one_line_and_record_everything() {
    let server = Server::new("reimbursement");
    let claim = server.submit(1, ALICE, claim_form("300.00"), bj(3, 9, 9, 0));
    let planned = Device::of(SALES_MANAGER).receive(&claim);
    let stdout = StdoutNotifier {
        locale: Locale::En,
        offset: beijing(),
        names: Names::default(),
    };
    let line = stdout.line(&planned[0]);
    assert!(
        line.starts_with(&format!(
            "show request/{}/pending/1 | Waiting for your approval: ",
            claim.id
        )),
        "{line}"
    );
    assert!(line.ends_with("[Approve, Reject, Open]"), "{line}");
    assert!(!line.contains('\n'), "one line per notification");
    let id = shows(&planned)[0].id.clone();
    assert_eq!(
        stdout.line(&Planned::Retract(id.clone())),
        format!("retract {id}")
    );
    stdout.deliver(&planned).unwrap();

    let recorder = RecordingNotifier::default();
    recorder.deliver(&planned).unwrap();
    recorder.deliver(&[Planned::Retract(id)]).unwrap();
    assert_eq!(recorder.delivered().len(), 2);
    assert_eq!(recorder.shown().len(), 1);
}

/// A random history of one claim: each step is one person's attempt at something; the
/// engine refuses what is not theirs to do, as the server would.
fn story(steps: &[(u8, u8)]) -> Vec<RequestView> {
    let server = Server::new("reimbursement");
    let people = [
        ALICE,
        SALES_MANAGER,
        FIN_DIRECTOR,
        FINANCE_A,
        FINANCE_B,
        SALES_HEAD,
    ];
    let mut view = server.submit(1, ALICE, claim_form("6000.00"), bj(3, 9, 9, 0));
    let mut views = vec![view.clone()];
    for (i, (who, what)) in steps.iter().enumerate() {
        let actor = people[*who as usize % people.len()];
        let at = bj(3, 9, 10, 0) + chrono::TimeDelta::minutes(i as i64);
        let task = view.state.open_tasks_of(id(actor)).next().map(|t| t.id);
        let next = match (what % 6, task) {
            (0, Some(task)) => server.try_act(
                &view,
                actor,
                Action::Approve {
                    task,
                    comment: String::new(),
                },
                at,
            ),
            (1, Some(task)) => server.try_act(
                &view,
                actor,
                Action::Reject {
                    task,
                    comment: "no".into(),
                },
                at,
            ),
            (2, Some(task)) => server.try_act(
                &view,
                actor,
                Action::Return {
                    task,
                    to: Some(ReturnTarget::Initiator),
                    comment: "fix".into(),
                },
                at,
            ),
            (3, _) => server.try_act(
                &view,
                actor,
                Action::Resubmit {
                    form: claim_form("6000.00"),
                    comment: String::new(),
                },
                at,
            ),
            (4, _) => server.try_act(
                &view,
                actor,
                Action::Withdraw {
                    comment: String::new(),
                },
                at,
            ),
            (5, _) => view
                .state
                .open_tasks()
                .find(|t| !view.overdue_tasks.contains(&t.id))
                .map(|t| flag_overdue(&view, t.id)),
            _ => None,
        };
        if let Some(next) = next {
            view = next;
            views.push(view.clone());
        }
    }
    views
}

fn shown_ids(device: &mut Device, views: &[RequestView]) -> Vec<NotificationId> {
    views
        .iter()
        .flat_map(|v| device.receive(v))
        .filter_map(|p| match p {
            Planned::Show(n) => Some(n.id),
            Planned::Retract(_) => None,
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Replaying any prefix of the feed twice — a resync, a page fetched again, with or
    /// without a restart in between — shows nothing more than the feed once, and nothing is
    /// ever shown twice.
    #[test]
    fn replaying_a_prefix_twice_shows_nothing_more(
        steps in proptest::collection::vec((0u8..6, 0u8..6), 0..14),
        cut in 0usize..16,
        person in 0usize..6,
        restart in any::<bool>(),
        drop_cache in any::<bool>(),
    ) {
        let views = story(&steps);
        let cut = cut.min(views.len());
        let people = [ALICE, SALES_MANAGER, FIN_DIRECTOR, FINANCE_A, FINANCE_B, SALES_HEAD];
        let me = people[person];

        let once = shown_ids(&mut Device::of(me), &views);

        let mut device = Device::of(me);
        let mut twice = shown_ids(&mut device, &views[..cut]);
        if restart {
            device.restart();
        }
        if drop_cache {
            device.cache.clear();
        }
        let replayed = shown_ids(&mut device, &views[..cut]);
        prop_assert!(replayed.is_empty(), "replay showed {replayed:?}");
        twice.extend(shown_ids(&mut device, &views[cut..]));
        prop_assert_eq!(&twice, &once);
        let distinct: BTreeSet<&NotificationId> = once.iter().collect();
        prop_assert_eq!(distinct.len(), once.len(), "shown twice: {:?}", once);
    }
}
