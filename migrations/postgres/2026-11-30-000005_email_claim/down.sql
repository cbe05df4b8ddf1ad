ALTER TABLE emails DROP COLUMN claimed_until;
