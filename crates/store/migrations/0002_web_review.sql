-- kartoteka register, schema version 2: what linkage and the web app add beside the sources.
-- Linkage outputs (persons, scored pairs, runs), reviewers' decisions (append-only, with undo),
-- optimistic versions of reviewed items, blind double-review votes, local accounts and sessions,
-- and the name search index. Documented in docs/register.md.

CREATE INDEX records_by_key ON records (record_key);

-- The latest linkage run's assignment of each current record to a person.
CREATE TABLE person_records (
    record_key TEXT PRIMARY KEY,
    person_id  TEXT NOT NULL
) STRICT;
CREATE INDEX person_records_by_person ON person_records (person_id);

-- Candidate pairs the latest run scored, with the waterfall for pairs worth a review.
CREATE TABLE link_pairs (
    record_key_l      TEXT NOT NULL,
    record_key_r      TEXT NOT NULL,
    match_weight      REAL NOT NULL,
    match_probability REAL NOT NULL,
    explanation_json  TEXT,
    PRIMARY KEY (record_key_l, record_key_r)
) STRICT;
CREATE INDEX link_pairs_by_uncertainty ON link_pairs (abs(match_probability - 0.5));

-- One row per linkage run.
CREATE TABLE link_runs (
    run_id    INTEGER PRIMARY KEY,
    ran_at    TEXT NOT NULL,
    records   INTEGER NOT NULL,
    persons   INTEGER NOT NULL,
    pairs     INTEGER NOT NULL,
    decisions INTEGER NOT NULL,
    events_json TEXT NOT NULL
) STRICT;

-- Reviewers' decisions: plain must-link / cannot-link data that every linkage run honours.
CREATE TABLE decisions (
    decision_id  INTEGER PRIMARY KEY,
    item         TEXT NOT NULL,
    action       TEXT NOT NULL CHECK (action IN ('accept', 'reject', 'merge', 'split')),
    kind         TEXT NOT NULL CHECK (kind IN ('must_link', 'cannot_link')),
    record_key_l TEXT NOT NULL,
    record_key_r TEXT NOT NULL,
    who          TEXT NOT NULL,
    decided_at   TEXT NOT NULL,
    why          TEXT NOT NULL
) STRICT;
CREATE INDEX decisions_by_item ON decisions (item);

-- Undoing a decision adds a row here; the decision itself stays for the audit trail.
CREATE TABLE decision_undos (
    decision_id INTEGER PRIMARY KEY REFERENCES decisions (decision_id),
    who         TEXT NOT NULL,
    undone_at   TEXT NOT NULL,
    why         TEXT NOT NULL
) STRICT;

-- The version of every reviewed item (a pair or a person); a decision names the version it saw.
CREATE TABLE review_items (
    item    TEXT PRIMARY KEY,
    version INTEGER NOT NULL
) STRICT;

-- Blind double review: each reviewer's vote, before a decision is made from agreeing votes.
CREATE TABLE review_votes (
    vote_id      INTEGER PRIMARY KEY,
    item         TEXT NOT NULL,
    action       TEXT NOT NULL CHECK (action IN ('accept', 'reject')),
    record_key_l TEXT NOT NULL,
    record_key_r TEXT NOT NULL,
    who          TEXT NOT NULL,
    voted_at     TEXT NOT NULL,
    why          TEXT NOT NULL,
    UNIQUE (item, who)
) STRICT;

CREATE TABLE users (
    user_id       INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'reviewer', 'viewer')),
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL
) STRICT;

CREATE TABLE sessions (
    token_sha256 TEXT PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (user_id),
    csrf_token   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL
) STRICT;

-- The search index, derived from current records (rebuilt when they change).
CREATE TABLE search_records (
    record_id   INTEGER PRIMARY KEY,
    record_key  TEXT NOT NULL,
    source_id   TEXT NOT NULL,
    display     TEXT NOT NULL,
    given_key   TEXT NOT NULL,
    patronymic_key TEXT NOT NULL,
    birth_from  INTEGER,
    birth_to    INTEGER,
    place       TEXT NOT NULL,
    events      TEXT NOT NULL
) STRICT;
CREATE TABLE name_keys (
    key       TEXT NOT NULL,
    record_id INTEGER NOT NULL,
    PRIMARY KEY (key, record_id)
) STRICT, WITHOUT ROWID;
CREATE TABLE search_state (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    fingerprint TEXT NOT NULL
) STRICT;
