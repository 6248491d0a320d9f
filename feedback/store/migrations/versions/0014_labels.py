"""Labelled examples from the workflow (feedback.labels, its only owner): a report's final
department (signed for, assigned by triage, ruled in arbitration) and its confirmed issue
types (answer, 查实, review decision, triage correction), whether the model was right or
wrong; imported rows of a district's past work orders have no report. Who gave each label
and when; the newest label of a report and target is the one that counts.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from feedback.store.types import Json, Key

revision = "0014"
down_revision = "0013"

# corrections.created_at is a Moment (timestamptz on PostgreSQL); labels keep ISO text in UTC.
CREATED = {
    "sqlite": "created_at",
    "postgresql": """to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')""",
}


def upgrade() -> None:
    op.create_table(
        "labels",
        sa.Column("id", Key, sa.Identity(), primary_key=True),
        sa.Column("report_id", Key, sa.ForeignKey("reports.id")),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("authority", sa.Text, nullable=False, server_default=""),
        sa.Column("labels", Json, nullable=False),
        sa.Column("predicted", Json, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("actor_id", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
    )
    op.create_index("labels_report", "labels", ["report_id", "target", "id"])
    op.create_index("labels_target", "labels", ["target", "id"])
    # The staff corrections kept so far are labels too.
    created = CREATED[op.get_bind().dialect.name]
    op.execute(
        "INSERT INTO labels (report_id, target, title, text, labels, predicted, source, "
        f"actor_id, created_at) SELECT report_id, target, title, text, labels, previous, "
        f"'correction', actor_id, {created} FROM corrections ORDER BY id"
    )
