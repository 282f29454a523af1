//! Engine behaviour: every action in every state (a table), then one scenario per rule.
#![allow(clippy::expect_used, clippy::unwrap_used)] // test code

mod common;

use chrono::TimeDelta;
use common::*;
use countersign_domain::engine::{
    Action, Actor, AutoReason, Decision, EventKind, NoticeReason, Refusal, RequestState,
    RequestStatus, SignerPosition, TaskOutcome, Warning,
};
use countersign_domain::messages::Locale;
use countersign_domain::org::Delegation;
use countersign_domain::workflow::{ReturnTarget, RouteError};
use serde_json::json;

/// A request in `status`, with the manager's task 1 as the task the table acts on.
fn in_status(world: &World, status: RequestStatus) -> RequestState {
    let draft = world.draft(ALICE);
    if status == RequestStatus::Draft {
        return draft;
    }
    let state = world.submitted(ALICE, "100").state;
    let t = bj(3, 9, 10, 0);
    match status {
        RequestStatus::InProgress => state,
        RequestStatus::Returned => {
            world
                .act(
                    &state,
                    SALES_MANAGER,
                    Action::Return {
                        task: 1,
                        to: None,
                        comment: "fix".into(),
                    },
                    t,
                )
                .state
        }
        RequestStatus::Approved => world.act(&state, SALES_MANAGER, approve(1), t).state,
        RequestStatus::Rejected => world.act(&state, SALES_MANAGER, reject(1), t).state,
        RequestStatus::Withdrawn => {
            world
                .act(
                    &state,
                    ALICE,
                    Action::Withdraw {
                        comment: String::new(),
                    },
                    t,
                )
                .state
        }
        RequestStatus::Draft => draft,
    }
}

#[test]
fn every_action_in_every_state() {
    let world = World::new(expense_definition());
    let actions: Vec<(&str, u128, Action)> = vec![
        ("submit", ALICE, Action::Submit { form: form("100") }),
        ("approve", SALES_MANAGER, approve(1)),
        ("reject", SALES_MANAGER, reject(1)),
        (
            "return",
            SALES_MANAGER,
            Action::Return {
                task: 1,
                to: None,
                comment: "fix".into(),
            },
        ),
        (
            "resubmit",
            ALICE,
            Action::Resubmit {
                form: form("100"),
                comment: String::new(),
            },
        ),
        (
            "transfer",
            SALES_MANAGER,
            Action::Transfer {
                task: 1,
                to: id(SALES_HEAD),
                comment: String::new(),
            },
        ),
        (
            "add_signer",
            SALES_MANAGER,
            Action::AddSigner {
                task: 1,
                signer: id(BOB),
                position: SignerPosition::Before,
                comment: String::new(),
            },
        ),
        (
            "withdraw",
            ALICE,
            Action::Withdraw {
                comment: String::new(),
            },
        ),
        (
            "urge",
            ALICE,
            Action::Urge {
                comment: String::new(),
            },
        ),
        (
            "comment",
            ALICE,
            Action::Comment {
                text: "hello".into(),
            },
        ),
    ];
    use RequestStatus::*;
    // Expected outcome per state, in the order of `actions`: "ok" or the refusal code.
    let table: Vec<(RequestStatus, [&str; 10])> = vec![
        (
            Draft,
            [
                "ok",
                "not_submitted",
                "not_submitted",
                "not_submitted",
                "not_submitted",
                "not_submitted",
                "not_submitted",
                "not_submitted",
                "not_submitted",
                "not_submitted",
            ],
        ),
        (
            InProgress,
            [
                "already_submitted",
                "ok",
                "ok",
                "ok",
                "not_returned",
                "ok",
                "ok",
                "ok",
                "ok",
                "ok",
            ],
        ),
        (
            Returned,
            [
                "already_submitted",
                "already_decided",
                "already_decided",
                "already_decided",
                "ok",
                "already_decided",
                "already_decided",
                "ok",
                "not_permitted",
                "ok",
            ],
        ),
        (
            Approved,
            [
                "request_finished",
                "request_finished",
                "request_finished",
                "request_finished",
                "request_finished",
                "request_finished",
                "request_finished",
                "request_finished",
                "request_finished",
                "ok",
            ],
        ),
        (
            Rejected,
            [
                "request_finished",
                "request_finished",
                "request_finished",
                "request_finished",
                "request_finished",
                "request_finished",
                "request_finished",
                "request_finished",
                "request_finished",
                "ok",
            ],
        ),
        (
            Withdrawn,
            [
                "request_withdrawn",
                "request_withdrawn",
                "request_withdrawn",
                "request_withdrawn",
                "request_withdrawn",
                "request_withdrawn",
                "request_withdrawn",
                "request_withdrawn",
                "request_withdrawn",
                "ok",
            ],
        ),
    ];
    for (status, expected) in table {
        let state = in_status(&world, status);
        assert_eq!(state.status, status, "fixture reaches {status:?}");
        for ((name, actor, action), want) in actions.iter().zip(expected) {
            let got = world
                .engine()
                .apply(&state, action, Actor::person(id(*actor)), bj(3, 9, 11, 0))
                .map(|_| "ok")
                .map_err(|r| r.code());
            let got = got.unwrap_or_else(|code| code);
            assert_eq!(got, want, "{name} in {status:?}");
        }
    }
}

