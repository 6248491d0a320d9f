-- Statistics (issue 6): historic facts the report row alone forgets, a dirty list kept by
-- triggers, and a daily rollup the dashboard reads so it stays fast at a million reports.

-- Facts written by the service when a bureau signs for or answers a report (feedback.stats_facts).
-- sign_by/answer_by are overwritten by later stages, so timeliness is recorded when it happens.
ALTER TABLE reports ADD COLUMN signed_on_time INTEGER;
ALTER TABLE reports ADD COLUMN sign_working_days INTEGER;
ALTER TABLE reports ADD COLUMN answered_on_time INTEGER;
ALTER TABLE reports ADD COLUMN answer_working_days INTEGER;

-- Reports signed or answered before this migration: the best the row can tell.
UPDATE reports SET signed_on_time = CASE WHEN accepted_at <= sign_by THEN 1 ELSE 0 END
WHERE accepted_at IS NOT NULL AND sign_by IS NOT NULL;
UPDATE reports SET answered_on_time = CASE WHEN answered_at <= answer_by THEN 1 ELSE 0 END
WHERE answered_at IS NOT NULL AND answer_by IS NOT NULL;

-- "Overdue now" is read from the live rows; these keep it an index range at any size.
CREATE INDEX reports_sign_due ON reports (status, sign_by, department);
CREATE INDEX reports_answer_due ON reports (status, answer_by, department);
-- The public page lists answered reports newest first.
CREATE INDEX reports_answered ON reports (answered_at);

-- Every insert or update of a report marks it; feedback.stats recomputes the days it touches.
CREATE TABLE stats_dirty (
    report_id INTEGER PRIMARY KEY
);
INSERT INTO stats_dirty (report_id) SELECT id FROM reports;
CREATE TRIGGER reports_stats_insert AFTER INSERT ON reports BEGIN
    INSERT OR IGNORE INTO stats_dirty (report_id) VALUES (NEW.id);
END;
CREATE TRIGGER reports_stats_update AFTER UPDATE ON reports BEGIN
    INSERT OR IGNORE INTO stats_dirty (report_id) VALUES (NEW.id);
END;

-- One row per (issue type, local day of submission, bureau, channel). issue_type '*' holds
-- every report once; the other rows hold the reports of that type ('' = no type), so a report
-- with two types counts once in '*' and once under each type.
CREATE TABLE stats_daily (
    issue_type TEXT NOT NULL,
    day TEXT NOT NULL,
    department TEXT NOT NULL,
    channel TEXT NOT NULL,
    received INTEGER NOT NULL,
    signed INTEGER NOT NULL,
    signed_on_time INTEGER NOT NULL,
    answered INTEGER NOT NULL,
    answered_on_time INTEGER NOT NULL,
    sent_back INTEGER NOT NULL,
    extended INTEGER NOT NULL,
    rated INTEGER NOT NULL,
    satisfied INTEGER NOT NULL,
    reopened INTEGER NOT NULL,
    judged INTEGER NOT NULL,
    substantiated INTEGER NOT NULL,
    escalated INTEGER NOT NULL,
    PRIMARY KEY (issue_type, day, department, channel)
) WITHOUT ROWID;

-- Histograms of working days to sign and to answer, for exact medians and p90 per group.
CREATE TABLE stats_daily_days (
    issue_type TEXT NOT NULL,
    day TEXT NOT NULL,
    department TEXT NOT NULL,
    channel TEXT NOT NULL,
    measure TEXT NOT NULL,
    days INTEGER NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (issue_type, day, department, channel, measure, days)
) WITHOUT ROWID;
-- The counts summed per month, for periods of whole months.
CREATE TABLE stats_monthly (
    issue_type TEXT NOT NULL,
    month TEXT NOT NULL,
    department TEXT NOT NULL,
    channel TEXT NOT NULL,
    received INTEGER NOT NULL,
    signed INTEGER NOT NULL,
    signed_on_time INTEGER NOT NULL,
    answered INTEGER NOT NULL,
    answered_on_time INTEGER NOT NULL,
    sent_back INTEGER NOT NULL,
    extended INTEGER NOT NULL,
    rated INTEGER NOT NULL,
    satisfied INTEGER NOT NULL,
    reopened INTEGER NOT NULL,
    judged INTEGER NOT NULL,
    substantiated INTEGER NOT NULL,
    escalated INTEGER NOT NULL,
    PRIMARY KEY (issue_type, month, department, channel)
) WITHOUT ROWID;
CREATE INDEX stats_monthly_by_month ON stats_monthly (month);

-- The same histograms summed per month: a period of whole months reads these (a year is
-- twelve months, not 365 days of rows); the ragged ends of a period read the daily ones.
CREATE TABLE stats_monthly_days (
    issue_type TEXT NOT NULL,
    month TEXT NOT NULL,
    department TEXT NOT NULL,
    channel TEXT NOT NULL,
    measure TEXT NOT NULL,
    days INTEGER NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (issue_type, month, department, channel, measure, days)
) WITHOUT ROWID;

-- The refresh replaces whole days and months.
CREATE INDEX stats_monthly_days_by_month ON stats_monthly_days (month);
CREATE INDEX stats_daily_by_day ON stats_daily (day);
CREATE INDEX stats_daily_days_by_day ON stats_daily_days (day);

