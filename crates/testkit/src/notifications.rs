//! A notification server for tests: it owns `org.freedesktop.Notifications` on a test session
//! bus, records every `Notify` and `CloseNotification` in order, and emits `ActionInvoked` when
//! the test clicks, so "approve from a notification" runs over the real D-Bus protocol
//! against the real client code.
//!
//! It runs in the test process, on a thread and runtime of its own: a test that blocks its
//! own thread (waiting on a child process, say) must not stall the server that child is
//! calling. The app under test is a separate process on the same private bus.
//!
//! A client that subscribes to `ActionInvoked` only after its `Notify` returns misses a click
//! made before that. So the server also watches the bus, as a monitor, for the match rules
//! clients add, and a test awaits [`NotificationServer::wait_for_action_listener`] (some
//! connection of the notifying process subscribed) before it clicks. notify-rust's
//! `wait_for_action` cannot be made safe this way: it adds its rules, then starts reading,
//! and re-creates its message stream for every message, so a signal arriving in between is
//! dropped; this server cannot see the gap.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use zbus::fdo::{DBusProxy, MonitoringProxy};
use zbus::message::{Header, Type};
use zbus::names::UniqueName;
use zbus::object_server::SignalEmitter;
use zbus::{Connection, MatchRule, MessageStream, OwnedVariant, Variant};

use crate::bus_service::{Recorded, ServiceThread};

const NAME: &str = "org.freedesktop.Notifications";
const PATH: &str = "/org/freedesktop/Notifications";
const INTERFACE: &str = "org.freedesktop.Notifications";

/// `NotificationClosed` reasons, from the Desktop Notifications Specification.
const CLOSED_BY_USER: u32 = 2;
const CLOSED_BY_CALL: u32 = 3;

/// One call a client made to the server, in the order the server handled them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(
    clippy::large_enum_variant,
    reason = "a test's few records; a box would only clutter its patterns"
)]
pub enum Call {
    Notified(Notified),
    /// `CloseNotification(id)`, whether or not `id` was showing.
    Closed {
        id: u32,
    },
}

/// A `Notify` call, as the client sent it, with the id the server answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notified {
    /// The id returned: `replaces_id` when it was not 0, a fresh one otherwise.
    pub id: u32,
    pub app_name: String,
    pub replaces_id: u32,
    pub app_icon: String,
    pub summary: String,
    pub body: String,
    /// `(key, label)` pairs; a trailing key without a label gets an empty one.
    pub actions: Vec<(String, String)>,
    pub hints: Hints,
    pub expire_timeout: i32,
}

/// The hints a test asserts on, as strings; the others are not recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hints {
    /// `low`, `normal` or `critical` (the number itself when it is none of them).
    pub urgency: Option<String>,
    pub category: Option<String>,
    pub desktop_entry: Option<String>,
}

impl Notified {
    /// Whether the client offered the action `key`.
    pub fn has_action(&self, key: &str) -> bool {
        self.actions.iter().any(|(k, _)| k == key)
    }
}

/// What the server has seen.
#[derive(Default)]
struct Log {
    calls: Vec<Call>,
    /// The process each notification id was last sent from.
    senders: HashMap<u32, u32>,
    /// Processes with a connection that added a match rule catching `ActionInvoked`.
    action_listeners: BTreeSet<u32>,
    /// Notifications shown and not yet closed.
    showing: BTreeSet<u32>,
    last_id: u32,
}

type Shared = Recorded<Log>;

/// The test notification server; see the module documentation. Dropping it releases the
/// name and stops its thread.
pub struct NotificationServer {
    shared: Arc<Shared>,
    service: ServiceThread,
}

impl NotificationServer {
    /// Owns `org.freedesktop.Notifications` on the bus at `dbus_address` (a
    /// [`crate::DesktopSession`]'s `dbus_address`). Panics when the name is already owned
    /// there, or the bus refuses a monitor.
    pub async fn start(dbus_address: &str) -> Self {
        Self::start_with_capabilities(dbus_address, &["actions", "body", "persistence"]).await
    }

