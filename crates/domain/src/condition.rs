//! Conditions on a form's values and on the initiator's department: the one small language
//! that both workflow branches ("amount > 5,000 adds the finance director") and form rules
//! ("a reason is required when…") are written in, so both are evaluated the same way.

use std::collections::BTreeSet;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::form::{ValidForm, Value};

/// How a number is compared with a condition's threshold.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CompareOp {
    Gt,
    Ge,
    Lt,
    Le,
    Eq,
    Ne,
}

impl CompareOp {
    fn holds(self, left: Decimal, right: Decimal) -> bool {
        match self {
            Self::Gt => left > right,
            Self::Ge => left >= right,
            Self::Lt => left < right,
            Self::Le => left <= right,
            Self::Eq => left == right,
            Self::Ne => left != right,
        }
    }
}

/// A condition. A field that is not filled in makes every test on it false (so `not` of it
/// is true): a branch never fires on a value that is not there.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Condition {
    /// A number, money amount or computed value compared with a threshold.
    Compare {
        field: String,
        op: CompareOp,
        #[cfg_attr(feature = "specta", specta(type = String))]
        value: Decimal,
    },
    /// A single-select, multi-select or text field equals / contains one of `values`.
    AnyOf {
        field: String,
        values: Vec<String>,
    },
    /// The field is filled in.
    IsSet {
        field: String,
    },
    /// The initiator belongs to one of `departments` or to a department below one of them.
    InitiatorInDepartment {
        departments: Vec<Uuid>,
    },
    All {
        conditions: Vec<Condition>,
    },
    Any {
        conditions: Vec<Condition>,
    },
    Not {
        condition: Box<Condition>,
    },
}

/// What a condition is evaluated against.
#[derive(Debug, Clone, Copy)]
pub struct ConditionInput<'a> {
    pub form: &'a ValidForm<'a>,
    /// The initiator's department and every department above it; empty when unknown (while
    /// drafting), which makes department tests false.
    pub initiator_departments: &'a BTreeSet<Uuid>,
}

impl Condition {
    pub fn holds(&self, input: &ConditionInput<'_>) -> bool {
        match self {
            Self::Compare { field, op, value } => input
                .form
                .get(field)
                .and_then(Value::as_decimal)
                .is_some_and(|left| op.holds(left, *value)),
            Self::AnyOf { field, values } => match input.form.get(field) {
                Some(Value::Choice(v) | Value::Text(v)) => values.iter().any(|x| x == v),
                Some(Value::Choices(chosen)) => {
                    chosen.iter().any(|c| values.iter().any(|x| x == c))
                }
                _ => false,
            },
            Self::IsSet { field } => input.form.get(field).is_some(),
            Self::InitiatorInDepartment { departments } => departments
                .iter()
                .any(|d| input.initiator_departments.contains(d)),
            Self::All { conditions } => conditions.iter().all(|c| c.holds(input)),
            Self::Any { conditions } => conditions.iter().any(|c| c.holds(input)),
            Self::Not { condition } => !condition.holds(input),
        }
    }

    /// Whether the condition tests the initiator's department (meaningless in a form rule,
    /// where the initiator is not known yet).
    pub fn reads_department(&self) -> bool {
        match self {
            Self::InitiatorInDepartment { .. } => true,
            Self::All { conditions } | Self::Any { conditions } => {
                conditions.iter().any(Self::reads_department)
            }
            Self::Not { condition } => condition.reads_department(),
            _ => false,
        }
    }
}
