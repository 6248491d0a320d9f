-- Machine clients' API keys (feedback.apikeys) and the rate-limit log (feedback.ratelimit).
-- Times are fixed-width ISO-8601 text, as the SQLite twin stores them, so the same queries
-- compare them.
CREATE TABLE api_keys (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL UNIQUE,
    key_hash TEXT NOT NULL,
    per_minute INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);

CREATE TABLE rate_hits (
    id BIGSERIAL PRIMARY KEY,
    scope TEXT NOT NULL,
    subject TEXT NOT NULL,
    ticket TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX rate_hits_subject_at ON rate_hits (scope, subject, at);
CREATE INDEX rate_hits_ticket ON rate_hits (ticket);
CREATE INDEX rate_hits_at ON rate_hits (at);
