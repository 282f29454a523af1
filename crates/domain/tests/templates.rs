//! The shipped template library: every template loads, validates realistic data, and routes
//! the way the crate documentation's table says.
#![allow(clippy::expect_used, clippy::unwrap_used)] // test code

mod common;

use common::*;
use countersign_domain::engine::{Action, Actor, Engine, RequestState, RequestStatus};
use countersign_domain::form::{Value, validate};
use countersign_domain::templates::{
    self, LIBRARY_ROLES, NotificationApprove, Template, TemplateError,
};
use countersign_domain::workflow::{PlannedKind, PlannedStep};
use rust_decimal::Decimal;
use serde_json::{Value as Json, json};
use uuid::Uuid;

fn route(template: &Template, initiator: u128, data: &Json) -> Vec<PlannedStep> {
    let org = org();
    let calendar = calendar();
    Engine {
        schema: &template.form,
        definition: &template.workflow,
        org: &org,
        calendar: &calendar,
    }
    .preview_route(data, id(initiator))
    .unwrap_or_else(|r| panic!("{} does not route: {r:?}", template.id))
}

fn steps(route: &[PlannedStep]) -> Vec<(String, Vec<Uuid>)> {
    route
        .iter()
        .map(|s| {
            let people = match &s.kind {
                PlannedKind::Approval { approvers, .. } => approvers.clone(),
                PlannedKind::Cc { recipients } => recipients.clone(),
                PlannedKind::Skipped => Vec::new(),
            };
            (s.step_id.clone(), people)
        })
        .collect()
}

fn ids(people: &[u128]) -> Vec<Uuid> {
    people.iter().map(|p| id(*p)).collect()
}

const FILE_A: &str = "0190f5b0-0000-7000-8000-00000000000a";

fn invoice(n: u32) -> Json {
    json!([{"id": format!("0190f5b0-0000-7000-8000-{n:012}"), "name": "invoice.pdf", "size": 20480, "content_type": "application/pdf"}])
}

#[test]
fn the_library_loads_and_names_only_known_roles() {
    let library = templates::library().expect("library loads");
    let ids: Vec<_> = library.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, templates::shipped_ids().collect::<Vec<_>>());
    assert_eq!(
        ids.len(),
        7,
        "leave, reimbursement, purchase, trip, overtime, account, process change"
    );
    for template in &library {
        assert_eq!(template.version, 1);
        let text = serde_json::to_string(&template.workflow).expect("serialises");
        for role in text
            .split("\"role\":\"")
            .skip(1)
            .filter_map(|s| s.split('"').next())
        {
            assert!(
                LIBRARY_ROLES.contains(&role),
                "{} uses undeclared role {role}",
                template.id
            );
        }
        // The JSON form round-trips, so what an admin exports is what they can import.
        let again = Template::from_json(&serde_json::to_string(template).expect("serialises"))
            .expect("re-parses");
        assert_eq!(&again, template);
    }
    assert!(matches!(
        templates::shipped("nope"),
        Err(TemplateError::NotFound { .. })
    ));
}

#[test]
fn leave_over_three_days_adds_the_department_head() {
    let t = templates::shipped("leave").expect("leave");
    let short = json!({"leave_type": "annual", "reason": "family", "period": {"start": "2026-03-09", "end": "2026-03-11"}});
    assert_eq!(
        steps(&route(&t, ALICE, &short)),
        vec![
            ("manager".into(), ids(&[SALES_MANAGER])),
            ("notify_hr".into(), ids(&[HR]))
        ]
    );
    // Monday morning to Thursday noon is 3.5 working days.
    let long = json!({"leave_type": "annual", "reason": "family",
                      "period": {"start": "2026-03-09", "end": "2026-03-12", "end_half": "am"}});
    let form = validate(&t.form, &long, &calendar()).expect("valid");
    assert_eq!(
        form.computed.get("days"),
        Some(&Value::Number(Decimal::new(35, 1)))
    );
    assert_eq!(
        steps(&route(&t, ALICE, &long)),
        vec![
            ("manager".into(), ids(&[SALES_MANAGER])),
            ("department_head".into(), ids(&[SALES_HEAD])),
            ("notify_hr".into(), ids(&[HR]))
        ]
    );
    // Sick leave over two days needs a certificate.
    let sick = json!({"leave_type": "sick", "reason": "flu", "period": {"start": "2026-03-09", "end": "2026-03-11"}});
    let errors = validate(&t.form, &sick, &calendar()).expect_err("certificate missing");
    assert_eq!(
        errors.iter().map(|e| e.path.as_str()).collect::<Vec<_>>(),
        vec!["certificate"]
    );
}

