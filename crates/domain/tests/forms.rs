//! Property tests of form validation on expense claims made of random lines, each cell valid or
//! spoiled in one of the ways a client can spoil it, against the shipped reimbursement
//! template: the total agrees with a reference sum, the typed form survives JSON and owning
//! its texts, and errors come row by row in column order.
#![allow(clippy::expect_used, clippy::unwrap_used)] // test code

use std::str::FromStr;

use countersign_domain::calendar::WorkingCalendar;
use countersign_domain::form::{FieldError, ValidForm, Value, evaluate, validate};
use countersign_domain::messages::MessageKey;
use countersign_domain::templates;
use proptest::prelude::*;
use rust_decimal::Decimal;
use serde_json::{Value as Json, json};
use uuid::Uuid;

const COLUMNS: [&str; 5] = ["date", "category", "description", "amount", "invoice"];

/// One cell: `None` leaves it out, otherwise the JSON sent.
fn cell(column: usize) -> BoxedStrategy<Option<Json>> {
    let good: BoxedStrategy<Json> = match column {
        0 => (1u32..13, 1u32..29)
            .prop_map(|(m, d)| json!(format!("2026-{m:02}-{d:02}")))
            .boxed(),
        1 => prop_oneof![Just("travel"), Just("meals"), Just("office"), Just("other")]
            .prop_map(Json::from)
            .boxed(),
        2 => "[a-z 出租车,#0-9]{1,40}".prop_map(Json::from).boxed(),
        3 => (0u64..100_000, 0u32..100)
            .prop_map(|(w, f)| json!({"amount": format!("{w}.{f:02}"), "currency": "CNY"}))
            .boxed(),
        _ => (1u128..1_000_000)
            .prop_map(|n| {
                json!([{"id": Uuid::from_u128(n), "name": "invoice.pdf", "size": 1000,
                        "content_type": "application/pdf"}])
            })
            .boxed(),
    };
    let bad: BoxedStrategy<Json> = match column {
        0 => prop_oneof![Just(json!("2026-02-30")), Just(json!("2026/03/01")), Just(json!(7))]
            .boxed(),
        1 => prop_oneof![Just(json!("holiday")), Just(json!("")), Just(json!(["travel"]))].boxed(),
        2 => prop_oneof![
            Just(json!("  ")),
            Just(json!("two\nlines")),
            Just(json!("x".repeat(201))),
        ]
        .boxed(),
        3 => prop_oneof![
            Just(json!({"amount": "0.00", "currency": "CNY"})),
            Just(json!({"amount": "1.005", "currency": "CNY"})),
            Just(json!({"amount": "-3", "currency": "CNY"})),
            Just(json!({"amount": "1e3", "currency": "CNY"})),
            Just(json!({"amount": "5", "currency": "USD"})),
            Just(json!({"amount": 5, "currency": "CNY"})),
            Just(json!({"amount": "10000000000000", "currency": "CNY"})),
            Just(json!({"amount": "5"})),
        ]
        .boxed(),
        _ => prop_oneof![
            Just(json!([])),
            Just(json!([{"id": Uuid::nil(), "name": "a.pdf", "size": 1, "content_type": "application/pdf"}])),
            Just(json!([{"id": Uuid::from_u128(9), "name": "a.exe", "size": 1, "content_type": "application/x-msdownload"}])),
            Just(json!([{"id": Uuid::from_u128(9), "name": "a.pdf", "size": 20_000_000u64, "content_type": "application/pdf"}])),
        ]
        .boxed(),
    };
    prop_oneof![
        30 => good.prop_map(Some),
        1 => Just(None),
        1 => bad.prop_map(Some),
    ]
    .boxed()
}

fn line() -> impl Strategy<Value = Json> {
    (
        (cell(0), cell(1), cell(2), cell(3), cell(4)),
        prop::option::weighted(0.05, Just(json!(true))),
    )
        .prop_map(|((a, b, c, d, e), extra)| {
            let mut object = serde_json::Map::new();
            for (key, value) in COLUMNS.iter().zip([a, b, c, d, e]) {
                if let Some(value) = value {
                    object.insert((*key).to_owned(), value);
                }
            }
            if let Some(extra) = extra {
                object.insert("zz_extra".into(), extra);
            }
            Json::Object(object)
        })
}

/// Where an error sits: (row, column index), unknown keys before every column.
fn position(error: &FieldError) -> Option<(usize, Option<usize>)> {
    let rest = error.path.strip_prefix("lines[")?;
    let (row, column) = rest.split_once(']')?;
    let column = column.strip_prefix('.').unwrap_or("");
    Some((row.parse().ok()?, COLUMNS.iter().position(|c| *c == column)))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn expense_claims_validate_consistently(lines in prop::collection::vec(line(), 1..8)) {
        let calendar = WorkingCalendar::cn_mainland().expect("calendar");
        let template = templates::shipped("reimbursement").expect("template");
        let data = json!({"purpose": "客户拜访 client visit", "lines": lines});
        let evaluation = evaluate(&template.form, &data, &calendar);
        let validated = validate(&template.form, &data, &calendar);
        prop_assert_eq!(validated.is_ok(), evaluation.errors.is_empty());

        // Errors come row by row, a row's unknown keys first, then its columns in order.
        let positions: Vec<_> = evaluation.errors.iter().filter_map(position).collect();
        prop_assert!(
            positions.windows(2).all(|w| w[0] <= w[1]),
            "errors out of order: {:?}", evaluation.errors
        );
        for error in &evaluation.errors {
            prop_assert!(!matches!(error.key, MessageKey::InvalidSchema), "{:?}", error);
        }

        // Evaluating a copy of the data gives the same evaluation, which owns its texts.
        let copy = data.clone();
        let owned = evaluate(&template.form, &copy, &calendar).into_owned();
        drop(copy);
        prop_assert_eq!(&owned, &evaluation);

        if let Ok(form) = validated {
            // The total is the sum of the amounts as the general decimal parser reads them.
            let reference: Decimal = lines
                .iter()
                .map(|l| Decimal::from_str(l["amount"]["amount"].as_str().unwrap()).unwrap())
                .sum();
            let total = form.computed.get("total").and_then(Value::as_decimal).unwrap();
            prop_assert_eq!(total, reference);
            prop_assert_eq!(total.scale(), 2);

            // Every line's cells, in key order, borrowed from the line's JSON.
            let Some(Value::Table(table)) = form.values.get("lines") else {
                panic!("no table: {form:?}");
            };
            prop_assert_eq!(table.len(), lines.len());
            for (row, line) in table.rows().zip(&lines) {
                let keys: Vec<&str> = row.iter().map(|(k, _)| k).collect();
                let mut want: Vec<&str> = line.as_object().unwrap().keys().map(String::as_str).collect();
                want.sort_unstable();
                prop_assert_eq!(keys, want);
                match row.get("description") {
                    Some(Value::Text(text)) => prop_assert_eq!(&**text, line["description"].as_str().unwrap()),
                    other => prop_assert!(false, "description {:?}", other),
                }
                match row.get("invoice") {
                    Some(Value::Attachments(files)) => {
                        prop_assert_eq!(files.len(), 1);
                        prop_assert_eq!(files[0].id.to_string(), line["invoice"][0]["id"].as_str().unwrap());
                    }
                    other => prop_assert!(false, "invoice {:?}", other),
                }
            }

            // The typed form's JSON reads back to the same form.
            let text = serde_json::to_string(&form).expect("serialises");
            let back: ValidForm = serde_json::from_str(&text).expect("parses");
            prop_assert_eq!(&back, &form);
            prop_assert_eq!(back, form.into_owned());
        }
    }
}
