//! Live events (`GET /v1/events`): a committed write announces which feeds grew, and every
//! open event stream of those people hears it and tells its client to pull (B2, D3).
//!
//! Where notices come from. The handler that wrote publishes right after its commit; that is
//! the only source on SQLite. On PostgreSQL every feed-writing transaction also sends a
//! `NOTIFY` (see `store::live`) that each replica's [`relay_replica_notices`] publishes here,
//! so a write on one replica reaches the streams on all of them. The writing replica so hears
//! its own write twice, and the hub drops whichever copy comes second (same sequence number
//! and audiences). We keep the direct publish instead of relying on `NOTIFY` alone so local
//! streams do not wait on a database round trip and keep working while the listener
//! reconnects.
//!
//! What a stream promises. Feed rows are numbered in commit order, so a hint with cursor `N`
//! means "everything up to `N` is committed": a stream never sends a cursor lower than one it
//! already sent, and skips a notice it already covered (a copy, or an older write relayed
//! late). When it cannot know what it missed (a lagging receiver, a listener that lost its
//! connection) it hints the current head rather than stay silent.

use std::collections::{HashSet, VecDeque};
use std::pin::Pin;
use std::sync::Mutex;
use std::time::Duration;

use countersign_api::sync::EventHint;
use futures::Stream;
use tokio::sync::{broadcast, watch};
use uuid::Uuid;

use crate::auth::{Caller, Origin};
use crate::error::Result;
use crate::shutdown::Shutdown;
use crate::state::AppState;
use crate::store::{AuditEntry, EVERYONE, FeedNotice, FeedSignal, Store};
use crate::sync::{Cursor, server_id};

/// Enough for bursts; a stream that falls this far behind is told to pull the head.
const CAPACITY: usize = 1024;

/// How many recent notices the hub remembers to drop the second copy of a write. The two
/// copies arrive milliseconds apart, so this is ample.
const REMEMBERED: usize = 1024;

/// The relay's wait before reconnecting, doubled per failure up to the maximum.
const RELAY_BACKOFF_MIN: Duration = Duration::from_millis(250);
const RELAY_BACKOFF_MAX: Duration = Duration::from_secs(30);

#[derive(Debug)]
pub struct EventHub {
    sender: broadcast::Sender<FeedNotice>,
    recent: Mutex<Recent>,
    /// Whether this replica currently hears the other replicas' writes.
    relaying: watch::Sender<bool>,
}

#[derive(Debug, Default)]
struct Recent {
    order: VecDeque<FeedNotice>,
    seen: HashSet<FeedNotice>,
}

impl Recent {
    /// Remembers `notice`; false when it was already remembered.
    fn first_sight(&mut self, notice: &FeedNotice) -> bool {
        if !self.seen.insert(notice.clone()) {
            return false;
        }
        self.order.push_back(notice.clone());
        if self.order.len() > REMEMBERED
            && let Some(oldest) = self.order.pop_front()
        {
            self.seen.remove(&oldest);
        }
        true
    }
}

impl Default for EventHub {
    fn default() -> Self {
        let (sender, _) = broadcast::channel(CAPACITY);
        Self {
            sender,
            recent: Mutex::default(),
            relaying: watch::Sender::new(false),
        }
    }
}

impl EventHub {
    /// Announces a committed write. Nobody listening is fine; a copy of a notice published
    /// moments ago (the same write heard from the database) is dropped.
    pub fn publish(&self, notice: FeedNotice) {
        if notice.is_empty() {
            return;
        }
        let first = self
            .recent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .first_sight(&notice);
        if first {
            let _ = self.sender.send(notice);
        }
    }

    /// Tells every stream to pull up to `head`: notices may have been lost. Never taken for a
    /// copy of an earlier notice.
    pub fn publish_catch_up(&self, head: i64) {
        let _ = self.sender.send(FeedNotice {
            last_seq: head,
            audiences: vec![EVERYONE],
        });
    }

