DROP TABLE auth_pending;
DROP TABLE user_identities;
