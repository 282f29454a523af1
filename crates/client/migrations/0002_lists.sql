-- Lists that stay instant with 100k cached requests (issue 6): the inbox and "my requests"
-- are answered page by page by SQL, with full-text search over what a person would type to
-- find a request — its title and the text and figures of its form.

-- The trigram tokenizer matches any substring of three characters or more, which is what
-- Chinese needs (no spaces between words) and what English search-as-you-type needs. The
-- row id is the request's row id; the text is derived from the body by the triggers below,
-- so the index can never disagree with the request it describes.
CREATE VIRTUAL TABLE request_search USING fts5 (text, tokenize = 'trigram');

CREATE TRIGGER requests_search_insert AFTER INSERT ON requests BEGIN
    INSERT INTO request_search (rowid, text)
    VALUES (new.rowid, new.title || ' ' || coalesce(
        (SELECT group_concat(value, ' ') FROM json_tree(new.body, '$.form')
         WHERE type = 'text'), ''));
END;

CREATE TRIGGER requests_search_update AFTER UPDATE OF body, title ON requests BEGIN
    DELETE FROM request_search WHERE rowid = old.rowid;
    INSERT INTO request_search (rowid, text)
    VALUES (new.rowid, new.title || ' ' || coalesce(
        (SELECT group_concat(value, ' ') FROM json_tree(new.body, '$.form')
         WHERE type = 'text'), ''));
END;

CREATE TRIGGER requests_search_delete AFTER DELETE ON requests BEGIN
    DELETE FROM request_search WHERE rowid = old.rowid;
END;

-- Requests cached by the first version of the cache.
INSERT INTO request_search (rowid, text)
SELECT rowid, title || ' ' || coalesce(
    (SELECT group_concat(value, ' ') FROM json_tree(requests.body, '$.form')
     WHERE type = 'text'), '')
FROM requests;

-- "My requests" filtered by status, newest first.
CREATE INDEX requests_by_initiator_status ON requests (initiator, status, updated_at DESC);
