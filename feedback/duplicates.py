"""Near-duplicate reports: citizens repost, and several neighbours report the same nuisance.

A new report very like an open one of the last N days (cosine of character-bigram counts,
which needs no segmentation and ignores small edits) is linked to it, so staff see both; it is
never merged silently.

Candidates come from an index, not a scan: each report's MinHash of its character bigrams is
cut into BANDS bands of ROWS values, and each band's hash is stored once, at insert
(`report_bands`, migration 0013). Reports sharing a band with the new one are the only ones
read, most shared bands first; the cosine then decides as before. Two texts whose bigram sets
overlap by Jaccard J share at least one band with probability 1 - (1 - J**2)**16: 0.990 at
J = 0.5, 0.997 at 0.55 (a cosine of 0.8 is a Jaccard of about 0.64 or more: 0.9998), 15 % at
0.1. Until migration 0023 it was 32 bands of 3 (0.986, 0.997, 3 %): 16 bands of 2 find the
same reposts with half the index rows, each a random page of the index written per submission
(issue 14: most of intake's disk writes); the cosine discards the extra candidates.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
import zlib
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta

import numpy as np

from feedback import workflow
from feedback.models import Status
from feedback.store import ReportFilter, Store

OPEN = workflow.in_order(workflow.OPEN)
CANDIDATES = 20  # rows read per new report, the most similar first
BANDS, ROWS = 16, 2  # migration 0023 re-indexes: a stored key means these
_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)
_PRIME = (1 << 31) - 1
# Fixed hash functions (a*x + b mod p): a stored fingerprint must mean the same after a restart.
_rng = np.random.default_rng(20260314)
_A = _rng.integers(1, _PRIME, BANDS * ROWS, dtype=np.uint64)
_B = _rng.integers(0, _PRIME, BANDS * ROWS, dtype=np.uint64)


def shingles(text: str) -> Counter[str]:
    cleaned = _NOISE.sub("", text)
    return Counter(cleaned[i : i + 2] for i in range(len(cleaned) - 1))


def _norm(a: Counter[str]) -> float:
    return math.sqrt(sum(n * n for n in a.values()))


def _dot(a: Counter[str], b: Counter[str]) -> int:
    if len(a) > len(b):
        a, b = b, a
    return sum(n * b[k] for k, n in a.items() if k in b)


def cosine(a: Counter[str], b: Counter[str]) -> float:
    if not a or not b:
        return 0.0
    norm = _norm(a) * _norm(b)
    return _dot(a, b) / norm if norm else 0.0


def bands(grams: Counter[str]) -> list[int]:
    """The report's fingerprint: BANDS signed 64-bit band keys of its bigram set's MinHash."""
    if not grams:
        return []
    x = np.fromiter((zlib.crc32(g.encode("utf-8")) & _PRIME for g in grams), np.uint64, len(grams))
    # a < 2**31 and x < 2**31: the product fits in 64 bits.
    mins = ((np.outer(x, _A) + _B) % _PRIME).min(axis=0).astype("<u4")
    keys = []
    for band in range(BANDS):
        chunk = mins[band * ROWS : (band + 1) * ROWS].tobytes()
        digest = hashlib.blake2b(bytes([band]) + chunk, digest_size=8).digest()
        keys.append(int.from_bytes(digest, "little", signed=True))
    return keys


CACHED_CHARS = 1000  # longer candidates are not cached: a 5,000-character text is ~400 KB


def _candidate(title: str, text: str) -> tuple[Counter[str], float]:
    if len(title) + len(text) > CACHED_CHARS:
        return _grams_and_norm(title, text)
    return _cached_candidate(title, text)


def _grams_and_norm(title: str, text: str) -> tuple[Counter[str], float]:
    grams = shingles(f"{title}\n{text}")
    return grams, _norm(grams)


# A report's text never changes, and the candidates of a burst of reposts are the same few
# reports again and again: their bigrams are the most costly part of the search. Keyed by the
# texts themselves, so a hit is always right; ~20 KB an entry for a usual report, 128 at most.
_cached_candidate = functools.lru_cache(maxsize=128)(_grams_and_norm)


def best_match(
    grams: Counter[str], candidates: Sequence[tuple[str, str, str]], threshold: float
) -> tuple[str, float] | None:
    """The most similar of (tracking number, title, text) at or above the threshold."""
    best: tuple[str, float] | None = None
    own = _norm(grams)  # once, not per candidate (cosine's figure, computed the same way)
    if not own:
        return None
    for tracking_number, title, text in candidates:
        other, other_norm = _candidate(title, text)
        norm = own * other_norm
        score = _dot(grams, other) / norm if norm else 0.0
        if score >= threshold and (best is None or score > best[1]):
            best = (tracking_number, score)
    return best


def open_filter(department: str | None, now: datetime, days: int) -> ReportFilter:
    """Open reports of the same department (or awaiting triage) from the last `days` days."""
    return ReportFilter(
        statuses=OPEN if department is not None else [Status.TRIAGE],
        department=department,
        created_from=now - timedelta(days=days),
        limit=CANDIDATES,
    )


async def candidates(
    store: Store, keys: list[int], department: str | None, now: datetime, days: int
) -> list[tuple[str, str, str]]:
    if not keys:
        return []
    return await store.duplicate_candidates(keys, open_filter(department, now, days))
