DROP TABLE bootstrap_links;
