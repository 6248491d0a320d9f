"""A citizen reports, keeps the code, follows up and rates — through the pages, as a phone would."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from pathlib import Path

from aiohttp import FormData

from feedback import incentives
from feedback.models import Status
from feedback.service import FeedbackService
from feedback.store import ReportFilter
from tests.conftest import SUPERVISOR, Clock, staff
from tests.web.conftest import FORM_ID_RE, REPORT_FORM, MakeVisitor, Visitor, png_bytes, submit


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
    # The code is never shown on the page: at most carried in the forms' hidden fields.
    visible = re.sub(r'<input type="hidden" name="code" value="[^"]*">', "", html)
    assert code not in visible and code.replace("-", "") not in visible.replace("-", "")
    # The code never appears in a URL.
    assert v.last is not None and code not in str(v.last.url)


async def reports_filed(service: FeedbackService) -> int:
    return len(await service.store.list_reports(ReportFilter()))


async def test_the_receipt_is_a_page_of_its_own_that_survives_reload_for_thirty_minutes(
    visitor: MakeVisitor, service: FeedbackService, clock: Clock
) -> None:
    v = await visitor()
    _, form_html = await v.get("/report")
    form_id = FORM_ID_RE.search(form_html)
    assert form_id
    data = {**REPORT_FORM, "form_id": form_id.group(1)}
    resp = await v.client.post(
        "/report", data={**data, "csrf_token": v.token}, allow_redirects=False
    )
    # Post-redirect-get: the answer to the POST is a 303 to the receipt, not the receipt.
    assert resp.status == 303
    receipt_url = resp.headers["Location"]
    assert receipt_url.startswith("/report/receipt/ZC-2026-")
    status, first = await v.get(receipt_url)
    assert status == 200 and 'id="follow-up-code"' in first
    code = re.search(r'id="follow-up-code">(.*?)</dd>', first)
    assert code
    # The phone reloads the tab ten minutes later: the same number and code.
    clock.advance(minutes=10)
    status, reloaded = await v.get(receipt_url)
    assert status == 200 and code.group(1) in reloaded
    # The same form posted again (reload of the POST, a double tap): the same receipt.
    status, again = await v.post("/report", data)
    assert status == 200 and code.group(1) in again
    assert v.last is not None and str(v.last.url).endswith(receipt_url)
    assert await reports_filed(service) == 1
    # The code is not kept on the server: the receipt lives in this browser's cookie only.
    other = await visitor()
    status, html = await other.get(receipt_url)
    assert status == 404 and 'id="follow-up-code"' not in html and "不在本浏览器" in html
    # Past thirty minutes the receipt shows the number, no longer the code.
    clock.advance(minutes=21)
    status, late = await v.get(receipt_url)
    assert status == 200 and "已经提交过" in late and 'id="follow-up-code"' not in late
    status, late_again = await v.post("/report", data)
    assert 'id="follow-up-code"' not in late_again and await reports_filed(service) == 1


async def test_back_and_submit_again_with_a_fresh_form_id_makes_no_second_report(
    visitor: MakeVisitor, service: FeedbackService
) -> None:
    v = await visitor()
    tn, code = await submit(v)
    # Back: the browser renders the form again with a new form id, the text still in it.
    _, form_html = await v.get("/report")
    fresh = FORM_ID_RE.search(form_html)
    assert fresh
    status, html = await v.post(
        "/report", {**REPORT_FORM, "text": REPORT_FORM["text"] + "  ", "form_id": fresh.group(1)}
    )
    assert status == 200 and tn in html and code.split("-")[0] in html
    assert await reports_filed(service) == 1
    # Another browser sending the same words files its own report, with its own receipt.
    other = await visitor()
    other_tn, other_code = await submit(other)
    assert other_tn != tn and other_code != code and await reports_filed(service) == 2
    # A different report from the first browser is a new report.
    new_tn, _ = await submit(v, text=REPORT_FORM["text"] + "另外，当时还有两名队员在场。")
    assert new_tn not in (tn, other_tn) and await reports_filed(service) == 3


async def test_a_double_tap_files_one_report(
    visitor: MakeVisitor, service: FeedbackService
) -> None:
    v = await visitor()
    _, form_html = await v.get("/report")
    form_id = FORM_ID_RE.search(form_html)
    assert form_id
    data = {**REPORT_FORM, "form_id": form_id.group(1), "csrf_token": v.token}
    first, second = await asyncio.gather(
        v.client.post("/report", data=data, allow_redirects=False),
        v.client.post("/report", data=data, allow_redirects=False),
    )
    assert first.status == second.status == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert await reports_filed(service) == 1


async def test_the_status_page_is_a_get_after_the_code_is_typed_once(
    visitor: MakeVisitor, service: FeedbackService
) -> None:
    v = await visitor()
    tn, code = await submit(v)
    await v.get("/track")
    resp = await v.client.post(
        "/track", data={"tn": tn.lower(), "code": code, "csrf_token": v.token},
        allow_redirects=False,
    )  # fmt: skip
    assert resp.status == 303 and resp.headers["Location"] == f"/track/{tn}"
    status, html = await v.get(f"/track/{tn}")
    assert status == 200 and REPORT_FORM["title"] in html
    assert code not in html and code.replace("-", "") not in html.replace("-", "")
    # A bookmark opened in another browser asks for the code, the number filled in.
    other = await visitor()
    status, html = await other.get(f"/track/{tn}")
    assert status == 200 and REPORT_FORM["title"] not in html
    assert "请重新输入查询码" in html and f'value="{tn}"' in html


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
    status, html = await v.get("/track/rate")  # a form's address from the history
    assert status == 200 and "查询进度" in html and "不支持该请求方式" not in html


async def _form_page(v: Visitor) -> None:
    await v.get("/report")


async def test_report_form_shows_every_error_at_once(visitor: MakeVisitor) -> None:
    v = await visitor()
    await _form_page(v)
    form = FormData()
    fields = {
        **REPORT_FORM,
        "text": "太短了",
        "anonymous": "0",
        "contact_name": "张三",
        "contact_phone": "12345",
        "csrf_token": v.token,
    }
    for name, value in fields.items():
        form.add_field(name, value)
    form.add_field("attachments", b"MZ\x90\x00not a picture", filename="photo.jpg")
    status, html = await v.post("/report", form)
    assert status == 400
    alert = re.search(r'<div class="notice error" role="alert"[^>]*>(.*?)</div>', html, re.S)
    assert alert
    # The text, the phone and the file, all on the first return, in the form's order; a
    # mistake in a field links to it.
    messages = re.findall(r"<li>(?:<a [^>]*>)?([^<]+)(?:</a>)?</li>", alert.group(1))
    assert len(messages) == 3, messages
    assert "诉求内容" in messages[0] and "手机号码" in messages[1] and "photo.jpg" in messages[2]
    assert 'id="attachments-error"' in html and 'id="contact_phone-error"' in html
    assert '<a href="#field-text">' in alert.group(1)
    # Only the phone is marked: the name typed correctly is not red, nor the whole fieldset.
    name_field = re.search(r'<div class="field([^"]*)"[^>]*>\s*<label for="f-contact_name"', html)
    phone_field = re.search(r'<div class="field([^"]*)"[^>]*>\s*<label for="f-contact_phone"', html)
    assert name_field and phone_field
    assert "has-error" not in name_field.group(1) and "has-error" in phone_field.group(1)
    assert '<fieldset class="field has-error">\n    <legend>是否留下联系方式' not in html
    assert (
        'value="张三"' in html and 'aria-invalid="true" aria-describedby="contact_name' not in html
    )


async def test_report_form_good_fields_bad_file_and_no_spurious_contact_error(
    visitor: MakeVisitor,
) -> None:
    v = await visitor()
    await _form_page(v)
    form = FormData()
    for name, value in {**REPORT_FORM, "anonymous": "0", "contact_name": "",
                        "contact_phone": "12345", "csrf_token": v.token}.items():  # fmt: skip
        form.add_field(name, value)
    form.add_field("attachments", png_bytes(), filename="ok.png")
    status, html = await v.post("/report", form)
    # A bad phone is one mistake, not also "leave a name or a phone".
    assert status == 400 and "手机号码应为 11 位数字" in html and "至少留下姓名或电话" not in html

    # Fields right, the file wrong: the file is the one error.
    form = FormData()
    for name, value in {**REPORT_FORM, "csrf_token": v.token}.items():
        form.add_field(name, value)
    form.add_field("attachments", b"", filename="empty.jpg")
    status, html = await v.post("/report", form)
    assert status == 400 and "是空文件" in html


async def test_receipt_code_is_shown_in_unbreakable_groups(visitor: MakeVisitor) -> None:
    v = await visitor()
    await v.get("/report")
    status, html = await v.post("/report", REPORT_FORM)
    assert status == 200
    shown = re.search(r'id="follow-up-code">(.*?)</dd>', html)
    assert shown
    groups = re.findall(r'<span class="group">([^<]+)</span>', shown.group(1))
    assert len(groups) >= 4 and all(len(g) == 4 for g in groups)
    assert re.sub(r"<[^>]+>", "", shown.group(1)) == "-".join(groups)  # copies as issued
    status, css = await v.get("/static/style.css")
    assert re.search(r"\.code-groups \.group \{[^}]*white-space: nowrap", css)
    assert re.search(r"main > \.panel:first-child[^{]*\{[^}]*margin-top", css)


async def test_favicon_is_served_and_linked(visitor: MakeVisitor) -> None:
    v = await visitor()
    _, html = await v.get("/")
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in html
    resp = await v.client.get("/favicon.ico")
    body = await resp.read()
    assert resp.status == 200 and resp.content_type == "image/x-icon"
    assert body[:4] == b"\x00\x00\x01\x00"  # an ICO header
    resp = await v.client.get("/static/favicon.svg")
    assert resp.status == 200 and b"<svg" in await resp.read()


async def test_an_expired_session_keeps_the_typed_report_and_offers_a_fresh_token(
    visitor: MakeVisitor, service: FeedbackService
) -> None:
    v = await visitor()
    await v.get("/report")
    # The phone was left on the form for a day; the server restarted and the session is gone.
    v.client.cookie_jar.clear()
    long_text = REPORT_FORM["text"] + "当时旁边还有三名队员，其中一人拍了照。"
    status, html = await v.post(
        "/report", {**REPORT_FORM, "text": long_text, "csrf_token": "a-token-from-yesterday"},
        token=False,
    )  # fmt: skip
    assert status == 403
    assert "安全校验已过期" in html and "您填写的内容已保留" in html
    assert long_text in html and f'value="{REPORT_FORM["place"]}"' in html
    assert await reports_filed(service) == 0
    # The form it came back with carries a fresh token: 提交 again files the report.
    status, html = await v.post("/report", {**REPORT_FORM, "text": long_text})
    assert status == 200 and 'id="follow-up-code"' in html
    assert await reports_filed(service) == 1


async def test_a_cross_site_post_is_refused_without_echoing_it(
    visitor: MakeVisitor, service: FeedbackService
) -> None:
    v = await visitor()
    await v.get("/report")
    forged = {**REPORT_FORM, "text": "来自别的网站的伪造内容，诱导用户提交。"}
    for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        status, html = await v.post("/report", forged, token=False, headers=headers)
        assert status == 403 and "页面已过期或无法确认请求来自本站" in html
        assert forged["text"] not in html
    assert await reports_filed(service) == 0


async def test_the_timeline_tells_every_outcome_in_chinese(
    visitor: MakeVisitor, service: FeedbackService, clock: Clock
) -> None:
    v = await visitor()
    tn, code = await submit(v)
    await service.assign(SUPERVISOR, tn, "zhzf")
    await service.accept(staff("zhzf"), tn)
    await service.answer(staff("zhzf"), tn, "第一次答复：已责令执法队员补开票据。")
    await v.get("/track")
    await v.post("/track", {"tn": tn, "code": code})
    await v.post("/track/rate", {"tn": tn, "rating": "unsatisfied", "comment": "票据没有补开"})
    clock.advance(days=1)
    await service.answer(staff("zhzf"), tn, "第二次答复：票据已补开，罚款依据已当面说明。")
    # A day later: the browser has forgotten the code (2 hours), the citizen types it again.
    await v.post("/track", {"tn": tn, "code": code})
    status, html = await v.post("/track/rate", {"tn": tn, "rating": "basically_satisfied"})
    assert status == 200, html[html.find("<main") :][:3000]
    await v.post("/track/review", {"tn": tn, "reason": "罚款依据的条款没有写明"})
    await service.decide_review(SUPERVISOR, tn, False, "经复查，答复已写明处罚依据的条款。")
    await incentives.substantiate(service, SUPERVISOR, tn, True, "执法队员确未开具票据")

    status, html = await v.get(f"/track/{tn}")
    assert status == 200
    section = re.search(r'<ol class="timeline" id="history">(.*?)</ol>', html, re.S)
    assert section
    timeline = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section.group(1)))
    # Every answer, not only the latest; the citizen's own comment and reason; the decisions.
    for said in (
        "第一次答复：已责令执法队员补开票据。",
        "第二次答复：票据已补开，罚款依据已当面说明。",
        "不满意", "您的评价说明： 票据没有补开",
        "您的复查理由： 罚款依据的条款没有写明",
        "复查决定：维持原答复，办结", "复查意见： 经复查，答复已写明处罚依据的条款。",
        "查实认定", "经区司法局查实",
    ):  # fmt: skip
        assert said in timeline, said
    assert not re.search(r"[A-Za-z]{2,}", timeline), timeline
    # What was written stays with the citizen: Open311's public updates carry none of it.
    updates = await service.public_updates(clock.now - timedelta(days=30), clock.now)
    public = " ".join(f"{u.item.label} {u.item.note or ''}" for u in updates)
    assert all(u.item.written is None for u in updates)
    for private in ("票据没有补开", "罚款依据的条款没有写明", "第二次答复", "经复查，答复"):
        assert private not in public


async def test_a_text_over_the_limit_is_refused_whole_never_cut(visitor: MakeVisitor) -> None:
    v = await visitor()
    _, form = await v.get("/report")
    assert "最多 5000 个字" in form
    assert not re.search(r'<textarea id="f-text"[^>]*maxlength', form)  # no silent cut
    pasted = "城管执法人员罚款不开票据。" * 2100  # 27,300 characters, pasted from a document
    status, html = await v.post("/report", {**REPORT_FORM, "text": pasted})
    assert status == 400
    assert f"诉求内容不能超过 5000 个字（现在 {len(pasted)} 个）" in html
    assert pasted + "</textarea>" in html
