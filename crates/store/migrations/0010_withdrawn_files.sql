-- Schema version 10: a file the manifest no longer declares (renamed, replaced, its source
-- removed) is withdrawn. Its versions and records stay in the register, but it is no longer
-- current, so exports, linkage and search stop reading it. Declaring the path again ingests it
-- as a new version, which is current again. Nothing is deleted or updated in place.

CREATE TABLE file_withdrawals (
    file_id      INTEGER PRIMARY KEY REFERENCES source_files (file_id),
    withdrawn_at TEXT NOT NULL
) STRICT;

DROP VIEW current_files;

CREATE VIEW current_files AS
SELECT f.*
FROM source_files AS f
WHERE f.version = (
    SELECT max(g.version) FROM source_files AS g WHERE g.source_id = f.source_id AND g.path = f.path
)
AND f.file_id NOT IN (SELECT file_id FROM file_withdrawals);
