"""Short links in SMS notices (feedback.short_links, issue 20): `{public_url}/r/<token>`, a
10-character token standing for the report's signed status link (the one e-mail notices carry),
so the 答复 SMS can carry the rating link within 70 characters.

`token_hash` is the SHA-256 of the token (the table alone opens nothing by a token it
shows); `link` the signed status token it stands for; `expires_at` the same expiry as that
link's, so a visit after it gets "链接已过期" rather than "链接无效"; `outbox_id` the notice
that carried it.

Revision ID: 0022
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from feedback.store.types import Key

revision = "0022"
down_revision = "0016"


def upgrade() -> None:
    op.create_table(
        "short_links",
        sa.Column("token_hash", sa.Text, primary_key=True),
        sa.Column("report_id", Key, sa.ForeignKey("reports.id"), nullable=False),
        sa.Column("outbox_id", Key),
        sa.Column("link", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("expires_at", sa.Text, nullable=False),
    )
    op.create_index("short_links_report", "short_links", ["report_id"])
