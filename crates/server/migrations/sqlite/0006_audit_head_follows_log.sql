-- The audit chain's head follows its newest line: inserting a line stores its number and hash
-- in the head. An append was three statements (take the head, insert the line, store its hash
-- in the head), each a hop to the connection's thread made while holding the one write lock;
-- now it is two (store/audit.rs).
CREATE TRIGGER audit_log_moves_head AFTER INSERT ON audit_log
BEGIN
    UPDATE audit_head SET seq = NEW.seq, hash = NEW.hash WHERE id = 1;
END;
