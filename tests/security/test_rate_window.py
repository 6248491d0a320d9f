"""A rate limit's check reads a bounded part of its window, and never asks a client to wait
longer than the window, however many requests were counted and in whatever order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from feedback.ratelimit import BACKOFF_ROWS, WINDOW, RateLimiter, Rule, TooManyRequests, stamp
from feedback.store import Store

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


async def test_a_busy_subject_is_counted_up_to_what_the_rule_needs(store: Store) -> None:
    # An intake behind one proxy address: thousands of submissions an hour under a high limit.
    limiter = RateLimiter(store)
    busy = Rule("submit:address", 1000, HOUR)
    for minute in range(60):
        await limiter.record([(busy, "10.0.0.1")] * 30, NOW - timedelta(minutes=minute))
    rows = await store.fetch(WINDOW, {
        "scope": busy.scope, "subject": "10.0.0.1", "since": stamp(NOW - HOUR),
        "cap": busy.limit + BACKOFF_ROWS,
    })  # fmt: skip
    assert rows[0]["n"] == busy.limit + BACKOFF_ROWS  # 1,800 in the window, 1,031 read
    with pytest.raises(TooManyRequests) as refused:
        await limiter.check([(busy, "10.0.0.1")], NOW)
    assert 0 < refused.value.retry_after <= 3600
    # Under the limit, the same subject passes.
    await limiter.check([(Rule("submit:address", 2000, HOUR), "10.0.0.1")], NOW)


async def test_a_request_counted_before_an_earlier_one_never_makes_it_wait_past_the_window(
    store: Store,
) -> None:
    # Two logins read the clock a moment apart and the later one is counted first: the earlier
    # one, refused, is told to wait at most the window (15 minutes), not 901 seconds.
    limiter = RateLimiter(store)
    rule = Rule("login:user", 1, timedelta(minutes=15))
    await limiter.acquire([(rule, "zhzf1")], NOW + timedelta(milliseconds=400))
    with pytest.raises(TooManyRequests) as refused:
        await limiter.acquire([(rule, "zhzf1")], NOW)
    assert refused.value.retry_after == 15 * 60
    backoff = Rule("code:pair", 1, timedelta(minutes=15), timedelta(minutes=15))
    for _ in range(12):
        await limiter.record([(backoff, "a 1")], NOW + timedelta(seconds=2))
    with pytest.raises(TooManyRequests) as slowed:
        await limiter.check([(backoff, "a 1")], NOW)
    assert slowed.value.retry_after == 15 * 60


async def test_past_the_limit_the_wait_lasts_until_the_count_falls_below_it(
    store: Store,
) -> None:
    # Six requests were counted where three are allowed (counted without refusing, e.g. done
    # already): a slot frees when the third newest leaves the window, not the oldest.
    limiter = RateLimiter(store)
    rule = Rule("export:user", 3, HOUR)
    for minutes_ago in (50, 49, 48, 47, 46, 45):
        await limiter.record([(rule, "sup1")], NOW - timedelta(minutes=minutes_ago))
    with pytest.raises(TooManyRequests) as refused:
        await limiter.check([(rule, "sup1")], NOW)
    assert refused.value.retry_after == 13 * 60  # the one of 47 minutes ago, in 13 minutes
    await limiter.check([(rule, "sup1")], NOW + timedelta(minutes=13, seconds=1))
