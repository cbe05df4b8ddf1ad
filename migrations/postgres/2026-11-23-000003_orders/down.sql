DROP TABLE idempotency_keys;
DROP TABLE files;
DROP TABLE deliveries;
