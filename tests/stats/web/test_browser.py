"""In a real browser: the supervisor's dashboard and the public page show the right figures.

Debian's Chromium, headless, JavaScript off; screenshots go to test-artifacts/screenshots/.
Never downloads a browser: without /usr/bin/chromium these tests are skipped.
"""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestServer

from feedback.service import FeedbackService
from tests.browser import MARKS, SHOTS
from tests.conftest import Clock
from tests.stats.scenario import build
from tests.web.conftest import PASSWORD

pytestmark = MARKS


async def page_for(browser: Any, width: int, height: int) -> Any:
    context = await browser.new_context(
        viewport={"width": width, "height": height}, java_script_enabled=False, locale="zh-CN"
    )
    return await context.new_page()


async def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


async def test_supervisor_dashboard_and_public_page(
    browser: Any, server: TestServer, service: FeedbackService, clock: Clock
) -> None:
    s = await build(service, clock)
    base = str(server.make_url("")).rstrip("/")

    page = await page_for(browser, 1280, 900)
    await page.goto(base + "/staff/dashboard?from=2026-03-01&to=2026-03-31")
    assert "/staff/login" in page.url  # not without logging in
    await page.fill("#f-username", "sup1")
    await page.fill("#f-password", PASSWORD)
    await page.click("button:has-text('登录')")
    await page.goto(base + "/staff/dashboard?from=2026-03-01&to=2026-03-31&period=week")
    assert await page.inner_text("#kpi-received") == "5"
    assert await page.inner_text("#kpi-answer_on_time_rate") == "66.7%"
    row = page.locator("#ranking tr[data-key='zjj'] td[data-name='answer_on_time_rate']")
    assert await row.inner_text() == "100.0%"
    assert await page.locator("svg.chart").count() == 4
    await shot(page, "stats-01-dashboard")

    # One click on 督办 in the overdue list, the next day (the scenario's 督办 of D was at
    # 23:00: within escalate_repeat_minutes of it the row says when it can be taken again).
    assert "后可再次督办" in await page.inner_text(f"#overdue tr:has-text('{s.d}')")
    clock.advance(hours=10)
    await page.reload()
    await page.click(f"#overdue tr:has-text('{s.d}') button:has-text('督办')")
    assert f"已督办 {s.d}" in await page.inner_text("main")
    assert "from=2026-03-01" in page.url

    public = await page_for(browser, 390, 844)  # a phone
    await public.goto(base + "/public")
    assert await public.inner_text("#public-total") == "5"
    assert "少于5件" in await public.inner_text("#public-figures")
    await shot(public, "stats-02-public-phone")
