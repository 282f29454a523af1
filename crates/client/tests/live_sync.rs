//! Live sync against the real server: a change made elsewhere reaches a watching client by
//! itself with its notification (and the notification is taken back when the task is decided
//! on another device); the watch rides out an outage and sends what waited; a revoked session
//! stops it with the reason.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use countersign_client::notify::{NotificationAction, NotificationKind, Planned};
use countersign_client::{
    Act, Client, ClientErrorCode, ClientOptions, InboxPage, InboxQuery, ProfileDir,
    SessionOnlyCredentials, WatchEvent,
};
use countersign_testkit::tuesday_morning;
use countersign_testkit::{FaultProxy, TestDb, TestServer};
use serde_json::json;
use tokio::sync::{mpsc, oneshot};

const PW: &str = countersign_server::seed::DEMO_PASSWORD;
/// How long to wait for something that should happen; only costs time when a test fails.
const WAIT: Duration = Duration::from_secs(20);

async fn demo() -> TestServer {
    let server = TestServer::start_at(TestDb::sqlite(), tuesday_morning()).await;
    server.seed_demo().await;
    server
}

fn client(dir: &std::path::Path) -> Arc<Client> {
    Arc::new(
        Client::open(
            ClientOptions {
                profile_dir: ProfileDir::new(dir),
                device_name: "test device".into(),
                os_locale: Some("en-US".into()),
                app_version: "9.9.9".into(),
                default_server: None,
            },
            Arc::new(SessionOnlyCredentials::default()),
        )
        .unwrap(),
    )
}

async fn signed_in(url: &str, dir: &std::path::Path, username: &str) -> Arc<Client> {
    let c = client(dir);
    c.sign_in(url, username, PW).await.unwrap();
    c.sync(tuesday_morning()).await.unwrap();
    c
}

/// An administrator ends every session of `username`, as a departure would.
async fn revoke_all_sessions(server: &TestServer, username: &str) {
    for session in server.sessions_of(username).await {
        server
            .state
            .store
            .revoke_session(session.id, "revoked_by_admin", tuesday_morning())
            .await
            .unwrap();
    }
}

/// A client watching in the background: its events arrive on `events`.
struct Watching {
    events: mpsc::UnboundedReceiver<String>,
    planned: mpsc::UnboundedReceiver<Planned>,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), countersign_client::ClientError>>,
}

impl Watching {
    fn start(c: Arc<Client>) -> Self {
        Self::start_with_clock(c, tuesday_morning)
    }

    fn start_with_clock(
        c: Arc<Client>,
        clock: impl Fn() -> chrono::DateTime<chrono::Utc> + Send + Sync + 'static,
    ) -> Self {
        let (events_tx, events) = mpsc::unbounded_channel();
        let (planned_tx, planned) = mpsc::unbounded_channel();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            c.watch(
                clock,
                move |event| {
                    let name = match event {
                        WatchEvent::Synced(report) => {
                            for p in report.notifications {
                                let _ = planned_tx.send(p);
                            }
                            "synced"
                        }
                        WatchEvent::Offline(_) => "offline",
                        WatchEvent::Live => "live",
                        WatchEvent::Reminders(planned) => {
                            for p in planned {
                                let _ = planned_tx.send(p);
                            }
                            "reminders"
                        }
                    };
                    let _ = events_tx.send(name.to_owned());
                },
                async move {
                    let _ = stopped.await;
                },
            )
            .await
        });
        Self {
            events,
            planned,
            stop: Some(stop),
            task,
        }
    }

    async fn until_event(&mut self, name: &str) {
        tokio::time::timeout(WAIT, async {
            while let Some(e) = self.events.recv().await {
                if e == name {
                    return;
                }
            }
            panic!("the watch ended before '{name}'");
        })
        .await
        .unwrap_or_else(|_| panic!("no '{name}' within {WAIT:?}"));
    }

    async fn until_planned(&mut self, what: impl Fn(&Planned) -> bool) -> Planned {
        tokio::time::timeout(WAIT, async {
            while let Some(p) = self.planned.recv().await {
                if what(&p) {
                    return p;
                }
            }
            panic!("the watch ended first");
        })
        .await
        .expect("the notification in time")
    }

    async fn stop(mut self) -> Result<(), countersign_client::ClientError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.await.unwrap()
    }
}

