"""改派: the supervisor sees a report with the wrong bureau and gives it to the right one, with a
reason that stays in the record; the new bureau's clock starts anew (both stores)."""

from __future__ import annotations

import pytest

from feedback.errors import InvalidTransition, NotFound, PermissionDenied, ValidationError
from feedback.models import Status
from feedback.service import FeedbackService
from tests.conftest import SUPERVISOR, Clock, staff

REPORT = {
    "title": "工地夜间施工噪音",
    "text": "小区旁边的工地每天晚上十一点以后还在施工，噪音很大，执法人员来了也不处理。",
    "anonymous": True,
}
WHY = "夜间施工噪音属住建部门监管，改由区住房和城乡建设局办理。"


async def test_supervisor_reassigns_a_signed_for_report_and_the_new_clock_starts(
    service: FeedbackService, clock: Clock
) -> None:
    filed = await service.submit(dict(REPORT))
    tn = filed.tracking_number
    await service.assign(SUPERVISOR, tn, "zhzf")
    await service.accept(staff("zhzf"), tn)
    first = await service.staff_view(SUPERVISOR, tn)
    assert service.offered(SUPERVISOR, first)["reassign"]
    # The bureau itself cannot reassign (it may send back, within its window).
    assert not service.offered(staff("zhzf"), first)["reassign"]
    with pytest.raises(PermissionDenied):
        await service.reassign(staff("zhzf"), tn, "zjj", WHY)
    # A reason is required, and a different bureau.
    with pytest.raises(ValidationError) as no_reason:
        await service.reassign(SUPERVISOR, tn, "zjj", "")
    assert no_reason.value.field == "reason" and "改派理由" in no_reason.value.message
    with pytest.raises(ValidationError):
        await service.reassign(SUPERVISOR, tn, "zhzf", WHY)

    clock.advance(days=2)  # Thursday
    report = await service.reassign(SUPERVISOR, tn, "zjj", WHY)
    assert report.status is Status.ROUTED and report.department == "zjj"
    assert report.accepted_at is None and report.deadlines.answer_by is None
    # Signed for by the end of the next working day from now (Friday), not from the first day.
    assert report.deadlines.sign_by is not None
    assert service.calendar.local_date(report.deadlines.sign_by).isoformat() == "2026-03-13"

    # In the record with its reason; the citizen reads where it went, not the internal words.
    view = await service.staff_view(SUPERVISOR, tn)
    last = view.events[-1]
    assert last.action == "reassign" and last.details["reason"] == WHY
    assert last.details["from"] == "zhzf" and last.details["department"] == "zjj"
    citizen = await service.status(tn, filed.follow_up_code)
    assert citizen.history[-1].label == "改派"
    assert citizen.history[-1].note == "区司法局改派，承办单位：区住房和城乡建设局"
    # The old bureau no longer sees it; the new one signs for it and cannot send it back.
    with pytest.raises(NotFound):
        await service.staff_view(staff("zhzf"), tn)
    new = await service.staff_view(staff("zjj"), tn)
    assert service.offered(staff("zjj"), new)["accept"]
    assert not service.offered(staff("zjj"), new)["send_back"]
    await service.accept(staff("zjj"), tn)
    assert (await service.verify_records())[1] == []


async def test_reports_not_with_a_bureau_are_not_reassigned(service: FeedbackService) -> None:
    tn = (await service.submit(dict(REPORT))).tracking_number  # at the triage desk
    page = await service.staff_view(SUPERVISOR, tn)
    assert not service.offered(SUPERVISOR, page)["reassign"]
    with pytest.raises(InvalidTransition) as refused:
        await service.reassign(SUPERVISOR, tn, "zjj", WHY)
    assert "改派" in refused.value.message
