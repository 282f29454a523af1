//! Where the XDG notification service is not available to the app (Windows, for now): no
//! native notifications; the tray and the window still show everything. Same interface as
//! notifications.rs, so the rest of the app does not care.

use countersign_client::notify::{NotifyError, Planned};
use countersign_client::{Client, ClientError, OutboxItem};
use tauri::AppHandle;
use uuid::Uuid;

pub struct Notifications;

impl Notifications {
    pub async fn connect(_client: &Client) -> Result<Self, NotifyError> {
        Err(NotifyError::Service(
            "native notifications are not available on this system yet".into(),
        ))
    }

    pub fn listen(&self, _app: AppHandle) {}

    pub async fn deliver(&self, _: &Client, _: &[Planned]) -> Result<(), NotifyError> {
        Ok(())
    }

    pub async fn confirm(&self, _: &Client, _: &OutboxItem, _: &str) -> Result<(), NotifyError> {
        Ok(())
    }

    pub async fn refused(
        &self,
        _: &Client,
        _: Uuid,
        _: &str,
        _: &ClientError,
    ) -> Result<(), NotifyError> {
        Ok(())
    }
}
