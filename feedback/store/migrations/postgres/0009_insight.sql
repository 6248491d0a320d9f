-- The supervisor's insight desk (feedback/insight.py). Times are UTC ISO text on both stores.

-- 附议 / "我也遇到": a citizen supports a published report; one voice per visitor and report
-- (voter is a hash of the visitor's cookie, never an address or name).
CREATE TABLE report_support (
    report_id BIGINT NOT NULL REFERENCES reports (id),
    voter TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (report_id, voter)
);

-- The answer review of each answered report, computed once per answer (answered_at tells
-- which answer), and whether a supervisor returned it for rework.
CREATE TABLE answer_reviews (
    report_id BIGINT PRIMARY KEY REFERENCES reports (id),
    answered_at TEXT NOT NULL,
    department TEXT,
    relevance INTEGER NOT NULL,
    completeness INTEGER NOT NULL,
    basis INTEGER NOT NULL,
    score REAL NOT NULL,
    acceptable INTEGER NOT NULL,
    reasons TEXT NOT NULL,
    reviewed_at TEXT NOT NULL,
    returned_at TEXT
);
CREATE INDEX answer_reviews_department ON answer_reviews (department, answered_at);

-- 督办 of a whole hot issue: one row per action, with the member reports it reached (each of
-- them also carries the 督办 in its own record chain).
CREATE TABLE hot_escalations (
    id BIGSERIAL PRIMARY KEY,
    issue_key TEXT NOT NULL,
    summary TEXT NOT NULL,
    tracking_numbers TEXT NOT NULL,
    actor_id TEXT,
    note TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX hot_escalations_key ON hot_escalations (issue_key);
