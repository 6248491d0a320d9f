"""The clerk's desk in a real browser (Debian's Chromium, headless, JavaScript off), at 1280
and 390 px (issue 18: 12): the lead gives a report to a named clerk, the clerk finds it under
我的, writes an internal note, saves a half-written answer, comes back after logging out,
inserts the bureau's canned reply with the 插入 button and sends. Screenshots go to
test-artifacts/screenshots/desk-*.png."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestServer

from feedback.models import Actor, Role
from feedback.service import FeedbackService
from feedback.store.base import User
from tests.browser import MARKS, new_page, shot
from tests.conftest import SUPERVISOR
from tests.web.conftest import PASSWORD, REPORT_FORM, password_hash

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
REPLY = "对执法人员未出具票据的问题，我局已责令其补开票据，并对相关人员进行批评教育。"

pytestmark = MARKS


async def login(page: Any, base: str, username: str) -> None:
    await page.goto(base + "/staff/login")
    await page.fill("#f-username", username)
    await page.fill("#f-password", PASSWORD)
    await page.click("button:has-text('登录')")


async def test_the_lead_gives_a_report_to_a_clerk_who_notes_drafts_and_answers(
    browser: Any, server: TestServer, service: FeedbackService
) -> None:
    base = str(server.make_url("")).rstrip("/")
    async with service.store.transaction() as tx:
        await tx.insert_user(User(None, "zhzf.boss", password_hash(), "staff", "zhzf", "赵科长",
                                  bureau_lead=True))  # fmt: skip
    lead = Actor(Role.STAFF, id="zhzf.boss", department="zhzf", lead=True)
    await service.add_canned_reply(lead, "未开票据", REPLY)
    for viewport, size in ((DESKTOP, "1280"), (PHONE, "390")):
        result = await service.submit({**REPORT_FORM, "anonymous": True})
        tn = result.tracking_number
        await service.assign(SUPERVISOR, tn, "zhzf")

        boss = await new_page(browser, viewport)
        await login(boss, base, "zhzf.boss")
        await boss.goto(base + f"/staff/reports/{tn}")
        assert (await boss.inner_text("#assignee")).strip() == "未认领"
        await boss.select_option("#f-assignee", "zhzf1")
        await boss.click("#do-give")
        assert (await boss.inner_text("#assignee")).strip() == "城管张科员"
        await shot(boss, f"desk-lead-gave-{size}")

        clerk = await new_page(browser, viewport)
        await login(clerk, base, "zhzf1")
        await clerk.select_option("#f-clerk", "mine")
        await clerk.click("button:has-text('筛选')")
        rows = clerk.locator("table.queue tbody tr")
        assert await rows.count() == 1 and tn in await rows.first.inner_text()
        await shot(clerk, f"desk-queue-mine-{size}")
        await clerk.click(f"a.tn:has-text('{tn}')")
        await clerk.click("#do-accept")
        await clerk.fill("#f-note", "已电话联系中队长，周三前提供执法记录仪视频。")
        await clerk.click("#do-note")
        assert "执法记录仪视频" in await clerk.inner_text("#notes")
        await clerk.fill("#f-answer", "您好，您反映的问题已收悉。")
        await clerk.click("#do-save-draft")
        assert "草稿已保存" in await clerk.inner_text("main")
        # Logged out and back: the draft is in the form.
        await clerk.click("button:has-text('退出')")
        await login(clerk, base, "zhzf1")
        await clerk.goto(base + f"/staff/reports/{tn}")
        assert await clerk.input_value("#f-answer") == "您好，您反映的问题已收悉。"
        assert await clerk.locator("#draft-note").count() == 1
        await clerk.select_option("#f-canned", label="未开票据")
        await clerk.click("#do-insert")
        assert await clerk.input_value("#f-answer") == f"您好，您反映的问题已收悉。\n\n{REPLY}"
        await shot(clerk, f"desk-canned-inserted-{size}")
        await clerk.click("#do-answer")
        assert "已答复" in await clerk.inner_text("#status")
        await shot(clerk, f"desk-answered-{size}")
        await clerk.context.close()
        await boss.context.close()
