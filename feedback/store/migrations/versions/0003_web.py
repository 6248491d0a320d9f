"""Web accounts: login attempts, for throttling guessing across processes and for the audit.
`at` is ISO-8601 text on both stores, so the same queries compare it.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from feedback.store.types import Flag, Key

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.create_table(
        "login_attempts",
        sa.Column("id", Key, primary_key=True),
        sa.Column("username", sa.Text, nullable=False),
        sa.Column("address", sa.Text, nullable=False),
        sa.Column("at", sa.Text, nullable=False),
        sa.Column("success", Flag, nullable=False),
    )
    op.create_index("login_attempts_username_at", "login_attempts", ["username", "at"])
    op.create_index("login_attempts_address_at", "login_attempts", ["address", "at"])
