//! Parsing everything an administrator can upload — workflow definitions, form schemas,
//! whole templates, calendar years — from arbitrary text. Nothing may panic; a definition that
//! passes its checks must plan for any initiator without panicking or looping.
#![no_main]

use std::collections::BTreeMap;
use std::sync::OnceLock;

use chrono::{DateTime, TimeZone, Utc};
use countersign_domain::calendar::WorkingCalendar;
use countersign_domain::form::{FormSchema, ValidForm};
use countersign_domain::org::{Department, OrgSnapshot, Person};
use countersign_domain::templates::Template;
use countersign_domain::workflow::{RouteInput, WorkflowDefinition, plan};
use libfuzzer_sys::fuzz_target;
use uuid::Uuid;

fn org() -> &'static OrgSnapshot {
    static ORG: OnceLock<OrgSnapshot> = OnceLock::new();
    ORG.get_or_init(|| {
        let id = Uuid::from_u128;
        let person = |manager: Option<u128>, roles: &[&str]| Person {
            name: String::new(),
            department: Some(id(100)),
            manager: manager.map(id),
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            active: true,
        };
        let mut people = BTreeMap::new();
        people.insert(id(1), person(None, &["finance_director"]));
        people.insert(id(2), person(Some(1), &["finance", "hr"]));
        people.insert(id(3), person(Some(2), &["it_admin"]));
        people.insert(id(4), person(Some(3), &[]));
        let mut departments = BTreeMap::new();
        departments.insert(
            id(100),
            Department {
                name: "HQ".into(),
                parent: None,
                head: Some(id(1)),
            },
        );
        OrgSnapshot {
            people,
            departments,
            delegations: Vec::new(),
        }
    })
}

fn instant(month: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, month, 9, 3, 30, 0)
        .single()
        .expect("valid")
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(definition) = WorkflowDefinition::from_json(text) {
        let form = ValidForm::default();
        for n in [1, 2, 3, 4, 99] {
            let _ = plan(
                &definition,
                &RouteInput {
                    form: &form,
                    initiator: Uuid::from_u128(n),
                    org: org(),
                },
            );
        }
    }
    let _ = FormSchema::from_json(text);
    let _ = Template::from_json(text);
    if let Ok(mut calendar) = WorkingCalendar::cn_mainland() {
        if calendar.add_years_from_json(text).is_ok() {
            let _ = calendar.add_working_hours(instant(12), 40);
        }
    }
    if let Ok(calendar) = WorkingCalendar::from_json(text) {
        let _ = calendar.working_time_between(instant(1), instant(12));
        let _ = calendar.add_working_hours(instant(6), 500);
    }
});
