//! What the app does while nobody looks at it: keep the device in step with the server (the
//! client's watch loop), show and retract notifications, keep the tray's count and newest
//! items current, tell the window when its lists changed, and carry out what the person
//! chose from a notification or the tray — through the same client calls as the window.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::Utc;
use countersign_client::notify::{NotificationAction, Planned};
use countersign_client::{
    Act, Client, ClientError, InboxQuery, OutboxItem, SessionView, SyncStatus, WatchEvent,
};
use countersign_domain::meetings::Rsvp;
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Emitter, Manager};
use tokio::sync::{Mutex, mpsc, oneshot};
use uuid::Uuid;

use crate::Core;
use crate::notifications::Notifications;
use crate::tray;

/// Events the window listens to.
pub const CHANGED: &str = "countersign://changed";
pub const OPEN_REQUEST: &str = "countersign://open-request";
pub const SESSION_ENDED: &str = "countersign://session-ended";
/// The signed-in person as the server now describes them (a new name, other roles): the
/// window started on the identity this device remembered.
pub const SESSION_CHANGED: &str = "countersign://session-changed";
/// Files were dropped on the window (their names and where; the paths stay in Rust).
pub const FILES_DROPPED: &str = "countersign://files-dropped";

/// The request to show, and whether to go straight to rejecting it (Reject from a
/// notification or the tray needs a reason, which only the window can ask for); or the
/// meeting to show.
#[derive(Debug, Clone, Default, Serialize, Deserialize, specta::Type)]
pub struct OpenRequest {
    pub id: Option<Uuid>,
    pub reject: bool,
    /// A meeting to show instead of a request (an invitation's Open, a meeting link).
    pub meeting: Option<Uuid>,
    /// Set when the link could not be read: the window says so.
    pub problem: Option<String>,
}

/// The background's state, managed by Tauri.
#[derive(Default)]
pub struct Background {
    running: Mutex<Option<oneshot::Sender<()>>>,
    paused: AtomicBool,
    /// Decisions made from a notification or the tray, by outbox id, with the request's
    /// title: the app confirms each outcome once the server answered.
    awaiting: std::sync::Mutex<HashMap<Uuid, String>>,
    notifications: Mutex<Option<Arc<Notifications>>>,
    /// What a notification, the tray or a link asked the window to show, until the window
    /// takes it: the link that started the app arrives before the window listens.
    opened: std::sync::Mutex<Option<OpenRequest>>,
    /// The window painted its first screen, or the app started without one (in the tray).
    window_ready: Once,
}

/// How long whole-cache work waits for the window's first paint before it starts anyway (a
/// window whose inbox could not be shown never reports one).
const WINDOW_READY_AT_MOST: std::time::Duration = std::time::Duration::from_secs(20);

/// Something that happens once, and whoever waits for it, before or after.
#[derive(Default)]
struct Once {
    happened: AtomicBool,
    now: tokio::sync::Notify,
}

impl Once {
    fn set(&self) {
        self.happened.store(true, Ordering::SeqCst);
        self.now.notify_waiters();
    }

    async fn wait(&self) {
        loop {
            // Made before the flag is read: a `set` between the two still wakes it.
            let notified = self.now.notified();
            if self.happened.load(Ordering::SeqCst) {
                return;
            }
            notified.await;
        }
    }
}

/// The window has painted its first screen, or the app started without a window: work that
/// reads the whole cache may start now without slowing the first paint down.
pub fn window_ready(app: &AppHandle) {
    state(app).window_ready.set();
}

/// Waits until [`window_ready`], or [`WINDOW_READY_AT_MOST`].
async fn until_window_ready(app: &AppHandle) {
    let background = state(app);
    let _ = tokio::time::timeout(WINDOW_READY_AT_MOST, background.window_ready.wait()).await;
}

fn state(app: &AppHandle) -> tauri::State<'_, Background> {
    app.state::<Background>()
}