    pub fn subscribe(&self) -> broadcast::Receiver<FeedNotice> {
        self.sender.subscribe()
    }

    /// Resolves once this replica hears the other replicas' writes (PostgreSQL). Never on
    /// SQLite, where there are no other replicas to hear.
    pub async fn relaying(&self) {
        let mut receiver = self.relaying.subscribe();
        let _ = receiver.wait_for(|on| *on).await;
    }

    fn set_relaying(&self, on: bool) {
        self.relaying.send_replace(on);
    }
}

/// One open event stream's state.
struct Live {
    store: std::sync::Arc<dyn Store>,
    shutdown: Shutdown,
    receiver: broadcast::Receiver<FeedNotice>,
    person: Uuid,
    server: Uuid,
    /// The highest cursor sent (or, on resume, the one the client already had).
    sent: i64,
    /// A hint to send before waiting for notices.
    first: Option<i64>,
    /// The access token's expiry: the stream ends there and the client reconnects with a
    /// fresh token, so a revoked session stops hearing hints within one token lifetime.
    expires: Pin<Box<tokio::time::Sleep>>,
}

impl Live {
    fn hint(&self, seq: i64) -> EventHint {
        EventHint {
            cursor: Cursor {
                server: self.server,
                seq,
            }
            .encode(),
        }
    }

    fn concerns(&self, notice: &FeedNotice) -> bool {
        notice.audiences.contains(&self.person) || notice.audiences.contains(&EVERYONE)
    }

