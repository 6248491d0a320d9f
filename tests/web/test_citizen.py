"""A citizen reports, keeps the code, follows up and rates — through the pages, as a phone would."""

from __future__ import annotations

import re
from pathlib import Path

from aiohttp import FormData

from feedback.models import Status
from feedback.service import FeedbackService
from tests.conftest import SUPERVISOR, staff
from tests.web.conftest import FORM_ID_RE, REPORT_FORM, MakeVisitor, png_bytes, submit


def multipart(fields: dict[str, str], files: list[tuple[str, bytes, str]]) -> FormData:
    form = FormData()
    for k, v in fields.items():
        form.add_field(k, v)
    for name, data, ctype in files:
        form.add_field("attachments", data, filename=name, content_type=ctype)
    return form


async def test_home_and_form_are_chinese_and_need_no_script(visitor: MakeVisitor) -> None:
    v = await visitor()
    status, html = await v.get("/")
    assert status == 200 and "我要反映问题" in html and "查询办理进度" in html
    status, html = await v.get("/report")
    assert status == 200
    assert "<script" not in html
    assert 'lang="zh-CN"' in html and "匿名反映" in html
    assert v.last is not None and v.last.headers["Cache-Control"] == "no-store"
    resp = await v.client.get("/static/style.css")
    assert resp.status == 200 and "WenQuanYi Micro Hei" in await resp.text()


async def test_submit_shows_number_and_code_once_then_follow_up(
    visitor: MakeVisitor, service: FeedbackService
) -> None:
    v = await visitor()
    tn, code = await submit(v)
    assert tn.startswith("ZC-2026-") and len(code.replace("-", "")) == 20
    assert v.last is not None and v.last.headers["Cache-Control"] == "no-store"
    await v.get("/track")
    status, html = await v.post("/track", {"tn": tn.lower(), "code": code.replace("-", " ")})
    assert status == 200
    assert "待人工分办" in html and REPORT_FORM["title"] in html
    assert code not in html.split('name="code"')[0] or 'type="hidden"' in html
    # The code never appears in a URL.
    assert v.last is not None and code not in str(v.last.url)


async def test_reloading_the_receipt_does_not_file_twice_or_show_the_code_again(
    visitor: MakeVisitor, service: FeedbackService
) -> None:
    v = await visitor()
    _, form_html = await v.get("/report")
    form_id = FORM_ID_RE.search(form_html)
    assert form_id
    data = {**REPORT_FORM, "form_id": form_id.group(1)}
    status, first = await v.post("/report", data)
    assert status == 200 and 'id="follow-up-code"' in first
    status, again = await v.post("/report", data)
    assert status == 200 and "已经提交过" in again and 'id="follow-up-code"' not in again
    assert len(await service.store.list_reports(__import__("feedback").store.ReportFilter())) == 1


async def test_form_errors_are_next_to_the_field_and_keep_what_was_typed(
    visitor: MakeVisitor,
) -> None:
    v = await visitor()
    await v.get("/report")
    status, html = await v.post("/report", {**REPORT_FORM, "text": "太短了", "place": "松龄路"})
    assert status == 400
    assert "诉求内容至少需要 10 个字" in html
    assert re.search(r'id="f-text"[^>]*aria-invalid="true"', html)
    assert "太短了</textarea>" in html and 'value="松龄路"' in html

    status, html = await v.post(
        "/report", {**REPORT_FORM, "anonymous": "0", "contact_name": "张三", "contact_phone": "123"}
    )
    assert status == 400
    assert 'id="contact_phone-error"' in html and "手机号码应为 11 位数字" in html
    assert 'value="张三"' in html and 'value="0" checked' in html

    status, html = await v.post("/report", {**REPORT_FORM, "anonymous": "0"})
    assert status == 400 and "实名反映请至少留下姓名或电话" in html


