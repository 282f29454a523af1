-- Meetings (S14): rooms, meetings, invitees with the delivery ledger, and materials.

-- Bookable rooms. A meeting that holds a room refuses another at an overlapping time.
CREATE TABLE rooms (
    id         BLOB PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL UNIQUE,
    capacity   INTEGER,
    active     INTEGER NOT NULL DEFAULT TRUE,
    -- Bumped by every booking: the write that books a room holds this row, so two bookings
    -- of one room are decided one after the other.
    bookings   INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE meetings (
    id            BLOB PRIMARY KEY NOT NULL,
    organiser_id  BLOB NOT NULL REFERENCES people (id),
    -- The plan as the organiser sent it (domain MeetingPlan), plus what queries need as columns.
    plan          TEXT NOT NULL,
    starts_at     TEXT NOT NULL,
    ends_at       TEXT NOT NULL,
    room_id       BLOB REFERENCES rooms (id),
    status        TEXT NOT NULL,
    -- Content changes, as iCalendar's SEQUENCE: each one is announced to the invitees once.
    sequence      INTEGER NOT NULL,
    -- Every write (answers and receipts too): the version clients sync.
    revision      INTEGER NOT NULL,
    -- What the last content change changed, and why a cancellation happened.
    changed       TEXT NOT NULL DEFAULT '[]',
    cancel_reason TEXT,
    -- Invitees named by the organiser who could not be invited (departed), with why.
    skipped       TEXT NOT NULL DEFAULT '[]',
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    cancelled_at  TEXT
);
CREATE INDEX meetings_room ON meetings (room_id, starts_at) WHERE status = 'scheduled';
CREATE INDEX meetings_starts ON meetings (starts_at);
CREATE INDEX meetings_organiser ON meetings (organiser_id, starts_at);

-- Who sees a meeting and, for invitees, the delivery ledger: when one of their clients got
-- the current invitation, when they opened it, and their answer. Delegates of the organiser
-- and of the invitees see the meeting too (role 'delegate') but are not counted.
CREATE TABLE meeting_people (
    meeting_id     BLOB NOT NULL REFERENCES meetings (id),
    person_id      BLOB NOT NULL REFERENCES people (id),
    role           TEXT NOT NULL,
    -- The department through which the person was invited, if not by name.
    via_department BLOB,
    invited_at     TEXT NOT NULL,
    reached_at     TEXT,
    -- The sequence the receipt was for: a receipt of an older version does not count for a
    -- newer one.
    reached_sequence INTEGER,
    opened_at      TEXT,
    answer         TEXT,
    note           TEXT,
    answered_at    TEXT,
    PRIMARY KEY (meeting_id, person_id)
);
CREATE INDEX meeting_people_person ON meeting_people (person_id, meeting_id);

-- Materials: uploaded attachments that a meeting's people may read.
CREATE TABLE meeting_materials (
    meeting_id    BLOB NOT NULL REFERENCES meetings (id),
    attachment_id BLOB NOT NULL REFERENCES attachments (id),
    added_at      TEXT NOT NULL,
    PRIMARY KEY (meeting_id, attachment_id)
);
CREATE INDEX meeting_materials_attachment ON meeting_materials (attachment_id);
