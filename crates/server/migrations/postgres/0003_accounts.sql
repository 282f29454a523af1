-- Accounts and organisation administration: activation secrets of accounts opened by an
-- approved account application (S1), the personnel history of departures, transfers and
-- disabled dormant accounts (S3), and template proposals awaiting a process-change
-- request (S6).

-- One live activation per invited person: only the SHA-256 of the secret is kept. A reissue
-- replaces the row; a use marks it, so a second use is told apart from a wrong secret.
CREATE TABLE account_activations (
    person_id   UUID PRIMARY KEY REFERENCES people (id),
    secret_hash BYTEA NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ,
    -- The approved account application that opened the account; none for a reissue.
    request_id  UUID
);

-- What changed about a person and why: the reason is kept here rather than on the requests
-- whose tasks were handed on, where every participant would read it.
CREATE TABLE personnel_changes (
    id        UUID PRIMARY KEY,
    person_id UUID NOT NULL REFERENCES people (id),
    kind      TEXT NOT NULL,
    reason    TEXT NOT NULL,
    actor_id  UUID,
    at        TIMESTAMPTZ NOT NULL,
    -- The person's status, department, manager, roles and positions before and after.
    details   JSONB NOT NULL
);
CREATE INDEX personnel_changes_person ON personnel_changes (person_id, at);

CREATE TABLE template_proposals (
    id           UUID PRIMARY KEY,
    template_id  TEXT NOT NULL,
    version      INTEGER NOT NULL,
    body         JSONB NOT NULL,
    proposed_by  UUID NOT NULL REFERENCES people (id),
    proposed_at  TIMESTAMPTZ NOT NULL,
    -- proposed | published
    status       TEXT NOT NULL,
    request_id   UUID,
    published_at TIMESTAMPTZ
);

-- The dormant-account report looks for recent activity per person.
CREATE INDEX sessions_person_seen ON sessions (person_id, last_seen_at);
