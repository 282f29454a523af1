//! The one state every handler shares, and the preparation a fresh store needs before the
//! server serves from it.

use std::sync::Arc;

use countersign_domain::calendar::WorkingCalendar;

use crate::clock::Clock;
use crate::events::EventHub;
use crate::requests::KeptOrg;
use crate::settings::Settings;
use crate::shutdown::Shutdown;
use crate::store::{Store, StoreError};
use crate::templates::TemplateVersions;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub settings: Arc<Settings>,
    /// The working-day calendar SLAs and leave days are counted on: the shipped mainland
    /// China calendar plus any years from `calendar_file`.
    pub calendar: Arc<WorkingCalendar>,
    /// Live-event fan-out to open event streams.
    pub events: Arc<EventHub>,
    /// Triggered when the server starts to stop: event streams end, background work stops.
    pub shutdown: Shutdown,
    /// Published template versions read so far (they never change).
    pub template_versions: Arc<TemplateVersions>,
    /// The organisation as routing last read it.
    pub kept_org: Arc<KeptOrg>,
}

/// Why the server could not get ready.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("calendar: {0}")]
    Calendar(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AppState {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        settings: Settings,
    ) -> Result<Self, StartError> {
        let mut calendar = WorkingCalendar::cn_mainland()
            .map_err(|e| StartError::Calendar(format!("the shipped calendar is unusable: {e}")))?;
        if let Some(path) = &settings.calendar_file {
            let json = std::fs::read_to_string(path).map_err(|e| {
                StartError::Calendar(format!("cannot read {}: {e}", path.display()))
            })?;
            calendar
                .add_years_from_json(&json)
                .map_err(|e| StartError::Calendar(format!("{}: {e}", path.display())))?;
        }
        Ok(Self {
            store,
            clock,
            settings: Arc::new(settings),
            calendar: Arc::new(calendar),
            events: Arc::new(EventHub::default()),
            shutdown: Shutdown::default(),
            template_versions: Arc::default(),
            kept_org: Arc::default(),
        })
    }

    /// Makes a store ready to serve: the template library is published (S7) and the server
    /// has its identity for sync cursors. Safe to run at every start.
    pub async fn prepare(&self) -> Result<(), StartError> {
        crate::templates::publish_library(self).await?;
        crate::sync::server_id(self.store.as_ref()).await?;
        Ok(())
    }
}
