"""The report's life: a citizen submits, a bureau handles it, the citizen rates or reopens."""

from __future__ import annotations

import pytest

from feedback import labels
from feedback.errors import InvalidTransition, NotFound, PermissionDenied, ValidationError
from feedback.models import Status
from feedback.service import FeedbackService
from tests.conftest import SUPERVISOR, staff

REPORT = {
    "title": "城管执法罚款不开票据",
    "text": "昨天下午在般阳路摆摊，城管执法人员直接罚款两百元，没有出具任何票据和处罚决定书。",
    "place": "般阳路",
    "anonymous": True,
}


async def submit_and_assign(service: FeedbackService, department: str = "zhzf") -> str:
    result = await service.submit(dict(REPORT))
    await service.assign(SUPERVISOR, result.tracking_number, department)
    return result.tracking_number


async def test_citizen_submits_and_follows_up_with_the_code(service: FeedbackService) -> None:
    result = await service.submit(dict(REPORT))
    assert result.tracking_number.startswith("ZC-2026-")
    assert len(result.follow_up_code.replace("-", "")) == 20

    view = await service.status(result.tracking_number, result.follow_up_code)
    assert view.report.title == REPORT["title"]
    assert [h.label for h in view.history][:1] == ["提交诉求"]
    # Lower case and without dashes, as people type it, works too.
    same = await service.status(
        result.tracking_number.lower(), result.follow_up_code.replace("-", "").lower()
    )
    assert same.report.id == view.report.id


async def test_wrong_code_and_unknown_number_look_the_same(service: FeedbackService) -> None:
    result = await service.submit(dict(REPORT))
    with pytest.raises(NotFound) as wrong:
        await service.status(result.tracking_number, "AAAA-BBBB-CCCC-DDDD-EEEE")
    with pytest.raises(NotFound) as unknown:
        await service.status("ZC-2026-999999", result.follow_up_code)
    assert wrong.value.message == unknown.value.message


async def test_tracking_numbers_are_sequential(service: FeedbackService) -> None:
    first = await service.submit(dict(REPORT))
    second = await service.submit(dict(REPORT))
    assert int(second.tracking_number[-6:]) == int(first.tracking_number[-6:]) + 1


async def test_bureau_signs_answers_and_citizen_rating_closes(service: FeedbackService) -> None:
    result = await service.submit(dict(REPORT))
    tn, code = result.tracking_number, result.follow_up_code
    await service.assign(SUPERVISOR, tn, "zhzf")
    bureau = staff("zhzf")
    report = await service.accept(bureau, tn)
    assert report.status is Status.ACCEPTED and report.deadlines.answer_by is not None
    await service.answer(bureau, tn, "经核查，已责令执法队员补开票据并向您说明处罚依据。")
    view = await service.rate(tn, code, "satisfied", "处理及时")
    assert view.report.status is Status.CLOSED
    assert view.status_label.startswith("已办结")
    labels = [h.label for h in view.history]
    assert labels == ["提交诉求", "转人工分办", "人工分派", "签收", "答复", "评价"]


async def test_unsatisfied_citizen_reopens_once(service: FeedbackService) -> None:
    result = await service.submit(dict(REPORT))
    tn, code = result.tracking_number, result.follow_up_code
    await service.assign(SUPERVISOR, tn, "zhzf")
    bureau = staff("zhzf")
    await service.accept(bureau, tn)
    await service.answer(bureau, tn, "已经处理完毕，感谢您的监督和支持。")
    view = await service.rate(tn, code, "unsatisfied", "根本没处理")
    assert view.report.status is Status.REOPENED
    assert view.report.supervised
    await service.answer(bureau, tn, "重新核查后，已退还罚款并对执法队员批评教育。")
    view = await service.rate(tn, code, "unsatisfied", "还是不满意")
    assert view.report.status is Status.CLOSED
    assert view.report.close_reason is not None
    assert view.report.close_reason.value == "unsatisfied_final"


