//! The change feed as clients read it (`GET /v1/sync`): pages of changes after an opaque
//! cursor, each with the record as it is now. A cursor names the server it came from and a
//! position in its feed; one from another server, or ahead of this one's feed (the database
//! was restored from an older backup), is answered with "resync" rather than silently
//! skipping or repeating changes.

use std::collections::{BTreeMap, HashMap};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use countersign_api::ErrorCode;
use countersign_api::directory::{DepartmentEntry, PersonEntry};
use countersign_api::sync::{Change, ChangeOp, EntityKind, SyncPage};
use uuid::Uuid;

use crate::auth::{Caller, Origin};
use crate::error::{Error, Result};
use crate::state::AppState;
use crate::store::{AuditEntry, FeedEntry, Person, PersonStatus, Store, StoreError};

const SERVER_ID_KEY: &str = "server_id";
pub const DEFAULT_PAGE: i64 = 200;
pub const MAX_PAGE: i64 = 1000;

/// This server's identity, made once and kept in the database (so replicas of one database
/// share it, and a restored backup keeps it).
pub async fn server_id(store: &dyn Store) -> std::result::Result<Uuid, StoreError> {
    if let Some(id) = store.meta_get(SERVER_ID_KEY).await?
        && let Ok(id) = Uuid::parse_str(&id)
    {
        return Ok(id);
    }
    let id = Uuid::now_v7();
    store.meta_set(SERVER_ID_KEY, &id.to_string()).await?;
    // Another replica may have set it at the same moment: read back what won.
    let stored = store.meta_get(SERVER_ID_KEY).await?;
    Ok(stored.and_then(|s| Uuid::parse_str(&s).ok()).unwrap_or(id))
}

/// A position in one server's feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub server: Uuid,
    pub seq: i64,
}

impl Cursor {
    pub fn encode(self) -> String {
        URL_SAFE_NO_PAD.encode(format!("1.{}.{}", self.server.simple(), self.seq))
    }

    pub fn decode(text: &str) -> Option<Cursor> {
        let raw = URL_SAFE_NO_PAD.decode(text.trim()).ok()?;
        let raw = String::from_utf8(raw).ok()?;
        let mut parts = raw.split('.');
        if parts.next()? != "1" {
            return None;
        }
        let server = Uuid::parse_str(parts.next()?).ok()?;
        let seq = parts.next()?.parse().ok().filter(|s: &i64| *s >= 0)?;
        parts.next().is_none().then_some(Cursor { server, seq })
    }
}

fn resync(why: &str) -> Error {
    Error::refused(
        ErrorCode::ResyncRequired,
        format!("{why}: drop the server data you hold and sync again from the start."),
    )
}

pub fn person_entry(p: &Person) -> PersonEntry {
    PersonEntry {
        id: p.id,
        username: p.username.clone(),
        display_name: p.display_name.clone(),
        department_id: p.department_id,
        manager_id: p.manager_id,
        active: p.status == PersonStatus::Active,
    }
}

impl AppState {
    /// One page of the caller's feed after `after` (from the start when absent).
    pub async fn sync_page(
        &self,
        caller: &Caller,
        after: Option<&str>,
        limit: Option<i64>,
        origin: &Origin,
    ) -> Result<SyncPage> {
        let limit = limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
        let server = server_id(self.store.as_ref()).await?;
        let after_seq = match after.filter(|a| !a.is_empty()) {
            None => 0,
            Some(text) => {
                let cursor = Cursor::decode(text).ok_or_else(|| {
                    Error::malformed("The sync cursor is not one this server made.")
                })?;
                if cursor.server != server {
                    return Err(resync("The cursor is from another server"));
                }
                cursor.seq
            }
        };
        let mut entries = self
            .store
            .feed_after(caller.person.id, after_seq, limit + 1)
            .await?;
        // A cursor past the feed's end finds no rows, so only then is the head read (one
        // statement fewer on every pull that brings something).
        if entries.is_empty() && after_seq > self.store.feed_head().await? {
            return Err(resync(
                "The cursor is ahead of this server (it was restored from a backup)",
            ));
        }
        let more = entries.len() > usize::try_from(limit).unwrap_or(usize::MAX);
        entries.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let last_seq = entries.last().map_or(after_seq, |e| e.seq);
        let changes = self.hydrate(caller, entries).await?;
        let entry = AuditEntry {
            at: self.clock.now(),
            actor_id: Some(caller.person.id),
            actor: caller.person.username.clone(),
            action: "sync.pull".into(),
            resource: format!("feed:{after_seq}..{last_seq}"),
            outcome: "ok".into(),
            source: origin.source.clone(),
            device: Some(caller.session.device_name.clone()),
        };
        self.store.append_audit(&entry).await?;
        Ok(SyncPage {
            changes,
            cursor: Cursor {
                server,
                seq: last_seq,
            }
            .encode(),
            more,
        })
    }

