"""Staff at work: log in, triage, sign for, answer, attach documents — every step in the record."""

from __future__ import annotations

import re

from aiohttp import FormData

from feedback import labels
from feedback.models import Status
from feedback.service import FeedbackService
from feedback.store import ReportFilter
from tests.conftest import SUPERVISOR, Clock, staff
from tests.web.conftest import REPORT_FORM, MakeVisitor, submit

ANSWER = "经核查，执法队员确未开具票据，已责令补开并退还多收的款项，对相关人员批评教育。"


async def test_login_required_and_back_to_the_page_asked_for(visitor: MakeVisitor) -> None:
    v = await visitor()
    resp = await v.client.get("/staff/reports/ZC-2026-000001", allow_redirects=False)
    assert resp.status == 303
    assert resp.headers["Location"].startswith("/staff/login?next=/staff/reports/ZC-2026-000001")
    await v.get(resp.headers["Location"])
    status, html = await v.post(
        "/staff/login",
        {
            "username": "zhzf1",
            "password": "correct-horse-42",
            "next": "/staff/reports/ZC-2026-000001",
        },
    )
    # Logged in, and sent on to the report (which does not exist: a Chinese 404 page).
    assert status == 404 and "未找到该诉求" in html and "城管张科员" in html


async def test_wrong_password_is_told_and_username_kept(visitor: MakeVisitor) -> None:
    v = await visitor()
    status, html = await v.login("zhzf1", "wrong-password")
    assert status == 401 and "用户名或密码不正确" in html and 'value="zhzf1"' in html
    status, html = await v.login("nobody", "wrong-password")
    assert status == 401 and "用户名或密码不正确" in html


async def test_triage_then_bureau_signs_for_and_answers(
    visitor: MakeVisitor, service: FeedbackService
) -> None:
    citizen = await visitor()
    tn, _ = await submit(citizen, anonymous="0", contact_name="张三", contact_phone="13800001234")

    desk = await visitor("sfj1")
    status, html = await desk.get("/staff/triage")
    assert status == 200 and tn in html and "待分办" in html
    status, html = await desk.get(f"/staff/reports/{tn}")
    assert status == 200 and "分派" in html
    # The triage desk is not the lead bureau: no contact details.
    assert "13800001234" not in html and "实名反映" in html
    status, html = await desk.post(
        f"/staff/reports/{tn}/assign",
        {"department": "zhzf", "issue_types": ["opacity", "abuse_of_power"], "note": "罚款未开票"},
    )
    assert status == 200 and "已分派至 区综合行政执法局" in html

    bureau = await visitor("zhzf1")
    status, html = await bureau.get("/staff?queue=new")
    assert tn in html
    status, html = await bureau.get(f"/staff/reports/{tn}")
    assert "13800001234" in html and "张三" in html  # the lead bureau sees who to call
    status, html = await bureau.post(f"/staff/reports/{tn}/accept", {})
    assert status == 200 and "已签收" in html and "答复期限" in html

    status, html = await bureau.post(f"/staff/reports/{tn}/answer", {"answer": "已处理"})
    assert status == 400 and "答复内容至少需要 10 个字" in html and "已处理</textarea>" in html
    status, html = await bureau.post(f"/staff/reports/{tn}/answer", {"answer": ANSWER})
    assert status == 200 and "答复已发送" in html

    report = await service.store.get_report(tn)
    assert report is not None and report.status is Status.ANSWERED
    assert report.issue_types == ["opacity", "abuse_of_power"]
    # Every step is in the record, with who did it.
    record = re.findall(r'<strong>([^<]+)</strong>\s*<span class="who">([^<]+)</span>', html)
    assert [(a, w.strip()) for a, w in record][-3:] == [
        ("人工分派", "工作人员 sfj1"),
        ("签收", "工作人员 zhzf1"),
        ("答复", "工作人员 zhzf1"),
    ]
    assert (await service.verify_records())[1] == []


async def test_send_back_with_reason_keeps_input_on_error(
    visitor: MakeVisitor, service: FeedbackService
) -> None:
    citizen = await visitor()
    tn, _ = await submit(citizen)
    await service.assign(SUPERVISOR, tn, "zjj")
    bureau = await visitor("zjj1")
    status, html = await bureau.post(
        f"/staff/reports/{tn}/send-back", {"department": "", "reason": "摆摊罚款属于城管执法事项"}
    )
    assert status == 400 and "请选择您认为应当承办的单位" in html
    assert "摆摊罚款属于城管执法事项</textarea>" in html
    status, html = await bureau.post(
        f"/staff/reports/{tn}/send-back",
        {"department": "zhzf", "reason": "摆摊罚款属于城管执法事项"},
    )
    # No longer this bureau's report: back to the queue, with the notice.
    assert status == 200 and "已退回" in html and "工作台" in html
    report = await service.store.get_report(tn)
    assert report is not None and report.department == "zhzf"


