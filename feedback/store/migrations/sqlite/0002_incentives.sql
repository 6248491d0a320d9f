-- 社会监督激励: points for substantiated reports, in a ledger with its own hash chain.
CREATE TABLE points_ledger (
    id INTEGER PRIMARY KEY,
    seq INTEGER NOT NULL UNIQUE,
    report_id INTEGER NOT NULL REFERENCES reports (id),
    kind TEXT NOT NULL,
    points INTEGER NOT NULL,
    at TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    details TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX points_ledger_report ON points_ledger (report_id);
-- At most one grant per report, whatever the code does.
CREATE UNIQUE INDEX points_ledger_one_grant ON points_ledger (report_id) WHERE kind = 'grant';
CREATE UNIQUE INDEX points_ledger_one_claim ON points_ledger (report_id) WHERE kind = 'claim';
