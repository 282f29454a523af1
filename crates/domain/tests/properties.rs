//! Property tests: random workflow definitions driven by random action sequences, with the
//! engine's invariants checked after every accepted action against small independent oracles;
//! random step graphs against a reference cycle/reachability check; calendar arithmetic.
#![allow(clippy::expect_used, clippy::unwrap_used)] // test code

mod common;

use std::collections::{BTreeSet, VecDeque};

use chrono::{DateTime, TimeDelta, Utc};
use common::*;
use countersign_domain::engine::{
    Action, Actor, RequestState, RequestStatus, SignerPosition, TaskOutcome, Transition,
};
use countersign_domain::form::evaluate;
use countersign_domain::org::Delegation;
use countersign_domain::workflow::{ApprovalMode, PlannedKind, ReturnTarget, WorkflowDefinition};
use proptest::prelude::*;
use serde_json::{Value as Json, json};

/// People who may be approvers, signers, transfer targets or delegates.
const POOL: [u128; 8] = [
    BOB,
    CAROL,
    DAVE,
    SALES_HEAD,
    SALES_MANAGER,
    IT_ADMIN,
    FINANCE,
    ALICE,
];

#[derive(Debug, Clone)]
struct StepSpec {
    approvers: Vec<usize>,
    mode: u8,
    quorum: usize,
    returns: u8,
    initiator_decides: bool,
    cc_after: bool,
}

fn step_spec() -> impl Strategy<Value = StepSpec> {
    (
        proptest::sample::subsequence((0..POOL.len()).collect::<Vec<_>>(), 1..=4).prop_shuffle(),
        0u8..4,
        1usize..=4,
        0u8..4,
        any::<bool>(),
        proptest::bool::weighted(0.2),
    )
        .prop_map(
            |(approvers, mode, quorum, returns, initiator_decides, cc_after)| StepSpec {
                quorum: quorum.min(approvers.len()),
                approvers,
                mode,
                returns,
                initiator_decides,
                cc_after,
            },
        )
}

/// A chain of approval steps, optionally behind a condition that skips the first one for
/// small amounts, with CC steps sprinkled in.
fn definition(steps: &[StepSpec], gated: bool, merge: bool, resume: bool) -> WorkflowDefinition {
    let mut json_steps = Vec::new();
    let names: Vec<String> = (0..steps.len()).map(|i| format!("s{i}")).collect();
    for (i, spec) in steps.iter().enumerate() {
        let next = names.get(i + 1).cloned();
        let mode = match spec.mode {
            0 => json!("sequential"),
            1 => json!("all"),
            2 => json!("any"),
            _ => json!({"at_least": spec.quorum}),
        };
        let returns = match spec.returns {
            0 => json!(["initiator", "previous_step"]),
            1 => json!(["previous_step", "initiator"]),
            2 => json!(["initiator"]),
            _ => json!([]),
        };
        let approvers: Vec<Json> = spec
            .approvers
            .iter()
            .map(|p| json!({"kind": "user", "user": id(POOL[*p])}))
            .collect();
        let cc_id = format!("cc{i}");
        json_steps.push(json!({
            "kind": "approval", "id": names[i], "name": label("s"), "approvers": approvers, "mode": mode,
            "sla_hours": 4, "return_targets": returns,
            "initiator_approver": if spec.initiator_decides { "decides" } else { "auto_approve" },
            "next": if spec.cc_after { Some(cc_id.clone()) } else { next.clone() },
        }));
        if spec.cc_after {
            json_steps.push(json!({"kind": "cc", "id": cc_id, "name": label("cc"),
                                   "recipients": [{"kind": "role", "role": "hr"}], "next": next}));
        }
    }
    let mut start = names[0].clone();
    if gated && steps.len() > 1 {
        json_steps.push(json!({"kind": "condition", "id": "gate", "name": label("gate"),
            "branches": [{"when": {"kind": "compare", "field": "amount", "op": "gt", "value": "100"}, "next": names[0]}],
            "otherwise": names[1]}));
        start = "gate".into();
    }
    let definition: WorkflowDefinition = serde_json::from_value(json!({
        "start": start, "steps": json_steps, "merge_repeated_approvers": merge,
        "resubmit_from": if resume { "returning_step" } else { "start" },
    }))
    .expect("generated definition parses");
    definition.check().expect("generated definition is valid");
    definition
}

