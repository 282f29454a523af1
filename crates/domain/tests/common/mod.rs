//! A small organisation and form shared by the engine's table, scenario and property tests.
#![allow(clippy::expect_used, clippy::unwrap_used)] // test helpers: a failed fixture should fail loudly
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use countersign_domain::calendar::WorkingCalendar;
use countersign_domain::engine::{Action, Actor, Engine, RequestState, TaskId, Transition};
use countersign_domain::form::FormSchema;
use countersign_domain::org::{Department, OrgSnapshot, Person};
use countersign_domain::workflow::WorkflowDefinition;
use serde_json::{Value as Json, json};
use uuid::Uuid;

pub fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

// People.
pub const CEO: u128 = 1;
pub const SALES_HEAD: u128 = 2;
pub const SALES_MANAGER: u128 = 3;
pub const ALICE: u128 = 4;
pub const BOB: u128 = 5;
pub const CAROL: u128 = 6;
pub const DAVE: u128 = 7;
pub const IT_ADMIN: u128 = 8;
pub const FINANCE: u128 = 9;
pub const FINANCE_DIRECTOR: u128 = 10;
pub const HR: u128 = 11;
pub const WORKFLOW_ADMIN: u128 = 12;
pub const IT_HEAD: u128 = 13;
pub const LEFT_COMPANY: u128 = 14;
pub const PROCUREMENT: u128 = 15;
// Departments.
pub const HQ: u128 = 100;
pub const SALES: u128 = 101;
pub const IT: u128 = 102;
pub const FINANCE_DEPT: u128 = 103;

fn person(dept: u128, manager: Option<u128>, roles: &[&str]) -> Person {
    Person {
        name: String::new(),
        department: Some(id(dept)),
        manager: manager.map(id),
        roles: roles
            .iter()
            .map(|r| (*r).to_owned())
            .collect::<BTreeSet<_>>(),
        active: true,
    }
}

pub fn org() -> OrgSnapshot {
    let mut people = BTreeMap::new();
    people.insert(id(CEO), person(HQ, None, &["general_manager"]));
    people.insert(id(SALES_HEAD), person(SALES, Some(CEO), &[]));
    people.insert(id(SALES_MANAGER), person(SALES, Some(SALES_HEAD), &[]));
    people.insert(id(ALICE), person(SALES, Some(SALES_MANAGER), &[]));
    people.insert(id(BOB), person(SALES, Some(SALES_MANAGER), &[]));
    people.insert(id(CAROL), person(SALES, Some(SALES_MANAGER), &[]));
    people.insert(id(DAVE), person(SALES, Some(SALES_MANAGER), &[]));
    people.insert(id(IT_ADMIN), person(IT, Some(IT_HEAD), &["it_admin"]));
    people.insert(id(IT_HEAD), person(IT, Some(CEO), &["it_head"]));
    people.insert(
        id(FINANCE),
        person(FINANCE_DEPT, Some(FINANCE_DIRECTOR), &["finance"]),
    );
    people.insert(
        id(FINANCE_DIRECTOR),
        person(FINANCE_DEPT, Some(CEO), &["finance_director"]),
    );
    people.insert(id(HR), person(HQ, Some(CEO), &["hr"]));
    people.insert(
        id(WORKFLOW_ADMIN),
        person(HQ, Some(CEO), &["workflow_admin"]),
    );
    let mut gone = person(SALES, Some(SALES_MANAGER), &["finance"]);
    gone.active = false;
    people.insert(id(LEFT_COMPANY), gone);
    let dept = |name: &str, parent: Option<u128>, head: u128| Department {
        name: name.to_owned(),
        parent: parent.map(id),
        head: Some(id(head)),
    };
    let mut departments = BTreeMap::new();
    departments.insert(id(HQ), dept("HQ", None, CEO));
    departments.insert(id(SALES), dept("Sales", Some(HQ), SALES_HEAD));
    departments.insert(id(IT), dept("IT", Some(HQ), IT_HEAD));
    departments.insert(
        id(FINANCE_DEPT),
        dept("Finance", Some(HQ), FINANCE_DIRECTOR),
    );
    OrgSnapshot {
        people,
        departments,
        delegations: Vec::new(),
    }
}

