//! The desktop's D-Bus notifier against the testkit's notification server on a private
//! session bus: what reaches the server (texts, buttons, hints, replacement, closing), what a
//! click comes back as — also a click made the moment the server has the notification — and
//! what survives a restart. Every wait has a deadline and nothing sleeps.

#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use countersign_api::requests::RequestView;
use countersign_api::sync::{Change, ChangeOp, EntityKind};
use countersign_client::notify::{
    Names, Notification, NotificationAction, NotificationKind, NotificationRecord, NotifyError,
    Planned, SyncMode, action_refused, plan,
};
use countersign_client::{DbusNotifier, NotificationClick};
use countersign_domain::calendar::WorkingCalendar;
use countersign_domain::engine::{Action, Actor, Engine, RequestState};
use countersign_domain::form::evaluate;
use countersign_domain::messages::Locale;
use countersign_domain::org::{Department, OrgSnapshot, Person};
use countersign_domain::templates;
use countersign_testkit::{Call, DesktopSession, Hints, NotificationServer, Notified};
use serde_json::{Value as Json, json};
use tokio::sync::mpsc::UnboundedReceiver;
use uuid::Uuid;

/// Generous: it only costs time when a test fails.
const WAIT: Duration = Duration::from_secs(10);

const MANAGER: u128 = 1;
const ALICE: u128 = 2;
const FINANCE: u128 = 3;
const DIRECTOR: u128 = 4;
const DEPT: u128 = 100;

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn org() -> OrgSnapshot {
    let person = |manager: Option<u128>, roles: &[&str]| Person {
        name: String::new(),
        department: Some(id(DEPT)),
        manager: manager.map(id),
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        active: true,
    };
    OrgSnapshot {
        people: BTreeMap::from([
            (id(MANAGER), person(None, &[])),
            (id(ALICE), person(Some(MANAGER), &[])),
            (id(FINANCE), person(Some(MANAGER), &["finance"])),
            (id(DIRECTOR), person(Some(MANAGER), &["finance_director"])),
        ]),
        departments: BTreeMap::from([(
            id(DEPT),
            Department {
                name: "Sales".into(),
                parent: None,
                head: Some(id(MANAGER)),
            },
        )]),
        delegations: Vec::new(),
    }
}

