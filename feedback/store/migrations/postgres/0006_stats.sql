-- Statistics (issue 6): the PostgreSQL twin of sqlite/0006_stats.sql.

ALTER TABLE reports ADD COLUMN signed_on_time INTEGER;
ALTER TABLE reports ADD COLUMN sign_working_days INTEGER;
ALTER TABLE reports ADD COLUMN answered_on_time INTEGER;
ALTER TABLE reports ADD COLUMN answer_working_days INTEGER;

UPDATE reports SET signed_on_time = CASE WHEN accepted_at <= sign_by THEN 1 ELSE 0 END
WHERE accepted_at IS NOT NULL AND sign_by IS NOT NULL;
UPDATE reports SET answered_on_time = CASE WHEN answered_at <= answer_by THEN 1 ELSE 0 END
WHERE answered_at IS NOT NULL AND answer_by IS NOT NULL;

CREATE INDEX reports_sign_due ON reports (status, sign_by, department);
CREATE INDEX reports_answer_due ON reports (status, answer_by, department);
-- The public page lists answered reports newest first.
CREATE INDEX reports_answered ON reports (answered_at);

CREATE TABLE stats_dirty (
    report_id BIGINT PRIMARY KEY
);
INSERT INTO stats_dirty (report_id) SELECT id FROM reports;

CREATE FUNCTION reports_stats_mark() RETURNS trigger AS $$
BEGIN
    INSERT INTO stats_dirty (report_id) VALUES (NEW.id) ON CONFLICT DO NOTHING;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER reports_stats_mark AFTER INSERT OR UPDATE ON reports
    FOR EACH ROW EXECUTE FUNCTION reports_stats_mark();

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
);

CREATE TABLE stats_daily_days (
    issue_type TEXT NOT NULL,
    day TEXT NOT NULL,
    department TEXT NOT NULL,
    channel TEXT NOT NULL,
    measure TEXT NOT NULL,
    days INTEGER NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (issue_type, day, department, channel, measure, days)
);
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
);
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
);

-- The refresh replaces whole days and months.
CREATE INDEX stats_monthly_days_by_month ON stats_monthly_days (month);
CREATE INDEX stats_daily_by_day ON stats_daily (day);
CREATE INDEX stats_daily_days_by_day ON stats_daily_days (day);

