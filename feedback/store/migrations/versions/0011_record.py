"""A record that covers the report (feedback.record, feedback.checkpoint).

The salt of each report's content hashes; '' marks a report from before this version, which
the background job seals (one `seal` event holding its row digest and content hashes).
Checkpoints of every report's chain: the Merkle root over (tracking number, length, head) of
the events up to `events_upto`, chained to the previous checkpoint by `prev`, optionally
signed by the operator. Published on the public page; `feedback verify --checkpoint FILE`.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from feedback.store.types import Key, partial

revision = "0011"
down_revision = "0010"


def upgrade() -> None:
    op.add_column("reports", sa.Column("record_salt", sa.Text, nullable=False, server_default=""))
    op.create_index("reports_unsealed", "reports", ["id"], **partial("record_salt = ''"))
    op.create_table(
        "checkpoints",
        sa.Column("id", Key, primary_key=True),
        sa.Column("taken_at", sa.Text, nullable=False),
        sa.Column("events_upto", Key, nullable=False),
        sa.Column("reports", Key, nullable=False),
        sa.Column("events", Key, nullable=False),
        sa.Column("root", sa.Text, nullable=False),
        sa.Column("prev", sa.Text, nullable=False),
        sa.Column("digest", sa.Text, nullable=False, unique=True),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("signature", sa.Text),
        sa.Column("public_key", sa.Text),
    )
