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


async def test_supervisor_escalates_once_with_a_reason_then_reassigns(
    browser: Any, server: TestServer, service: FeedbackService
) -> None:
    base = str(server.make_url("")).rstrip("/")
    (tn,) = await filed(service, 1)

    for viewport, size in ((DESKTOP, "1280"), (PHONE, "390")):
        sup = await login(browser, base, "sup1", viewport)
        await sup.goto(f"{base}/staff/reports/{tn}")
        await shot(sup, f"clerk-report-supervisor-{size}")
        await sup.context.close()

    sup = await login(browser, base, "sup1", DESKTOP)
    await sup.goto(f"{base}/staff/reports/{tn}")
    # A fresh report is not overdue: 督办 without a reason is refused, the form says why.
    assert "必须填写" in await sup.inner_text("#escalate-form")
    await sup.click("#do-escalate")
    assert "督办理由" in await sup.inner_text("#escalate-note-error")
    await sup.fill("#f-es-note", "群众多次来电反映，请优先办理")
    await sup.click("#do-escalate")
    assert "已督办（1 级）" in await sup.inner_text(".notice.ok")
    # No second 督办 button until the window has passed; the page says when.
    assert await sup.locator("#do-escalate").count() == 0
    assert "后可再次督办" in await sup.inner_text("#escalate-later")
    assert "督办 1 级" in await sup.inner_text(".status-line")
    await shot(sup, "clerk-escalated-once-1280")

    # 改派: the bureau is wrong; the reason is required and lands in the record.
    await sup.select_option("#f-ra-dept", "zjj")
    await sup.click("#do-reassign")
    assert "改派理由" in await sup.inner_text("#reassign-reason-error")
    assert await sup.input_value("#f-ra-dept") == "zjj"  # the choice is kept
    await sup.fill("#f-ra-reason", "夜间施工属住建部门监管，改由住建局办理。")
    await sup.click("#do-reassign")
    assert "已改派至 区住房和城乡建设局" in await sup.inner_text(".notice.ok")
    assert "区住房和城乡建设局" in await sup.inner_text("#department")
    assert "夜间施工属住建部门监管" in await sup.inner_text("#record")
    await shot(sup, "clerk-reassigned-1280")

    # The new bureau's clerk finds it by number in 待签收, with a fresh sign-for deadline.
    clerk = await login(browser, base, "zjj1", PHONE)
    await clerk.fill("#f-q", tn)
    await clerk.click("button:has-text('筛选')")
    assert tn in await clerk.inner_text("table.queue")
    await clerk.click(f"a:has-text('{tn}')")
    assert await clerk.locator("#do-accept").count() == 1
    await shot(clerk, "clerk-reassigned-new-bureau-390")
