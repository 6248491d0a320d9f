"""A citizen on a phone pastes what phones share: a map app's location link as the place, a
WeChat article link as the first line of the text (so the automatic title is the link), a long
work e-mail address. At 390 px no page the report shows up on -- the preview, the status page,
the staff page, the public page -- is wider than the screen: a word longer than the line
breaks, as the report text always did. Screenshots: test-artifacts/screenshots/long-words-*.png."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestServer

from feedback.service import FeedbackService
from tests.browser import MARKS, new_page, shot
from tests.conftest import SUPERVISOR, staff
from tests.web.test_browser_clerk import PHONE, login

pytestmark = MARKS

PLACE = "https://uri.amap.com/marker?position=118.0523,36.6437&name=%E8%88%AC%E9%98%B3%E8%B7%AF"
LINK = "https://mp.weixin.qq.com/s/Xk3bQ9vLzP2mNq8RtYw4Hg_aBcDeFgHiJk"
TEXT = LINK + "\n城管执法人员在般阳路罚款两百元，没有出具任何票据和处罚决定书，也没有出示执法证件。"
EMAIL = "zhang.san.complaints.department.office@zichuan-enterprise-holdings.example.com"
ANSWER = "经核查，执法队员确未开具票据，已责令补开并退还罚款，对相关人员批评教育。"


async def wider_than_the_screen(page: Any) -> list[str]:
    """The elements whose content runs past their own box, on a page wider than the screen."""
    return list(
        await page.evaluate(
            """() => {
              if (document.documentElement.scrollWidth <= document.documentElement.clientWidth)
                return [];
              return [...document.querySelectorAll('main *')]
                .filter(e => e.scrollWidth > e.clientWidth + 1 && e.clientWidth > 0)
                .map(e => e.tagName + ' ' + (e.innerText || '').slice(0, 30));
            }"""
        )
    )


async def test_a_long_link_or_address_breaks_instead_of_widening_the_page(
    browser: Any, server: TestServer, service: FeedbackService
) -> None:
    base = str(server.make_url("")).rstrip("/")
    page = await new_page(browser, PHONE)
    await page.goto(base + "/report")
    await page.fill("#f-text", TEXT)
    await page.fill("#f-place", PLACE)
    await page.check("input[name=anonymous][value='0']")
    await page.fill("#f-contact_name", "张三")
    await page.fill("#f-notify_email", EMAIL)
    await page.click("#do-preview")
    assert await page.locator("#do-confirm").count()
    assert await wider_than_the_screen(page) == []
    await shot(page, "long-words-preview-390")
    await page.click("#do-confirm")
    tn = (await page.inner_text("#tracking-number")).strip()
    await page.click("button:has-text('查看办理进度')")
    assert tn in await page.inner_text("main")
    assert await wider_than_the_screen(page) == []
    await shot(page, "long-words-status-390")

    report = await service.report(tn)
    assert report is not None and report.title.startswith("https://mp.weixin.qq.com")
    await service.assign(SUPERVISOR, tn, "zhzf")
    clerk = await login(browser, base, "zhzf1", PHONE)
    await clerk.goto(f"{base}/staff/reports/{tn}")
    assert PLACE in await clerk.inner_text("main")
    assert await wider_than_the_screen(clerk) == []
    await shot(clerk, "long-words-staff-390")

    await service.accept(staff("zhzf"), tn)
    await service.answer(staff("zhzf"), tn, ANSWER)
    for _ in range(4):  # the public page shows a bureau's reports from its fifth on
        other = await service.submit({"text": TEXT[len(LINK) + 1 :], "anonymous": True})
        await service.assign(SUPERVISOR, other.tracking_number, "zhzf")
    public = await new_page(browser, PHONE)
    await public.goto(f"{base}/public/reports/{tn}")
    assert ANSWER in await public.inner_text("main")
    assert await wider_than_the_screen(public) == []
