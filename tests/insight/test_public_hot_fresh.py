"""The public page's hot issues never keep a visitor waiting for the grouping (seconds for a
quarter's reports): an expired list is shown while a fresh one is made beside the request."""

from __future__ import annotations

from typing import Any

import pytest

from feedback.insight import PUBLIC_MAX_AGE, PUBLIC_TTL
from feedback.service import FeedbackService
from tests.conftest import Clock
from tests.insight.stories import COMPOUND, OTHERS, payload


async def test_an_expired_list_is_shown_at_once_and_the_fresh_one_follows(
    service: FeedbackService, clock: Clock
) -> None:
    for title, text, phone in OTHERS:
        await service.submit({**payload(title, text, phone), "publish": True})
        clock.advance(hours=20)
    assert await service.insight.public_hot_issues() == []  # the first view makes the list

    for title, text, phone in COMPOUND:  # five residents, one matter, within two minutes
        await service.submit({**payload(title, text, phone), "publish": True})
        clock.advance(seconds=20)
    assert await service.insight.public_hot_issues() == []  # within PUBLIC_TTL: as it was

    clock.advance(seconds=PUBLIC_TTL.total_seconds())
    assert await service.insight.public_hot_issues() == []  # expired: shown, and remade
    refresh = service.insight._public_refresh
    assert refresh is not None
    await refresh
    fresh = await service.insight.public_hot_issues()
    assert [h.reports for h in fresh] == [5]
    assert "幸福里小区" in fresh[0].summary


async def test_a_refresh_still_running_when_the_service_closes_is_stopped(
    service: FeedbackService, clock: Clock
) -> None:
    await service.insight.public_hot_issues()
    clock.advance(seconds=PUBLIC_TTL.total_seconds() + 1)
    await service.insight.public_hot_issues()
    refresh = service.insight._public_refresh
    assert refresh is not None
    await service.close()
    assert refresh.done()


async def test_visitors_at_a_cold_start_share_one_grouping_and_an_old_list_is_not_shown(
    service: FeedbackService, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    from feedback import insight

    groupings = 0
    real = insight._hot

    def counted(*args: Any) -> Any:
        nonlocal groupings
        groupings += 1
        return real(*args)

    monkeypatch.setattr(insight, "_hot", counted)
    for title, text, phone in COMPOUND:
        await service.submit({**payload(title, text, phone), "publish": True})
        clock.advance(hours=1)
    views = await asyncio.gather(*(service.insight.public_hot_issues() for _ in range(8)))
    assert groupings == 1 and all([h.reports for h in v] == [5] for v in views)

    # Hours later (the refreshes failing, say), the old list is not shown: the visitor waits.
    async def failing(*a: Any, **kw: Any) -> Any:
        raise RuntimeError("the grouping failed")

    monkeypatch.setattr(service.insight, "_all_hot", failing)
    clock.advance(seconds=PUBLIC_TTL.total_seconds())
    assert [h.reports for h in await service.insight.public_hot_issues()] == [5]  # stale, shown
    with pytest.raises(RuntimeError):
        await service.insight._public_refresh  # type: ignore[misc]
    clock.advance(seconds=PUBLIC_MAX_AGE.total_seconds())
    with pytest.raises(RuntimeError):
        await service.insight.public_hot_issues()
