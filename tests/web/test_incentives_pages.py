"""社会监督激励 on the pages: the supervisor marks a report 查实, the citizen claims the points."""

from __future__ import annotations

from feedback.service import FeedbackService
from tests.conftest import SUPERVISOR, staff
from tests.web.conftest import MakeVisitor, submit


async def test_supervisor_substantiates_and_citizen_claims_points(
    visitor: MakeVisitor, service: FeedbackService
) -> None:
    citizen = await visitor()
    tn, code = await submit(citizen)
    await service.assign(SUPERVISOR, tn, "zhzf", issue_types=["abuse_of_power"])
    await service.accept(staff("zhzf"), tn)
    await service.answer(staff("zhzf"), tn, "经调查属实，已退还罚款并处理相关执法人员。")

    bureau = await visitor("zhzf1")
    status, html = await bureau.get(f"/staff/reports/{tn}")
    assert status == 200 and "查实认定" not in html  # only supervisors decide

    sup = await visitor("sup1")
    status, html = await sup.get(f"/staff/reports/{tn}")
    assert "查实认定" in html
    status, html = await sup.post(f"/staff/reports/{tn}/substantiate", {"note": "核查属实"})
    assert status == 400 and "请选择查实或不属实" in html
    status, html = await sup.post(
        f"/staff/reports/{tn}/substantiate", {"substantiated": "1", "note": "经核查情况属实"}
    )
    assert status == 200 and "诉求人获得 50 分监督积分" in html

    status, html = await citizen.post("/track", {"tn": tn, "code": code})
    assert status == 200 and "50 分" in html and "领取积分" in html
    status, html = await citizen.post("/track/claim", {"tn": tn, "code": code})
    assert status == 200 and "已领取 50 分监督积分" in html and "（已领取）" in html
    status, html = await citizen.post("/track/claim", {"tn": tn, "code": "WRONG"})
    assert status == 404