fn reimbursement(lines: usize, amount: &str) -> Json {
    let lines: Vec<Json> = (0..lines)
        .map(|i| json!({"date": "2026-03-02", "category": "travel", "description": format!("taxi {i}"),
                        "amount": {"amount": amount, "currency": "CNY"}, "invoice": invoice(i as u32 + 1)}))
        .collect();
    json!({"purpose": "Shanghai client visit", "lines": lines})
}

#[test]
fn reimbursement_totals_lines_and_adds_the_director_above_5000() {
    let t = templates::shipped("reimbursement").expect("reimbursement");
    let small = reimbursement(2, "2500.00");
    let form = validate(&t.form, &small, &calendar()).expect("valid");
    assert_eq!(
        form.computed.get("total").and_then(Value::as_decimal),
        Some(Decimal::new(500_000, 2))
    );
    assert_eq!(
        steps(&route(&t, ALICE, &small)),
        vec![
            ("manager".into(), ids(&[SALES_MANAGER])),
            ("finance".into(), ids(&[FINANCE]))
        ],
        "exactly 5,000 does not need the director"
    );
    let large = reimbursement(2, "2500.01");
    assert_eq!(
        steps(&route(&t, ALICE, &large)),
        vec![
            ("manager".into(), ids(&[SALES_MANAGER])),
            ("finance_director".into(), ids(&[FINANCE_DIRECTOR])),
            ("finance".into(), ids(&[FINANCE]))
        ]
    );
    // A line without its invoice is an error on that line.
    let mut missing = reimbursement(3, "10");
    missing["lines"][1]["invoice"] = json!([]);
    let errors = validate(&t.form, &missing, &calendar()).expect_err("invoice required");
    assert_eq!(
        errors.iter().map(|e| e.path.as_str()).collect::<Vec<_>>(),
        vec!["lines[1].invoice"]
    );
}

fn purchase(quantity: &str, price: &str) -> Json {
    json!({"title": "Laptops", "budget_code": "IT-2026-001", "needed_by": "2026-04-01", "reason": "new hires",
           "items": [{"name": "Laptop", "quantity": quantity, "unit": "台", "unit_price": {"amount": price, "currency": "CNY"}}],
           "quotes": [{"id": FILE_A, "name": "quote.pdf", "size": 1000, "content_type": "application/pdf"}]})
}

#[test]
fn purchase_routes_by_amount() {
    let t = templates::shipped("purchase").expect("purchase");
    let cases: [(&str, &str, Vec<&str>); 4] = [
        ("2", "5000", vec!["manager", "procurement"]),
        (
            "3",
            "5000",
            vec!["manager", "department_head", "procurement"],
        ),
        (
            "10",
            "6000",
            vec![
                "manager",
                "department_head",
                "finance_director",
                "procurement",
            ],
        ),
        (
            "50",
            "4000.01",
            vec![
                "manager",
                "department_head",
                "finance_director",
                "general_manager",
                "procurement",
            ],
        ),
    ];
    for (quantity, price, expected) in cases {
        let got: Vec<String> = steps(&route(&t, ALICE, &purchase(quantity, price)))
            .into_iter()
            .map(|(s, _)| s)
            .collect();
        assert_eq!(got, expected, "{quantity} × {price}");
    }
    let errors =
        validate(&t.form, &json!({"budget_code": "it-26"}), &calendar()).expect_err("invalid");
    assert!(
        errors
            .iter()
            .any(|e| e.path == "budget_code" && e.key.code() == "pattern_mismatch")
    );
    let mut negative = purchase("-1", "10");
    negative["items"][0]["quantity"] = json!("-1");
    let errors = validate(&t.form, &negative, &calendar()).expect_err("negative quantity");
    assert_eq!(
        errors
            .iter()
            .map(|e| (e.path.as_str(), e.key.code()))
            .collect::<Vec<_>>(),
        vec![("items[0].quantity", "negative")]
    );
}

