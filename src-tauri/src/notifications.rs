//! Native notifications (D4, D5): what the client's planner planned, shown through the
//! desktop's notification service with its actions; a click comes back as a [`Choice`] and
//! goes down the same path as the window's buttons. On Linux this is the XDG notification
//! service over D-Bus (the client's `DbusNotifier`, which subscribes to clicks before it
//! shows anything, so a fast click is never lost).

use chrono::{FixedOffset, Local, Offset};
use countersign_client::notify::{self, NotifyError, Planned};
use countersign_client::{Client, ClientError, DbusNotifier, NotificationClick, OutboxItem};
use tauri::AppHandle;
use tokio::sync::{Mutex, mpsc};
use uuid::Uuid;

use crate::background::{self, Choice};

pub struct Notifications {
    notifier: DbusNotifier,
    clicks: Mutex<Option<mpsc::UnboundedReceiver<NotificationClick>>>,
}

/// The person's UTC offset now, for times in notification texts.
fn offset() -> FixedOffset {
    Local::now().offset().fix()
}

impl Notifications {
    /// Connects to the session's notification service, with the profile's record of what is
    /// on screen (so a restart can still take back what the previous run showed).
    pub async fn connect(client: &Client) -> Result<Self, NotifyError> {
        let state_file = crate::profile_dir().map(|p| p.path().join("notifications-shown.json"));
        let names = client.notification_names().await.unwrap_or_default();
        let (notifier, clicks) =
            DbusNotifier::connect(client.locale().await, offset(), names, state_file).await?;
        if !notifier.shows_actions() {
            tracing::info!("the notification service shows no buttons; clicks open the request");
        }
        Ok(Self {
            notifier,
            clicks: Mutex::new(Some(clicks)),
        })
    }

    /// Routes clicks to the app (once; later calls do nothing).
    pub fn listen(&self, app: AppHandle) {
        let Ok(mut slot) = self.clicks.try_lock() else {
            return;
        };
        let Some(mut clicks) = slot.take() else {
            return;
        };
        tauri::async_runtime::spawn(async move {
            while let Some(click) = clicks.recv().await {
                tracing::info!(notification = %click.id.as_str(), "notification action");
                if let Some(choice) = Choice::of(&click.action) {
                    background::choose(&app, choice).await;
                }
            }
        });
    }

    /// Shows and retracts, in the person's language and with the directory as synced.
    pub async fn deliver(&self, client: &Client, planned: &[Planned]) -> Result<(), NotifyError> {
        self.notifier.set_locale(client.locale().await);
        if let Ok(names) = client.notification_names().await {
            self.notifier.set_names(names);
        }
        self.notifier.deliver(planned).await
    }

    /// A decision taken from a notification or the tray was answered: say how it ended.
    pub async fn confirm(
        &self,
        client: &Client,
        item: &OutboxItem,
        title: &str,
    ) -> Result<(), NotifyError> {
        let reason = item.reason.as_ref().map(|r| r.message.clone());
        let notification =
            notify::decision_answered(item.request_id, &item.action, title.to_owned(), reason);
        self.deliver(client, &[Planned::Show(notification)]).await
    }

    /// A choice from a notification could not be carried out (decided elsewhere, say).
    pub async fn refused(
        &self,
        client: &Client,
        request: Uuid,
        title: &str,
        err: &ClientError,
    ) -> Result<(), NotifyError> {
        let notification = notify::action_refused(request, title.to_owned(), err.message.clone());
        self.deliver(client, &[Planned::Show(notification)]).await
    }
}
