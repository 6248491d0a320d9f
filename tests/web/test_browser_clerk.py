"""The clerk's and the supervisor's day in a real browser (Debian's Chromium, headless, JS off):
finding a report by its number, and the desk's own actions. Screenshots at 1280 and 390 px go
to test-artifacts/screenshots/ (clerk-*.png) for a person to look at."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestServer

from feedback.service import FeedbackService
from tests.browser import MARKS, new_page, shot
from tests.conftest import SUPERVISOR
from tests.web.conftest import PASSWORD, REPORT_FORM

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

pytestmark = MARKS


async def login(browser: Any, base: str, username: str, viewport: dict[str, int]) -> Any:
    page = await new_page(browser, viewport)
    await page.goto(base + "/staff/login")
    await page.fill("#f-username", username)
    await page.fill("#f-password", PASSWORD)
    await page.click("button:has-text('登录')")
    return page


async def filed(service: FeedbackService, n: int, department: str = "zhzf") -> list[str]:
    out = []
    for i in range(n):
        result = await service.submit({**REPORT_FORM, "anonymous": True,
                                       "title": f"{REPORT_FORM['title']}（{i + 1}）"})  # fmt: skip
        await service.assign(SUPERVISOR, result.tracking_number, department)
        out.append(result.tracking_number)
    return out


async def test_clerk_types_a_number_from_the_phone_call_and_finds_the_report(
    browser: Any, server: TestServer, service: FeedbackService
) -> None:
    base = str(server.make_url("")).rstrip("/")
    numbers = await filed(service, 12)
    wanted = numbers[6]  # a citizen on the phone reads out "二〇二六年第七号"

    for viewport, size in ((DESKTOP, "1280"), (PHONE, "390")):
        clerk = await login(browser, base, "zhzf1", viewport)
        # Typed with the input method's full-width dash and in lower case.
        await clerk.fill("#f-q", wanted.lower().replace("-", "－"))
        await clerk.click("button:has-text('筛选')")
        assert "共 1 件" in await clerk.inner_text("#result-count")
        rows = clerk.locator("table.queue tbody tr")
        assert await rows.count() == 1
        assert wanted in await rows.first.inner_text()
        await shot(clerk, f"clerk-search-by-number-{size}")
        # Only the last digits, as people remember them.
        await clerk.fill("#f-q", wanted[-2:])
        await clerk.click("button:has-text('筛选')")
        assert [t.strip() for t in await clerk.locator("table.queue a.mono").all_inner_texts()] == [
            wanted
        ]
        await clerk.click(f"a:has-text('{wanted}')")
        assert wanted in await clerk.inner_text("main")
        await clerk.context.close()

    # Once signed for, the number is not in 待签收: the page leads to where it is.
    clerk = await login(browser, base, "zhzf1", DESKTOP)
    await clerk.goto(f"{base}/staff/reports/{wanted}")
    await clerk.click("#do-accept")
    await clerk.goto(base + "/staff?queue=new")
    await clerk.fill("#f-q", wanted)
    await clerk.click("button:has-text('筛选')")
    assert "在全部诉求中找到 1 件" in await clerk.inner_text("#search-elsewhere")
    await clerk.click("#search-elsewhere a")
    assert wanted in await clerk.inner_text("table.queue")
    assert "已签收" in await clerk.inner_text("table.queue")