/// Beijing local time.
pub fn bj(m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    FixedOffset::east_opt(8 * 3600)
        .and_then(|z| z.with_ymd_and_hms(2026, m, d, h, min, 0).single())
        .map(|t| t.with_timezone(&Utc))
        .expect("valid 2026 Beijing time")
}

pub fn calendar() -> WorkingCalendar {
    WorkingCalendar::cn_mainland().expect("shipped calendar")
}

pub fn schema() -> FormSchema {
    serde_json::from_value(json!({
        "fields": [
            {"key": "amount", "label": {"zh-CN": "金额", "en": "Amount"}, "required": true,
             "type": {"kind": "money", "currency": "CNY", "min": "0.01"}},
            {"key": "note", "label": {"zh-CN": "说明", "en": "Note"}, "type": {"kind": "text"}}
        ]
    }))
    .expect("schema")
}

pub fn form(amount: &str) -> Json {
    json!({"amount": {"amount": amount, "currency": "CNY"}})
}

pub fn label(s: &str) -> Json {
    json!({"zh-CN": s, "en": s})
}

/// Manager approves; above 5,000 the finance director too; HR is copied at the end.
pub fn expense_definition() -> WorkflowDefinition {
    serde_json::from_value(json!({
        "start": "manager",
        "steps": [
            {"kind": "approval", "id": "manager", "name": label("manager"),
             "approvers": [{"kind": "manager"}], "sla_hours": 8, "next": "amount_check"},
            {"kind": "condition", "id": "amount_check", "name": label("amount"),
             "branches": [{"when": {"kind": "compare", "field": "amount", "op": "gt", "value": "5000"}, "next": "director"}],
             "otherwise": "notify_hr"},
            {"kind": "approval", "id": "director", "name": label("director"),
             "approvers": [{"kind": "role", "role": "finance_director"}], "next": "notify_hr"},
            {"kind": "cc", "id": "notify_hr", "name": label("hr"), "recipients": [{"kind": "role", "role": "hr"}]}
        ]
    }))
    .expect("definition")
}

/// One step with the given approvers and mode, for mode tests.
pub fn single_step(approvers: &[u128], mode: Json) -> WorkflowDefinition {
    let rules: Vec<Json> = approvers
        .iter()
        .map(|p| json!({"kind": "user", "user": id(*p)}))
        .collect();
    serde_json::from_value(json!({
        "start": "review",
        "steps": [{"kind": "approval", "id": "review", "name": label("review"),
                   "approvers": rules, "mode": mode}]
    }))
    .expect("definition")
}

pub struct World {
    pub schema: FormSchema,
    pub definition: WorkflowDefinition,
    pub org: OrgSnapshot,
    pub calendar: WorkingCalendar,
}

impl World {
    pub fn new(definition: WorkflowDefinition) -> Self {
        Self {
            schema: schema(),
            definition,
            org: org(),
            calendar: calendar(),
        }
    }

    pub fn engine(&self) -> Engine<'_> {
        Engine {
            schema: &self.schema,
            definition: &self.definition,
            org: &self.org,
            calendar: &self.calendar,
        }
    }

    pub fn draft(&self, initiator: u128) -> RequestState {
        RequestState::draft(id(999), id(initiator), bj(3, 9, 9, 0))
    }

    pub fn submitted(&self, initiator: u128, amount: &str) -> Transition {
        self.engine()
            .apply(
                &self.draft(initiator),
                &Action::Submit { form: form(amount) },
                Actor::person(id(initiator)),
                bj(3, 9, 9, 0),
            )
            .expect("submit")
    }

    pub fn act(
        &self,
        state: &RequestState,
        actor: u128,
        action: Action,
        at: DateTime<Utc>,
    ) -> Transition {
        self.engine()
            .apply(state, &action, Actor::person(id(actor)), at)
            .unwrap_or_else(|refusal| panic!("{action:?} by {actor} refused: {refusal:?}"))
    }
}

pub fn approve(task: TaskId) -> Action {
    Action::Approve {
        task,
        comment: String::new(),
    }
}

pub fn reject(task: TaskId) -> Action {
    Action::Reject {
        task,
        comment: "no".into(),
    }
}

/// The open task of `person`, by seat or as delegate.
pub fn task_of(state: &RequestState, person: u128) -> TaskId {
    state
        .open_tasks_of(id(person))
        .next()
        .map(|t| t.id)
        .unwrap_or_else(|| panic!("{person} has no open task: {:#?}", state.tasks))
}
