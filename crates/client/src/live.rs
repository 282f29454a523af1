//! Staying in step (D3): sync, then listen to the server's live event stream and sync again
//! whenever it hints that something changed. A dropped or silent stream is reopened with a
//! jittered backoff, resuming from the last hint's id; while the server cannot be reached the
//! outbox keeps its entries and each reconnection sends them first. A session that the server
//! ended stops the loop with the reason.

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;

use crate::Client;
use crate::error::{ClientError, Result};
use crate::work::SyncReport;

/// How long the stream may be silent before it is taken for dead: three of the server's
/// default 15 s heartbeats.
const STREAM_IDLE: Duration = Duration::from_secs(45);
/// Reconnection waits: from one second, doubling, up to one minute, each with jitter.
const RETRY_FIRST: Duration = Duration::from_secs(1);
const RETRY_MAX: Duration = Duration::from_secs(60);

/// What the watch loop reports after each sync attempt.
#[derive(Debug)]
pub enum WatchEvent {
    /// A sync finished: what it sent, received and planned to notify.
    Synced(SyncReport),
    /// The server could not be reached (or a sync failed); the loop will retry.
    Offline(ClientError),
    /// The live stream is open: changes arrive as they happen.
    Live,
    /// A meeting reminder came due between syncs (offline too): what to show.
    Reminders(Vec<crate::notify::Planned>),
}

/// The longest the loop sleeps before looking again for a reminder: meetings planned
/// meanwhile arrive with a sync, which also looks.
const REMINDER_LOOK_AGAIN: Duration = Duration::from_secs(3600);

impl Client {
    /// Keeps this device in step until `stop` resolves, reporting each step to `report`.
    /// Returns an error only when the sign-in is over (revoked, expired, disabled) or the
    /// cache cannot be used; network trouble is retried for as long as it lasts.
    pub async fn watch(
        &self,
        clock: impl Fn() -> DateTime<Utc>,
        mut report: impl FnMut(WatchEvent),
        stop: impl Future<Output = ()>,
    ) -> Result<()> {
        tokio::pin!(stop);
        let mut last_event_id: Option<String> = None;
        let mut retry = RETRY_FIRST;
        loop {
            // Sync first: it sends what waited while offline and catches up on what was
            // missed between two streams.
            match self.sync(clock()).await {
                Ok(synced) => report(WatchEvent::Synced(synced)),
                Err(err) if err.ends_session() => return Err(err),
                Err(err) if err.code == crate::ClientErrorCode::Cache => return Err(err),
                Err(err) => {
                    report(WatchEvent::Offline(err));
                    if self
                        .wait_reminding(&mut stop, jittered(retry), &clock, &mut report)
                        .await
                    {
                        return Ok(());
                    }
                    retry = (retry * 2).min(RETRY_MAX);
                    continue;
                }
            }
            let opened = self
                .authed(|api, access| {
                    let last = last_event_id.clone();
                    async move { api.events(&access, last.as_deref(), STREAM_IDLE).await }
                })
                .await;
            let response = match opened {
                Ok(r) => r,
                Err(err) if err.ends_session() => return Err(err),
                Err(err) => {
                    report(WatchEvent::Offline(err));
                    if self
                        .wait_reminding(&mut stop, jittered(retry), &clock, &mut report)
                        .await
                    {
                        return Ok(());
                    }
                    retry = (retry * 2).min(RETRY_MAX);
                    continue;
                }
            };
            report(WatchEvent::Live);
            retry = RETRY_FIRST;
            // The stream is read in its own task; hints are coalesced into one pending sync.
            let (hints, mut hinted) = mpsc::channel::<()>(1);
            let (ids, latest_id) = tokio::sync::watch::channel(last_event_id.clone());
            let reader = tokio::spawn(read_stream(response, hints, ids));
            loop {
                tokio::select! {
                    () = &mut stop => {
                        reader.abort();
                        return Ok(());
                    }
                    got = hinted.recv() => {
                        if got.is_none() {
                            break;
                        }
                        match self.sync(clock()).await {
                            Ok(synced) => report(WatchEvent::Synced(synced)),
                            Err(err) if err.ends_session() => {
                                reader.abort();
                                return Err(err);
                            }
                            Err(err) => report(WatchEvent::Offline(err)),
                        }
                    }
                    () = self.until_next_reminder(clock()) => {
                        self.remind(clock(), &mut report).await;
                    }
                }
            }
            last_event_id = latest_id.borrow().clone();
            let _ = reader.await;
            // The stream ended (server restart, network, silence): wait a little, reopen.
            if self
                .wait_reminding(&mut stop, jittered(retry), &clock, &mut report)
                .await
            {
                return Ok(());
            }
        }
    }

