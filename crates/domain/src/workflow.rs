//! Workflow definitions and routing.
//!
//! A definition is a graph of steps: `approval` (who approves and how they decide), `cc`
//! (抄送, who is told) and `condition` (which way to go, on form values and the initiator's
//! department). It is checked once when loaded — unknown references, cycles, unreachable
//! steps and nonsense limits are typed errors — and then [`plan`] walks it for one request:
//! conditions are decided on the submitted form, approver rules are resolved against an
//! [`OrgSnapshot`], and the result is the request's [`PlannedStep`] route. Freezing the route
//! at submission means everyone sees the same route for the whole life of the request, and a
//! draft can preview it; only delegation is decided when a task opens, since it depends on
//! the day.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::condition::{Condition, ConditionInput};
use crate::form::{FieldType, FormSchema, Label, SchemaError, ValidForm, Value};
use crate::org::OrgSnapshot;

const MAX_STEPS: usize = 100;
const MAX_SLA_HOURS: u32 = 10_000;
const MAX_MANAGER_LEVELS: u8 = 10;
const MAX_RULES: usize = 50;

/// A workflow definition: where it starts and its steps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkflowDefinition {
    pub start: String,
    pub steps: Vec<Step>,
    /// Whether a person who approved the step just before is spared approving again when
    /// they come up next (the same person twice in a row is merged into one decision).
    #[serde(default = "yes")]
    pub merge_repeated_approvers: bool,
    /// Where a returned request starts again once resubmitted.
    #[serde(default)]
    pub resubmit_from: ResubmitFrom,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ResubmitFrom {
    /// From the first step: every approval is given again on the corrected form.
    #[default]
    Start,
    /// From the step that returned it, if the corrected form still routes through it.
    ReturningStep,
}

/// One step of a definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    Approval {
        id: String,
        name: Label,
        approvers: Vec<ApproverRule>,
        #[serde(default)]
        mode: ApprovalMode,
        /// Working hours each approver has to decide (S9 overdue warnings).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sla_hours: Option<u32>,
        #[serde(default)]
        when_empty: WhenEmpty,
        #[serde(default)]
        initiator_approver: InitiatorApprover,
        /// Where an approver of this step may return the request; the first is the default.
        #[serde(default = "default_return_targets")]
        return_targets: Vec<ReturnTarget>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        next: Option<String>,
    },
    Cc {
        id: String,
        name: Label,
        recipients: Vec<ApproverRule>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        next: Option<String>,
    },
    Condition {
        id: String,
        name: Label,
        branches: Vec<Branch>,
        /// Where to go when no branch holds; the end of the workflow if absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        otherwise: Option<String>,
    },
}

fn default_return_targets() -> Vec<ReturnTarget> {
    vec![ReturnTarget::Initiator, ReturnTarget::PreviousStep]
}

impl Step {
    pub fn id(&self) -> &str {
        match self {
            Self::Approval { id, .. } | Self::Cc { id, .. } | Self::Condition { id, .. } => id,
        }
    }

    pub fn name(&self) -> &Label {
        match self {
            Self::Approval { name, .. } | Self::Cc { name, .. } | Self::Condition { name, .. } => {
                name
            }
        }
    }

