"""Notices on every channel (feedback.notifications): the outbox is no longer Telegram's only.

A row is for one channel (telegram, email, sms) and one recipient (a chat id, an e-mail
address, a mobile number). A sender claims due rows for a while (claimed_by, claimed_until)
in one short write transaction (SQLite's single writer; SELECT … FOR UPDATE SKIP LOCKED on
PostgreSQL), so two processes never take the same row; a claim that outlives its sender (the
process died) lapses and the row is taken again. `secret` holds the follow-up code,
encrypted, for a receipt that was asked to carry it, and is erased once sent. `dead_at`:
given up on (dead letter), kept with its last error for a supervisor to see.

Revision ID: 0017
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from feedback.store.types import Json, Key, partial

revision = "0017"
down_revision = "0014"


def upgrade() -> None:
    op.add_column(
        "outbox", sa.Column("channel", sa.Text, nullable=False, server_default="telegram")
    )
    for column in ("recipient", "secret", "claimed_by", "claimed_until", "dead_at"):
        op.add_column("outbox", sa.Column(column, sa.Text))
    op.execute("UPDATE outbox SET recipient = CAST(chat_id AS TEXT)")
    op.execute(
        "UPDATE outbox SET dead_at = COALESCE(next_attempt_at, CAST(created_at AS TEXT)) "
        "WHERE sent_at IS NULL AND attempts >= 8"
    )
    op.drop_index("outbox_unsent", "outbox")
    op.drop_index("outbox_due", "outbox")
    # SQLite cannot drop chat_id or its NOT NULL in place: batch mode rebuilds the table
    # there (nothing references it); PostgreSQL alters it.
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("recipient", existing_type=sa.Text, nullable=False)
        batch.alter_column(
            "channel", existing_type=sa.Text, existing_nullable=False, server_default=None
        )
        batch.drop_column("chat_id")
    op.create_index(
        "outbox_due",
        "outbox",
        ["channel", "next_attempt_at"],
        **partial("sent_at IS NULL AND dead_at IS NULL"),
    )
    op.create_index("outbox_report", "outbox", ["report_id"])
    # The SMS daily cap counts what one number was sent today.
    op.create_index(
        "outbox_recipient_sent",
        "outbox",
        ["channel", "recipient", "sent_at"],
        **partial("sent_at IS NOT NULL"),
    )

    # A web or API reporter's opt-in to notices by e-mail or SMS: one row per channel. Never
    # for an anonymous report (the service refuses). `token` is the unsubscribe (退订) link's
    # secret; unsubscribed_at ends the notices on that channel (a row stays to show it).
    op.create_table(
        "notice_channels",
        sa.Column("id", Key, primary_key=True),
        sa.Column("report_id", Key, sa.ForeignKey("reports.id"), nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("address", sa.Text, nullable=False),
        sa.Column("token", sa.Text, nullable=False, unique=True),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("unsubscribed_at", sa.Text),
        sa.UniqueConstraint("report_id", "channel"),
    )
    op.create_index("notice_channels_address", "notice_channels", ["channel", "address"])

    # The Telegram bot's conversation state (bots/persistence.py through the service), shared
    # by every bot process: `scope` is "conversation:<name>" or "chat_data", `key` the
    # conversation key or the chat id, `value` JSON.
    op.create_table(
        "bot_state",
        sa.Column("scope", sa.Text, primary_key=True),
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("value", Json, nullable=False),
        sa.Column("updated_at", sa.Text, nullable=False),
    )
