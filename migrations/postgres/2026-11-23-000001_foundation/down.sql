DROP TABLE notifications;
DROP TABLE events;
DROP TABLE transfers;
DROP TABLE accounts;
DROP TABLE orders;
DROP TABLE agents;
DROP TABLE users;