    /// Every step this one can lead to.
    fn successors(&self) -> Vec<&str> {
        match self {
            Self::Approval { next, .. } | Self::Cc { next, .. } => {
                next.iter().map(String::as_str).collect()
            }
            Self::Condition {
                branches,
                otherwise,
                ..
            } => branches
                .iter()
                .map(|b| b.next.as_str())
                .chain(otherwise.as_deref())
                .collect(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Branch {
    pub when: Condition,
    pub next: String,
}

/// Who approves. A step's rules are resolved in order and concatenated, each person once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ApproverRule {
    User {
        user: Uuid,
    },
    Role {
        role: String,
        #[serde(default)]
        scope: RoleScope,
    },
    /// The initiator's manager `levels` up (1 = direct manager).
    Manager {
        #[serde(default = "one")]
        levels: u8,
    },
    DepartmentHead {
        #[serde(default)]
        department: DepartmentRef,
    },
    /// The person named in a person field of the form.
    FormPerson {
        field: String,
    },
}

fn one() -> u8 {
    1
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RoleScope {
    #[default]
    Anywhere,
    /// Only holders in the initiator's department or above it (the nearest HR, say).
    InitiatorDepartment,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum DepartmentRef {
    #[default]
    Initiator,
    Fixed {
        id: Uuid,
    },
    /// The department named in a department field of the form.
    Field {
        field: String,
    },
}

/// How the approvers of a step decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalMode {
    /// One after another, in order; any rejection rejects.
    #[default]
    Sequential,
    /// 会签: everyone must approve; any rejection rejects.
    All,
    /// 或签: the first decision, approve or reject, decides.
    Any,
    /// At least M of them must approve; rejected once M can no longer be reached.
    AtLeast(u32),
}

/// What happens when a step's rules resolve to nobody.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum WhenEmpty {
    /// The request cannot be submitted; the initiator is told which step has nobody.
    #[default]
    Refuse,
    /// The step is skipped and the skip is recorded.
    Skip,
    /// The fallback rules are used instead (a workflow administrator, say).
    Fallback { approvers: Vec<ApproverRule> },
}

/// When the initiator is among a step's approvers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum InitiatorApprover {
    /// Their approval is recorded automatically: no one approves their own request by hand.
    #[default]
    AutoApprove,
    /// They decide like any other approver.
    Decides,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnTarget {
    Initiator,
    PreviousStep,
}

/// A definition that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum DefinitionError {
    #[error("definition is not valid JSON of the expected shape: {message}")]
    Parse { message: String },
    #[error("definition has no steps or more than 100")]
    StepCount,
    #[error("step id {id:?} is not lower_snake_case")]
    InvalidStepId { id: String },
    #[error("step id {id:?} is used twice")]
    DuplicateStep { id: String },
    #[error("step {from:?} leads to unknown step {to:?}")]
    UnknownStep { from: String, to: String },
    #[error("steps form a cycle through {id:?}")]
    Cycle { id: String },
    #[error("step {id:?} cannot be reached from the start")]
    Unreachable { id: String },
    #[error("step {step:?} has no approver or recipient rule, or too many")]
    NoRules { step: String },
    #[error("step {step:?}: {reason}")]
    InvalidLimit { step: String, reason: String },
    #[error("step {step:?} refers to the form wrongly: {detail}")]
    FormReference { step: String, detail: String },
}

impl DefinitionError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Parse { .. } => "parse",
            Self::StepCount => "step_count",
            Self::InvalidStepId { .. } => "invalid_step_id",
            Self::DuplicateStep { .. } => "duplicate_step",
            Self::UnknownStep { .. } => "unknown_step",
            Self::Cycle { .. } => "cycle",
            Self::Unreachable { .. } => "unreachable",
            Self::NoRules { .. } => "no_rules",
            Self::InvalidLimit { .. } => "invalid_limit",
            Self::FormReference { .. } => "form_reference",
        }
    }
}

