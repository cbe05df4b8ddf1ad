-- Twin of the same folder under the other backend.
-- Bootstrap links (the Skill Setup's one-time download URL): the link's secret is stored
-- only as its SHA-256; fetching it once mints a bootstrap token (stored hashed as usual).
CREATE TABLE bootstrap_links (
    link_hash TEXT PRIMARY KEY NOT NULL,
    agent_id TEXT NOT NULL REFERENCES agents (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    voided_at TIMESTAMP
);
CREATE INDEX bootstrap_links_agent ON bootstrap_links (agent_id);
