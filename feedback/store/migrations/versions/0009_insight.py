"""The supervisor's insight desk (feedback/insight.py). Times are UTC ISO text on both stores.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from feedback.store.types import Json, Key

revision = "0009"
down_revision = "0008"


def upgrade() -> None:
    # 附议 / "我也遇到": a citizen supports a published report; one voice per visitor and
    # report (voter is a hash of the visitor's cookie, never an address or name).
    op.create_table(
        "report_support",
        sa.Column("report_id", Key, sa.ForeignKey("reports.id"), primary_key=True),
        sa.Column("voter", sa.Text, primary_key=True),
        sa.Column("created_at", sa.Text, nullable=False),
    )
    # The answer review of each answered report, computed once per answer (answered_at tells
    # which answer), and whether a supervisor returned it for rework.
    op.create_table(
        "answer_reviews",
        sa.Column(
            "report_id", Key, sa.ForeignKey("reports.id"), primary_key=True, autoincrement=False
        ),
        sa.Column("answered_at", sa.Text, nullable=False),
        sa.Column("department", sa.Text),
        sa.Column("relevance", sa.Integer, nullable=False),
        sa.Column("completeness", sa.Integer, nullable=False),
        sa.Column("basis", sa.Integer, nullable=False),
        sa.Column("score", sa.REAL, nullable=False),
        sa.Column("acceptable", sa.Integer, nullable=False),
        sa.Column("reasons", Json, nullable=False),
        sa.Column("reviewed_at", sa.Text, nullable=False),
        sa.Column("returned_at", sa.Text),
    )
    op.create_index("answer_reviews_department", "answer_reviews", ["department", "answered_at"])
    # 督办 of a whole hot issue: one row per action, with the member reports it reached (each
    # of them also carries the 督办 in its own record chain).
    op.create_table(
        "hot_escalations",
        sa.Column("id", Key, primary_key=True),
        sa.Column("issue_key", sa.Text, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("tracking_numbers", Json, nullable=False),
        sa.Column("actor_id", sa.Text),
        sa.Column("note", sa.Text),
        sa.Column("created_at", sa.Text, nullable=False),
    )
    op.create_index("hot_escalations_key", "hot_escalations", ["issue_key"])
