DROP TABLE emails;
DROP TABLE approvals;
DROP TABLE bootstrap_tokens;
DROP TABLE api_keys;
DROP TABLE sessions;
