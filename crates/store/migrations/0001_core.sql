-- kartoteka register, schema version 1: sources, file versions, records, assertions, rejects,
-- diagnostics. Shipped migrations are never edited; change the schema with a new file.
-- Every table and column is documented in docs/register.md.

CREATE TABLE sources (
    source_id     TEXT PRIMARY KEY,
    title         TEXT NOT NULL,
    kind          TEXT NOT NULL,
    manifest_json TEXT NOT NULL
) STRICT;

CREATE TABLE source_files (
    file_id         INTEGER PRIMARY KEY,
    source_id       TEXT NOT NULL REFERENCES sources (source_id),
    path            TEXT NOT NULL,
    version         INTEGER NOT NULL,
    sha256          TEXT NOT NULL,
    bytes           INTEGER NOT NULL,
    manifest_sha256 TEXT NOT NULL,
    policy          TEXT NOT NULL CHECK (policy IN ('strict', 'lenient')),
    ingested_at     TEXT NOT NULL,
    UNIQUE (source_id, path, version)
) STRICT;

CREATE VIEW current_files AS
SELECT f.*
FROM source_files AS f
WHERE f.version = (
    SELECT max(g.version) FROM source_files AS g WHERE g.source_id = f.source_id AND g.path = f.path
);

CREATE TABLE records (
    record_id   INTEGER PRIMARY KEY,
    file_id     INTEGER NOT NULL REFERENCES source_files (file_id),
    record_key  TEXT NOT NULL,
    sheet       TEXT,
    row         INTEGER NOT NULL,
    installment TEXT,
    page        TEXT,
    cells_json  TEXT NOT NULL,
    UNIQUE (file_id, record_key)
) STRICT;

CREATE TABLE assertions (
    assertion_id     INTEGER PRIMARY KEY,
    record_id        INTEGER NOT NULL REFERENCES records (record_id),
    ordinal          INTEGER NOT NULL,
    field            TEXT NOT NULL,
    event_kind       TEXT,
    column_name      TEXT NOT NULL,
    raw              TEXT NOT NULL,
    value_type       TEXT NOT NULL,
    value_text       TEXT,
    value_number     INTEGER,
    date_earliest    TEXT,
    date_latest      TEXT,
    date_precision   TEXT,
    date_calendar    TEXT,
    date_approximate INTEGER,
    value_json       TEXT NOT NULL,
    UNIQUE (record_id, ordinal)
) STRICT;

CREATE INDEX assertions_by_field ON assertions (field);

CREATE TABLE rejects (
    reject_id   INTEGER PRIMARY KEY,
    file_id     INTEGER NOT NULL REFERENCES source_files (file_id),
    sheet       TEXT,
    row         INTEGER,
    column_name TEXT,
    reason      TEXT NOT NULL,
    cells_json  TEXT NOT NULL
) STRICT;

CREATE TABLE diagnostics (
    diagnostic_id INTEGER PRIMARY KEY,
    file_id       INTEGER NOT NULL REFERENCES source_files (file_id),
    sheet         TEXT,
    row           INTEGER,
    column_name   TEXT,
    severity      TEXT NOT NULL CHECK (severity IN ('warning', 'error')),
    expected      TEXT,
    message       TEXT NOT NULL
) STRICT;