async fn submit_leave(c: &Client) -> uuid::Uuid {
    let now = tuesday_morning();
    let d = c.draft_new("leave", now).await.unwrap();
    c.draft_set(d.id, "leave_type", json!("annual"), now)
        .await
        .unwrap();
    c.draft_set(d.id, "reason", json!("family visit"), now)
        .await
        .unwrap();
    c.draft_set(
        d.id,
        "period",
        json!({"start": "2026-12-07", "end": "2026-12-08"}),
        now,
    )
    .await
    .unwrap();
    let queued = c.submit_draft(d.id, now).await.unwrap();
    c.sync(now).await.unwrap();
    queued.request_id
}

#[tokio::test]
async fn a_change_made_elsewhere_arrives_by_itself_and_its_notification_is_taken_back() {
    let server = demo().await;
    let (d1, d2, d3) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let jiang = signed_in(&server.url(), d1.path(), "jiang.tao").await;
    let mut watching = Watching::start(jiang.clone());
    watching.until_event("live").await;

    let shen = signed_in(&server.url(), d2.path(), "shen.yue").await;
    let request = submit_leave(&shen).await;
    let shown = watching
        .until_planned(|p| {
            matches!(p, Planned::Show(n) if matches!(&n.kind, NotificationKind::PendingApproval { request: r, .. } if r.id == request))
        })
        .await;
    let Planned::Show(notification) = shown else {
        unreachable!()
    };
    assert!(
        matches!(
            notification.actions.as_slice(),
            [
                NotificationAction::Approve { .. },
                NotificationAction::Reject { .. },
                NotificationAction::Open { .. }
            ]
        ),
        "leave may be approved from the notification, as the template synced earlier says: {:?}",
        notification.actions
    );
    assert_eq!(
        jiang.inbox().await.unwrap().len(),
        1,
        "the cache has it too"
    );

    // He approves on his phone (another device): the desktop takes the notification back.
    let phone = signed_in(&server.url(), d3.path(), "jiang.tao").await;
    phone
        .act(
            request,
            Act::Approve {
                comment: String::new(),
            },
            tuesday_morning(),
        )
        .await
        .unwrap();
    phone.sync(tuesday_morning()).await.unwrap();
    watching
        .until_planned(|p| matches!(p, Planned::Retract(id) if *id == notification.id))
        .await;
    assert!(jiang.inbox().await.unwrap().is_empty());
    watching.stop().await.unwrap();
}

async fn submit_trip(c: &Client, cost: &str) -> uuid::Uuid {
    let now = tuesday_morning();
    let d = c.draft_new("business_trip", now).await.unwrap();
    let fields = [
        ("destination", json!("Chengdu")),
        (
            "period",
            json!({"start": "2026-12-07", "end": "2026-12-08"}),
        ),
        ("transport", json!(["train"])),
        ("purpose", json!("client visit")),
        ("estimated_cost", json!({"amount": cost, "currency": "CNY"})),
    ];
    for (field, value) in fields {
        c.draft_set(d.id, field, value, now).await.unwrap();
    }
    let queued = c.submit_draft(d.id, now).await.unwrap();
    c.sync(now).await.unwrap();
    queued.request_id
}

#[tokio::test]
async fn a_first_download_offers_approve_where_the_template_allows_it() {
    let server = demo().await;
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let shen = signed_in(&server.url(), d2.path(), "shen.yue").await;
    let leave = submit_leave(&shen).await;
    let trip = submit_trip(&shen, "8000.00").await;

    // Jiang's first sync brings the templates and the requests together; the tasks waiting
    // for him are shown when it ends, each judged on its own template version.
    let jiang = client(d1.path());
    jiang.sign_in(&server.url(), "jiang.tao", PW).await.unwrap();
    let report = jiang.sync(tuesday_morning()).await.unwrap();
    let offered = |request: uuid::Uuid| {
        report
            .notifications
            .iter()
            .find_map(|p| match p {
                Planned::Show(n) if matches!(&n.kind, NotificationKind::PendingApproval { request: r, .. } if r.id == request) => {
                    Some(n.actions.len())
                }
                _ => None,
            })
            .unwrap_or_else(|| panic!("no pending notice for {request}: {:#?}", report.notifications))
    };
    assert_eq!(offered(leave), 3, "leave: Approve, Reject, Open");
    assert_eq!(
        offered(trip),
        1,
        "a CNY 8,000 trip is opened before it is decided: Open only"
    );
}

