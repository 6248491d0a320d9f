"""A citizen's habits in a real browser (Chromium, JavaScript off): reload the receipt, go Back
and press 提交 again, go Back from the status page. Screenshots at 390 and 1280 px go to
test-artifacts/screenshots/."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestServer

from feedback.service import FeedbackService
from feedback.store import ReportFilter
from tests.browser import MARKS, new_page, send_report, shot
from tests.conftest import SUPERVISOR, staff
from tests.web.conftest import REPORT_FORM

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

pytestmark = MARKS


async def reports_filed(service: FeedbackService) -> int:
    return len(await service.store.list_reports(ReportFilter()))


async def fill_report(page: Any) -> None:
    await page.fill("#f-text", REPORT_FORM["text"])
    await page.fill("#f-place", REPORT_FORM["place"])
    await page.fill("#f-title", REPORT_FORM["title"])


async def test_receipt_survives_reload_and_back_then_submit_files_no_second_report(
    browser: Any, server: TestServer, service: FeedbackService
) -> None:
    base = str(server.make_url("")).rstrip("/")
    dialogs: list[str] = []  # a "confirm form resubmission" would be a dialog
    for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page = await new_page(browser, viewport)
        page.on("dialog", lambda d: dialogs.append(d.message))
        before = await reports_filed(service)
        await page.goto(base + "/report")
        await fill_report(page)
        await send_report(page)
        assert "/report/receipt/ZC-" in page.url
        tn = (await page.inner_text("#tracking-number")).strip()
        code = (await page.inner_text("#follow-up-code")).strip()
        assert len(code) == 24 and tn in page.url and code not in page.url
        await shot(page, f"20-receipt-{name}")

        # The phone reloads the tab: the receipt, code and all, is still there.
        response = await page.reload()
        assert response is not None and response.request.method == "GET"
        assert (await page.inner_text("#follow-up-code")).strip() == code

        # Back to the form (the browser asks the server again: a fresh form id), the same text
        # once more, 提交: the same receipt, no second report.
        # The preview, once sent, leads to its receipt; one more Back is the form.
        await page.go_back()
        assert "/report/receipt/" in page.url
        await page.go_back()
        assert page.url.endswith("/report")
        await fill_report(page)
        await send_report(page)
        assert (await page.inner_text("#tracking-number")).strip() == tn
        assert (await page.inner_text("#follow-up-code")).strip() == code
        assert await reports_filed(service) == before + 1

        # From the receipt to the status page, then Back and Forward: plain GETs, nothing
        # asks to resubmit a form.
        await page.click("button:has-text('查看办理进度')")
        assert page.url.endswith(f"/track/{tn}")
        assert REPORT_FORM["title"] in await page.inner_text("main")
        await shot(page, f"21-status-after-receipt-{name}")
        response = await page.reload()
        assert response is not None and response.request.method == "GET"
        response = await page.go_back()
        assert response is not None and response.request.method == "GET"
        assert (await page.inner_text("#follow-up-code")).strip() == code
        response = await page.go_forward()
        assert response is not None and response.request.method == "GET" and response.ok
        assert REPORT_FORM["title"] in await page.inner_text("main")
        assert dialogs == []
        await page.context.close()


async def test_track_result_back_and_forward_ask_for_no_resubmission(
    browser: Any, server: TestServer, service: FeedbackService
) -> None:
    base = str(server.make_url("")).rstrip("/")
    page = await new_page(browser, PHONE)
    await page.goto(base + "/report")
    await fill_report(page)
    await send_report(page)
    tn = (await page.inner_text("#tracking-number")).strip()
    code = (await page.inner_text("#follow-up-code")).strip()

    # Later, in a new tab of a fresh browser: the number and code typed on /track.
    other = await new_page(browser, PHONE)
    await other.goto(base + "/track")
    await other.fill("#f-tn", tn)
    await other.fill("#f-code", code.lower())
    await other.click("button:has-text('查询')")
    assert other.url.endswith(f"/track/{tn}") and code not in other.url
    assert "待人工分办" in await other.inner_text("#status")
    await shot(other, "22-status-phone")
    response = await other.go_back()
    assert response is not None and response.request.method == "GET" and response.ok
    assert other.url.endswith("/track")
    response = await other.go_forward()
    assert response is not None and response.request.method == "GET" and response.ok
    assert "待人工分办" in await other.inner_text("#status")
    # The bookmark in a browser that never typed the code asks for it, number filled in.
    third = await new_page(browser, DESKTOP)
    await third.goto(base + f"/track/{tn}")
    assert await third.input_value("#f-tn") == tn
    assert "请重新输入查询码" in await third.inner_text("main")
    await shot(third, "23-status-bookmark-asks-code-desktop")


async def test_an_expired_session_on_the_form_keeps_what_was_typed(
    browser: Any, server: TestServer, service: FeedbackService
) -> None:
    base = str(server.make_url("")).rstrip("/")
    for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page = await new_page(browser, viewport)
        before = await reports_filed(service)
        await page.goto(base + "/report")
        await fill_report(page)
        # Left open overnight: the session cookie is gone when 提交 is pressed.
        await page.context.clear_cookies()
        await send_report(page)
        assert "安全校验已过期" in await page.inner_text("#expired")
        assert await page.input_value("#f-text") == REPORT_FORM["text"]
        assert await page.input_value("#f-place") == REPORT_FORM["place"]
        assert await reports_filed(service) == before
        await shot(page, f"24-expired-form-kept-{name}")
        await send_report(page)
        assert "/report/receipt/" in page.url
        assert len((await page.inner_text("#follow-up-code")).strip()) == 24
        assert await reports_filed(service) == before + 1
        await page.context.close()


async def test_the_timeline_shows_every_answer_the_comment_and_the_review_decision(
    browser: Any, server: TestServer, service: FeedbackService
) -> None:
    base = str(server.make_url("")).rstrip("/")
    page = await new_page(browser, PHONE)
    await page.goto(base + "/report")
    await shot(page, "25-report-form-publish-choice-phone")
    await fill_report(page)
    await page.check("input[name=publish][value='0']")
    await send_report(page)
    tn = (await page.inner_text("#tracking-number")).strip()
    await page.click("button:has-text('查看办理进度')")
    assert "不公开" in await page.inner_text("#publish-choice")

    await service.assign(SUPERVISOR, tn, "zhzf")
    await service.accept(staff("zhzf"), tn)
    await service.answer(staff("zhzf"), tn, "第一次答复：已责令执法队员补开票据。")
    await page.reload()
    await page.check("input[name=rating][value=unsatisfied]")
    await page.fill("#f-comment", "票据至今没有补开")
    await page.click("button:has-text('提交评价')")
    assert "重新办理" in await page.inner_text("main")
    await service.answer(staff("zhzf"), tn, "第二次答复：票据已补开，并当面说明了处罚依据。")
    await page.reload()
    await page.check("input[name=rating][value=basically_satisfied]")
    await page.click("button:has-text('提交评价')")
    await page.fill("#f-reason", "处罚依据的条款没有写明")
    await page.click("button:has-text('申请复查')")
    await service.decide_review(SUPERVISOR, tn, False, "经复查，答复已写明处罚依据的条款。")
    for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        await page.set_viewport_size(viewport)
        await page.reload()
        timeline = await page.inner_text("#history")
        for said in ("第一次答复", "第二次答复", "票据至今没有补开", "处罚依据的条款没有写明",
                     "复查决定：维持原答复，办结", "经复查，答复已写明处罚依据的条款。"):  # fmt: skip
            assert said in timeline, said
        assert "router" not in timeline and "clock" not in timeline
        await shot(page, f"26-timeline-{name}")
