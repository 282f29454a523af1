//! The standard template library (requirement S7) and the template type itself.
//!
//! A template is a versioned pair of a form and a workflow. The library ships as JSON data in
//! `data/templates/`, embedded at build time, so an administrator can read, copy and change
//! it as data; a changed template is published as a new version (S6) and a running request
//! keeps the version it started with — the server stores `(id, version)` with the request.
//! Templates name roles (`finance`, `it_admin`, `finance_director`…), never fixed people, so
//! the same library fits any organisation whose people hold those roles.
//!
//! A template also carries the organisation's answer to "may a notification about this
//! request carry Approve?" ([`NotificationApprove`]): approving blind from a desktop
//! notification is fine for leave, a risk for money. The client asks
//! [`Template::may_approve_from_notification`] before it offers the button.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::form::{
    AMOUNT_LIMIT, Currency, FieldType, FormSchema, Formula, Label, MONEY_DECIMALS, SchemaError,
    parse_amount,
};
use crate::workflow::{DefinitionError, WorkflowDefinition};

/// The shipped templates, in gallery order.
const LIBRARY: &[(&str, &str)] = &[
    ("leave", include_str!("../data/templates/leave.json")),
    (
        "reimbursement",
        include_str!("../data/templates/reimbursement.json"),
    ),
    ("purchase", include_str!("../data/templates/purchase.json")),
    (
        "business_trip",
        include_str!("../data/templates/business_trip.json"),
    ),
    ("overtime", include_str!("../data/templates/overtime.json")),
    (
        "account_application",
        include_str!("../data/templates/account_application.json"),
    ),
    (
        "process_change",
        include_str!("../data/templates/process_change.json"),
    ),
];

/// Roles the shipped templates route to; an organisation assigns them to people.
pub const LIBRARY_ROLES: &[&str] = &[
    "hr",
    "finance",
    "finance_director",
    "general_manager",
    "procurement",
    "it_admin",
    "it_head",
    "workflow_admin",
];

/// A versioned form and workflow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    pub id: String,
    /// Starts at 1 and only grows; a published version never changes.
    pub version: u32,
    pub name: Label,
    pub description: Label,
    pub form: FormSchema,
    pub workflow: WorkflowDefinition,
    /// Whether a pending-approval notification may offer Approve, as the organisation set it.
    /// Absent in templates stored before the setting existed: then
    /// [`Template::notification_approve`] works out a safe default from the form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification_approve: Option<NotificationApprove>,
}

/// May a notification about a request of this template carry Approve? Its JSON is
/// `{"kind":"always"}`, `{"kind":"never"}` or
/// `{"kind":"up_to","field":"total","amount":"5000.00","currency":"CNY"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum NotificationApprove {
    // Empty braces rather than unit variants, so that `deny_unknown_fields` holds for them
    // too: `{"kind":"always","field":"total"}` is a mistake to report, not to ignore.
    Always {},
    /// Notifications offer Open only: the request must be read before it is decided.
    Never {},
    /// Approve is offered while the money value `field` (a top-level money field or a
    /// computed money total) is at most `amount` in `currency`; above it, or when the value
    /// cannot be read, Open only.
    UpTo {
        field: String,
        amount: Decimal,
        currency: Currency,
    },
}

/// The limit of the default setting for a form with money: CNY 5,000.00.
pub const DEFAULT_NOTIFICATION_APPROVE_LIMIT: Decimal =
    Decimal::from_parts(500_000, 0, 0, false, 2);

/// Why a template's [`NotificationApprove::UpTo`] cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum ApproveLimitProblem {
    #[error("the form has no field or computed field with that key")]
    UnknownField,
    #[error("it is a {kind} field, not money")]
    NotMoney { kind: String },
    #[error("the field is in {field}, the limit in {limit}")]
    CurrencyMismatch { field: Currency, limit: Currency },
    #[error("the amount must be between 0 and 10^12 with at most 2 decimals")]
    InvalidAmount,
}

