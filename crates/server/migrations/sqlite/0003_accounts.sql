-- Accounts and organisation administration: activation secrets of accounts opened by an
-- approved account application (S1), the personnel history of departures, transfers and
-- disabled dormant accounts (S3), and template proposals awaiting a process-change
-- request (S6).

-- One live activation per invited person: only the SHA-256 of the secret is kept. A reissue
-- replaces the row; a use marks it, so a second use is told apart from a wrong secret.
CREATE TABLE account_activations (
    person_id   BLOB PRIMARY KEY NOT NULL REFERENCES people (id),
    secret_hash BLOB NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_at     TEXT,
    -- The approved account application that opened the account; none for a reissue.
    request_id  BLOB
);

-- What changed about a person and why: the reason is kept here rather than on the requests
-- whose tasks were handed on, where every participant would read it.
CREATE TABLE personnel_changes (
    id        BLOB PRIMARY KEY NOT NULL,
    person_id BLOB NOT NULL REFERENCES people (id),
    kind      TEXT NOT NULL,
    reason    TEXT NOT NULL,
    actor_id  BLOB,
    at        TEXT NOT NULL,
    -- The person's status, department, manager, roles and positions before and after.
    details   TEXT NOT NULL
);
CREATE INDEX personnel_changes_person ON personnel_changes (person_id, at);

CREATE TABLE template_proposals (
    id           BLOB PRIMARY KEY NOT NULL,
    template_id  TEXT NOT NULL,
    version      INTEGER NOT NULL,
    body         TEXT NOT NULL,
    proposed_by  BLOB NOT NULL REFERENCES people (id),
    proposed_at  TEXT NOT NULL,
    -- proposed | published
    status       TEXT NOT NULL,
    request_id   BLOB,
    published_at TEXT
);

-- The dormant-account report looks for recent activity per person.
CREATE INDEX sessions_person_seen ON sessions (person_id, last_seen_at);
