"""What a new user ran into on a fresh clone, each told as they met it and shown fixed."""

from __future__ import annotations

import re

from aiohttp import FormData

from feedback.models import Status
from feedback.service import FeedbackService
from tests.conftest import SUPERVISOR, staff
from tests.web.conftest import REPORT_FORM, MakeVisitor, Visitor, png_bytes, submit

ANSWER = "经核查，执法队员确未开具票据，已责令补开并退还多收的款项，对相关人员批评教育。"


def current_tab(html: str) -> str:
    found = re.search(r'<nav class="tabs".*?aria-current="page">([^<]+)', html, re.S)
    assert found, "no tab is marked current"
    return found.group(1).strip()


def tab_labels(html: str) -> list[str]:
    nav = re.search(r'<nav class="tabs".*?</nav>', html, re.S)
    assert nav
    return [label.strip() for label in re.findall(r'<a href="\?queue=[^"]+"[^>]*>([^<]+)', nav[0])]


async def test_triage_desk_lands_on_triage_and_returns_there_after_assigning(
    visitor: MakeVisitor,
) -> None:
    citizen = await visitor()
    first, _ = await submit(citizen)
    second, _ = await submit(citizen, title="第二件：执法人员态度恶劣")

    desk = await visitor("sfj1")
    status, html = await desk.get("/staff")
    assert status == 200 and current_tab(html) == "待分办"
    assert first in html and second in html
    # A bureau's staff still open on what they must sign for.
    bureau = await visitor("zhzf1")
    assert current_tab((await bureau.get("/staff"))[1]) == "待签收"

    await desk.get(f"/staff/reports/{first}")
    resp = await desk.client.post(
        f"/staff/reports/{first}/assign",
        data={"csrf_token": desk.token, "department": "zhzf", "note": ""},
        allow_redirects=False,
    )
    assert resp.status == 303 and resp.headers["Location"] == "/staff/triage"
    status, html = await desk.get("/staff/triage")
    assert "已分派至 区综合行政执法局" in html and current_tab(html) == "待分办"
    assert second in html and first not in html  # what is left to do

    # A supervisor working triage is sent back to the queue too, not left on the report.
    sup = await visitor("sup1")
    await sup.get(f"/staff/reports/{second}")
    resp = await sup.client.post(
        f"/staff/reports/{second}/assign",
        data={"csrf_token": sup.token, "department": "zjj", "note": ""},
        allow_redirects=False,
    )
    assert resp.status == 303 and resp.headers["Location"] == "/staff/triage"


async def test_supervisors_have_a_review_queue(
    visitor: MakeVisitor, service: FeedbackService
) -> None:
    citizen = await visitor()
    tn, code = await submit(citizen)
    await service.assign(SUPERVISOR, tn, "zhzf")
    await service.accept(staff("zhzf"), tn)
    await service.answer(staff("zhzf"), tn, ANSWER)
    await service.rate(tn, code, "satisfied", "")
    await service.request_review(tn, code, "摊贩又回来了，问题并没有解决。")
    report = await service.store.get_report(tn)
    assert report is not None and report.status is Status.REVIEW

    sup = await visitor("sup1")
    status, html = await sup.get("/staff")
    labels = tab_labels(html)
    assert "复查申请" in labels and labels[-1] == "全部"
    status, html = await sup.get("/staff?queue=review")
    assert status == 200 and current_tab(html) == "复查申请" and tn in html
    # Bureau staff decide no reviews: no such tab, and asking for it falls back to their own.
    bureau = await visitor("zhzf1")
    status, html = await bureau.get("/staff?queue=review")
    assert "复查申请" not in tab_labels(html) and current_tab(html) == "待签收"


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
    alert = re.search(r'<div class="notice error" role="alert">(.*?)</div>', html, re.S)
    assert alert
    # The text, the phone and the file, all on the first return, in the form's order.
    messages = re.findall(r"<li>([^<]+)</li>", alert.group(1))
    assert len(messages) == 3, messages
    assert "诉求内容" in messages[0] and "手机号码" in messages[1] and "photo.jpg" in messages[2]
    assert 'id="attachments-error"' in html and 'id="contact_phone-error"' in html
    # Only the phone is marked: the name typed correctly is not red, nor the whole fieldset.
    name_field = re.search(r'<div class="field([^"]*)">\s*<label for="f-contact_name"', html)
    phone_field = re.search(r'<div class="field([^"]*)">\s*<label for="f-contact_phone"', html)
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


async def test_points_are_explained_where_the_citizen_sees_them(
    visitor: MakeVisitor, service: FeedbackService
) -> None:
    from feedback import incentives

    citizen = await visitor()
    tn, code = await submit(citizen)
    await service.assign(SUPERVISOR, tn, "zhzf", issue_types=["abuse_of_power"])
    await service.accept(staff("zhzf"), tn)
    await service.answer(staff("zhzf"), tn, ANSWER)
    await incentives.substantiate(service, SUPERVISOR, tn, True, "经核查情况属实")

    status, html = await citizen.post("/track", {"tn": tn, "code": code})
    assert status == 200 and 'id="points-about"' in html
    about = re.search(r'id="points-about">(.*?)</p>', html, re.S)
    assert about
    assert "社会监督激励" in about.group(1) and "凭受理编号和查询码领取" in about.group(1)
    assert "兑换办法以区司法局公布为准" in about.group(1)
    status, html = await citizen.post("/track/claim", {"tn": tn, "code": code})
    assert "已领取 50 分监督积分" in html and "兑换办法以区司法局公布为准" in html
    assert 'id="points-about"' in html  # still explained once claimed


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


async def test_staff_forms_leave_validation_to_the_server(
    visitor: MakeVisitor, service: FeedbackService
) -> None:
    citizen = await visitor()
    tn, _ = await submit(citizen)
    await service.assign(SUPERVISOR, tn, "zhzf")
    await service.accept(staff("zhzf"), tn)

    bureau = await visitor("zhzf1")
    status, html = await bureau.get(f"/staff/reports/{tn}")
    forms = re.findall(r"<form[^>]*>", html)
    staff_forms = [f for f in forms if "/staff/reports/" in f]
    assert staff_forms and all("novalidate" in f for f in staff_forms), staff_forms
    assert 'max="15"' in html  # the hint stays; the browser just does not block on it
    status, html = await bureau.post(
        f"/staff/reports/{tn}/extension", {"days": "99", "reason": "需要现场复核多个摊点。"}
    )
    assert status == 400 and "延期天数应为 1 至 15 个工作日" in html
    _, queue = await bureau.get("/staff")
    assert re.search(r'<form class="filters"[^>]*novalidate', queue)
