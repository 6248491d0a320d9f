"""The core: reports, their full-process record, attachments, corrections, staff accounts,
the chat outbox.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from feedback.store.types import FALSE, TRUE, Flag, Json, Key, Moment, default, partial

revision = "0001"
down_revision = None


def _id() -> sa.Column[int]:
    return sa.Column("id", Key, sa.Identity(), primary_key=True)


def _report_id() -> sa.Column[int]:
    return sa.Column("report_id", Key, sa.ForeignKey("reports.id"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "counters",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("value", Key, nullable=False),
    )
    op.create_table(
        "reports",
        _id(),
        sa.Column("tracking_number", sa.Text, nullable=False, unique=True),
        sa.Column("code_hash", sa.Text, nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("created_at", Moment, nullable=False),
        sa.Column("updated_at", Moment, nullable=False),
        sa.Column("anonymous", Flag, nullable=False, server_default=TRUE),
        sa.Column("contact_name", sa.Text),
        sa.Column("contact_phone", sa.Text),
        sa.Column("telegram_chat_id", Key),
        sa.Column("place", sa.Text),
        sa.Column("occurred_at", sa.Text),
        sa.Column("authority", sa.Text),
        sa.Column("department", sa.Text),
        sa.Column("assisting", Json, nullable=False, server_default="[]"),
        sa.Column("issue_types", Json, nullable=False, server_default="[]"),
        sa.Column("sign_by", Moment),
        sa.Column("answer_by", Moment),
        sa.Column("rate_by", Moment),
        sa.Column("send_back_by", Moment),
        sa.Column("routing", Json, nullable=False, server_default="{}"),
        sa.Column("send_back_count", sa.Integer, nullable=False, server_default=default("0")),
        sa.Column("route_locked", Flag, nullable=False, server_default=FALSE),
        sa.Column("arbitration", Flag, nullable=False, server_default=FALSE),
        sa.Column("extension_used", Flag, nullable=False, server_default=FALSE),
        sa.Column("pending_extension", Json),
        sa.Column("escalation_level", sa.Integer, nullable=False, server_default=default("0")),
        sa.Column("warned_for", sa.Text),
        sa.Column("escalated_for", sa.Text),
        sa.Column("supervised", Flag, nullable=False, server_default=FALSE),
        sa.Column("answer", sa.Text),
        sa.Column("answered_at", Moment),
        sa.Column("accepted_at", Moment),
        sa.Column("rating", sa.Text),
        sa.Column("rating_comment", sa.Text),
        sa.Column("reopen_count", sa.Integer, nullable=False, server_default=default("0")),
        sa.Column("review_used", Flag, nullable=False, server_default=FALSE),
        sa.Column("close_reason", sa.Text),
        sa.Column("closed_at", Moment),
        sa.Column("substantiated", Flag),
        sa.Column("duplicate_of", sa.Text),
        sa.Column("record_head", sa.Text, nullable=False, server_default=""),
        sa.Column("record_count", sa.Integer, nullable=False, server_default=default("0")),
    )
    op.create_index("reports_department_status", "reports", ["department", "status"])
    op.create_index("reports_status", "reports", ["status"])
    op.create_index("reports_created", "reports", ["created_at"])
    op.create_index(
        "reports_chat", "reports", ["telegram_chat_id"], **partial("telegram_chat_id IS NOT NULL")
    )

    # One row per (report, issue type), so statistics can group by type with an index.
    op.create_table(
        "report_issue_types",
        sa.Column("report_id", Key, sa.ForeignKey("reports.id"), primary_key=True),
        sa.Column("issue_type", sa.Text, primary_key=True),
    )
    op.create_index("report_issue_types_type", "report_issue_types", ["issue_type"])

    op.create_table(
        "events",
        _id(),
        _report_id(),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("at", Moment, nullable=False),
        sa.Column("actor_role", sa.Text, nullable=False),
        sa.Column("actor_id", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("details", Json, nullable=False),
        sa.Column("before", Json),
        sa.Column("after", Json),
        sa.Column("public", Flag, nullable=False, server_default=TRUE),
        sa.Column("prev_hash", sa.Text, nullable=False),
        sa.Column("hash", sa.Text, nullable=False),
        sa.UniqueConstraint("report_id", "seq"),
    )
    op.create_index("events_action_at", "events", ["action", "at"])

    op.create_table(
        "attachments",
        _id(),
        _report_id(),
        sa.Column("filename", sa.Text, nullable=False),
        sa.Column("content_type", sa.Text, nullable=False),
        sa.Column("size", Key, nullable=False),
        sa.Column("sha256", sa.Text, nullable=False),
        sa.Column("storage_key", sa.Text, nullable=False),
        sa.Column("uploaded_by", sa.Text, nullable=False),
        sa.Column("created_at", Moment, nullable=False),
    )
    op.create_index("attachments_report", "attachments", ["report_id"])

    # Staff corrections of routing and issue types: labelled examples for retraining.
    op.create_table(
        "corrections",
        _id(),
        _report_id(),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("labels", Json, nullable=False),
        sa.Column("previous", Json, nullable=False),
        sa.Column("actor_id", sa.Text, nullable=False),
        sa.Column("created_at", Moment, nullable=False),
    )

    op.create_table(
        "users",
        _id(),
        sa.Column("username", sa.Text, nullable=False, unique=True),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("department", sa.Text),
        sa.Column("display_name", sa.Text, nullable=False, server_default=""),
        sa.Column("active", Flag, nullable=False, server_default=TRUE),
        sa.Column("created_at", Moment, nullable=False),
    )

    # Messages to citizens' chats (Telegram), written in the same transaction as the state
    # change they announce, so none is lost; the bot sends and marks them.
    op.create_table(
        "outbox",
        _id(),
        _report_id(),
        sa.Column("chat_id", Key, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("payload", Json, nullable=False),
        sa.Column("created_at", Moment, nullable=False),
        sa.Column("sent_at", Moment),
        sa.Column("attempts", sa.Integer, nullable=False, server_default=default("0")),
        sa.Column("last_error", sa.Text),
    )
    op.create_index("outbox_unsent", "outbox", ["id"], **partial("sent_at IS NULL"))
