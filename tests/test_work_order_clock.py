"""The work-order clock: working-day deadlines, reminders, 督办, and the rating window."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from feedback import jobs
from feedback.config import CalendarYear
from feedback.deadlines import WorkCalendar
from feedback.models import Status
from feedback.service import FeedbackService
from tests.conftest import SUPERVISOR, Clock, staff

REPORT = {
    "title": "占道经营无人管",
    "text": "小区门口的流动摊贩占道经营很久了，多次打电话反映，一直没有人来处理。",
}


def local(y: int, m: int, d: int, h: int = 9) -> datetime:
    """A moment in Zibo's time, as UTC."""
    return datetime(y, m, d, h, tzinfo=UTC) - timedelta(hours=8)


def test_deadline_across_national_day_and_an_adjusted_saturday() -> None:
    cal = WorkCalendar()
    # Signed for on Tuesday 29 September 2026. 1–7 October are off; Saturday 10 October is
    # an adjusted working day (调休). 15 working days end on Monday 26 October.
    due = cal.add_working_days(local(2026, 9, 29), 15)
    assert cal.local_date(due.due) == date(2026, 10, 26)
    assert not due.estimated
    # A report in on the eve of the holiday must be signed for on the first day back.
    sign = cal.add_working_days(local(2026, 9, 30, 16), 1)
    assert cal.local_date(sign.due) == date(2026, 10, 8)


def test_unknown_year_is_an_estimate_until_the_operator_adds_it() -> None:
    due = WorkCalendar().add_working_days(local(2026, 12, 30), 3)
    assert due.estimated
    official = WorkCalendar(
        {2027: CalendarYear(holidays=frozenset({date(2027, 1, 1)}), workdays=frozenset())}
    )
    due = official.add_working_days(local(2026, 12, 30), 3)
    assert not due.estimated
    assert official.local_date(due.due) == date(2027, 1, 5)  # 31 Dec, (1 Jan off), 4, 5 Jan


async def test_tick_twice_escalates_once(service: FeedbackService, clock: Clock) -> None:
    result = await service.submit(dict(REPORT))
    await service.assign(SUPERVISOR, result.tracking_number, "zhzf")
    clock.advance(days=7)  # the one working day to sign for is long gone
    first = await jobs.tick(service)
    second = await jobs.tick(service)
    assert first.escalated == [result.tracking_number]
    assert second.escalated == []
    view = await service.status(result.tracking_number, result.follow_up_code)
    assert [h.label for h in view.history].count("督办") == 1
    assert view.report.escalation_level == 1
    overdue = await service.queue(SUPERVISOR, "escalated")
    assert [r.tracking_number for r in overdue] == [result.tracking_number]


async def test_bureau_is_warned_before_the_answer_deadline(
    service: FeedbackService, clock: Clock
) -> None:
    result = await service.submit(dict(REPORT))
    tn = result.tracking_number
    await service.assign(SUPERVISOR, tn, "zhzf")
    report = await service.accept(staff("zhzf"), tn)
    assert report.deadlines.answer_by is not None
    clock.now = report.deadlines.answer_by - timedelta(hours=20)
    warned = await jobs.tick(service)
    assert warned.warned == [tn] and warned.escalated == []
    again = await jobs.tick(service)
    assert again.warned == []
    # The reminder is in the record for staff, not in the citizen's history.
    view = await service.staff_view(staff("zhzf"), tn)
    assert "warn" in [e.action for e in view.events]
    citizen = await service.status(tn, result.follow_up_code)
    assert "催办提醒" not in [h.label for h in citizen.history]


async def test_no_rating_in_the_window_closes_without_rating(
    service: FeedbackService, clock: Clock
) -> None:
    result = await service.submit(dict(REPORT))
    tn = result.tracking_number
    await service.assign(SUPERVISOR, tn, "zhzf")
    await service.accept(staff("zhzf"), tn)
    await service.answer(staff("zhzf"), tn, "已安排执法队员清理占道摊点，并建立长效巡查机制。")
    clock.advance(days=29)
    assert (await jobs.tick(service)).closed_unrated == []
    clock.advance(days=2)
    assert (await jobs.tick(service)).closed_unrated == [tn]
    view = await service.status(tn, result.follow_up_code)
    assert view.report.status is Status.CLOSED
    assert "逾期未评价" in view.status_label
    # Closed is not the end: the citizen may still ask for a review (复查) once.
    assert view.can_request_review
    await service.request_review(tn, result.follow_up_code, "摊贩又回来了，问题并没有解决。")
    report = await service.decide_review(SUPERVISOR, tn, True, "责令重新办理")
    assert report.status is Status.REOPENED


async def test_near_duplicate_is_linked_not_merged(service: FeedbackService) -> None:
    first = await service.submit(dict(REPORT))
    repost = dict(REPORT, text=REPORT["text"] + "请尽快处理！")
    second = await service.submit(repost)
    assert second.report.duplicate_of == first.tracking_number
    assert second.tracking_number != first.tracking_number
    other = await service.submit(
        {"title": "医保报销", "text": "异地就医的医保报销需要准备哪些材料，去哪里办理？"}
    )
    assert other.report.duplicate_of is None


def test_without_a_schedule_fixed_date_holidays_are_still_skipped() -> None:
    # 2027 is not in the calendar package: New Year's Day is still a day off.
    due = WorkCalendar().add_working_days(local(2026, 12, 31), 1)
    assert WorkCalendar().local_date(due.due) == date(2027, 1, 4)
    assert due.estimated


async def test_an_estimated_deadline_says_so(service: FeedbackService, clock: Clock) -> None:
    clock.now = local(2026, 12, 28)
    result = await service.submit(dict(REPORT))
    await service.assign(SUPERVISOR, result.tracking_number, "zhzf")
    await service.accept(staff("zhzf"), result.tracking_number)
    view = await service.status(result.tracking_number, result.follow_up_code)
    (answer_by,) = view.deadlines
    assert answer_by.name == "answer_by" and answer_by.estimated