#[derive(Debug, Clone)]
struct Op {
    kind: u8,
    actor: usize,
    task: usize,
    person: usize,
    flag: u8,
    minutes: i64,
    amount: u16,
}

fn op() -> impl Strategy<Value = Op> {
    (
        0u8..12,
        0..POOL.len() + 2,
        0usize..24,
        0..POOL.len(),
        0u8..3,
        -60i64..1500,
        1u16..300,
    )
        .prop_map(|(kind, actor, task, person, flag, minutes, amount)| Op {
            kind,
            actor,
            task,
            person,
            flag,
            minutes,
            amount,
        })
}

#[derive(Debug, Clone)]
struct Scenario {
    steps: Vec<StepSpec>,
    gated: bool,
    merge: bool,
    resume: bool,
    initiator_is_alice: bool,
    delegations: Vec<(usize, usize, i64, i64)>,
    ops: Vec<Op>,
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        proptest::collection::vec(step_spec(), 1..=4),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        proptest::bool::weighted(0.8),
        proptest::collection::vec((0..POOL.len(), 0..POOL.len(), 0i64..200, 1i64..200), 0..3),
        proptest::collection::vec(op(), 1..40),
    )
        .prop_map(
            |(steps, gated, merge, resume, initiator_is_alice, delegations, ops)| Scenario {
                steps,
                gated,
                merge,
                resume,
                initiator_is_alice,
                delegations,
                ops,
            },
        )
}

fn action_for(op: &Op, state: &RequestState) -> (Actor, Action) {
    // Mostly act as someone holding a task, so that most actions are accepted and the
    // interesting paths are walked; sometimes act as anyone at all.
    let known: Vec<u32> = state.tasks.iter().map(|t| t.id).collect();
    let task = if !known.is_empty() && op.task < 20 {
        known[op.task % known.len()]
    } else {
        op.task as u32
    };
    let holder = state
        .task(task)
        .map(|t| if op.flag == 0 { t.seat } else { t.assignee });
    let actor = match op.actor {
        a if a < POOL.len() && op.kind.is_multiple_of(3) => id(POOL[a]),
        a if a == POOL.len() => state.initiator,
        _ => holder.unwrap_or(state.initiator),
    };
    let to = id(POOL[op.person]);
    let comment = if op.flag == 2 {
        String::new()
    } else {
        "reason".to_owned()
    };
    let action = match op.kind {
        0 => Action::Submit {
            form: form(&op.amount.to_string()),
        },
        1 | 2 => Action::Approve {
            task,
            comment: String::new(),
        },
        3 => Action::Reject { task, comment },
        4 => Action::Return {
            task,
            to: match op.flag {
                0 => None,
                1 => Some(ReturnTarget::Initiator),
                _ => Some(ReturnTarget::PreviousStep),
            },
            comment: "why".into(),
        },
        5 => Action::Resubmit {
            form: form(&op.amount.to_string()),
            comment: String::new(),
        },
        6 => Action::Transfer {
            task,
            to,
            comment: String::new(),
        },
        7 => Action::AddSigner {
            task,
            signer: to,
            position: if op.flag == 0 {
                SignerPosition::Before
            } else {
                SignerPosition::After
            },
            comment: String::new(),
        },
        // Withdrawing ends what a sequence can explore, so it is rarer than deciding.
        8 if op.task.is_multiple_of(4) => Action::Withdraw {
            comment: String::new(),
        },
        8 => Action::Approve {
            task,
            comment: String::new(),
        },
        9 => Action::Urge {
            comment: String::new(),
        },
        10 => Action::Comment {
            text: "note".into(),
        },
        _ => Action::Approve {
            task,
            comment: "ok".into(),
        },
    };
    let actor = if matches!(
        action,
        Action::Submit { .. } | Action::Resubmit { .. } | Action::Withdraw { .. }
    ) && op.actor < 6
    {
        state.initiator
    } else {
        actor
    };
    (Actor::person(actor), action)
}

