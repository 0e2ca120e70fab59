-- kartoteka register, schema version 8: the name search index holds each record's place (as
-- `search_records.place` has it: birth places and residences, lower-cased), so the page of
-- results a search shows is read from the index rows it ranked, without a lookup per shown
-- record. Emptying `search_state` makes the web app's next start rebuild the index.
-- Documented in docs/register.md.

ALTER TABLE search_names ADD COLUMN place TEXT NOT NULL DEFAULT '';
DELETE FROM search_state;
