"""The supervisor's and the bureau's guards, told as what happens at the desk (both stores):
督办 of a report that is not overdue needs a reason and does not repeat within the window, even
when two clicks arrive together; one extension application per report; the 催办 reminder comes
on the last working day, not minutes after the report arrived."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from feedback import jobs
from feedback.errors import FeedbackError, InvalidTransition, ValidationError
from feedback.service import FeedbackService
from tests.conftest import SUPERVISOR, Clock, staff

REPORT = {
    "title": "城管执法罚款不开票据",
    "text": "昨天下午在般阳路摆摊，城管执法人员直接罚款两百元，没有出具任何票据和处罚决定书。",
    "anonymous": True,
}


async def routed(service: FeedbackService) -> str:
    result = await service.submit(dict(REPORT))
    await service.assign(SUPERVISOR, result.tracking_number, "zhzf")
    return result.tracking_number


async def escalations(service: FeedbackService, tn: str) -> int:
    view = await service.staff_view(SUPERVISOR, tn)
    return sum(e.action == "escalate" for e in view.events)


async def test_a_fresh_report_is_escalated_only_with_a_reason_and_not_twice_in_a_row(
    service: FeedbackService, clock: Clock
) -> None:
    tn = await routed(service)
    # Not overdue: the supervisor must say why.
    with pytest.raises(ValidationError) as no_reason:
        await service.escalate(SUPERVISOR, tn, "")
    assert no_reason.value.field == "note" and "督办理由" in no_reason.value.message
    page = await service.staff_view(SUPERVISOR, tn)
    assert service.offered(SUPERVISOR, page)["escalate"]
    assert page.escalation.needs_reason and page.escalation.again_at is None

    report = await service.escalate(SUPERVISOR, tn, "群众多次来电反映，请优先办理")
    assert report.escalation_level == 1
    # A second click (or a colleague a minute later) makes no second 督办.
    clock.advance(minutes=1)
    with pytest.raises(InvalidTransition) as again:
        await service.escalate(SUPERVISOR, tn, "请尽快办理")
    assert "09:30 督办" in again.value.message and "不重复督办" in again.value.message
    page = await service.staff_view(SUPERVISOR, tn)
    assert page.report.escalation_level == 1 and await escalations(service, tn) == 1
    assert not service.offered(SUPERVISOR, page)["escalate"]
    assert page.escalation.again_at is not None and page.escalation.again_at > clock.now

    # After the window, a new 督办 (with its reason) is taken.
    clock.now = page.escalation.again_at + timedelta(seconds=1)
    report = await service.escalate(SUPERVISOR, tn, "仍未签收，再次督办")
    assert report.escalation_level == 2


async def test_an_overdue_report_needs_no_reason_and_the_clocks_escalation_counts(
    service: FeedbackService, clock: Clock
) -> None:
    tn = await routed(service)
    clock.advance(days=3)  # past the one working day to sign for it
    page = await service.staff_view(SUPERVISOR, tn)
    assert not page.escalation.needs_reason
    report = await service.escalate(SUPERVISOR, tn, "")
    assert report.escalation_level == 1

    # Another overdue report: the clock escalates it; a supervisor's click right after is
    # the same 督办 again and is refused.
    # The supervisor's 督办 of the overdue one was that deadline's: the clock adds none.
    other = await routed(service)
    clock.advance(days=5)
    done = await jobs.tick(service)
    assert done.escalated == [other]
    clock.advance(minutes=5)
    with pytest.raises(InvalidTransition):
        await service.escalate(SUPERVISOR, other, "")


async def test_two_clicks_at_once_make_one_escalation(service: FeedbackService) -> None:
    tn = await routed(service)
    outcomes = await asyncio.gather(
        service.escalate(SUPERVISOR, tn, "请优先办理"),
        service.escalate(SUPERVISOR, tn, "请优先办理"),
        return_exceptions=True,
    )
    refused = [o for o in outcomes if isinstance(o, FeedbackError)]
    assert len(refused) == 1 and isinstance(refused[0], InvalidTransition), outcomes
    assert await escalations(service, tn) == 1
    view = await service.staff_view(SUPERVISOR, tn)
    assert view.report.escalation_level == 1


async def test_one_extension_application_per_report_even_after_a_refusal(
    service: FeedbackService,
) -> None:
    tn = await routed(service)
    bureau = staff("zhzf")
    await service.accept(bureau, tn)
    page = await service.staff_view(bureau, tn)
    assert service.offered(bureau, page)["extension"]
    await service.request_extension(bureau, tn, 10, "需要调取执法记录仪视频并询问当事人。")
    report = await service.decide_extension(SUPERVISOR, tn, False, "理由不充分")
    assert report.extension_used is False  # refused: no extra days granted
    # The form said "只能申请一次": it is not offered again, and a second application is refused.
    page = await service.staff_view(bureau, tn)
    assert not service.offered(bureau, page)["extension"]
    with pytest.raises(InvalidTransition) as second:
        await service.request_extension(bureau, tn, 5, "再次申请延期，情况确实复杂。")
    assert "只能申请一次" in second.value.message
    assert (await service.staff_view(bureau, tn)).report.pending_extension is None


async def test_the_reminder_comes_on_the_last_working_day_not_after_five_minutes(
    service: FeedbackService, clock: Clock
) -> None:
    # Tuesday 09:30 in Zibo: to be signed for by Wednesday 23:59.
    tn = await routed(service)
    clock.advance(minutes=5)
    first = await jobs.tick(service)
    assert first.warned == [] and first.escalated == []
    clock.advance(hours=6)  # Tuesday afternoon: still more than a working day left
    assert (await jobs.tick(service)).warned == []
    clock.advance(hours=18)  # Wednesday morning, the last working day: 催办
    assert (await jobs.tick(service)).warned == [tn]
    assert (await jobs.tick(service)).warned == []  # once
