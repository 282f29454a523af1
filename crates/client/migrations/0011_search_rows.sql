-- Searching a long inbox stays instant (issue 8).
--
-- Each task carries its request's row id, the key the full-text index answers with: a search
-- matching thousands of requests probes the small (assignee, request_row) index in the order
-- the matches come, instead of looking up every matching request's (large) row for its id.
-- The row id of a request never changes: it is written by an upsert, never replaced, and the
-- cache is never vacuumed (which could renumber it — the search index relies on it too).
ALTER TABLE tasks ADD COLUMN request_row INTEGER;
UPDATE tasks SET request_row = (SELECT r.rowid FROM requests r WHERE r.id = tasks.request_id);
CREATE INDEX tasks_by_assignee_request_row ON tasks (assignee, request_row);

-- One or two characters (a Chinese word is often two) are found through the index too: the
-- vocabulary below lists the trigrams starting with them, and a search for any of those is
-- a search for the short text. Every occurrence starts a trigram only if two characters
-- follow it, so the indexed text now ends with two spaces; the index is rebuilt with it.
DROP TRIGGER requests_search_insert;
DROP TRIGGER requests_search_update;
DROP TRIGGER requests_search_delete;
DROP TABLE request_search;

CREATE VIRTUAL TABLE request_search USING fts5 (text, tokenize = 'trigram');
CREATE VIRTUAL TABLE request_search_terms USING fts5vocab (request_search, 'row');

CREATE TRIGGER requests_search_insert AFTER INSERT ON requests BEGIN
    INSERT INTO request_search (rowid, text)
    VALUES (new.rowid, new.title || ' ' || coalesce(
        (SELECT group_concat(value, ' ') FROM json_tree(new.body, '$.form')
         WHERE type = 'text'), '') || '  ');
END;

CREATE TRIGGER requests_search_update AFTER UPDATE OF body, title ON requests BEGIN
    DELETE FROM request_search WHERE rowid = old.rowid;
    INSERT INTO request_search (rowid, text)
    VALUES (new.rowid, new.title || ' ' || coalesce(
        (SELECT group_concat(value, ' ') FROM json_tree(new.body, '$.form')
         WHERE type = 'text'), '') || '  ');
END;

CREATE TRIGGER requests_search_delete AFTER DELETE ON requests BEGIN
    DELETE FROM request_search WHERE rowid = old.rowid;
END;

INSERT INTO request_search (rowid, text)
SELECT rowid, title || ' ' || coalesce(
    (SELECT group_concat(value, ' ') FROM json_tree(requests.body, '$.form')
     WHERE type = 'text'), '') || '  '
FROM requests;
