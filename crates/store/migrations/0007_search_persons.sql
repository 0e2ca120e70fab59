-- kartoteka register, schema version 7: the name search index holds each record's person, so a
-- query does not look up every candidate's person in `person_records`. `search_state.persons_run`
-- is the linkage run (`link_runs.run_id`) whose persons the index holds; while it differs from
-- the latest run, searches look persons up in `person_records` and the web app's next start or
-- re-link copies the new persons into the index. Documented in docs/register.md.

ALTER TABLE search_names ADD COLUMN person_id TEXT;
ALTER TABLE search_state ADD COLUMN persons_run INTEGER;
