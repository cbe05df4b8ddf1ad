-- Several instances share one outbox: an email is claimed for a while before it is
-- sent, so each email goes out once.
ALTER TABLE emails ADD COLUMN claimed_until TIMESTAMP;