    /// As [`Self::start`], advertising only `capabilities` from `GetCapabilities`: without
    /// `actions` it plays a server that shows no buttons (some minimal daemons), which a
    /// client must not offer any but `default` to.
    pub async fn start_with_capabilities(dbus_address: &str, capabilities: &[&str]) -> Self {
        let capabilities: Vec<String> = capabilities.iter().map(|c| (*c).to_owned()).collect();
        let shared = Arc::new(Shared::new());
        let address = dbus_address.to_owned();
        let serving = Arc::clone(&shared);
        let service = ServiceThread::start("notification-server", NAME, move || async move {
            let (connection, monitor) = serve(&address, serving, capabilities).await?;
            Ok((connection, vec![monitor]))
        })
        .await
        .unwrap_or_else(|why| panic!("the test notification server on {dbus_address}: {why}"));
        Self { shared, service }
    }

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.shared.log().calls.clone()
    }

    /// Every `Notify` so far, in order.
    pub fn notifications(&self) -> Vec<Notified> {
        notifications(&self.shared.log().calls).cloned().collect()
    }

    /// Awaits the first time `check` finds what it looks for in the calls so far, re-checking
    /// on every change. Panics after `within` with `description` and the calls it saw.
    pub async fn wait_for<T>(
        &self,
        within: Duration,
        description: &str,
        mut check: impl FnMut(&[Call]) -> Option<T>,
    ) -> T {
        self.wait_for_log(within, description, |log| check(&log.calls))
            .await
    }

    /// Awaits the first `Notify` that `matches`.
    pub async fn wait_for_notification(
        &self,
        within: Duration,
        description: &str,
        mut matches: impl FnMut(&Notified) -> bool,
    ) -> Notified {
        self.wait_for(within, description, |calls| {
            notifications(calls).find(|n| matches(n)).cloned()
        })
        .await
    }

    /// Awaits a `CloseNotification(id)`: the client took notification `id` back.
    pub async fn wait_for_closed(&self, within: Duration, description: &str, id: u32) {
        self.wait_for(within, description, |calls| {
            calls
                .iter()
                .any(|c| matches!(c, Call::Closed { id: closed } if *closed == id))
                .then_some(())
        })
        .await;
    }

    /// Awaits the moment the process that sent notification `id` has a connection subscribed
    /// to `ActionInvoked` (before or after it notified), from which the bus delivers every
    /// [`Self::invoke_action`] to that connection. Processes, not connections, because
    /// clients commonly notify on one connection and listen on another.
    pub async fn wait_for_action_listener(&self, within: Duration, id: u32) {
        let description = format!("the process that sent notification {id} to listen for actions");
        self.wait_for_log(within, &description, |log| {
            let sender = log.senders.get(&id)?;
            log.action_listeners.contains(sender).then_some(())
        })
        .await;
    }

    /// Clicks action `key` of notification `id`: emits `ActionInvoked(id, key)` and then, as
    /// GNOME Shell and dunst do for a notification that is not resident,
    /// `NotificationClosed(id, 2)` (dismissed by the user). Panics when `id` is not showing
    /// or its latest `Notify` did not offer `key`: a real server has nothing to click then.
    pub async fn invoke_action(&self, id: u32, key: &str) {
        {
            let log = self.shared.log();
            let latest = notifications(&log.calls).filter(|n| n.id == id).last();
            let offered = latest.is_some_and(|n| n.has_action(key));
            assert!(
                log.showing.contains(&id) && offered,
                "cannot invoke action {key:?} of notification {id}: showing {:?}, latest Notify {latest:#?}",
                log.showing
            );
        }
        let connection = self.service.connection.clone();
        let key = key.to_owned();
        self.service
            .run(async move {
                let emitter = SignalEmitter::new(&connection, PATH)?;
                Notifications::action_invoked(&emitter, id, &key).await?;
                Notifications::notification_closed(&emitter, id, CLOSED_BY_USER).await
            })
            .await
            .unwrap_or_else(|why| panic!("emit ActionInvoked({id}): {why}"));
        self.shared.update(|log| log.showing.remove(&id));
    }

    /// Clicks the body of notification `id`: the action `default`, which the client must
    /// have offered (real servers invoke nothing otherwise).
    pub async fn open(&self, id: u32) {
        self.invoke_action(id, "default").await;
    }

    /// Dismisses notification `id` as the user would: `NotificationClosed(id, 2)` and no action.
    pub async fn dismiss(&self, id: u32) {
        assert!(
            self.shared.log().showing.contains(&id),
            "cannot dismiss notification {id}: it is not showing"
        );
        let connection = self.service.connection.clone();
        self.service
            .run(async move {
                let emitter = SignalEmitter::new(&connection, PATH)?;
                Notifications::notification_closed(&emitter, id, CLOSED_BY_USER).await
            })
            .await
            .unwrap_or_else(|why| panic!("emit NotificationClosed({id}): {why}"));
        self.shared.update(|log| log.showing.remove(&id));
    }

    async fn wait_for_log<T>(
        &self,
        within: Duration,
        description: &str,
        check: impl FnMut(&Log) -> Option<T>,
    ) -> T {
        self.shared
            .wait_for(within, description, check, |log| {
                format!("the notification server's calls so far: {:#?}", log.calls)
            })
            .await
    }
}

