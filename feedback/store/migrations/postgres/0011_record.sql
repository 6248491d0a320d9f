-- A record that covers the report (see the SQLite twin).
ALTER TABLE reports ADD COLUMN record_salt TEXT NOT NULL DEFAULT '';
CREATE INDEX reports_unsealed ON reports (id) WHERE record_salt = '';

CREATE TABLE checkpoints (
    id BIGSERIAL PRIMARY KEY,
    taken_at TEXT NOT NULL,
    events_upto BIGINT NOT NULL,
    reports BIGINT NOT NULL,
    events BIGINT NOT NULL,
    root TEXT NOT NULL,
    prev TEXT NOT NULL,
    digest TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL,
    signature TEXT,
    public_key TEXT
);
