-- Links in queued emails are secrets: the body column keeps the text with each link
-- replaced by [link] (what support sees), and the whole body is kept sealed with the
-- server key until the email is sent (then the sealed copy is dropped).
ALTER TABLE emails ADD COLUMN sealed_body BLOB;
