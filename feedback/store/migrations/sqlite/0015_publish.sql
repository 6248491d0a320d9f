-- The citizen's choice whether the report may be published, anonymised, on the disclosure
-- page (执法监督公示) and in its search and hot issues (issue 18: 3). Reports from before were
-- filed under the old form's terms: publishable, as they have been.
ALTER TABLE reports ADD COLUMN publish INTEGER NOT NULL DEFAULT 1;
