//! Scheduled jobs. `serve` starts [`run_scheduler`]; handler tests without a server run
//! nothing unless they call a job themselves.
//!
//! Each run of a job first takes the job's cluster-wide lock (a PostgreSQL advisory lock), so
//! with several replicas on one database one of them runs it and the others skip that round;
//! on SQLite the lock is always granted. The lock saves duplicate work; correctness does not
//! rest on it: the overdue mark is conditional on the task being unmarked, so even two scans
//! that ran at once would mark each task once.

use std::time::Duration;

use tokio::time::MissedTickBehavior;

use crate::state::AppState;
use crate::store::{AuditEntry, FeedNotice, OverdueMark, StoreError};

/// The overdue scan's name, which is also its lock.
pub const OVERDUE_SCAN: &str = "overdue_scan";

/// Requests marked per query of due tasks; the scan repeats until none are left.
const BATCH: i64 = 100;

/// What a job run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobRun<T> {
    Ran(T),
    /// Another replica holds the job's lock: it is running the job right now.
    Skipped,
}

/// Runs the scheduled jobs until the server shuts down: the overdue scan every
/// `overdue_scan_secs` (at start, then on the interval; 0 turns it off). A failed run is
/// logged and the next round tries again.
pub async fn run_scheduler(state: AppState) {
    let secs = state.settings.overdue_scan_secs;
    if secs == 0 {
        return;
    }
    let mut ticks = tokio::time::interval(Duration::from_secs(secs));
    // After a stall, run once and keep the rhythm rather than firing the missed rounds.
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let stop = state.shutdown.clone();
    loop {
        tokio::select! {
            () = stop.triggered() => return,
            _ = ticks.tick() => {}
        }
        match run_overdue_scan(&state).await {
            Ok(JobRun::Ran(marks)) if !marks.is_empty() => {
                tracing::info!(requests = marks.len(), "overdue scan marked tasks overdue");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "overdue scan failed; the next round retries"),
        }
    }
}

/// One round of the overdue scan under its cluster-wide lock.
pub async fn run_overdue_scan(state: &AppState) -> Result<JobRun<Vec<OverdueMark>>, StoreError> {
    let Some(lock) = state.store.try_job_lock(OVERDUE_SCAN).await? else {
        return Ok(JobRun::Skipped);
    };
    let marks = scan_overdue(state).await;
    lock.release().await;
    Ok(JobRun::Ran(marks?))
}

/// Marks every open task due by now as overdue (S9), each request in its own transaction with
/// its audit line and feed rows, and tells the streams of the people concerned. Stops early,
/// between requests, when the server shuts down; the next run picks up the rest.
pub async fn scan_overdue(state: &AppState) -> Result<Vec<OverdueMark>, StoreError> {
    let now = state.clock.now();
    let mut marks = Vec::new();
    loop {
        let due = state.store.requests_with_due_tasks(now, BATCH).await?;
        let mut marked_any = false;
        for request in &due {
            if state.shutdown.is_triggered() {
                return Ok(marks);
            }
            let audit = AuditEntry::system(now, "request.overdue", format!("request:{request}"));
            if let Some(mark) = state.store.mark_overdue(*request, now, &audit).await? {
                state.events.publish(FeedNotice {
                    last_seq: mark.last_seq,
                    audiences: mark.audiences.clone(),
                });
                marks.push(mark);
                marked_any = true;
            }
        }
        // A short batch was the last; a batch where nothing could be marked (all decided in
        // between) cannot come back, but stopping there keeps the loop bounded regardless.
        if due.len() < usize::try_from(BATCH).unwrap_or(usize::MAX) || !marked_any {
            return Ok(marks);
        }
    }
}
