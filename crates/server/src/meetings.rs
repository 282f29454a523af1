//! Meetings (requirement S14): planning, changing and cancelling, answers, receipts and the
//! coverage report. The plan's rules are the domain's (`countersign_domain::meetings`); this
//! module expands departments into people (frozen at send time, departed people skipped and
//! reported), adds delegates, checks rooms and materials, and writes each change with its
//! audit line and feed rows in one transaction.
//!
//! Fan-out is kept small on purpose: a change of the plan goes to everyone on the meeting,
//! but an answer or a receipt goes only to the person and the organiser, so a meeting of 200
//! answering does not write 200 × 200 feed rows. That is why invitees see their own answer
//! and not everyone else's.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Datelike, Utc};
use countersign_api::attachments::AttachmentInfo;
use countersign_api::meetings::{
    CancelMeeting, CoverageMonth, CoverageReport, InviteeView, MeetingCoverage, MeetingEdit,
    MeetingReceipts, MeetingView, NewMeeting, ReceiptsRecorded, RoomClash, RoomView, RsvpRequest,
    SkippedInvitee,
};
use countersign_domain::meetings::{
    self as rules, Invitee, MeetingField, MeetingPlan, MeetingStatus, Rsvp,
};
use uuid::Uuid;

use crate::auth::{Caller, Origin};
use crate::error::{Error, Result};
use crate::policy::{self, Permission};
use crate::requests::{MutationTag, plain_refusal};
use crate::state::AppState;
use crate::store::{
    DELEGATE, FeedNotice, FeedRow, INVITEE, LedgerChange, LedgerWrite, MeetingMaterial,
    MeetingPerson, MeetingRecord, MeetingWrite, MeetingWriteOutcome, PersonStatus, Room,
    StoreError,
};

/// The longest note on an answer, in characters.
pub const MAX_NOTE_CHARS: usize = 500;
/// The most people one meeting may invite after departments are expanded.
pub const MAX_INVITEES: usize = 2_000;
/// The most receipts one call may carry.
pub const MAX_RECEIPTS: usize = 500;

/// Who ends up on a meeting, and whom the organiser named but could not invite.
struct Expanded {
    people: Vec<MeetingPerson>,
    skipped: Vec<SkippedInvitee>,
}

fn refused(code: &str, message: impl Into<String>) -> Error {
    Error::rule(plain_refusal(code, message))
}

/// The feed rows of a content change: an upsert for everyone on the meeting, a delete for
/// those who were and no longer are.
fn meeting_feed(record: &MeetingRecord, people: &[Uuid], removed: &[Uuid]) -> Vec<FeedRow> {
    let mut audience: BTreeSet<Uuid> = people.iter().copied().collect();
    audience.insert(record.organiser_id);
    let upserts = audience.into_iter().map(|person| FeedRow {
        audience: person,
        kind: "meeting",
        entity_id: record.id.to_string(),
        version: record.revision,
        op: "upsert",
    });
    let deletes = removed.iter().map(|person| FeedRow {
        audience: *person,
        kind: "meeting",
        entity_id: record.id.to_string(),
        version: record.revision,
        op: "delete",
    });
    upserts.chain(deletes).collect()
}

/// A meeting as `reader` sees it. The ledger and everyone's answers are for the organiser and
/// those who read reports; an invitee sees who is invited and their own line.
pub fn view(
    record: &MeetingRecord,
    people: &[MeetingPerson],
    materials: &[MeetingMaterial],
    rooms: &HashMap<Uuid, Room>,
    reader: Uuid,
    reads_reports: bool,
) -> MeetingView {
    let sees_ledger = reader == record.organiser_id || reads_reports;
    let my_role = if reader == record.organiser_id {
        "organiser"
    } else if people
        .iter()
        .any(|p| p.person_id == reader && p.is_invitee())
    {
        "invitee"
    } else {
        DELEGATE
    };
    let invitees = people
        .iter()
        .filter(|p| p.is_invitee())
        .map(|p| {
            let full = sees_ledger || p.person_id == reader;
            InviteeView {
                person_id: p.person_id,
                via_department: p.via_department,
                answer: p.answer.filter(|_| full),
                note: p.note.clone().filter(|_| full),
                answered_at: p.answered_at.filter(|_| full),
                reached_at: p.reached_at.filter(|_| full && p.reached(record.sequence)),
                opened_at: p.opened_at.filter(|_| full),
            }
        })
        .collect();
    MeetingView {
        id: record.id,
        version: u64::try_from(record.revision).unwrap_or(0),
        sequence: u64::try_from(record.sequence).unwrap_or(0),
        organiser_id: record.organiser_id,
        plan: record.plan.clone(),
        status: record.status,
        room: record
            .plan
            .room_id
            .and_then(|id| rooms.get(&id))
            .map(room_view),
        materials: materials
            .iter()
            .map(|m| AttachmentInfo {
                id: m.attachment_id,
                name: m.name.clone(),
                size: m.size,
                content_type: m.content_type.clone(),
            })
            .collect(),
        invitees,
        changed: record.changed.clone(),
        cancel_reason: record.cancel_reason.clone(),
        skipped: if sees_ledger {
            record.skipped.clone()
        } else {
            Vec::new()
        },
        my_role: my_role.to_owned(),
        created_at: record.created_at,
        updated_at: record.updated_at,
        cancelled_at: record.cancelled_at,
    }
}