fn mode_of(state: &RequestState, step: usize) -> Option<ApprovalMode> {
    match state.route.get(step).map(|s| &s.kind) {
        Some(PlannedKind::Approval { mode, .. }) => Some(*mode),
        _ => None,
    }
}

/// The reference verdict: does a step with these lane completions count as approved?
fn oracle_complete(mode: ApprovalMode, complete: usize, lanes: usize) -> bool {
    match mode {
        ApprovalMode::Sequential | ApprovalMode::All => complete == lanes,
        ApprovalMode::Any => complete >= 1,
        ApprovalMode::AtLeast(m) => complete >= m as usize,
    }
}

fn open_ids(state: &RequestState) -> BTreeSet<u32> {
    state.open_tasks().map(|t| t.id).collect()
}

fn check_bookkeeping(
    prev: &RequestState,
    tx: &Transition,
    actor: Actor,
) -> Result<(), TestCaseError> {
    let next = &tx.state;
    for (i, task) in next.tasks.iter().enumerate() {
        prop_assert_eq!(task.id as usize, i + 1, "task ids are 1..n in order");
    }
    prop_assert!(next.tasks.len() >= prev.tasks.len());
    for (old, new) in prev.tasks.iter().zip(&next.tasks) {
        if !old.is_open() {
            prop_assert_eq!(old, new, "a closed task never changes");
        }
    }
    // No task is lost or duplicated: open' = (open − closed) ∪ opened.
    let opened: BTreeSet<u32> = tx.opened.iter().copied().collect();
    let closed: BTreeSet<u32> = tx.closed.iter().copied().collect();
    prop_assert_eq!(opened.len(), tx.opened.len(), "opened has no duplicates");
    prop_assert_eq!(closed.len(), tx.closed.len(), "closed has no duplicates");
    prop_assert!(opened.is_disjoint(&closed));
    let expected: BTreeSet<u32> = open_ids(prev)
        .difference(&closed)
        .copied()
        .chain(opened.iter().copied())
        .collect();
    prop_assert_eq!(open_ids(next), expected);
    for id in &closed {
        let was_open = prev.task(*id).is_some_and(|t| t.is_open());
        let is_new = *id as usize > prev.tasks.len();
        prop_assert!(was_open || is_new, "closed task {} was open or new", id);
    }
    prop_assert_eq!(next.revision, prev.revision + 1);
    prop_assert_eq!(
        &next.events[..prev.events.len()],
        &prev.events[..],
        "history is append-only"
    );
    prop_assert_eq!(&next.events[prev.events.len()..], &tx.events[..]);
    prop_assert!(
        tx.notices.iter().all(|n| n.to != actor.id),
        "the actor is never notified"
    );
    // Open tasks mirror the lanes of the current step exactly.
    if next.status == RequestStatus::InProgress {
        let current = next.current.expect("in progress has a current step");
        prop_assert!(
            mode_of(next, current).is_some(),
            "current step is an approval"
        );
        let mut seats = BTreeSet::new();
        for task in next.open_tasks() {
            prop_assert_eq!(task.step, current);
            prop_assert!(seats.insert(task.seat), "one open task per seat");
            let lane = &next.lanes[task.lane];
            prop_assert!(!lane.rejected);
            prop_assert_eq!(lane.seats.get(lane.approved), Some(&task.seat));
        }
        let waiting = next
            .lanes
            .iter()
            .filter(|l| !l.rejected && l.approved < l.seats.len())
            .count();
        prop_assert_eq!(
            next.open_tasks().count(),
            waiting,
            "every waiting lane has one open task"
        );
    } else {
        prop_assert_eq!(
            next.open_tasks().count(),
            0,
            "only a running request has open tasks"
        );
        prop_assert!(next.lanes.is_empty() || next.status == RequestStatus::Draft);
    }
    Ok(())
}

