"""附议 counts people, not requests: a script that drops its cookie after every voice cannot
add more than a few dozen voices an hour from one address."""

from __future__ import annotations

import re

from feedback.service import FeedbackService
from feedback.settings import Settings
from tests.conftest import SUPERVISOR, Clock, staff
from tests.web.conftest import REPORT_FORM, MakeVisitor

ANSWER = (
    "经核查，反映的执法人员罚款未出具票据属实。依据《中华人民共和国行政处罚法》第七十条，"
    "已责令当事执法人员补开罚款票据并退还多收款项，对其进行批评教育，并在全局通报。"
)


async def published_report(service: FeedbackService) -> int:
    data = {k: REPORT_FORM[k] for k in ("title", "text", "place", "authority")}
    done = await service.submit(data)
    tn = done.tracking_number
    if done.department != "zhzf":
        await service.assign(SUPERVISOR, tn, "zhzf")
    await service.accept(staff("zhzf"), tn)
    report = await service.answer(staff("zhzf"), tn, ANSWER)
    assert report.id is not None
    return report.id


async def test_one_address_dropping_its_cookies_cannot_stuff_the_support_count(
    visitor: MakeVisitor, service: FeedbackService, clock: Clock
) -> None:
    SUPPORT_PER_HOUR = Settings().support_per_hour  # noqa: N806 - the shipped limit
    rid = await published_report(service)
    counted = 0
    for _ in range(SUPPORT_PER_HOUR + 5):
        v = await visitor()  # a fresh cookie jar: a "new browser" every time
        await v.get("/report")
        status, page = await v.post("/public/support", {"report": str(rid)})
        if "感谢您的附议" in page:
            counted += 1
        else:
            assert status == 429 and "附议过于频繁" in page, page[:300]
    assert counted == SUPPORT_PER_HOUR
    assert (await service.insight.support_counts([rid]))[rid] == SUPPORT_PER_HOUR
    # After the hour the address is heard again.
    clock.advance(minutes=61)
    v = await visitor()
    await v.get("/report")
    status, page = await v.post("/public/support", {"report": str(rid)})
    assert "感谢您的附议" in re.sub(r"<[^>]+>", "", page)
    assert (await service.insight.support_counts([rid]))[rid] == SUPPORT_PER_HOUR + 1