fn room_view(room: &Room) -> RoomView {
    RoomView {
        id: room.id,
        name: room.name.clone(),
        capacity: room.capacity.and_then(|c| u32::try_from(c).ok()),
    }
}

/// Whether `person` may see the meeting: the organiser and everyone on it.
fn may_see(record: &MeetingRecord, people: &[MeetingPerson], person: Uuid) -> bool {
    record.organiser_id == person || people.iter().any(|p| p.person_id == person)
}

/// The plan's problems as one refusal: the first problem's code when there is one, the
/// sentences of all.
fn plan_refusal(problems: &[rules::PlanProblem]) -> Error {
    let code = match problems {
        [one] => one.code(),
        _ => "invalid_meeting",
    };
    let message = problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ");
    refused(code, message)
}

fn local_time(at: DateTime<Utc>, zone: &str) -> String {
    match zone.parse::<chrono_tz::Tz>() {
        Ok(tz) => at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string(),
        Err(_) => at.format("%Y-%m-%d %H:%M UTC").to_string(),
    }
}

fn clash_refusal(room: &str, clash: &RoomClash, zone: &str) -> Error {
    refused(
        "room_taken",
        format!(
            "{room} is booked by “{}” from {} to {} ({zone}); pick another room or time.",
            clash.title,
            local_time(clash.starts_at, zone),
            local_time(clash.ends_at, zone)
                .rsplit(' ')
                .next()
                .unwrap_or_default(),
        ),
    )
}

impl AppState {
    /// The rooms, by name.
    pub async fn rooms(&self) -> Result<Vec<RoomView>> {
        Ok(self
            .store
            .list_rooms()
            .await?
            .iter()
            .filter(|r| r.active)
            .map(room_view)
            .collect())
    }

    async fn room_map(&self) -> Result<HashMap<Uuid, Room>> {
        Ok(self
            .store
            .list_rooms()
            .await?
            .into_iter()
            .map(|r| (r.id, r))
            .collect())
    }

    /// Expands the organiser's list into people, frozen now: departments with their
    /// sub-departments' people, departed or disabled people skipped with the reason, the
    /// organiser left out (they are not their own invitee), delegates of everyone added.
    async fn expand_invitees(
        &self,
        organiser: Uuid,
        named: &[Invitee],
        now: DateTime<Utc>,
        previous: &[MeetingPerson],
    ) -> Result<Expanded> {
        let people = self.store.list_people().await?;
        let departments = self.store.list_departments().await?;
        let by_id: HashMap<Uuid, &crate::store::Person> =
            people.iter().map(|p| (p.id, p)).collect();
        let mut invited: BTreeMap<Uuid, Option<Uuid>> = BTreeMap::new();
        let mut skipped = Vec::new();
        let mut skip = |person: Uuid, reason: &str| {
            if !skipped
                .iter()
                .any(|s: &SkippedInvitee| s.person_id == person)
            {
                skipped.push(SkippedInvitee {
                    person_id: person,
                    reason: reason.to_owned(),
                });
            }
        };
        // People named one by one first, so someone named and also in a department counts
        // as named.
        for invitee in named {
            if let Invitee::Person(id) = invitee {
                match by_id.get(id).map(|p| p.status) {
                    None => skip(*id, "unknown_person"),
                    Some(PersonStatus::Departed) => skip(*id, "departed"),
                    Some(PersonStatus::Disabled) => skip(*id, "disabled"),
                    Some(PersonStatus::Active | PersonStatus::Invited) => {
                        invited.insert(*id, None);
                    }
                }
            }
        }
        for invitee in named {
            let Invitee::Department(root) = invitee else {
                continue;
            };
            if !departments.iter().any(|d| d.id == *root) {
                return Err(refused(
                    "unknown_department",
                    format!("There is no department {root}."),
                ));
            }
            // The department and everything below it.
            let mut tree = vec![*root];
            let mut at = 0;
            while at < tree.len() {
                let parent = tree[at];
                let children: Vec<Uuid> = departments
                    .iter()
                    .filter(|d| d.parent_id == Some(parent) && !tree.contains(&d.id))
                    .map(|d| d.id)
                    .collect();
                tree.extend(children);
                at += 1;
            }
            for p in people
                .iter()
                .filter(|p| p.department_id.is_some_and(|d| tree.contains(&d)))
            {
                // Whole-department invitations quietly leave out those who left: they are
                // not "named" by the organiser, so there is nothing to report.
                if matches!(p.status, PersonStatus::Active | PersonStatus::Invited) {
                    invited.entry(p.id).or_insert(Some(*root));
                }
            }
        }
        invited.remove(&organiser);
        if invited.len() > MAX_INVITEES {
            return Err(refused(
                "too_many_invitees",
                format!(
                    "This would invite {} people; a meeting may invite at most {MAX_INVITEES}.",
                    invited.len()
                ),
            ));
        }
        let kept: HashMap<Uuid, &MeetingPerson> =
            previous.iter().map(|p| (p.person_id, p)).collect();
        let mut result: Vec<MeetingPerson> = invited
            .iter()
            .map(|(person, via)| match kept.get(person) {
                // Someone still invited keeps their answer and ledger.
                Some(p) if p.is_invitee() => MeetingPerson {
                    via_department: *via,
                    ..(*p).clone()
                },
                _ => MeetingPerson {
                    meeting_id: Uuid::nil(),
                    person_id: *person,
                    role: INVITEE.to_owned(),
                    via_department: *via,
                    invited_at: now,
                    reached_at: None,
                    reached_sequence: None,
                    opened_at: None,
                    answer: None,
                    note: None,
                    answered_at: None,
                },
            })
            .collect();
        // Delegates of the organiser and of each invitee, for delegations in force now.
        let principals: BTreeSet<Uuid> = invited.keys().copied().chain([organiser]).collect();
        let mut delegates = BTreeSet::new();
        for d in self.store.list_delegations().await? {
            if principals.contains(&d.from_id)
                && d.starts_at <= now
                && now < d.ends_at
                && !principals.contains(&d.to_id)
                && by_id
                    .get(&d.to_id)
                    .is_some_and(|p| p.status == PersonStatus::Active)
            {
                delegates.insert(d.to_id);
            }
        }
        result.extend(delegates.into_iter().map(|person| MeetingPerson {
            meeting_id: Uuid::nil(),
            person_id: person,
            role: DELEGATE.to_owned(),
            via_department: None,
            invited_at: kept.get(&person).map_or(now, |p| p.invited_at),
            reached_at: None,
            reached_sequence: None,
            opened_at: None,
            answer: None,
            note: None,
            answered_at: None,
        }));
        Ok(Expanded {
            people: result,
            skipped,
        })
    }

