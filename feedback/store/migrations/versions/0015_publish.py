"""The citizen's choice whether the report may be published, anonymised, on the disclosure
page (执法监督公示) and in its search and hot issues (issue 18: 3). Reports from before were
filed under the old form's terms: publishable, as they have been.

Revision ID: 0015
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from feedback.store.types import TRUE, Flag

revision = "0015"
down_revision = "0017"


def upgrade() -> None:
    op.add_column("reports", sa.Column("publish", Flag, nullable=False, server_default=TRUE))
