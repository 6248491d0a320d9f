"""社会监督激励: points for substantiated reports, in a ledger with its own hash chain.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from feedback.store.types import Json, Key, partial

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_table(
        "points_ledger",
        sa.Column("id", Key, primary_key=True),
        sa.Column("seq", Key, nullable=False, unique=True),
        sa.Column("report_id", Key, sa.ForeignKey("reports.id"), nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("points", sa.Integer, nullable=False),
        sa.Column("at", sa.Text, nullable=False),
        sa.Column("actor_id", sa.Text, nullable=False),
        sa.Column("details", Json, nullable=False),
        sa.Column("prev_hash", sa.Text, nullable=False),
        sa.Column("hash", sa.Text, nullable=False),
    )
    op.create_index("points_ledger_report", "points_ledger", ["report_id"])
    # At most one grant and one claim per report, whatever the code does.
    for kind in ("grant", "claim"):
        op.create_index(
            f"points_ledger_one_{kind}",
            "points_ledger",
            ["report_id"],
            unique=True,
            **partial(f"kind = '{kind}'"),
        )