fn check_durations(
    state: &RequestState,
    calendar: &countersign_domain::calendar::WorkingCalendar,
) -> Result<(), TestCaseError> {
    for task in state.tasks.iter().filter(|t| !t.is_open()) {
        let closed = task.closed_at.expect("closed task has a time");
        prop_assert!(closed >= task.opened_at);
        let elapsed = task.elapsed_secs.expect("closed task has a duration");
        prop_assert_eq!(elapsed, (closed - task.opened_at).num_seconds());
        if let Some(working) = task.working_secs {
            prop_assert!(
                (0..=elapsed).contains(&working),
                "working time within wall time"
            );
        }
    }
    for pair in state.visits.windows(2) {
        prop_assert_eq!(
            pair[0].closed_at,
            Some(pair[1].opened_at),
            "visits are contiguous"
        );
    }
    for visit in state.visits.iter().filter(|v| v.closed_at.is_some()) {
        let elapsed = visit.elapsed_secs.expect("closed visit has a duration");
        prop_assert!(elapsed >= 0);
        prop_assert_eq!(
            Some(elapsed),
            visit.closed_at.map(|c| (c - visit.opened_at).num_seconds())
        );
    }
    if let (Some(submitted), Some(finished)) = (state.submitted_at, state.finished_at) {
        let wall: i64 = state.visits.iter().filter_map(|v| v.elapsed_secs).sum();
        prop_assert_eq!(
            wall,
            (finished - submitted).num_seconds(),
            "visit durations add up"
        );
        let working: Option<i64> = state.visits.iter().map(|v| v.working_secs).sum();
        if let (Some(working), Ok(expected)) =
            (working, calendar.working_time_between(submitted, finished))
        {
            prop_assert_eq!(working, expected.num_seconds(), "working durations add up");
        }
    }
    Ok(())
}

fn check_semantics(
    prev: &RequestState,
    action: &Action,
    tx: &Transition,
) -> Result<(), TestCaseError> {
    let next = &tx.state;
    if prev.status.is_finished() {
        prop_assert!(
            matches!(action, Action::Comment { .. }),
            "a finished request accepted {:?}",
            action
        );
    }
    let decided_task = match action {
        Action::Approve { task, .. }
        | Action::Reject { task, .. }
        | Action::Return { task, .. } => prev.task(*task),
        _ => None,
    };
    let Some(task) = decided_task else {
        return Ok(());
    };
    let step = task.step;
    let mode = mode_of(prev, step).expect("decided an approval step");
    let left_step = next.current != Some(step)
        || next.status != RequestStatus::InProgress
        || next.visits.len() > prev.visits.len();
    match action {
        Action::Approve { .. } => {
            // Reference: the lanes after this approval, counting seats approved automatically
            // in the same lane as a result.
            let mut lanes = prev.lanes.clone();
            let auto = next.tasks[prev.tasks.len()..]
                .iter()
                .filter(|t| {
                    t.step == step
                        && t.lane == task.lane
                        && matches!(t.outcome, Some(TaskOutcome::AutoApproved { .. }))
                })
                .count();
            lanes[task.lane].approved += 1 + auto;
            let complete = lanes
                .iter()
                .filter(|l| !l.rejected && l.approved >= l.seats.len())
                .count();
            let expected = oracle_complete(mode, complete, lanes.len());
            prop_assert_eq!(
                left_step,
                expected,
                "{:?} with {} of {} lanes complete",
                mode,
                complete,
                lanes.len()
            );
            if let (true, ApprovalMode::AtLeast(m)) = (expected, mode) {
                prop_assert_eq!(
                    complete,
                    m as usize,
                    "M-of-N completes at the M-th approval"
                );
            }
            if expected && mode == ApprovalMode::All {
                prop_assert!(
                    lanes.iter().all(|l| l.approved == l.seats.len()),
                    "会签 needs everyone"
                );
            }
        }
        Action::Reject { .. } => {
            let rejected = prev.lanes.iter().filter(|l| l.rejected).count() + 1;
            let expected_rejected = match mode {
                ApprovalMode::AtLeast(m) => prev.lanes.len() - rejected < m as usize,
                _ => true,
            };
            prop_assert_eq!(next.status == RequestStatus::Rejected, expected_rejected);
        }
        Action::Return { to, .. } => {
            let targets = match &prev.route[step].kind {
                PlannedKind::Approval { return_targets, .. } => return_targets.clone(),
                _ => Vec::new(),
            };
            let target = to
                .or(targets.first().copied())
                .expect("an accepted return has a target");
            prop_assert!(
                targets.contains(&target),
                "return lands only where the definition allows"
            );
            match target {
                ReturnTarget::Initiator => {
                    prop_assert_eq!(next.status, RequestStatus::Returned);
                    prop_assert_eq!(next.current, None);
                }
                ReturnTarget::PreviousStep => {
                    let expected = (0..step).rev().find(|s| {
                        prev.tasks.iter().any(|t| {
                            t.step_id == prev.route[*s].step_id
                                && t.outcome == Some(TaskOutcome::Approved)
                        })
                    });
                    prop_assert_eq!(
                        next.current,
                        expected,
                        "return lands on the previous decided step"
                    );
                    prop_assert_eq!(next.status, RequestStatus::InProgress);
                }
            }
        }
        _ => {}
    }
    Ok(())
}

