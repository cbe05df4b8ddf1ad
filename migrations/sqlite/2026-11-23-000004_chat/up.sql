-- Twin of the same folder under the other backend.
CREATE TABLE threads (
    id TEXT PRIMARY KEY NOT NULL,
    agent_id TEXT NOT NULL REFERENCES agents (id),
    customer_id TEXT NOT NULL REFERENCES users (id),
    owner_id TEXT NOT NULL REFERENCES users (id),
    order_id TEXT REFERENCES orders (id),
    human_requested BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX threads_customer ON threads (customer_id, updated_at);
CREATE INDEX threads_owner ON threads (owner_id, updated_at);
CREATE UNIQUE INDEX threads_order ON threads (order_id);

CREATE TABLE messages (
    id TEXT PRIMARY KEY NOT NULL,
    thread_id TEXT NOT NULL REFERENCES threads (id),
    author_kind TEXT NOT NULL,
    author_id TEXT,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX messages_thread ON messages (thread_id, created_at);

-- accepted_order_id has no foreign key: acceptance claims the offer before the order
-- row exists, in the same transaction.
CREATE TABLE offers (
    id TEXT PRIMARY KEY NOT NULL,
    thread_id TEXT NOT NULL REFERENCES threads (id),
    agent_id TEXT NOT NULL REFERENCES agents (id),
    gig_id TEXT NOT NULL,
    tier TEXT NOT NULL,
    price BIGINT NOT NULL,
    deadline TIMESTAMP NOT NULL,
    scope TEXT NOT NULL,
    inputs TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    accepted_order_id TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX offers_thread ON offers (thread_id, created_at);
