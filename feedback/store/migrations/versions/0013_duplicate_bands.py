"""The near-duplicate index (feedback.duplicates): the band keys of each report's MinHash,
written once at insert, so a new report's candidates are an index lookup, not a scan.
Reports from before are fingerprinted by the service the first time it looks (backfill).

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from feedback.store.types import Key

revision = "0013"
down_revision = "0012"


def upgrade() -> None:
    op.create_table(
        "report_bands",
        sa.Column("band", Key, primary_key=True, autoincrement=False),
        sa.Column(
            "report_id",
            Key,
            sa.ForeignKey("reports.id", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        ),
        sqlite_with_rowid=False,
    )
    op.create_index("report_bands_report", "report_bands", ["report_id"])
