"""The clerk's desk (issue 18: 12): named clerks within a bureau, a report's 经办人, saved
answer drafts and canned replies per bureau.

- `users.bureau_lead`: a bureau's lead (科室负责人) assigns reports to its clerks and keeps its
  canned replies. The accounts from before were one per bureau and did everything a bureau
  does, so every existing staff account becomes its bureau's lead: it keeps working as before.
- `reports.assignee`: the username of the clerk who claimed (认领) the report or was given it;
  NULL = 未认领. Cleared when the report leaves the bureau.
- `answer_drafts`: one saved draft of an answer per report and clerk, deleted when that clerk
  sends the answer.
- `canned_replies`: a bureau's reusable answer texts (常用答复).

- `report_previews`: the citizen's report between 预览 and 确认提交 (issue 18: 4), so the
  preview is a GET page (post-redirect-get: reload and Back never re-post), keyed by the
  SHA-256 of a random token kept in that browser's session cookie; kept 2 hours.

Internal notes need no table: they are internal events of the report's record.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from feedback.store.types import FALSE, Flag, Json, Key, Moment

revision = "0016"
down_revision = "0015"


def upgrade() -> None:
    op.add_column("users", sa.Column("bureau_lead", Flag, nullable=False, server_default=FALSE))
    op.execute(sa.text("UPDATE users SET bureau_lead = :yes WHERE role = 'staff'").bindparams(
        sa.bindparam("yes", True, type_=sa.Boolean)))  # fmt: skip
    op.add_column("reports", sa.Column("assignee", sa.Text))
    op.create_index("reports_assignee", "reports", ["department", "assignee"])
    op.create_table(
        "answer_drafts",
        sa.Column("report_id", Key, sa.ForeignKey("reports.id"), primary_key=True),
        sa.Column("username", sa.Text, primary_key=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("updated_at", Moment, nullable=False),
    )
    op.create_table(
        "canned_replies",
        sa.Column("id", Key, primary_key=True),
        sa.Column("department", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", Moment, nullable=False),
    )
    op.create_index("canned_replies_department", "canned_replies", ["department"])
    op.create_table(
        "report_previews",
        sa.Column("token_hash", sa.Text, primary_key=True),
        sa.Column("payload", Json, nullable=False),
        sa.Column("expires_at", sa.Text, nullable=False),
    )
    op.create_index("report_previews_expires", "report_previews", ["expires_at"])
