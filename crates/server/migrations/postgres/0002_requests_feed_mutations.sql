-- Templates, requests and their tasks, the per-person change feed and client mutations.

-- Routing positions (finance_director, it_head, …) beside access roles: positions decide
-- who approves, roles decide what one may do.
ALTER TABLE people ADD COLUMN positions JSONB NOT NULL DEFAULT '[]';

-- Out-of-office delegations: tasks opened for `from_id` in [starts_at, ends_at) go to `to_id`.
CREATE TABLE delegations (
    id         UUID PRIMARY KEY,
    from_id    UUID NOT NULL REFERENCES people (id),
    to_id      UUID NOT NULL REFERENCES people (id),
    starts_at  TIMESTAMPTZ NOT NULL,
    ends_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE templates (
    id             TEXT NOT NULL,
    version        INTEGER NOT NULL,
    body           JSONB NOT NULL,
    published_at   TIMESTAMPTZ NOT NULL,
    published_by   UUID,
    source_request UUID,
    retired_at     TIMESTAMPTZ,
    PRIMARY KEY (id, version)
);

CREATE TABLE requests (
    id               UUID PRIMARY KEY,
    template_id      TEXT NOT NULL,
    template_version INTEGER NOT NULL,
    initiator_id     UUID NOT NULL REFERENCES people (id),
    title            TEXT NOT NULL,
    status           TEXT NOT NULL,
    version          BIGINT NOT NULL,
    form             JSONB NOT NULL,
    computed         JSONB NOT NULL,
    state            JSONB NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    FOREIGN KEY (template_id, template_version) REFERENCES templates (id, version)
);
CREATE INDEX requests_initiator ON requests (initiator_id, updated_at);

-- One row per task, kept in step with the request's state, so "pending for me" and the
-- overdue scan are index lookups rather than scans of every request's JSON.
CREATE TABLE tasks (
    request_id  UUID NOT NULL REFERENCES requests (id),
    task_no     INTEGER NOT NULL,
    assignee_id UUID NOT NULL,
    seat_id     UUID NOT NULL,
    step_id     TEXT NOT NULL,
    open        BOOLEAN NOT NULL,
    opened_at   TIMESTAMPTZ NOT NULL,
    due_at      TIMESTAMPTZ,
    closed_at   TIMESTAMPTZ,
    overdue_at  TIMESTAMPTZ,
    PRIMARY KEY (request_id, task_no)
);
CREATE INDEX tasks_pending ON tasks (assignee_id, opened_at) WHERE open = TRUE;
CREATE INDEX tasks_due ON tasks (due_at) WHERE open = TRUE AND overdue_at IS NULL;

-- Who may see a request: initiator, every approver past and present, delegates, CC.
CREATE TABLE request_participants (
    request_id UUID NOT NULL REFERENCES requests (id),
    person_id  UUID NOT NULL,
    PRIMARY KEY (request_id, person_id)
);
CREATE INDEX request_participants_person ON request_participants (person_id);

-- The change feed: one row per (record change, person who may see it); the nil UUID means
-- everyone. Writers append under the audit chain's row lock, so `seq` order is commit order.
CREATE TABLE feed (
    seq       BIGSERIAL PRIMARY KEY,
    audience  UUID NOT NULL,
    kind      TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    version   BIGINT NOT NULL,
    op        TEXT NOT NULL,
    at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX feed_audience ON feed (audience, seq);

-- Client mutations by their client-made id: a replay gets the first answer back.
CREATE TABLE mutations (
    id         UUID PRIMARY KEY,
    person_id  UUID NOT NULL,
    kind       TEXT NOT NULL,
    status     TEXT NOT NULL,
    result     JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

-- Directory records carry a version for the change feed.
ALTER TABLE people ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE departments ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
