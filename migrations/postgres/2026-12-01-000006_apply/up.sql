-- Applies one command's writes (store/src/plan.rs) inside the server: one round trip
-- instead of one per statement. It decides nothing: every row comes from the caller,
-- and the conditions are the store's usual ones (the order's version, a debit the
-- wallet covers, an existing agent), refused with an exception that aborts the whole
-- plan: 'heepr:contention', 'heepr:insufficient_points', 'heepr:no_agent'.
CREATE FUNCTION heepr_apply(plan JSONB) RETURNS VOID LANGUAGE plpgsql AS $$
DECLARE
    s JSONB;
    seq_ BIGINT;
    digits TEXT;
    eid TEXT;
BEGIN
    FOR s IN SELECT value FROM jsonb_array_elements(plan) LOOP
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
            UPDATE accounts SET balance = balance - (s->>'amount')::BIGINT
             WHERE id = s->>'debit' AND ((s->>'may_go_negative')::BOOLEAN OR balance >= (s->>'amount')::BIGINT);
            IF NOT FOUND THEN
                RAISE EXCEPTION 'heepr:insufficient_points';
            END IF;
            INSERT INTO accounts (id, balance, created_at)
                 VALUES (s->>'credit', (s->>'amount')::BIGINT, (s->>'at')::TIMESTAMP)
            ON CONFLICT (id) DO UPDATE SET balance = accounts.balance + excluded.balance;
            INSERT INTO transfers (id, debit, credit, amount, kind, order_id, created_at)
                 VALUES (s->>'id', s->>'debit', s->>'credit', (s->>'amount')::BIGINT, s->>'kind', s->>'order_id',
                         (s->>'at')::TIMESTAMP);
        WHEN 'event' THEN
            UPDATE agents SET event_seq = event_seq + 1 WHERE id = s->>'agent_id' RETURNING event_seq INTO seq_;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'heepr:no_agent';
            END IF;
            digits := seq_::TEXT;
            eid := (s->>'id_head') || lpad(digits, greatest(10, length(digits)), '0');
            INSERT INTO events (id, agent_id, seq, kind, order_id, body, created_at)
                 VALUES (eid, s->>'agent_id', seq_, s->>'kind', s->>'order_id', '{"id":"' || eid || '",' || (s->>'tail'),
                         (s->>'at')::TIMESTAMP);
        WHEN 'notification' THEN
            INSERT INTO notifications SELECT * FROM jsonb_populate_record(NULL::notifications, s->'row');
        WHEN 'delivery' THEN
            INSERT INTO deliveries SELECT * FROM jsonb_populate_record(NULL::deliveries, s->'row');
        WHEN 'file' THEN
            INSERT INTO files SELECT * FROM jsonb_populate_record(NULL::files, s->'row');
        ELSE
            RAISE EXCEPTION 'heepr: unknown plan step %', s->>'t';
        END CASE;
    END LOOP;
END
$$;
