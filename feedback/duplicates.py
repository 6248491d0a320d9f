"""Near-duplicate reports: citizens repost, and several neighbours report the same nuisance.

A new report very like an open one of the last N days (cosine of character-bigram counts,
which needs no segmentation and ignores small edits) is linked to it, so staff see both; it is
never merged silently.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta

from feedback import workflow
from feedback.models import Report, Status
from feedback.store import ReportFilter, Store

OPEN = workflow.in_order(workflow.OPEN)
CANDIDATES = 500
_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)


def shingles(text: str) -> Counter[str]:
    cleaned = _NOISE.sub("", text)
    return Counter(cleaned[i : i + 2] for i in range(len(cleaned) - 1))


def cosine(a: Counter[str], b: Counter[str]) -> float:
    if not a or not b:
        return 0.0
    if len(a) > len(b):
        a, b = b, a
    dot = sum(n * b.get(k, 0) for k, n in a.items())
    norm = math.sqrt(sum(n * n for n in a.values())) * math.sqrt(sum(n * n for n in b.values()))
    return dot / norm if norm else 0.0


def best_match(
    text: str, candidates: Sequence[Report], threshold: float
) -> tuple[str, float] | None:
    mine = shingles(text)
    best: tuple[str, float] | None = None
    for other in candidates:
        score = cosine(mine, shingles(f"{other.title}\n{other.text}"))
        if score >= threshold and (best is None or score > best[1]):
            best = (other.tracking_number, score)
    return best


async def candidates(
    store: Store, department: str | None, now: datetime, days: int
) -> list[Report]:
    """Open reports of the same department (or awaiting triage) from the last `days` days."""
    flt = ReportFilter(
        statuses=OPEN,
        department=department,
        created_from=now - timedelta(days=days),
        limit=CANDIDATES,
    )
    if department is None:
        flt.statuses = [Status.TRIAGE]
    return await store.list_reports(flt)
