"""The near-duplicate index in 16 bands of 2 MinHash values instead of 32 of 3
(feedback.duplicates, issue 14): half the index rows, each a random page written per
submission. The old keys mean nothing to the new fingerprint, so they go; the service
fingerprints the open reports again at start (`FeedbackService.warm_up`), in batches, as it
does for reports from before the index (migration 0013). Closed reports are never candidates
and stay without keys.

Revision ID: 0023
Revises: 0028
"""

from __future__ import annotations

from alembic import op

revision = "0023"
down_revision = "0028"


def upgrade() -> None:
    op.execute("DELETE FROM report_bands")
