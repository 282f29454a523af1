//! Benchmarks, each beside a baseline measured in the same run so figures from different
//! machines can be compared by ratio:
//!
//! - `validate/reimbursement_200_lines` beside `baseline/serde_json_parse_200_lines` (parsing
//!   the same payload from text, which every caller pays before validating);
//! - `engine/apply_approve` beside `baseline/state_clone` (the least any pure transition must
//!   do) and `baseline/state_json_parse` (what the server pays to load the state anyway);
//! - `engine/apply_submit_200_lines`: validation, routing and the first task together.
//!
//! Run: `cargo bench -p countersign-domain --bench domain`; figures go in BENCHMARKS.md.
#![allow(clippy::expect_used, clippy::unwrap_used)] // benchmark setup: fail loudly

use std::collections::{BTreeMap, BTreeSet};
use std::hint::black_box;

use chrono::{TimeZone, Utc};
use countersign_domain::calendar::WorkingCalendar;
use countersign_domain::engine::{Action, Actor, Engine, RequestState};
use countersign_domain::form::validate;
use countersign_domain::org::{Department, OrgSnapshot, Person};
use countersign_domain::templates;
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Value, json};
use uuid::Uuid;

const INITIATOR: u128 = 1;
const MANAGER: u128 = 2;

fn reimbursement_payload(lines: usize) -> Value {
    let lines: Vec<Value> = (0..lines)
        .map(|i| {
            let category = ["travel", "meals", "transport", "office"][i % 4];
            json!({
                "date": format!("2026-03-{:02}", i % 28 + 1),
                "category": category,
                "description": format!("出租车 taxi fare, client visit #{i}"),
                "amount": {"amount": format!("{}.{:02}", 10 + i % 90, i % 100), "currency": "CNY"},
                "invoice": [{"id": Uuid::from_u128(10_000 + i as u128), "name": format!("invoice-{i}.pdf"),
                             "size": 48_213, "content_type": "application/pdf"}]
            })
        })
        .collect();
    json!({"purpose": "上海客户拜访 Shanghai client visit", "lines": lines, "notes": "Q1 trip"})
}

fn org() -> OrgSnapshot {
    let id = Uuid::from_u128;
    let person = |manager: Option<u128>, roles: &[&str]| Person {
        name: String::new(),
        department: Some(id(100)),
        manager: manager.map(id),
        roles: roles
            .iter()
            .map(|r| (*r).to_owned())
            .collect::<BTreeSet<_>>(),
        active: true,
    };
    let mut people = BTreeMap::new();
    people.insert(id(INITIATOR), person(Some(MANAGER), &[]));
    people.insert(id(MANAGER), person(Some(3), &[]));
    people.insert(id(3), person(None, &["finance_director"]));
    people.insert(id(4), person(Some(3), &["finance"]));
    people.insert(id(5), person(Some(3), &["finance"]));
    let mut departments = BTreeMap::new();
    departments.insert(
        id(100),
        Department {
            name: "Sales".into(),
            parent: None,
            head: Some(id(3)),
        },
    );
    OrgSnapshot {
        people,
        departments,
        delegations: Vec::new(),
    }
}

fn benches(c: &mut Criterion) {
    let calendar = WorkingCalendar::cn_mainland().expect("calendar");
    let template = templates::shipped("reimbursement").expect("template");
    let payload = reimbursement_payload(200);
    let text = serde_json::to_string(&payload).expect("serialises");
    assert!(
        validate(&template.form, &payload, &calendar).is_ok(),
        "the benchmark payload must be valid, or it measures the error path"
    );

    c.bench_function("baseline/serde_json_parse_200_lines", |b| {
        b.iter(|| serde_json::from_str::<Value>(black_box(&text)).expect("parses"))
    });
    c.bench_function("validate/reimbursement_200_lines", |b| {
        b.iter(|| validate(black_box(&template.form), black_box(&payload), &calendar))
    });

    let org = org();
    let engine = Engine {
        schema: &template.form,
        definition: &template.workflow,
        org: &org,
        calendar: &calendar,
    };
    let at = Utc
        .with_ymd_and_hms(2026, 3, 9, 1, 0, 0)
        .single()
        .expect("time");
    let draft = RequestState::draft(Uuid::from_u128(77), Uuid::from_u128(INITIATOR), at);
    let submit = Action::Submit {
        form: payload.clone(),
    };
    let pending = engine
        .apply(
            &draft,
            &submit,
            Actor::person(Uuid::from_u128(INITIATOR)),
            at,
        )
        .expect("submit")
        .state;
    let approve = Action::Approve {
        task: 1,
        comment: "同意 approved".into(),
    };
    let later = at + chrono::TimeDelta::hours(3);
    let manager = Actor::person(Uuid::from_u128(MANAGER));
    assert!(engine.apply(&pending, &approve, manager, later).is_ok());
    let state_json = serde_json::to_string(&pending).expect("serialises");

    c.bench_function("baseline/state_clone", |b| {
        b.iter(|| black_box(&pending).clone())
    });
    c.bench_function("baseline/state_json_parse", |b| {
        b.iter(|| serde_json::from_str::<RequestState>(black_box(&state_json)).expect("parses"))
    });
    c.bench_function("engine/apply_approve", |b| {
        b.iter(|| engine.apply(black_box(&pending), black_box(&approve), manager, later))
    });
    c.bench_function("engine/apply_submit_200_lines", |b| {
        b.iter(|| {
            engine.apply(
                black_box(&draft),
                black_box(&submit),
                Actor::person(Uuid::from_u128(INITIATOR)),
                at,
            )
        })
    });
}

criterion_group!(domain, benches);
criterion_main!(domain);
