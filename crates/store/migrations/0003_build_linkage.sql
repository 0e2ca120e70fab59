-- kartoteka register, schema version 3: what `kartoteka build`'s linkage step adds.
-- A record's content fingerprint beside its person, so a record that moved to another row of a
-- new file version (same content, new record key) keeps its person. Documented in docs/register.md.

ALTER TABLE person_records ADD COLUMN content_sha256 TEXT;
CREATE INDEX person_records_by_content ON person_records (content_sha256);
