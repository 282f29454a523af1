-- The audit chain's head takes the hash of each line as it is inserted. An append was three
-- statements (take the head, insert the line, store its hash in the head), each a hop to the
-- connection's thread made while holding the one write lock; now it is two.
CREATE TRIGGER audit_log_moves_head AFTER INSERT ON audit_log
BEGIN
    UPDATE audit_head SET hash = NEW.hash WHERE id = 1;
END;