    /// Checks that each material is a file the organiser uploaded or one already on the
    /// meeting.
    async fn check_materials(
        &self,
        organiser: Uuid,
        materials: &[Uuid],
        current: &[MeetingMaterial],
    ) -> Result<()> {
        let found = self.store.find_attachments(materials).await?;
        for id in materials {
            let ok = current.iter().any(|m| m.attachment_id == *id)
                || found
                    .iter()
                    .any(|a| a.id == *id && a.uploader_id == organiser);
            if !ok {
                return Err(refused(
                    "unknown_material",
                    format!(
                        "Attachment {id} is not a file you uploaded; upload it first \
                         (POST /v1/attachments)."
                    ),
                ));
            }
        }
        Ok(())
    }

    async fn check_room(&self, plan: &MeetingPlan) -> Result<Option<Room>> {
        let Some(id) = plan.room_id else {
            return Ok(None);
        };
        match self
            .store
            .list_rooms()
            .await?
            .into_iter()
            .find(|r| r.id == id)
        {
            Some(room) if room.active => Ok(Some(room)),
            Some(room) => Err(refused(
                "room_unavailable",
                format!("{} can no longer be booked.", room.name),
            )),
            None => Err(refused("unknown_room", format!("There is no room {id}."))),
        }
    }

    /// Audits a refused meeting change and hands back the error.
    async fn refuse_meeting(
        &self,
        caller: &Caller,
        action: &str,
        id: Uuid,
        error: Error,
        origin: &Origin,
    ) -> Error {
        let outcome = match &error {
            Error::Refused {
                refusal: Some(view),
                ..
            } => view.code.clone(),
            other => other.code().as_str().to_owned(),
        };
        let entry = self.audit_entry(caller, action, format!("meeting:{id}"), &outcome, origin);
        match self.store.append_audit(&entry).await {
            Ok(_) => error,
            Err(e) => e.into(),
        }
    }

    /// Plans a meeting and sends its invitations.
    pub async fn create_meeting(
        &self,
        caller: &Caller,
        req: NewMeeting,
        origin: &Origin,
    ) -> Result<MeetingView> {
        let id = req.id.unwrap_or_else(Uuid::now_v7);
        let materials = req.materials.clone();
        match self.try_create_meeting(caller, id, req).await {
            Ok((record, expanded)) => {
                let people: Vec<Uuid> = expanded.people.iter().map(|p| p.person_id).collect();
                let write = MeetingWrite {
                    feed: meeting_feed(&record, &people, &[]),
                    audit: self.audit_entry(
                        caller,
                        "meeting.create",
                        format!("meeting:{id}"),
                        "ok",
                        origin,
                    ),
                    meeting: record,
                    expected_revision: None,
                    people: Some(expanded.people),
                    materials: Some(materials),
                    mutation: None,
                };
                self.finish_meeting_write(caller, write, "meeting.create", origin)
                    .await
            }
            Err(e) => Err(self
                .refuse_meeting(caller, "meeting.create", id, e, origin)
                .await),
        }
    }

