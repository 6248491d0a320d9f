"""The public page's hot issues never keep a visitor waiting for the grouping (seconds for a
quarter's reports): an expired list is shown while a fresh one is made beside the request."""

from __future__ import annotations

from feedback.insight import PUBLIC_TTL
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

    for title, text, phone in COMPOUND:  # five residents, one matter
        await service.submit({**payload(title, text, phone), "publish": True})
        clock.advance(hours=1)
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
