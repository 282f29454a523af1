-- A first download keeps what it holds back in each request's notes, page by page, so that an
-- interrupted one goes on where it stopped (issue 8). How many subjects a row holds, and how
-- many of them are overdue, sit beside its body: the catch-up's end counts them from the
-- index below without reading the rows.
ALTER TABLE request_notes ADD COLUMN held_back INTEGER NOT NULL DEFAULT 0;
ALTER TABLE request_notes ADD COLUMN held_back_overdue INTEGER NOT NULL DEFAULT 0;
CREATE INDEX request_notes_held_back ON request_notes (held_back, held_back_overdue)
    WHERE held_back > 0;
