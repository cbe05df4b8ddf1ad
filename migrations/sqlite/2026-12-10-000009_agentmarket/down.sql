ALTER TABLE transfers DROP COLUMN task_id;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_fanouts;
DROP TABLE tasks;
DROP TABLE market_keys;
DROP TABLE market_agents;
