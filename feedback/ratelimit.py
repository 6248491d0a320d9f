"""Rate limits: a sliding-window log in the database, shared by every process.

Each counted request is a row in ``rate_hits`` (migration 0005). ``acquire`` reserves the
attempt before the caller checks anything: it locks each subject (``tx.lock_name``: SQLite's
single writer, a PostgreSQL advisory transaction lock), counts the rows of the window and
inserts its own in that one transaction, so of a burst of concurrent requests at most
``limit`` get through and the rest get 429 with Retry-After. A caller that decides afterwards that the
request should not count (a correct follow-up code, a form with a typo) gives the slot back
with ``release``. The table, not memory, holds the counts so that the limits survive restarts
and hold when several server processes share one database.
"""

from __future__ import annotations

import math
import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from feedback.errors import RateLimited
from feedback.store import Store

MESSAGE = "操作过于频繁，请稍后再试。"
# Rows older than this are never counted by any rule; they are deleted now and then.
KEEP = timedelta(days=1)
# About one acquire in this many also deletes old rows (random, so no state is needed).
PRUNE_ONE_IN = 200
SUBJECT_MAX = 200


def stamp(value: datetime) -> str:
    """Fixed-width UTC text, so that comparing the text compares the time."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_stamp(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


@dataclass(frozen=True)
class Rule:
    """At most ``limit`` counted requests per subject in any ``window``; 0 switches it off."""

    scope: str
    limit: int
    window: timedelta


class TooManyRequests(RateLimited):
    """429 with a Chinese message and how many seconds to wait (the Retry-After header)."""

    def __init__(self, retry_after: int, message: str = MESSAGE):
        super().__init__(message)
        self.retry_after = max(1, retry_after)


@dataclass
class Ticket:
    """The slots one request took; give them back with ``release`` if it should not count."""

    token: str
    taken: int = 0
    scopes: list[str] = field(default_factory=list)


class RateLimiter:
    """Cheap to build: make one per request from the app's store."""

    def __init__(self, store: Store):
        self.store = store

    async def acquire(self, hits: Sequence[tuple[Rule, str]], now: datetime) -> Ticket:
        """Take one slot under each (rule, subject), or raise TooManyRequests taking none."""
        ticket = Ticket(secrets.token_hex(12))
        active = [(r, s[:SUBJECT_MAX]) for r, s in hits if r.limit > 0]
        if not active:
            return ticket
        async with self.store.transaction() as tx:
            # Sorted, so two requests locking the same subjects never wait for each other.
            for scope, subject in sorted({(r.scope, s) for r, s in active}):
                await tx.lock_name(f"rate:{scope}:{subject}")
            wait, full = 0, False
            for rule, subject in active:
                rows = await tx.fetch(
                    "SELECT COUNT(*) AS n, MIN(at) AS first FROM rate_hits "
                    "WHERE scope = ? AND subject = ? AND at > ?",
                    (rule.scope, subject, stamp(now - rule.window)),
                )
                n, first = int(rows[0]["n"]), rows[0]["first"]
                if n >= rule.limit:
                    full = True
                    # When the oldest counted request leaves the window, one slot frees up.
                    free_at = parse_stamp(first) + rule.window if first else now
                    wait = max(wait, math.ceil((free_at - now).total_seconds()))
            if full:
                raise TooManyRequests(wait)
            for rule, subject in active:
                await tx.execute(
                    "INSERT INTO rate_hits (scope, subject, ticket, at) VALUES (?, ?, ?, ?)",
                    (rule.scope, subject, ticket.token, stamp(now)),
                )
                ticket.taken += 1
                ticket.scopes.append(rule.scope)
            if random.randrange(PRUNE_ONE_IN) == 0:
                await tx.execute("DELETE FROM rate_hits WHERE at < ?", (stamp(now - KEEP),))
        return ticket

    async def release(self, ticket: Ticket) -> None:
        """The request turned out not to count (e.g. the code was right): free its slots."""
        if not ticket.taken:
            return
        async with self.store.transaction() as tx:
            await tx.execute("DELETE FROM rate_hits WHERE ticket = ?", (ticket.token,))
        ticket.taken = 0

    async def used(self, rule: Rule, subject: str, now: datetime) -> int:
        """How many slots ``subject`` has used in the current window (for tests and status)."""
        rows = await self.store.fetch(
            "SELECT COUNT(*) AS n FROM rate_hits WHERE scope = ? AND subject = ? AND at > ?",
            (rule.scope, subject[:SUBJECT_MAX], stamp(now - rule.window)),
        )
        return int(rows[0]["n"])
