-- Organisation, per-device sessions, sign-in throttling and the hash-chained audit log.
-- IDs are UUIDv7 stored as 16-byte BLOBs; times are RFC 3339 text in UTC (sqlx's chrono
-- encoding), which sorts correctly as text.

CREATE TABLE server_meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

CREATE TABLE departments (
    id         BLOB PRIMARY KEY NOT NULL,
    code       TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    parent_id  BLOB REFERENCES departments (id),
    head_id    BLOB,
    created_at TEXT NOT NULL
);

CREATE TABLE people (
    id              BLOB PRIMARY KEY NOT NULL,
    username        TEXT NOT NULL UNIQUE,
    display_name    TEXT NOT NULL,
    email           TEXT,
    department_id   BLOB REFERENCES departments (id),
    manager_id      BLOB REFERENCES people (id),
    roles           TEXT NOT NULL DEFAULT '[]',
    status          TEXT NOT NULL DEFAULT 'active',
    password_hash   TEXT,
    created_at      TEXT NOT NULL,
    last_sign_in_at TEXT
);
CREATE INDEX people_department ON people (department_id);
CREATE INDEX people_manager ON people (manager_id);

CREATE TABLE sessions (
    id                 BLOB PRIMARY KEY NOT NULL,
    person_id          BLOB NOT NULL REFERENCES people (id),
    device_name        TEXT NOT NULL,
    source             TEXT,
    created_at         TEXT NOT NULL,
    last_seen_at       TEXT NOT NULL,
    access_hash        BLOB NOT NULL UNIQUE,
    access_expires_at  TEXT NOT NULL,
    refresh_hash       BLOB NOT NULL UNIQUE,
    refresh_expires_at TEXT NOT NULL,
    revoked_at         TEXT,
    revoked_reason     TEXT
);
CREATE INDEX sessions_person ON sessions (person_id);

-- Refresh tokens already traded in. Seeing one again means a copy leaked: the whole session
-- is revoked.
CREATE TABLE spent_refresh_tokens (
    hash       BLOB PRIMARY KEY NOT NULL,
    session_id BLOB NOT NULL REFERENCES sessions (id),
    spent_at   TEXT NOT NULL
);

CREATE TABLE login_throttle (
    key               TEXT PRIMARY KEY NOT NULL,
    failures          INTEGER NOT NULL,
    window_started_at TEXT NOT NULL,
    locked_until      TEXT
);

CREATE TABLE audit_log (
    seq       INTEGER PRIMARY KEY NOT NULL,
    at        TEXT NOT NULL,
    actor_id  BLOB,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    resource  TEXT NOT NULL,
    outcome   TEXT NOT NULL,
    source    TEXT,
    device    TEXT,
    prev_hash BLOB NOT NULL,
    hash      BLOB NOT NULL
);

-- The head of the chain: one row, updated first in every append so that appends serialise
-- on it (a row lock on PostgreSQL, the write lock on SQLite).
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash BLOB NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, X'0000000000000000000000000000000000000000000000000000000000000000');