/// Starts or stops following the server as the session says.
pub fn follow(app: &AppHandle, session: &SessionView) {
    let app = app.clone();
    let signed_in = matches!(session, SessionView::SignedIn { .. });
    tauri::async_runtime::spawn(async move {
        if signed_in {
            start(&app).await;
        } else {
            stop(&app).await;
        }
    });
}

async fn start(app: &AppHandle) {
    let Ok(client) = app.state::<Core>().client_arc() else {
        return;
    };
    let background = state(app);
    let mut running = background.running.lock().await;
    if running.is_some() {
        return;
    }
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    *running = Some(stop_tx);
    drop(running);
    let notifications = notifications(app).await;
    if let Some(n) = &notifications {
        n.listen(app.clone());
    }
    refresh(app).await;
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let (events, mut received) = mpsc::unbounded_channel::<WatchEvent>();
        let watcher = {
            let client = client.clone();
            tauri::async_runtime::spawn(async move {
                client
                    .watch(
                        Utc::now,
                        move |event| {
                            let _ = events.send(event);
                        },
                        async move {
                            let _ = stop_rx.await;
                        },
                    )
                    .await
            })
        };
        let mut checked = false;
        while let Some(event) = received.recv().await {
            match event {
                WatchEvent::Synced(report) => on_synced(&app, report.notifications).await,
                WatchEvent::Offline(err) => {
                    tracing::info!(error = %err, "offline; will retry");
                    let _ = app.emit(CHANGED, ());
                }
                WatchEvent::Live => {
                    tracing::info!("live updates on");
                    // Once in step and the window has painted: the whole-cache check reads
                    // every page, and on two cores it held the first paint back by up to
                    // half a second.
                    if !checked {
                        checked = true;
                        let client = client.clone();
                        let app = app.clone();
                        tauri::async_runtime::spawn(async move {
                            until_window_ready(&app).await;
                            match client.check_cache(Utc::now()).await {
                                Ok(None) => {}
                                Ok(Some(damage)) => tracing::error!(
                                    %damage,
                                    "the offline cache is damaged; it is rebuilt at the next start"
                                ),
                                Err(err) => tracing::warn!(error = %err, "cache check"),
                            }
                        });
                    }
                }
                WatchEvent::Reminders(planned) => on_synced(&app, planned).await,
            }
        }
        match watcher.await {
            Ok(Err(err)) => {
                tracing::warn!(error = %err, "the sign-in ended");
                *state(&app).running.lock().await = None;
                tray::signed_out(&app);
                let _ = app.emit(SESSION_ENDED, err);
            }
            Ok(Ok(())) => {}
            Err(err) => tracing::error!(error = %err, "the sync loop failed"),
        }
    });
}

/// Asks the server who is signed in, after a restore that answered from memory, and tells the
/// window when that changed. Failures say nothing here: offline is the sync status's to show,
/// and an ended session is the sync loop's.
pub fn refresh_identity(app: &AppHandle, client: Arc<Client>, session: &SessionView) {
    let SessionView::SignedIn {
        me: known, server, ..
    } = session
    else {
        return;
    };
    let (app, known, server) = (app.clone(), known.clone(), server.clone());
    tauri::async_runtime::spawn(async move {
        match client.me().await {
            Ok(me) if me != known => {
                let fresh = SessionView::SignedIn {
                    me,
                    server,
                    offline: false,
                };
                let _ = app.emit(SESSION_CHANGED, fresh);
            }
            Ok(_) => {}
            Err(err) => tracing::info!(error = %err, "identity not refreshed"),
        }
    });
}

/// Stops following (signing out, quitting).
pub async fn stop(app: &AppHandle) {
    if let Some(stop) = state(app).running.lock().await.take() {
        let _ = stop.send(());
    }
    tray::signed_out(app);
}

pub fn paused(app: &AppHandle) -> bool {
    state(app).paused.load(Ordering::Relaxed)
}

pub async fn set_paused(app: &AppHandle, paused: bool) {
    state(app).paused.store(paused, Ordering::Relaxed);
    refresh(app).await;
}

