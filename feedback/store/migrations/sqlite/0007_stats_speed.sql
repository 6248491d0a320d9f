-- Statistics, faster (issue 6 follow-up): the rollup becomes a small cube, refreshed in short
-- transactions, and the public page gets a search index over the ANONYMISED text only.

-- The 0006 rollup kept one row per (issue type, day|month, bureau, channel), so a breakdown by
-- issue type over two years summed ~200,000 histogram rows. The cube keeps the same rows plus
-- their totals over bureaus and over channels (department/channel '*' = all), so every
-- dashboard query reads exactly the level it shows. Key order (issue type, channel, bureau,
-- period): every read is equality or an IN list on the first three, then a period range.
DROP TABLE stats_daily;
DROP TABLE stats_daily_days;
DROP TABLE stats_monthly;
DROP TABLE stats_monthly_days;

CREATE TABLE stats_cube_daily (
    issue_type TEXT NOT NULL,
    channel TEXT NOT NULL,
    department TEXT NOT NULL,
    day TEXT NOT NULL,
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
    PRIMARY KEY (issue_type, channel, department, day)
) WITHOUT ROWID;
CREATE INDEX stats_cube_daily_by_day ON stats_cube_daily (day);
CREATE TABLE stats_cube_daily_days (
    issue_type TEXT NOT NULL,
    channel TEXT NOT NULL,
    department TEXT NOT NULL,
    day TEXT NOT NULL,
    measure TEXT NOT NULL,
    days INTEGER NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (issue_type, channel, department, day, measure, days)
) WITHOUT ROWID;
CREATE INDEX stats_cube_daily_days_by_day ON stats_cube_daily_days (day);
CREATE TABLE stats_cube_monthly (
    issue_type TEXT NOT NULL,
    channel TEXT NOT NULL,
    department TEXT NOT NULL,
    month TEXT NOT NULL,
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
    PRIMARY KEY (issue_type, channel, department, month)
) WITHOUT ROWID;
CREATE INDEX stats_cube_monthly_by_month ON stats_cube_monthly (month);
CREATE TABLE stats_cube_monthly_days (
    issue_type TEXT NOT NULL,
    channel TEXT NOT NULL,
    department TEXT NOT NULL,
    month TEXT NOT NULL,
    measure TEXT NOT NULL,
    days INTEGER NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (issue_type, channel, department, month, measure, days)
) WITHOUT ROWID;
CREATE INDEX stats_cube_monthly_days_by_month ON stats_cube_monthly_days (month);

-- The refresh turns dirty reports into dirty days, days into months, each step in batches of
-- short transactions (feedback.stats.Stats.refresh), so intake is never held up for long.
CREATE TABLE stats_dirty_days (
    day TEXT PRIMARY KEY
);
CREATE TABLE stats_dirty_months (
    month TEXT PRIMARY KEY
);
-- The cube starts empty: every report's day is redone by the next refresh (`feedback tick`).
INSERT OR IGNORE INTO stats_dirty (report_id) SELECT id FROM reports;

-- The public page's search (feedback.public_search): anonymised title, text and answer of the
-- published (answered) reports, keyed by report id. Raw text never goes in; reports that
-- change are queued here and re-anonymised outside any write transaction.
CREATE TABLE search_dirty (
    report_id INTEGER PRIMARY KEY
);
INSERT INTO search_dirty (report_id) SELECT id FROM reports WHERE answer IS NOT NULL;
CREATE TRIGGER reports_search_insert AFTER INSERT ON reports BEGIN
    INSERT OR IGNORE INTO search_dirty (report_id) VALUES (NEW.id);
END;
CREATE TRIGGER reports_search_update
AFTER UPDATE OF title, text, answer, status, department, answered_at ON reports BEGIN
    INSERT OR IGNORE INTO search_dirty (report_id) VALUES (NEW.id);
END;
-- Trigram tokens find any substring of three or more characters (Chinese has no spaces);
-- shorter words are matched with LIKE over the same anonymised text.
CREATE VIRTUAL TABLE public_search USING fts5(
    title, text, answer, tokenize = 'trigram case_sensitive 1'
);
