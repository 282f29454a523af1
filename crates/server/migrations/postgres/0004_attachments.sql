-- Attachment files, stored in the database (see crates/server/src/attachments.rs for why).
CREATE TABLE attachments (
    id           UUID PRIMARY KEY,
    uploader_id  UUID NOT NULL REFERENCES people (id),
    -- Set when a submitted form references the file; from then on its participants may read it.
    request_id   UUID REFERENCES requests (id),
    name         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    sha256       BYTEA NOT NULL,
    data         BYTEA NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX attachments_request ON attachments (request_id);
