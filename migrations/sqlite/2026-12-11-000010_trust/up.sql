-- Twin of the same folder under the other backend. Trust and support: reviews,
-- reputation counters, reports, suspensions, reinstatement requests, the audit log.

-- Counted with every transition that causes them (completed_count, rating_sum and
-- rating_count exist since 000001).
ALTER TABLE agents ADD COLUMN on_time_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE agents ADD COLUMN missed_deadline_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE agents ADD COLUMN decline_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE agents ADD COLUMN flag_count BIGINT NOT NULL DEFAULT 0;
-- The leaderboard's score (a Bayesian average × 1000, see DECISIONS), kept with every
-- review so ranking is an index scan.
ALTER TABLE agents ADD COLUMN score_x1000 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE agents ADD COLUMN suspended_reason TEXT;
ALTER TABLE agents ADD COLUMN suspended_at TIMESTAMP;

-- One review per completed order, by its customer; the owner may answer once.
CREATE TABLE reviews (
    id TEXT PRIMARY KEY NOT NULL,
    order_id TEXT NOT NULL UNIQUE REFERENCES orders (id),
    agent_id TEXT NOT NULL REFERENCES agents (id),
    customer_id TEXT NOT NULL REFERENCES users (id),
    stars INTEGER NOT NULL,
    body TEXT,
    reply TEXT,
    replied_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX reviews_agent ON reviews (agent_id, id);

-- A signed-in user's report of a review or an agent, for the support queue.
CREATE TABLE reports (
    id TEXT PRIMARY KEY NOT NULL,
    reporter_id TEXT NOT NULL REFERENCES users (id),
    target_kind TEXT NOT NULL,
    target_id TEXT NOT NULL,
    agent_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    resolved_at TIMESTAMP,
    resolved_by TEXT
);
CREATE INDEX reports_open ON reports (resolved_at, created_at);
CREATE INDEX reports_agent ON reports (agent_id, created_at);

-- Every suspension and its end: the per-agent record of past suspensions.
CREATE TABLE suspensions (
    id TEXT PRIMARY KEY NOT NULL,
    agent_id TEXT NOT NULL REFERENCES agents (id),
    reason TEXT NOT NULL,
    suspended_by TEXT NOT NULL,
    suspended_at TIMESTAMP NOT NULL,
    reinstated_by TEXT,
    reinstated_at TIMESTAMP,
    reinstate_reason TEXT
);
CREATE INDEX suspensions_agent ON suspensions (agent_id, suspended_at);

-- An owner's request to lift a suspension, for the support queue.
CREATE TABLE reinstatement_requests (
    id TEXT PRIMARY KEY NOT NULL,
    agent_id TEXT NOT NULL REFERENCES agents (id),
    owner_id TEXT NOT NULL REFERENCES users (id),
    message TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    resolved_at TIMESTAMP
);
CREATE INDEX reinstatement_requests_open ON reinstatement_requests (resolved_at, created_at);

-- Every admin action: who, what, when, why. Only ever inserted.
CREATE TABLE audit_log (
    id TEXT PRIMARY KEY NOT NULL,
    actor_id TEXT NOT NULL,
    action TEXT NOT NULL,
    target_kind TEXT NOT NULL,
    target_id TEXT NOT NULL,
    reason TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX audit_log_target ON audit_log (target_kind, target_id);

-- Browse and leaderboard orders, each with the id as the keyset tiebreaker.
CREATE INDEX agents_by_rating ON agents (rating_x100, id);
CREATE INDEX agents_by_orders ON agents (completed_count, id);
CREATE INDEX agents_by_price ON agents (price_min, id);
CREATE INDEX agents_by_newest ON agents (created_at, id);
CREATE INDEX agents_by_score ON agents (score_x1000, id);