async def test_photo_is_stored_by_hash_and_a_fake_image_is_refused(
    visitor: MakeVisitor, service: FeedbackService, tmp_path: Path
) -> None:
    v = await visitor()
    await v.get("/report")
    photo = png_bytes()
    fields = {**REPORT_FORM, "csrf_token": v.token}
    status, html = await v.post("/report", multipart(fields, [("现场.png", photo, "image/png")]))
    assert status == 200, html
    tn = re.search(r'id="tracking-number">([^<]+)<', html).group(1)  # type: ignore[union-attr]
    report = await service.store.get_report(tn)
    assert report is not None and len(report.attachments) == 1
    att = report.attachments[0]
    assert att.content_type == "image/png" and att.filename == "现场.png"
    stored = tmp_path / "data" / "attachments" / att.storage_key
    assert stored.read_bytes() == photo

    # A script renamed to .jpg is refused by its content, the form comes back with the text.
    fields = {**REPORT_FORM, "csrf_token": v.token}
    status, html = await v.post(
        "/report", multipart(fields, [("photo.jpg", b"<script>alert(1)</script>", "image/jpeg")])
    )
    assert status == 400
    assert "不是 JPG、PNG、WebP、GIF、HEIC 图片或 PDF 文件" in html
    assert 'id="attachments-error"' in html and REPORT_FORM["text"] in html
    assert "需要重新选择" in html

    too_many = [(f"{i}.png", png_bytes(rgb=(i, i, i)), "image/png") for i in range(6)]
    fields = {**REPORT_FORM, "csrf_token": v.token}
    status, html = await v.post("/report", multipart(fields, too_many))
    assert status == 400 and "最多上传 5 个附件" in html


async def test_oversize_photo_gets_a_chinese_message(visitor: MakeVisitor) -> None:
    v = await visitor()
    await v.get("/report")
    big = png_bytes() + b"\0" * (10 * 1024 * 1024)
    fields = {**REPORT_FORM, "csrf_token": v.token}
    status, html = await v.post("/report", multipart(fields, [("big.png", big, "image/png")]))
    assert status == 400 and "超过 10 MB" in html


async def test_wrong_code_is_told_next_to_the_field_like_an_unknown_number(
    visitor: MakeVisitor,
) -> None:
    v = await visitor()
    tn, code = await submit(v)
    await v.get("/track")
    status, wrong = await v.post("/track", {"tn": tn, "code": "AAAA-BBBB-CCCC-DDDD-EEEE"})
    assert status == 404 and 'id="code-error"' in wrong and f'value="{tn}"' in wrong
    status, unknown = await v.post("/track", {"tn": "ZC-2026-999999", "code": code})
    assert status == 404 and "未找到该诉求，请核对受理编号和查询码" in unknown
    status, empty = await v.post("/track", {"tn": "", "code": ""})
    assert status == 400 and "请填写受理编号" in empty and "请填写查询码" in empty


async def test_rating_after_the_answer_closes_and_unsatisfied_reopens(
    visitor: MakeVisitor, service: FeedbackService
) -> None:
    v = await visitor()
    tn, code = await submit(v)
    await service.assign(SUPERVISOR, tn, "zhzf")
    await service.accept(staff("zhzf"), tn)
    await service.answer(staff("zhzf"), tn, "经核查，已责令执法队员补开票据并向您说明处罚依据。")
    await v.get("/track")
    status, html = await v.post("/track", {"tn": tn, "code": code})
    assert "已责令执法队员补开票据" in html and "对办理结果进行评价" in html
    status, html = await v.post("/track/rate", {"tn": tn, "code": code, "comment": "还行"})
    assert status == 400 and "请选择满意、基本满意或不满意" in html and "还行</textarea>" in html
    status, html = await v.post(
        "/track/rate", {"tn": tn, "code": code, "rating": "unsatisfied", "comment": "没处理"}
    )
    assert status == 200 and "重新办理" in html
    report = await service.store.get_report(tn)
    assert report is not None and report.status is Status.REOPENED


async def test_review_request_after_closing(visitor: MakeVisitor, service: FeedbackService) -> None:
    v = await visitor()
    tn, code = await submit(v)
    await service.assign(SUPERVISOR, tn, "zhzf")
    await service.accept(staff("zhzf"), tn)
    await service.answer(staff("zhzf"), tn, "经核查，已责令执法队员补开票据并向您说明处罚依据。")
    await service.rate(tn, code, "basically_satisfied")
    await v.get("/track")
    status, html = await v.post("/track", {"tn": tn, "code": code})
    assert "申请复查" in html
    status, html = await v.post("/track/review", {"tn": tn, "code": code, "reason": "短"})
    assert status == 400 and "复查理由至少需要 5 个字" in html
    status, html = await v.post(
        "/track/review", {"tn": tn, "code": code, "reason": "票据补开了但罚款依据没有说明"}
    )
    assert status == 200 and "复查申请已提交" in html and "复查中" in html


async def test_unknown_page_and_wrong_method_get_chinese_pages(visitor: MakeVisitor) -> None:
    v = await visitor()
    status, html = await v.get("/no-such-page")
    assert status == 404 and "页面不存在" in html and "Traceback" not in html
    status, html = await v.get("/track/rate")
    assert status == 405 and "不支持该请求方式" in html