async def test_send_back_offers_other_bureaus_and_is_not_offered_after_its_window(
    visitor: MakeVisitor, service: FeedbackService, clock: Clock
) -> None:
    citizen = await visitor()
    tn, _ = await submit(citizen)
    await service.assign(SUPERVISOR, tn, "zjj")
    bureau = await visitor("zjj1")
    status, html = await bureau.get(f"/staff/reports/{tn}")
    form = html.split('id="send-back-form"', 1)[1].split("</form>", 1)[0]
    # The bureau can only suggest another bureau: its own is not in the list.
    assert status == 200 and 'value="zhzf"' in form and 'value="zjj"' not in form
    # A week later (more than 2 working days) the form is gone and the page says why,
    # instead of a form the service would refuse on submit.
    clock.advance(days=7)
    status, html = await bureau.get(f"/staff/reports/{tn}")
    assert status == 200 and 'id="send-back-form"' not in html
    assert "退回时限已过" in html
    status, html = await bureau.post(
        f"/staff/reports/{tn}/send-back", {"department": "zhzf", "reason": "不属于本单位职责范围"}
    )
    assert status == 409 and "已超过退回时限" in html


async def test_the_ruling_after_two_send_backs_is_told_as_a_ruling(
    visitor: MakeVisitor, service: FeedbackService
) -> None:
    citizen = await visitor()
    tn, _ = await submit(citizen)
    await service.assign(SUPERVISOR, tn, "zjj")
    await service.send_back(staff("zjj"), tn, "不属于本单位职责范围", "zhzf")
    await service.send_back(staff("zhzf"), tn, "不属于本单位职责范围", "zjj")
    supervisor = await visitor("sup1")
    status, html = await supervisor.post(f"/staff/reports/{tn}/assign", {"department": "zhzf"})
    assert status == 200 and "已裁定由" in html and "不得再退回" in html
    assert "已分派至" not in html


async def test_extension_requested_by_bureau_and_decided_by_supervisor(
    visitor: MakeVisitor, service: FeedbackService
) -> None:
    citizen = await visitor()
    tn, _ = await submit(citizen)
    await service.assign(SUPERVISOR, tn, "zhzf")
    bureau = await visitor("zhzf1")
    await bureau.post(f"/staff/reports/{tn}/accept", {})
    status, html = await bureau.post(
        f"/staff/reports/{tn}/extension", {"days": "abc", "reason": "需要调取执法记录仪视频"}
    )
    assert status == 400 and "请填写延期的工作日数" in html
    status, html = await bureau.post(
        f"/staff/reports/{tn}/extension", {"days": "10", "reason": "需要调取执法记录仪视频"}
    )
    assert status == 200 and "延期申请已提交" in html
    sup = await visitor("sup1")
    status, html = await sup.get("/staff?queue=extension")
    assert tn in html
    status, html = await sup.post(f"/staff/reports/{tn}/decide-extension", {"approve": "1"})
    assert status == 200 and "已批准延期" in html
    status, html = await sup.post(f"/staff/reports/{tn}/escalate", {"note": "请加快办理"})
    assert status == 200 and "已督办" in html
    report = await service.store.get_report(tn)
    assert report is not None and report.extension_used and report.escalation_level == 1


async def test_an_answer_given_while_the_extension_waits_leaves_no_undecided_application(
    visitor: MakeVisitor, service: FeedbackService
) -> None:
    citizen = await visitor()
    tn, code = await submit(citizen)
    await service.assign(SUPERVISOR, tn, "zhzf")
    bureau = await visitor("zhzf1")
    await bureau.post(f"/staff/reports/{tn}/accept", {})
    await bureau.post(
        f"/staff/reports/{tn}/extension", {"days": "5", "reason": "需要调取执法记录仪视频"}
    )
    # The facts were found sooner than feared: the bureau answers before the supervisor decides.
    status, html = await bureau.post(f"/staff/reports/{tn}/answer", {"answer": ANSWER})
    assert status == 200
    sup = await visitor("sup1")
    status, html = await sup.get("/staff?queue=extension")
    assert tn not in html
    status, html = await sup.get(f"/staff/reports/{tn}")
    assert "申请延期 5 个工作日" not in html  # no pending application shown any more
    assert "延期申请（5 个工作日）尚未审核，不再审核" in html  # and the record says why
    # The citizen's timeline says what became of the application, not only that it was made.
    status, html = await citizen.post("/track", {"tn": tn, "code": code})
    assert status == 200 and "承办单位申请延期（5 个工作日），待区司法局审核" in html
    assert "承办单位已答复（此前的延期申请尚未审核，随答复撤回）" in html