/// The desktop notifier, connected on first use; `None` when the system has no
/// notification service (the tray and the window still show everything).
async fn notifications(app: &AppHandle) -> Option<Arc<Notifications>> {
    let background = state(app);
    let mut slot = background.notifications.lock().await;
    if slot.is_none() {
        let client = app.state::<Core>().client_arc().ok()?;
        match Notifications::connect(&client).await {
            Ok(n) => *slot = Some(Arc::new(n)),
            Err(err) => tracing::warn!(error = %err, "no desktop notifications"),
        }
    }
    slot.clone()
}

/// After every sync: show what the planner planned, confirm decisions taken from a
/// notification, and refresh the tray and the window.
async fn on_synced(app: &AppHandle, planned: Vec<Planned>) {
    let Ok(client) = app.state::<Core>().client_arc() else {
        return;
    };
    let show = client.preferences().await.notifications && !paused(app);
    if let Some(notifications) = notifications(app).await {
        // Retractions go out even while paused: what was decided elsewhere must not linger.
        let planned: Vec<Planned> = planned
            .into_iter()
            .filter(|p| show || matches!(p, Planned::Retract(_)))
            .collect();
        if !planned.is_empty()
            && let Err(err) = notifications.deliver(&client, &planned).await
        {
            tracing::warn!(error = %err, "could not show notifications");
        }
        confirm_outcomes(app, &client, &notifications).await;
    }
    refresh(app).await;
}

/// Tells the person how decisions they took from a notification or the tray ended.
async fn confirm_outcomes(
    app: &AppHandle,
    client: &countersign_client::Client,
    notifications: &Notifications,
) {
    let awaited: Vec<(Uuid, String)> = {
        let background = state(app);
        let awaiting = background
            .awaiting
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        awaiting.iter().map(|(k, v)| (*k, v.clone())).collect()
    };
    if awaited.is_empty() {
        return;
    }
    let Ok(outbox) = client.outbox().await else {
        return;
    };
    for (id, title) in awaited {
        let Some(item) = outbox.iter().find(|i| i.id == id) else {
            continue;
        };
        if item.state == countersign_client::cache::OutboxState::Pending {
            continue;
        }
        state(app)
            .awaiting
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&id);
        if let Err(err) = notifications.confirm(client, item, &title).await {
            tracing::warn!(error = %err, "could not confirm a decision");
        }
    }
}

/// Refreshes the tray and tells the window its lists may have changed.
pub async fn refresh(app: &AppHandle) {
    let Ok(client) = app.state::<Core>().client_arc() else {
        return;
    };
    let newest = client
        .inbox_page(
            &InboxQuery {
                newest_first: true,
                limit: 5,
                ..InboxQuery::default()
            },
            Utc::now(),
        )
        .await;
    let zone =
        countersign_client::zone_or_system(None).unwrap_or(countersign_client::FALLBACK_TIME_ZONE);
    let invitations = client
        .unanswered_invitations(Utc::now(), zone, 5)
        .await
        .unwrap_or_else(|err| {
            tracing::debug!(error = %err, "no invitations for the tray");
            Vec::new()
        });
    match newest {
        Ok(page) => tray::update(app, &client, &page, &invitations, paused(app)).await,
        Err(err) => tracing::debug!(error = %err, "no inbox for the tray"),
    }
    let _ = app.emit(CHANGED, ());
}

/// Something changed here (a decision, a submission): send it now rather than at the next
/// hint, and refresh what shows it.
pub fn changed_here(app: &AppHandle) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let _ = sync_now(&app).await;
    });
}

/// One sync outside the watch loop's rhythm ("Sync now", after a decision).
pub async fn sync_now(app: &AppHandle) -> Result<SyncStatus, ClientError> {
    let client = app.state::<Core>().client_arc()?;
    // Lists first: the decision just made leaves the inbox at once, before the round trip.
    refresh(app).await;
    match client.sync(Utc::now()).await {
        Ok(report) => on_synced(app, report.notifications).await,
        Err(err) if err.ends_session() => {
            stop(app).await;
            let _ = app.emit(SESSION_ENDED, err.clone());
            return Err(err);
        }
        Err(err) => {
            tracing::info!(error = %err, "sync now: offline");
            refresh(app).await;
        }
    }
    client.sync_status().await
}

