"""The Telegram bot: when a failed chat message is tried again (exponential backoff, or the
wait Telegram asked for). ISO-8601 UTC text, compared as text like the other timestamps.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from feedback.store.types import partial

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.add_column("outbox", sa.Column("next_attempt_at", sa.Text))
    op.create_index("outbox_due", "outbox", ["next_attempt_at"], **partial("sent_at IS NULL"))