#[test]
fn strangers_are_refused_everything_but_get_typed_answers() {
    let world = World::new(expense_definition());
    let state = world.submitted(ALICE, "100").state;
    let cases = [
        (approve(1), "not_your_turn"),
        (
            Action::Withdraw {
                comment: String::new(),
            },
            "not_permitted",
        ),
        (
            Action::Urge {
                comment: String::new(),
            },
            "not_permitted",
        ),
        (Action::Comment { text: "hi".into() }, "not_permitted"),
        (approve(42), "unknown_task"),
    ];
    for (action, code) in cases {
        let refusal = world
            .engine()
            .apply(&state, &action, Actor::person(id(DAVE)), bj(3, 9, 11, 0))
            .expect_err("a stranger cannot act");
        assert_eq!(refusal.code(), code, "{action:?}");
    }
}

#[test]
fn a_small_amount_goes_to_the_manager_then_copies_hr() {
    let world = World::new(expense_definition());
    let submitted = world.submitted(ALICE, "4999.99");
    let state = &submitted.state;
    assert_eq!(state.status, RequestStatus::InProgress);
    assert_eq!(state.route.len(), 2, "manager and the HR copy; no director");
    assert_eq!(submitted.opened, vec![1]);
    assert_eq!(state.tasks[0].assignee, id(SALES_MANAGER));
    assert!(
        submitted.notices.iter().any(
            |n| n.to == id(SALES_MANAGER) && n.reason == NoticeReason::TaskAssigned { task: 1 }
        )
    );
    // Monday 09:00 + 8 working hours (lunch excluded) is due 18:00 the same day.
    assert_eq!(state.tasks[0].due_at, Some(bj(3, 9, 18, 0)));

    let done = world.act(state, SALES_MANAGER, approve(1), bj(3, 9, 14, 0));
    assert_eq!(done.state.status, RequestStatus::Approved);
    assert_eq!(done.closed, vec![1]);
    assert!(done.opened.is_empty());
    let to: Vec<_> = done
        .notices
        .iter()
        .map(|n| (n.to, n.reason.clone()))
        .collect();
    assert!(
        to.contains(&(id(HR), NoticeReason::CarbonCopy { step: 1 })),
        "{to:?}"
    );
    assert!(to.contains(&(
        id(ALICE),
        NoticeReason::Finished {
            status: RequestStatus::Approved
        }
    )));
    let task = &done.state.tasks[0];
    assert_eq!(task.elapsed_secs, Some(5 * 3600));
    assert_eq!(
        task.working_secs,
        Some(4 * 3600),
        "09:00–14:00 less the lunch hour"
    );
}

#[test]
fn above_5000_adds_the_finance_director() {
    let world = World::new(expense_definition());
    let state = world.submitted(ALICE, "5000.01").state;
    let steps: Vec<_> = state.route.iter().map(|s| s.step_id.as_str()).collect();
    assert_eq!(steps, vec!["manager", "director", "notify_hr"]);
    let state = world
        .act(&state, SALES_MANAGER, approve(1), bj(3, 9, 10, 0))
        .state;
    assert_eq!(state.status, RequestStatus::InProgress);
    let director_task = task_of(&state, FINANCE_DIRECTOR);
    let state = world
        .act(
            &state,
            FINANCE_DIRECTOR,
            approve(director_task),
            bj(3, 9, 11, 0),
        )
        .state;
    assert_eq!(state.status, RequestStatus::Approved);
}

#[test]
fn sequential_goes_in_order_and_the_next_one_waits() {
    let world = World::new(single_step(&[BOB, CAROL, DAVE], json!("sequential")));
    let state = world.submitted(ALICE, "1").state;
    assert_eq!(state.open_tasks().count(), 1);
    let bob = task_of(&state, BOB);
    let refusal = world
        .engine()
        .apply(
            &state,
            &approve(bob),
            Actor::person(id(CAROL)),
            bj(3, 9, 10, 0),
        )
        .expect_err("Carol is not next");
    assert_eq!(refusal, Refusal::NotYourTurn { task: bob });
    let state = world.act(&state, BOB, approve(bob), bj(3, 9, 10, 0)).state;
    let state = world
        .act(
            &state,
            CAROL,
            approve(task_of(&state, CAROL)),
            bj(3, 9, 11, 0),
        )
        .state;
    assert_eq!(
        state.status,
        RequestStatus::InProgress,
        "Dave has not approved yet"
    );
    let state = world
        .act(
            &state,
            DAVE,
            approve(task_of(&state, DAVE)),
            bj(3, 9, 12, 0),
        )
        .state;
    assert_eq!(state.status, RequestStatus::Approved);
}

