//! The desktop's notifier on Linux: planned notifications shown through the freedesktop.org
//! notification service (`org.freedesktop.Notifications` on the session bus), and the
//! person's clicks on them handed back as [`NotificationClick`]s.
//!
//! Written on zbus rather than notify-rust: notify-rust's blocking API panics inside a tokio
//! runtime, and its `wait_for_action` subscribes after `Notify` and re-creates its stream per
//! message, so a fast click is lost. Here one signal stream is subscribed (the bus has
//! confirmed the match rule) before the first `Notify`, and lives as long as the notifier.
//!
//! A click names the server's `u32` id. A click can be read from the stream before the
//! `Notify` that made its id has returned here; such a signal is kept aside and claimed by
//! that `Notify` when its id comes back, so no click is lost to that race either.
//!
//! The map from [`NotificationId`] to the server's id, with the actions each offered, is
//! written to a state file (temp file + rename) after every change, so that after a restart
//! an update still replaces, a retraction still closes what the previous run showed, and a
//! click on it still works. Server ids mean something only to the server that gave them: the
//! file also names the bus and the server's connection, and a map from another session or
//! another server process is dropped rather than used to close someone else's notification.
//!
//! Signals are believed only from the connection that owns `org.freedesktop.Notifications`:
//! any process on the bus can emit `ActionInvoked`, and an Approve must be the person's.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::FixedOffset;
use countersign_domain::messages::Locale;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use zbus::message::Type;
use zbus::zvariant::Value;
use zbus::{Connection, MatchRule, MessageStream};
// zbus 5, the major the desktop's Tauri plugins link (see the workspace's `zbus-desktop`).
use zbus_desktop as zbus;

use crate::notify::{
    Names, Notification, NotificationAction, NotificationId, NotificationKind, NotifyError,
    Planned, RenderContext,
};

const SERVICE: &str = "org.freedesktop.Notifications";
const PATH: &str = "/org/freedesktop/Notifications";
const INTERFACE: &str = "org.freedesktop.Notifications";
const BUS: &str = "org.freedesktop.DBus";
const BUS_PATH: &str = "/org/freedesktop/DBus";
const APP_NAME: &str = "Countersign";
const DESKTOP_ENTRY: &str = "countersign";
/// The action key a notification server invokes when the body is clicked.
const DEFAULT_KEY: &str = "default";
/// Signals kept aside for a `Notify` still in flight. Clicks come at human pace; anything
/// beyond this many unclaimed signals is about other applications' notifications.
const MAX_UNCLAIMED: usize = 64;

/// A click on a notification: the action to carry out, down the same path as the UI's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationClick {
    pub id: NotificationId,
    pub action: NotificationAction,
}

/// Shows and retracts planned notifications on the session bus's notification service and
/// reports clicks on the channel [`DbusNotifier::connect`] returns. Dropping it stops
/// listening; what it showed stays on screen, and the state file remembers it.
pub struct DbusNotifier {
    shared: Arc<Shared>,
    listener: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for DbusNotifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbusNotifier")
            .field("actions", &self.shared.actions)
            .field("state_file", &self.shared.state_file)
            .finish_non_exhaustive()
    }
}

struct Shared {
    connection: Connection,
    /// Whether the server shows action buttons (the `actions` capability).
    actions: bool,
    state_file: Option<PathBuf>,
    /// Serialises state-file writes, so the last write holds the latest state.
    writing: tokio::sync::Mutex<()>,
    render: Mutex<Render>,
    state: Mutex<State>,
    clicks: mpsc::UnboundedSender<NotificationClick>,
}

struct Render {
    locale: Locale,
    offset: FixedOffset,
    names: Names,
}

struct State {
    saved: Saved,
    /// Signals about ids this notifier does not know (yet), oldest first, with the sequence
    /// number they arrived at.
    unclaimed: VecDeque<(u64, Signal)>,
    /// Counts signals read, to tell a signal that arrived during a `Notify` from older ones.
    seq: u64,
    /// The unique name of the connection owning the notification service.
    owner: String,
}

/// What the state file holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Saved {
    /// The bus's id (`org.freedesktop.DBus.GetId`): server ids of another session mean nothing.
    bus: String,
    /// The notification service's unique name: a restarted server starts its ids afresh.
    server: String,
    #[serde(default)]
    shown: BTreeMap<NotificationId, Shown>,
}