#[tokio::test]
async fn a_notification_shown_before_an_upgrade_is_still_taken_back_after_it() {
    let server = demo().await;
    let (d1, d2, d3) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let now = tuesday_morning();
    let jiang = signed_in(&server.url(), d1.path(), "jiang.tao").await;
    let shen = signed_in(&server.url(), d2.path(), "shen.yue").await;
    let request = submit_leave(&shen).await;
    let report = jiang.sync(now).await.unwrap();
    let shown = report
        .notifications
        .iter()
        .find_map(|p| match p {
            Planned::Show(n) if matches!(&n.kind, NotificationKind::PendingApproval { request: r, .. } if r.id == request) => {
                Some(n.id.clone())
            }
            _ => None,
        })
        .expect("the pending approval is shown");
    jiang.close().await.unwrap();

    // Take the cache back to how the version before kept what was said: one body with every
    // request's notes inside, no table of them.
    {
        let mut conn = common::cache_file_connection(d1.path()).await;
        sqlx::query(
            "UPDATE notified SET body = json_set(body, '$.requests', \
             (SELECT json_group_object(request, json(body)) FROM request_notes)) \
             WHERE key = 'record'",
        )
        .execute(&mut conn)
        .await
        .unwrap();
        common::take_cache_back_to(&mut conn, 8).await;
        let body: String = sqlx::query_scalar("SELECT body FROM notified WHERE key = 'record'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert!(
            body.contains(&request.to_string()),
            "the old record holds the request: {body}"
        );
    }

    // He approves on his phone. The upgraded desktop still knows it showed the task, so it
    // takes the notification back, and shows nothing new about it.
    let phone = signed_in(&server.url(), d3.path(), "jiang.tao").await;
    phone
        .act(
            request,
            Act::Approve {
                comment: String::new(),
            },
            now,
        )
        .await
        .unwrap();
    phone.sync(now).await.unwrap();
    let status = jiang.sync_status().await.unwrap();
    assert!(
        status.recovery.is_none(),
        "migrated, not rebuilt: {status:?}"
    );
    let report = jiang.sync(now).await.unwrap();
    assert_eq!(
        report.notifications,
        [Planned::Retract(shown)],
        "the shown notice is taken back, nothing else is said"
    );
}

#[tokio::test]
async fn the_watch_rides_out_an_outage_and_sends_what_waited() {
    let server = demo().await;
    let proxy = FaultProxy::start(server.addr).await;
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let shen = signed_in(&server.url(), d2.path(), "shen.yue").await;
    let request = submit_leave(&shen).await;
    let jiang = signed_in(&proxy.url(), d1.path(), "jiang.tao").await;
    let mut watching = Watching::start(jiang.clone());
    watching.until_event("live").await;

    proxy.offline().await;
    watching.until_event("offline").await;
    jiang
        .act(
            request,
            Act::Approve {
                comment: "enjoy".into(),
            },
            tuesday_morning(),
        )
        .await
        .unwrap();
    assert_eq!(jiang.sync_status().await.unwrap().outbox_pending, 1);

    proxy.online().await;
    watching.until_event("live").await;
    let status = jiang.sync_status().await.unwrap();
    assert_eq!(status.outbox_pending, 0, "sent on reconnection");
    assert!(status.online);
    shen.sync(tuesday_morning()).await.unwrap();
    let view = shen.request(request).await.unwrap();
    assert_eq!(
        serde_json::to_value(view.status).unwrap(),
        json!("approved")
    );
    watching.stop().await.unwrap();
}