    /// The next hint, or `None` when the stream should end.
    async fn next_hint(&mut self) -> Option<EventHint> {
        if let Some(seq) = self.first.take() {
            return Some(self.hint(seq));
        }
        let stop = self.shutdown.clone();
        loop {
            tokio::select! {
                () = stop.triggered() => return None,
                () = &mut self.expires => return None,
                received = self.receiver.recv() => match received {
                    Ok(notice) => {
                        if notice.last_seq > self.sent && self.concerns(&notice) {
                            self.sent = notice.last_seq;
                            return Some(self.hint(notice.last_seq));
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::debug!(missed, "an event stream lagged; hinting the head");
                        match self.store.feed_head().await {
                            Ok(head) => self.sent = self.sent.max(head),
                            Err(e) => tracing::warn!(error = %e, "cannot read the feed head"),
                        }
                        return Some(self.hint(self.sent));
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
            }
        }
    }
}

impl AppState {
    /// Opens the caller's event stream: hints of the form `{cursor}` whenever the caller's
    /// feed grows. `last_event_id` is the cursor of the last hint the client received (the
    /// SSE `Last-Event-ID`): when the caller's feed grew since, the first hint comes at once;
    /// when it did not, the stream waits. Without one, or with one this server did not make
    /// (another server, or ahead of a feed restored from a backup), the first hint is the
    /// current head, so the client pulls and learns where it stands.
    pub async fn open_event_stream(
        &self,
        caller: &Caller,
        last_event_id: Option<&str>,
        origin: &Origin,
    ) -> Result<impl Stream<Item = EventHint> + Send + 'static> {
        // Subscribe before reading the feed, so nothing committed in between is missed.
        let receiver = self.events.subscribe();
        let server = server_id(self.store.as_ref()).await?;
        let head = self.store.feed_head().await?;
        let person = caller.person.id;
        let resume = last_event_id
            .and_then(Cursor::decode)
            .filter(|c| c.server == server && c.seq <= head);
        let (sent, first) = match resume {
            Some(cursor) => {
                let pending = !self
                    .store
                    .feed_after(person, cursor.seq, 1)
                    .await?
                    .is_empty();
                if pending {
                    (head, Some(head))
                } else {
                    (cursor.seq, None)
                }
            }
            None => (head, Some(head)),
        };
        let now = self.clock.now();
        let entry = AuditEntry {
            at: now,
            actor_id: Some(person),
            actor: caller.person.username.clone(),
            action: "events.open".into(),
            resource: format!("events:{}", resume.map_or(0, |c| c.seq)),
            outcome: "ok".into(),
            source: origin.source.clone(),
            device: Some(caller.session.device_name.clone()),
        };
        self.store.append_audit(&entry).await?;

        let lifetime = (caller.session.access_expires_at - now)
            .to_std()
            .unwrap_or(Duration::ZERO);
        let live = Live {
            store: self.store.clone(),
            shutdown: self.shutdown.clone(),
            receiver,
            person,
            server,
            sent,
            first,
            expires: Box::pin(tokio::time::sleep(lifetime)),
        };
        Ok(futures::stream::unfold(live, |mut live| async move {
            let hint = live.next_hint().await?;
            Some((hint, live))
        }))
    }
}

/// Publishes the other replicas' writes to this replica's hub, for as long as the server
/// runs. Returns at once on SQLite. A lost connection is reopened with backoff; after each
/// (re)connection every stream is told to pull, because notices sent while nobody listened
/// are gone.
pub async fn relay_replica_notices(state: AppState) {
    let stop = state.shutdown.clone();
    let mut backoff = RELAY_BACKOFF_MIN;
    loop {
        let opened = tokio::select! {
            () = stop.triggered() => return,
            opened = state.store.listen_feed() => opened,
        };
        match opened {
            Ok(None) => return,
            Ok(Some(mut listener)) => {
                state.events.set_relaying(true);
                catch_up(&state).await;
                backoff = RELAY_BACKOFF_MIN;
                loop {
                    let signal = tokio::select! {
                        () = stop.triggered() => return,
                        signal = listener.next() => signal,
                    };
                    match signal {
                        Ok(FeedSignal::Notice(notice)) => state.events.publish(notice),
                        Ok(FeedSignal::Gap) => catch_up(&state).await,
                        Err(e) => {
                            tracing::warn!(error = %e, "lost the feed listener; reconnecting");
                            break;
                        }
                    }
                }
                state.events.set_relaying(false);
            }
            Err(e) => tracing::warn!(error = %e, "cannot listen for other replicas' writes"),
        }
        tokio::select! {
            () = stop.triggered() => return,
            () = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(RELAY_BACKOFF_MAX);
    }
}

async fn catch_up(state: &AppState) {
    match state.store.feed_head().await {
        Ok(head) => state.events.publish_catch_up(head),
        Err(e) => tracing::warn!(error = %e, "cannot read the feed head to catch streams up"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice(seq: i64, who: &[Uuid]) -> FeedNotice {
        FeedNotice {
            last_seq: seq,
            audiences: who.to_vec(),
        }
    }

    #[tokio::test]
    async fn the_second_copy_of_a_write_is_dropped_but_catch_ups_always_pass() {
        let hub = EventHub::default();
        let mut rx = hub.subscribe();
        let someone = Uuid::now_v7();
        hub.publish(notice(5, &[someone]));
        hub.publish(notice(5, &[someone]));
        hub.publish(notice(6, &[someone]));
        hub.publish_catch_up(6);
        hub.publish_catch_up(6);
        assert_eq!(rx.recv().await.unwrap(), notice(5, &[someone]));
        assert_eq!(
            rx.recv().await.unwrap(),
            notice(6, &[someone]),
            "copy of 5 dropped"
        );
        assert_eq!(rx.recv().await.unwrap(), notice(6, &[EVERYONE]));
        assert_eq!(rx.recv().await.unwrap(), notice(6, &[EVERYONE]));
        assert!(rx.try_recv().is_err());
    }

    #[test]
    fn the_memory_of_recent_notices_is_bounded() {
        let mut recent = Recent::default();
        for seq in 0..(REMEMBERED as i64 + 10) {
            assert!(recent.first_sight(&notice(seq, &[EVERYONE])));
        }
        assert_eq!(recent.order.len(), REMEMBERED);
        assert_eq!(recent.seen.len(), REMEMBERED);
        assert!(
            recent.first_sight(&notice(0, &[EVERYONE])),
            "long forgotten"
        );
    }
}
