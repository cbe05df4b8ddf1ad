DROP INDEX rate_limits_window_start;
DROP TABLE rate_limits;
