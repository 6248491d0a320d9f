"""The report's preview step in a real browser (Chromium, JavaScript off), at 390 and 1280 px
(issue 18: 4): 下一步：预览 shows what will be sent, what the public page will show (personal
data masked) and what stays private, with the count; reload shows it again; 返回修改 keeps
every field; 确认提交 with a double click, reload and Back files one report. Screenshots:
test-artifacts/screenshots/preview-*.png."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestServer

from feedback.service import FeedbackService
from feedback.store import ReportFilter
from tests.browser import MARKS, new_page, shot

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
TEXT = (
    "昨天下午在般阳路摆摊，城管执法人员直接罚款两百元，没有出具任何票据。"
    "我住在松龄路华府小区3号楼2单元501室，电话13912345678。"
)

pytestmark = MARKS


async def reports_filed(service: FeedbackService) -> int:
    return len(await service.store.list_reports(ReportFilter()))


async def test_preview_then_back_to_edit_then_confirm_files_one_report(
    browser: Any, server: TestServer, service: FeedbackService
) -> None:
    base = str(server.make_url("")).rstrip("/")
    dialogs: list[str] = []
    for name, viewport in (("390", PHONE), ("1280", DESKTOP)):
        page = await new_page(browser, viewport)
        page.on("dialog", lambda d: dialogs.append(d.message))
        before = await reports_filed(service)
        await page.goto(base + "/report")
        await shot(page, f"preview-00-form-{name}")
        await page.fill("#f-text", TEXT)
        await page.fill("#f-place", "般阳路")
        await page.check("input[name=anonymous][value='0']")
        await page.fill("#f-contact_name", "张三")
        await page.fill("#f-contact_phone", "13800001234")
        await page.click("#do-preview")
        assert page.url.endswith("/report/preview")
        public = await page.inner_text("#preview-public")
        assert "城管执法人员直接罚款两百元" in public
        assert "13912345678" not in public and "3号楼" not in public
        assert "13912345678" in await page.inner_text("#preview-sent")
        assert "张三" in await page.inner_text("#preview-private")
        assert f"{len(TEXT)} 字（最多 5000 字）" in await page.inner_text("#preview-count")
        await shot(page, f"preview-01-page-{name}")
        response = await page.reload()  # a GET: no resubmission asked
        assert response is not None and response.request.method == "GET"
        assert await reports_filed(service) == before

        await page.click("#do-edit")
        assert await page.input_value("#f-text") == TEXT
        assert await page.input_value("#f-contact_name") == "张三"
        assert await page.is_checked("input[name=anonymous][value='0']")
        await page.check("input[name=publish][value='0']")
        await page.click("#do-preview")
        assert "您选择了不公开" in await page.inner_text("#preview-public")
        await shot(page, f"preview-02-not-public-{name}")

        # Two clicks on 确认提交 (the second lands while the first is on its way): one report.
        await page.dblclick("#do-confirm")
        await page.wait_for_selector("#tracking-number")
        tn = (await page.inner_text("#tracking-number")).strip()
        await shot(page, f"preview-03-receipt-{name}")
        # Back from the receipt: the sent preview leads to the same receipt.
        await page.go_back()
        assert (await page.inner_text("#tracking-number")).strip() == tn
        assert await reports_filed(service) == before + 1
        report = await service.report(tn)
        assert report is not None and report.text == TEXT and not report.publish
        await page.context.close()
    assert dialogs == []
