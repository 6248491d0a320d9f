"""社会监督激励 on the pages: the supervisor marks a report 查实, the citizen claims the points."""

from __future__ import annotations

import re

from feedback.service import FeedbackService
from tests.conftest import SUPERVISOR, staff
from tests.web.conftest import MakeVisitor, submit

ANSWER = "经核查，执法队员确未开具票据，已责令补开并退还多收的款项，对相关人员批评教育。"


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


async def test_points_are_explained_where_the_citizen_sees_them(
    visitor: MakeVisitor, service: FeedbackService
) -> None:
    from feedback import incentives

    citizen = await visitor()
    tn, code = await submit(citizen)
    await service.assign(SUPERVISOR, tn, "zhzf", issue_types=["abuse_of_power"])
    await service.accept(staff("zhzf"), tn)
    await service.answer(staff("zhzf"), tn, ANSWER)
    await incentives.substantiate(service, SUPERVISOR, tn, True, "经核查情况属实")

    status, html = await citizen.post("/track", {"tn": tn, "code": code})
    assert status == 200 and 'id="points-about"' in html
    about = re.search(r'id="points-about">(.*?)</p>', html, re.S)
    assert about
    assert "社会监督激励" in about.group(1) and "凭受理编号和查询码领取" in about.group(1)
    assert "兑换办法以区司法局公布为准" in about.group(1)
    status, html = await citizen.post("/track/claim", {"tn": tn, "code": code})
    assert "已领取 50 分监督积分" in html and "兑换办法以区司法局公布为准" in html
    assert 'id="points-about"' in html  # still explained once claimed
