"""Machine clients' API keys (feedback.apikeys) and the rate-limit log (feedback.ratelimit).
Keys are stored as SHA-256 of the secret: the secret has 192 random bits, so a fast hash is
enough, and the prefix finds the row without scanning. Times are fixed-width UTC text
(2026-03-10T01:30:00.000000Z) on both stores, so text order is time order.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from feedback.store.types import Key

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", Key, primary_key=True),
        sa.Column("name", sa.Text, nullable=False, unique=True),
        sa.Column("prefix", sa.Text, nullable=False, unique=True),
        sa.Column("key_hash", sa.Text, nullable=False),
        sa.Column("per_minute", sa.Integer, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("revoked_at", sa.Text),
    )
    # One row per counted request (a sliding-window log), shared by every process.
    op.create_table(
        "rate_hits",
        sa.Column("id", Key, primary_key=True),
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("ticket", sa.Text, nullable=False),
        sa.Column("at", sa.Text, nullable=False),
    )
    op.create_index("rate_hits_subject_at", "rate_hits", ["scope", "subject", "at"])
    op.create_index("rate_hits_ticket", "rate_hits", ["ticket"])
    op.create_index("rate_hits_at", "rate_hits", ["at"])