    /// Turns feed rows into changes carrying each record as it is now. A record changed
    /// several times in the page appears once, at its last position.
    async fn hydrate(&self, caller: &Caller, entries: Vec<FeedEntry>) -> Result<Vec<Change>> {
        let mut last_position: HashMap<(String, String), usize> = HashMap::new();
        for (i, e) in entries.iter().enumerate() {
            last_position.insert((e.kind.clone(), e.entity_id.clone()), i);
        }
        let entries: Vec<FeedEntry> = entries
            .into_iter()
            .enumerate()
            .filter(|(i, e)| last_position.get(&(e.kind.clone(), e.entity_id.clone())) == Some(i))
            .map(|(_, e)| e)
            .collect();

        let ids_of = |kind: &str| -> Vec<Uuid> {
            entries
                .iter()
                .filter(|e| e.kind == kind)
                .filter_map(|e| Uuid::parse_str(&e.entity_id).ok())
                .collect()
        };
        let requests: BTreeMap<Uuid, serde_json::Value> = self
            .store
            .find_requests(&ids_of("request"))
            .await?
            .iter()
            // The feed only holds rows for participants; visibility is checked again anyway.
            .filter(|r| {
                crate::policy::can_see_request(
                    &caller.person,
                    crate::policy::request_audience(&r.state).contains(&caller.person.id),
                )
            })
            .filter_map(|r| Some((r.id, serde_json::to_value(crate::requests::view(r)).ok()?)))
            .collect();
        let people: BTreeMap<Uuid, serde_json::Value> = self
            .store
            .find_people(&ids_of("person"))
            .await?
            .iter()
            .filter_map(|p| Some((p.id, serde_json::to_value(person_entry(p)).ok()?)))
            .collect();
        let wanted_departments = ids_of("department");
        let departments: BTreeMap<Uuid, serde_json::Value> = if wanted_departments.is_empty() {
            BTreeMap::new()
        } else {
            self.store
                .list_departments()
                .await?
                .into_iter()
                .filter(|d| wanted_departments.contains(&d.id))
                .filter_map(|d| {
                    let entry = DepartmentEntry {
                        id: d.id,
                        code: d.code,
                        name: d.name,
                        parent_id: d.parent_id,
                        head_id: d.head_id,
                    };
                    Some((entry.id, serde_json::to_value(entry).ok()?))
                })
                .collect()
        };

        let meetings = self.meeting_data(caller, &ids_of("meeting")).await?;

        let mut changes = Vec::with_capacity(entries.len());
        for e in entries {
            let kind = EntityKind::parse(&e.kind);
            let data = match kind {
                EntityKind::Request => id_lookup(&requests, &e.entity_id),
                EntityKind::Person => id_lookup(&people, &e.entity_id),
                EntityKind::Department => id_lookup(&departments, &e.entity_id),
                EntityKind::Meeting => id_lookup(&meetings, &e.entity_id),
                EntityKind::Template => self.template_data(&e.entity_id).await?,
                EntityKind::Unknown => None,
            };
            let op = if e.op == "delete" || data.is_none() {
                ChangeOp::Delete
            } else {
                ChangeOp::Upsert
            };
            changes.push(Change {
                kind,
                id: e.entity_id,
                version: u64::try_from(e.version).unwrap_or(0),
                op,
                data: if op == ChangeOp::Upsert { data } else { None },
            });
        }
        Ok(changes)
    }

    async fn template_data(&self, feed_id: &str) -> Result<Option<serde_json::Value>> {
        let Some((id, version)) = feed_id.rsplit_once('@') else {
            return Ok(None);
        };
        let Ok(version) = version.parse::<u32>() else {
            return Ok(None);
        };
        Ok(self
            .store
            .find_template(id, version)
            .await?
            .and_then(|t| serde_json::to_value(crate::templates::view(t)).ok()))
    }
}

fn id_lookup(map: &BTreeMap<Uuid, serde_json::Value>, id: &str) -> Option<serde_json::Value> {
    Uuid::parse_str(id)
        .ok()
        .and_then(|id| map.get(&id).cloned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let c = Cursor {
            server: Uuid::now_v7(),
            seq: 42,
        };
        assert_eq!(Cursor::decode(&c.encode()), Some(c));
        for bad in ["", "x", "MS5hYmMuMQ", &URL_SAFE_NO_PAD.encode("1.abc.-1")] {
            assert_eq!(Cursor::decode(bad), None, "{bad}");
        }
    }
}
