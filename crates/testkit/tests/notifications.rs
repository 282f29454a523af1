//! The test notification server on a private session bus, driven by the clients the app may
//! use: notify-rust (in a child process, because it finds the bus through the process-wide
//! `DBUS_SESSION_BUS_ADDRESS`) and zbus connected to the bus's address. Every wait has a
//! deadline.
//!
//! Clicks are tested with a zbus signal stream, not notify-rust's `wait_for_action`: that one
//! subscribes after `Notify` and drops signals arriving between its reads, so an immediate
//! click is lost at random (see the server's module documentation).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::process::Stdio;
use std::time::Duration;

use countersign_testkit::{Call, DesktopSession, Hints, NotificationServer, Notified};
use futures::StreamExt;
use zbus::message::Type;
use zbus::{Connection, MatchRule, MessageStream, Variant};

/// Generous: it only costs time when a test fails.
const WAIT: Duration = Duration::from_secs(10);
const NAME: &str = "org.freedesktop.Notifications";
const PATH: &str = "/org/freedesktop/Notifications";
const INTERFACE: &str = "org.freedesktop.Notifications";

/// Set for the child run of [`notify_rust_client`]; its absence means a person ran it by hand.
const CHILD: &str = "COUNTERSIGN_NOTIFY_RUST_CHILD";
/// What the child prints before the id notify-rust got back.
const GOT_ID: &str = "notify-rust got id ";

#[tokio::test]
async fn a_notify_rust_notification_and_its_closing_are_recorded() {
    let session = DesktopSession::headless();
    let server = NotificationServer::start(&session.dbus_address).await;
    let mut child = session.command(std::env::current_exe().unwrap());
    child
        .args(["--exact", "notify_rust_client", "--ignored", "--nocapture"])
        .env(CHILD, "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = tokio::process::Command::from(child)
        .kill_on_drop(true)
        .spawn()
        .unwrap();

    let notified = server
        .wait_for_notification(WAIT, "notify-rust's notification", |n| {
            n.app_name == "countersign-child"
        })
        .await;
    // Everything notify-rust was given reaches the server as the app would send it.
    assert_eq!(
        notified,
        Notified {
            id: notified.id,
            app_name: "countersign-child".to_owned(),
            replaces_id: 0,
            app_icon: String::new(),
            summary: "Leave request".to_owned(),
            body: "Ann asks for 3 days".to_owned(),
            actions: vec![
                ("approve".to_owned(), "Approve".to_owned()),
                ("reject".to_owned(), "Reject".to_owned()),
            ],
            hints: Hints {
                urgency: Some("critical".to_owned()),
                category: Some("countersign.request".to_owned()),
                desktop_entry: Some("countersign".to_owned()),
            },
            expire_timeout: 0,
        }
    );

    let output = tokio::time::timeout(WAIT, child.wait_with_output())
        .await
        .expect("the child returns once its notification is closed")
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains(&format!("{GOT_ID}{}\n", notified.id)),
        "notify-rust's handle carries the id the server answered; child said:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        server.calls().last(),
        Some(&Call::Closed { id: notified.id }),
        "the handle's close() is a CloseNotification of that id"
    );
}

/// The client half of the test above, run in a child process on the private bus. Ignored so
/// that a normal run does not show a notification on whatever bus the test runner has.
#[test]
#[ignore = "a child process of a_notify_rust_notification_and_its_closing_are_recorded"]
fn notify_rust_client() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let handle = notify_rust::Notification::new()
        .appname("countersign-child")
        .summary("Leave request")
        .body("Ann asks for 3 days")
        .action("approve", "Approve")
        .action("reject", "Reject")
        .urgency(notify_rust::Urgency::Critical)
        .hint(notify_rust::Hint::Category(
            "countersign.request".to_owned(),
        ))
        .hint(notify_rust::Hint::DesktopEntry("countersign".to_owned()))
        .timeout(notify_rust::Timeout::Never)
        .show()
        .expect("show a notification on the test server");
    println!("{GOT_ID}{}", handle.id());
    handle.close();
}

#[tokio::test]
async fn capabilities_advertise_actions_and_the_server_names_itself() {
    let session = DesktopSession::headless();
    let _server = NotificationServer::start(&session.dbus_address).await;
    let client = connect(&session).await;

    let capabilities: Vec<String> = call(&client, "GetCapabilities", &()).await;
    for needed in ["actions", "body", "persistence"] {
        assert!(
            capabilities.iter().any(|c| c == needed),
            "clients only send actions to a server advertising {needed}: {capabilities:?}"
        );
    }
    let (name, _vendor, _version, spec): (String, String, String, String) =
        call(&client, "GetServerInformation", &()).await;
    assert_eq!(
        (name.as_str(), spec.as_str()),
        ("countersign-testkit", "1.2")
    );
}

#[tokio::test]
async fn replacing_a_notification_answers_its_id_and_both_calls_are_recorded_in_order() {
    let session = DesktopSession::headless();
    let server = NotificationServer::start(&session.dbus_address).await;
    let client = connect(&session).await;

    let first = notify(&client, 0, "First", &[]).await;
    let other = notify(&client, 0, "Other", &[]).await;
    let replaced = notify(&client, first, "First, updated", &["approve", "Approve"]).await;

    assert_ne!(first, other, "each new notification gets its own id");
    assert_eq!(
        replaced, first,
        "the spec: a replacement answers replaces_id"
    );
    let recorded: Vec<(u32, u32, String)> = server
        .notifications()
        .into_iter()
        .map(|n| (n.id, n.replaces_id, n.summary))
        .collect();
    assert_eq!(
        recorded,
        [
            (first, 0, "First".to_owned()),
            (other, 0, "Other".to_owned()),
            (first, first, "First, updated".to_owned()),
        ],
        "every Notify is recorded when it is answered, in order"
    );
}