fn notifications(calls: &[Call]) -> impl Iterator<Item = &Notified> {
    calls.iter().filter_map(|call| match call {
        Call::Notified(notified) => Some(notified),
        Call::Closed { .. } => None,
    })
}

/// Connects to the bus, starts watching match rules, then owns the name: a client can only
/// find the server once the monitor sees its subscriptions.
async fn serve(
    address: &str,
    shared: Arc<Shared>,
    capabilities: Vec<String>,
) -> Result<(Connection, tokio::task::JoinHandle<()>), String> {
    let monitor = watch_action_listeners(address, Arc::clone(&shared))
        .await
        .map_err(|why| format!("cannot monitor the bus for match rules: {why}"))?;
    let connection = zbus::connection::Builder::address(address)
        .serve_at(
            PATH,
            Notifications {
                shared,
                capabilities,
            },
        )
        .name(NAME)
        // zbus would otherwise take the name over from a server that allows it.
        .replace_existing_names(false)
        .allow_name_replacements(false)
        .build()
        .await;
    match connection {
        Ok(connection) => Ok((connection, monitor)),
        Err(zbus::Error::NameTaken) => {
            monitor.abort();
            Err(format!(
                "{NAME} is already owned on this bus (another notification server is running)"
            ))
        }
        Err(why) => {
            monitor.abort();
            Err(format!("cannot serve {NAME}: {why}"))
        }
    }
}

/// A monitor connection that sees every `AddMatch` on the bus and records the processes
/// whose rule catches `ActionInvoked`. dbus-daemon hands the monitor its copy while it handles
/// the call, before it reads anything else, so once the copy is seen the rule is in force for
/// any signal the server sends afterwards. A monitor cannot call anything, so a second
/// connection asks the bus for the sender's process.
async fn watch_action_listeners(
    address: &str,
    shared: Arc<Shared>,
) -> zbus::Result<tokio::task::JoinHandle<()>> {
    let lookup = zbus::connection::Builder::address(address).build().await?;
    let bus = DBusProxy::new(&lookup).await?;
    let connection = zbus::connection::Builder::address(address).build().await?;
    let add_match = MatchRule::builder()
        .msg_type(Type::MethodCall)
        .interface("org.freedesktop.DBus")
        .member("AddMatch")
        .build()?;
    MonitoringProxy::new(&connection)
        .await?
        .become_monitor(&[add_match], 0)
        .await?;
    let mut messages = MessageStream::from(connection);
    Ok(tokio::spawn(async move {
        while let Some(Ok(message)) = messages.next().await {
            let Some(sender) = message.header().sender().map(|s| s.to_owned()) else {
                continue;
            };
            let Ok(rule) = message.body().deserialize::<String>() else {
                continue;
            };
            if !catches_action_invoked(&rule) {
                continue;
            }
            // Fails only when the listener is already gone, and then it listens no more.
            if let Ok(pid) = bus.get_connection_unix_process_id(sender.into()).await {
                shared.update(|log| log.action_listeners.insert(pid));
            }
        }
    }))
}

/// Whether a match rule lets `ActionInvoked` through. Only the type, interface and member
/// are looked at: a rule narrowed by path, sender or arguments counts as listening.
fn catches_action_invoked(rule: &str) -> bool {
    let Ok(rule) = MatchRule::try_from(rule) else {
        return false;
    };
    rule.msg_type().is_none_or(|t| t == Type::Signal)
        && rule.interface().is_none_or(|i| i.as_str() == INTERFACE)
        && rule.member().is_none_or(|m| m.as_str() == "ActionInvoked")
}

