-- Files attached on this device (issue 6). Attaching copies the file into the profile at once
-- and gives it a local id, so a draft with files is complete offline and survives a restart;
-- the copy is uploaded when the draft's submission is sent, and the server's reference
-- (`server`, the JSON the server answered) then replaces the local one in the form sent.
-- A file downloaded to be read offline is a row too, with its server id as its id.
CREATE TABLE attachments (
    id           TEXT PRIMARY KEY NOT NULL,
    name         TEXT NOT NULL,
    size         INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    -- The folder of the copy, under the account's attachments folder in the profile.
    dir          TEXT NOT NULL,
    -- The server's id once uploaded (the same as `id` for a downloaded file).
    server_id    TEXT,
    -- The server's reference as it answered the upload.
    server       TEXT,
    created_at   TEXT NOT NULL
);
CREATE INDEX attachments_by_server_id ON attachments (server_id);
