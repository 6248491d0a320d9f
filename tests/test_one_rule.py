"""Rules written once (issue 15): 'overdue', the 考核 score and tracking numbers mean the same
thing to the citizen, the clock, the supervisor's queue and the dashboard."""

from __future__ import annotations

from datetime import date

import pytest

from feedback import incentives, jobs
from feedback.service import FeedbackService
from feedback.stats import Stats, StatsFilter
from tests.conftest import SUPERVISOR, Clock, staff

REPORT = {
    "title": "占道经营无人管",
    "text": "小区门口的流动摊贩占道经营很久了，多次打电话反映，一直没有人来处理。",
}


async def test_a_triage_report_past_its_deadline_is_overdue_everywhere(
    service: FeedbackService, clock: Clock
) -> None:
    result = await service.submit(dict(REPORT))  # no classifier: it waits at the triage desk
    tn = result.tracking_number
    clock.advance(days=10)
    view = await service.status(tn, result.follow_up_code)
    assert [d.overdue for d in view.deadlines] == [True]  # the citizen sees it overdue
    assert (await jobs.tick(service)).escalated == [tn]  # the clock escalates it
    # ...and so the supervisor's overdue queue, its count and the dashboard list it too.
    assert [r.tracking_number for r in await service.queue(SUPERVISOR, "overdue")] == [tn]
    stats = service.stats  # the one the dashboard, the CLI and the clock use
    flt = StatsFilter(date(2026, 3, 1), date(2026, 3, 31))
    assert await stats.overdue_counts(flt, clock.now) == {"": 1}
    board = await stats.dashboard(flt, clock.now)
    assert [o.tracking_number for o in board.overdue] == [tn]
    assert board.overall.overdue_now == 1


async def test_a_send_back_counts_against_the_bureau_that_sent_it_back(
    service: FeedbackService, clock: Clock
) -> None:
    # zjj is sent two reports that are zhzf's business and sends both on to zhzf, which takes
    # them on, answers on time and satisfies the citizen.
    for _ in range(2):
        r = await service.submit(dict(REPORT))
        await service.assign(SUPERVISOR, r.tracking_number, "zjj")
        await service.send_back(staff("zjj"), r.tracking_number, "占道经营属于城管职责。", "zhzf")
        await service.accept(staff("zhzf"), r.tracking_number)
        await service.answer(staff("zhzf"), r.tracking_number, "已清理占道摊贩并加强巡查。")
        await service.rate(r.tracking_number, r.follow_up_code, "satisfied")
    # The figures alone (no answer reviews): the score is its timeliness, routing, satisfaction.
    board = await Stats(service.store, service.config).dashboard(
        StatsFilter(date(2026, 3, 1), date(2026, 3, 31)), clock.now
    )
    by = {f.key: f for f in board.by_department}
    assert (by["zjj"].sent_back, by["zjj"].send_back_rate) == (2, 1.0)
    assert (by["zhzf"].sent_back, by["zhzf"].send_back_rate) == (0, 0.0)
    assert by["zhzf"].assessment_score == 100.0
    # zjj answered nothing and has nothing overdue: the score has no basis yet (shown as —)
    assert by["zjj"].assessment_score is None


async def test_points_are_claimed_with_a_full_width_dash_in_the_number(
    service: FeedbackService,
) -> None:
    r = await service.submit(dict(REPORT))
    tn = r.tracking_number
    await service.assign(SUPERVISOR, tn, "zhzf", issue_types=["abuse_of_power"])
    await service.accept(staff("zhzf"), tn)
    await service.answer(staff("zhzf"), tn, "经调查属实，已退还罚款并处理相关执法人员。")
    await incentives.substantiate(service, SUPERVISOR, tn.replace("-", "－"), True, "经核查属实")
    claimed = await incentives.claim(service, tn.replace("-", "－").lower(), r.follow_up_code)
    assert claimed.granted == 50 and claimed.claimed


@pytest.mark.parametrize("typed", ["ZC－2026－000001", " zc—2026—000001 "])
def test_tracking_numbers_as_people_type_them(typed: str) -> None:
    from feedback.secrets import normalise_tracking_number

    assert normalise_tracking_number(typed) == "ZC-2026-000001"