fn monday_9am() -> DateTime<Utc> {
    FixedOffset::east_opt(8 * 3600)
        .unwrap()
        .with_ymd_and_hms(2026, 3, 9, 9, 0, 0)
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

fn claim_form(amount: &str) -> Json {
    json!({"purpose": "Shanghai client visit", "lines": [
        {"date": "2026-03-02", "category": "travel", "description": "train",
         "amount": {"amount": amount, "currency": "CNY"},
         "invoice": [{"id": "0190f5b0-0000-7000-8000-000000000001", "name": "invoice.pdf",
                      "size": 20480, "content_type": "application/pdf"}]}
    ]})
}

/// Alice submits a claim of `amount` (request number `n`); the notification her manager's
/// client plans for it, as the real engine and planner make it.
fn pending_claim(n: u128, amount: &str) -> Notification {
    let template = templates::shipped("reimbursement").unwrap();
    let org = org();
    let calendar = WorkingCalendar::cn_mainland().unwrap();
    let engine = Engine {
        schema: &template.form,
        definition: &template.workflow,
        org: &org,
        calendar: &calendar,
    };
    let request = id(0x5eed_0000 + n);
    let form = claim_form(amount);
    let at = monday_9am();
    let state = engine
        .apply(
            &RequestState::draft(request, id(ALICE), at),
            &Action::Submit { form: form.clone() },
            Actor::person(id(ALICE)),
            at,
        )
        .unwrap()
        .state;
    let computed =
        serde_json::to_value(evaluate(&template.form, &form, &calendar).form.computed).unwrap();
    let view = RequestView {
        id: request,
        template_id: template.id.clone(),
        template_version: template.version,
        title: format!("Claim {n}"),
        initiator: id(ALICE),
        status: state.status,
        version: state.revision,
        form,
        computed,
        created_at: at,
        updated_at: at,
        state,
        overdue_tasks: Vec::new(),
    };
    let change = Change {
        kind: EntityKind::Request,
        id: request.to_string(),
        version: view.version,
        op: ChangeOp::Upsert,
        data: Some(serde_json::to_value(&view).unwrap()),
    };
    let planned = plan(
        id(MANAGER),
        SyncMode::Live,
        &change,
        None,
        Some(&template),
        NotificationRecord::default(),
    )
    .planned;
    match planned.as_slice() {
        [Planned::Show(notification)] => notification.clone(),
        other => panic!("one pending approval planned: {other:#?}"),
    }
}

fn names() -> Names {
    Names {
        people: BTreeMap::from([(id(ALICE), "Alice Wang".to_owned())]),
        templates: templates::library().unwrap(),
    }
}

async fn notifier_on(
    session: &DesktopSession,
    state_file: Option<&Path>,
) -> (DbusNotifier, UnboundedReceiver<NotificationClick>) {
    DbusNotifier::connect_to(
        &session.dbus_address,
        Locale::En,
        FixedOffset::east_opt(8 * 3600).unwrap(),
        names(),
        state_file.map(Path::to_path_buf),
    )
    .await
    .expect("the notifier connects to the test bus")
}

fn keys(notified: &Notified) -> Vec<&str> {
    notified.actions.iter().map(|(k, _)| k.as_str()).collect()
}

/// The one `Notify` that `deliver` made; it returned, so the server has it.
fn last_notified(server: &NotificationServer) -> Notified {
    server
        .notifications()
        .pop()
        .expect("the server recorded the Notify")
}

async fn next_click(clicks: &mut UnboundedReceiver<NotificationClick>) -> NotificationClick {
    tokio::time::timeout(WAIT, clicks.recv())
        .await
        .expect("a click within the deadline")
        .expect("the notifier is still listening")
}

#[tokio::test]
async fn a_pending_approval_shows_its_texts_buttons_and_hints() {
    let session = DesktopSession::headless();
    let server = NotificationServer::start(&session.dbus_address).await;
    let (notifier, _clicks) = notifier_on(&session, None).await;
    assert!(notifier.shows_actions());

    let claim = pending_claim(1, "1200.00");
    notifier
        .deliver(&[Planned::Show(claim.clone())])
        .await
        .unwrap();
    let notified = last_notified(&server);
    assert_eq!(
        notified,
        Notified {
            id: notified.id,
            app_name: "Countersign".to_owned(),
            replaces_id: 0,
            app_icon: String::new(),
            summary: "Waiting for your approval: Claim 1".to_owned(),
            body:
                "Expense reimbursement from Alice Wang (Total: CNY 1,200.00); due 2026-03-10 18:00"
                    .to_owned(),
            // A click on the body opens the request; the buttons are the planned actions.
            actions: [
                ("default", "Open"),
                ("approve", "Approve"),
                ("reject", "Reject"),
                ("open", "Open")
            ]
            .map(|(k, l)| (k.to_owned(), l.to_owned()))
            .to_vec(),
            hints: Hints {
                urgency: Some("normal".to_owned()),
                category: Some("x-countersign.approval".to_owned()),
                desktop_entry: Some("countersign".to_owned()),
            },
            expire_timeout: -1,
        },
        "the notification as the server received it"
    );
}

#[tokio::test]
async fn a_claim_over_the_limit_offers_no_approve_button() {
    let session = DesktopSession::headless();
    let server = NotificationServer::start(&session.dbus_address).await;
    let (notifier, _clicks) = notifier_on(&session, None).await;

    notifier
        .deliver(&[Planned::Show(pending_claim(1, "12000.00"))])
        .await
        .unwrap();
    let notified = last_notified(&server);
    assert_eq!(
        keys(&notified),
        ["default", "open"],
        "CNY 12,000 is read before it is decided: {notified:#?}"
    );
}

#[tokio::test]
async fn showing_the_same_notification_again_replaces_it() {
    let session = DesktopSession::headless();
    let server = NotificationServer::start(&session.dbus_address).await;
    let (notifier, _clicks) = notifier_on(&session, None).await;

    let claim = pending_claim(1, "1200.00");
    notifier
        .deliver(&[Planned::Show(claim.clone())])
        .await
        .unwrap();
    let first = last_notified(&server);
    // The same task, now overdue: one notification updated, not a second one.
    let mut overdue = claim.clone();
    if let NotificationKind::PendingApproval { overdue: flag, .. } = &mut overdue.kind {
        *flag = true;
    }
    notifier.deliver(&[Planned::Show(overdue)]).await.unwrap();
    let second = last_notified(&server);
    assert_eq!(
        second.replaces_id, first.id,
        "the update replaces the first"
    );
    assert_eq!(second.id, first.id);
    assert_eq!(second.hints.urgency.as_deref(), Some("critical"));

    // Another notification is a notification of its own.
    notifier
        .deliver(&[Planned::Show(pending_claim(2, "300.00"))])
        .await
        .unwrap();
    let other = last_notified(&server);
    assert_eq!(other.replaces_id, 0);
    assert_ne!(other.id, first.id);
}

#[tokio::test]
async fn a_retraction_closes_the_right_notification_also_after_a_restart() {
    let session = DesktopSession::headless();
    let server = NotificationServer::start(&session.dbus_address).await;
    let dir = tempfile::tempdir().unwrap();
    let state_file = dir.path().join("notifications.json");
    let (first_run, _clicks) = notifier_on(&session, Some(&state_file)).await;

    let (a, b, c) = (
        pending_claim(1, "100.00"),
        pending_claim(2, "200.00"),
        pending_claim(3, "300.00"),
    );
    first_run
        .deliver(&[
            Planned::Show(a.clone()),
            Planned::Show(b.clone()),
            Planned::Show(c.clone()),
        ])
        .await
        .unwrap();
    let shown = server.notifications();
    let server_id = |n: &Notification| {
        shown
            .iter()
            .find(|s| {
                s.summary.ends_with(match &n.kind {
                    NotificationKind::PendingApproval { request, .. } => request.title.as_str(),
                    _ => unreachable!(),
                })
            })
            .map(|s| s.id)
            .unwrap()
    };
    let (a_id, b_id, c_id) = (server_id(&a), server_id(&b), server_id(&c));

    first_run
        .deliver(&[Planned::Retract(b.id.clone())])
        .await
        .unwrap();
    assert_eq!(server.calls().last(), Some(&Call::Closed { id: b_id }));
    // Taking back what is not on screen asks nothing of the server.
    let calls = server.calls().len();
    first_run
        .deliver(&[Planned::Retract(b.id.clone())])
        .await
        .unwrap();
    assert_eq!(server.calls().len(), calls, "nothing to close twice");

    // The app restarts: the next run closes and replaces what the first one showed.
    drop(first_run);
    let (second_run, _clicks) = notifier_on(&session, Some(&state_file)).await;
    second_run
        .deliver(&[Planned::Retract(c.id.clone())])
        .await
        .unwrap();
    assert_eq!(server.calls().last(), Some(&Call::Closed { id: c_id }));
    second_run
        .deliver(&[Planned::Show(a.clone())])
        .await
        .unwrap();
    assert_eq!(
        last_notified(&server).replaces_id,
        a_id,
        "an update after a restart replaces the notification on screen"
    );
}

#[tokio::test]
async fn a_state_file_from_another_session_closes_nothing_there() {
    let dir = tempfile::tempdir().unwrap();
    let state_file = dir.path().join("notifications.json");
    let claim = pending_claim(1, "100.00");
    {
        let session = DesktopSession::headless();
        let _server = NotificationServer::start(&session.dbus_address).await;
        let (notifier, _clicks) = notifier_on(&session, Some(&state_file)).await;
        notifier
            .deliver(&[Planned::Show(claim.clone())])
            .await
            .unwrap();
    }
    // Logged out and in again: the server's ids start afresh, and id 1 is someone else's.
    let session = DesktopSession::headless();
    let server = NotificationServer::start(&session.dbus_address).await;
    let (notifier, _clicks) = notifier_on(&session, Some(&state_file)).await;
    notifier
        .deliver(&[Planned::Retract(claim.id.clone())])
        .await
        .unwrap();
    assert!(
        server.calls().is_empty(),
        "an id from another session means nothing here: {:#?}",
        server.calls()
    );
}

#[tokio::test]
async fn a_click_arrives_as_the_action_it_stands_for() {
    let session = DesktopSession::headless();
    let server = NotificationServer::start(&session.dbus_address).await;
    let (notifier, mut clicks) = notifier_on(&session, None).await;

    let claim = pending_claim(1, "1200.00");
    notifier
        .deliver(&[Planned::Show(claim.clone())])
        .await
        .unwrap();
    let notified = last_notified(&server);
    // Subscribed before the Notify: the click may come right away.
    server.wait_for_action_listener(WAIT, notified.id).await;
    server.invoke_action(notified.id, "approve").await;
    let click = next_click(&mut clicks).await;
    assert_eq!(click.id, claim.id);
    assert!(
        matches!(
            click.action,
            NotificationAction::Approve { request, version, .. }
                if Some(request) == request_of(&claim) && version == version_of(&claim)
        ),
        "Approve, for the task and version shown: {click:?}"
    );

    // A click on the body opens.
    let other = pending_claim(2, "12000.00");
    notifier
        .deliver(&[Planned::Show(other.clone())])
        .await
        .unwrap();
    server.open(last_notified(&server).id).await;
    assert_eq!(
        next_click(&mut clicks).await,
        NotificationClick {
            id: other.id.clone(),
            action: NotificationAction::Open {
                request: request_of(&other).unwrap()
            },
        }
    );
}

#[tokio::test]
async fn a_click_made_the_moment_the_server_has_the_notification_is_not_lost() {
    let session = DesktopSession::headless();
    let server = NotificationServer::start(&session.dbus_address).await;
    let (notifier, mut clicks) = notifier_on(&session, None).await;

    // The click is emitted as soon as the server has recorded the Notify, racing the reply to
    // the notifier: either may arrive first. Several rounds, so both orders are met.
    for n in 1..=20 {
        let claim = pending_claim(n, "100.00");
        let title = format!("Waiting for your approval: Claim {n}");
        let planned = [Planned::Show(claim.clone())];
        let deliver = notifier.deliver(&planned);
        let click = async {
            let notified = server
                .wait_for_notification(WAIT, &title, |n| n.summary == title)
                .await;
            server.wait_for_action_listener(WAIT, notified.id).await;
            server.invoke_action(notified.id, "reject").await;
        };
        let (delivered, ()) = tokio::join!(deliver, click);
        delivered.unwrap();
        let click = next_click(&mut clicks).await;
        assert_eq!(click.id, claim.id, "round {n}");
        assert!(
            matches!(click.action, NotificationAction::Reject { .. }),
            "round {n}: {click:?}"
        );
    }
}

#[tokio::test]
async fn clicks_on_other_notifications_and_from_other_senders_are_ignored() {
    let session = DesktopSession::headless();
    let server = NotificationServer::start(&session.dbus_address).await;
    let (notifier, mut clicks) = notifier_on(&session, None).await;
    let claim = pending_claim(1, "100.00");
    notifier
        .deliver(&[Planned::Show(claim.clone())])
        .await
        .unwrap();
    let ours = last_notified(&server).id;

    // Another application's notification, clicked.
    let stranger = zbus_desktop::connection::Builder::address(session.dbus_address.as_str())
        .unwrap()
        .build()
        .await
        .unwrap();
    let reply = stranger
        .call_method(
            Some("org.freedesktop.Notifications"),
            "/org/freedesktop/Notifications",
            Some("org.freedesktop.Notifications"),
            "Notify",
            &(
                "another-app",
                0u32,
                "",
                "Lunch?",
                "",
                vec!["approve", "Yes"],
                std::collections::HashMap::<&str, zbus_desktop::zvariant::Value<'_>>::new(),
                -1i32,
            ),
        )
        .await
        .unwrap();
    let theirs: u32 = reply.body().deserialize().unwrap();
    server.invoke_action(theirs, "approve").await;
    // A process that is not the notification service pretends the person clicked ours.
    stranger
        .emit_signal(
            None::<&str>,
            "/org/freedesktop/Notifications",
            "org.freedesktop.Notifications",
            "ActionInvoked",
            &(ours, "approve"),
        )
        .await
        .unwrap();
    // A round trip on the same connection: the bus has routed the forged signal before it
    // answers, so the notifier reads it before the real click below.
    stranger
        .call_method(
            Some("org.freedesktop.DBus"),
            "/org/freedesktop/DBus",
            Some("org.freedesktop.DBus"),
            "GetId",
            &(),
        )
        .await
        .unwrap();

    server.invoke_action(ours, "default").await;
    let first = next_click(&mut clicks).await;
    assert_eq!(
        first,
        NotificationClick {
            id: claim.id.clone(),
            action: NotificationAction::Open {
                request: request_of(&claim).unwrap()
            },
        },
        "the first click through is the person's real one on our notification"
    );
}

#[tokio::test]
async fn a_server_without_buttons_gets_only_the_click_on_the_body() {
    let session = DesktopSession::headless();
    let server =
        NotificationServer::start_with_capabilities(&session.dbus_address, &["body"]).await;
    let (notifier, mut clicks) = notifier_on(&session, None).await;
    assert!(!notifier.shows_actions());

    let claim = pending_claim(1, "100.00");
    notifier
        .deliver(&[Planned::Show(claim.clone())])
        .await
        .unwrap();
    let notified = last_notified(&server);
    assert_eq!(keys(&notified), ["default"], "{notified:#?}");
    server.open(notified.id).await;
    assert!(matches!(
        next_click(&mut clicks).await.action,
        NotificationAction::Open { .. }
    ));
}

#[tokio::test]
async fn a_refused_action_is_told_in_one_notification_per_request() {
    let session = DesktopSession::headless();
    let server = NotificationServer::start(&session.dbus_address).await;
    let (notifier, _clicks) = notifier_on(&session, None).await;
    let request = id(0x5eed_0001);
    let refused = |reason: &str| {
        Planned::Show(action_refused(
            request,
            "Claim 1".to_owned(),
            reason.to_owned(),
        ))
    };
    notifier
        .deliver(&[refused(
            "Already approved by Li Lei at 2026-03-09 10:00 UTC",
        )])
        .await
        .unwrap();
    let first = last_notified(&server);
    assert_eq!(first.summary, "Could not be done: Claim 1");
    assert_eq!(keys(&first), ["default", "open"]);
    notifier
        .deliver(&[refused("Already rejected by Li Lei")])
        .await
        .unwrap();
    assert_eq!(
        last_notified(&server).replaces_id,
        first.id,
        "a second refusal replaces the first rather than stacking"
    );
}

#[tokio::test]
async fn without_a_notification_service_connecting_fails_with_a_clear_error() {
    let session = DesktopSession::headless();
    let result = DbusNotifier::connect_to(
        &session.dbus_address,
        Locale::En,
        FixedOffset::east_opt(0).unwrap(),
        Names::default(),
        None,
    )
    .await;
    match result {
        Err(NotifyError::Service(message)) => assert!(
            message.contains("no notification service"),
            "the message says what is missing: {message}"
        ),
        other => panic!("a service error, not {other:?}"),
    }
    // No bus at all is the same kind of error, not a panic.
    let nowhere = DbusNotifier::connect_to(
        "unix:path=/nonexistent/bus",
        Locale::En,
        FixedOffset::east_opt(0).unwrap(),
        Names::default(),
        None,
    )
    .await;
    assert!(
        matches!(nowhere, Err(NotifyError::Service(_))),
        "{nowhere:?}"
    );
}

fn request_of(notification: &Notification) -> Option<Uuid> {
    match &notification.kind {
        NotificationKind::PendingApproval { request, .. } => Some(request.id),
        _ => None,
    }
}

fn version_of(notification: &Notification) -> u64 {
    match &notification.kind {
        NotificationKind::PendingApproval { request, .. } => request.version,
        _ => 0,
    }
}
