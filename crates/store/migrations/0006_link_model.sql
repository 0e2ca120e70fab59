-- kartoteka register, schema version 6: what an incremental linkage run reuses. The model a run
-- trained, the spec it ran with and a fingerprint of the decisions it honoured: when a later run
-- finds every record of that run unchanged, the same spec and the same decisions, it links only
-- the new records against the persons already formed. NULL for older runs (they are re-linked
-- whole). Documented in docs/register.md.

ALTER TABLE link_runs ADD COLUMN model_json TEXT;
ALTER TABLE link_runs ADD COLUMN spec_json TEXT;
ALTER TABLE link_runs ADD COLUMN decisions_sha256 TEXT;
