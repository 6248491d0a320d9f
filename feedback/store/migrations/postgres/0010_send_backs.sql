-- Who sent a report back (issue 15): a send-back counts against the bureau that made it, not
-- the one the report was sent on to. One row per send-back, written with the send-back itself.
CREATE TABLE send_backs (
    report_id BIGINT NOT NULL REFERENCES reports(id),
    seq INTEGER NOT NULL,
    department TEXT NOT NULL,
    PRIMARY KEY (report_id, seq)
);
INSERT INTO send_backs (report_id, seq, department)
SELECT report_id, seq, details::jsonb ->> 'from' FROM events
WHERE action = 'send_back' AND details::jsonb ->> 'from' IS NOT NULL;
-- Recount the statistics of every report that was ever sent back.
INSERT INTO stats_dirty (report_id) SELECT DISTINCT report_id FROM send_backs WHERE true
ON CONFLICT DO NOTHING;
