//! Meetings on this device (issue 7): the agenda and a meeting's detail answered from the
//! cache in the reader's own time zone, answers (RSVP) queued in the outbox so they work
//! offline, the receipts that tell the organiser an invitation reached this person (and when
//! they opened it), the reminders, and planning a new meeting (online only: the server
//! checks rooms for clashes and expands departments).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use countersign_api::attachments::AttachmentInfo;
use countersign_api::meetings::{
    CancelMeeting, MeetingEdit, MeetingReceipts, MeetingView, NewMeeting, RoomView, RsvpRequest,
};
use countersign_api::sync::MutationKind;
use countersign_domain::meetings::{Invitee, MeetingField, MeetingPlan, MeetingStatus, Rsvp};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Client;
use crate::cache::{Cache, CachedMeeting};
use crate::error::{ClientError, Result};
use crate::notify::{self, Planned};
use crate::refusals::Refusal;
use crate::work::{OutboxItem, invalid, new_entry, not_found, outbox_item, refused};

/// The zone used when the person's own cannot be told: the organisation's home zone.
pub const FALLBACK_TIME_ZONE: Tz = chrono_tz::Asia::Shanghai;

/// One line of the agenda.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct MeetingEntry {
    pub id: Uuid,
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// The start and end in the reader's zone, `YYYY-MM-DD HH:MM`.
    pub local_start: String,
    pub local_end: String,
    /// The zone `local_start` is in.
    pub time_zone: String,
    pub room: Option<String>,
    pub place: Option<String>,
    pub online_link: Option<String>,
    /// `scheduled` or `cancelled`.
    pub status: MeetingStatus,
    /// `invitee`, `organiser` or `delegate`.
    pub my_role: String,
    /// The reader's answer, as queued or as the server has it.
    pub my_answer: Option<Rsvp>,
    pub organiser_id: Uuid,
    pub organiser_name: String,
}

/// One person on a meeting, with a name from the cached directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct MeetingPerson {
    pub id: Uuid,
    pub name: String,
    pub via_department: Option<Uuid>,
    /// Only the reader's own answer is shown to an invitee; the organiser sees everyone's.
    pub answer: Option<Rsvp>,
    pub note: Option<String>,
    pub reached_at: Option<DateTime<Utc>>,
    pub opened_at: Option<DateTime<Utc>>,
}

/// A meeting in full.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct MeetingDetail {
    #[serde(flatten)]
    pub entry: MeetingEntry,
    pub agenda: String,
    /// The organiser's own zone (what "10:00" meant to them).
    pub organiser_time_zone: String,
    /// The booked room's id, for a form that changes the meeting.
    pub room_id: Option<Uuid>,
    pub people: Vec<MeetingPerson>,
    pub materials: Vec<AttachmentInfo>,
    /// What the last change changed.
    pub changed: Vec<MeetingField>,
    pub cancel_reason: Option<String>,
    pub my_note: Option<String>,
    /// When this device first showed the person the meeting.
    pub opened_at: Option<DateTime<Utc>>,
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub version: u64,
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub sequence: u64,
}

/// A new meeting as the person describes it: people by user name, departments by code, the
/// room by name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct MeetingForm {
    pub title: String,
    pub agenda: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// IANA zone; empty means [`FALLBACK_TIME_ZONE`].
    pub time_zone: String,
    pub room: Option<String>,
    pub place: Option<String>,
    pub online_link: Option<String>,
    pub invite: Vec<String>,
    pub departments: Vec<String>,
    /// People and departments by id, as the desktop's picker gives them.
    #[serde(default)]
    pub invite_ids: Vec<Uuid>,
    #[serde(default)]
    pub department_ids: Vec<Uuid>,
}

/// The zone to show times in: `named` when given, else the system's (`TZ`, then what the
/// operating system says), else [`FALLBACK_TIME_ZONE`].
pub fn zone_or_system(named: Option<&str>) -> Result<Tz> {
    if let Some(name) = named {
        return parse_zone(name);
    }
    let system = std::env::var("TZ")
        .ok()
        .map(|z| z.trim_start_matches(':').to_owned())
        .filter(|z| !z.trim().is_empty())
        .or_else(|| iana_time_zone::get_timezone().ok());
    Ok(system
        .and_then(|z| z.trim().parse().ok())
        .unwrap_or(FALLBACK_TIME_ZONE))
}