#[test]
fn all_must_approve_completes_only_with_everyone() {
    let world = World::new(single_step(&[BOB, CAROL, DAVE], json!("all")));
    let state = world.submitted(ALICE, "1").state;
    assert_eq!(
        state.open_tasks().count(),
        3,
        "会签 opens everyone's task at once"
    );
    let state = world
        .act(
            &state,
            DAVE,
            approve(task_of(&state, DAVE)),
            bj(3, 9, 10, 0),
        )
        .state;
    let state = world
        .act(&state, BOB, approve(task_of(&state, BOB)), bj(3, 9, 10, 5))
        .state;
    assert_eq!(state.status, RequestStatus::InProgress);
    let state = world
        .act(
            &state,
            CAROL,
            approve(task_of(&state, CAROL)),
            bj(3, 9, 10, 9),
        )
        .state;
    assert_eq!(state.status, RequestStatus::Approved);
}

#[test]
fn any_one_completes_at_the_first_approval_and_others_lose_the_race() {
    let world = World::new(single_step(&[BOB, CAROL], json!("any")));
    let state = world.submitted(ALICE, "1").state;
    let carol_task = task_of(&state, CAROL);
    let after = world.act(&state, BOB, approve(task_of(&state, BOB)), bj(3, 9, 10, 0));
    assert_eq!(after.state.status, RequestStatus::Approved);
    assert!(after.notices.contains(&countersign_domain::engine::Notice {
        to: id(CAROL),
        reason: NoticeReason::TaskClosed {
            task: carol_task,
            cause: Decision::Approved
        },
    }));
    // Carol approved offline; the server applies it later and she is told plainly.
    let refusal = world
        .engine()
        .apply(
            &after.state,
            &approve(carol_task),
            Actor::person(id(CAROL)),
            bj(3, 9, 10, 1),
        )
        .expect_err("lost race");
    assert_eq!(
        refusal,
        Refusal::RequestFinished {
            status: RequestStatus::Approved,
            at: bj(3, 9, 10, 0)
        }
    );
}

#[test]
fn a_lost_race_inside_a_running_request_names_the_winner() {
    // Two parallel any-one steps: after Bob wins step 1, Carol's stale approval is refused
    // with who decided and when, while the request goes on.
    let world = World::new(
        serde_json::from_value(json!({"start": "a", "steps": [
            {"kind": "approval", "id": "a", "name": label("a"), "mode": "any",
             "approvers": [{"kind": "user", "user": id(BOB)}, {"kind": "user", "user": id(CAROL)}], "next": "b"},
            {"kind": "approval", "id": "b", "name": label("b"), "approvers": [{"kind": "user", "user": id(DAVE)}]}
        ]}))
        .expect("definition"),
    );
    let state = world.submitted(ALICE, "1").state;
    let carol_task = task_of(&state, CAROL);
    let state = world
        .act(&state, BOB, approve(task_of(&state, BOB)), bj(3, 9, 10, 0))
        .state;
    let refusal = world
        .engine()
        .apply(
            &state,
            &approve(carol_task),
            Actor::person(id(CAROL)),
            bj(3, 9, 10, 30),
        )
        .expect_err("already decided");
    assert_eq!(
        refusal,
        Refusal::AlreadyDecided {
            task: carol_task,
            by: id(BOB),
            decision: Decision::Approved,
            at: bj(3, 9, 10, 0)
        }
    );
    assert_eq!(refusal.message_key().code(), "already_decided");
}

#[test]
fn any_one_rejection_decides_too() {
    let world = World::new(single_step(&[BOB, CAROL], json!("any")));
    let state = world.submitted(ALICE, "1").state;
    let state = world
        .act(
            &state,
            CAROL,
            reject(task_of(&state, CAROL)),
            bj(3, 9, 10, 0),
        )
        .state;
    assert_eq!(state.status, RequestStatus::Rejected);
    assert_eq!(state.open_tasks().count(), 0);
}

