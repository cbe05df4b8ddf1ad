DROP TRIGGER audit_log_no_delete;
DROP TRIGGER audit_log_no_update;
DROP INDEX reports_by_reporter;
DROP INDEX audit_log_time;
DROP INDEX orders_state_since;
