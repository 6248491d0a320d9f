"""Who sent a report back (issue 15): a send-back counts against the bureau that made it, not
the one the report was sent on to. One row per send-back, written with the send-back itself;
the ones before are read from the record (JSON read each dialect's way).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from feedback.store.types import Key

revision = "0010"
down_revision = "0009"

FROM = {
    "sqlite": "json_extract(details, '$.from')",
    "postgresql": "details::jsonb ->> 'from'",
}


def upgrade() -> None:
    op.create_table(
        "send_backs",
        sa.Column("report_id", Key, sa.ForeignKey("reports.id"), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("department", sa.Text, nullable=False),
    )
    sent_from = FROM[op.get_bind().dialect.name]
    op.execute(
        f"INSERT INTO send_backs (report_id, seq, department) SELECT report_id, seq, "
        f"{sent_from} FROM events WHERE action = 'send_back' AND {sent_from} IS NOT NULL"
    )
    # Recount the statistics of every report that was ever sent back.
    op.execute(
        "INSERT INTO stats_dirty (report_id) SELECT DISTINCT report_id FROM send_backs "
        "WHERE true ON CONFLICT DO NOTHING"
    )