#[test]
fn at_least_m_of_n_completes_at_the_mth_and_fails_when_out_of_reach() {
    let world = World::new(single_step(
        &[BOB, CAROL, DAVE, SALES_HEAD],
        json!({"at_least": 2}),
    ));
    let state = world.submitted(ALICE, "1").state;
    let state = world
        .act(&state, BOB, reject(task_of(&state, BOB)), bj(3, 9, 10, 0))
        .state;
    assert_eq!(
        state.status,
        RequestStatus::InProgress,
        "3 can still reach 2"
    );
    let state = world
        .act(
            &state,
            CAROL,
            approve(task_of(&state, CAROL)),
            bj(3, 9, 10, 1),
        )
        .state;
    assert_eq!(state.status, RequestStatus::InProgress, "1 of 2");
    let done = world.act(
        &state,
        DAVE,
        approve(task_of(&state, DAVE)),
        bj(3, 9, 10, 2),
    );
    assert_eq!(
        done.state.status,
        RequestStatus::Approved,
        "the 2nd approval completes"
    );
    assert_eq!(
        done.closed.len(),
        2,
        "Dave's task and the head's, no longer needed"
    );

    let state = world.submitted(ALICE, "1").state;
    let state = world
        .act(&state, BOB, reject(task_of(&state, BOB)), bj(3, 9, 10, 0))
        .state;
    let state = world
        .act(
            &state,
            CAROL,
            reject(task_of(&state, CAROL)),
            bj(3, 9, 10, 1),
        )
        .state;
    let state = world
        .act(&state, DAVE, reject(task_of(&state, DAVE)), bj(3, 9, 10, 2))
        .state;
    assert_eq!(
        state.status,
        RequestStatus::Rejected,
        "only 1 left, 2 needed"
    );

    let too_few = World::new(single_step(&[BOB], json!({"at_least": 2})));
    let refusal = too_few
        .engine()
        .apply(
            &too_few.draft(ALICE),
            &Action::Submit { form: form("1") },
            Actor::person(id(ALICE)),
            bj(3, 9, 9, 0),
        )
        .expect_err("quorum unreachable");
    assert!(matches!(
        refusal,
        Refusal::Routing {
            error: RouteError::QuorumUnreachable {
                needed: 2,
                available: 1,
                ..
            }
        }
    ));
}

#[test]
fn return_to_initiator_then_resubmit_starts_a_new_round() {
    let world = World::new(expense_definition());
    let state = world.submitted(ALICE, "6000").state;
    let state = world
        .act(&state, SALES_MANAGER, approve(1), bj(3, 9, 10, 0))
        .state;
    let director = task_of(&state, FINANCE_DIRECTOR);
    let returned = world.act(
        &state,
        FINANCE_DIRECTOR,
        Action::Return {
            task: director,
            to: Some(ReturnTarget::Initiator),
            comment: "split it".into(),
        },
        bj(3, 9, 11, 0),
    );
    assert_eq!(returned.state.status, RequestStatus::Returned);
    assert!(
        returned
            .notices
            .iter()
            .any(|n| n.to == id(ALICE) && n.reason == NoticeReason::Returned)
    );
    let resubmitted = world.act(
        &returned.state,
        ALICE,
        Action::Resubmit {
            form: form("3000"),
            comment: "split".into(),
        },
        bj(3, 10, 9, 0),
    );
    let state = resubmitted.state;
    assert_eq!(state.round, 2);
    assert_eq!(
        state.route.len(),
        2,
        "the smaller amount no longer needs the director"
    );
    assert_eq!(
        state.current,
        Some(0),
        "a new round starts from the first step"
    );
    let visits: Vec<_> = state
        .visits
        .iter()
        .map(|v| (v.step_id.clone(), v.round))
        .collect();
    assert_eq!(
        visits,
        vec![
            (Some("manager".into()), 1),
            (Some("director".into()), 1),
            (None, 1),
            (Some("manager".into()), 2),
        ]
    );
    // The stay with the initiator is recorded: 11:00 Monday to 09:00 Tuesday is 1 h before
    // lunch and 5 h after it.
    assert_eq!(state.visits[2].working_secs, Some(6 * 3600));
}

#[test]
fn return_to_previous_step_lands_on_it() {
    let world = World::new(expense_definition());
    let state = world.submitted(ALICE, "6000").state;
    let state = world
        .act(&state, SALES_MANAGER, approve(1), bj(3, 9, 10, 0))
        .state;
    let director = task_of(&state, FINANCE_DIRECTOR);
    let after = world.act(
        &state,
        FINANCE_DIRECTOR,
        Action::Return {
            task: director,
            to: Some(ReturnTarget::PreviousStep),
            comment: "check".into(),
        },
        bj(3, 9, 11, 0),
    );
    assert_eq!(after.state.status, RequestStatus::InProgress);
    assert_eq!(after.state.current, Some(0));
    let again = task_of(&after.state, SALES_MANAGER);
    assert_eq!(after.opened, vec![again]);
    // The first step has nothing before it.
    let first = world.submitted(ALICE, "6000").state;
    let refusal = world
        .engine()
        .apply(
            &first,
            &Action::Return {
                task: 1,
                to: Some(ReturnTarget::PreviousStep),
                comment: "x".into(),
            },
            Actor::person(id(SALES_MANAGER)),
            bj(3, 9, 10, 0),
        )
        .expect_err("nothing before");
    assert_eq!(refusal, Refusal::NoPreviousStep);
    // A reason is required to return.
    let refusal = world
        .engine()
        .apply(
            &first,
            &Action::Return {
                task: 1,
                to: None,
                comment: " ".into(),
            },
            Actor::person(id(SALES_MANAGER)),
            bj(3, 9, 10, 0),
        )
        .expect_err("no reason");
    assert_eq!(refusal, Refusal::CommentRequired);
}

