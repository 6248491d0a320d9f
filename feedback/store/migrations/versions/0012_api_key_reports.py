"""Which machine client (API key) handed in a report: Open311's GET requests with the
client's api_key lists the requests that key posted, whichever bureau routing gave them to.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from feedback.store.types import Key

revision = "0012"
down_revision = "0011"


def upgrade() -> None:
    op.create_table(
        "api_key_reports",
        sa.Column(
            "report_id", Key, sa.ForeignKey("reports.id"), primary_key=True, autoincrement=False
        ),
        sa.Column("api_key_id", Key, sa.ForeignKey("api_keys.id"), nullable=False),
    )
    op.create_index("api_key_reports_key", "api_key_reports", ["api_key_id", "report_id"])
