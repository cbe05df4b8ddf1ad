DROP TRIGGER audit_log_no_truncate ON audit_log;
DROP TRIGGER audit_log_no_change ON audit_log;
DROP FUNCTION heepr_audit_log_append_only();
DROP INDEX reports_by_reporter;
DROP INDEX audit_log_time;
DROP INDEX orders_state_since;