    async fn try_create_meeting(
        &self,
        caller: &Caller,
        id: Uuid,
        req: NewMeeting,
    ) -> Result<(MeetingRecord, Expanded)> {
        let now = self.clock.now();
        let problems = rules::check_plan(&req.plan, &req.invitees, now, None);
        if !problems.is_empty() {
            return Err(plan_refusal(&problems));
        }
        if self.store.find_meeting(id).await?.is_some() {
            return Err(refused("id_taken", "That meeting id is already in use."));
        }
        self.check_room(&req.plan).await?;
        self.check_materials(caller.person.id, &req.materials, &[])
            .await?;
        let expanded = self
            .expand_invitees(caller.person.id, &req.invitees, now, &[])
            .await?;
        if !expanded.people.iter().any(MeetingPerson::is_invitee) {
            return Err(refused(
                "no_invitees",
                "Nobody could be invited: everyone named has left or is disabled.",
            ));
        }
        Ok((
            MeetingRecord {
                id,
                organiser_id: caller.person.id,
                plan: tidy(req.plan),
                status: MeetingStatus::Scheduled,
                sequence: 1,
                revision: 1,
                changed: Vec::new(),
                cancel_reason: None,
                skipped: expanded.skipped.clone(),
                created_at: now,
                updated_at: now,
                cancelled_at: None,
            },
            expanded,
        ))
    }
}

/// Trims the plan's texts; an empty place or link is none.
fn tidy(mut plan: MeetingPlan) -> MeetingPlan {
    plan.title = plan.title.trim().to_owned();
    let empty_none = |s: Option<String>| s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    plan.place = empty_none(plan.place);
    plan.online_link = empty_none(plan.online_link);
    plan
}

impl AppState {
    /// Writes a meeting change and answers with the meeting as the caller sees it; a room
    /// clash, a stale version or a clash of ids is refused (and audited) with nothing written.
    async fn finish_meeting_write(
        &self,
        caller: &Caller,
        write: MeetingWrite,
        action: &str,
        origin: &Origin,
    ) -> Result<MeetingView> {
        let id = write.meeting.id;
        match self.store.write_meeting(&write).await {
            Ok(MeetingWriteOutcome::Written { last_seq }) => {
                self.events.publish(FeedNotice::of(&write.feed, last_seq));
                self.meeting_for(caller, id).await
            }
            Ok(MeetingWriteOutcome::Stale) => Err(self
                .refuse_meeting(
                    caller,
                    action,
                    id,
                    Error::refused(
                        countersign_api::ErrorCode::Conflict,
                        "The meeting was changed by someone else a moment ago; look at it \
                         again and repeat your change.",
                    ),
                    origin,
                )
                .await),
            Ok(MeetingWriteOutcome::RoomTaken(clash)) => {
                let rooms = self.room_map().await?;
                let name = write
                    .meeting
                    .plan
                    .room_id
                    .and_then(|r| rooms.get(&r))
                    .map_or_else(|| "The room".to_owned(), |r| r.name.clone());
                let error = clash_refusal(&name, &clash, &write.meeting.plan.time_zone);
                Err(self.refuse_meeting(caller, action, id, error, origin).await)
            }
            Err(StoreError::Conflict { constraint }) => Err(self
                .refuse_meeting(
                    caller,
                    action,
                    id,
                    Error::refused(
                        countersign_api::ErrorCode::Conflict,
                        format!("That meeting already exists ({constraint})."),
                    ),
                    origin,
                )
                .await),
            Err(e) => Err(e.into()),
        }
    }

    /// A meeting the caller may see, with its people and materials, or "not found" (never
    /// "forbidden": whether a meeting exists is not for everyone to learn).
    async fn visible_meeting(
        &self,
        caller: &Caller,
        id: Uuid,
    ) -> Result<(MeetingRecord, Vec<MeetingPerson>, Vec<MeetingMaterial>)> {
        let record = self.store.find_meeting(id).await?;
        let Some(record) = record else {
            return Err(Error::not_found("That meeting"));
        };
        let people = self.store.meeting_people(&[id]).await?;
        if !may_see(&record, &people, caller.person.id)
            && !policy::has(&caller.person, Permission::ReadReports)
        {
            return Err(Error::not_found("That meeting"));
        }
        let materials = self.store.meeting_materials(&[id]).await?;
        Ok((record, people, materials))
    }

    async fn meeting_for(&self, caller: &Caller, id: Uuid) -> Result<MeetingView> {
        let (record, people, materials) = self.visible_meeting(caller, id).await?;
        Ok(view(
            &record,
            &people,
            &materials,
            &self.room_map().await?,
            caller.person.id,
            policy::has(&caller.person, Permission::ReadReports),
        ))
    }

    /// `GET /v1/meetings/{id}`.
    pub async fn read_meeting(
        &self,
        caller: &Caller,
        id: Uuid,
        origin: &Origin,
    ) -> Result<MeetingView> {
        let found = self.meeting_for(caller, id).await;
        let outcome = match &found {
            Ok(_) => "ok",
            Err(e) => e.code().as_str(),
        };
        let entry = self.audit_entry(
            caller,
            "meeting.read",
            format!("meeting:{id}"),
            outcome,
            origin,
        );
        self.store.append_audit(&entry).await?;
        found
    }