fn run(scenario: &Scenario) -> Result<(), TestCaseError> {
    let mut world = World::new(definition(
        &scenario.steps,
        scenario.gated,
        scenario.merge,
        scenario.resume,
    ));
    let start = bj(3, 2, 9, 0);
    for (from, to, begin, length) in &scenario.delegations {
        world.org.delegations.push(Delegation {
            from: id(POOL[*from]),
            to: id(POOL[*to]),
            starts_at: start + TimeDelta::hours(*begin),
            ends_at: start + TimeDelta::hours(begin + length),
        });
    }
    let initiator = if scenario.initiator_is_alice {
        ALICE
    } else {
        BOB
    };
    let mut state = RequestState::draft(id(500), id(initiator), start);
    let mut now: DateTime<Utc> = start;
    let engine = world.engine();
    // Most sequences start from a submitted request; the rest exercise the draft.
    if scenario.ops.first().is_some_and(|op| op.kind != 11) {
        let submit = Action::Submit {
            form: form(&scenario.ops[0].amount.to_string()),
        };
        let actor = Actor::person(id(initiator));
        if let Ok(tx) = engine.apply(&state, &submit, actor, now) {
            check_bookkeeping(&state, &tx, actor)?;
            check_durations(&tx.state, &world.calendar)?;
            state = tx.state;
        }
    }
    for op in &scenario.ops {
        now += TimeDelta::minutes(op.minutes);
        let (actor, action) = action_for(op, &state);
        match engine.apply(&state, &action, actor, now) {
            Ok(tx) => {
                check_bookkeeping(&state, &tx, actor)?;
                check_semantics(&state, &action, &tx)?;
                check_durations(&tx.state, &world.calendar)?;
                state = tx.state;
            }
            Err(refusal) => {
                // Refusals are typed and always explainable in both languages.
                prop_assert!(!refusal.code().is_empty());
                if state.status.is_finished() && !matches!(action, Action::Comment { .. }) {
                    prop_assert!(
                        matches!(refusal.code(), "request_finished" | "request_withdrawn"),
                        "{:?}",
                        refusal
                    );
                }
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    #[test]
    fn engine_invariants_hold_for_random_definitions_and_actions(scenario in scenario()) {
        run(&scenario)?;
    }
}

/// Reference graph check: Kahn's algorithm for cycles, breadth-first search for reachability.
fn reference_check(edges: &[Vec<usize>], start: usize) -> Result<(), &'static str> {
    let n = edges.len();
    let mut reachable = vec![false; n];
    let mut queue = VecDeque::from([start]);
    reachable[start] = true;
    while let Some(node) = queue.pop_front() {
        for &next in &edges[node] {
            if !reachable[next] {
                reachable[next] = true;
                queue.push_back(next);
            }
        }
    }
    let mut indegree = vec![0usize; n];
    for node in (0..n).filter(|i| reachable[*i]) {
        for &next in &edges[node] {
            indegree[next] += 1;
        }
    }
    let mut ready: Vec<usize> = (0..n)
        .filter(|i| reachable[*i] && indegree[*i] == 0)
        .collect();
    let mut seen = 0;
    while let Some(node) = ready.pop() {
        seen += 1;
        for &next in &edges[node] {
            indegree[next] -= 1;
            if indegree[next] == 0 {
                ready.push(next);
            }
        }
    }
    if seen < reachable.iter().filter(|r| **r).count() {
        Err("cycle")
    } else if reachable.iter().any(|r| !r) {
        Err("unreachable")
    } else {
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn definition_checks_agree_with_a_reference(
        n in 1usize..7,
        raw in proptest::collection::vec(proptest::collection::vec(0usize..7, 0..3), 7),
        start in 0usize..7,
    ) {
        let start = start % n;
        // Approval steps have one successor, conditions several.
        let edges: Vec<Vec<usize>> = raw.iter().take(n).map(|e| e.iter().map(|x| x % n).collect()).collect();
        let steps: Vec<Json> = edges.iter().enumerate().map(|(i, next)| {
            let id = format!("s{i}");
            match next.as_slice() {
                [] => json!({"kind": "approval", "id": id, "name": label("x"), "approvers": [{"kind": "manager"}]}),
                [one] => json!({"kind": "approval", "id": id, "name": label("x"), "approvers": [{"kind": "manager"}], "next": format!("s{one}")}),
                many => json!({"kind": "condition", "id": id, "name": label("x"),
                    "branches": many.iter().map(|m| json!({"when": {"kind": "is_set", "field": "amount"}, "next": format!("s{m}")})).collect::<Vec<_>>()}),
            }
        }).collect();
        let json = json!({"start": format!("s{start}"), "steps": steps}).to_string();
        let got = WorkflowDefinition::from_json(&json).map(|_| ()).map_err(|e| e.code());
        // The engine reports the first problem it meets; the reference says whether there is
        // one and of which kind when there is only one kind.
        match reference_check(&edges, start) {
            Ok(()) => prop_assert_eq!(got, Ok(())),
            Err("cycle") => prop_assert_eq!(got, Err("cycle")),
            Err(_) => prop_assert!(matches!(got, Err("unreachable") | Err("cycle"))),
        }
    }

    #[test]
    fn working_time_is_additive_and_inverts_adding_hours(
        a in 0i64..(300 * 24 * 60), b in 0i64..(300 * 24 * 60), c in 0i64..(300 * 24 * 60), hours in 0u32..200,
    ) {
        let calendar = calendar();
        let origin = bj(1, 1, 0, 0);
        let mut points = [a, b, c];
        points.sort_unstable();
        let [a, b, c] = points.map(|m| origin + TimeDelta::minutes(m));
        let ab = calendar.working_time_between(a, b).expect("2026");
        let bc = calendar.working_time_between(b, c).expect("2026");
        let ac = calendar.working_time_between(a, c).expect("2026");
        prop_assert_eq!(ab + bc, ac);
        prop_assert!(ac <= c - a);
        if let Ok(due) = calendar.add_working_hours(a, hours) {
            prop_assert_eq!(calendar.working_time_between(a, due).expect("2026"), TimeDelta::hours(i64::from(hours)));
            prop_assert!(due >= a);
        }
    }

    #[test]
    fn validation_never_panics_and_paths_name_real_fields(data in json_value(3)) {
        let calendar = calendar();
        for template in countersign_domain::templates::library().expect("library") {
            let evaluation = evaluate(&template.form, &data, &calendar);
            for error in &evaluation.errors {
                let head = error.path.split(['[', '.']).next().unwrap_or("");
                let known = head.is_empty()
                    || template.form.fields.iter().any(|f| f.key == head)
                    || template.form.computed.iter().any(|c| c.key == head)
                    || data.get(head).is_some();
                prop_assert!(known, "{} names no field", error.path);
            }
        }
    }
}

fn json_value(depth: u32) -> impl Strategy<Value = Json> {
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::from),
        any::<i64>().prop_map(Json::from),
        any::<f64>().prop_map(Json::from),
        "[a-z0-9 .:-]{0,12}".prop_map(Json::from),
        Just(json!("2026-03-09")),
        Just(json!({"amount": "12.50", "currency": "CNY"})),
    ];
    leaf.prop_recursive(depth, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Json::from),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("lines".to_owned()),
                    Just("period".to_owned()),
                    Just("amount".to_owned()),
                    Just("items".to_owned()),
                    Just("purpose".to_owned()),
                    "[a-z_]{1,8}".prop_map(|s| s)
                ],
                inner,
                0..6
            )
            .prop_map(|m| Json::Object(m.into_iter().collect())),
        ]
    })
}
