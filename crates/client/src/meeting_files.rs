//! Meetings and the world outside (issue 7): a meeting written as a calendar file for
//! Outlook, Google or Apple calendars; a calendar file someone sent read back as invitations
//! the person can plan from; the invitations still waiting for an answer (the tray's and the
//! agenda's "to answer"); and the materials fetched ahead so they open offline.
//!
//! # What an import means
//! Countersign's meetings live on the server, so a file cannot add one on its own. Reading a
//! file tells, for each event in it, either that it *is* a Countersign meeting already on this
//! device (a file this app exported, by its UID) — the UI opens that meeting — or what it
//! says in the reader's own time, with its attendees matched to the directory, so that the
//! person can plan it as a new Countersign meeting with those fields filled in.
//! The directory holds no e-mail addresses, so an attendee is matched by the part of the
//! address before `@` against user names, then by display name; anyone else is listed as not
//! found, never guessed.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use countersign_api::meetings::MeetingView;
use countersign_domain::ics::{self, Invitation, Method};
use countersign_domain::meetings::MeetingStatus;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Client;
use crate::cache::Cache;
use crate::error::{ClientError, Result};
use crate::meetings::{FALLBACK_TIME_ZONE, MeetingEntry, local};
use crate::views::{DirectoryEntry, DirectoryKind};
use crate::work::{invalid, not_found};

/// The UID suffix of the files this app writes: `<meeting id>@countersign`.
const UID_DOMAIN: &str = "@countersign";

/// A meeting as a calendar file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CalendarFile {
    /// A file name made of the title, ending in `.ics`.
    pub file_name: String,
    pub text: String,
}

/// One event read from a calendar file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ImportedInvitation {
    /// Set when the event is a Countersign meeting already on this device.
    pub meeting_id: Option<Uuid>,
    pub title: String,
    pub agenda: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// Start and end in the reader's zone, `YYYY-MM-DD HH:MM`.
    pub local_start: String,
    pub local_end: String,
    pub time_zone: String,
    /// The zone the sender wrote the times in, as written (a Windows name stays as sent).
    pub sender_time_zone: Option<String>,
    pub all_day: bool,
    pub location: Option<String>,
    pub online_link: Option<String>,
    /// The organiser's name, or address when the file gives no name.
    pub organiser: Option<String>,
    /// Attendees found in the directory.
    pub people: Vec<DirectoryEntry>,
    /// Attendees not found, by name and address as the file gives them.
    pub not_found: Vec<String>,
    pub cancelled: bool,
    /// The repeat rule as written: only the first occurrence is read.
    pub repeats: Option<String>,
}

/// A file name for `title`: letters, digits and spaces kept, at most 60 characters.
fn file_name(title: &str) -> String {
    let kept: String = title
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == ' ' || c == '-' {
                c
            } else {
                ' '
            }
        })
        .take(60)
        .collect();
    let kept = kept.split_whitespace().collect::<Vec<_>>().join(" ");
    if kept.is_empty() {
        "meeting.ics".to_owned()
    } else {
        format!("{kept}.ics")
    }
}

/// The meeting as an event for the person's own calendar (METHOD:PUBLISH: a calendar adds it
/// without asking the reader to answer an invitation the server already holds).
pub fn calendar_file(view: &MeetingView, stamp: DateTime<Utc>) -> CalendarFile {
    let zone: Tz = view.plan.time_zone.parse().unwrap_or(FALLBACK_TIME_ZONE);
    let cancelled = view.status == MeetingStatus::Cancelled;
    let mut description = view.plan.agenda.trim().to_owned();
    if !view.materials.is_empty() {
        let names: Vec<&str> = view.materials.iter().map(|m| m.name.as_str()).collect();
        if !description.is_empty() {
            description.push_str("\n\n");
        }
        description.push_str(&format!("Materials (in Countersign): {}", names.join(", ")));
    }
    let location = match (&view.room, &view.plan.place) {
        (Some(room), Some(place)) => Some(format!("{} — {place}", room.name)),
        (Some(room), None) => Some(room.name.clone()),
        (None, Some(place)) => Some(place.clone()),
        (None, None) => None,
    };
    let invitation = Invitation {
        uid: format!("{}{UID_DOMAIN}", view.id),
        sequence: u32::try_from(view.sequence).unwrap_or(u32::MAX),
        method: None,
        status: Some(if cancelled {
            ics::MeetingStatus::Cancelled
        } else {
            ics::MeetingStatus::Confirmed
        }),
        summary: Some(view.plan.title.clone()),
        description: (!description.is_empty()).then_some(description),
        location,
        url: view.plan.online_link.clone(),
        start: view.plan.starts_at,
        end: view.plan.ends_at,
        time_zone: None,
        all_day: false,
        organiser: None,
        attendees: Vec::new(),
        stamp: Some(stamp),
        recurrence_rule: None,
        recurrence_id: None,
    };
    let method = if cancelled {
        Method::Cancel
    } else {
        Method::Publish
    };
    CalendarFile {
        file_name: file_name(&view.plan.title),
        text: ics::write_invitation(&invitation, &method, stamp, zone),
    }
}