/// What the person chose from a notification or the tray.
#[derive(Debug, Clone, PartialEq)]
pub enum Choice {
    Approve {
        request: Uuid,
    },
    Reject {
        request: Uuid,
    },
    Open {
        request: Uuid,
    },
    /// Accept or Decline pressed on a meeting invitation.
    Rsvp {
        meeting: Uuid,
        answer: Rsvp,
    },
    OpenMeeting {
        meeting: Uuid,
    },
    OpenInbox,
}

impl Choice {
    pub fn of(action: &NotificationAction) -> Option<Self> {
        Some(match action {
            NotificationAction::Approve { request, .. } => Choice::Approve { request: *request },
            NotificationAction::Reject { request, .. } => Choice::Reject { request: *request },
            NotificationAction::Open { request } => Choice::Open { request: *request },
            NotificationAction::OpenInbox => Choice::OpenInbox,
            NotificationAction::Rsvp { meeting, answer } => Choice::Rsvp {
                meeting: *meeting,
                answer: *answer,
            },
            NotificationAction::OpenMeeting { meeting } => {
                Choice::OpenMeeting { meeting: *meeting }
            }
        })
    }
}

/// Carries out a choice: Approve goes down the same path as the window's button (queued,
/// sent at once when online, confirmed when answered); Reject and Open bring up the window.
pub async fn choose(app: &AppHandle, choice: Choice) {
    match choice {
        Choice::Approve { request } => approve(app, request).await,
        Choice::Reject { request } => open_request(app, Some(request), true),
        Choice::Open { request } => open_request(app, Some(request), false),
        Choice::Rsvp { meeting, answer } => rsvp(app, meeting, answer).await,
        Choice::OpenMeeting { meeting } => open_meeting(app, meeting),
        Choice::OpenInbox => crate::show_window(app),
    }
}

/// Queues the answer as `countersign rsvp` does and nudges a sync to send it. An answer
/// refused here (the meeting was cancelled meanwhile) opens the meeting, which says why.
async fn rsvp(app: &AppHandle, meeting: Uuid, answer: Rsvp) {
    let Ok(client) = app.state::<Core>().client_arc() else {
        return;
    };
    match client.rsvp(meeting, answer, None, Utc::now()).await {
        Ok(_) => changed_here(app),
        Err(err) => {
            tracing::info!(%meeting, error = %err, "answer from a notification refused");
            open_meeting(app, meeting);
        }
    }
}

async fn approve(app: &AppHandle, request: Uuid) {
    let Ok(client) = app.state::<Core>().client_arc() else {
        return;
    };
    let title = client
        .request(request)
        .await
        .map(|r| r.title)
        .unwrap_or_else(|_| request.to_string());
    let act = Act::Approve {
        comment: String::new(),
    };
    match client.act(request, act, Utc::now()).await {
        Ok(OutboxItem { id, .. }) => {
            state(app)
                .awaiting
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(id, title);
            changed_here(app);
        }
        Err(err) => {
            // Already decided elsewhere, or withdrawn: one clear follow-up notification that
            // replaces any earlier one for this request, never a dialog.
            tracing::info!(%request, error = %err, "approve from a notification refused");
            if let Some(n) = notifications(app).await
                && let Err(e) = n.refused(&client, request, &title, &err).await
            {
                tracing::warn!(error = %e, "could not say why");
            }
            refresh(app).await;
        }
    }
}

/// Shows the window on a request (or says why it cannot).
pub fn open_request(app: &AppHandle, id: Option<Uuid>, reject: bool) {
    ask_window(
        app,
        OpenRequest {
            id,
            reject,
            ..OpenRequest::default()
        },
    );
}

/// Shows the window on a meeting.
pub fn open_meeting(app: &AppHandle, meeting: Uuid) {
    ask_window(
        app,
        OpenRequest {
            meeting: Some(meeting),
            ..OpenRequest::default()
        },
    );
}

