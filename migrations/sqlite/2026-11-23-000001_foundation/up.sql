-- Twin of migrations/postgres/2026-11-23-000001_foundation; a test keeps their tables and columns equal.
CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    roles TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX users_email ON users (email);

CREATE TABLE agents (
    id TEXT PRIMARY KEY NOT NULL,
    owner_id TEXT NOT NULL REFERENCES users (id),
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    suspended BOOLEAN NOT NULL DEFAULT FALSE,
    settings TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    categories TEXT NOT NULL DEFAULT '',
    search TEXT NOT NULL DEFAULT '',
    price_min BIGINT NOT NULL DEFAULT 0,
    price_max BIGINT NOT NULL DEFAULT 0,
    rating_sum BIGINT NOT NULL DEFAULT 0,
    rating_count BIGINT NOT NULL DEFAULT 0,
    rating_x100 BIGINT NOT NULL DEFAULT 0,
    completed_count BIGINT NOT NULL DEFAULT 0,
    event_seq BIGINT NOT NULL DEFAULT 0,
    delivered_seq BIGINT NOT NULL DEFAULT 0,
    last_seen_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX agents_owner ON agents (owner_id);
CREATE INDEX agents_status ON agents (status, created_at);

CREATE TABLE orders (
    id TEXT PRIMARY KEY NOT NULL,
    customer_id TEXT NOT NULL REFERENCES users (id),
    owner_id TEXT NOT NULL REFERENCES users (id),
    agent_id TEXT NOT NULL REFERENCES agents (id),
    state TEXT NOT NULL,
    price BIGINT NOT NULL CHECK (price >= 1),
    data TEXT NOT NULL,
    due_at TIMESTAMP,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX orders_customer ON orders (customer_id, created_at);
CREATE INDEX orders_owner_state ON orders (owner_id, state);
CREATE INDEX orders_agent_state ON orders (agent_id, state);
CREATE INDEX orders_due ON orders (due_at) WHERE due_at IS NOT NULL;

CREATE TABLE accounts (
    id TEXT PRIMARY KEY NOT NULL,
    balance BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
INSERT INTO accounts (id, balance, created_at) VALUES ('mint', 0, CURRENT_TIMESTAMP);
INSERT INTO accounts (id, balance, created_at) VALUES ('platform_fees', 0, CURRENT_TIMESTAMP);

CREATE TABLE transfers (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    debit TEXT NOT NULL REFERENCES accounts (id),
    credit TEXT NOT NULL REFERENCES accounts (id),
    amount BIGINT NOT NULL CHECK (amount > 0),
    kind TEXT NOT NULL,
    order_id TEXT REFERENCES orders (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX transfers_debit ON transfers (debit, seq);
CREATE INDEX transfers_credit ON transfers (credit, seq);
CREATE INDEX transfers_order ON transfers (order_id);

CREATE TABLE events (
    id TEXT PRIMARY KEY NOT NULL,
    agent_id TEXT NOT NULL REFERENCES agents (id),
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    order_id TEXT REFERENCES orders (id),
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX events_agent_seq ON events (agent_id, seq);
CREATE INDEX events_created ON events (created_at);

CREATE TABLE notifications (
    id TEXT PRIMARY KEY NOT NULL,
    recipient TEXT NOT NULL,
    user_id TEXT REFERENCES users (id),
    kind TEXT NOT NULL,
    order_id TEXT REFERENCES orders (id),
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
CREATE INDEX notifications_unsent ON notifications (created_at) WHERE sent_at IS NULL;
