"""Where the shared real data is: ``../shared/data`` beside the checkout.

A git worktree under ``wt/NAME`` sits one level deeper than the main checkout, so its parent's
parent is tried too. Measuring only: never train or tune the shipped model on it.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _find() -> Path:
    for base in (ROOT.parent, ROOT.parent.parent):
        candidate = base / "shared" / "data"
        if candidate.is_dir():
            return candidate
    return ROOT.parent / "shared" / "data"


SHARED = _find()
TEDDY = SHARED / "teddy2020"
ISSUE_TYPES_DEV = SHARED / "issue_types_dev.csv"
