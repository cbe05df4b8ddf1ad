-- Twin of the same folder under the other backend. The scheduler looks up suspended
-- agents on every pass, to end open work a suspension did not see (see DECISIONS).
CREATE INDEX agents_suspended ON agents (suspended);
