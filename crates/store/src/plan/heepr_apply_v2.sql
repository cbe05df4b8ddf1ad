-- heepr_apply_v2: applies one plan (store/src/plan/) inside the server: one round trip
-- instead of one per statement. It decides nothing: every row comes from the caller,
-- and the conditions are the store's usual ones (the order's version, a debit the
-- wallet covers, an existing agent, an agent's rating unchanged since the decision),
-- refused with an exception that aborts the whole plan: 'heepr:contention',
-- 'heepr:insufficient_points', 'heepr:no_agent', 'heepr:claim_taken'.
--
-- v2 = v1 + the reputation steps: 'agent_stats' (an order decision's counter
-- increments), 'review' (a review's row) and 'agent_rating' (the rating a review
-- leaves, over the one it was decided from). v1 stays installed, unchanged, for
-- binaries that still call it during a rolling upgrade.
--
-- Not a migration: the store installs this file at every start under the migration
-- lock (CREATE OR REPLACE). A new step edits this file and plan/statements.rs; a
-- change that an older binary could not live with gets a new file and name (_v3).
CREATE OR REPLACE FUNCTION heepr_apply_v2(plan JSONB) RETURNS VOID LANGUAGE plpgsql AS $$
DECLARE
    s JSONB;
BEGIN
    -- Indexing the array is a plain expression; a FOR … IN SELECT would run a query.
    FOR i IN 0 .. jsonb_array_length(plan) - 1 LOOP
        s := plan -> i;
        CASE s->>'t'
        WHEN 'insert_order' THEN
            INSERT INTO orders SELECT * FROM jsonb_populate_record(NULL::orders, s->'row');
        WHEN 'update_order' THEN
            UPDATE orders
               SET state = r.state, data = r.data, due_at = r.due_at, version = r.version, updated_at = r.updated_at
              FROM jsonb_populate_record(NULL::orders, s->'row') r
             WHERE orders.id = r.id AND orders.version = (s->>'expected_version')::BIGINT;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'heepr:contention';
            END IF;
        WHEN 'transfer' THEN
            -- One statement (one executor start) for the debit, the credit and the log;
            -- nothing is credited or logged unless the debit happened.
            WITH debited AS (
                UPDATE accounts SET balance = balance - (s->>'amount')::BIGINT
                 WHERE id = s->>'debit' AND ((s->>'may_go_negative')::BOOLEAN OR balance >= (s->>'amount')::BIGINT)
                RETURNING 1
            ), credited AS (
                INSERT INTO accounts (id, balance, created_at)
                SELECT s->>'credit', (s->>'amount')::BIGINT, (s->>'at')::TIMESTAMP FROM debited
                ON CONFLICT (id) DO UPDATE SET balance = accounts.balance + excluded.balance
                RETURNING 1
            )
            INSERT INTO transfers (id, debit, credit, amount, kind, order_id, created_at)
            SELECT s->>'id', s->>'debit', s->>'credit', (s->>'amount')::BIGINT, s->>'kind', s->>'order_id',
                   (s->>'at')::TIMESTAMP
              FROM credited;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'heepr:insufficient_points';
            END IF;
        WHEN 'event' THEN
            -- Numbered from the agent's own sequence, in the same statement as the insert.
            WITH numbered AS (
                UPDATE agents SET event_seq = event_seq + 1 WHERE id = s->>'agent_id'
                RETURNING (s->>'id_head') || lpad(event_seq::TEXT, greatest(10, length(event_seq::TEXT)), '0') AS eid,
                          event_seq
            )
            INSERT INTO events (id, agent_id, seq, kind, order_id, body, created_at)
            SELECT eid, s->>'agent_id', event_seq, s->>'kind', s->>'order_id', '{"id":"' || eid || '",' || (s->>'tail'),
                   (s->>'at')::TIMESTAMP
              FROM numbered;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'heepr:no_agent';
            END IF;
        WHEN 'notification' THEN
            INSERT INTO notifications SELECT * FROM jsonb_populate_record(NULL::notifications, s->'row');
        WHEN 'delivery' THEN
            INSERT INTO deliveries SELECT * FROM jsonb_populate_record(NULL::deliveries, s->'row');
        WHEN 'file' THEN
            INSERT INTO files SELECT * FROM jsonb_populate_record(NULL::files, s->'row');
        WHEN 'claim' THEN
            -- A concurrent claim of the same key makes this wait for its transaction;
            -- if that one commits, the key is taken and this whole plan is refused.
            INSERT INTO idempotency_keys
            SELECT * FROM jsonb_populate_record(NULL::idempotency_keys, s->'row')
            ON CONFLICT DO NOTHING;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'heepr:claim_taken';
            END IF;
        WHEN 'agent_stats' THEN
            UPDATE agents
               SET completed_count = completed_count + (s->>'completed')::BIGINT,
                   on_time_count = on_time_count + (s->>'on_time')::BIGINT,
                   missed_deadline_count = missed_deadline_count + (s->>'missed_deadlines')::BIGINT,
                   decline_count = decline_count + (s->>'declines')::BIGINT,
                   flag_count = flag_count + (s->>'flags')::BIGINT
             WHERE id = s->>'agent_id';
            IF NOT FOUND THEN
                RAISE EXCEPTION 'heepr:no_agent';
            END IF;
        WHEN 'review' THEN
            -- A second review of one order is a unique violation on reviews.order_id.
            INSERT INTO reviews SELECT * FROM jsonb_populate_record(NULL::reviews, s->'row');
        WHEN 'agent_rating' THEN
            UPDATE agents
               SET rating_sum = (s->>'rating_sum')::BIGINT, rating_count = (s->>'rating_count')::BIGINT,
                   rating_x100 = (s->>'rating_x100')::BIGINT, score_x1000 = (s->>'score_x1000')::BIGINT
             WHERE id = s->>'agent_id' AND rating_sum = (s->>'expected_sum')::BIGINT
               AND rating_count = (s->>'expected_count')::BIGINT;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'heepr:contention';
            END IF;
        ELSE
            RAISE EXCEPTION 'heepr: unknown plan step %', s->>'t';
        END CASE;
    END LOOP;
END
$$;
