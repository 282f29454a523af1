//! The in-process hub for live events: a committed write announces which feeds grew, and
//! every open event stream of those people hears it and tells its client to pull.

use tokio::sync::broadcast;

use crate::store::FeedNotice;

/// Enough for bursts; a stream that falls this far behind just pulls once and catches up.
const CAPACITY: usize = 1024;

#[derive(Debug)]
pub struct EventHub {
    sender: broadcast::Sender<FeedNotice>,
}

impl Default for EventHub {
    fn default() -> Self {
        let (sender, _) = broadcast::channel(CAPACITY);
        Self { sender }
    }
}

impl EventHub {
    /// Announces a committed write. Nobody listening is fine.
    pub fn publish(&self, notice: FeedNotice) {
        if !notice.is_empty() {
            let _ = self.sender.send(notice);
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<FeedNotice> {
        self.sender.subscribe()
    }
}
