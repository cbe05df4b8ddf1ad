-- Twin of the same folder under the other backend. The support desk: its queue reads
-- disputed and flagged orders oldest first, the audit log pages newest first, and the
-- audit log is append-only in the database itself (no route changes it either).

CREATE INDEX orders_state_since ON orders (state, updated_at, id);
CREATE INDEX audit_log_time ON audit_log (created_at, id);
CREATE INDEX reports_by_reporter ON reports (reporter_id, target_kind, target_id);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