/// One notification on screen: the server's id and what each of its action keys does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Shown {
    server_id: u32,
    actions: BTreeMap<String, NotificationAction>,
}

#[derive(Debug, Clone, PartialEq)]
enum Signal {
    ActionInvoked { id: u32, key: String },
    Closed { id: u32 },
}

impl Signal {
    fn id(&self) -> u32 {
        match self {
            Signal::ActionInvoked { id, .. } | Signal::Closed { id } => *id,
        }
    }
}

impl DbusNotifier {
    /// Connects to the session bus (`DBUS_SESSION_BUS_ADDRESS`), subscribes to the
    /// notification service's signals and asks for its capabilities. `state_file` keeps the
    /// ids of what is shown across restarts (none: forgotten when the notifier goes).
    ///
    /// Fails with [`NotifyError::Service`] when there is no session bus or no notification
    /// service on it.
    pub async fn connect(
        locale: Locale,
        offset: FixedOffset,
        names: Names,
        state_file: Option<PathBuf>,
    ) -> Result<(Self, mpsc::UnboundedReceiver<NotificationClick>), NotifyError> {
        let connection = Connection::session()
            .await
            .map_err(|e| service(format!("cannot connect to the session bus: {e}")))?;
        Self::start(connection, locale, offset, names, state_file).await
    }

    /// As [`Self::connect`], on the bus at `address` (a test's private bus, say).
    pub async fn connect_to(
        address: &str,
        locale: Locale,
        offset: FixedOffset,
        names: Names,
        state_file: Option<PathBuf>,
    ) -> Result<(Self, mpsc::UnboundedReceiver<NotificationClick>), NotifyError> {
        let failed =
            |e: zbus::Error| service(format!("cannot connect to the bus at {address}: {e}"));
        let connection = zbus::connection::Builder::address(address)
            .map_err(failed)?
            .build()
            .await
            .map_err(failed)?;
        Self::start(connection, locale, offset, names, state_file).await
    }

