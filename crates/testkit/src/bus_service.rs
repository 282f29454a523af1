//! What the test services on a private session bus (the notification server, the
//! StatusNotifierWatcher) share: a thread and runtime of their own, and a log that tests wait
//! on.
//!
//! Each service runs on its own thread because a test that blocks its own thread (waiting on
//! a child process, say) must not stall a service that child is calling; the app under test is
//! a separate process on the same bus.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::{oneshot, watch};
use zbus::Connection;

/// What a service recorded, with a signal that wakes waiters on every change.
pub(crate) struct Recorded<L> {
    log: Mutex<L>,
    changed: watch::Sender<()>,
}

impl<L: Default> Recorded<L> {
    pub(crate) fn new() -> Self {
        Self {
            log: Mutex::new(L::default()),
            changed: watch::channel(()).0,
        }
    }
}

impl<L> Recorded<L> {
    pub(crate) fn log(&self) -> MutexGuard<'_, L> {
        self.log.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every change goes through here, so that waiters see it.
    pub(crate) fn update<T>(&self, change: impl FnOnce(&mut L) -> T) -> T {
        let out = change(&mut self.log());
        self.changed.send_replace(());
        out
    }

    /// Awaits the first time `check` finds what it looks for, re-checking on every change.
    /// Panics after `within` with `description` and `seen` (what the log held then).
    pub(crate) async fn wait_for<T>(
        &self,
        within: Duration,
        description: &str,
        mut check: impl FnMut(&L) -> Option<T>,
        seen: impl FnOnce(&L) -> String,
    ) -> T {
        let deadline = tokio::time::Instant::now() + within;
        let mut changed = self.changed.subscribe();
        loop {
            // Marked seen before the check, so a change during the check wakes the next wait.
            changed.borrow_and_update();
            if let Some(found) = check(&self.log()) {
                return found;
            }
            if tokio::time::timeout_at(deadline, changed.changed())
                .await
                .is_err()
            {
                panic!("waited {within:?} for {description}; {}", seen(&self.log()));
            }
        }
    }
}

/// A service's thread: it connects, owns its name, serves until dropped, then releases the
/// name (the drop waits for the bus to confirm, so the next service can own it at once).
pub(crate) struct ServiceThread {
    pub(crate) connection: Connection,
    runtime: tokio::runtime::Handle,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// A served connection and the helper tasks to stop with it.
pub(crate) type Served = (Connection, Vec<tokio::task::JoinHandle<()>>);

impl ServiceThread {
    /// Runs `serve` on a new thread named `thread` and returns once it answered; `name` is
    /// the bus name released when the service stops.
    pub(crate) async fn start<F, Fut>(
        thread: &str,
        name: &'static str,
        serve: F,
    ) -> Result<Self, String>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<Served, String>>,
    {
        let (ready_tx, ready_rx) = oneshot::channel();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(thread.to_owned())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a test service's runtime");
                runtime.block_on(async move {
                    let (connection, tasks) = match serve().await {
                        Ok(served) => served,
                        Err(why) => {
                            let _ = ready_tx.send(Err(why));
                            return;
                        }
                    };
                    let handle = tokio::runtime::Handle::current();
                    let _ = ready_tx.send(Ok((connection.clone(), handle)));
                    // Also ends when the service is dropped without a word (a panicking test).
                    let _ = stop_rx.await;
                    for task in tasks {
                        task.abort();
                    }
                    let _ = connection.release_name(name).await;
                });
            })
            .expect("start a test service's thread");
        let (connection, runtime) = match ready_rx.await {
            Ok(Ok(ready)) => ready,
            Ok(Err(why)) => return Err(why),
            Err(_) => return Err("the service's thread died while starting".to_owned()),
        };
        Ok(Self {
            connection,
            runtime,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// Runs `work` on the service's runtime, which keeps running whatever the caller's does.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        work: impl Future<Output = T> + Send + 'static,
    ) -> T {
        self.runtime
            .spawn(work)
            .await
            .expect("the test service's runtime is running")
    }
}

impl Drop for ServiceThread {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        // The thread needs nothing from the caller's runtime, so joining cannot deadlock.
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