/// A change of a meeting's plan as a form gives it: every field as it should be now.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct MeetingChange {
    pub title: String,
    pub agenda: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// A room's id or name; `None` books no room.
    pub room: Option<String>,
    pub place: Option<String>,
    pub online_link: Option<String>,
}

/// `Asia/Shanghai` → the zone; anything else is a clear input error.
pub fn parse_zone(name: &str) -> Result<Tz> {
    name.trim().parse().map_err(|_| {
        invalid(format!(
            "'{name}' is not a time zone name such as Asia/Shanghai or America/New_York."
        ))
    })
}

pub(crate) fn local(at: DateTime<Utc>, zone: Tz) -> String {
    at.with_timezone(&zone).format("%Y-%m-%d %H:%M").to_string()
}

impl Client {
    /// The meetings that overlap `[from, to)`, by start, with times in `zone`.
    pub async fn meetings(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        zone: Tz,
    ) -> Result<Vec<MeetingEntry>> {
        let (cache, me) = self.open_cache().await?;
        let mut out = Vec::new();
        for cached in cache.meetings_between(from, to).await? {
            out.push(self.meeting_entry(&cache, me, &cached.view, zone).await);
        }
        Ok(out)
    }

    /// One meeting in full, with times in `zone`. Showing it notes, once, that the person
    /// opened it at `now`: the organiser's ledger learns it with the next receipt.
    pub async fn meeting(&self, id: Uuid, zone: Tz, now: DateTime<Utc>) -> Result<MeetingDetail> {
        let (cache, me) = self.open_cache().await?;
        let found = cache.meeting(id).await?;
        let Some(CachedMeeting { view, opened_at }) = found else {
            return Err(not_found(format!(
                "Meeting {id} is not on this device. Sync first?"
            )));
        };
        let opened_at = match opened_at {
            Some(at) => Some(at),
            None if view.my_role == "invitee" => {
                cache.note_meeting_opened(id, now).await?;
                Some(now)
            }
            None => None,
        };
        let entry = self.meeting_entry(&cache, me, &view, zone).await;
        let mut people = Vec::with_capacity(view.invitees.len());
        for i in &view.invitees {
            people.push(MeetingPerson {
                id: i.person_id,
                name: self.name_of(&cache, i.person_id).await,
                via_department: i.via_department,
                answer: i.answer,
                note: i.note.clone(),
                reached_at: i.reached_at,
                opened_at: i.opened_at,
            });
        }
        Ok(MeetingDetail {
            entry,
            agenda: view.plan.agenda.clone(),
            organiser_time_zone: view.plan.time_zone.clone(),
            room_id: view.plan.room_id,
            people,
            materials: view.materials.clone(),
            changed: view.changed.clone(),
            cancel_reason: view.cancel_reason.clone(),
            my_note: view.invitee(me).and_then(|i| i.note.clone()),
            opened_at,
            version: view.version,
            sequence: view.sequence,
        })
    }

    pub(crate) async fn meeting_entry(
        &self,
        cache: &Cache,
        me: Uuid,
        view: &MeetingView,
        zone: Tz,
    ) -> MeetingEntry {
        MeetingEntry {
            id: view.id,
            title: view.plan.title.clone(),
            starts_at: view.plan.starts_at,
            ends_at: view.plan.ends_at,
            local_start: local(view.plan.starts_at, zone),
            local_end: local(view.plan.ends_at, zone),
            time_zone: zone.name().to_owned(),
            room: view.room.as_ref().map(|r| r.name.clone()),
            place: view.plan.place.clone(),
            online_link: view.plan.online_link.clone(),
            status: view.status,
            my_role: view.my_role.clone(),
            my_answer: view.invitee(me).and_then(|i| i.answer),
            organiser_id: view.organiser_id,
            organiser_name: self.name_of(cache, view.organiser_id).await,
        }
    }

