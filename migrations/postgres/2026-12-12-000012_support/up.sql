-- Twin of the same folder under the other backend. The support desk: its queue reads
-- disputed and flagged orders oldest first, the audit log pages newest first, and the
-- audit log is append-only in the database itself (no route changes it either).

CREATE INDEX orders_state_since ON orders (state, updated_at, id);
CREATE INDEX audit_log_time ON audit_log (created_at, id);
CREATE INDEX reports_by_reporter ON reports (reporter_id, target_kind, target_id);

CREATE FUNCTION heepr_audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;

CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION heepr_audit_log_append_only();

CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION heepr_audit_log_append_only();
