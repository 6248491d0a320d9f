"""Every handled report teaches: the workflow's decisions are kept as labels, with who gave
them and when, whether the model was right or wrong."""

from __future__ import annotations

from feedback import incentives, labels
from feedback.models import Status
from feedback.service import FeedbackService
from tests.conftest import SUPERVISOR, Clock, staff

WAGES = {
    "title": "讨薪",
    "text": "公司拖欠我们农民工工资三个月了，老板一直不给，请劳动监察帮忙讨薪。",
}


async def _labels_of(service: FeedbackService, tn: str) -> list[labels.Label]:
    report = await service.store.get_report(tn)
    assert report is not None and report.id is not None
    return await labels.of_report(service.store, report.id)


async def test_a_bureau_signs_for_a_correctly_routed_report_and_the_label_is_kept(
    routed: FeedbackService, clock: Clock
) -> None:
    result = await routed.submit(dict(WAGES))
    assert result.status is Status.ROUTED and result.department == "rsj"
    clock.advance(hours=2)
    await routed.accept(staff("rsj"), result.tracking_number)
    [label] = await _labels_of(routed, result.tracking_number)
    assert (label.target, label.labels, label.source) == ("department", ["rsj"], "accept")
    assert label.right and label.predicted == ["rsj"]
    assert label.actor_id == "rsj-staff" and label.created_at == clock.now
    [counted] = await labels.effective(routed.store, "department")
    assert counted.text == WAGES["text"]


async def test_a_send_back_then_signing_keeps_only_the_bureau_that_took_it(
    service: FeedbackService,
) -> None:
    result = await service.submit(
        {"title": "商铺占用人行道", "text": "楼下商铺长期把货物堆到人行道上，行人只能走机动车道。"}
    )
    tn = result.tracking_number
    await service.assign(SUPERVISOR, tn, "zjj", issue_types=[])
    await service.send_back(staff("zjj"), tn, "占道经营属于城管执法事项", "zhzf")
    await service.accept(staff("zhzf"), tn)
    given = [
        (x.source, x.labels) for x in await _labels_of(service, tn) if x.target == "department"
    ]
    assert given == [("assign", ["zjj"]), ("accept", ["zhzf"])]
    # the triage desk's "no issue type" is a label too
    assert [x.labels for x in await labels.effective(service.store, "issue_type")] == [[]]
    assert [x.labels for x in await labels.effective(service.store, "department")] == [["zhzf"]]


async def test_the_supervisors_binding_ruling_is_a_label(service: FeedbackService) -> None:
    result = await service.submit(
        {"title": "占道", "text": "门口马路被摊贩占了，天天堵车，没人管。"}
    )
    tn = result.tracking_number
    await service.assign(staff("sfj"), tn, "zjj")
    await service.send_back(staff("zjj"), tn, "不属于住建职责范围", "zhzf")
    await service.send_back(staff("zhzf"), tn, "不属于城管职责范围", "zjj")
    await service.assign(SUPERVISOR, tn, "zhzf", note="摊点管理属城管职责")
    sources = [(x.source, x.labels, x.actor_id) for x in await _labels_of(service, tn)]
    assert ("arbitration", ["zhzf"], SUPERVISOR.id) in sources


async def test_answer_confirms_issue_types_and_the_clerk_may_change_them(
    routed: FeedbackService,
) -> None:
    result = await routed.submit(
        {
            "title": "罚款没有决定书",
            "text": "城管执法人员在般阳路没收了我的三轮车，还罚款三百元，"
            "没有出具处罚决定书，也没让我陈述申辩。",
        }
    )
    tn = result.tracking_number
    predicted = list(result.report.issue_types)
    assert "improper_procedure" in predicted
    bureau = result.department or "zhzf"
    if result.status is Status.TRIAGE:
        await routed.assign(staff("sfj"), tn, bureau)
    await routed.accept(staff(bureau), tn)
    report = await routed.answer(
        staff(bureau), tn, "经核查，执法队员未出具决定书，已责令改正并退还罚款。",
        ["improper_procedure", "abuse_of_power"],
    )  # fmt: skip
    assert report.issue_types == ["improper_procedure", "abuse_of_power"]
    [types] = [x for x in await _labels_of(routed, tn) if x.target == "issue_type"]
    assert types.source == "answer" and types.predicted == predicted
    assert types.labels == ["improper_procedure", "abuse_of_power"] and not types.right
    view = await routed.staff_view(SUPERVISOR, tn)
    answered = [e for e in view.events if e.action == "answer"][0]
    assert answered.details["issue_types"] == ["improper_procedure", "abuse_of_power"]


async def test_an_answer_without_the_form_confirms_nothing(service: FeedbackService) -> None:
    result = await service.submit(dict(WAGES))
    tn = result.tracking_number
    await service.assign(staff("sfj"), tn, "rsj")
    await service.accept(staff("rsj"), tn)
    await service.answer(staff("rsj"), tn, "已联系用人单位，工资已于本周发放到位。")
    assert [x.target for x in await _labels_of(service, tn)] == ["department", "department"]


async def test_substantiation_and_review_confirm_issue_types(
    service: FeedbackService, clock: Clock
) -> None:
    result = await service.submit(dict(WAGES))
    tn, code = result.tracking_number, result.follow_up_code
    await service.assign(staff("sfj"), tn, "rsj", issue_types=["inaction"])
    await service.accept(staff("rsj"), tn)
    await service.answer(staff("rsj"), tn, "已联系用人单位，工资已于本周发放到位。", ["inaction"])
    await incentives.substantiate(service, SUPERVISOR, tn, True, "劳动监察确有拖延")
    await service.rate(tn, code, "unsatisfied")
    await service.answer(staff("rsj"), tn, "再次督促后，拖欠工资已全部结清。", ["inaction"])
    await service.rate(tn, code, "basically_satisfied")
    clock.advance(days=2)
    await service.request_review(tn, code, "单位仍然拖欠加班费，没有处理完")
    await service.decide_review(SUPERVISOR, tn, False, "经复查，已按规定处理")
    found = [
        (x.source, x.labels) for x in await _labels_of(service, tn) if x.target == "issue_type"
    ]
    assert found == [("assign", ["inaction"]), ("answer", ["inaction"]),
                     ("substantiate", ["inaction"]), ("answer", ["inaction"]),
                     ("review", ["inaction"])]  # fmt: skip
    assert len(await labels.effective(service.store, "issue_type")) == 1
