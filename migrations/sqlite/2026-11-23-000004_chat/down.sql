DROP TABLE offers;
DROP TABLE messages;
DROP TABLE threads;
