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
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from feedback.errors import RateLimited
from feedback.store import Store, WriteTx
from feedback.store import schema as t
from feedback.store.sql import Query, param

# A store's or a transaction's read: (query, params) -> rows.
Fetch = Callable[[Query, dict[str, Any]], Awaitable[list[dict[str, Any]]]]
MESSAGE = "操作过于频繁，请稍后再试。"
# Rows older than this are never counted by any rule; they are deleted now and then.
KEEP = timedelta(days=1)
# About one acquire in this many also deletes old rows (random, so no state is needed).
PRUNE_ONE_IN = 200
SUBJECT_MAX = 200
BACKOFF_BASE = timedelta(seconds=1)

H = t.rate_hits
HIT = Query(sa.insert(H).values(
    scope=param("scope"), subject=param("subject"), ticket=param("ticket"), at=param("at")
))  # fmt: skip
PRUNE = Query(sa.delete(H).where(H.c.at < param("before")))
RELEASE = Query(sa.delete(H).where(H.c.ticket == param("ticket")))
_IN_WINDOW = (H.c.scope == param("scope"), H.c.subject == param("subject"), H.c.at > param("since"))
# The newest rows of the window, at most `cap` (`_cap`: past it neither the refusal nor the
# wait changes): a subject's check reads a bounded range of the index, however many requests
# it made (with a high limit, thousands an hour).
_RECENT = (
    sa.select(H.c.at).where(*_IN_WINDOW).order_by(H.c.at.desc()).limit(param("cap")).subquery()
)
WINDOW = Query(
    sa.select(
        sa.func.count().label("n"), sa.func.min(_RECENT.c.at).label("first"),
        sa.func.max(_RECENT.c.at).label("last"),
    )
)  # fmt: skip
BACKOFF_ROWS = 31


def _cap(rule: Rule) -> int:
    """Rows a check reads: a plain rule frees a slot when its ``limit``-th newest request
    leaves the window, so that one is the oldest it needs; a back-off rule counts up to 31
    past the limit (its delay is capped at 2^30 × the base)."""
    return rule.limit if rule.max_delay is None else rule.limit + BACKOFF_ROWS


USED = Query(sa.select(sa.func.count().label("n")).where(*_IN_WINDOW))


