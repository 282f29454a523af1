-- Meetings (issue 7): each as the server last showed it to this person (the body is the
-- MeetingView), with the columns the agenda sorts and filters by. `opened_at` is this
-- device's own note of when the person first opened the meeting; the server's copy never
-- overwrites it, and it travels back in a receipt.
CREATE TABLE meetings (
    id TEXT PRIMARY KEY NOT NULL,
    version INTEGER NOT NULL,
    sequence INTEGER NOT NULL,
    status TEXT NOT NULL,
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL,
    organiser TEXT NOT NULL,
    body TEXT NOT NULL,
    opened_at TEXT,
    -- The highest sequence whose receipt was queued: each sequence is acknowledged once.
    acknowledged INTEGER NOT NULL DEFAULT 0,
    -- Whether opened_at went out in a receipt.
    opened_sent INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX meetings_by_start ON meetings (starts_at);
