-- Machine clients' API keys (feedback.apikeys) and the rate-limit log (feedback.ratelimit).
-- Keys are stored as SHA-256 of the secret: the secret has 192 random bits, so a fast hash
-- is enough, and the prefix finds the row without scanning.
CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL UNIQUE,
    key_hash TEXT NOT NULL,
    per_minute INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);

-- One row per counted request (a sliding-window log), shared by every process on the database.
-- `at` is fixed-width UTC text (2026-03-10T01:30:00.000000Z), so text order is time order.
CREATE TABLE rate_hits (
    id INTEGER PRIMARY KEY,
    scope TEXT NOT NULL,
    subject TEXT NOT NULL,
    ticket TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX rate_hits_subject_at ON rate_hits (scope, subject, at);
CREATE INDEX rate_hits_ticket ON rate_hits (ticket);
CREATE INDEX rate_hits_at ON rate_hits (at);