/// The meeting a UID of ours names.
fn our_meeting(uid: &str) -> Option<Uuid> {
    uid.strip_suffix(UID_DOMAIN)
        .and_then(|id| Uuid::parse_str(id).ok())
}

impl Client {
    /// Meeting `id` as a calendar file, stamped `now`.
    pub async fn meeting_calendar_file(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<CalendarFile> {
        let (cache, _) = self.open_cache().await?;
        let found = cache
            .meeting(id)
            .await?
            .ok_or_else(|| not_found(format!("Meeting {id} is not on this device. Sync first?")))?;
        Ok(calendar_file(&found.view, now))
    }

    /// Reads a calendar file someone sent, with times in `zone`. A malformed or oversized
    /// file is an `invalid_input` naming the line and the problem; nothing is saved.
    pub async fn read_calendar_file(
        &self,
        text: &str,
        zone: Tz,
    ) -> Result<Vec<ImportedInvitation>> {
        let invitations = ics::read_invitations(text, zone)
            .map_err(|e| invalid(format!("This calendar file cannot be read: {e}.")))?;
        let (cache, _) = self.open_cache().await?;
        let mut out = Vec::with_capacity(invitations.len());
        for invitation in invitations {
            out.push(self.imported(&cache, invitation, zone).await?);
        }
        Ok(out)
    }

    async fn imported(
        &self,
        cache: &Cache,
        invitation: Invitation,
        zone: Tz,
    ) -> Result<ImportedInvitation> {
        let meeting_id = match our_meeting(&invitation.uid) {
            Some(id) if cache.meeting(id).await?.is_some() => Some(id),
            _ => None,
        };
        let mut people = Vec::new();
        let mut not_found = Vec::new();
        let mut seen = HashSet::new();
        let directory = cache.people().await?;
        for attendee in &invitation.attendees {
            let address = attendee.person.email.trim();
            let local_part = address.split('@').next().unwrap_or_default();
            let name = attendee.person.name.as_deref().map(str::trim);
            let by_username = directory
                .iter()
                .find(|p| !local_part.is_empty() && p.username.eq_ignore_ascii_case(local_part));
            let by_name = || {
                let mut named = directory
                    .iter()
                    .filter(|p| name.is_some_and(|n| !n.is_empty() && p.display_name == n));
                match (named.next(), named.next()) {
                    (Some(one), None) => Some(one),
                    // Two colleagues of that name: not guessed.
                    _ => None,
                }
            };
            match by_username.or_else(by_name) {
                Some(person) if person.active => {
                    if seen.insert(person.id) {
                        people.push(DirectoryEntry {
                            id: person.id,
                            kind: DirectoryKind::People,
                            name: person.display_name.clone(),
                            detail: None,
                            active: true,
                        });
                    }
                }
                _ => not_found.push(match name {
                    Some(n) if !n.is_empty() => format!("{n} <{address}>"),
                    _ => address.to_owned(),
                }),
            }
        }
        let organiser = invitation.organiser.as_ref().map(|p| {
            p.name
                .clone()
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| p.email.clone())
        });
        let cancelled = invitation.method == Some(Method::Cancel)
            || invitation.status == Some(ics::MeetingStatus::Cancelled);
        Ok(ImportedInvitation {
            meeting_id,
            title: invitation.summary.clone().unwrap_or_default(),
            agenda: invitation.description.clone().unwrap_or_default(),
            starts_at: invitation.start,
            ends_at: invitation.end,
            local_start: local(invitation.start, zone),
            local_end: local(invitation.end, zone),
            time_zone: zone.name().to_owned(),
            sender_time_zone: invitation.time_zone.clone(),
            all_day: invitation.all_day,
            location: invitation.location.clone(),
            online_link: invitation.url.clone(),
            organiser,
            people,
            not_found,
            cancelled,
            repeats: invitation.recurrence_rule.clone(),
        })
    }

