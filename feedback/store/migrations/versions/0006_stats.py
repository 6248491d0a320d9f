"""Statistics (issue 6): historic facts the report row alone forgets, a dirty list kept by
triggers, and a daily rollup the dashboard reads so it stays fast at a million reports.
(0007 replaces the rollup tables made here by a cube.)

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from feedback.store.types import Key

revision = "0006"
down_revision = "0005"

COUNTS = (
    "received", "signed", "signed_on_time", "answered", "answered_on_time", "sent_back",
    "extended", "rated", "satisfied", "reopened", "judged", "substantiated", "escalated",
)  # fmt: skip

# One statement per string: the drivers run one at a time.
TRIGGERS = {
    "sqlite": [
        """CREATE TRIGGER reports_stats_insert AFTER INSERT ON reports BEGIN
    INSERT OR IGNORE INTO stats_dirty (report_id) VALUES (NEW.id);
END""",
        """CREATE TRIGGER reports_stats_update AFTER UPDATE ON reports BEGIN
    INSERT OR IGNORE INTO stats_dirty (report_id) VALUES (NEW.id);
END""",
    ],
    "postgresql": [
        """CREATE FUNCTION reports_stats_mark() RETURNS trigger AS $$
BEGIN
    INSERT INTO stats_dirty (report_id) VALUES (NEW.id) ON CONFLICT DO NOTHING;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql""",
        """CREATE TRIGGER reports_stats_mark AFTER INSERT OR UPDATE ON reports
    FOR EACH ROW EXECUTE FUNCTION reports_stats_mark()""",
    ],
}


def _rollup(name: str, period: str, *, histogram: bool) -> None:
    # 0006's key order: (issue type, period, bureau, channel[, measure, days]).
    key: list[sa.Column[Any]] = [
        sa.Column("issue_type", sa.Text, primary_key=True),
        sa.Column(period, sa.Text, primary_key=True),
        sa.Column("department", sa.Text, primary_key=True),
        sa.Column("channel", sa.Text, primary_key=True),
    ]
    if histogram:
        rest: list[sa.Column[Any]] = [
            sa.Column("measure", sa.Text, primary_key=True),
            sa.Column("days", sa.Integer, primary_key=True, autoincrement=False),
            sa.Column("n", sa.Integer, nullable=False),
        ]
    else:
        rest = [sa.Column(c, sa.Integer, nullable=False) for c in COUNTS]
    op.create_table(name, *key, *rest, sqlite_with_rowid=False)
    op.create_index(f"{name}_by_{period}", name, [period])


def upgrade() -> None:
    # Facts written when a bureau signs for or answers a report (feedback.stats_facts):
    # sign_by/answer_by are overwritten by later stages, so timeliness is kept when it happens.
    for column in ("signed_on_time", "sign_working_days", "answered_on_time",
                   "answer_working_days"):  # fmt: skip
        op.add_column("reports", sa.Column(column, sa.Integer))
    # Reports signed or answered before this migration: the best the row can tell.
    op.execute(
        "UPDATE reports SET signed_on_time = CASE WHEN accepted_at <= sign_by THEN 1 ELSE 0 END "
        "WHERE accepted_at IS NOT NULL AND sign_by IS NOT NULL"
    )
    op.execute(
        "UPDATE reports SET answered_on_time = CASE WHEN answered_at <= answer_by THEN 1 "
        "ELSE 0 END WHERE answered_at IS NOT NULL AND answer_by IS NOT NULL"
    )
    # "Overdue now" is read from the live rows; these keep it an index range at any size.
    op.create_index("reports_sign_due", "reports", ["status", "sign_by", "department"])
    op.create_index("reports_answer_due", "reports", ["status", "answer_by", "department"])
    # The public page lists answered reports newest first.
    op.create_index("reports_answered", "reports", ["answered_at"])

    # Every insert or update of a report marks it; feedback.stats recomputes the days it
    # touches. A trigger each dialect writes its own way.
    op.create_table(
        "stats_dirty", sa.Column("report_id", Key, primary_key=True, autoincrement=False)
    )
    op.execute("INSERT INTO stats_dirty (report_id) SELECT id FROM reports")
    for statement in TRIGGERS[op.get_bind().dialect.name]:
        op.execute(statement)

    # One row per (issue type, local day of submission, bureau, channel); issue_type '*'
    # holds every report once. Histograms of working days to sign and to answer; the same
    # summed per month.
    _rollup("stats_daily", "day", histogram=False)
    _rollup("stats_daily_days", "day", histogram=True)
    _rollup("stats_monthly", "month", histogram=False)
    _rollup("stats_monthly_days", "month", histogram=True)