    async fn start(
        connection: Connection,
        locale: Locale,
        offset: FixedOffset,
        names: Names,
        state_file: Option<PathBuf>,
    ) -> Result<(Self, mpsc::UnboundedReceiver<NotificationClick>), NotifyError> {
        // Subscribed first: the bus has the rule before anything is shown, so no click on
        // anything this notifier shows can pass unseen.
        let rule = MatchRule::builder()
            .msg_type(Type::Signal)
            .interface(INTERFACE)
            .and_then(|rule| rule.path(PATH))
            .map_err(|e| service(format!("cannot subscribe to notification signals: {e}")))?
            .build();
        let signals = MessageStream::for_match_rule(rule, &connection, None)
            .await
            .map_err(|e| service(format!("cannot subscribe to notification signals: {e}")))?;
        let capabilities: Vec<String> = call(&connection, "GetCapabilities", &()).await?;
        let owner: String = call_bus(&connection, "GetNameOwner", &SERVICE).await?;
        let bus: String = call_bus(&connection, "GetId", &()).await?;
        let mut saved = match &state_file {
            Some(path) => load(path).await,
            None => Saved::default(),
        };
        if saved.bus != bus || saved.server != owner {
            saved = Saved {
                bus,
                server: owner.clone(),
                shown: BTreeMap::new(),
            };
        }
        let (clicks, clicked) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            connection,
            actions: capabilities.iter().any(|c| c == "actions"),
            state_file,
            writing: tokio::sync::Mutex::new(()),
            render: Mutex::new(Render {
                locale,
                offset,
                names,
            }),
            state: Mutex::new(State {
                saved,
                unclaimed: VecDeque::new(),
                seq: 0,
                owner,
            }),
            clicks,
        });
        let listener = tokio::spawn(listen(Arc::clone(&shared), signals));
        Ok((Self { shared, listener }, clicked))
    }

    /// Whether the notification service shows action buttons. Without them a notification
    /// offers only a click on its body, which opens it.
    pub fn shows_actions(&self) -> bool {
        self.shared.actions
    }

    /// The language of the notifications shown from now on.
    pub fn set_locale(&self, locale: Locale) {
        lock(&self.shared.render).locale = locale;
    }

    /// The names of people and templates used from now on (the directory was synced).
    pub fn set_names(&self, names: Names) {
        lock(&self.shared.render).names = names;
    }

    /// Shows and retracts, in order. A notification shown again under the same
    /// [`NotificationId`] replaces the one on screen. Stops at the first failure.
    pub async fn deliver(&self, planned: &[Planned]) -> Result<(), NotifyError> {
        for item in planned {
            match item {
                Planned::Show(notification) => self.show(notification).await?,
                Planned::Retract(id) => self.retract(id).await?,
            }
        }
        Ok(())
    }

    async fn show(&self, notification: &Notification) -> Result<(), NotifyError> {
        let (summary, body, actions) = {
            let render = lock(&self.shared.render);
            let ctx = RenderContext {
                locale: render.locale,
                offset: render.offset,
                directory: &render.names,
            };
            let rendered = notification.render(&ctx);
            let actions = keyed_actions(&rendered.actions, self.shared.actions);
            (rendered.title, rendered.body, actions)
        };
        let (replaces, since) = {
            let state = lock(&self.shared.state);
            let replaces = state
                .saved
                .shown
                .get(&notification.id)
                .map_or(0, |s| s.server_id);
            (replaces, state.seq)
        };
        let flat: Vec<&str> = actions
            .iter()
            .flat_map(|(key, label, _)| [key.as_str(), label.as_str()])
            .collect();
        let hints = HashMap::from([
            ("urgency", Value::U8(urgency(notification))),
            ("category", Value::from(category(notification))),
            ("desktop-entry", Value::from(DESKTOP_ENTRY)),
        ]);
        let server_id: u32 = call(
            &self.shared.connection,
            "Notify",
            &(APP_NAME, replaces, "", &summary, &body, flat, hints, -1i32),
        )
        .await?;
        let shown = Shown {
            server_id,
            actions: actions
                .into_iter()
                .map(|(key, _, action)| (key, action))
                .collect(),
        };
        {
            let mut state = lock(&self.shared.state);
            // The server may have given a new id: then the old one is not this notification's.
            state.saved.shown.insert(notification.id.clone(), shown);
            // Signals about this id read while `Notify` was in flight are this notification's
            // (a fast click, or its closing); older ones were about an id before it.
            let (claimed, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut state.unclaimed)
                .into_iter()
                .partition(|(seq, signal)| *seq > since && signal.id() == server_id);
            state.unclaimed = rest.into();
            for (_, signal) in &claimed {
                apply(&mut state.saved, signal, &self.shared.clicks);
            }
        }
        self.shared.save().await
    }

    async fn retract(&self, id: &NotificationId) -> Result<(), NotifyError> {
        let server_id = lock(&self.shared.state)
            .saved
            .shown
            .get(id)
            .map(|s| s.server_id);
        let Some(server_id) = server_id else {
            // Never shown here, or already closed (by the person, or the server's timeout).
            return Ok(());
        };
        let closed = self
            .shared
            .connection
            .call_method(
                Some(SERVICE),
                PATH,
                Some(INTERFACE),
                "CloseNotification",
                &server_id,
            )
            .await;
        let closed = match closed {
            // The server answers an error for an id it no longer shows (closed while the app
            // was not running, say), and a service that is gone shows nothing: either way the
            // notification is no longer on screen, which is what a retraction wants.
            Ok(_) | Err(zbus::Error::MethodError(..) | zbus::Error::FDO(_)) => Ok(()),
            Err(e) => Err(failed("CloseNotification", e)),
        };
        lock(&self.shared.state).saved.shown.remove(id);
        self.shared.save().await?;
        closed
    }
}

impl Drop for DbusNotifier {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

impl Shared {
    /// Writes the state file, if there is one: a temporary file beside it, then a rename, so
    /// a crash leaves the old file or the new one, never half of one.
    async fn save(&self) -> Result<(), NotifyError> {
        let Some(path) = &self.state_file else {
            return Ok(());
        };
        let _one_writer = self.writing.lock().await;
        // Taken after the writer's lock, so the last write holds the latest state.
        let json = serde_json::to_vec_pretty(&lock(&self.state).saved)
            .map_err(|e| NotifyError::Io(std::io::Error::other(e)))?;
        let mut temp = path.clone().into_os_string();
        temp.push(".tmp");
        let temp = PathBuf::from(temp);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            tokio::fs::create_dir_all(dir).await?;
        }
        let mut file = tokio::fs::File::create(&temp).await?;
        tokio::io::AsyncWriteExt::write_all(&mut file, &json).await?;
        file.sync_all().await?;
        drop(file);
        tokio::fs::rename(&temp, path).await?;
        Ok(())
    }
}