fn valid_id(id: &str) -> bool {
    let mut chars = id.chars();
    id.len() <= 64
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl WorkflowDefinition {
    /// Parses a definition from JSON and checks its structure.
    pub fn from_json(json: &str) -> Result<Self, DefinitionError> {
        let definition: Self = serde_json::from_str(json).map_err(|e| DefinitionError::Parse {
            message: e.to_string(),
        })?;
        definition.check()?;
        Ok(definition)
    }

    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.id() == id)
    }

    /// Checks the graph and the limits: ids, references, no cycle, everything reachable.
    pub fn check(&self) -> Result<(), DefinitionError> {
        if self.steps.is_empty() || self.steps.len() > MAX_STEPS {
            return Err(DefinitionError::StepCount);
        }
        let mut index = BTreeMap::new();
        for (i, step) in self.steps.iter().enumerate() {
            if !valid_id(step.id()) {
                return Err(DefinitionError::InvalidStepId {
                    id: step.id().to_owned(),
                });
            }
            if index.insert(step.id(), i).is_some() {
                return Err(DefinitionError::DuplicateStep {
                    id: step.id().to_owned(),
                });
            }
            self.check_limits(step)?;
        }
        let start =
            *index
                .get(self.start.as_str())
                .ok_or_else(|| DefinitionError::UnknownStep {
                    from: "start".into(),
                    to: self.start.clone(),
                })?;
        let mut edges = vec![Vec::new(); self.steps.len()];
        for (i, step) in self.steps.iter().enumerate() {
            for to in step.successors() {
                let j = *index.get(to).ok_or_else(|| DefinitionError::UnknownStep {
                    from: step.id().to_owned(),
                    to: to.to_owned(),
                })?;
                edges[i].push(j);
            }
        }
        // Depth-first search from the start with colours: grey on the stack, black done.
        // Iterative, so a long chain cannot exhaust the stack.
        #[derive(Clone, Copy, PartialEq)]
        enum Colour {
            White,
            Grey,
            Black,
        }
        let mut colour = vec![Colour::White; self.steps.len()];
        let mut stack = vec![(start, 0usize)];
        colour[start] = Colour::Grey;
        while let Some((node, edge)) = stack.last().copied() {
            if let Some(&next) = edges[node].get(edge) {
                if let Some(top) = stack.last_mut() {
                    top.1 += 1;
                }
                match colour[next] {
                    Colour::Grey => {
                        return Err(DefinitionError::Cycle {
                            id: self.steps[next].id().to_owned(),
                        });
                    }
                    Colour::White => {
                        colour[next] = Colour::Grey;
                        stack.push((next, 0));
                    }
                    Colour::Black => {}
                }
            } else {
                colour[node] = Colour::Black;
                stack.pop();
            }
        }
        if let Some(i) = colour.iter().position(|c| *c == Colour::White) {
            return Err(DefinitionError::Unreachable {
                id: self.steps[i].id().to_owned(),
            });
        }
        Ok(())
    }

    fn check_limits(&self, step: &Step) -> Result<(), DefinitionError> {
        let id = step.id().to_owned();
        let limit = |ok: bool, reason: &str| {
            if ok {
                Ok(())
            } else {
                Err(DefinitionError::InvalidLimit {
                    step: id.clone(),
                    reason: reason.to_owned(),
                })
            }
        };
        let rules_ok = |rules: &[ApproverRule]| {
            if rules.is_empty() || rules.len() > MAX_RULES {
                return Err(DefinitionError::NoRules { step: id.clone() });
            }
            for rule in rules {
                match rule {
                    ApproverRule::Manager { levels } => limit(
                        (1..=MAX_MANAGER_LEVELS).contains(levels),
                        "manager levels are 1 to 10",
                    )?,
                    ApproverRule::Role { role, .. } => {
                        limit(!role.is_empty() && role.len() <= 64, "role name length")?
                    }
                    _ => {}
                }
            }
            Ok(())
        };
        match step {
            Step::Approval {
                approvers,
                mode,
                sla_hours,
                when_empty,
                ..
            } => {
                rules_ok(approvers)?;
                if let WhenEmpty::Fallback { approvers } = when_empty {
                    rules_ok(approvers)?;
                }
                limit(
                    sla_hours.is_none_or(|h| (1..=MAX_SLA_HOURS).contains(&h)),
                    "sla_hours is 1 to 10000",
                )?;
                limit(
                    !matches!(mode, ApprovalMode::AtLeast(m) if *m == 0 || *m > 1000),
                    "at_least is 1 to 1000",
                )
            }
            Step::Cc { recipients, .. } => rules_ok(recipients),
            Step::Condition { branches, .. } => limit(branches.len() <= 50, "at most 50 branches"),
        }
    }

    /// Checks the definition against the form it routes: every field a condition or rule
    /// reads exists and has the right kind.
    pub fn check_against(&self, schema: &FormSchema) -> Result<(), DefinitionError> {
        for step in &self.steps {
            let bad = |field: &str| DefinitionError::FormReference {
                step: step.id().to_owned(),
                detail: format!("{field} is missing or of the wrong kind"),
            };
            let check_rules = |rules: &[ApproverRule]| {
                for rule in rules {
                    let (field, wanted_person) = match rule {
                        ApproverRule::FormPerson { field } => (field, true),
                        ApproverRule::DepartmentHead {
                            department: DepartmentRef::Field { field },
                        } => (field, false),
                        _ => continue,
                    };
                    let found = schema.field(field).map(|f| &f.field_type);
                    let fits = if wanted_person {
                        matches!(found, Some(FieldType::Person {}))
                    } else {
                        matches!(found, Some(FieldType::Department {}))
                    };
                    if !fits {
                        return Err(bad(field));
                    }
                }
                Ok(())
            };
            match step {
                Step::Approval {
                    approvers,
                    when_empty,
                    ..
                } => {
                    check_rules(approvers)?;
                    if let WhenEmpty::Fallback { approvers } = when_empty {
                        check_rules(approvers)?;
                    }
                }
                Step::Cc { recipients, .. } => check_rules(recipients)?,
                Step::Condition { branches, .. } => {
                    for branch in branches {
                        let mut problems: Vec<SchemaError> = Vec::new();
                        crate::form::check_condition_fields(
                            schema,
                            &branch.when,
                            step.id(),
                            &mut problems,
                        );
                        if let Some(problem) = problems.into_iter().next() {
                            return Err(DefinitionError::FormReference {
                                step: step.id().to_owned(),
                                detail: problem.detail,
                            });
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// One step of a request's route, with its people resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlannedStep {
    pub step_id: String,
    pub name: Label,
    pub kind: PlannedKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum PlannedKind {
    Approval {
        approvers: Vec<Uuid>,
        mode: ApprovalMode,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sla_hours: Option<u32>,
        initiator_approver: InitiatorApprover,
        return_targets: Vec<ReturnTarget>,
    },
    Cc {
        recipients: Vec<Uuid>,
    },
    /// An approval step whose rules found nobody and whose definition says to skip it.
    Skipped,
}

/// Why a route could not be planned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum RouteError {
    #[error("no approver could be found for step {step:?}")]
    NoApprover { step: String },
    #[error("step {step:?} needs {needed} approvals but only {available} approvers were found")]
    QuorumUnreachable {
        step: String,
        needed: u32,
        available: u32,
    },
    #[error("the definition is invalid: {0}")]
    Definition(#[from] DefinitionError),
}

/// What routing needs to know about the request.
#[derive(Debug, Clone, Copy)]
pub struct RouteInput<'a> {
    pub form: &'a ValidForm<'a>,
    pub initiator: Uuid,
    pub org: &'a OrgSnapshot,
}

/// Walks the definition for one request and resolves every step's people.
pub fn plan(
    definition: &WorkflowDefinition,
    input: &RouteInput<'_>,
) -> Result<Vec<PlannedStep>, RouteError> {
    definition.check()?;
    let departments = input.org.departments_of(input.initiator);
    let condition_input = ConditionInput {
        form: input.form,
        initiator_departments: &departments,
    };
    let mut route = Vec::new();
    let mut current = Some(definition.start.as_str());
    // The graph is acyclic (checked above), so this visits each step at most once; the
    // bound is a second line of defence.
    let mut visited = BTreeSet::new();
    while let Some(id) = current {
        if !visited.insert(id) {
            return Err(DefinitionError::Cycle { id: id.to_owned() }.into());
        }
        let step = definition
            .step(id)
            .ok_or_else(|| DefinitionError::UnknownStep {
                from: "route".into(),
                to: id.to_owned(),
            })?;
        current = match step {
            Step::Condition {
                branches,
                otherwise,
                ..
            } => branches
                .iter()
                .find(|b| b.when.holds(&condition_input))
                .map(|b| b.next.as_str())
                .or(otherwise.as_deref()),
            Step::Cc {
                id,
                name,
                recipients,
                next,
            } => {
                let recipients = resolve(recipients, input);
                if !recipients.is_empty() {
                    route.push(PlannedStep {
                        step_id: id.clone(),
                        name: name.clone(),
                        kind: PlannedKind::Cc { recipients },
                    });
                }
                next.as_deref()
            }
            Step::Approval {
                id,
                name,
                approvers,
                mode,
                sla_hours,
                when_empty,
                initiator_approver,
                return_targets,
                next,
            } => {
                let mut people = resolve(approvers, input);
                if people.is_empty() {
                    match when_empty {
                        WhenEmpty::Refuse => {
                            return Err(RouteError::NoApprover { step: id.clone() });
                        }
                        WhenEmpty::Skip => {}
                        WhenEmpty::Fallback { approvers } => {
                            people = resolve(approvers, input);
                            if people.is_empty() {
                                return Err(RouteError::NoApprover { step: id.clone() });
                            }
                        }
                    }
                }
                let kind = if people.is_empty() {
                    PlannedKind::Skipped
                } else {
                    if let ApprovalMode::AtLeast(needed) = mode
                        && (people.len() as u64) < u64::from(*needed)
                    {
                        return Err(RouteError::QuorumUnreachable {
                            step: id.clone(),
                            needed: *needed,
                            available: people.len() as u32,
                        });
                    }
                    PlannedKind::Approval {
                        approvers: people,
                        mode: *mode,
                        sla_hours: *sla_hours,
                        initiator_approver: *initiator_approver,
                        return_targets: return_targets.clone(),
                    }
                };
                route.push(PlannedStep {
                    step_id: id.clone(),
                    name: name.clone(),
                    kind,
                });
                next.as_deref()
            }
        };
    }
    Ok(route)
}

/// The people a list of rules names, in rule order, each once, active people only.
fn resolve(rules: &[ApproverRule], input: &RouteInput<'_>) -> Vec<Uuid> {
    let org = input.org;
    let mut people: Vec<Uuid> = Vec::new();
    let mut add = |person: Option<Uuid>| {
        if let Some(p) = person
            && org.is_active(p)
            && !people.contains(&p)
        {
            people.push(p);
        }
    };
    for rule in rules {
        match rule {
            ApproverRule::User { user } => add(Some(*user)),
            ApproverRule::Role { role, scope } => {
                let within = match scope {
                    RoleScope::Anywhere => None,
                    RoleScope::InitiatorDepartment => {
                        match org.person(input.initiator).and_then(|p| p.department) {
                            Some(d) => Some(d),
                            // Unknown department: nobody is "in" it.
                            None => continue,
                        }
                    }
                };
                match within {
                    None => org
                        .with_role(role, None)
                        .into_iter()
                        .for_each(|p| add(Some(p))),
                    Some(department) => {
                        // The nearest holders: in the initiator's department, else the
                        // parent's, and so on up.
                        let mut level = Some(department);
                        let mut seen = BTreeSet::new();
                        while let Some(d) = level {
                            if !seen.insert(d) {
                                break;
                            }
                            let holders: Vec<Uuid> = org
                                .with_role(role, None)
                                .into_iter()
                                .filter(|p| org.person(*p).and_then(|x| x.department) == Some(d))
                                .collect();
                            if !holders.is_empty() {
                                holders.into_iter().for_each(|p| add(Some(p)));
                                break;
                            }
                            level = org.departments.get(&d).and_then(|x| x.parent);
                        }
                    }
                }
            }
            ApproverRule::Manager { levels } => add(org.manager_of(input.initiator, *levels)),
            ApproverRule::DepartmentHead { department } => {
                let department = match department {
                    DepartmentRef::Initiator => {
                        org.person(input.initiator).and_then(|p| p.department)
                    }
                    DepartmentRef::Fixed { id } => Some(*id),
                    DepartmentRef::Field { field } => match input.form.get(field) {
                        Some(Value::Department(d)) => Some(*d),
                        _ => None,
                    },
                };
                add(department.and_then(|d| org.head_of(d)));
            }
            ApproverRule::FormPerson { field } => match input.form.get(field) {
                Some(Value::Person(p)) => add(Some(*p)),
                _ => add(None),
            },
        }
    }
    people
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn def(json: serde_json::Value) -> Result<WorkflowDefinition, DefinitionError> {
        WorkflowDefinition::from_json(&json.to_string())
    }

    fn approval(id: &str, next: Option<&str>) -> serde_json::Value {
        json!({"kind": "approval", "id": id, "name": {"zh-CN": id, "en": id},
               "approvers": [{"kind": "manager"}], "next": next})
    }

    #[test]
    fn graph_errors_are_typed() {
        let code =
            |r: Result<WorkflowDefinition, DefinitionError>| r.map(|_| ()).map_err(|e| e.code());
        assert_eq!(
            code(def(json!({"start": "a", "steps": []}))),
            Err("step_count")
        );
        assert_eq!(
            code(def(
                json!({"start": "a", "steps": [approval("a", Some("b")), approval("b", Some("a"))]})
            )),
            Err("cycle")
        );
        assert_eq!(
            code(def(
                json!({"start": "a", "steps": [approval("a", Some("a"))]})
            )),
            Err("cycle"),
            "a step leading to itself"
        );
        assert_eq!(
            code(def(
                json!({"start": "a", "steps": [approval("a", None), approval("b", None)]})
            )),
            Err("unreachable")
        );
        assert_eq!(
            code(def(
                json!({"start": "a", "steps": [approval("a", Some("zz"))]})
            )),
            Err("unknown_step")
        );
        assert_eq!(
            code(def(json!({"start": "x", "steps": [approval("a", None)]}))),
            Err("unknown_step")
        );
        assert_eq!(
            code(def(
                json!({"start": "a", "steps": [approval("a", None), approval("a", None)]})
            )),
            Err("duplicate_step")
        );
        assert_eq!(
            code(def(json!({"start": "A", "steps": [approval("A", None)]}))),
            Err("invalid_step_id")
        );
        assert_eq!(
            code(def(
                json!({"start": "a", "steps": [{"kind": "approval", "id": "a", "name": {"zh-CN": "", "en": ""}, "approvers": []}]})
            )),
            Err("no_rules")
        );
        assert_eq!(
            code(def(
                json!({"start": "a", "steps": [{"kind": "approval", "id": "a", "name": {"zh-CN": "", "en": ""},
                "approvers": [{"kind": "manager", "levels": 0}]}]})
            )),
            Err("invalid_limit")
        );
        assert_eq!(
            code(def(
                json!({"start": "a", "steps": [{"kind": "approval", "id": "a", "name": {"zh-CN": "", "en": ""},
                "approvers": [{"kind": "manager"}], "mode": {"at_least": 0}}]})
            )),
            Err("invalid_limit")
        );
        assert_eq!(
            code(def(
                json!({"start": "a", "steps": [approval("a", None)], "bogus": 1})
            )),
            Err("parse")
        );
        // A diamond is fine: two ways to the same step is not a cycle.
        let diamond = def(json!({"start": "c", "steps": [
            {"kind": "condition", "id": "c", "name": {"zh-CN": "", "en": ""},
             "branches": [{"when": {"kind": "is_set", "field": "x"}, "next": "a"}], "otherwise": "b"},
            approval("a", Some("d")), approval("b", Some("d")), approval("d", None)]}));
        assert!(diamond.is_ok(), "{diamond:?}");
    }

    #[test]
    fn modes_serialise_stably() {
        let modes = [
            (ApprovalMode::Sequential, json!("sequential")),
            (ApprovalMode::All, json!("all")),
            (ApprovalMode::Any, json!("any")),
            (ApprovalMode::AtLeast(2), json!({"at_least": 2})),
        ];
        for (mode, expected) in modes {
            assert_eq!(serde_json::to_value(mode).expect("serialises"), expected);
        }
    }
}