    /// Invitations of this person still waiting for their answer, soonest first: meetings not
    /// cancelled, not over at `now`, where they are an invitee and have not answered (an
    /// answer waiting in the outbox counts as given). At most `limit`.
    pub async fn unanswered_invitations(
        &self,
        now: DateTime<Utc>,
        zone: Tz,
        limit: usize,
    ) -> Result<Vec<MeetingEntry>> {
        let (cache, me) = self.open_cache().await?;
        let far = now + chrono::Days::new(3660);
        let mut out = Vec::new();
        for cached in cache.meetings_between(now, far).await? {
            let view = &cached.view;
            let waiting = view.status == MeetingStatus::Scheduled
                && view.my_role == "invitee"
                && view.invitee(me).is_some_and(|i| i.answer.is_none());
            if waiting {
                out.push(self.meeting_entry(&cache, me, view, zone).await);
                if out.len() == limit {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// Downloads the materials of every meeting not over at `now` that this device has no
    /// copy of, so that they open offline (S14: the materials in hand before the meeting).
    /// Best effort: a file that cannot be fetched now is tried again at the next sync.
    pub(crate) async fn fetch_materials(&self, cache: &Cache, now: DateTime<Utc>) -> usize {
        let meetings = match cache.all_meetings().await {
            Ok(all) => all,
            Err(err) => {
                tracing::warn!(error = %err, "cannot list meetings for their materials");
                return 0;
            }
        };
        let mut fetched = 0;
        for cached in meetings {
            let view = &cached.view;
            if view.status == MeetingStatus::Cancelled || view.plan.ends_at <= now {
                continue;
            }
            for material in &view.materials {
                match self.has_copy(cache, material.id).await {
                    Ok(true) => continue,
                    Ok(false) => {}
                    Err(err) => {
                        tracing::warn!(error = %err, "cannot check a material");
                        continue;
                    }
                }
                match self.attachment_file(material.id, now).await {
                    Ok(_) => fetched += 1,
                    Err(err) if err.is_offline() => return fetched,
                    Err(err) => {
                        tracing::info!(material = %material.id, error = %err, "material not fetched")
                    }
                }
            }
        }
        fetched
    }

    /// Reads a calendar file from disk (size checked before reading it all).
    pub async fn read_calendar_path(
        &self,
        path: &std::path::Path,
        zone: Tz,
    ) -> Result<Vec<ImportedInvitation>> {
        let unreadable = |why: String| {
            ClientError::new(
                crate::ClientErrorCode::FileUnreadable,
                format!("Cannot read {}: {why}", path.display()),
            )
        };
        let size = tokio::fs::metadata(path)
            .await
            .map_err(|e| unreadable(e.to_string()))?
            .len();
        if size > ics::MAX_FILE_BYTES as u64 {
            return Err(ClientError::new(
                crate::ClientErrorCode::FileTooLarge,
                format!(
                    "{} is {size} bytes; a calendar invitation is at most {} bytes.",
                    path.display(),
                    ics::MAX_FILE_BYTES
                ),
            ));
        }
        let bytes = tokio::fs::read(path)
            .await
            .map_err(|e| unreadable(e.to_string()))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| unreadable("it is not a text file (not UTF-8).".to_owned()))?;
        self.read_calendar_file(&text, zone).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_keep_words_and_drop_what_a_file_system_refuses() {
        assert_eq!(
            file_name("预算评审 Q4/2026: final?"),
            "预算评审 Q4 2026 final.ics"
        );
        assert_eq!(file_name("///"), "meeting.ics");
    }

    #[test]
    fn only_our_uids_name_a_meeting() {
        let id = Uuid::now_v7();
        assert_eq!(our_meeting(&format!("{id}@countersign")), Some(id));
        assert_eq!(our_meeting(&format!("{id}@example.com")), None);
        assert_eq!(our_meeting("not-a-uuid@countersign"), None);
    }
}
