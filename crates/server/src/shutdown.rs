//! The server stopping, as a signal everything long-lived can wait on: open event streams end
//! (so graceful shutdown is not held open by clients that never hang up), the replica
//! listener and the job scheduler stop.

use tokio::sync::watch;

/// Cloned freely; every clone sees the same trigger. Once triggered it stays triggered, so
/// something that starts waiting afterwards stops at once.
#[derive(Debug, Clone)]
pub struct Shutdown {
    sender: std::sync::Arc<watch::Sender<bool>>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Self {
            sender: std::sync::Arc::new(watch::Sender::new(false)),
        }
    }
}

impl Shutdown {
    /// Starts the shutdown. Idempotent.
    pub fn trigger(&self) {
        self.sender.send_replace(true);
    }

    pub fn is_triggered(&self) -> bool {
        *self.sender.borrow()
    }

    /// Resolves once the shutdown has started (at once if it already has).
    pub async fn triggered(&self) {
        let mut receiver = self.sender.subscribe();
        // The sender lives in `self`, so the channel cannot close while this waits.
        let _ = receiver.wait_for(|stopping| *stopping).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_waiter_that_comes_late_still_stops() {
        let shutdown = Shutdown::default();
        let early = tokio::spawn({
            let s = shutdown.clone();
            async move { s.triggered().await }
        });
        assert!(!shutdown.is_triggered());
        shutdown.trigger();
        early.await.unwrap();
        tokio::time::timeout(std::time::Duration::from_secs(1), shutdown.triggered())
            .await
            .expect("already triggered: resolves at once");
    }
}
