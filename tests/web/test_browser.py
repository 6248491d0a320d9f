"""The stories in a real browser: Debian's Chromium, headless, against the app on 127.0.0.1.

Screenshots of the key pages go to test-artifacts/screenshots/ so a person can look at them.
Never downloads a browser: without /usr/bin/chromium these tests are skipped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestServer

from feedback.models import Status
from feedback.service import FeedbackService
from tests.browser import MARKS, new_page, send_report, shot
from tests.web.conftest import PASSWORD, REPORT_FORM, png_bytes

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

pytestmark = MARKS


async def staff_login(browser: Any, base: str, username: str) -> Any:
    page = await new_page(browser, DESKTOP)
    await page.goto(base + "/staff/login")
    await page.fill("#f-username", username)
    await page.fill("#f-password", PASSWORD)
    await page.click("button:has-text('登录')")
    return page


async def test_citizen_reports_staff_answer_citizen_rates_other_bureau_refused(
    browser: Any, server: TestServer, service: FeedbackService, tmp_path: Path
) -> None:
    base = str(server.make_url("")).rstrip("/")
    photo = tmp_path / "现场照片.png"
    photo.write_bytes(png_bytes(64, 48, (180, 60, 40)))

    # A citizen on a phone: home, the form (first with a mistake), then the receipt.
    citizen = await new_page(browser, PHONE)
    await citizen.goto(base + "/")
    await shot(citizen, "01-home-phone")
    await citizen.click("a.button:has-text('我要反映问题')")
    await citizen.fill("#f-text", "太短")
    await citizen.fill("#f-place", REPORT_FORM["place"])
    await send_report(citizen)
    assert "诉求内容至少需要 10 个字" in await citizen.inner_text("#text-error")
    assert await citizen.input_value("#f-place") == REPORT_FORM["place"]
    await shot(citizen, "02-report-form-error-phone")
    await citizen.fill("#f-text", REPORT_FORM["text"])
    await citizen.fill("#f-title", REPORT_FORM["title"])
    await citizen.check("input[name=anonymous][value='0']")
    await citizen.fill("#f-contact_name", "张三")
    await citizen.fill("#f-contact_phone", "13800001234")
    await send_report(citizen, [str(photo)])
    tn = (await citizen.inner_text("#tracking-number")).strip()
    code = (await citizen.inner_text("#follow-up-code")).strip()
    assert tn.startswith("ZC-") and len(code) == 24
    await shot(citizen, "03-receipt-phone")

    await citizen.goto(base + "/track")
    await citizen.fill("#f-tn", tn)
    await citizen.fill("#f-code", code.lower())
    await citizen.click("button:has-text('查询')")
    assert "待人工分办" in await citizen.inner_text("#status")
    assert code not in citizen.url

    # The 司法局 triage desk assigns it to the 城管 bureau.
    desk = await staff_login(browser, base, "sfj1")
    await desk.goto(base + "/staff/triage")
    await shot(desk, "04-triage-queue")
    await desk.click(f"a:has-text('{tn}')")
    await desk.select_option("#f-as-dept", "zhzf")
    await desk.check("input[name=issue_types][value=opacity]")
    await desk.click("#do-assign")
    assert "已分派" in await desk.inner_text(".notice.ok")

    # The bureau logs in, signs for it, sees the photo, answers.
    bureau = await staff_login(browser, base, "zhzf1")
    assert "待签收" in await bureau.inner_text("nav.tabs")
    await shot(bureau, "05-bureau-queue")
    await bureau.click(f"a:has-text('{tn}')")
    assert "13800001234" in await bureau.inner_text("#contact")
    await bureau.click("#do-accept")
    assert "已签收" in await bureau.inner_text(".notice.ok")
    img = bureau.locator(".attachments img")
    assert await img.count() == 1
    await bureau.fill(
        "#f-answer", "经核查，执法队员确未开具票据，已责令补开并退还罚款，对相关人员批评教育。"
    )
    await shot(bureau, "06-report-page-before-answer")
    await bureau.click("#do-answer")
    assert "已答复" in await bureau.inner_text("#status")
    await shot(bureau, "07-report-page-answered")

    # Another bureau cannot open it.
    other = await staff_login(browser, base, "zjj1")
    response = await other.goto(base + f"/staff/reports/{tn}")
    assert response is not None and response.status == 404
    assert "不属于本单位办理" in await other.inner_text("main")
    assert REPORT_FORM["text"] not in await other.content()
    await shot(other, "08-other-bureau-refused")

    # The citizen reads the answer and rates.
    await citizen.goto(base + "/track")
    await citizen.fill("#f-tn", tn)
    await citizen.fill("#f-code", code)
    await citizen.click("button:has-text('查询')")
    assert "退还罚款" in await citizen.inner_text("#answer")
    await shot(citizen, "09-follow-up-answered-phone")
    await citizen.check("input[name=rating][value=satisfied]")
    await citizen.fill("#f-comment", "处理及时")
    await citizen.click("button:has-text('提交评价')")
    assert "感谢您的评价" in await citizen.inner_text("main")
    assert "已办结" in await citizen.inner_text("#status")
    await shot(citizen, "10-rated-phone")

    report = await service.store.get_report(tn)
    assert report is not None and report.status is Status.CLOSED
    assert (await service.verify_records())[1] == []


async def test_staff_pages_on_a_phone(
    browser: Any, server: TestServer, service: FeedbackService
) -> None:
    base = str(server.make_url("")).rstrip("/")
    for _ in range(2):
        result = await service.submit(dict(REPORT_FORM, anonymous=True))
        await service.assign(
            __import__("tests.conftest", fromlist=["SUPERVISOR"]).SUPERVISOR,
            result.tracking_number,
            "zhzf",
        )
    page = await new_page(browser, PHONE)
    await page.goto(base + "/staff/login")
    await shot(page, "11-login-phone")
    await page.fill("#f-username", "zhzf1")
    await page.fill("#f-password", PASSWORD)
    await page.click("button:has-text('登录')")
    await shot(page, "12-queue-phone")
    # Nothing spills sideways on a phone.
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1


async def test_every_queue_tab_is_in_sight(browser: Any, server: TestServer) -> None:
    """A supervisor has a dozen queues: at 1280 px and on a phone none is cut off."""
    base = str(server.make_url("")).rstrip("/")
    for name, viewport in (("desk", DESKTOP), ("phone", PHONE)):
        page = await new_page(browser, viewport)
        await page.goto(base + "/staff/login")
        await page.fill("#f-username", "sup1")
        await page.fill("#f-password", PASSWORD)
        await page.click("button:has-text('登录')")
        tabs = page.locator("nav.tabs a")
        labels = [t.strip() for t in await tabs.all_inner_texts()]
        assert any(label.startswith("复查申请") for label in labels)
        assert labels[-1] == "全部"
        bar = await page.locator("nav.tabs ul").bounding_box()
        assert bar is not None
        for i in range(await tabs.count()):
            box = await tabs.nth(i).bounding_box()
            assert box is not None
            assert (
                box["x"] >= bar["x"] - 1 and box["x"] + box["width"] <= bar["x"] + bar["width"] + 1
            )
            assert box["x"] + box["width"] <= viewport["width"]
        assert await page.evaluate("document.documentElement.scrollWidth") <= viewport["width"] + 1
        await shot(page, f"13-supervisor-tabs-{name}")


async def test_receipt_clear_of_the_header_and_code_groups_whole(
    browser: Any, server: TestServer
) -> None:
    base = str(server.make_url("")).rstrip("/")
    for name, viewport in (
        ("desk", DESKTOP),
        ("phone", PHONE),
        ("small-phone", {"width": 320, "height": 640}),
    ):
        page = await new_page(browser, viewport)
        await page.goto(base + "/report")
        await page.fill("#f-text", REPORT_FORM["text"])
        await send_report(page)
        header = await page.locator("header.site").bounding_box()
        panel = await page.locator("section.panel.success").bounding_box()
        assert header is not None and panel is not None
        assert panel["y"] - (header["y"] + header["height"]) >= 12, name
        groups = page.locator("#follow-up-code .group")
        assert await groups.count() == 5
        for i in range(await groups.count()):
            lines = await groups.nth(i).evaluate("g => g.getClientRects().length")
            assert lines == 1, f"group {i} broken across lines on {name}"
        assert await page.evaluate("document.documentElement.scrollWidth") <= viewport["width"] + 1
        await shot(page, f"14-receipt-{name}")


async def test_only_the_wrong_field_is_red(browser: Any, server: TestServer) -> None:
    base = str(server.make_url("")).rstrip("/")
    page = await new_page(browser, PHONE)
    await page.goto(base + "/report")
    await page.fill("#f-text", REPORT_FORM["text"])
    await page.check("input[name=anonymous][value='0']")
    await page.fill("#f-contact_name", "张三")
    await page.fill("#f-contact_phone", "12345")
    await send_report(page)
    assert "手机号码" in await page.inner_text("#contact_phone-error")
    name = await page.locator("#f-contact_name").evaluate("e => getComputedStyle(e).borderTopColor")
    phone = await page.locator("#f-contact_phone").evaluate(
        "e => getComputedStyle(e).borderTopColor"
    )
    assert phone == "rgb(179, 38, 30)" and name != phone
    await shot(page, "15-phone-error-only-phone")


async def test_a_search_on_a_phone_lands_on_its_results(
    browser: Any, server: TestServer, service: FeedbackService
) -> None:
    """The figures and hot issues fill the first screens of /public on a phone: a search must
    bring the citizen to what it found, not back to the top of the page."""
    from tests.conftest import SUPERVISOR, staff

    base = str(server.make_url("")).rstrip("/")
    for i in range(5):  # a bureau's reports are published from five on
        result = await service.submit(
            dict(REPORT_FORM, title=f"三轮车被扣押{i}", text="执法队员强行扣押我的三轮车，至今不退还。")
        )  # fmt: skip
        tn = result.tracking_number
        await service.assign(SUPERVISOR, tn, "zhzf")
        await service.accept(staff("zhzf"), tn)
        await service.answer(staff("zhzf"), tn, "经核查，三轮车已于次日退还。")
    page = await new_page(browser, PHONE)
    await page.goto(base + "/public")
    await page.fill("input[name=q]", "扣押 三轮车")
    await page.press("input[name=q]", "Enter")
    await page.wait_for_load_state()
    report = page.locator(".public-report").first
    assert "三轮车被扣押" in await report.inner_text()
    assert await page.evaluate("window.scrollY") > 0
    box = await page.locator("#answered h2").bounding_box()
    assert box is not None and 0 <= box["y"] < PHONE["height"]
    await shot(page, "40-public-search-phone")
