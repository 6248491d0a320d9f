-- Web accounts: login attempts, for throttling guessing across processes and for the audit.
-- `at` is ISO-8601 text, as the SQLite twin stores it, so the same queries compare it.
CREATE TABLE login_attempts (
    id BIGSERIAL PRIMARY KEY,
    username TEXT NOT NULL,
    address TEXT NOT NULL,
    at TEXT NOT NULL,
    success BOOLEAN NOT NULL
);
CREATE INDEX login_attempts_username_at ON login_attempts (username, at);
CREATE INDEX login_attempts_address_at ON login_attempts (address, at);
