-- A record that covers the report (feedback.record, feedback.checkpoint).
-- The salt of each report's content hashes; '' marks a report from before this version, which
-- the background job seals (one `seal` event holding its row digest and content hashes).
ALTER TABLE reports ADD COLUMN record_salt TEXT NOT NULL DEFAULT '';
CREATE INDEX reports_unsealed ON reports (id) WHERE record_salt = '';

-- Checkpoints of every report's chain: the Merkle root over (tracking number, length, head) of
-- the events up to `events_upto`, chained to the previous checkpoint by `prev`, optionally
-- signed by the operator. Published on the public page; `feedback verify --checkpoint FILE`.
CREATE TABLE checkpoints (
    id INTEGER PRIMARY KEY,
    taken_at TEXT NOT NULL,
    events_upto INTEGER NOT NULL,
    reports INTEGER NOT NULL,
    events INTEGER NOT NULL,
    root TEXT NOT NULL,
    prev TEXT NOT NULL,
    digest TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL,
    signature TEXT,
    public_key TEXT
);