/// Reads signals until the connection goes. A signal about a known id is acted on at once;
/// one about an unknown id waits for a `Notify` in flight to claim it.
async fn listen(shared: Arc<Shared>, mut signals: MessageStream) {
    while let Some(message) = signals.next().await {
        let Ok(message) = message else { continue };
        let header = message.header();
        let Some(sender) = header.sender().map(|s| s.to_string()) else {
            continue;
        };
        let signal = match header.member().map(|m| m.as_str()) {
            Some("ActionInvoked") => match message.body().deserialize::<(u32, String)>() {
                Ok((id, key)) => Signal::ActionInvoked { id, key },
                Err(_) => continue,
            },
            Some("NotificationClosed") => match message.body().deserialize::<(u32, u32)>() {
                Ok((id, _reason)) => Signal::Closed { id },
                Err(_) => continue,
            },
            _ => continue,
        };
        if sender != lock(&shared.state).owner {
            // The service may have been restarted; anyone else is not believed.
            let owner: Result<String, NotifyError> =
                call_bus(&shared.connection, "GetNameOwner", &SERVICE).await;
            match owner {
                Ok(owner) if owner == sender => lock(&shared.state).owner = owner,
                _ => continue,
            }
        }
        let changed = {
            let mut state = lock(&shared.state);
            state.seq += 1;
            let known = state
                .saved
                .shown
                .values()
                .any(|s| s.server_id == signal.id());
            if known {
                apply(&mut state.saved, &signal, &shared.clicks)
            } else {
                let seq = state.seq;
                state.unclaimed.push_back((seq, signal));
                if state.unclaimed.len() > MAX_UNCLAIMED {
                    state.unclaimed.pop_front();
                }
                false
            }
        };
        if changed {
            // A failed write only means a restart may try to close a closed notification.
            let _ = shared.save().await;
        }
    }
}

/// Acts on a signal about a notification this notifier knows: a click goes to the channel,
/// a closing forgets the notification. Returns whether the saved state changed.
fn apply(
    saved: &mut Saved,
    signal: &Signal,
    clicks: &mpsc::UnboundedSender<NotificationClick>,
) -> bool {
    let Some((id, shown)) = saved.shown.iter().find(|(_, s)| s.server_id == signal.id()) else {
        return false;
    };
    match signal {
        Signal::ActionInvoked { key, .. } => {
            if let Some(action) = shown.actions.get(key) {
                // Nobody listening any more is the app shutting down: nothing to do then.
                let _ = clicks.send(NotificationClick {
                    id: id.clone(),
                    action: action.clone(),
                });
            }
            false
        }
        Signal::Closed { .. } => {
            let id = id.clone();
            saved.shown.remove(&id);
            true
        }
    }
}

/// The D-Bus action keys, labels and actions of a notification: `default` (a click on the
/// body) opens, and, when the server shows buttons, one button per planned action.
fn keyed_actions(
    actions: &[(NotificationAction, String)],
    buttons: bool,
) -> Vec<(String, String, NotificationAction)> {
    let mut out = Vec::new();
    let opens = actions.iter().find(|(a, _)| {
        matches!(
            a,
            NotificationAction::Open { .. }
                | NotificationAction::OpenMeeting { .. }
                | NotificationAction::OpenInbox
        )
    });
    if let Some((action, label)) = opens {
        out.push((DEFAULT_KEY.to_owned(), label.clone(), action.clone()));
    }
    if buttons {
        for (action, label) in actions {
            out.push((key(action).to_owned(), label.clone(), action.clone()));
        }
    }
    out
}

fn key(action: &NotificationAction) -> &'static str {
    match action {
        NotificationAction::Approve { .. } => "approve",
        NotificationAction::Reject { .. } => "reject",
        NotificationAction::Open { .. } => "open",
        NotificationAction::OpenMeeting { .. } => "open-meeting",
        NotificationAction::Rsvp { answer, .. } => match answer {
            countersign_domain::meetings::Rsvp::Accept => "accept",
            countersign_domain::meetings::Rsvp::Tentative => "tentative",
            countersign_domain::meetings::Rsvp::Decline => "decline",
        },
        NotificationAction::OpenInbox => "open-inbox",
    }
}

