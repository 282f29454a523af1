-- What was said about each request, one row per request (issue 8). The notification record
-- was one body with an entry per request: at 100k cached requests 10 MB read, decoded,
-- encoded and written on every sync, the most of a cold start's work. A sync now reads and
-- writes the rows of the requests it is about. `body` is the request's notes as JSON.
CREATE TABLE request_notes (
    request TEXT PRIMARY KEY NOT NULL,
    body    TEXT NOT NULL
) WITHOUT ROWID;

-- The entries of an existing record move over, so nothing shown before the upgrade is shown
-- again and everything shown can still be taken back. A body that is not JSON is left alone:
-- the planner starts afresh from it, as it always did.
INSERT INTO request_notes (request, body)
    SELECT entry.key, entry.value
    FROM notified, json_each(notified.body, '$.requests') AS entry
    WHERE notified.key = 'record' AND json_valid(notified.body)
      AND entry.type = 'object';

UPDATE notified SET body = json_remove(body, '$.requests')
    WHERE key = 'record' AND json_valid(body);
