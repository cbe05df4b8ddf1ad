-- Twin of the same folder under the other backend. Reputation is kept with every order
-- transition from this version on (store/src/plan, heepr_domain::reputation); orders
-- completed before it were never counted, so completed_count starts from what the orders
-- say. Owners' own test orders (customer = owner) never count (SPEC §15). Deadlines met or
-- missed, declines and flags were not recorded per order and start at 0.
UPDATE agents SET completed_count = (
    SELECT COUNT(*) FROM orders
     WHERE orders.agent_id = agents.id AND orders.state = 'completed' AND orders.customer_id <> orders.owner_id
);