    /// `GET /v1/meetings`: the caller's meetings starting in `[from, to)`.
    pub async fn my_meetings(
        &self,
        caller: &Caller,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        origin: &Origin,
    ) -> Result<Vec<MeetingView>> {
        // A period that ends before it starts holds no meetings: an empty answer, not an error.
        let records = if to <= from {
            Vec::new()
        } else {
            self.store.meetings_of(caller.person.id, from, to).await?
        };
        let views = self.views_of(caller, records).await?;
        let entry = self.audit_entry(
            caller,
            "meeting.list",
            format!("meetings:{}..{}", from.to_rfc3339(), to.to_rfc3339()),
            "ok",
            origin,
        );
        self.store.append_audit(&entry).await?;
        Ok(views)
    }

    /// Views of these meetings for the caller, leaving out those they may not see.
    async fn views_of(
        &self,
        caller: &Caller,
        records: Vec<MeetingRecord>,
    ) -> Result<Vec<MeetingView>> {
        let ids: Vec<Uuid> = records.iter().map(|r| r.id).collect();
        let people = self.store.meeting_people(&ids).await?;
        let materials = self.store.meeting_materials(&ids).await?;
        let rooms = self.room_map().await?;
        let reads_reports = policy::has(&caller.person, Permission::ReadReports);
        Ok(records
            .iter()
            .filter_map(|r| {
                let on: Vec<MeetingPerson> = people
                    .iter()
                    .filter(|p| p.meeting_id == r.id)
                    .cloned()
                    .collect();
                if !may_see(r, &on, caller.person.id) {
                    return None;
                }
                let files: Vec<MeetingMaterial> = materials
                    .iter()
                    .filter(|m| m.meeting_id == r.id)
                    .cloned()
                    .collect();
                Some(view(
                    r,
                    &on,
                    &files,
                    &rooms,
                    caller.person.id,
                    reads_reports,
                ))
            })
            .collect())
    }

    /// The sync feed's meetings, by id, as JSON for the caller.
    pub(crate) async fn meeting_data(
        &self,
        caller: &Caller,
        ids: &[Uuid],
    ) -> Result<BTreeMap<Uuid, serde_json::Value>> {
        if ids.is_empty() {
            return Ok(BTreeMap::new());
        }
        let records = self.store.find_meetings(ids).await?;
        Ok(self
            .views_of(caller, records)
            .await?
            .into_iter()
            .filter_map(|v| Some((v.id, serde_json::to_value(&v).ok()?)))
            .collect())
    }

    /// The meeting for a change by its organiser, or the refusal.
    async fn organisers_meeting(
        &self,
        caller: &Caller,
        id: Uuid,
    ) -> Result<(MeetingRecord, Vec<MeetingPerson>, Vec<MeetingMaterial>)> {
        let (record, people, materials) = self.visible_meeting(caller, id).await?;
        if record.organiser_id != caller.person.id {
            return Err(Error::forbidden(
                "Only the organiser may change or cancel a meeting.",
            ));
        }
        if record.status == MeetingStatus::Cancelled {
            return Err(refused(
                "meeting_cancelled",
                "This meeting was cancelled; plan a new one instead.",
            ));
        }
        Ok((record, people, materials))
    }

    /// `PUT /v1/meetings/{id}`: changes the plan, the invitees or the materials. The
    /// invitees are told once, with what changed; a change that changes nothing writes
    /// nothing.
    pub async fn edit_meeting(
        &self,
        caller: &Caller,
        id: Uuid,
        edit: MeetingEdit,
        origin: &Origin,
    ) -> Result<MeetingView> {
        match self.try_edit_meeting(caller, id, edit, origin).await {
            Ok(Some(write)) => {
                self.finish_meeting_write(caller, write, "meeting.update", origin)
                    .await
            }
            Ok(None) => self.meeting_for(caller, id).await,
            Err(e) => Err(self
                .refuse_meeting(caller, "meeting.update", id, e, origin)
                .await),
        }
    }

