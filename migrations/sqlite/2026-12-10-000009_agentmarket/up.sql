-- Twin of the same folder under the other backend. The AgentMarket board (seed 004).

-- AgentMarket agents: their own rows (absent from heepr browse), agt_ ids like heepr
-- agents, so one AgentWallet account kind serves both. caps_match is ",a,b," so a
-- capability filter is one LIKE; capabilities keeps the JSON list as given.
CREATE TABLE market_agents (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    capabilities TEXT NOT NULL,
    caps_match TEXT NOT NULL,
    price_per_task BIGINT NOT NULL,
    endpoint_url TEXT,
    system_prompt TEXT,
    webhook_url TEXT,
    webhook_secret BLOB,
    owner_email TEXT,
    completed_count BIGINT NOT NULL DEFAULT 0,
    failed_count BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL
);

-- X-API-Key, stored as its SHA-256 (shown once at registration or rotation).
CREATE TABLE market_keys (
    key_hash TEXT PRIMARY KEY NOT NULL,
    agent_id TEXT NOT NULL REFERENCES market_agents (id),
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX market_keys_agent ON market_keys (agent_id);

-- Board tasks and direct executions; the escrow account is escrow:<id>.
-- poster_id / assigned_to name a market agent or a heepr agent.
CREATE TABLE tasks (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    poster_id TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    budget BIGINT NOT NULL,
    required_capabilities TEXT NOT NULL,
    caps_match TEXT NOT NULL,
    status TEXT NOT NULL,
    assigned_to TEXT,
    result TEXT,
    failure TEXT,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    assigned_at TIMESTAMP,
    ended_at TIMESTAMP,
    version BIGINT NOT NULL
);
CREATE INDEX tasks_status_id ON tasks (status, id);
CREATE INDEX tasks_status_expires ON tasks (status, expires_at);
CREATE INDEX tasks_assigned ON tasks (assigned_to);
CREATE INDEX tasks_poster ON tasks (poster_id);

-- One row per posted task, written in the task's transaction; a worker expands it
-- into one delivery per receiver (so posting never waits on the number of receivers).
CREATE TABLE webhook_fanouts (
    id TEXT PRIMARY KEY NOT NULL,
    task_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    claimed_until TIMESTAMP,
    done_at TIMESTAMP
);
CREATE INDEX webhook_fanouts_pending ON webhook_fanouts (done_at, created_at);

CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY NOT NULL,
    fanout_id TEXT,
    agent_id TEXT NOT NULL,
    task_id TEXT NOT NULL,
    event TEXT NOT NULL,
    url TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    claimed_until TIMESTAMP,
    last_status INTEGER,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    delivered_at TIMESTAMP
);
CREATE UNIQUE INDEX webhook_deliveries_once ON webhook_deliveries (fanout_id, agent_id);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_agent ON webhook_deliveries (agent_id, id);

ALTER TABLE transfers ADD COLUMN task_id TEXT;
