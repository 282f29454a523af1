-- The offline cache of one person on one server. Server records are kept as the server sent
-- them (JSON bodies) with the columns lists and the inbox query on; local work (drafts, the
-- outbox) lives beside them and survives a full re-download.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

-- Requests as the server last said they are (never an optimistic guess: pending local
-- changes are overlaid at query time from the outbox).
CREATE TABLE requests (
    id          TEXT PRIMARY KEY NOT NULL,
    version     INTEGER NOT NULL,
    initiator   TEXT NOT NULL,
    template_id TEXT NOT NULL,
    status      TEXT NOT NULL,
    title       TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    body        TEXT NOT NULL
);
CREATE INDEX requests_by_initiator ON requests (initiator, updated_at DESC);

-- Open tasks, derived from the requests' state on every write: the inbox query.
CREATE TABLE tasks (
    request_id TEXT NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    task_no    INTEGER NOT NULL,
    assignee   TEXT NOT NULL,
    opened_at  TEXT NOT NULL,
    due_at     TEXT,
    overdue    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (request_id, task_no)
);
CREATE INDEX tasks_by_assignee ON tasks (assignee, opened_at);

-- Server changes to an entity that has a local change in flight: applied when that change
-- is answered (a server update never overwrites what the person just did before the server
-- has said yes or no to it).
CREATE TABLE held (
    kind    TEXT NOT NULL,
    id      TEXT NOT NULL,
    version INTEGER NOT NULL,
    body    TEXT,
    PRIMARY KEY (kind, id)
);

CREATE TABLE templates (
    id      TEXT NOT NULL,
    version INTEGER NOT NULL,
    retired INTEGER NOT NULL,
    body    TEXT NOT NULL,
    PRIMARY KEY (id, version)
);

CREATE TABLE people (
    id           TEXT PRIMARY KEY NOT NULL,
    username     TEXT NOT NULL,
    display_name TEXT NOT NULL,
    body         TEXT NOT NULL
);

CREATE TABLE departments (
    id   TEXT PRIMARY KEY NOT NULL,
    body TEXT NOT NULL
);

CREATE TABLE drafts (
    id               TEXT PRIMARY KEY NOT NULL,
    template_id      TEXT NOT NULL,
    template_version INTEGER NOT NULL,
    title            TEXT,
    form             TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    -- Set when the draft was queued for submission: the request id it will have.
    submitted_as     TEXT
);

-- Mutations in the order they were made. `state`: pending (not yet answered), applied,
-- refused. `entity_id` is the request the mutation is about.
CREATE TABLE outbox (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT NOT NULL UNIQUE,
    kind            TEXT NOT NULL,
    entity_id       TEXT NOT NULL,
    task_no         INTEGER,
    action          TEXT,
    base_version    INTEGER,
    payload         TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    last_error      TEXT,
    answer          TEXT,
    answered_at     TEXT
);
CREATE INDEX outbox_pending ON outbox (state, seq);
CREATE INDEX outbox_by_entity ON outbox (entity_id, state);

-- What was already notified, so a restart or a re-download does not notify twice.
CREATE TABLE notified (
    key  TEXT PRIMARY KEY NOT NULL,
    body TEXT NOT NULL
);