    async fn try_edit_meeting(
        &self,
        caller: &Caller,
        id: Uuid,
        edit: MeetingEdit,
        origin: &Origin,
    ) -> Result<Option<MeetingWrite>> {
        let (record, people, materials) = self.organisers_meeting(caller, id).await?;
        if let Some(expected) = edit.expected_version
            && i64::try_from(expected).ok() != Some(record.revision)
        {
            return Err(Error::refused(
                countersign_api::ErrorCode::Conflict,
                "The meeting changed since you opened it (someone answered or it was \
                 edited); look at it again and repeat your change.",
            ));
        }
        let now = self.clock.now();
        let plan = tidy(edit.plan);
        // Invitees as named before are not kept (they were expanded); an edit that does not
        // name invitees keeps the people as they are.
        let named: Vec<Invitee> = match &edit.invitees {
            Some(list) => list.clone(),
            None => people
                .iter()
                .filter(|p| p.is_invitee())
                .map(|p| Invitee::Person(p.person_id))
                .collect(),
        };
        let problems = rules::check_plan(&plan, &named, now, Some(record.plan.starts_at));
        if !problems.is_empty() {
            return Err(plan_refusal(&problems));
        }
        self.check_room(&plan).await?;
        let mut changed = rules::what_changed(&record.plan, &plan);
        let (new_people, skipped) = match &edit.invitees {
            Some(list) => {
                let expanded = self
                    .expand_invitees(record.organiser_id, list, now, &people)
                    .await?;
                if !expanded.people.iter().any(MeetingPerson::is_invitee) {
                    return Err(refused(
                        "no_invitees",
                        "Nobody would be invited: everyone named has left or is disabled.",
                    ));
                }
                let before: BTreeSet<(Uuid, &str)> = people
                    .iter()
                    .map(|p| (p.person_id, p.role.as_str()))
                    .collect();
                let after: BTreeSet<(Uuid, &str)> = expanded
                    .people
                    .iter()
                    .map(|p| (p.person_id, p.role.as_str()))
                    .collect();
                if before != after {
                    changed.push(MeetingField::Invitees);
                }
                (Some(expanded.people), expanded.skipped)
            }
            None => (None, record.skipped.clone()),
        };
        let new_materials = match &edit.materials {
            Some(list) => {
                self.check_materials(record.organiser_id, list, &materials)
                    .await?;
                let before: BTreeSet<Uuid> = materials.iter().map(|m| m.attachment_id).collect();
                let after: BTreeSet<Uuid> = list.iter().copied().collect();
                if before != after {
                    changed.push(MeetingField::Materials);
                }
                Some(list.clone())
            }
            None => None,
        };
        changed.sort();
        changed.dedup();
        if changed.is_empty() && plan == record.plan {
            let entry = self.audit_entry(
                caller,
                "meeting.update",
                format!("meeting:{id}"),
                "unchanged",
                origin,
            );
            self.store.append_audit(&entry).await?;
            return Ok(None);
        }
        let all_people: Vec<MeetingPerson> = new_people.clone().unwrap_or_else(|| people.clone());
        let removed: Vec<Uuid> = people
            .iter()
            .map(|p| p.person_id)
            .filter(|p| !all_people.iter().any(|n| n.person_id == *p))
            .collect();
        let announced = !changed.is_empty();
        let updated = MeetingRecord {
            plan,
            sequence: record.sequence + i64::from(announced),
            revision: record.revision + 1,
            changed: if announced {
                changed
            } else {
                record.changed.clone()
            },
            skipped,
            updated_at: now,
            ..record.clone()
        };
        let audience: Vec<Uuid> = all_people.iter().map(|p| p.person_id).collect();
        Ok(Some(MeetingWrite {
            feed: meeting_feed(&updated, &audience, &removed),
            audit: self.audit_entry(
                caller,
                "meeting.update",
                format!("meeting:{id}"),
                "ok",
                origin,
            ),
            meeting: updated,
            expected_revision: Some(record.revision),
            people: new_people,
            materials: new_materials,
            mutation: None,
        }))
    }

    /// `POST /v1/meetings/{id}/cancel`: everyone on it is told once; the room is freed.
    pub async fn cancel_meeting(
        &self,
        caller: &Caller,
        id: Uuid,
        cancel: CancelMeeting,
        origin: &Origin,
    ) -> Result<MeetingView> {
        let (record, people, _) = match self.organisers_meeting(caller, id).await {
            Ok(found) => found,
            Err(e) => {
                return Err(self
                    .refuse_meeting(caller, "meeting.cancel", id, e, origin)
                    .await);
            }
        };
        let now = self.clock.now();
        let reason = cancel
            .reason
            .map(|r| r.trim().chars().take(MAX_NOTE_CHARS).collect::<String>())
            .filter(|r| !r.is_empty());
        let cancelled = MeetingRecord {
            status: MeetingStatus::Cancelled,
            sequence: record.sequence + 1,
            revision: record.revision + 1,
            changed: Vec::new(),
            cancel_reason: reason,
            updated_at: now,
            cancelled_at: Some(now),
            ..record.clone()
        };
        let audience: Vec<Uuid> = people.iter().map(|p| p.person_id).collect();
        let write = MeetingWrite {
            feed: meeting_feed(&cancelled, &audience, &[]),
            audit: self.audit_entry(
                caller,
                "meeting.cancel",
                format!("meeting:{id}"),
                "ok",
                origin,
            ),
            meeting: cancelled,
            expected_revision: Some(record.revision),
            people: None,
            materials: None,
            mutation: None,
        };
        self.finish_meeting_write(caller, write, "meeting.cancel", origin)
            .await
    }

