-- Twin of the same folder under the other backend.
-- Consent given at signup, with its time (seed 003): NULL when the client sent none.
ALTER TABLE users ADD COLUMN terms_accepted_at TIMESTAMP;
ALTER TABLE users ADD COLUMN age_confirmed_at TIMESTAMP;
-- A deleted account keeps its row (orders and reviews point at it) under a pseudonym.
ALTER TABLE users ADD COLUMN deleted_at TIMESTAMP;
-- One-time account links (a password reset, an email change), stored only as the
-- SHA-256 of their secret. used_at is set once, conditionally: a second use fails.
CREATE TABLE account_links (
    link_hash TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    purpose TEXT NOT NULL,
    new_email TEXT,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX account_links_user ON account_links (user_id, purpose);
