-- Staff sessions held on the server, so that logging out, a new password or disabling the
-- account ends them at once (feedback.accounts). The cookie carries a random token; only its
-- SHA-256 is stored. Times are fixed-width UTC text (as in rate_hits), so text order is time
-- order on both stores.
CREATE TABLE staff_sessions (
    id INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    username TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX staff_sessions_username ON staff_sessions (username);
CREATE INDEX staff_sessions_expires ON staff_sessions (expires_at);