/// Why a template cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum TemplateError {
    #[error("template is not valid JSON of the expected shape: {message}")]
    Parse { message: String },
    #[error("template id or version is invalid")]
    InvalidIdentity,
    #[error("the form is invalid: {}", problems.first().map(ToString::to_string).unwrap_or_default())]
    Form { problems: Vec<SchemaError> },
    #[error("the workflow is invalid: {error}")]
    Workflow { error: DefinitionError },
    #[error("no template {id:?} in the library")]
    NotFound { id: String },
    #[error("notification_approve limits the field {field:?}, but {problem}")]
    NotificationApprove {
        field: String,
        problem: ApproveLimitProblem,
    },
}

impl Template {
    /// Parses a template and checks its form, its workflow and how they fit together.
    pub fn from_json(json: &str) -> Result<Self, TemplateError> {
        let template: Self = serde_json::from_str(json).map_err(|e| TemplateError::Parse {
            message: e.to_string(),
        })?;
        template.check()?;
        Ok(template)
    }

    pub fn check(&self) -> Result<(), TemplateError> {
        let id_ok = !self.id.is_empty()
            && self.id.len() <= 64
            && self
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !id_ok || self.version == 0 {
            return Err(TemplateError::InvalidIdentity);
        }
        self.form
            .check()
            .map_err(|problems| TemplateError::Form { problems })?;
        self.workflow
            .check()
            .and_then(|()| self.workflow.check_against(&self.form))
            .map_err(|error| TemplateError::Workflow { error })?;
        if let Some(NotificationApprove::UpTo {
            field,
            amount,
            currency,
        }) = &self.notification_approve
        {
            let problem = |problem| TemplateError::NotificationApprove {
                field: field.clone(),
                problem,
            };
            let field_currency = money_currency(&self.form, field).map_err(problem)?;
            if field_currency != *currency {
                return Err(problem(ApproveLimitProblem::CurrencyMismatch {
                    field: field_currency,
                    limit: *currency,
                }));
            }
            let amount_ok = !amount.is_sign_negative()
                && *amount <= AMOUNT_LIMIT
                && amount.normalize().scale() <= MONEY_DECIMALS;
            if !amount_ok {
                return Err(problem(ApproveLimitProblem::InvalidAmount));
            }
        }
        Ok(())
    }

    /// The setting in force: the organisation's, or else the safe default. The default lets
    /// a form without money be approved from a notification, and a form with money only up
    /// to [`DEFAULT_NOTIFICATION_APPROVE_LIMIT`] CNY of its first computed money total (else
    /// of its first money field). Money the default cannot put a CNY limit on — amounts in
    /// another currency, money only in table rows with no total — gets `Never`.
    pub fn notification_approve(&self) -> NotificationApprove {
        if let Some(setting) = &self.notification_approve {
            return setting.clone();
        }
        let form = &self.form;
        let computed = form
            .computed
            .iter()
            .find_map(|c| Some((&c.key, money_currency(form, &c.key).ok()?)));
        let field = || {
            form.fields.iter().find_map(|f| match &f.field_type {
                FieldType::Money { currency, .. } => Some((&f.key, Currency::new(currency)?)),
                _ => None,
            })
        };
        match computed.or_else(field) {
            Some((key, Currency::CNY)) => NotificationApprove::UpTo {
                field: key.clone(),
                amount: DEFAULT_NOTIFICATION_APPROVE_LIMIT,
                currency: Currency::CNY,
            },
            Some(_) => NotificationApprove::Never {},
            None if has_money_column(form) => NotificationApprove::Never {},
            None => NotificationApprove::Always {},
        }
    }

    /// Whether a notification about a request with this `form` (as submitted) and
    /// `computed` values (the domain's typed values by key, as the server computed them) may
    /// offer Approve. See [`NotificationApprove::allows`].
    pub fn may_approve_from_notification(&self, form: &Json, computed: &Json) -> bool {
        self.notification_approve().allows(form, computed)
    }
}

