//! Runs `form::validate` on the benchmark's 200-line reimbursement a fixed number of times, for
//! instruction counts that do not depend on what else the machine is doing:
//!
//! ```text
//! CARGO_TARGET_DIR=/root/.cache/countersign/target-domain \
//!   cargo build --release -p countersign-domain --example validate_profile
//! valgrind --tool=callgrind --toggle-collect='*validate_profile*measured*' \
//!   /root/.cache/countersign/target-domain/release/examples/validate_profile 20
//! ```
//!
//! The total of the run divided by the number of calls is the figure in BENCHMARKS.md. The
//! payload is the one `benches/domain.rs` builds.
#![allow(clippy::expect_used, clippy::unwrap_used)] // a measuring tool: fail loudly

use std::hint::black_box;

use countersign_domain::calendar::WorkingCalendar;
use countersign_domain::form::validate;
use countersign_domain::templates;
use serde_json::{Value, json};
use uuid::Uuid;

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

#[inline(never)]
fn measured(
    schema: &countersign_domain::form::FormSchema,
    payload: &Value,
    calendar: &WorkingCalendar,
    calls: usize,
) {
    for _ in 0..calls {
        let form = validate(black_box(schema), black_box(payload), calendar);
        assert!(form.is_ok());
        drop(black_box(form));
    }
}

fn main() {
    let calls = std::env::args()
        .nth(1)
        .map_or(20, |n| n.parse().expect("a number of calls"));
    let calendar = WorkingCalendar::cn_mainland().expect("calendar");
    let template = templates::shipped("reimbursement").expect("template");
    let payload = reimbursement_payload(200);
    measured(&template.form, &payload, &calendar, calls);
}
