-- Twin of the same folder under the other backend.
-- Notices are the in-app list and the source of their emails: a sender renders each
-- unsent notice (sent_at IS NULL) into the email outbox once, honouring preferences.
-- The order's title and the agent are kept with the notice so that the list and the
-- email need no read of the order; thread notices point at their thread.
ALTER TABLE notifications ADD COLUMN detail TEXT;
ALTER TABLE notifications ADD COLUMN agent_id TEXT;
ALTER TABLE notifications ADD COLUMN thread_id TEXT;
ALTER TABLE notifications ADD COLUMN title TEXT;
ALTER TABLE notifications ADD COLUMN read_at TIMESTAMP;
CREATE INDEX notifications_user ON notifications (user_id, id);
CREATE INDEX notifications_unread ON notifications (user_id) WHERE read_at IS NULL;
-- Kinds a user switched off for email (absent: on). Essential kinds are never here.
CREATE TABLE notification_email_off (
    user_id TEXT NOT NULL REFERENCES users (id),
    kind TEXT NOT NULL,
    PRIMARY KEY (user_id, kind)
);
-- The outbox: an HTML alternative, back-off (next_attempt_at), and a dead letter
-- (dead_at, with last_error) that support can re-send.
ALTER TABLE emails ADD COLUMN html_body TEXT;
ALTER TABLE emails ADD COLUMN next_attempt_at TIMESTAMP;
ALTER TABLE emails ADD COLUMN dead_at TIMESTAMP;
CREATE INDEX emails_dead ON emails (dead_at) WHERE dead_at IS NOT NULL;
