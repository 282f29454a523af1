//! Form validation on arbitrary JSON: against each shipped template's form (first byte picks
//! it), or against an arbitrary schema given as `{"schema": …, "data": …}`. It must never
//! panic, and a form it accepts must survive its own JSON round trip.
#![no_main]

use std::sync::OnceLock;

use countersign_domain::calendar::WorkingCalendar;
use countersign_domain::form::{FormSchema, ValidForm, evaluate};
use countersign_domain::messages::Locale;
use countersign_domain::templates::{Template, library};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fn fixture() -> &'static (Vec<Template>, WorkingCalendar) {
    static FIXTURE: OnceLock<(Vec<Template>, WorkingCalendar)> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        (
            library().unwrap_or_default(),
            WorkingCalendar::cn_mainland().expect("shipped calendar loads"),
        )
    })
}

fn check(schema: &FormSchema, data: &Value, calendar: &WorkingCalendar) {
    let evaluation = evaluate(schema, data, calendar);
    for error in &evaluation.errors {
        assert!(!error.message(Locale::ZhCn).is_empty());
        assert!(!error.message(Locale::En).is_empty());
    }
    if evaluation.errors.is_empty() {
        let json = serde_json::to_string(&evaluation.form).expect("a valid form serialises");
        let back: ValidForm = serde_json::from_str(&json).expect("and parses back");
        assert_eq!(back, evaluation.form, "round trip of {json}");
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Ok(value) = serde_json::from_slice::<Value>(rest) else {
        return;
    };
    let (templates, calendar) = fixture();
    match templates.get(selector as usize % (templates.len() + 1)) {
        Some(template) => check(&template.form, &value, calendar),
        None => {
            let schema = value
                .get("schema")
                .cloned()
                .and_then(|s| serde_json::from_value::<FormSchema>(s).ok());
            if let Some(schema) = schema {
                check(&schema, value.get("data").unwrap_or(&Value::Null), calendar);
            }
        }
    }
});