#[test]
fn return_targets_come_from_the_definition() {
    let world = World::new(
        serde_json::from_value(json!({"start": "a", "resubmit_from": "returning_step", "steps": [
            {"kind": "approval", "id": "a", "name": label("a"), "approvers": [{"kind": "user", "user": id(BOB)}], "next": "b"},
            {"kind": "approval", "id": "b", "name": label("b"), "approvers": [{"kind": "user", "user": id(CAROL)}],
             "return_targets": ["initiator"]}
        ]}))
        .expect("definition"),
    );
    let state = world.submitted(ALICE, "1").state;
    let state = world.act(&state, BOB, approve(1), bj(3, 9, 10, 0)).state;
    let carol = task_of(&state, CAROL);
    let refusal = world
        .engine()
        .apply(
            &state,
            &Action::Return {
                task: carol,
                to: Some(ReturnTarget::PreviousStep),
                comment: "x".into(),
            },
            Actor::person(id(CAROL)),
            bj(3, 9, 11, 0),
        )
        .expect_err("not allowed");
    assert_eq!(
        refusal,
        Refusal::ReturnNotAllowed {
            target: ReturnTarget::PreviousStep
        }
    );
    let state = world
        .act(
            &state,
            CAROL,
            Action::Return {
                task: carol,
                to: None,
                comment: "x".into(),
            },
            bj(3, 9, 11, 0),
        )
        .state;
    assert_eq!(state.status, RequestStatus::Returned);
    let state = world
        .act(
            &state,
            ALICE,
            Action::Resubmit {
                form: form("1"),
                comment: String::new(),
            },
            bj(3, 9, 12, 0),
        )
        .state;
    assert_eq!(
        state.current,
        Some(1),
        "resumes at the step that returned it"
    );
    assert_eq!(state.open_tasks().next().map(|t| t.seat), Some(id(CAROL)));
}

#[test]
fn transfer_moves_the_seat_and_the_old_holder_is_told_why() {
    let world = World::new(single_step(&[BOB, CAROL], json!("sequential")));
    let state = world.submitted(ALICE, "1").state;
    let after = world.act(
        &state,
        BOB,
        Action::Transfer {
            task: 1,
            to: id(DAVE),
            comment: "on leave".into(),
        },
        bj(3, 9, 10, 0),
    );
    assert_eq!(after.closed, vec![1]);
    assert_eq!(after.opened, vec![2]);
    assert_eq!(
        after.state.tasks[0].outcome,
        Some(TaskOutcome::Transferred { to: id(DAVE) })
    );
    let refusal = world
        .engine()
        .apply(
            &after.state,
            &approve(1),
            Actor::person(id(BOB)),
            bj(3, 9, 10, 5),
        )
        .expect_err("transferred");
    assert_eq!(
        refusal,
        Refusal::TaskReassigned {
            task: 1,
            to: id(DAVE),
            at: bj(3, 9, 10, 0)
        }
    );
    let state = world
        .act(&after.state, DAVE, approve(2), bj(3, 9, 11, 0))
        .state;
    assert_eq!(task_of(&state, CAROL), 3, "the lane goes on to Carol");
    // Transfers to the initiator, someone already in the step, or someone who left are refused.
    for to in [ALICE, CAROL, LEFT_COMPANY] {
        let refusal = world
            .engine()
            .apply(
                &state,
                &Action::Transfer {
                    task: 3,
                    to: id(to),
                    comment: String::new(),
                },
                Actor::person(id(CAROL)),
                bj(3, 9, 12, 0),
            )
            .expect_err("invalid transfer");
        assert_eq!(refusal, Refusal::InvalidTransfer { person: id(to) });
    }
    // An administrator reassigns a departed approver's task (S3).
    let reassigned = world
        .engine()
        .apply(
            &state,
            &Action::Transfer {
                task: 3,
                to: id(SALES_HEAD),
                comment: String::new(),
            },
            Actor::admin(id(WORKFLOW_ADMIN)),
            bj(3, 9, 12, 0),
        )
        .expect("admin transfer");
    assert_eq!(reassigned.opened, vec![4]);
}