/// The spec's urgency byte: critical (2) for what is overdue, normal (1) otherwise.
fn urgency(notification: &Notification) -> u8 {
    match &notification.kind {
        NotificationKind::Overdue { .. }
        | NotificationKind::PendingApproval { overdue: true, .. } => 2,
        _ => 1,
    }
}

/// A vendor category (the spec's `x-vendor.class` form), for servers that group by it.
fn category(notification: &Notification) -> &'static str {
    match &notification.kind {
        NotificationKind::PendingApproval { .. } | NotificationKind::CatchUp { .. } => {
            "x-countersign.approval"
        }
        NotificationKind::Overdue { .. } => "x-countersign.overdue",
        NotificationKind::Outcome { .. } => "x-countersign.outcome",
        NotificationKind::MeetingInvite { .. }
        | NotificationKind::MeetingChanged { .. }
        | NotificationKind::MeetingCancelled { .. }
        | NotificationKind::MeetingReminder { .. } => "x-countersign.meeting",
        NotificationKind::ActionRefused { .. } => "x-countersign.refused",
        NotificationKind::DecisionApplied { .. } => "x-countersign.done",
    }
}

/// Calls a method of the notification service.
async fn call<B, R>(connection: &Connection, method: &str, body: &B) -> Result<R, NotifyError>
where
    B: serde::Serialize + zbus::zvariant::DynamicType,
    R: for<'d> Deserialize<'d> + zbus::zvariant::Type,
{
    let reply = connection
        .call_method(Some(SERVICE), PATH, Some(INTERFACE), method, body)
        .await
        .map_err(|e| failed(method, e))?;
    reply.body().deserialize::<R>().map_err(|e| {
        service(format!(
            "the notification service answered {method} oddly: {e}"
        ))
    })
}

/// Calls a method of the bus itself.
async fn call_bus<B, R>(connection: &Connection, method: &str, body: &B) -> Result<R, NotifyError>
where
    B: serde::Serialize + zbus::zvariant::DynamicType,
    R: for<'d> Deserialize<'d> + zbus::zvariant::Type,
{
    let reply = connection
        .call_method(Some(BUS), BUS_PATH, Some(BUS), method, body)
        .await
        .map_err(|e| failed(method, e))?;
    reply
        .body()
        .deserialize::<R>()
        .map_err(|e| service(format!("the bus answered {method} oddly: {e}")))
}

fn failed(method: &str, error: zbus::Error) -> NotifyError {
    // The bus's "nobody owns that name" arrives as a method error named by the bus, or
    // already mapped to its `fdo` variant, depending on the path through zbus.
    let unknown = match &error {
        zbus::Error::FDO(e) => matches!(
            **e,
            zbus::fdo::Error::ServiceUnknown(_) | zbus::fdo::Error::NameHasNoOwner(_)
        ),
        zbus::Error::MethodError(name, ..) => matches!(
            name.as_str(),
            "org.freedesktop.DBus.Error.ServiceUnknown"
                | "org.freedesktop.DBus.Error.NameHasNoOwner"
        ),
        _ => false,
    };
    if unknown {
        service(format!(
            "no notification service is running on the session bus ({SERVICE}): {error}"
        ))
    } else {
        service(format!("{method} failed: {error}"))
    }
}

fn service(message: String) -> NotifyError {
    NotifyError::Service(message)
}

/// The state file's contents; a missing or unreadable file is an empty state (at worst a
/// notification from before stays on screen until the person closes it).
async fn load(path: &Path) -> Saved {
    match tokio::fs::read(path).await {
        Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_default(),
        Err(_) => Saved::default(),
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[test]
    fn body_click_opens_and_buttons_follow_the_plan() {
        let request = Uuid::from_u128(7);
        let planned = [
            (
                NotificationAction::Approve {
                    request,
                    task: 1,
                    version: 3,
                },
                "Approve".to_owned(),
            ),
            (NotificationAction::Open { request }, "Open".to_owned()),
        ];
        let keys = |buttons| {
            keyed_actions(&planned, buttons)
                .into_iter()
                .map(|(k, l, _)| format!("{k}={l}"))
                .collect::<Vec<_>>()
        };
        assert_eq!(keys(true), ["default=Open", "approve=Approve", "open=Open"]);
        // A server without buttons still opens the request on a click on the body.
        assert_eq!(keys(false), ["default=Open"]);
    }
}