impl NotificationApprove {
    /// Whether the setting lets a notification offer Approve for this request. An `up_to`
    /// reads its field from `computed` first (`{"kind":"money","value":{…}}`), then from
    /// `form` (`{"amount":"…","currency":"…"}`), and fails closed: a value that is missing,
    /// unreadable or in another currency means no.
    pub fn allows(&self, form: &Json, computed: &Json) -> bool {
        match self {
            NotificationApprove::Always {} => true,
            NotificationApprove::Never {} => false,
            NotificationApprove::UpTo {
                field,
                amount: limit,
                currency: limit_currency,
            } => {
                let value = match computed.get(field) {
                    // A computed value of that key is the value, even if it cannot be read:
                    // the form has no field of the same key to fall back on.
                    Some(computed) => match (computed.get("kind"), computed.get("value")) {
                        (Some(Json::String(kind)), Some(money)) if kind == "money" => {
                            read_money(money)
                        }
                        _ => None,
                    },
                    None => form.get(field).and_then(read_money),
                };
                value.is_some_and(|(amount, currency)| {
                    currency == *limit_currency && amount <= *limit
                })
            }
        }
    }
}

/// `{"amount":"4800.00","currency":"CNY"}`, read as strictly as validation reads money.
fn read_money(json: &Json) -> Option<(Decimal, Currency)> {
    let object = json.as_object()?;
    if object.len() != 2 {
        return None;
    }
    let amount = parse_amount(object.get("amount")?.as_str()?)?;
    let currency = Currency::new(object.get("currency")?.as_str()?)?;
    Some((amount, currency))
}

/// The currency of the single money value `key` names: a top-level money field, or a
/// computed total over a money column.
fn money_currency(form: &FormSchema, key: &str) -> Result<Currency, ApproveLimitProblem> {
    let not_money = |kind: &str| ApproveLimitProblem::NotMoney {
        kind: kind.to_owned(),
    };
    if let Some(field) = form.field(key) {
        return match &field.field_type {
            FieldType::Money { currency, .. } => {
                Currency::new(currency).ok_or_else(|| not_money("money of no currency"))
            }
            other => Err(not_money(other.name())),
        };
    }
    let computed = form
        .computed
        .iter()
        .find(|c| c.key == key)
        .ok_or(ApproveLimitProblem::UnknownField)?;
    let (table, columns) = match &computed.formula {
        Formula::Sum { table, column } => (table, std::slice::from_ref(column)),
        Formula::SumProduct { table, factors } => (table, factors.as_slice()),
        Formula::WorkingDays { .. } => return Err(not_money("working days")),
    };
    let Some(FieldType::Table { columns: defs, .. }) = form.field(table).map(|f| &f.field_type)
    else {
        return Err(not_money("computed"));
    };
    columns
        .iter()
        .find_map(|column| {
            match defs
                .iter()
                .find(|d| &d.key == column)
                .map(|d| &d.field_type)
            {
                Some(FieldType::Money { currency, .. }) => Currency::new(currency),
                _ => None,
            }
        })
        .ok_or_else(|| not_money("computed number"))
}

/// Whether any table of the form has a money column.
fn has_money_column(form: &FormSchema) -> bool {
    form.fields.iter().any(|f| match &f.field_type {
        FieldType::Table { columns, .. } => columns
            .iter()
            .any(|c| matches!(c.field_type, FieldType::Money { .. })),
        _ => false,
    })
}

/// Every shipped template, checked.
pub fn library() -> Result<Vec<Template>, TemplateError> {
    LIBRARY
        .iter()
        .map(|(_, json)| Template::from_json(json))
        .collect()
}

/// The shipped template `id`.
pub fn shipped(id: &str) -> Result<Template, TemplateError> {
    let (_, json) = LIBRARY
        .iter()
        .find(|(name, _)| *name == id)
        .ok_or_else(|| TemplateError::NotFound { id: id.to_owned() })?;
    Template::from_json(json)
}