#[test]
fn add_signer_before_and_after() {
    let world = World::new(single_step(&[BOB], json!("sequential")));
    let state = world.submitted(ALICE, "1").state;
    let before = world.act(
        &state,
        BOB,
        Action::AddSigner {
            task: 1,
            signer: id(CAROL),
            position: SignerPosition::Before,
            comment: "legal first".into(),
        },
        bj(3, 9, 10, 0),
    );
    assert_eq!(
        before.state.tasks[0].outcome,
        Some(TaskOutcome::Deferred { signer: id(CAROL) })
    );
    let state = world
        .act(&before.state, CAROL, approve(2), bj(3, 9, 11, 0))
        .state;
    assert_eq!(task_of(&state, BOB), 3, "back to Bob after Carol");
    let after = world.act(
        &state,
        BOB,
        Action::AddSigner {
            task: 3,
            signer: id(DAVE),
            position: SignerPosition::After,
            comment: String::new(),
        },
        bj(3, 9, 12, 0),
    );
    assert_eq!(
        after.state.tasks[2].outcome,
        Some(TaskOutcome::Approved),
        "after = approve now"
    );
    assert_eq!(
        after.state.status,
        RequestStatus::InProgress,
        "Dave must still approve"
    );
    let state = world
        .act(&after.state, DAVE, approve(4), bj(3, 9, 13, 0))
        .state;
    assert_eq!(state.status, RequestStatus::Approved);
    // Nobody twice in a step, not the initiator, not oneself.
    let state = world.submitted(ALICE, "1").state;
    for signer in [ALICE, BOB, LEFT_COMPANY] {
        let refusal = world
            .engine()
            .apply(
                &state,
                &Action::AddSigner {
                    task: 1,
                    signer: id(signer),
                    position: SignerPosition::After,
                    comment: String::new(),
                },
                Actor::person(id(BOB)),
                bj(3, 9, 10, 0),
            )
            .expect_err("invalid signer");
        assert_eq!(refusal, Refusal::InvalidSigner { person: id(signer) });
    }
}

#[test]
fn a_delegate_receives_tasks_during_the_window_only() {
    let mut world = World::new(single_step(&[BOB], json!("sequential")));
    world.org.delegations.push(Delegation {
        from: id(BOB),
        to: id(CAROL),
        starts_at: bj(3, 9, 0, 0),
        ends_at: bj(3, 13, 0, 0),
    });
    let submitted = world.submitted(ALICE, "1");
    let task = &submitted.state.tasks[0];
    assert_eq!((task.seat, task.assignee), (id(BOB), id(CAROL)));
    assert!(submitted.notices.iter().any(|n| n.to == id(CAROL)));
    assert!(!submitted.notices.iter().any(|n| n.to == id(BOB)));
    let state = world
        .act(&submitted.state, CAROL, approve(1), bj(3, 9, 10, 0))
        .state;
    assert_eq!(state.status, RequestStatus::Approved);
    // Outside the window the task stays with Bob.
    let later = world
        .engine()
        .apply(
            &RequestState::draft(id(1000), id(ALICE), bj(3, 16, 9, 0)),
            &Action::Submit { form: form("1") },
            Actor::person(id(ALICE)),
            bj(3, 16, 9, 0),
        )
        .expect("submit");
    assert_eq!(later.state.tasks[0].assignee, id(BOB));
    // A delegation to the initiator is ignored: nobody approves their own request.
    let mut world = World::new(single_step(&[BOB], json!("sequential")));
    world.org.delegations.push(Delegation {
        from: id(BOB),
        to: id(ALICE),
        starts_at: bj(3, 9, 0, 0),
        ends_at: bj(3, 13, 0, 0),
    });
    assert_eq!(world.submitted(ALICE, "1").state.tasks[0].assignee, id(BOB));
}

