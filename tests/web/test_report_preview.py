"""The report's preview step (issue 18: 4), through the real app: 预览 shows what will be sent,
what will be public (anonymised) and what stays private, with the count of characters;
返回修改 brings every field back; 确认提交 files it once, however often it is reloaded, gone back
to, or clicked."""

from __future__ import annotations

import html as htmllib
import re

from feedback.service import FeedbackService
from tests.web.conftest import FORM_ID_RE, REPORT_FORM, MakeVisitor, Visitor, png_bytes

TEXT = (
    "昨天下午在般阳路摆摊，城管执法人员直接罚款两百元，没有出具任何票据。\n"
    "执法人员说他叫王建国，我住在松龄路华府小区3号楼2单元501室，电话13912345678。"
)
FORM = {**REPORT_FORM, "text": TEXT, "anonymous": "0", "contact_name": "张三",
        "contact_phone": "13800001234"}  # fmt: skip


def section(page: str, id_: str) -> str:
    found = re.search(rf'<section[^>]*id="{id_}"[^>]*>(.*?)</section>', page, re.S)
    assert found, f"no section {id_}"
    return htmllib.unescape(re.sub(r"<[^>]+>", "", found.group(1)))


async def preview(v: Visitor, form: dict[str, str]) -> tuple[int, str]:
    _, page = await v.get("/report")
    form_id = FORM_ID_RE.search(page)
    assert form_id
    return await v.post("/report", {**form, "form_id": form_id.group(1), "do": "preview"})


async def count(service: FeedbackService) -> int:
    rows = await service.store.fetch("SELECT COUNT(*) AS n FROM reports")
    return int(rows[0]["n"])


async def test_the_preview_shows_what_is_sent_public_and_private_and_files_nothing(
    visitor: MakeVisitor, service: FeedbackService
) -> None:
    v = await visitor()
    status, page = await preview(v, FORM)
    assert status == 200 and "请确认您要反映的内容" in page and "还没有提交" in page
    assert v.last is not None and v.last.url.path == "/report/preview"  # a GET page of its own
    sent = section(page, "preview-sent")
    assert "王建国" in sent and "13912345678" in sent
    assert f"{len(TEXT)} 字（最多 5000 字）" in sent
    public = section(page, "preview-public")
    assert "执法监督公示" in public and "城管执法人员直接罚款两百元" in public
    for personal in ("王建国", "13912345678", "3号楼", "501"):
        assert personal not in public, personal
    private = section(page, "preview-private")
    assert "张三" in private and "13800001234" in private and "般阳路" in private
    assert await count(service) == 0
    # A reload is the same page, and still files nothing.
    status, again = await v.get("/report/preview")
    assert status == 200 and section(again, "preview-sent") == sent
    assert await count(service) == 0


async def test_not_public_is_said_on_the_preview(visitor: MakeVisitor) -> None:
    status, page = await preview(await visitor(), {**FORM, "publish": "0"})
    assert status == 200 and "您选择了不公开" in section(page, "preview-public")
    assert "城管执法人员" not in section(page, "preview-public")


async def test_back_to_edit_keeps_every_field(visitor: MakeVisitor) -> None:
    v = await visitor()
    await preview(v, {**FORM, "kind": "consultation", "publish": "0"})
    status, form = await v.get("/report?edit=1")
    assert status == 200 and "我要反映问题" in form
    text = re.search(r'<textarea[^>]*name="text"[^>]*>(.*?)</textarea>', form, re.S)
    assert text and htmllib.unescape(text.group(1)) == TEXT
    for name in ("place", "occurred_at", "authority", "contact_name", "contact_phone"):
        assert f'value="{FORM[name]}"' in form, name
    assert re.search(r'name="kind" value="consultation" checked', form)
    assert re.search(r'name="anonymous" value="0" checked', form)
    assert re.search(r'name="publish" value="0" checked', form)


async def test_mistakes_are_shown_on_the_form_before_any_preview(visitor: MakeVisitor) -> None:
    status, page = await preview(await visitor(), {**FORM, "text": "太短", "contact_phone": "123"})
    assert status == 400 and "提交没有成功" in page and "请确认您要反映的内容" not in page


def confirm_form(page: str) -> dict[str, str]:
    form = re.search(r'<form[^>]*id="confirm-form"[^>]*>(.*?)</form>', page, re.S)
    assert form
    fields = {
        m.group(1): htmllib.unescape(m.group(2))
        for m in re.finditer(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form.group(1))
    }
    text = re.search(r'<textarea name="text" hidden>(.*?)</textarea>', form.group(1), re.S)
    assert text
    fields["text"] = htmllib.unescape(text.group(1))
    return fields


async def test_confirm_files_once_through_reload_back_and_a_second_click(
    visitor: MakeVisitor, service: FeedbackService
) -> None:
    v = await visitor()
    _, page = await preview(v, FORM)
    fields = confirm_form(page)
    assert fields["do"] == "confirm" and fields["text"] == TEXT
    data = {**fields, "attachments": png_bytes()}
    status, receipt = await v.post("/report", data)
    assert status == 200 and 'id="tracking-number"' in receipt
    tn = re.search(r'id="tracking-number">([^<]+)<', receipt)
    assert tn and await count(service) == 1
    report = await service.report(tn.group(1))
    assert report is not None and report.text == TEXT and len(report.attachments) == 1
    # Back from the receipt: the preview page now leads to the same receipt.
    status, back = await v.get("/report/preview")
    assert status == 200 and tn.group(1) in back and 'id="follow-up-code"' in back
    # 确认提交 again (a second click, or Back and 确认提交): the same receipt, no second report.
    status, again = await v.post("/report", {**fields})
    assert status == 200 and tn.group(1) in again
    assert await count(service) == 1


async def test_a_bad_file_at_confirm_keeps_the_preview(
    visitor: MakeVisitor, service: FeedbackService
) -> None:
    v = await visitor()
    _, page = await preview(v, FORM)
    fields = confirm_form(page)
    status, page = await v.post("/report", {**fields, "attachments": b"not a picture at all"})
    assert status == 400 and "请确认您要反映的内容" in page and 'id="attachments-error"' in page
    assert await count(service) == 0