    /// Waits `wait` before the next attempt, showing any reminder that comes due meanwhile;
    /// true when `stop` came first.
    async fn wait_reminding(
        &self,
        stop: &mut std::pin::Pin<&mut impl Future<Output = ()>>,
        wait: Duration,
        clock: &impl Fn() -> DateTime<Utc>,
        report: &mut impl FnMut(WatchEvent),
    ) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            tokio::select! {
                () = stop.as_mut() => return true,
                () = tokio::time::sleep_until(deadline) => return false,
                () = self.until_next_reminder(clock()) => self.remind(clock(), report).await,
            }
        }
    }

    /// Resolves when the next meeting reminder is due (looking again at least hourly).
    async fn until_next_reminder(&self, now: DateTime<Utc>) {
        let wait = match self.next_meeting_reminder(now).await {
            Ok(Some(at)) => (at - now).to_std().unwrap_or(Duration::ZERO),
            Ok(None) => REMINDER_LOOK_AGAIN,
            Err(err) => {
                tracing::debug!(error = %err, "cannot tell the next reminder");
                REMINDER_LOOK_AGAIN
            }
        };
        tokio::time::sleep(wait.min(REMINDER_LOOK_AGAIN)).await;
    }

    async fn remind(&self, now: DateTime<Utc>, report: &mut impl FnMut(WatchEvent)) {
        match self.meeting_reminders(now).await {
            Ok(planned) if !planned.is_empty() => report(WatchEvent::Reminders(planned)),
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "meeting reminders"),
        }
    }
}

/// Reads Server-Sent Events until the stream ends or fails: each event with data is a hint
/// (sent on `hints`, coalesced), its id the resume point; comments are heartbeats.
async fn read_stream(
    mut response: reqwest::Response,
    hints: mpsc::Sender<()>,
    ids: tokio::sync::watch::Sender<Option<String>>,
) {
    let mut buffer = String::new();
    loop {
        let chunk = match response.chunk().await {
            Ok(Some(bytes)) => bytes,
            Ok(None) | Err(_) => return,
        };
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some((event, rest)) = split_event(&buffer) {
            let (id, has_data) = parse_event(&event);
            buffer = rest;
            if let Some(id) = id {
                let _ = ids.send(Some(id));
            }
            if has_data {
                // Full means a sync is already due: this hint is covered by it.
                let _ = hints.try_send(());
            }
        }
    }
}

/// The first complete event in `buffer` and what follows it.
fn split_event(buffer: &str) -> Option<(String, String)> {
    let normalised = buffer.replace("\r\n", "\n");
    let end = normalised.find("\n\n")?;
    Some((
        normalised[..end].to_owned(),
        normalised[end + 2..].to_owned(),
    ))
}

/// An event's id and whether it carries data (a hint) rather than being only a comment.
fn parse_event(event: &str) -> (Option<String>, bool) {
    let mut id = None;
    let mut data = false;
    for line in event.lines() {
        if let Some(value) = line.strip_prefix("id:") {
            id = Some(value.trim_start().to_owned());
        } else if line.starts_with("data:") {
            data = true;
        }
    }
    (id, data)
}

/// `base` plus up to half of it at random, so clients that lost the server together do not
/// come back together.
fn jittered(base: Duration) -> Duration {
    let extra = rand::random_range(0..=base.as_millis() / 2);
    base + Duration::from_millis(u64::try_from(extra).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_split_and_read_as_the_server_writes_them() {
        let stream = "id: 1.a.5\ndata: {\"cursor\":\"1.a.5\"}\n\n: heartbeat\n\nid: 1.a.6\r\ndata: {}\r\n\r\npartial";
        let (first, rest) = split_event(stream).unwrap();
        assert_eq!(parse_event(&first), (Some("1.a.5".into()), true));
        let (second, rest) = split_event(&rest).unwrap();
        assert_eq!(
            parse_event(&second),
            (None, false),
            "a heartbeat is no hint"
        );
        let (third, rest) = split_event(&rest).unwrap();
        assert_eq!(parse_event(&third), (Some("1.a.6".into()), true));
        assert_eq!(rest, "partial");
        assert!(split_event(&rest).is_none(), "an unfinished event waits");
    }

    #[test]
    fn retries_spread_out() {
        let wait = jittered(Duration::from_secs(4));
        assert!(wait >= Duration::from_secs(4) && wait <= Duration::from_secs(6));
    }
}
