"""The pages people reach when something goes wrong pass axe-core too, at 1280 and 390 px: a
search that is too long, an SMS's short link that opens nothing, a page the account may not
open (403), and the forms re-shown after the session expired with what was typed kept (issue
20, part 2)."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestServer

from feedback.service import FeedbackService
from tests.browser import AXE_BLOCKING, MARKS, axe_page, axe_source, axe_violations, shot
from tests.conftest import SUPERVISOR, staff
from tests.web.conftest import PASSWORD, REPORT_FORM

pytestmark = MARKS

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
ANSWER = "经核查，执法队员确未开具票据，已责令补开并退还罚款，对相关人员批评教育。"
STALE = "document.querySelectorAll('input[name=csrf_token]').forEach(e => e.value = 'stale')"


async def blocking(page: Any, name: str) -> list[str]:
    found = []
    source = axe_source()
    for label, viewport in (("1280", DESKTOP), ("390", PHONE)):
        await page.set_viewport_size(viewport)
        for v in await axe_violations(page, source):
            if v["impact"] in AXE_BLOCKING:
                found.append(f"{name} @{label}px [{v['impact']}] {v['id']}: {v['help']}")
        await shot(page, f"a11y-error-{name}-{label}")
    await page.set_viewport_size(DESKTOP)
    return found


async def test_error_pages_and_kept_forms_pass_axe(
    browser: Any, server: TestServer, service: FeedbackService
) -> None:
    base = str(server.make_url("")).rstrip("/")
    failures: list[str] = []

    # A visitor follows a search link with a whole sentence in it (the box itself stops at
    # the limit, a link does not).
    public = await axe_page(browser, DESKTOP)
    await public.goto(base + "/public?q=" + "执法人员没有出示证件也没有开具罚款票据" * 2)
    assert "搜索词不能超过" in await public.inner_text("main")
    failures += await blocking(public, "public-search-too-long")
    # An SMS's short link mistyped from the phone's screen (an expired one is the same page).
    response = await public.goto(base + "/r/abcdefghij")
    assert response is not None and response.status == 404
    assert "链接无效" in await public.inner_text("main")
    failures += await blocking(public, "short-link-unknown")

    # A citizen's report form, sent after the session behind it expired: shown again, text kept.
    citizen = await axe_page(browser, PHONE)
    await citizen.goto(base + "/report")
    await citizen.fill("#f-text", REPORT_FORM["text"])
    await citizen.evaluate(STALE)
    await citizen.click("button[type=submit]")
    assert await citizen.input_value("#f-text") == REPORT_FORM["text"]
    failures += await blocking(citizen, "report-form-expired")

    # A clerk opens a supervisor's page (403), then answers with an expired session.
    result = await service.submit({**REPORT_FORM, "anonymous": "1"})
    tn = result.tracking_number
    await service.assign(SUPERVISOR, tn, "zhzf")
    await service.accept(staff("zhzf"), tn)
    clerk = await axe_page(browser, DESKTOP)
    await clerk.goto(base + "/staff/login")
    await clerk.fill("#f-username", "zhzf1")
    await clerk.fill("#f-password", PASSWORD)
    await clerk.click("button:has-text('登录')")
    response = await clerk.goto(base + "/staff/notices")
    assert response is not None and response.status == 403
    failures += await blocking(clerk, "error-403")
    await clerk.goto(base + f"/staff/reports/{tn}")
    await clerk.fill("#f-answer", ANSWER)
    await clerk.evaluate(STALE)
    await clerk.click("#do-answer")
    assert "页面已过期" in await clerk.inner_text("main")
    assert await clerk.input_value("#f-answer") == ANSWER
    failures += await blocking(clerk, "answer-form-expired")

    assert not failures, "\n" + "\n".join(failures)
