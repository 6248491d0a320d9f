"""The bureau's reason for more time is written by staff, unmasked, and may name the people
of the case: the citizen reads it on their status page; Open311's public feeds do not."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from feedback.service import FeedbackService
from tests.conftest import SUPERVISOR, staff
from tests.web.conftest import REPORT_FORM, MakeVisitor

REASON = "需调取执法记录仪视频并询问当事人王建国（电话 13912345678），案情复杂。"


async def extended_report(service: FeedbackService) -> tuple[str, str]:
    data = {k: REPORT_FORM[k] for k in ("title", "text", "place", "authority")}
    done = await service.submit(data)
    tn = done.tracking_number
    if done.department != "zhzf":
        await service.assign(SUPERVISOR, tn, "zhzf")
    await service.accept(staff("zhzf"), tn)
    await service.request_extension(staff("zhzf"), tn, 5, REASON)
    await service.decide_extension(SUPERVISOR, tn, True, "同意")
    return tn, done.follow_up_code


async def test_open311_feeds_do_not_publish_the_extension_reason(
    visitor: MakeVisitor, service: FeedbackService
) -> None:
    tn, code = await extended_report(service)
    anyone = await visitor()
    now = service.clock()
    window = "?" + urlencode({"start_date": (now - timedelta(hours=1)).isoformat(),
                              "end_date": (now + timedelta(hours=1)).isoformat()})  # fmt: skip
    for path in (
        "/open311/v2/servicerequestupdates.json" + window,
        "/open311/v2/servicerequestupdates.xml" + window,
        f"/open311/v2/requests/{tn}.json",
        f"/open311/v2/requests.json?service_request_id={tn}",
    ):
        resp = await anyone.client.get(path)
        body = await resp.text()
        assert resp.status == 200, body[:300]
        assert "延期" in body or "\\u5ef6\\u671f" in body, (path, body[:300])
        for private in ("王建国", "13912345678", "执法记录仪"):
            assert private not in body and private.encode("unicode_escape").decode() not in body
    # The citizen, with the code, still reads why the answer comes later.
    citizen = await visitor()
    await citizen.get("/track")
    status, page = await citizen.post("/track", {"tn": tn, "code": code})
    assert status == 200 and "延期 5 个工作日" in page and REASON in page