#[tokio::test]
async fn close_notification_is_recorded_and_announced_as_closed_by_a_call() {
    let session = DesktopSession::headless();
    let server = NotificationServer::start(&session.dbus_address).await;
    let client = connect(&session).await;
    let mut signals = signals(&client).await;

    let id = notify(&client, 0, "Leave request", &[]).await;
    let () = call(&client, "CloseNotification", &id).await;

    assert_eq!(
        server.calls().last(),
        Some(&Call::Closed { id }),
        "CloseNotification is recorded once answered"
    );
    assert_eq!(
        next_signal(&mut signals).await,
        Signal::Closed { id, reason: 3 },
        "reason 3 is 'closed by a call to CloseNotification'"
    );
}

#[tokio::test]
async fn invoking_an_action_reaches_the_client_then_the_notification_closes() {
    let session = DesktopSession::headless();
    let server = NotificationServer::start(&session.dbus_address).await;
    let client = connect(&session).await;
    let mut signals = signals(&client).await;

    let id = notify(
        &client,
        0,
        "Leave request",
        &["default", "Open", "approve", "Approve", "reject", "Reject"],
    )
    .await;
    // The stream's rule was added before Notify, so the server already saw a listener.
    server.wait_for_action_listener(WAIT, id).await;
    server.invoke_action(id, "approve").await;

    assert_eq!(
        next_signal(&mut signals).await,
        Signal::Action {
            id,
            key: "approve".to_owned()
        }
    );
    assert_eq!(
        next_signal(&mut signals).await,
        Signal::Closed { id, reason: 2 },
        "a clicked notification goes away as dismissed by the user, as on GNOME and dunst"
    );

    let again = notify(&client, 0, "Another", &["default", "Open"]).await;
    server.open(again).await;
    assert_eq!(
        next_signal(&mut signals).await,
        Signal::Action {
            id: again,
            key: "default".to_owned()
        },
        "opening a notification is its default action"
    );
}

#[tokio::test]
#[should_panic(expected = "already owned")]
async fn a_second_server_on_the_same_bus_is_refused() {
    let session = DesktopSession::headless();
    let _first = NotificationServer::start(&session.dbus_address).await;
    NotificationServer::start(&session.dbus_address).await;
}

#[tokio::test]
async fn a_dropped_server_gives_the_name_back_at_once() {
    let session = DesktopSession::headless();
    let first = NotificationServer::start(&session.dbus_address).await;
    drop(first);
    let second = NotificationServer::start(&session.dbus_address).await;
    let client = connect(&session).await;
    notify(&client, 0, "To the second", &[]).await;
    assert_eq!(second.notifications().len(), 1);
}

#[tokio::test]
#[should_panic(expected = "waited 200ms for a notification nobody sends")]
async fn wait_for_names_what_it_waited_for_at_the_deadline() {
    let session = DesktopSession::headless();
    let server = NotificationServer::start(&session.dbus_address).await;
    server
        .wait_for(
            Duration::from_millis(200),
            "a notification nobody sends",
            |calls| calls.first().cloned(),
        )
        .await;
}

async fn connect(session: &DesktopSession) -> Connection {
    zbus::connection::Builder::address(session.dbus_address.as_str())
        .build()
        .await
        .unwrap()
}

async fn call<B, R>(client: &Connection, method: &str, body: &B) -> R
where
    B: serde::Serialize + zbus::DynamicType,
    R: for<'d> serde::Deserialize<'d> + zbus::Type,
{
    client
        .call_method(Some(NAME), PATH, Some(INTERFACE), method, body)
        .await
        .unwrap_or_else(|why| panic!("{method}: {why}"))
        .body()
        .deserialize()
        .unwrap()
}

/// Notify as a client would, with `actions` flat (key, label, key, label…).
async fn notify(client: &Connection, replaces_id: u32, summary: &str, actions: &[&str]) -> u32 {
    let hints: HashMap<&str, Variant<'_>> = HashMap::from([("urgency", Variant::U8(1))]);
    call(
        client,
        "Notify",
        &(
            "countersign-test",
            replaces_id,
            "",
            summary,
            "body",
            actions,
            hints,
            -1_i32,
        ),
    )
    .await
}

#[derive(Debug, PartialEq, Eq)]
enum Signal {
    Action { id: u32, key: String },
    Closed { id: u32, reason: u32 },
}

/// The server's signals; the rule is in place when this returns.
async fn signals(client: &Connection) -> MessageStream {
    let rule = MatchRule::builder()
        .msg_type(Type::Signal)
        .interface(INTERFACE)
        .build()
        .unwrap();
    MessageStream::for_match_rule(rule, client, None)
        .await
        .unwrap()
}

async fn next_signal(signals: &mut MessageStream) -> Signal {
    let message = tokio::time::timeout(WAIT, signals.next())
        .await
        .expect("a signal from the notification server")
        .expect("the bus connection is open")
        .unwrap();
    let header = message.header();
    match header.member().map(|m| m.as_str()) {
        Some("ActionInvoked") => {
            let (id, key): (u32, String) = message.body().deserialize().unwrap();
            Signal::Action { id, key }
        }
        Some("NotificationClosed") => {
            let (id, reason): (u32, u32) = message.body().deserialize().unwrap();
            Signal::Closed { id, reason }
        }
        other => panic!("unexpected signal {other:?}"),
    }
}