/// The ids of the shipped templates, in gallery order.
pub fn shipped_ids() -> impl Iterator<Item = &'static str> {
    LIBRARY.iter().map(|(id, _)| *id)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // test code

    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn claim() -> Template {
        shipped("reimbursement").unwrap()
    }

    fn computed_total(amount: &str, currency: &str) -> Json {
        json!({"total": {"kind": "money", "value": {"amount": amount, "currency": currency}}})
    }

    fn cny(amount: &str) -> NotificationApprove {
        NotificationApprove::UpTo {
            field: "total".into(),
            amount: amount.parse().unwrap(),
            currency: Currency::CNY,
        }
    }

    #[test]
    fn the_setting_reads_and_writes_as_documented() {
        let cases = [
            (json!({"kind": "always"}), NotificationApprove::Always {}),
            (json!({"kind": "never"}), NotificationApprove::Never {}),
            (
                json!({"kind": "up_to", "field": "total", "amount": "5000.00", "currency": "CNY"}),
                cny("5000.00"),
            ),
        ];
        for (json, setting) in cases {
            assert_eq!(
                serde_json::from_value::<NotificationApprove>(json.clone()).unwrap(),
                setting
            );
            // Written back exactly, cents included: what an admin exports is what they wrote.
            assert_eq!(serde_json::to_value(&setting).unwrap(), json);
        }
        // Money is never a float, and a typo is not silently ignored.
        for bad in [
            json!({"kind": "up_to", "field": "total", "amount": 5000.0, "currency": "CNY"}),
            json!({"kind": "up_to", "field": "total", "amount": "5000", "currency": "cny"}),
            json!({"kind": "up_to", "field": "total", "amount": "5000", "currency": "CNY", "max": "1"}),
            json!({"kind": "sometimes"}),
            json!({"kind": "always", "field": "total"}),
        ] {
            assert!(
                serde_json::from_value::<NotificationApprove>(bad.clone()).is_err(),
                "{bad} must be refused"
            );
        }
    }

    #[test]
    fn a_template_stored_before_the_setting_still_parses_and_gets_the_safe_default() {
        let mut json = serde_json::to_value(claim()).unwrap();
        json.as_object_mut().unwrap().remove("notification_approve");
        let old = Template::from_json(&json.to_string()).expect("an old template parses");
        assert_eq!(old.notification_approve, None);
        // Money: up to CNY 5,000 on the computed total.
        assert_eq!(old.notification_approve(), cny("5000.00"));
        // And it is written back without the key, so it stays the same document.
        assert_eq!(serde_json::to_value(&old).unwrap(), json);
    }

    #[test]
    fn the_default_follows_the_form() {
        let without = |id: &str| {
            let mut t = shipped(id).unwrap();
            t.notification_approve = None;
            t.notification_approve()
        };
        assert_eq!(without("leave"), NotificationApprove::Always {});
        assert_eq!(without("overtime"), NotificationApprove::Always {});
        assert_eq!(without("purchase"), cny("5000.00"));
        // A form with money fields but no computed money total: its first money field.
        assert_eq!(
            without("business_trip"),
            NotificationApprove::UpTo {
                field: "estimated_cost".into(),
                amount: DEFAULT_NOTIFICATION_APPROVE_LIMIT,
                currency: Currency::CNY,
            }
        );

        // Money only in table rows, with no total to compare: never approved blind.
        let mut rows_only = claim();
        rows_only.form.computed.clear();
        rows_only.notification_approve = None;
        assert_eq!(
            rows_only.notification_approve(),
            NotificationApprove::Never {}
        );

        // A total in another currency cannot be held to a CNY limit: never, not a limit that
        // could not be checked.
        let mut dollars: Json = serde_json::to_value(claim()).unwrap();
        let text = dollars.to_string().replace("\"CNY\"", "\"USD\"");
        dollars = serde_json::from_str(&text).unwrap();
        dollars
            .as_object_mut()
            .unwrap()
            .remove("notification_approve");
        let dollars: Template = serde_json::from_value(dollars).unwrap();
        assert_eq!(
            dollars.notification_approve(),
            NotificationApprove::Never {}
        );
    }

    #[test]
    fn check_refuses_a_limit_on_anything_but_a_money_value_of_its_currency() {
        let with = |setting: Json| {
            let mut t = claim();
            t.notification_approve = Some(serde_json::from_value(setting).unwrap());
            t.check()
        };
        let problem = |setting: Json| match with(setting) {
            Err(TemplateError::NotificationApprove { problem, .. }) => problem,
            other => panic!("expected a notification_approve error, got {other:?}"),
        };
        assert_eq!(
            problem(json!({"kind": "up_to", "field": "nope", "amount": "5000", "currency": "CNY"})),
            ApproveLimitProblem::UnknownField
        );
        assert_eq!(
            problem(
                json!({"kind": "up_to", "field": "purpose", "amount": "5000", "currency": "CNY"})
            ),
            ApproveLimitProblem::NotMoney {
                kind: "text".into()
            }
        );
        // A table column is not one value.
        assert!(matches!(
            problem(
                json!({"kind": "up_to", "field": "lines", "amount": "5000", "currency": "CNY"})
            ),
            ApproveLimitProblem::NotMoney { .. }
        ));
        assert_eq!(
            problem(
                json!({"kind": "up_to", "field": "total", "amount": "5000", "currency": "USD"})
            ),
            ApproveLimitProblem::CurrencyMismatch {
                field: Currency::CNY,
                limit: Currency::new("USD").unwrap()
            }
        );
        for amount in ["-1", "5000.001", "10000000000000"] {
            assert_eq!(
                problem(
                    json!({"kind": "up_to", "field": "total", "amount": amount, "currency": "CNY"})
                ),
                ApproveLimitProblem::InvalidAmount,
                "{amount}"
            );
        }
        // A computed value that is not money (leave days) is refused too.
        let mut leave = shipped("leave").unwrap();
        leave.notification_approve = Some(NotificationApprove::UpTo {
            field: "days".into(),
            amount: Decimal::from(3),
            currency: Currency::CNY,
        });
        assert!(matches!(
            leave.check(),
            Err(TemplateError::NotificationApprove {
                problem: ApproveLimitProblem::NotMoney { .. },
                ..
            })
        ));
        // The message names the setting, the field and the problem, for the proposer.
        let message =
            with(json!({"kind": "up_to", "field": "purpose", "amount": "5000", "currency": "CNY"}))
                .unwrap_err()
                .to_string();
        assert_eq!(
            message,
            "notification_approve limits the field \"purpose\", but it is a text field, not money"
        );
        assert_eq!(
            with(json!({"kind": "up_to", "field": "total", "amount": "0", "currency": "CNY"})),
            Ok(())
        );
    }

    #[test]
    fn always_and_never_ignore_the_request() {
        let anything = json!({"total": "nonsense"});
        assert!(NotificationApprove::Always {}.allows(&anything, &Json::Null));
        assert!(!NotificationApprove::Never {}.allows(&anything, &Json::Null));
    }

    #[test]
    fn up_to_reads_the_computed_value_first_then_the_form() {
        let limit = cny("5000.00");
        let form_total = |amount: &str| json!({"total": {"amount": amount, "currency": "CNY"}});
        assert!(limit.allows(&Json::Null, &computed_total("4800.00", "CNY")));
        assert!(!limit.allows(&Json::Null, &computed_total("12000.00", "CNY")));
        // A top-level money field is read from the form as submitted.
        assert!(limit.allows(&form_total("4800"), &json!({})));
        assert!(!limit.allows(&form_total("12000"), &json!({})));
        // The computed value wins over a form value of the same key.
        assert!(!limit.allows(&form_total("1"), &computed_total("12000.00", "CNY")));
        // ... even when it cannot be read: no falling back to what the initiator typed.
        assert!(!limit.allows(
            &form_total("1"),
            &json!({"total": {"kind": "number", "value": "1"}})
        ));
    }

    #[test]
    fn up_to_fails_closed() {
        let limit = cny("5000.00");
        let refused = [
            // Missing.
            (json!({}), json!({})),
            (Json::Null, Json::Null),
            // Another currency, however small.
            (json!({}), computed_total("1.00", "USD")),
            (
                json!({"total": {"amount": "1", "currency": "USD"}}),
                json!({}),
            ),
            // Unreadable amounts: floats, exponents, separators, junk.
            (
                json!({"total": {"amount": 1.0, "currency": "CNY"}}),
                json!({}),
            ),
            (json!({}), computed_total("1e3", "CNY")),
            (json!({}), computed_total("1,000.00", "CNY")),
            (json!({}), computed_total("", "CNY")),
            (json!({"total": "4800.00"}), json!({})),
            (
                json!({"total": {"amount": "1", "currency": "CNY", "note": "x"}}),
                json!({}),
            ),
            (json!({"total": {"amount": "1"}}), json!({})),
            (json!({}), json!({"total": {"kind": "money"}})),
            (
                json!({}),
                json!({"total": {"kind": "money", "value": "4800.00"}}),
            ),
            // Beyond any amount the form accepts.
            (json!({}), computed_total("-99999999999999999", "CNY")),
        ];
        for (form, computed) in refused {
            assert!(
                !limit.allows(&form, &computed),
                "form {form} computed {computed} must not allow Approve"
            );
        }
    }

    /// An amount in cents as the server writes money: always two decimals.
    fn cents(c: u64) -> String {
        format!("{}.{:02}", c / 100, c % 100)
    }

    proptest! {
        #[test]
        fn the_limit_is_inclusive_to_the_cent(c in 0u64..2_000_000) {
            let limit = cny("5000.00");
            let allowed = limit.allows(&Json::Null, &computed_total(&cents(c), "CNY"));
            prop_assert_eq!(allowed, c <= 500_000, "{}", cents(c));
        }

        #[test]
        fn around_the_boundary_form_and_computed_agree(delta in -300i64..300, trailing in 0usize..3) {
            // 5000.00 yes, 5000.01 no, however many zeros the amount is written with.
            let c = 500_000 + delta;
            let mut amount = cents(c.unsigned_abs());
            amount.push_str(&"0".repeat(trailing));
            let limit = cny("5000");
            let from_form = limit.allows(&json!({"total": {"amount": amount, "currency": "CNY"}}), &json!({}));
            let from_computed = limit.allows(&json!({}), &computed_total(&amount, "CNY"));
            prop_assert_eq!(from_form, delta <= 0);
            prop_assert_eq!(from_computed, delta <= 0);
        }

        #[test]
        fn another_currency_is_never_allowed(c in 0u64..1_000_000, code in "[A-Z]{3}") {
            prop_assume!(code != "CNY");
            let limit = cny("5000.00");
            prop_assert!(!limit.allows(&Json::Null, &computed_total(&cents(c), &code)));
        }

        #[test]
        fn arbitrary_text_never_allows_or_panics(text in "\\PC{0,24}") {
            // Only a plain decimal at most the limit may pass; everything else fails closed.
            let limit = cny("5000.00");
            let allowed = limit.allows(&json!({}), &computed_total(&text, "CNY"));
            let plain = text.parse::<Decimal>().ok().filter(|_| {
                let digits = text.strip_prefix('-').unwrap_or(&text);
                !digits.is_empty()
                    && digits.bytes().all(|b| b.is_ascii_digit() || b == b'.')
                    && digits.bytes().filter(|b| *b == b'.').count() <= 1
                    && !digits.starts_with('.')
                    && !digits.ends_with('.')
            });
            if allowed {
                prop_assert!(plain.is_some_and(|d| d <= Decimal::from(5000)), "{text:?}");
            }
        }
    }
}
