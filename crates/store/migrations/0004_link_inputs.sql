-- kartoteka register, schema version 4: a fingerprint of what a linkage run was given (records,
-- spec, decisions), so `kartoteka build` skips re-linking when nothing changed. NULL for runs
-- that did not record one (they are always re-run). Documented in docs/register.md.

ALTER TABLE link_runs ADD COLUMN inputs_sha256 TEXT;