    /// An invitee's answer (REST, or the `rsvp_meeting` mutation with its tag).
    pub async fn answer_meeting(
        &self,
        caller: &Caller,
        id: Uuid,
        req: RsvpRequest,
        origin: &Origin,
        mutation: Option<MutationTag>,
    ) -> Result<MeetingView> {
        let checked = async {
            let (record, people, _) = self.visible_meeting(caller, id).await?;
            let me = people
                .iter()
                .find(|p| p.person_id == caller.person.id && p.is_invitee());
            if me.is_none() {
                return Err(refused(
                    "not_invited",
                    "You are not an invitee of this meeting, so there is nothing to answer.",
                ));
            }
            if record.status == MeetingStatus::Cancelled {
                return Err(refused(
                    "meeting_cancelled",
                    "This meeting was cancelled; no answer is needed.",
                ));
            }
            if record.plan.ends_at <= self.clock.now() {
                return Err(refused(
                    "meeting_over",
                    "This meeting is over; an answer cannot be given any more.",
                ));
            }
            let note = req
                .note
                .as_deref()
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_owned);
            if note
                .as_deref()
                .is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS)
            {
                return Err(refused(
                    "note_too_long",
                    format!("A note may be at most {MAX_NOTE_CHARS} characters."),
                ));
            }
            Ok((record, note))
        }
        .await;
        let (record, note) = match checked {
            Ok(found) => found,
            Err(e) => {
                return Err(self
                    .refuse_meeting(caller, "meeting.rsvp", id, e, origin)
                    .await);
            }
        };
        let now = self.clock.now();
        let change = LedgerWrite {
            meeting_id: id,
            person_id: caller.person.id,
            change: LedgerChange::Answer {
                answer: req.answer,
                note,
            },
            at: now,
            audience: vec![record.organiser_id, caller.person.id],
        };
        let audit = self.audit_entry(
            caller,
            "meeting.rsvp",
            format!("meeting:{id}"),
            req.answer.as_str(),
            origin,
        );
        // The answer's view is known only after the write; the mutation record carries the
        // meeting's id and answer, and a replay reads the meeting as it is then.
        let mutation_record = mutation.map(|m| m.applied(caller.person.id, None, now));
        match self
            .store
            .write_ledger(
                std::slice::from_ref(&change),
                &audit,
                mutation_record.as_ref(),
            )
            .await
        {
            Ok((_, last_seq)) => {
                let rows: Vec<FeedRow> = change
                    .audience
                    .iter()
                    .map(|p| FeedRow {
                        audience: *p,
                        kind: "meeting",
                        entity_id: id.to_string(),
                        version: 0,
                        op: "upsert",
                    })
                    .collect();
                if last_seq > 0 {
                    self.events.publish(FeedNotice::of(&rows, last_seq));
                }
                self.meeting_for(caller, id).await
            }
            Err(StoreError::Conflict { .. }) if mutation.is_some() => Err(
                Error::DuplicateMutation(mutation.map(|m| m.id).unwrap_or_default()),
            ),
            Err(e) => Err(e.into()),
        }
    }

    /// Receipts from a client: these invitations reached it (and were opened). Receipts for
    /// meetings the caller is not invited to, or for an older sequence than recorded, change
    /// nothing and are not an error: a client may send them late or twice.
    pub async fn record_receipts(
        &self,
        caller: &Caller,
        req: MeetingReceipts,
        origin: &Origin,
        mutation: Option<MutationTag>,
    ) -> Result<ReceiptsRecorded> {
        if req.receipts.len() > MAX_RECEIPTS {
            return Err(Error::malformed(format!(
                "Send at most {MAX_RECEIPTS} receipts at a time."
            )));
        }
        if req
            .receipts
            .iter()
            .any(|r| i64::try_from(r.sequence).is_err())
        {
            return Err(Error::malformed(
                "A receipt's sequence is a number the server sent; this one is out of range.",
            ));
        }
        let now = self.clock.now();
        let ids: Vec<Uuid> = req.receipts.iter().map(|r| r.meeting_id).collect();
        let records: HashMap<Uuid, MeetingRecord> = self
            .store
            .find_meetings(&ids)
            .await?
            .into_iter()
            .map(|r| (r.id, r))
            .collect();
        let changes: Vec<LedgerWrite> = req
            .receipts
            .iter()
            .filter_map(|r| {
                let record = records.get(&r.meeting_id)?;
                // A receipt for a sequence the server has not reached is not believed.
                let sequence = i64::try_from(r.sequence).ok()?.min(record.sequence);
                Some(LedgerWrite {
                    meeting_id: r.meeting_id,
                    person_id: caller.person.id,
                    change: LedgerChange::Receipt {
                        sequence,
                        // Never in the server's future, never before the invitation.
                        opened_at: r.opened_at.map(|o| o.min(now).max(record.created_at)),
                    },
                    at: now,
                    audience: vec![record.organiser_id],
                })
            })
            .collect();
        let audit = self.audit_entry(
            caller,
            "meeting.receipts",
            format!("meetings:{}", ids.len()),
            "ok",
            origin,
        );
        let mutation_record = mutation.map(|m| m.applied(caller.person.id, None, now));
        let (recorded, last_seq) = match self
            .store
            .write_ledger(&changes, &audit, mutation_record.as_ref())
            .await
        {
            Ok(done) => done,
            Err(StoreError::Conflict { .. }) if mutation.is_some() => {
                return Err(Error::DuplicateMutation(
                    mutation.map(|m| m.id).unwrap_or_default(),
                ));
            }
            Err(e) => return Err(e.into()),
        };
        if last_seq > 0 {
            let rows: Vec<FeedRow> = changes
                .iter()
                .flat_map(|c| c.audience.iter())
                .map(|p| FeedRow {
                    audience: *p,
                    kind: "meeting",
                    entity_id: String::new(),
                    version: 0,
                    op: "upsert",
                })
                .collect();
            self.events.publish(FeedNotice::of(&rows, last_seq));
        }
        Ok(ReceiptsRecorded { recorded })
    }

    /// The coverage report (S14 made measurable): meetings starting in `[from, to)`, the
    /// caller's own, or everyone's for those who read reports.
    pub async fn meeting_coverage(
        &self,
        caller: &Caller,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        origin: &Origin,
    ) -> Result<CoverageReport> {
        let everyone = policy::has(&caller.person, Permission::ReadReports);
        // A period that ends before it starts holds no meetings: an empty report.
        let records = if to <= from {
            Vec::new()
        } else {
            self.store
                .meetings_between(from, to, (!everyone).then_some(caller.person.id))
                .await?
        };
        let ids: Vec<Uuid> = records.iter().map(|r| r.id).collect();
        let people = self.store.meeting_people(&ids).await?;
        let materials = self.store.meeting_materials(&ids).await?;
        let meetings: Vec<MeetingCoverage> = records
            .iter()
            .map(|r| {
                let on: Vec<&MeetingPerson> = people
                    .iter()
                    .filter(|p| p.meeting_id == r.id && p.is_invitee())
                    .collect();
                let files: Vec<&MeetingMaterial> =
                    materials.iter().filter(|m| m.meeting_id == r.id).collect();
                coverage(r, &on, &files)
            })
            .collect();
        let entry = self.audit_entry(
            caller,
            "report.meetings",
            format!("meetings:{}..{}", from.to_rfc3339(), to.to_rfc3339()),
            "ok",
            origin,
        );
        self.store.append_audit(&entry).await?;
        Ok(CoverageReport {
            from,
            to,
            months: months(&meetings),
            meetings,
        })
    }
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// One meeting's coverage. Receipts count for the current version of the invitation only.
fn coverage(
    record: &MeetingRecord,
    invitees: &[&MeetingPerson],
    materials: &[&MeetingMaterial],
) -> MeetingCoverage {
    let answered = |a: Rsvp| invitees.iter().filter(|p| p.answer == Some(a)).count();
    let due = record.plan.materials_due.unwrap_or(record.plan.starts_at);
    MeetingCoverage {
        meeting_id: record.id,
        title: record.plan.title.clone(),
        organiser_id: record.organiser_id,
        starts_at: record.plan.starts_at,
        status: record.status,
        invited: count(invitees.len()),
        reached: count(
            invitees
                .iter()
                .filter(|p| p.reached(record.sequence))
                .count(),
        ),
        reached_before_start: count(
            invitees
                .iter()
                .filter(|p| {
                    p.reached(record.sequence)
                        && p.reached_at.is_some_and(|at| at < record.plan.starts_at)
                })
                .count(),
        ),
        opened: count(invitees.iter().filter(|p| p.opened_at.is_some()).count()),
        answered: count(invitees.iter().filter(|p| p.answer.is_some()).count()),
        accepted: count(answered(Rsvp::Accept)),
        tentative: count(answered(Rsvp::Tentative)),
        declined: count(answered(Rsvp::Decline)),
        materials: count(materials.len()),
        materials_in_time: materials.iter().all(|m| m.added_at <= due),
        not_reached: invitees
            .iter()
            .filter(|p| !p.reached(record.sequence))
            .map(|p| p.person_id)
            .collect(),
        not_answered: invitees
            .iter()
            .filter(|p| p.answer.is_none())
            .map(|p| p.person_id)
            .collect(),
    }
}

/// Monthly totals, by the month (UTC) each meeting starts in. Cancelled meetings are left
/// out: nobody needs to be reached for a meeting that will not happen.
fn months(meetings: &[MeetingCoverage]) -> Vec<CoverageMonth> {
    let mut by_month: BTreeMap<String, CoverageMonth> = BTreeMap::new();
    for m in meetings
        .iter()
        .filter(|m| m.status == MeetingStatus::Scheduled)
    {
        let key = format!("{:04}-{:02}", m.starts_at.year(), m.starts_at.month());
        let month = by_month
            .entry(key.clone())
            .or_insert_with(|| CoverageMonth {
                month: key,
                meetings: 0,
                invited: 0,
                reached: 0,
                opened: 0,
                answered: 0,
                reached_per_mille: 1000,
            });
        month.meetings += 1;
        month.invited += m.invited;
        month.reached += m.reached;
        month.opened += m.opened;
        month.answered += m.answered;
    }
    by_month
        .into_values()
        .map(|mut m| {
            if m.invited > 0 {
                m.reached_per_mille =
                    u32::try_from(u64::from(m.reached) * 1000 / u64::from(m.invited))
                        .unwrap_or(1000);
            }
            m
        })
        .collect()
}
