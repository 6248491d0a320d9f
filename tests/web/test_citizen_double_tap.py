"""A citizen on a slow phone taps 提交评价, 申请复查 or 领取积分 twice: the browser sends the form
twice and shows the answer to the second. The first was taken; the second finds the report
already moved on. The citizen sees the report as it now is -- the rating, the review, the
points -- with a word on why nothing more was done, never a bare error page that reads as if
the first had failed."""

from __future__ import annotations

from feedback import incentives
from feedback.service import FeedbackService
from tests.conftest import SUPERVISOR, staff
from tests.web.conftest import MakeVisitor, submit

ANSWER = "经核查，执法队员确未开具票据，已责令补开并退还多收的款项，对相关人员批评教育。"


async def answered(service: FeedbackService, tn: str) -> None:
    await service.assign(SUPERVISOR, tn, "zhzf", issue_types=["abuse_of_power"])
    await service.accept(staff("zhzf"), tn)
    await service.answer(staff("zhzf"), tn, ANSWER)


async def test_rating_twice_shows_the_rating_taken(
    visitor: MakeVisitor, service: FeedbackService
) -> None:
    citizen = await visitor()
    tn, code = await submit(citizen)
    await answered(service, tn)
    await citizen.post("/track", {"tn": tn, "code": code})
    rating = {"tn": tn, "rating": "unsatisfied", "comment": "票据至今没有补开"}
    status, html = await citizen.post("/track/rate", rating)
    assert status == 200 and "诉求已退回承办单位重新办理" in html

    status, html = await citizen.post("/track/rate", rating)
    assert status == 409
    assert "办理进度" in html and tn in html and "重新办理中" in html  # the report as it is
    assert "票据至今没有补开" in html  # the rating the first tap gave, in the history
    assert "只有已答复、待评价的诉求才能评价" in html and 'role="alert"' in html
    report = await service.store.get_report(tn)
    assert report is not None and report.status.value == "reopened"


async def test_review_and_points_twice_show_the_report_as_it_is(
    visitor: MakeVisitor, service: FeedbackService
) -> None:
    citizen = await visitor()
    tn, code = await submit(citizen)
    await answered(service, tn)
    await incentives.substantiate(service, SUPERVISOR, tn, True, "经核查情况属实")
    await citizen.post("/track", {"tn": tn, "code": code})
    status, html = await citizen.post("/track/rate", {"tn": tn, "rating": "satisfied"})
    assert status == 200 and "感谢您的评价" in html

    status, html = await citizen.post("/track/claim", {"tn": tn})
    assert status == 200 and "已领取 50 分监督积分" in html
    status, html = await citizen.post("/track/claim", {"tn": tn})
    assert status == 409 and "积分已经领取过了" in html
    assert "办理进度" in html and "（已领取）" in html

    why = {"tn": tn, "reason": "答复说已补开票据，但我没有收到。"}
    status, html = await citizen.post("/track/review", why)
    assert status == 200 and "复查申请已提交" in html
    status, html = await citizen.post("/track/review", why)
    assert status == 409 and "只有已办结的诉求才能申请复查" in html
    assert "办理进度" in html and "复查中" in html
