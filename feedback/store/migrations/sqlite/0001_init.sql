-- The core: reports, their full-process record, attachments, corrections, staff accounts.
CREATE TABLE counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);

CREATE TABLE reports (
    id INTEGER PRIMARY KEY,
    tracking_number TEXT NOT NULL UNIQUE,
    code_hash TEXT NOT NULL,
    channel TEXT NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    anonymous INTEGER NOT NULL DEFAULT 1,
    contact_name TEXT,
    contact_phone TEXT,
    telegram_chat_id INTEGER,
    place TEXT,
    occurred_at TEXT,
    authority TEXT,
    department TEXT,
    assisting TEXT NOT NULL DEFAULT '[]',
    issue_types TEXT NOT NULL DEFAULT '[]',
    sign_by TEXT,
    answer_by TEXT,
    rate_by TEXT,
    send_back_by TEXT,
    routing TEXT NOT NULL DEFAULT '{}',
    send_back_count INTEGER NOT NULL DEFAULT 0,
    route_locked INTEGER NOT NULL DEFAULT 0,
    arbitration INTEGER NOT NULL DEFAULT 0,
    extension_used INTEGER NOT NULL DEFAULT 0,
    pending_extension TEXT,
    escalation_level INTEGER NOT NULL DEFAULT 0,
    warned_for TEXT,
    escalated_for TEXT,
    supervised INTEGER NOT NULL DEFAULT 0,
    answer TEXT,
    answered_at TEXT,
    accepted_at TEXT,
    rating TEXT,
    rating_comment TEXT,
    reopen_count INTEGER NOT NULL DEFAULT 0,
    review_used INTEGER NOT NULL DEFAULT 0,
    close_reason TEXT,
    closed_at TEXT,
    substantiated INTEGER,
    duplicate_of TEXT,
    record_head TEXT NOT NULL DEFAULT '',
    record_count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX reports_department_status ON reports (department, status);
CREATE INDEX reports_status ON reports (status);
CREATE INDEX reports_created ON reports (created_at);
CREATE INDEX reports_chat ON reports (telegram_chat_id) WHERE telegram_chat_id IS NOT NULL;

-- One row per (report, issue type), so statistics can group by type with an index.
CREATE TABLE report_issue_types (
    report_id INTEGER NOT NULL REFERENCES reports (id),
    issue_type TEXT NOT NULL,
    PRIMARY KEY (report_id, issue_type)
);
CREATE INDEX report_issue_types_type ON report_issue_types (issue_type);

CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    report_id INTEGER NOT NULL REFERENCES reports (id),
    seq INTEGER NOT NULL,
    at TEXT NOT NULL,
    actor_role TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    action TEXT NOT NULL,
    details TEXT NOT NULL,
    before TEXT,
    after TEXT,
    public INTEGER NOT NULL DEFAULT 1,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    UNIQUE (report_id, seq)
);
CREATE INDEX events_action_at ON events (action, at);

CREATE TABLE attachments (
    id INTEGER PRIMARY KEY,
    report_id INTEGER NOT NULL REFERENCES reports (id),
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    storage_key TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX attachments_report ON attachments (report_id);

-- Staff corrections of routing and issue types: labelled examples for retraining.
CREATE TABLE corrections (
    id INTEGER PRIMARY KEY,
    report_id INTEGER NOT NULL REFERENCES reports (id),
    target TEXT NOT NULL,
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    labels TEXT NOT NULL,
    previous TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    department TEXT,
    display_name TEXT NOT NULL DEFAULT '',
    active INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL
);

-- Messages to citizens' chats (Telegram), written in the same transaction as the state change
-- they announce, so none is lost; the bot sends and marks them.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    report_id INTEGER NOT NULL REFERENCES reports (id),
    chat_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TEXT NOT NULL,
    sent_at TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL;