struct Notifications {
    shared: Arc<Shared>,
    capabilities: Vec<String>,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl Notifications {
    fn get_capabilities(&self) -> Vec<String> {
        self.capabilities.clone()
    }

    /// `(name, vendor, version, spec_version)`.
    fn get_server_information(&self) -> (String, String, String, String) {
        (
            "countersign-testkit".to_owned(),
            "Countersign".to_owned(),
            env!("CARGO_PKG_VERSION").to_owned(),
            "1.2".to_owned(),
        )
    }

    #[allow(
        clippy::too_many_arguments,
        reason = "the D-Bus method's own signature"
    )]
    async fn notify(
        &self,
        #[zbus(header)] header: Header<'_>,
        #[zbus(connection)] connection: &Connection,
        app_name: String,
        replaces_id: u32,
        app_icon: String,
        summary: String,
        body: String,
        actions: Vec<String>,
        hints: HashMap<String, OwnedVariant>,
        expire_timeout: i32,
    ) -> u32 {
        let sender = match header.sender() {
            Some(sender) => process_of(connection, sender.to_owned()).await,
            None => None,
        };
        self.shared.update(|log| {
            let id = if replaces_id == 0 {
                log.last_id += 1;
                log.last_id
            } else {
                replaces_id
            };
            if let Some(pid) = sender {
                log.senders.insert(id, pid);
            }
            log.showing.insert(id);
            log.calls.push(Call::Notified(Notified {
                id,
                app_name,
                replaces_id,
                app_icon,
                summary,
                body,
                actions: pairs(actions),
                hints: Hints {
                    urgency: hints.get("urgency").map(|u| urgency(u)),
                    category: hints.get("category").map(|c| text(c)),
                    desktop_entry: hints.get("desktop-entry").map(|d| text(d)),
                },
                expire_timeout,
            }));
            id
        })
    }

    /// Records the call and, when `id` was showing, closes it with reason 3 (closed by a
    /// call); the spec has a real server answer an error for an unknown id, which clients
    /// ignore, so this one stays quiet instead.
    async fn close_notification(
        &self,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
        id: u32,
    ) -> zbus::fdo::Result<()> {
        let was_showing = self.shared.update(|log| {
            log.calls.push(Call::Closed { id });
            log.showing.remove(&id)
        });
        if was_showing {
            Self::notification_closed(&emitter, id, CLOSED_BY_CALL).await?;
        }
        Ok(())
    }

    #[zbus(signal)]
    async fn notification_closed(
        emitter: &SignalEmitter<'_>,
        id: u32,
        reason: u32,
    ) -> zbus::Result<()>;

    #[zbus(signal)]
    async fn action_invoked(
        emitter: &SignalEmitter<'_>,
        id: u32,
        action_key: &str,
    ) -> zbus::Result<()>;
}

async fn process_of(connection: &Connection, name: UniqueName<'static>) -> Option<u32> {
    let bus = DBusProxy::new(connection).await.ok()?;
    bus.get_connection_unix_process_id(name.into()).await.ok()
}

fn pairs(flat: Vec<String>) -> Vec<(String, String)> {
    let mut flat = flat.into_iter();
    let mut pairs = Vec::new();
    while let Some(key) = flat.next() {
        pairs.push((key, flat.next().unwrap_or_default()));
    }
    pairs
}

fn urgency(value: &Variant<'_>) -> String {
    let level = match value {
        Variant::U8(n) => i64::from(*n),
        Variant::I32(n) => i64::from(*n),
        Variant::U32(n) => i64::from(*n),
        Variant::I64(n) => *n,
        other => return text(other),
    };
    match level {
        0 => "low".to_owned(),
        1 => "normal".to_owned(),
        2 => "critical".to_owned(),
        n => n.to_string(),
    }
}

/// A string hint as the string, anything else as zbus prints it.
fn text(value: &Variant<'_>) -> String {
    match value {
        Variant::Str(s) => s.to_string(),
        other => format!("{other}"),
    }
}
