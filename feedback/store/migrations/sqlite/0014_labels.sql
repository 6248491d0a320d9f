-- Labelled examples from the workflow (feedback.labels, its only owner): a report's final
-- department (signed for, assigned by triage, ruled in arbitration) and its confirmed issue
-- types (answer, 查实, review decision, triage correction), whether the model was right or
-- wrong; imported rows of a district's past work orders have no report. Who gave each label
-- and when; the newest label of a report and target is the one that counts.
CREATE TABLE labels (
    id INTEGER PRIMARY KEY,
    report_id INTEGER REFERENCES reports (id),
    target TEXT NOT NULL,
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    authority TEXT NOT NULL DEFAULT '',
    labels TEXT NOT NULL,
    predicted TEXT NOT NULL,
    source TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX labels_report ON labels (report_id, target, id);
CREATE INDEX labels_target ON labels (target, id);
-- The staff corrections kept so far are labels too.
INSERT INTO labels (report_id, target, title, text, labels, predicted, source, actor_id, created_at)
SELECT report_id, target, title, text, labels, previous, 'correction', actor_id, created_at
FROM corrections ORDER BY id;
