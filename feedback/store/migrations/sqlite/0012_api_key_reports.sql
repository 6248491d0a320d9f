-- Which machine client (API key) handed in a report: Open311's GET requests with the client's
-- api_key lists the requests that key posted, whichever bureau routing gave them to.
CREATE TABLE api_key_reports (
    report_id INTEGER PRIMARY KEY REFERENCES reports (id),
    api_key_id INTEGER NOT NULL REFERENCES api_keys (id)
);
CREATE INDEX api_key_reports_key ON api_key_reports (api_key_id, report_id);
