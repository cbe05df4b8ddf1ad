-- Attempt counters in fixed windows (logins now; password resets and open
-- registrations later), shared by every instance on the database. The bucket is a
-- hash of the rule, the subject (an email) and the client address: no address or email
-- is stored. Used on PostgreSQL; on SQLite the server counts in memory.
CREATE TABLE rate_limits (
    bucket TEXT PRIMARY KEY NOT NULL,
    window_start TIMESTAMP NOT NULL,
    attempts BIGINT NOT NULL
);
CREATE INDEX rate_limits_window_start ON rate_limits (window_start);
