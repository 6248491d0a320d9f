-- The near-duplicate index (feedback.duplicates): the band keys of each report's MinHash,
-- written once at insert, so a new report's candidates are an index lookup, not a scan.
-- Reports from before are fingerprinted by the service the first time it looks (backfill).
CREATE TABLE report_bands (
    band INTEGER NOT NULL,
    report_id INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    PRIMARY KEY (band, report_id)
) WITHOUT ROWID;
CREATE INDEX report_bands_report ON report_bands (report_id);
