"""Staff sessions held on the server, so that logging out, a new password or disabling the
account ends them at once (feedback.accounts). The cookie carries a random token; only its
SHA-256 is stored. Times are fixed-width UTC text (as in rate_hits), so text order is time
order on both stores.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from feedback.store.types import Key

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    op.create_table(
        "staff_sessions",
        sa.Column("id", Key, primary_key=True),
        sa.Column("token_hash", sa.Text, nullable=False, unique=True),
        sa.Column("username", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("expires_at", sa.Text, nullable=False),
    )
    op.create_index("staff_sessions_username", "staff_sessions", ["username"])
    op.create_index("staff_sessions_expires", "staff_sessions", ["expires_at"])