#[test]
fn business_trip_and_overtime() {
    let trip = templates::shipped("business_trip").expect("trip");
    let data = json!({"destination": "Chengdu", "period": {"start": "2026-09-28", "end": "2026-10-09"},
                      "transport": ["plane"], "purpose": "trade fair", "estimated_cost": {"amount": "8000", "currency": "CNY"}});
    let form = validate(&trip.form, &data, &calendar()).expect("valid");
    assert_eq!(
        form.computed.get("working_days"),
        Some(&Value::Number(Decimal::from(5))),
        "National Day week is not worked"
    );
    assert_eq!(
        steps(&route(&trip, ALICE, &data))
            .into_iter()
            .map(|(s, _)| s)
            .collect::<Vec<_>>(),
        vec!["manager", "department_head", "notify_hr"]
    );
    let overtime = templates::shipped("overtime").expect("overtime");
    let reversed = json!({"start": "2026-03-07T18:00:00+08:00", "end": "2026-03-07T10:00:00+08:00", "hours": "8",
                          "compensation": "time_off", "reason": "release"});
    let errors = validate(&overtime.form, &reversed, &calendar()).expect_err("end before start");
    assert_eq!(
        errors
            .iter()
            .map(|e| (e.path.as_str(), e.key.code()))
            .collect::<Vec<_>>(),
        vec![("end", "not_before")]
    );
}

#[test]
fn account_application_goes_to_the_department_head_then_it() {
    let t = templates::shipped("account_application").expect("account");
    let data = json!({"employee_name": "王小明", "employee_number": "E20260301", "department": id(SALES), "position": "Sales",
                      "start_date": "2026-03-16", "systems": ["email", "oa", "crm"]});
    assert_eq!(
        steps(&route(&t, HR, &data)),
        vec![
            ("department_head".into(), ids(&[SALES_HEAD])),
            ("it_opens".into(), ids(&[IT_ADMIN]))
        ]
    );
    // Walk it: head approves, IT opens the account, the request is done (S1).
    let org = org();
    let calendar = calendar();
    let engine = Engine {
        schema: &t.form,
        definition: &t.workflow,
        org: &org,
        calendar: &calendar,
    };
    let state = RequestState::draft(id(77), id(HR), bj(3, 9, 9, 0));
    let state = engine
        .apply(
            &state,
            &Action::Submit { form: data },
            Actor::person(id(HR)),
            bj(3, 9, 9, 0),
        )
        .expect("submit")
        .state;
    let state = engine
        .apply(
            &state,
            &approve(task_of(&state, SALES_HEAD)),
            Actor::person(id(SALES_HEAD)),
            bj(3, 9, 10, 0),
        )
        .expect("head")
        .state;
    let state = engine
        .apply(
            &state,
            &approve(task_of(&state, IT_ADMIN)),
            Actor::person(id(IT_ADMIN)),
            bj(3, 9, 15, 0),
        )
        .expect("it")
        .state;
    assert_eq!(state.status, RequestStatus::Approved);
}