async def test_state_conflicts_are_explained_on_the_page(
    visitor: MakeVisitor, service: FeedbackService
) -> None:
    citizen = await visitor()
    tn, _ = await submit(citizen)
    await service.assign(SUPERVISOR, tn, "zhzf")
    bureau = await visitor("zhzf1")
    status, html = await bureau.post(f"/staff/reports/{tn}/answer", {"answer": ANSWER})
    assert status == 409 and "尚未签收" in html


async def test_issue_type_correction_is_kept_as_a_label(
    visitor: MakeVisitor, service: FeedbackService
) -> None:
    citizen = await visitor()
    tn, _ = await submit(citizen)
    await service.assign(SUPERVISOR, tn, "zhzf")
    bureau = await visitor("zhzf1")
    status, html = await bureau.post(f"/staff/reports/{tn}/issue-types", {"issue_types": "opacity"})
    assert status == 200 and "问题类型已更正" in html
    found = await labels.effective(service.store, "issue_type")
    assert [(x.labels, x.source) for x in found] == [(["opacity"], "correction")]


async def test_bureau_attaches_a_document_and_staff_download_it(
    visitor: MakeVisitor, service: FeedbackService
) -> None:
    citizen = await visitor()
    tn, _ = await submit(citizen)
    await service.assign(SUPERVISOR, tn, "zhzf")
    bureau = await visitor("zhzf1")
    await bureau.get(f"/staff/reports/{tn}")
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    form = FormData()
    form.add_field("csrf_token", bureau.token)
    form.add_field("documents", pdf, filename="调查笔录.pdf", content_type="application/pdf")
    status, html = await bureau.post(f"/staff/reports/{tn}/attach", form)
    assert status == 200 and "已上传 1 个文件" in html and "调查笔录.pdf" in html
    att_id = re.search(r'href="/staff/attachments/(\d+)"', html).group(1)  # type: ignore[union-attr]
    resp = await bureau.client.get(f"/staff/attachments/{att_id}")
    assert resp.status == 200 and await resp.read() == pdf
    assert resp.headers["Content-Type"] == "application/pdf"
    assert "attachment" in resp.headers["Content-Disposition"]
    # In the record, not on the citizen's history.
    report = await service.store.get_report(tn)
    assert report is not None
    events = await service.store.list_events(report.id)  # type: ignore[arg-type]
    assert events[-1].action == "note" and not events[-1].public

    form = FormData()
    form.add_field("csrf_token", bureau.token)
    form.add_field("documents", b"MZ\x90\x00", filename="x.pdf", content_type="application/pdf")
    status, html = await bureau.post(f"/staff/reports/{tn}/attach", form)
    assert status == 400 and 'id="attach-documents-error"' in html


async def test_queue_search_and_filters(visitor: MakeVisitor, service: FeedbackService) -> None:
    citizen = await visitor()
    tn1, _ = await submit(citizen)
    tn2, _ = await submit(citizen, text="小区门口的商铺长期占用人行道堆放货物，反映多次无人处理。")
    for tn in (tn1, tn2):
        await service.assign(SUPERVISOR, tn, "zhzf")
    bureau = await visitor("zhzf1")
    status, html = await bureau.get("/staff", params={"queue": "new", "q": "人行道"})
    assert tn2 in html and tn1 not in html
    sup = await visitor("sup1")
    status, html = await sup.get("/staff", params={"queue": "all", "department": "zjj"})
    assert status == 200 and tn1 not in html and "共 0 件" in html
    status, html = await sup.get("/staff", params={"queue": "nonsense"})
    assert status == 200  # an unknown queue falls back to the first one


async def test_logout_ends_the_session(visitor: MakeVisitor) -> None:
    v = await visitor("zhzf1")
    status, html = await v.post("/staff/logout", {})
    assert status == 200 and "工作人员登录" in html
    resp = await v.client.get("/staff", allow_redirects=False)
    assert resp.status == 303


