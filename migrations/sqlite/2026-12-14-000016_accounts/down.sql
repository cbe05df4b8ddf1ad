DROP TABLE account_links;
ALTER TABLE users DROP COLUMN deleted_at;
ALTER TABLE users DROP COLUMN age_confirmed_at;
ALTER TABLE users DROP COLUMN terms_accepted_at;