#[test]
fn process_change_needs_the_business_head_and_it_together() {
    let t = templates::shipped("process_change").expect("process change");
    let data = json!({"process_name": "Reimbursement v2", "change_type": "change", "business_department": id(FINANCE_DEPT),
                      "description": "Add a budget check"});
    let planned = route(&t, ALICE, &data);
    assert_eq!(
        steps(&planned),
        vec![
            ("joint_review".into(), ids(&[FINANCE_DIRECTOR, IT_HEAD])),
            ("notify_admins".into(), ids(&[WORKFLOW_ADMIN]))
        ]
    );
    assert!(matches!(
        planned[0].kind,
        PlannedKind::Approval {
            mode: countersign_domain::workflow::ApprovalMode::All,
            ..
        }
    ));
}

/// Whether a notification about `data` submitted on `template` may offer Approve, judged on
/// the form and computed values exactly as a request view carries them.
fn approvable(template: &Template, data: &Json) -> bool {
    let form = validate(&template.form, data, &calendar()).expect("valid");
    let computed = serde_json::to_value(&form.computed).expect("serialises");
    template.may_approve_from_notification(data, &computed)
}

#[test]
fn the_library_says_which_notifications_may_carry_approve() {
    let kind = |id: &str| {
        let t = templates::shipped(id).expect(id);
        match t
            .notification_approve
            .clone()
            .expect("set explicitly in the library")
        {
            NotificationApprove::Always {} => "always".to_owned(),
            NotificationApprove::Never {} => "never".to_owned(),
            NotificationApprove::UpTo {
                field,
                amount,
                currency,
            } => format!("{field} <= {currency} {amount}"),
        }
    };
    assert_eq!(kind("leave"), "always");
    assert_eq!(kind("overtime"), "always");
    assert_eq!(kind("reimbursement"), "total <= CNY 5000.00");
    assert_eq!(kind("purchase"), "total <= CNY 5000.00");
    assert_eq!(kind("business_trip"), "estimated_cost <= CNY 5000.00");
    assert_eq!(kind("account_application"), "always");
    assert_eq!(kind("process_change"), "always");
    // Version 1 was published before the setting existed: a store that holds it without the
    // key must behave exactly as the library does now, or a published version would change.
    for template in templates::library().expect("library") {
        let explicit = template.notification_approve();
        let mut stored_before = template.clone();
        stored_before.notification_approve = None;
        assert_eq!(
            stored_before.notification_approve(),
            explicit,
            "{}",
            template.id
        );
    }
}

#[test]
fn money_requests_carry_approve_up_to_5000_yuan() {
    let claim = templates::shipped("reimbursement").expect("reimbursement");
    assert!(approvable(&claim, &reimbursement(1, "4800.00")));
    assert!(
        approvable(&claim, &reimbursement(2, "2500.00")),
        "exactly 5,000"
    );
    assert!(
        !approvable(&claim, &reimbursement(2, "2500.01")),
        "5,000.02"
    );
    assert!(!approvable(&claim, &reimbursement(3, "4000.00")));

    let buy = templates::shipped("purchase").expect("purchase");
    assert!(approvable(&buy, &purchase("2", "2500.00")));
    assert!(!approvable(&buy, &purchase("2", "2500.01")));

    let trip = templates::shipped("business_trip").expect("trip");
    let trip_costing = |cost: &str| {
        json!({"destination": "Chengdu", "period": {"start": "2026-09-28", "end": "2026-09-30"},
               "transport": ["train"], "purpose": "client", "estimated_cost": {"amount": cost, "currency": "CNY"}})
    };
    assert!(approvable(&trip, &trip_costing("5000")));
    assert!(!approvable(&trip, &trip_costing("5000.01")));

    let leave = templates::shipped("leave").expect("leave");
    let long = json!({"leave_type": "annual", "reason": "family",
                      "period": {"start": "2026-03-09", "end": "2026-03-27"}});
    assert!(approvable(&leave, &long), "leave has no money to limit");
}
