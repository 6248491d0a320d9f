"""Statistics, faster (issue 6 follow-up): the rollup becomes a small cube, refreshed in
short transactions, and the public page gets a search index over the ANONYMISED text only.

The 0006 rollup kept one row per (issue type, day|month, bureau, channel), so a breakdown by
issue type over two years summed ~200,000 histogram rows. The cube keeps the same rows plus
their totals over bureaus and over channels (department/channel '*' = all), so every
dashboard query reads exactly the level it shows. Key order (issue type, channel, bureau,
period): every read is equality or an IN list on the first three, then a period range.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from feedback.store.types import Key

revision = "0007"
down_revision = "0006"

COUNTS = (
    "received", "signed", "signed_on_time", "answered", "answered_on_time", "sent_back",
    "extended", "rated", "satisfied", "reopened", "judged", "substantiated", "escalated",
)  # fmt: skip

# Reports that change are queued for the search index by a trigger, each dialect its own way;
# the index itself is FTS5 with trigram tokens on SQLite (any substring of three or more
# characters: Chinese has no spaces; shorter words are matched with LIKE over the same text),
# a plain table searched with ILIKE on PostgreSQL (no extension needed).
SEARCH = {
    "sqlite": [
        "INSERT OR IGNORE INTO stats_dirty (report_id) SELECT id FROM reports",
        """CREATE TRIGGER reports_search_insert AFTER INSERT ON reports BEGIN
    INSERT OR IGNORE INTO search_dirty (report_id) VALUES (NEW.id);
END""",
        """CREATE TRIGGER reports_search_update
AFTER UPDATE OF title, text, answer, status, department, answered_at ON reports BEGIN
    INSERT OR IGNORE INTO search_dirty (report_id) VALUES (NEW.id);
END""",
        """CREATE VIRTUAL TABLE public_search USING fts5(
    title, text, answer, tokenize = 'trigram case_sensitive 1'
)""",
    ],
    "postgresql": [
        "INSERT INTO stats_dirty (report_id) SELECT id FROM reports ON CONFLICT DO NOTHING",
        """CREATE FUNCTION reports_search_mark() RETURNS trigger AS $$
BEGIN
    INSERT INTO search_dirty (report_id) VALUES (NEW.id) ON CONFLICT DO NOTHING;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql""",
        """CREATE TRIGGER reports_search_insert AFTER INSERT ON reports
    FOR EACH ROW EXECUTE FUNCTION reports_search_mark()""",
        """CREATE TRIGGER reports_search_update
    AFTER UPDATE OF title, text, answer, status, department, answered_at ON reports
    FOR EACH ROW EXECUTE FUNCTION reports_search_mark()""",
        """CREATE TABLE public_search (
    report_id BIGINT PRIMARY KEY,
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    answer TEXT NOT NULL
)""",
    ],
}


def _cube(name: str, period: str, *, histogram: bool) -> None:
    key: list[sa.Column[Any]] = [
        sa.Column("issue_type", sa.Text, primary_key=True),
        sa.Column("channel", sa.Text, primary_key=True),
        sa.Column("department", sa.Text, primary_key=True),
        sa.Column(period, sa.Text, primary_key=True),
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
    for old in ("stats_daily", "stats_daily_days", "stats_monthly", "stats_monthly_days"):
        op.drop_table(old)
    _cube("stats_cube_daily", "day", histogram=False)
    _cube("stats_cube_daily_days", "day", histogram=True)
    _cube("stats_cube_monthly", "month", histogram=False)
    _cube("stats_cube_monthly_days", "month", histogram=True)
    # The refresh turns dirty reports into dirty days, days into months, each step in batches
    # of short transactions (feedback.stats.Stats.refresh), so intake is never held up long.
    op.create_table("stats_dirty_days", sa.Column("day", sa.Text, primary_key=True))
    op.create_table("stats_dirty_months", sa.Column("month", sa.Text, primary_key=True))
    # The public page's search (feedback.public_search): anonymised title, text and answer of
    # the published reports. Raw text never goes in; reports that change are queued here and
    # re-anonymised outside any write transaction.
    op.create_table(
        "search_dirty", sa.Column("report_id", Key, primary_key=True, autoincrement=False)
    )
    op.execute(
        "INSERT INTO search_dirty (report_id) SELECT id FROM reports WHERE answer IS NOT NULL"
    )
    # The first statement: the cube starts empty, so every report's day is redone by the next
    # refresh (`feedback tick`).
    for statement in SEARCH[op.get_bind().dialect.name]:
        op.execute(statement)
