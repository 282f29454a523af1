-- Templates, requests and their tasks, the per-person change feed and client mutations.

-- Routing positions (finance_director, it_head, …) beside access roles: positions decide
-- who approves, roles decide what one may do.
ALTER TABLE people ADD COLUMN positions TEXT NOT NULL DEFAULT '[]';

-- Out-of-office delegations: tasks opened for `from_id` in [starts_at, ends_at) go to `to_id`.
CREATE TABLE delegations (
    id         BLOB PRIMARY KEY NOT NULL,
    from_id    BLOB NOT NULL REFERENCES people (id),
    to_id      BLOB NOT NULL REFERENCES people (id),
    starts_at  TEXT NOT NULL,
    ends_at    TEXT NOT NULL
);

CREATE TABLE templates (
    id             TEXT NOT NULL,
    version        INTEGER NOT NULL,
    body           TEXT NOT NULL,
    published_at   TEXT NOT NULL,
    published_by   BLOB,
    source_request BLOB,
    retired_at     TEXT,
    PRIMARY KEY (id, version)
);

CREATE TABLE requests (
    id               BLOB PRIMARY KEY NOT NULL,
    template_id      TEXT NOT NULL,
    template_version INTEGER NOT NULL,
    initiator_id     BLOB NOT NULL REFERENCES people (id),
    title            TEXT NOT NULL,
    status           TEXT NOT NULL,
    version          INTEGER NOT NULL,
    form             TEXT NOT NULL,
    computed         TEXT NOT NULL,
    state            TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    FOREIGN KEY (template_id, template_version) REFERENCES templates (id, version)
);
CREATE INDEX requests_initiator ON requests (initiator_id, updated_at);

-- One row per task, kept in step with the request's state, so "pending for me" and the
-- overdue scan are index lookups rather than scans of every request's JSON.
CREATE TABLE tasks (
    request_id  BLOB NOT NULL REFERENCES requests (id),
    task_no     INTEGER NOT NULL,
    assignee_id BLOB NOT NULL,
    seat_id     BLOB NOT NULL,
    step_id     TEXT NOT NULL,
    open        INTEGER NOT NULL,
    opened_at   TEXT NOT NULL,
    due_at      TEXT,
    closed_at   TEXT,
    overdue_at  TEXT,
    PRIMARY KEY (request_id, task_no)
);
CREATE INDEX tasks_pending ON tasks (assignee_id, opened_at) WHERE open = TRUE;
CREATE INDEX tasks_due ON tasks (due_at) WHERE open = TRUE AND overdue_at IS NULL;

-- Who may see a request: initiator, every approver past and present, delegates, CC.
CREATE TABLE request_participants (
    request_id BLOB NOT NULL REFERENCES requests (id),
    person_id  BLOB NOT NULL,
    PRIMARY KEY (request_id, person_id)
);
CREATE INDEX request_participants_person ON request_participants (person_id);

-- The change feed: one row per (record change, person who may see it); the nil UUID means
-- everyone. Writers append under the audit chain's lock, so `seq` order is commit order.
CREATE TABLE feed (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    audience  BLOB NOT NULL,
    kind      TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    version   INTEGER NOT NULL,
    op        TEXT NOT NULL,
    at        TEXT NOT NULL
);
CREATE INDEX feed_audience ON feed (audience, seq);

-- Client mutations by their client-made id: a replay gets the first answer back.
CREATE TABLE mutations (
    id         BLOB PRIMARY KEY NOT NULL,
    person_id  BLOB NOT NULL,
    kind       TEXT NOT NULL,
    status     TEXT NOT NULL,
    result     TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- Directory records carry a version for the change feed.
ALTER TABLE people ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE departments ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
