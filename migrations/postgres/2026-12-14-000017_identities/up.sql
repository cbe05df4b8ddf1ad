-- Twin of the same folder under the other backend.
-- Sign-in through identity providers (issue 17). An identity is (provider, subject):
-- the provider's stable user id, never the email. Only seed 003's profile fields are
-- kept (the email and the name the provider returned).
CREATE TABLE user_identities (
    provider TEXT NOT NULL,
    subject TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    email TEXT NOT NULL,
    display_name TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_sign_in_at TIMESTAMP NOT NULL,
    PRIMARY KEY (provider, subject)
);
CREATE INDEX user_identities_user ON user_identities (user_id);
-- A sign-in in flight: the `state` is stored only as its SHA-256 and taken once; the
-- PKCE verifier and the OIDC nonce live here, never in the browser. `link_user_id`: the
-- signed-in user who started it to link an identity (linking needs that session).
CREATE TABLE auth_pending (
    state_hash TEXT PRIMARY KEY NOT NULL,
    provider TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    nonce TEXT NOT NULL,
    link_user_id TEXT,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX auth_pending_expiry ON auth_pending (expires_at);
