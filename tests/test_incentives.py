"""社会监督激励: a substantiated report earns points once; the reporter claims them with the code."""

from __future__ import annotations

from datetime import date

import pytest

from feedback import incentives
from feedback.errors import InvalidTransition, NotFound, PermissionDenied
from feedback.service import FeedbackService
from feedback.stats import Stats, StatsFilter
from tests.conftest import SUPERVISOR, staff


async def answered_report(service: FeedbackService, issue_types: list[str]) -> tuple[str, str]:
    result = await service.submit(
        {
            "title": "执法人员乱罚款",
            "text": "执法人员在菜市场门口随意罚款五百元，不给任何票据，还推搡老人。",
        }
    )
    tn = result.tracking_number
    await service.assign(SUPERVISOR, tn, "zhzf", issue_types=issue_types)
    await service.accept(staff("zhzf"), tn)
    await service.answer(staff("zhzf"), tn, "经调查属实，已退还罚款，涉事执法人员停职检查。")
    return tn, result.follow_up_code


async def test_points_granted_once_and_claimed_with_the_code(service: FeedbackService) -> None:
    tn, code = await answered_report(service, ["abuse_of_power", "opacity"])
    with pytest.raises(PermissionDenied):
        await incentives.substantiate(service, staff("zhzf"), tn, True, "经核查情况属实")
    await incentives.substantiate(service, SUPERVISOR, tn, True, "经核查情况属实")
    with pytest.raises(InvalidTransition):
        await incentives.substantiate(service, SUPERVISOR, tn, True, "再认定一次试试")
    view = await service.status(tn, code)
    assert view.points == service.config.incentive_points["abuse_of_power"] == 50

    with pytest.raises(NotFound):
        await incentives.claim(service, tn, "WRONG-CODE-0000-0000-0000")
    claimed = await incentives.claim(service, tn, code)
    assert claimed.granted == 50 and claimed.claimed
    with pytest.raises(InvalidTransition):
        await incentives.claim(service, tn, code)
    assert await incentives.verify_ledger(service) is None
    _, breaks = await service.verify_records()
    assert breaks == []


async def test_unsubstantiated_report_earns_nothing(service: FeedbackService) -> None:
    tn, code = await answered_report(service, [])
    await incentives.substantiate(service, SUPERVISOR, tn, False, "经核查反映情况不属实")
    assert (await service.status(tn, code)).points == 0
    with pytest.raises(InvalidTransition):
        await incentives.claim(service, tn, code)


async def test_tampered_ledger_is_found(service: FeedbackService) -> None:
    tn, _ = await answered_report(service, ["opacity"])
    await incentives.substantiate(service, SUPERVISOR, tn, True, "经核查情况属实")
    async with service.store.transaction() as tx:
        await tx.execute("UPDATE points_ledger SET points = 500")
    assert "does not match" in (await incentives.verify_ledger(service) or "")


async def test_bureau_scores_are_computed(service: FeedbackService) -> None:
    tn, code = await answered_report(service, [])
    await service.rate(tn, code, "satisfied")
    board = await Stats(service.store, service.config).dashboard(
        StatsFilter(date(2026, 3, 1), date(2026, 3, 31)), service.clock()
    )
    scores = {f.key: f for f in board.by_department}
    zhzf = scores["zhzf"]
    assert zhzf.timeliness_rate == 1.0 and zhzf.satisfaction_rate == 1.0
    assert zhzf.send_back_rate == 0.0 and zhzf.assessment_score == 100.0
    assert "zjj" not in scores  # nothing reached zjj: no score
