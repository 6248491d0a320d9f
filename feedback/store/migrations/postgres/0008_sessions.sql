-- Staff sessions held on the server (see the SQLite twin).
CREATE TABLE staff_sessions (
    id BIGSERIAL PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    username TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX staff_sessions_username ON staff_sessions (username);
CREATE INDEX staff_sessions_expires ON staff_sessions (expires_at);