/// Keeps what the window is to show and nudges it; the window takes it with
/// [`take_opened`] (now if it listens, or as soon as it does).
fn ask_window(app: &AppHandle, request: OpenRequest) {
    crate::show_window(app);
    *state(app).opened.lock().unwrap_or_else(|p| p.into_inner()) = Some(request);
    let _ = app.emit(OPEN_REQUEST, ());
}

/// What waits to be shown, once.
pub fn take_opened(app: &AppHandle) -> Option<OpenRequest> {
    state(app)
        .opened
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take()
}

/// A `countersign://…` link from the system (a second launch, a browser, the first launch).
pub fn open_link(app: &AppHandle, link: &str) {
    match parse_link(link) {
        Ok(Link::Request(id)) => open_request(app, Some(id), false),
        Ok(Link::Meeting(id)) => open_meeting(app, id),
        Err(problem) => {
            tracing::info!(%link, %problem, "link not understood");
            ask_window(
                app,
                OpenRequest {
                    problem: Some(problem),
                    ..OpenRequest::default()
                },
            );
        }
    }
}

/// What a `countersign://` link names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    Request(Uuid),
    Meeting(Uuid),
}

/// `countersign://request/<id>` or `countersign://meeting/<id>` → what it names.
pub fn parse_link(link: &str) -> Result<Link, String> {
    let rest = link
        .strip_prefix("countersign://")
        .ok_or_else(|| format!("'{link}' is not a Countersign link."))?;
    let rest = rest.trim_end_matches('/');
    match rest.split_once('/') {
        Some(("request", id)) => Uuid::parse_str(id)
            .map(Link::Request)
            .map_err(|_| format!("'{id}' in the link is not a request number.")),
        Some(("meeting", id)) => Uuid::parse_str(id)
            .map(Link::Meeting)
            .map_err(|_| format!("'{id}' in the link is not a meeting number.")),
        _ => Err(format!(
            "Countersign cannot open '{link}': only links to a request (countersign://request/…) or a meeting (countersign://meeting/…) are understood."
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole-cache check waits for the window's first paint: whoever waits before it is
    /// woken by it, and whoever comes after does not wait at all.
    #[tokio::test]
    async fn once_wakes_who_waited_and_lets_latecomers_through() {
        let once = Arc::new(Once::default());
        let (waited, mut woken) = tokio::sync::oneshot::channel();
        let waiting = tokio::spawn({
            let once = once.clone();
            async move {
                once.wait().await;
                let _ = waited.send(());
            }
        });
        tokio::task::yield_now().await;
        assert!(woken.try_recv().is_err(), "woken before it happened");
        once.set();
        tokio::time::timeout(std::time::Duration::from_secs(5), waiting)
            .await
            .expect("woken by `set`")
            .unwrap();
        assert!(woken.try_recv().is_ok());
        // After the fact: no waiting.
        tokio::time::timeout(std::time::Duration::from_secs(5), once.wait())
            .await
            .expect("a wait after `set` returns at once");
    }

    #[test]
    fn request_links_are_read_and_others_refused_in_words() {
        let id = Uuid::now_v7();
        assert_eq!(
            parse_link(&format!("countersign://request/{id}")),
            Ok(Link::Request(id))
        );
        assert_eq!(
            parse_link(&format!("countersign://request/{id}/")),
            Ok(Link::Request(id))
        );
        assert_eq!(
            parse_link(&format!("countersign://meeting/{id}")),
            Ok(Link::Meeting(id))
        );
        let not_ours = parse_link("https://example.com/request/1").unwrap_err();
        assert!(not_ours.contains("not a Countersign link"), "{not_ours}");
        let bad_id = parse_link("countersign://request/12345").unwrap_err();
        assert!(bad_id.contains("not a request number"), "{bad_id}");
        let bad_meeting = parse_link("countersign://meeting/1").unwrap_err();
        assert!(
            bad_meeting.contains("not a meeting number"),
            "{bad_meeting}"
        );
        let other = parse_link("countersign://report/1").unwrap_err();
        assert!(other.contains("only links to a request"), "{other}");
    }
}