async def test_mis_route_is_sent_back_and_rerouted(service: FeedbackService) -> None:
    result = await service.submit(
        {
            "title": "商铺占用人行道",
            "text": "楼下商铺长期把货物堆到人行道上，行人只能走机动车道，很危险。",
        }
    )
    tn = result.tracking_number
    await service.assign(SUPERVISOR, tn, "zjj")
    report = await service.send_back(staff("zjj"), tn, "摆摊罚款属于城管执法事项", "zhzf")
    assert report.status is Status.ROUTED and report.department == "zhzf"
    assert report.send_back_count == 1
    accepted = await service.accept(staff("zhzf"), tn)
    assert accepted.status is Status.ACCEPTED
    found = await labels.effective(service.store, "department")
    assert [(x.labels, x.source) for x in found] == [(["zhzf"], "accept")]


async def test_second_send_back_goes_to_the_supervisor_whose_decision_binds(
    service: FeedbackService,
) -> None:
    tn = await submit_and_assign(service, "zjj")
    await service.send_back(staff("zjj"), tn, "不属于住建职责范围", "zhzf")
    report = await service.send_back(staff("zhzf"), tn, "不属于城管职责范围", "zjj")
    assert report.status is Status.TRIAGE and report.arbitration
    with pytest.raises(PermissionDenied):
        await service.assign(staff("sfj"), tn, "zjj")
    report = await service.assign(SUPERVISOR, tn, "zhzf", note="摊点管理属城管职责")
    assert report.route_locked
    with pytest.raises(InvalidTransition):
        await service.send_back(staff("zhzf"), tn, "仍然认为不归我们管", "zjj")


async def test_illegal_transitions_and_wrong_actors_are_refused(service: FeedbackService) -> None:
    result = await service.submit(dict(REPORT))
    tn, code = result.tracking_number, result.follow_up_code
    with pytest.raises(InvalidTransition):
        await service.rate(tn, code, "satisfied")  # nothing answered yet
    await service.assign(SUPERVISOR, tn, "zhzf")
    with pytest.raises(InvalidTransition):
        await service.answer(staff("zhzf"), tn, "还没签收就想答复，这是不允许的。")
    with pytest.raises(NotFound):  # another bureau cannot even see it
        await service.accept(staff("zjj"), tn)
    with pytest.raises(PermissionDenied):
        await service.decide_extension(staff("zhzf"), tn, True)
    with pytest.raises(ValidationError) as err:
        await service.send_back(staff("zhzf"), tn, "短", "zjj")
    assert err.value.field == "reason"


async def test_extension_once_approved_by_supervisor(service: FeedbackService) -> None:
    tn = await submit_and_assign(service)
    bureau = staff("zhzf")
    accepted = await service.accept(bureau, tn)
    due = accepted.deadlines.answer_by
    await service.request_extension(bureau, tn, 10, "需要调取执法记录仪视频核实情况")
    report = await service.decide_extension(SUPERVISOR, tn, True)
    assert report.status is Status.ACCEPTED and report.deadlines.answer_by > due  # type: ignore[operator]
    with pytest.raises(InvalidTransition):
        await service.request_extension(bureau, tn, 5, "还需要更多时间核实情况")


@pytest.mark.parametrize(
    "bad, field",
    [
        ({"title": "x", "text": "太短"}, "text"),
        ({"title": "x" * 101, "text": "这是一段足够长的诉求内容，描述了问题。"}, "title"),
        ({"text": "这是一段足够长的诉求内容，描述了问题。", "anonymous": False}, "contact"),
        (
            {
                "text": "这是一段足够长的诉求内容。",
                "anonymous": False,
                "contact": {"phone": "12345"},
            },
            "contact.phone",
        ),
    ],
)
async def test_bad_input_gets_a_chinese_message(
    service: FeedbackService, bad: dict, field: str
) -> None:
    with pytest.raises(ValidationError) as err:
        await service.submit(bad)
    assert err.value.field == field
    assert any("\u4e00" <= ch <= "\u9fff" for ch in err.value.message)


async def test_a_code_with_undecodable_bytes_is_just_wrong(service: FeedbackService) -> None:
    # A header's raw bytes arrive as lone surrogates; they must not reach the hash function.
    result = await service.submit(dict(REPORT))
    with pytest.raises(NotFound):
        await service.status(result.tracking_number, "\udcc3\udca9ABCD")
