-- Attachment files, stored in the database (see crates/server/src/attachments.rs for why).
CREATE TABLE attachments (
    id           BLOB PRIMARY KEY NOT NULL,
    uploader_id  BLOB NOT NULL REFERENCES people (id),
    -- Set when a submitted form references the file; from then on its participants may read it.
    request_id   BLOB REFERENCES requests (id),
    name         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL,
    sha256       BLOB NOT NULL,
    data         BLOB NOT NULL,
    created_at   TEXT NOT NULL
);
CREATE INDEX attachments_request ON attachments (request_id);
