-- kartoteka register, schema version 5: the name search ranks inside the index. One row per
-- (current record, key of its surname), ordered by surname key, given-name key, patronymic
-- initial and birth year, and covering what ranking needs, so a query reads the first rows of a
-- few range scans instead of every record of a common surname. Derived from the current records
-- by the web app (replaces `name_keys`); emptying `search_state` makes the next start rebuild it.
-- Documented in docs/register.md.

DROP TABLE name_keys;
CREATE TABLE search_names (
    surname_key        TEXT NOT NULL,
    given_key          TEXT NOT NULL,
    patronymic_initial TEXT NOT NULL,
    birth_year         INTEGER NOT NULL,
    record_id          INTEGER NOT NULL,
    birth_to           INTEGER NOT NULL,
    patronymic_key     TEXT NOT NULL,
    source_id          TEXT NOT NULL,
    record_key         TEXT NOT NULL,
    display            TEXT NOT NULL,
    PRIMARY KEY (surname_key, given_key, patronymic_initial, birth_year, record_id)
) STRICT, WITHOUT ROWID;
DELETE FROM search_state;
-- What a record's sentences say (normalised value and raw text, lower-cased), for the search's
-- sentence filter.
ALTER TABLE search_records ADD COLUMN sentence TEXT NOT NULL DEFAULT '';
