-- The audit chain's head follows its newest line: inserting a line stores its number and hash
-- in the head. An append was three statements (take the head, insert the line, store its hash
-- in the head), each a round trip made while holding the head's row lock, which every audited
-- action waits for. Now the insert reads the head FOR UPDATE and hashes the line in the same
-- statement (store/audit.rs), and this trigger moves the head: one statement. The head's row
-- is already locked by that statement, so the update waits for nothing.
CREATE FUNCTION audit_log_moves_head() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE audit_head SET seq = NEW.seq, hash = NEW.hash WHERE id = 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER audit_log_moves_head AFTER INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_moves_head();
