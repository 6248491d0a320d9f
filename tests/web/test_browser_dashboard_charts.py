"""The supervisor reads the dashboard's charts on a phone: text at its size, a short month said.

Debian's Chromium, headless, JavaScript off (tests/browser.py); screenshots in
test-artifacts/screenshots/ (dashboard-charts-phone.png, dashboard-charts-desk.png).
"""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestServer

from feedback.service import FeedbackService
from tests.browser import MARKS, SHOTS, new_page, shot
from tests.conftest import SUPERVISOR, Clock, staff
from tests.web.conftest import PASSWORD, REPORT_FORM

pytestmark = MARKS

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
BUREAUS = ["zhzf", "zjj", "zrzy"]

# Each chart text as the reader sees it: its font size on the screen, and whether it stays
# inside its chart.
READ_CHARTS = """() => [...document.querySelectorAll('svg.chart')].map(svg => {
    const box = svg.getBoundingClientRect();
    return {kind: svg.classList.contains('bars') ? 'bars' : 'line',
            texts: [...svg.querySelectorAll(':scope > text')].map(t => {
                const r = t.getBoundingClientRect();
                return {text: t.textContent,
                        px: parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a,
                        inside: r.left >= box.left - 1 && r.right <= box.right + 1};
            }),
            hollow: [...svg.querySelectorAll('circle')].filter(
                c => c.getAttribute('fill') === '#fff').map(c => c.textContent)};
})"""


async def test_the_charts_read_on_a_phone_and_say_the_month_is_not_over(
    browser: Any, server: TestServer, service: FeedbackService, clock: Clock
) -> None:
    # Reports in February and in the first days of March (today is 10 March) to three bureaus.
    clock.advance(days=-30)
    for i in range(9):
        result = await service.submit(dict(REPORT_FORM, anonymous=True))
        tn, bureau = result.tracking_number, BUREAUS[i % 3]
        await service.assign(SUPERVISOR, tn, bureau)
        if i % 2 == 0:
            await service.accept(staff(bureau), tn)
            await service.answer(staff(bureau), tn, "经查，已于当日清理完毕，并责令整改。")
        clock.advance(days=3, hours=8)
    assert clock.now.month == 3 and clock.now.day == 10
    base = str(server.make_url("")).rstrip("/")
    for name, viewport in (("phone", PHONE), ("desk", DESKTOP)):
        page = await new_page(browser, viewport)
        await page.goto(base + "/staff/login")
        await page.fill("#f-username", "sup1")
        await page.fill("#f-password", PASSWORD)
        await page.click("button:has-text('登录')")
        await page.goto(base + "/staff/dashboard")
        await shot(page, f"dashboard-charts-{name}")
        for k in range(await page.locator("figure:has(svg.chart)").count()):
            figure = page.locator("figure:has(svg.chart)").nth(k)
            await figure.screenshot(path=str(SHOTS / f"dashboard-chart-{k + 1}-{name}.png"))
        charts = await page.evaluate(READ_CHARTS)
        assert [c["kind"] for c in charts] == ["bars", "line", "line", "bars"]
        ranking = charts[0]
        assert any("城管" in t["text"] or "执法" in t["text"] for t in ranking["texts"])
        for chart in charts:
            for t in chart["texts"]:
                # 12 px at the least on any screen (a 640-wide drawing scaled to a phone
                # made them 7 px), and no label cut at the chart's edge.
                assert t["px"] >= 11.5, (name, chart["kind"], t)
                assert t["inside"], (name, chart["kind"], t)
        # The trend's last month is March up to today: marked on both trend charts, said in
        # their captions and in the table.
        for chart in charts[1:3]:
            assert chart["texts"][-1]["text"] == "2026-03*"
            assert any("2026-03（截至3月10日，不完整）" in h for h in chart["hollow"]), chart
        caption = await page.inner_text("#trend-chart-note")
        assert "不完整" in caption and "2026-03（截至3月10日）" in caption
        rows = await page.locator("#trend tbody th").all_text_contents()
        assert rows[-1].strip() == "2026-03（截至3月10日）"
        assert "2026-02" in [r.strip() for r in rows]  # a whole month says nothing more
        assert await page.evaluate("document.documentElement.scrollWidth") <= viewport["width"] + 1
