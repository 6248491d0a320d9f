"""Short links are pruned a year after they expire (feedback.short_links.prune, run by
`feedback tick`): an index on `expires_at` so the prune reads only what it deletes.

Revision ID: 0028
Revises: 0022
"""

from __future__ import annotations

from alembic import op

revision = "0028"
down_revision = "0022"


def upgrade() -> None:
    op.create_index("short_links_expires", "short_links", ["expires_at"])