    /// Answers an invitation: queued in the outbox (sent with the next sync, offline or not)
    /// and shown on the cached meeting at once. A cancelled meeting, or one the person is
    /// not invited to, is refused here without a round trip.
    pub async fn rsvp(
        &self,
        id: Uuid,
        answer: Rsvp,
        note: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<OutboxItem> {
        let (cache, me) = self.open_cache().await?;
        let mut view = cache
            .meeting(id)
            .await?
            .ok_or_else(|| not_found(format!("Meeting {id} is not on this device. Sync first?")))?
            .view;
        let title = view.plan.title.clone();
        let locale = self.locale().await;
        if view.status == MeetingStatus::Cancelled {
            return Err(refused(
                Refusal::MeetingCancelled { title: &title }.text(locale),
            ));
        }
        let note = note.filter(|n| !n.trim().is_empty());
        let Some(mine) = view.invitees.iter_mut().find(|i| i.person_id == me) else {
            return Err(refused(Refusal::NotInvited { title: &title }.text(locale)));
        };
        mine.answer = Some(answer);
        mine.note = note.clone();
        mine.answered_at = Some(now);
        let payload = RsvpRequest {
            meeting_id: Some(id),
            answer,
            note,
        };
        let entry = new_entry(
            MutationKind::RsvpMeeting,
            id,
            None,
            &format!("rsvp_{}", answer.as_str()),
            Some(view.version),
            serde_json::to_value(&payload).map_err(|e| ClientError::internal(e.to_string()))?,
            now,
        );
        cache.queue_rsvp(&entry, &view).await?;
        Ok(outbox_item(&entry))
    }

    /// Queues one `meeting_receipts` mutation for every invitation (and opening) not yet
    /// acknowledged; true when one was queued. Called by sync after a pull.
    pub(crate) async fn queue_meeting_receipts(
        &self,
        cache: &Cache,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let receipts = cache.receipts_due().await?;
        let Some(first) = receipts.first() else {
            return Ok(false);
        };
        let payload = MeetingReceipts {
            receipts: receipts.clone(),
        };
        let entry = new_entry(
            MutationKind::MeetingReceipts,
            first.meeting_id,
            None,
            "receipts",
            None,
            serde_json::to_value(&payload).map_err(|e| ClientError::internal(e.to_string()))?,
            now,
        );
        cache.queue_receipts(&entry, &receipts).await?;
        Ok(true)
    }

    /// The meeting reminders due at `now` (the preference's minutes before each start),
    /// recorded as shown. The sync and watch loops call it with the clock's time.
    pub async fn meeting_reminders(&self, now: DateTime<Utc>) -> Result<Vec<Planned>> {
        let (cache, me) = self.open_cache().await?;
        self.meeting_reminders_with(&cache, me, now).await
    }

    /// When the next meeting reminder after `now` comes due (the watch loop sleeps until then).
    pub async fn next_meeting_reminder(&self, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>> {
        let (cache, me) = self.open_cache().await?;
        let minutes = self.preferences().await.meeting_reminder_minutes;
        let meetings: Vec<MeetingView> = cache
            .all_meetings()
            .await?
            .into_iter()
            .map(|m| m.view)
            .collect();
        Ok(notify::next_meeting_reminder(me, &meetings, minutes, now))
    }

    pub(crate) async fn meeting_reminders_with(
        &self,
        cache: &Cache,
        me: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Vec<Planned>> {
        let minutes = self.preferences().await.meeting_reminder_minutes;
        let meetings: Vec<MeetingView> = cache
            .all_meetings()
            .await?
            .into_iter()
            .map(|m| m.view)
            .collect();
        let mut notes = self.notification_notes(cache).await?;
        let planned = notes
            .apply(|record| notify::plan_meeting_reminders(me, &meetings, minutes, now, record));
        if !planned.is_empty() {
            cache.keep_notes(&notes.take_kept()?).await?;
        }
        Ok(planned)
    }

    /// The meeting as the organiser may change it, fetched fresh from the server: refused
    /// here for anyone else or for a cancelled meeting. Answers and receipts move a meeting's
    /// version all the time; they do not touch what the organiser changes, so a change is
    /// made on the server's current version. Only a change of the plan, the invitees or the
    /// materials since this device synced (another `sequence`) is a conflict, said so; the
    /// cache then holds the newer meeting to look at again.
    async fn organised(&self, cache: &Cache, me: Uuid, id: Uuid) -> Result<MeetingView> {
        let cached = cache
            .meeting(id)
            .await?
            .ok_or_else(|| not_found(format!("Meeting {id} is not on this device. Sync first?")))?
            .view;
        let locale = self.locale().await;
        if cached.organiser_id != me {
            return Err(refused(
                Refusal::OnlyOrganiser {
                    title: &cached.plan.title,
                }
                .text(locale),
            ));
        }
        let fresh = self
            .authed(|api, access| async move { api.meeting(&access, id).await })
            .await?;
        cache.put_meeting(&fresh).await?;
        let title = fresh.plan.title.as_str();
        if fresh.status == MeetingStatus::Cancelled {
            return Err(refused(Refusal::MeetingCancelled { title }.text(locale)));
        }
        if fresh.sequence != cached.sequence {
            return Err(refused(
                Refusal::MeetingChangedElsewhere { title }.text(locale),
            ));
        }
        Ok(fresh)
    }

    /// Changes a meeting's plan (online). `change` edits a copy of the current plan; the
    /// server re-notifies everyone with what changed, and refuses with `conflict` when the
    /// meeting moved on since this device last synced it.
    pub async fn edit_meeting(
        &self,
        id: Uuid,
        change: impl FnOnce(&mut MeetingPlan),
    ) -> Result<MeetingView> {
        let (cache, me) = self.open_cache().await?;
        let view = self.organised(&cache, me, id).await?;
        let mut plan = view.plan.clone();
        change(&mut plan);
        let edit = MeetingEdit {
            plan,
            invitees: None,
            materials: None,
            expected_version: Some(view.version),
        };
        self.send_edit(&cache, id, edit).await
    }

    /// Changes a meeting to what a form says (online); see [`Client::edit_meeting`].
    pub async fn change_meeting(&self, id: Uuid, change: &MeetingChange) -> Result<MeetingView> {
        let (cache, _) = self.open_cache().await?;
        let booked = cache.meeting(id).await?.and_then(|m| m.view.plan.room_id);
        let room_id = match change
            .room
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
        {
            None => None,
            // The room it has stays without a lookup: one no longer bookable must not keep
            // the rest of the meeting from being changed.
            Some(same) if booked.is_some_and(|b| b.to_string() == same) => booked,
            Some(name) => Some(self.room_named(name).await?),
        };
        let blank_is_none = |v: &Option<String>| v.clone().filter(|t| !t.trim().is_empty());
        let (place, online_link) = (
            blank_is_none(&change.place),
            blank_is_none(&change.online_link),
        );
        self.edit_meeting(id, |plan| {
            plan.title = change.title.clone();
            plan.agenda = change.agenda.clone();
            plan.starts_at = change.starts_at;
            plan.ends_at = change.ends_at;
            plan.room_id = room_id;
            plan.place = place;
            plan.online_link = online_link;
        })
        .await
    }

    /// Adds the files at `files` to the meeting's materials (online): each is uploaded, then
    /// the meeting names them all; invitees are told the materials changed.
    pub async fn add_materials(
        &self,
        id: Uuid,
        files: &[std::path::PathBuf],
    ) -> Result<MeetingView> {
        let (cache, me) = self.open_cache().await?;
        let view = self.organised(&cache, me, id).await?;
        if files.is_empty() {
            return Ok(view);
        }
        let mut materials: Vec<Uuid> = view.materials.iter().map(|m| m.id).collect();
        for file in files {
            materials.push(self.upload_file(file).await?.id);
        }
        let edit = MeetingEdit {
            plan: view.plan.clone(),
            invitees: None,
            materials: Some(materials),
            expected_version: Some(view.version),
        };
        self.send_edit(&cache, id, edit).await
    }

    async fn send_edit(&self, cache: &Cache, id: Uuid, edit: MeetingEdit) -> Result<MeetingView> {
        let view = self
            .authed(|api, access| {
                let edit = edit.clone();
                async move { api.edit_meeting(&access, id, &edit).await }
            })
            .await?;
        cache.put_meeting(&view).await?;
        Ok(view)
    }

    /// Cancels a meeting (online); everyone invited is told, with `reason`.
    pub async fn cancel_meeting(&self, id: Uuid, reason: Option<String>) -> Result<MeetingView> {
        let (cache, me) = self.open_cache().await?;
        self.organised(&cache, me, id).await?;
        let cancel = CancelMeeting {
            reason: reason.filter(|r| !r.trim().is_empty()),
        };
        let view = self
            .authed(|api, access| {
                let cancel = cancel.clone();
                async move { api.cancel_meeting(&access, id, &cancel).await }
            })
            .await?;
        cache.put_meeting(&view).await?;
        Ok(view)
    }

    /// The room called `name` (or with that id), or a clear error listing the rooms (online).
    pub async fn room_named(&self, name: &str) -> Result<Uuid> {
        let rooms = self.rooms().await?;
        rooms
            .iter()
            .find(|r| r.name == name || r.id.to_string() == name)
            .map(|r| r.id)
            .ok_or_else(|| {
                let names: Vec<&str> = rooms.iter().map(|r| r.name.as_str()).collect();
                invalid(format!(
                    "There is no room '{name}'. Rooms: {}.",
                    names.join(", ")
                ))
            })
    }

    /// The meeting's online link, trimmed, when it is a web link (http or https); read from
    /// the cache without noting the meeting as opened.
    pub async fn meeting_web_link(&self, id: Uuid) -> Result<String> {
        let (cache, _) = self.open_cache().await?;
        let view = cache
            .meeting(id)
            .await?
            .ok_or_else(|| not_found(format!("Meeting {id} is not on this device. Sync first?")))?
            .view;
        let link = view
            .plan
            .online_link
            .as_deref()
            .map(str::trim)
            .unwrap_or_default();
        if link.is_empty() {
            return Err(invalid(format!(
                "“{}” has no online link.",
                view.plan.title
            )));
        }
        if !countersign_domain::meetings::is_web_link(link) {
            return Err(invalid(format!(
                "“{link}” is not a web link this app opens."
            )));
        }
        Ok(link.to_owned())
    }

    /// The bookable rooms (online).
    pub async fn rooms(&self) -> Result<Vec<RoomView>> {
        self.authed(|api, access| async move { api.rooms(&access).await })
            .await
    }

    /// Plans a meeting and sends the invitations (online: the server checks the room and
    /// expands departments). People and departments are looked up in the cached directory;
    /// the server's refusals (a room clash naming the other meeting) come back as they are.
    pub async fn new_meeting(&self, form: &MeetingForm) -> Result<MeetingView> {
        let (cache, _) = self.open_cache().await?;
        let mut invitees = Vec::new();
        for username in &form.invite {
            let person = cache
                .person_by_username(username)
                .await?
                .filter(|p| p.active)
                .ok_or_else(|| {
                    invalid(format!(
                        "There is no active colleague '{username}' in the directory."
                    ))
                })?;
            invitees.push(Invitee::Person(person.id));
        }
        for id in &form.invite_ids {
            let person = cache.person(*id).await?.filter(|p| p.active).ok_or_else(|| {
                invalid(format!(
                    "Colleague {id} is not in the directory any more; remove them and try again."
                ))
            })?;
            invitees.push(Invitee::Person(person.id));
        }
        invitees.extend(form.department_ids.iter().copied().map(Invitee::Department));
        if !form.departments.is_empty() {
            let departments = cache.departments().await?;
            for code in &form.departments {
                let department = departments
                    .iter()
                    .find(|d| d.code.eq_ignore_ascii_case(code))
                    .ok_or_else(|| invalid(format!("There is no department '{code}'.")))?;
                invitees.push(Invitee::Department(department.id));
            }
        }
        let room_id = match form
            .room
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
        {
            None => None,
            Some(name) => Some(self.room_named(name).await?),
        };
        let time_zone = if form.time_zone.trim().is_empty() {
            FALLBACK_TIME_ZONE.name().to_owned()
        } else {
            parse_zone(&form.time_zone)?.name().to_owned()
        };
        let new = NewMeeting {
            id: Some(Uuid::now_v7()),
            plan: MeetingPlan {
                title: form.title.clone(),
                agenda: form.agenda.clone(),
                starts_at: form.starts_at,
                ends_at: form.ends_at,
                time_zone,
                room_id,
                place: form.place.clone(),
                online_link: form.online_link.clone(),
                materials_due: None,
            },
            invitees,
            materials: Vec::new(),
        };
        let view = self
            .authed(|api, access| {
                let new = new.clone();
                async move { api.new_meeting(&access, &new).await }
            })
            .await?;
        cache.put_meeting(&view).await?;
        Ok(view)
    }
}