#[test]
fn the_initiator_as_approver_is_skipped_and_repeats_merge() {
    // Sales manager files a request: the manager step resolves to the sales head, who is
    // also the department head of the next step — approved once, merged the second time.
    let world = World::new(
        serde_json::from_value(json!({"start": "manager", "steps": [
            {"kind": "approval", "id": "manager", "name": label("m"), "approvers": [{"kind": "manager"}], "next": "head"},
            {"kind": "approval", "id": "head", "name": label("h"), "approvers": [{"kind": "department_head"}], "next": "self_step"},
            {"kind": "approval", "id": "self_step", "name": label("s"), "mode": "all",
             "approvers": [{"kind": "user", "user": id(SALES_MANAGER)}, {"kind": "user", "user": id(CAROL)}]}
        ]}))
        .expect("definition"),
    );
    let state = world.submitted(SALES_MANAGER, "1").state;
    let state = world
        .act(&state, SALES_HEAD, approve(1), bj(3, 9, 10, 0))
        .state;
    let auto: Vec<_> = state
        .tasks
        .iter()
        .filter_map(|t| match t.outcome {
            Some(TaskOutcome::AutoApproved { reason }) => {
                Some((t.step_id.as_str(), t.seat, reason))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        auto,
        vec![
            ("head", id(SALES_HEAD), AutoReason::Repeated),
            ("self_step", id(SALES_MANAGER), AutoReason::Initiator),
        ]
    );
    assert_eq!(
        state.open_tasks().map(|t| t.seat).collect::<Vec<_>>(),
        vec![id(CAROL)]
    );
}

#[test]
fn empty_approver_rules_refuse_skip_or_fall_back() {
    let def = |when_empty: serde_json::Value| {
        serde_json::from_value(json!({"start": "a", "steps": [
            {"kind": "approval", "id": "a", "name": label("a"), "approvers": [{"kind": "role", "role": "nobody_has_this"}],
             "when_empty": when_empty}
        ]}))
        .expect("definition")
    };
    let world = World::new(def(json!({"kind": "refuse"})));
    let refusal = world
        .engine()
        .apply(
            &world.draft(ALICE),
            &Action::Submit { form: form("1") },
            Actor::person(id(ALICE)),
            bj(3, 9, 9, 0),
        )
        .expect_err("nobody");
    assert_eq!(
        refusal,
        Refusal::Routing {
            error: RouteError::NoApprover { step: "a".into() }
        }
    );
    assert_eq!(
        refusal.message(Locale::En),
        "No approver could be found for step “a”"
    );
    assert_eq!(refusal.message(Locale::ZhCn), "节点「a」找不到审批人");

    let world = World::new(def(json!({"kind": "skip"})));
    let done = world.submitted(ALICE, "1");
    assert_eq!(done.state.status, RequestStatus::Approved);
    assert!(
        done.events
            .iter()
            .any(|e| e.what == EventKind::StepSkipped { step: 0 })
    );

    let world = World::new(def(
        json!({"kind": "fallback", "approvers": [{"kind": "role", "role": "workflow_admin"}]}),
    ));
    let state = world.submitted(ALICE, "1").state;
    assert_eq!(state.tasks[0].assignee, id(WORKFLOW_ADMIN));
}

#[test]
fn withdraw_closes_everything_and_tells_the_approvers() {
    let world = World::new(single_step(&[BOB, CAROL], json!("all")));
    let state = world.submitted(ALICE, "1").state;
    let after = world.act(
        &state,
        ALICE,
        Action::Withdraw {
            comment: "not needed".into(),
        },
        bj(3, 9, 10, 0),
    );
    assert_eq!(after.state.status, RequestStatus::Withdrawn);
    assert_eq!(after.closed, vec![1, 2]);
    let told: Vec<_> = after.notices.iter().map(|n| n.to).collect();
    assert_eq!(told, vec![id(BOB), id(CAROL)]);
    let refusal = world
        .engine()
        .apply(
            &after.state,
            &approve(1),
            Actor::person(id(BOB)),
            bj(3, 9, 10, 1),
        )
        .expect_err("withdrawn");
    assert_eq!(
        refusal,
        Refusal::RequestWithdrawn {
            at: bj(3, 9, 10, 0)
        }
    );
}

#[test]
fn urge_is_rate_limited() {
    let world = World::new(single_step(&[BOB], json!("sequential")));
    let state = world.submitted(ALICE, "1").state;
    let urged = world.act(
        &state,
        ALICE,
        Action::Urge {
            comment: String::new(),
        },
        bj(3, 9, 10, 0),
    );
    assert_eq!(
        urged.notices,
        vec![countersign_domain::engine::Notice {
            to: id(BOB),
            reason: NoticeReason::Urged { task: 1 }
        }]
    );
    let refusal = world
        .engine()
        .apply(
            &urged.state,
            &Action::Urge {
                comment: String::new(),
            },
            Actor::person(id(ALICE)),
            bj(3, 9, 10, 30),
        )
        .expect_err("too soon");
    assert_eq!(
        refusal,
        Refusal::UrgedRecently {
            next_allowed_at: bj(3, 9, 11, 0)
        }
    );
    assert!(
        world
            .engine()
            .apply(
                &urged.state,
                &Action::Urge {
                    comment: String::new()
                },
                Actor::person(id(ALICE)),
                bj(3, 9, 11, 0)
            )
            .is_ok()
    );
}

#[test]
fn comments_reach_the_initiator_and_current_approvers() {
    let world = World::new(single_step(&[BOB, CAROL], json!("all")));
    let state = world.submitted(ALICE, "1").state;
    let after = world.act(
        &state,
        BOB,
        Action::Comment {
            text: "receipt?".into(),
        },
        bj(3, 9, 10, 0),
    );
    let mut told: Vec<_> = after.notices.iter().map(|n| n.to).collect();
    told.sort();
    assert_eq!(told, vec![id(ALICE), id(CAROL)]);
    let long = "字".repeat(2001);
    let refusal = world
        .engine()
        .apply(
            &state,
            &Action::Comment { text: long },
            Actor::person(id(BOB)),
            bj(3, 9, 10, 0),
        )
        .expect_err("too long");
    assert_eq!(refusal, Refusal::CommentTooLong { max: 2000 });
}

#[test]
fn invalid_forms_are_refused_with_every_error() {
    let world = World::new(expense_definition());
    let refusal = world
        .engine()
        .apply(
            &world.draft(ALICE),
            &Action::Submit {
                form: json!({"amount": {"amount": "-1", "currency": "USD"}, "x": 1}),
            },
            Actor::person(id(ALICE)),
            bj(3, 9, 9, 0),
        )
        .expect_err("invalid");
    let Refusal::InvalidForm { errors } = refusal else {
        panic!("expected invalid_form")
    };
    assert_eq!(errors.len(), 2, "{errors:?}");
    // Only the initiator submits.
    let refusal = world
        .engine()
        .apply(
            &world.draft(ALICE),
            &Action::Submit { form: form("1") },
            Actor::person(id(BOB)),
            bj(3, 9, 9, 0),
        )
        .expect_err("not the initiator");
    assert_eq!(refusal, Refusal::NotPermitted);
}

#[test]
fn sla_due_times_use_the_calendar_and_missing_years_warn_instead_of_blocking() {
    let world = World::new(expense_definition());
    // Submitted Wednesday 30 Sept 17:00: 8 working hours run 1 h that day, then resume
    // after the National Day holiday on Thursday 8 Oct: 3 h before lunch, 4 h after.
    let state = world
        .engine()
        .apply(
            &RequestState::draft(id(5), id(ALICE), bj(9, 30, 17, 0)),
            &Action::Submit { form: form("1") },
            Actor::person(id(ALICE)),
            bj(9, 30, 17, 0),
        )
        .expect("submit")
        .state;
    assert_eq!(state.tasks[0].due_at, Some(bj(10, 8, 17, 0)));
    assert!(!state.tasks[0].is_overdue(bj(10, 8, 17, 0)));
    assert_eq!(state.overdue_tasks(bj(10, 8, 17, 1)).count(), 1);
    let late = world
        .act(&state, SALES_MANAGER, approve(1), bj(10, 9, 9, 0))
        .state;
    assert!(late.tasks[0].was_late(), "decided after its due time (S11)");

    // Submitted on 31 Dec: the SLA runs into 2027, which is not loaded. The request still
    // goes through, without a due time, and the transition says why.
    let submitted = world
        .engine()
        .apply(
            &RequestState::draft(id(6), id(ALICE), bj(12, 31, 17, 0)),
            &Action::Submit { form: form("1") },
            Actor::person(id(ALICE)),
            bj(12, 31, 17, 0),
        )
        .expect("submit is not blocked by the calendar");
    assert_eq!(submitted.state.tasks[0].due_at, None);
    assert!(
        matches!(&submitted.warnings[..], [Warning::Calendar { code, .. }] if code == "out_of_range")
    );
}

#[test]
fn a_clock_that_goes_backwards_never_records_negative_time() {
    let world = World::new(single_step(&[BOB], json!("sequential")));
    let state = world.submitted(ALICE, "1").state;
    let after = world.act(&state, BOB, approve(1), bj(3, 9, 8, 0));
    assert_eq!(after.state.tasks[0].elapsed_secs, Some(0));
    assert_eq!(after.state.finished_at, Some(bj(3, 9, 9, 0)));
}

#[test]
fn state_and_actions_have_a_stable_json_form() {
    let world = World::new(expense_definition());
    let state = world.submitted(ALICE, "100").state;
    let text = serde_json::to_string(&state).expect("serialises");
    let back: RequestState = serde_json::from_str(&text).expect("parses");
    assert_eq!(back, state);
    let action: Action =
        serde_json::from_value(json!({"kind": "approve", "task": 1})).expect("action");
    assert_eq!(action, approve(1));
    let action: Action = serde_json::from_value(
        json!({"kind": "add_signer", "task": 1, "signer": id(BOB), "position": "before"}),
    )
    .expect("action");
    assert!(matches!(
        action,
        Action::AddSigner {
            position: SignerPosition::Before,
            ..
        }
    ));
    assert!(
        serde_json::from_value::<Action>(json!({"kind": "approve", "task": 1, "extra": true}))
            .is_err()
    );
    let refusal = serde_json::to_value(Refusal::NotYourTurn { task: 3 }).expect("serialises");
    assert_eq!(refusal, json!({"code": "not_your_turn", "task": 3}));
    let _ = TimeDelta::zero();
}