async def test_citizen_report_count_unchanged_by_page_views(
    visitor: MakeVisitor, service: FeedbackService
) -> None:
    v = await visitor()
    for path in ("/", "/report", "/track", "/staff/login"):
        status, _ = await v.get(path)
        assert status == 200
    assert await service.store.count_reports(ReportFilter()) == 0
    assert REPORT_FORM["title"]


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


async def test_clerk_finds_a_report_by_its_number_from_any_queue(
    visitor: MakeVisitor, service: FeedbackService
) -> None:
    citizen = await visitor()
    tn, _ = await submit(citizen)
    other, _ = await submit(
        citizen, text="小区门口的商铺长期占用人行道堆放货物，反映多次无人处理。"
    )
    for number in (tn, other):
        await service.assign(SUPERVISOR, number, "zhzf")
    bureau = await visitor("zhzf1")
    # Typed as a phone's input method gives it: full-width dashes, lower case.
    status, html = await bureau.get(
        "/staff", params={"queue": "new", "q": tn.lower().replace("-", "－")}
    )
    assert status == 200 and "共 1 件" in html and f">{tn}</a>" in html and other not in html
    # Only its last digits.
    status, html = await bureau.get("/staff", params={"queue": "new", "q": tn[-3:]})
    assert f">{tn}</a>" in html and other not in html
    # Signed for, it has left 待签收: the page says where the search finds it.
    await service.accept(staff("zhzf"), tn)
    status, html = await bureau.get("/staff", params={"queue": "new", "q": tn})
    assert "共 0 件" in html and "在全部诉求中找到 1 件" in html
    assert f'href="?queue=all&amp;q={tn}"' in html
    status, html = await bureau.get("/staff", params={"queue": "all", "q": tn})
    assert "共 1 件" in html and f">{tn}</a>" in html
    # Another bureau's clerk learns nothing of it.
    stranger = await visitor("zjj1")
    status, html = await stranger.get("/staff", params={"queue": "all", "q": tn})
    assert "共 0 件" in html and tn not in html.replace(f'value="{tn}"', "")


async def test_a_page_number_edited_past_any_queue_shows_the_queue_not_an_error(
    visitor: MakeVisitor,
) -> None:
    """A supervisor who edits the link to page=99999999999999999999 (in 全部 or the 分办 queue)
    gets the console back, not a 500 page."""
    sup = await visitor("sup1")
    for path in ("/staff?queue=all&page=99999999999999999999",
                 "/staff/triage?page=99999999999999999999"):  # fmt: skip
        status, html = await sup.get(path)
        assert status == 200, path
        assert "出错" not in html and "<form" in html


async def test_a_link_with_a_bureau_the_district_no_longer_has_says_so(
    visitor: MakeVisitor,
) -> None:
    """A supervisor opens an old bookmark filtered to a bureau code that was renamed: the page
    says the bureau is unknown and shows every bureau's reports, instead of silently doing so."""
    citizen = await visitor()
    tn, _ = await submit(citizen)
    sup = await visitor("sup1")
    status, html = await sup.get("/staff?queue=all&department=zzz")
    assert status == 200
    assert 'id="unknown-department"' in html and "没有代码为“zzz”的承办单位" in html
    assert tn in html
    status, html = await sup.get("/staff?queue=all&department=zhzf")
    assert status == 200 and 'id="unknown-department"' not in html


async def test_the_suggestion_panel_says_when_a_person_decided_otherwise(
    visitor: MakeVisitor, service: FeedbackService
) -> None:
    citizen = await visitor()
    tn, _ = await submit(citizen)  # the model proposes 综合执法局
    await service.assign(SUPERVISOR, tn, "zhzf")
    clerk = await visitor("zhzf1")
    status, html = await clerk.get(f"/staff/reports/{tn}")
    assert status == 200 and "智能分办建议" in html and 'id="ai-overridden"' not in html
    await service.reassign(SUPERVISOR, tn, "zjj", "属于物业管理范围")  # decided otherwise
    other = await visitor("zjj1")
    status, html = await other.get(f"/staff/reports/{tn}")
    assert status == 200 and 'id="ai-overridden"' in html
    assert "模型建议 区综合行政执法局，本件现由 <strong>区住房和城乡建设局</strong> 承办" in html


async def test_the_header_names_the_triage_desk_for_the_supervising_bodys_staff(
    visitor: MakeVisitor,
) -> None:
    desk = await visitor("sfj1")
    status, html = await desk.get("/staff")
    assert status == 200 and "区司法局 · 分办工作人员" in html
    bureau = await visitor("zhzf1")
    status, html = await bureau.get("/staff")
    assert status == 200 and "区综合行政执法局 · 承办单位工作人员" in html
