-- Organisation, per-device sessions, sign-in throttling and the hash-chained audit log.

CREATE TABLE server_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE departments (
    id         UUID PRIMARY KEY,
    code       TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    parent_id  UUID REFERENCES departments (id),
    head_id    UUID,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE people (
    id              UUID PRIMARY KEY,
    username        TEXT NOT NULL UNIQUE,
    display_name    TEXT NOT NULL,
    email           TEXT,
    department_id   UUID REFERENCES departments (id),
    manager_id      UUID REFERENCES people (id),
    roles           JSONB NOT NULL DEFAULT '[]',
    status          TEXT NOT NULL DEFAULT 'active',
    password_hash   TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    last_sign_in_at TIMESTAMPTZ
);
CREATE INDEX people_department ON people (department_id);
CREATE INDEX people_manager ON people (manager_id);

CREATE TABLE sessions (
    id                 UUID PRIMARY KEY,
    person_id          UUID NOT NULL REFERENCES people (id),
    device_name        TEXT NOT NULL,
    source             TEXT,
    created_at         TIMESTAMPTZ NOT NULL,
    last_seen_at       TIMESTAMPTZ NOT NULL,
    access_hash        BYTEA NOT NULL UNIQUE,
    access_expires_at  TIMESTAMPTZ NOT NULL,
    refresh_hash       BYTEA NOT NULL UNIQUE,
    refresh_expires_at TIMESTAMPTZ NOT NULL,
    revoked_at         TIMESTAMPTZ,
    revoked_reason     TEXT
);
CREATE INDEX sessions_person ON sessions (person_id);

-- Refresh tokens already traded in. Seeing one again means a copy leaked: the whole session
-- is revoked.
CREATE TABLE spent_refresh_tokens (
    hash       BYTEA PRIMARY KEY,
    session_id UUID NOT NULL REFERENCES sessions (id),
    spent_at   TIMESTAMPTZ NOT NULL
);

CREATE TABLE login_throttle (
    key               TEXT PRIMARY KEY,
    failures          INTEGER NOT NULL,
    window_started_at TIMESTAMPTZ NOT NULL,
    locked_until      TIMESTAMPTZ
);

CREATE TABLE audit_log (
    seq       BIGINT PRIMARY KEY,
    at        TIMESTAMPTZ NOT NULL,
    actor_id  UUID,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    resource  TEXT NOT NULL,
    outcome   TEXT NOT NULL,
    source    TEXT,
    device    TEXT,
    prev_hash BYTEA NOT NULL,
    hash      BYTEA NOT NULL
);

-- The head of the chain: one row, updated first in every append so that appends serialise
-- on its row lock, across replicas too.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash BYTEA NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, decode(repeat('00', 32), 'hex'));