def stamp(value: datetime) -> str:
    """Fixed-width UTC text, so that comparing the text compares the time."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_stamp(value: str) -> datetime:
    return datetime.fromisoformat(value)  # stamp's text (…Z is UTC); strptime costs 10×


@dataclass(frozen=True)
class Rule:
    """At most ``limit`` counted requests per subject in any ``window``; 0 switches it off.

    With ``max_delay`` the rule backs off instead of closing: past ``limit`` a request is let
    through once ``BACKOFF_BASE`` × 2^(counted − limit) (at most ``max_delay``) has passed
    since the last counted one. Guessers slow down exponentially, but whoever waits is always
    checked, so a citizen with the right code is never shut out for the whole window.
    """

    scope: str
    limit: int
    window: timedelta
    max_delay: timedelta | None = None

    def delay(self, counted: int) -> timedelta:
        assert self.max_delay is not None
        doublings = min(counted - self.limit, 30)
        return min(self.max_delay, BACKOFF_BASE * (2**doublings))


def wait_words(seconds: int) -> str:
    """How long to wait, as a citizen reads it: 45 秒, 3 分钟."""
    seconds = max(1, seconds)
    return f"{seconds} 秒" if seconds < 60 else f"{math.ceil(seconds / 60)} 分钟"


# Follow-up codes (web/limits.code_attempt, the JSON API): wrong codes back off per address and
# tracking number, and per address across numbers (one address sweeping the sequential
# numbers); there is no limit per number alone, which would let strangers lock the citizen out.
# Reports one client files in an hour (`submit_per_hour`): a web or API client by its address,
# a Telegram chat by its id.
SUBMIT_WINDOW = timedelta(hours=1)
SUBMIT_WAIT = "提交过于频繁，请 {wait}后再试。"


def submit_rules(subject: str, per_hour: int) -> list[tuple[Rule, str]]:
    """The rule a report without an API key counts against (limit 0 = off)."""
    return [(Rule("submit", per_hour, SUBMIT_WINDOW), subject)]


CODE_WINDOW = timedelta(minutes=15)
CODE_PAIR_MAX_DELAY = timedelta(minutes=15)
CODE_ADDRESS_MAX_DELAY = timedelta(minutes=1)
CODE_WAIT = "查询码输入错误次数较多，为防止他人猜测，请 {wait}后再试。"


def code_rules(
    address: str, tracking_number: str, per_address: int, per_report: int
) -> list[tuple[Rule, str]]:
    """The back-off rules for one follow-up-code attempt (limits 0 = off)."""
    tn = tracking_number or "-"
    return [
        (Rule("code:pair", per_report, CODE_WINDOW, CODE_PAIR_MAX_DELAY), f"{address} {tn}"),
        (Rule("code:address", per_address, CODE_WINDOW, CODE_ADDRESS_MAX_DELAY), address),
    ]


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


def _active(hits: Sequence[tuple[Rule, str]]) -> list[tuple[Rule, str]]:
    return [(r, s[:SUBJECT_MAX]) for r, s in hits if r.limit > 0]


@dataclass
class Claim:
    """The slots a submission is to take: checked before its work (`RateLimiter.check`),
    taken in the submission's own transaction (`FeedbackService.submit`), so one durable
    commit holds both the report and its count."""

    hits: list[tuple[Rule, str]]
    now: datetime
    message: str = MESSAGE
    taken: bool = False


class RateLimiter:
    """Cheap to build: make one per request from the app's store."""

    def __init__(self, store: Store):
        self.store = store

    async def acquire(
        self, hits: Sequence[tuple[Rule, str]], now: datetime, message: str = MESSAGE
    ) -> Ticket:
        """Take one slot under each (rule, subject), or raise TooManyRequests taking none.
        ``message`` may hold ``{wait}``: how long to wait, in words."""
        async with self.store.transaction() as tx:
            return await self.take(tx, hits, now, message)

    async def record(self, hits: Sequence[tuple[Rule, str]], now: datetime) -> Ticket:
        """Count the slots without refusing (the request is already done), in a transaction
        of its own."""
        async with self.store.transaction() as tx:
            return await self.take(tx, hits, now, refuse=False)

    async def check(
        self, hits: Sequence[tuple[Rule, str]], now: datetime, message: str = MESSAGE
    ) -> None:
        """Raise TooManyRequests if a slot is not free now; takes none (a read, no lock): a
        submission is refused before its work, and takes its slot in its own transaction."""
        wait, full = await self._full(self.store.fetch_few, _active(hits), now)
        if full:
            raise TooManyRequests(wait, message.format(wait=wait_words(wait)))

    async def take(
        self,
        tx: WriteTx,
        hits: Sequence[tuple[Rule, str]],
        now: datetime,
        message: str = MESSAGE,
        token: str | None = None,
        *,
        refuse: bool = True,
    ) -> Ticket:
        """`acquire` inside the caller's transaction: counted and reserved under the subjects'
        locks, committed (or rolled back) with the caller's own writes."""
        ticket = Ticket(token or secrets.token_hex(12))
        active = _active(hits)
        if not active:
            return ticket
        # Sorted, so two requests locking the same subjects never wait for each other.
        for scope, subject in sorted({(r.scope, s) for r, s in active}):
            await tx.lock_name(f"rate:{scope}:{subject}")
        wait, full = await self._full(tx.fetch, active, now)
        if full and refuse:
            raise TooManyRequests(wait, message.format(wait=wait_words(wait)))
        for rule, subject in active:
            await tx.execute(HIT, {
                "scope": rule.scope, "subject": subject, "ticket": ticket.token, "at": stamp(now)
            })  # fmt: skip
            ticket.taken += 1
            ticket.scopes.append(rule.scope)
        if random.randrange(PRUNE_ONE_IN) == 0:
            await tx.execute(PRUNE, {"before": stamp(now - KEEP)})
        return ticket

    @staticmethod
    async def _full(
        fetch: Fetch, active: Sequence[tuple[Rule, str]], now: datetime
    ) -> tuple[int, bool]:
        wait, full = 0, False
        for rule, subject in active:
            rows = await fetch(WINDOW, {
                "scope": rule.scope, "subject": subject, "since": stamp(now - rule.window),
                "cap": _cap(rule),
            })  # fmt: skip
            n, first, last = int(rows[0]["n"]), rows[0]["first"], rows[0]["last"]
            # A request that read the clock after this one may have been counted first (each
            # reads it before it waits for the lock): its stamp is no later than now here, or
            # the wait would exceed the window (a Retry-After of 901 s for a 15-minute one).
            first, last = (min(parse_stamp(x), now) if x else None for x in (first, last))
            if n >= rule.limit and rule.max_delay is not None:
                free_at = last + rule.delay(n) if last else now
                if free_at > now:
                    full = True
                    wait = max(wait, math.ceil((free_at - now).total_seconds()))
            elif n >= rule.limit:
                full = True
                # When the limit-th newest request (the oldest read) leaves the window, the
                # count falls below the limit.
                free_at = first + rule.window if first else now
                wait = max(wait, math.ceil((free_at - now).total_seconds()))
        return wait, full

    async def release(self, ticket: Ticket) -> None:
        """The request turned out not to count (e.g. the code was right): free its slots."""
        if not ticket.taken:
            return
        async with self.store.transaction() as tx:
            await tx.execute(RELEASE, {"ticket": ticket.token})
        ticket.taken = 0

    async def used(self, rule: Rule, subject: str, now: datetime) -> int:
        """How many slots ``subject`` has used in the current window (for tests and status)."""
        rows = await self.store.fetch(USED, {
            "scope": rule.scope, "subject": subject[:SUBJECT_MAX],
            "since": stamp(now - rule.window),
        })  # fmt: skip
        return int(rows[0]["n"])
