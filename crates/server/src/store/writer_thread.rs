//! The thread the store's busiest write transactions run on: a decision's and an audited
//! read's.
//!
//! A transaction holds the write lock (SQLite's one writer, PostgreSQL's audit chain head)
//! from its first write to its commit, and between its statements it waits to be polled
//! again. On the server's shared runtime that wait is behind every other ready task: a
//! statement's answer comes from the database driver's own thread (SQLite) or socket, and a
//! task woken from outside the runtime's workers queues behind the tasks they already hold.
//! Under a burst of requests that put a millisecond or more between statements, while every
//! other writer waited for the lock. Here the transaction is the only kind of work on its
//! thread, so it is polled as soon as its statement is answered.

use std::future::Future;
use std::sync::Arc;

use tokio::runtime::Handle;
use tokio::sync::oneshot;
use tracing::Instrument;

use super::{Result, StoreError};

/// A handle to the writer thread; the thread stops when the last handle is dropped.
#[derive(Debug, Clone)]
pub(crate) struct WriterThread {
    runtime: Handle,
    _stop: Arc<Stop>,
}

/// Ends the thread's runtime when dropped; transactions still running then are dropped,
/// which rolls them back.
#[derive(Debug)]
struct Stop(Option<oneshot::Sender<()>>);

impl Drop for Stop {
    fn drop(&mut self) {
        if let Some(stop) = self.0.take() {
            // The thread may already have ended with its runtime; nothing to stop then.
            let _ = stop.send(());
        }
    }
}

impl WriterThread {
    /// Starts the thread, named after what it writes to (for `top` and profiles).
    pub(crate) fn start(name: &str) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| StoreError::Unavailable(format!("cannot start the writer thread: {e}")))?;
        let handle = runtime.handle().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        std::thread::Builder::new()
            .name(format!("{name}-writer"))
            .spawn(move || {
                runtime.block_on(async {
                    // Either a stop or every handle gone: both end the thread.
                    let _ = stopped.await;
                });
            })
            .map_err(|e| StoreError::Unavailable(format!("cannot start the writer thread: {e}")))?;
        Ok(Self {
            runtime: handle,
            _stop: Arc::new(Stop(Some(stop))),
        })
    }

    /// Starts `work` on the writer thread, to run there until it ends or the thread stops
    /// (a queue's consumer).
    pub(crate) fn spawn<F>(&self, work: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        drop(self.runtime.spawn(work));
    }

    /// Starts `write` on the writer thread at once and answers with its result. The write
    /// runs to its end even if the caller stops waiting (a client that hung up): a
    /// transaction is committed whole or not at all either way, and a mutation the client
    /// sends again is answered from what was recorded.
    pub(crate) fn run<T, F>(&self, write: F) -> impl Future<Output = Result<T>> + Send + 'static
    where
        F: Future<Output = Result<T>> + Send + 'static,
        T: Send + 'static,
    {
        // The caller's span goes along, so that what the write logs names its request.
        let task = self
            .runtime
            .spawn(write.instrument(tracing::Span::current()));
        async move {
            match task.await {
                Ok(result) => result,
                Err(e) => Err(StoreError::Unavailable(format!(
                    "the store's writer stopped before the write ended: {e}"
                ))),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_each_write_on_its_own_thread_and_answers_its_result() {
        let writer = WriterThread::start("test").unwrap();
        let here = std::thread::current().id();
        let (there, name) = writer
            .run(async {
                let t = std::thread::current();
                Ok((t.id(), t.name().map(str::to_owned)))
            })
            .await
            .unwrap();
        assert_ne!(here, there);
        assert_eq!(name.as_deref(), Some("test-writer"));
        let failed = writer
            .run(async { Err::<(), _>(StoreError::Unavailable("disk gone".into())) })
            .await;
        assert!(matches!(failed, Err(StoreError::Unavailable(m)) if m == "disk gone"));
    }

    #[tokio::test]
    async fn a_write_ends_even_when_its_caller_stops_waiting() {
        let writer = WriterThread::start("test").unwrap();
        let (go, wait) = oneshot::channel::<()>();
        let (done, finished) = oneshot::channel::<&str>();
        let call = writer.run(async move {
            let _ = wait.await;
            let _ = done.send("committed");
            Ok(())
        });
        // The caller gives up (a client that hung up) before the write could end.
        drop(call);
        go.send(()).unwrap();
        assert_eq!(finished.await.unwrap(), "committed");
    }
}
