-- Web accounts: login attempts, for throttling guessing across processes and for the audit.
CREATE TABLE login_attempts (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL,
    address TEXT NOT NULL,
    at TEXT NOT NULL,
    success INTEGER NOT NULL
);
CREATE INDEX login_attempts_username_at ON login_attempts (username, at);
CREATE INDEX login_attempts_address_at ON login_attempts (address, at);