#[tokio::test]
async fn a_revoked_session_stops_the_watch_with_the_reason() {
    let server = demo().await;
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let jiang = signed_in(&server.url(), d1.path(), "jiang.tao").await;
    let mut watching = Watching::start(jiang.clone());
    watching.until_event("live").await;

    // An administrator ends all of his sessions (as a departure would).
    revoke_all_sessions(&server, "jiang.tao").await;
    // Something changes for him: the hint makes the watch sync, which finds the session over.
    let shen = signed_in(&server.url(), d2.path(), "shen.yue").await;
    submit_leave(&shen).await;
    let ended = tokio::time::timeout(WAIT, watching.task)
        .await
        .expect("the watch stops by itself")
        .unwrap()
        .unwrap_err();
    assert_eq!(ended.code, ClientErrorCode::SessionRevoked, "{ended:?}");
}

/// A session the server ended leaves its person's cache open in the app; whoever signs in
/// next on that app must see their own inbox, never the previous person's.
#[tokio::test]
async fn after_a_revoked_session_the_next_person_signed_in_sees_their_own_inbox() {
    let server = demo().await;
    let (d1, d2, d3) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let now = tuesday_morning();
    let first_page = InboxQuery {
        limit: 100,
        ..InboxQuery::default()
    };
    let shen = signed_in(&server.url(), d2.path(), "shen.yue").await;
    let leave = submit_leave(&shen).await;
    let device = signed_in(&server.url(), d1.path(), "jiang.tao").await;
    device.sync(now).await.unwrap();
    let his = device.inbox_page(&first_page, now).await.unwrap();
    assert!(his.items.iter().any(|e| e.request_id == leave), "{his:?}");

    revoke_all_sessions(&server, "jiang.tao").await;
    let ended = device.sync(now).await.unwrap_err();
    assert_eq!(ended.code, ClientErrorCode::SessionRevoked, "{ended:?}");

    device.sign_in(&server.url(), "shen.yue", PW).await.unwrap();
    device.sync(now).await.unwrap();
    let hers = device.inbox_page(&first_page, now).await.unwrap();
    assert!(
        !hers.items.iter().any(|e| e.request_id == leave),
        "{hers:?}"
    );
    // What her own device shows, request for request.
    let elsewhere = signed_in(&server.url(), d3.path(), "shen.yue").await;
    let expected = elsewhere.inbox_page(&first_page, now).await.unwrap();
    let ids = |page: &InboxPage| page.items.iter().map(|e| e.request_id).collect::<Vec<_>>();
    assert_eq!(ids(&hers), ids(&expected));
    assert_eq!(hers.total, expected.total);
}

#[tokio::test]
async fn a_meeting_reminder_comes_due_between_syncs_without_one() {
    let server = demo().await;
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let jiang = signed_in(&server.url(), d1.path(), "jiang.tao").await;
    let shen = signed_in(&server.url(), d2.path(), "shen.yue").await;
    // Starts 15 minutes and 3 seconds after the clock's start: the reminder (15 minutes
    // before, the default) is due 3 seconds into the watch, with nothing to sync by then.
    let starts_at =
        tuesday_morning() + chrono::Duration::minutes(15) + chrono::Duration::seconds(3);
    let meeting = jiang
        .new_meeting(&countersign_client::MeetingForm {
            title: "站会".into(),
            starts_at,
            ends_at: starts_at + chrono::Duration::minutes(15),
            time_zone: "Asia/Shanghai".into(),
            place: Some("A 区".into()),
            invite: vec!["shen.yue".into()],
            ..Default::default()
        })
        .await
        .unwrap();
    shen.sync(tuesday_morning()).await.unwrap();
    assert_eq!(
        shen.meeting_reminders(tuesday_morning()).await.unwrap(),
        Vec::new(),
        "not due yet"
    );

    let started = std::time::Instant::now();
    let clock = move || {
        tuesday_morning() + chrono::Duration::from_std(started.elapsed()).unwrap_or_default()
    };
    let mut watching = Watching::start_with_clock(shen.clone(), clock);
    watching.until_event("live").await;
    watching.until_event("reminders").await;
    let reminded = watching
        .until_planned(|p| matches!(p, Planned::Show(n) if matches!(&n.kind, NotificationKind::MeetingReminder { meeting: m, .. } if *m == meeting.id)))
        .await;
    assert!(matches!(reminded, Planned::Show(_)));
    watching.stop().await.unwrap();
}
