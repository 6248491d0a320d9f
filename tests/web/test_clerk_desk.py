"""The clerk's desk (issue 18: 12), through the pages of the real app: a bureau with a lead and
named clerks; a clerk claims (认领) a report and finds it under 我的; the bureau's other
clerks leave it alone; the lead gives it to someone else; internal notes that no citizen
sees; an answer's draft that outlives the login; the bureau's canned replies inserted
without JavaScript; a supervisor opens accounts for a bureau."""

from __future__ import annotations

import html as htmllib
import re

from feedback.models import Actor, Role
from feedback.service import FeedbackService
from feedback.store.base import User
from tests.conftest import SUPERVISOR
from tests.web.conftest import PASSWORD, MakeVisitor, Visitor, password_hash, submit

ANSWER = "经核查，执法队员确未开具票据，已责令补开票据并退还罚款，对相关人员批评教育。"


async def add_account(
    service: FeedbackService, username: str, department: str, name: str, *, lead: bool = False
) -> None:
    # As `feedback users add NAME --role staff --department D [--lead]` makes it (the password
    # hashed once per run: argon2 is slow on purpose).
    async with service.store.transaction() as tx:
        await tx.insert_user(
            User(None, username, password_hash(), "staff", department, name, bureau_lead=lead)
        )


async def bureau(service: FeedbackService) -> None:
    """综合执法局: zhzf1 (城管张科员, a clerk, from the fixtures), a second clerk and a lead."""
    await add_account(service, "zhzf.li", "zhzf", "李科员")
    await add_account(service, "zhzf.boss", "zhzf", "赵科长", lead=True)


async def routed(visitor: MakeVisitor, service: FeedbackService, **form: str) -> tuple[str, str]:
    tn, code = await submit(await visitor(), **form)
    await service.assign(SUPERVISOR, tn, "zhzf")
    return tn, code


def textarea(page: str, name: str) -> str:
    found = re.search(rf'<textarea[^>]*name="{name}"[^>]*>(.*?)</textarea>', page, re.S)
    assert found, f"no textarea {name}"
    return htmllib.unescape(found.group(1))


def rows(page: str) -> list[str]:
    """The tracking numbers listed in a queue."""
    return re.findall(r'<a class="mono tn" href="/staff/reports/([^"]+)"', page)


def assignee(page: str) -> str:
    found = re.search(r'id="assignee">([^<]+)<', page)
    assert found, "no 经办人 on the page"
    return found.group(1)


async def test_a_clerk_claims_a_report_finds_it_under_mine_and_the_others_leave_it(
    visitor: MakeVisitor, service: FeedbackService
) -> None:
    await bureau(service)
    first, _ = await routed(visitor, service)
    second, _ = await routed(
        visitor,
        service,
        title="占道经营执法粗暴",
        text="城管执法人员推搡摊贩，态度恶劣，要求处理。",
    )
    zhang = await visitor("zhzf1")
    _, page = await zhang.get("/staff?queue=new&clerk=none")
    assert sorted(rows(page)) == sorted([first, second]) and "未认领" in page
    _, page = await zhang.get(f"/staff/reports/{first}")
    assert assignee(page) == "未认领" and 'id="do-claim"' in page
    status, page = await zhang.post(f"/staff/reports/{first}/claim", {})
    assert status == 200 and "已认领" in page and assignee(page) == "城管张科员"
    _, page = await zhang.get("/staff?queue=new&clerk=mine")
    assert rows(page) == [first]
    _, page = await zhang.get("/staff?queue=new&clerk=none")
    assert rows(page) == [second]

    # Another clerk of the bureau sees who has it, and may not sign for it or claim it.
    li = await visitor("zhzf.li")
    _, page = await li.get(f"/staff/reports/{first}")
    assert assignee(page) == "城管张科员"
    assert 'id="do-accept"' not in page and 'id="do-claim"' not in page
    status, page = await li.post(f"/staff/reports/{first}/accept", {})
    assert status == 403 and "已由经办人 zhzf1 认领" in page
    status, page = await li.post(f"/staff/reports/{first}/claim", {})
    assert status == 409 and "请本单位负责人指派" in page
    assert (await service.staff_view(SUPERVISOR, first)).report.status.value == "routed"

    # A clerk cannot hand it on; the lead can, within the bureau only.
    status, _ = await zhang.post(f"/staff/reports/{first}/give", {"assignee": "zhzf.li"})
    assert status == 403
    boss = await visitor("zhzf.boss")
    _, page = await boss.get(f"/staff/reports/{first}")
    assert 'id="give-form"' in page and "李科员（zhzf.li）" in page
    assert "zjj1" not in page  # another bureau's staff are not offered
    status, page = await boss.post(f"/staff/reports/{first}/give", {"assignee": "zjj1"})
    assert status == 400 and "请选择本单位在岗的工作人员" in page
    status, page = await boss.post(f"/staff/reports/{first}/give", {"assignee": "zhzf.li"})
    assert status == 200 and assignee(page) == "李科员"
    status, page = await li.post(f"/staff/reports/{first}/accept", {})
    assert status == 200 and "已签收" in page
    _, page = await li.get("/staff?queue=in_progress&clerk=mine")
    assert rows(page) == [first]

    # The record has each step, internal; the lead may put it back to 未认领.
    _, page = await boss.get(f"/staff/reports/{first}")
    assert "认领" in page and "指派经办人" in page and "原经办人：zhzf1" in page
    status, page = await boss.post(f"/staff/reports/{first}/release", {})
    assert status == 200 and assignee(page) == "未认领"


async def test_a_report_sent_back_to_another_bureau_leaves_its_clerk(
    visitor: MakeVisitor, service: FeedbackService
) -> None:
    tn, _ = await routed(visitor, service)
    zhang = await visitor("zhzf1")
    await zhang.post(f"/staff/reports/{tn}/claim", {})
    status, _ = await zhang.post(
        f"/staff/reports/{tn}/send-back",
        {"department": "zjj", "reason": "属于住建部门物业监管职责"},
    )
    assert status == 200
    report = (await service.staff_view(SUPERVISOR, tn)).report
    assert report.department == "zjj" and report.assignee is None
    zjj = await visitor("zjj1")
    _, page = await zjj.get(f"/staff/reports/{tn}")
    assert assignee(page) == "未认领" and 'id="do-claim"' in page


async def test_internal_notes_are_in_the_record_and_never_before_the_citizen(
    visitor: MakeVisitor, service: FeedbackService
) -> None:
    citizen = await visitor()
    tn, code = await submit(citizen)
    await service.assign(SUPERVISOR, tn, "zhzf")
    zhang = await visitor("zhzf1")
    status, page = await zhang.post(f"/staff/reports/{tn}/note", {"note": "短"})
    assert status == 400 and "内部备注" in page and "5" in page
    note = "已电话联系中队长，周三前提供执法记录仪视频。"
    status, page = await zhang.post(f"/staff/reports/{tn}/note", {"note": note})
    assert status == 200 and "内部备注已记入全过程记录" in page
    notes = re.search(r'<ol class="plain notes" id="notes">(.*?)</ol>', page, re.S)
    assert notes and note in notes.group(1) and "城管张科员" in notes.group(1)
    # A supervisor reads it on the report's page.
    sup = await visitor("sup1")
    _, page = await sup.get(f"/staff/reports/{tn}")
    assert note in page
    # The citizen's page, the Open311 updates and the exports never carry it.
    await citizen.get("/track")
    status, page = await citizen.post("/track", {"tn": tn, "code": code})
    assert status == 200 and tn in page
    assert "电话联系中队长" not in page and "内部备注" not in page
    status, feed = await citizen.get(f"/open311/v2/requests/{tn}.json")
    assert status == 200 and tn in feed and "电话联系中队长" not in feed
    for path in ("/staff/dashboard/export.csv",):
        resp = await sup.client.get(path)
        assert resp.status == 200
        assert "电话联系中队长" not in (await resp.read()).decode("utf-8-sig")
    assert [e.public for e in (await service.staff_view(SUPERVISOR, tn)).events
            if e.action == "internal_note"] == [False]  # fmt: skip


async def test_a_saved_draft_comes_back_after_logout_per_clerk_and_goes_when_sent(
    visitor: MakeVisitor, service: FeedbackService
) -> None:
    await bureau(service)
    tn, _ = await routed(visitor, service)
    zhang = await visitor("zhzf1")
    await zhang.post(f"/staff/reports/{tn}/accept", {})
    draft = "经核查，执法队员确未开具票据，"  # half an answer: too short to send, fine to keep
    status, page = await zhang.post(f"/staff/reports/{tn}/answer", {"answer": draft, "do": "draft"})
    assert status == 200 and "草稿已保存" in page and textarea(page, "answer") == draft
    assert (await service.staff_view(SUPERVISOR, tn)).report.answer is None
    await zhang.post("/staff/logout", {})
    status, _ = await zhang.login("zhzf1")
    _, page = await zhang.get(f"/staff/reports/{tn}")
    assert textarea(page, "answer") == draft and "保存的草稿" in page
    # The lead's own form is empty: a draft is the clerk's.
    boss = await visitor("zhzf.boss")
    _, page = await boss.get(f"/staff/reports/{tn}")
    assert textarea(page, "answer") == ""
    status, page = await zhang.post(f"/staff/reports/{tn}/answer", {"answer": ANSWER})
    assert status == 200 and "答复已发送" in page
    report = (await service.staff_view(SUPERVISOR, tn)).report
    assert report.answer == ANSWER
    assert await service.draft(Actor(Role.STAFF, id="zhzf1", department="zhzf"), report) is None


async def test_the_lead_keeps_canned_replies_and_a_clerk_inserts_one_without_script(
    visitor: MakeVisitor, service: FeedbackService
) -> None:
    await bureau(service)
    tn, _ = await routed(visitor, service)
    zhang = await visitor("zhzf1")
    await zhang.post(f"/staff/reports/{tn}/accept", {})
    # A clerk reads the list but may not change it.
    status, page = await zhang.get("/staff/replies")
    assert status == 200 and "本单位还没有常用答复" in page and 'id="reply-form"' not in page
    status, _ = await zhang.post("/staff/replies", {"title": "退还罚款", "body": "已退还。"})
    assert status == 403
    boss = await visitor("zhzf.boss")
    status, page = await boss.post("/staff/replies", {"title": "", "body": "已责令退还罚款。"})
    assert status == 400 and "请填写常用答复的标题" in page and "已责令退还罚款。" in page
    body = "对执法人员未出具票据的问题，我局已责令其补开票据，并对相关人员进行批评教育。"
    status, page = await boss.post("/staff/replies", {"title": "未开票据", "body": body})
    assert status == 200 and "已添加常用答复" in page and body in page
    # Another bureau does not see it.
    zjj = await visitor("zjj1")
    _, page = await zjj.get("/staff/replies")
    assert body not in page

    _, page = await zhang.get(f"/staff/reports/{tn}")
    reply_id = re.search(r'<option value="(\d+)">未开票据</option>', page)
    assert reply_id and 'id="do-insert"' in page
    typed = "您好，您反映的问题已收悉。"
    status, page = await zhang.post(
        f"/staff/reports/{tn}/answer",
        {"answer": typed, "canned": reply_id.group(1), "do": "insert"},
    )
    assert status == 200 and "已插入常用答复“未开票据”" in page
    assert textarea(page, "answer") == f"{typed}\n\n{body}"
    assert (await service.staff_view(SUPERVISOR, tn)).report.answer is None
    # 插入 with nothing chosen says so and keeps the text.
    status, page = await zhang.post(
        f"/staff/reports/{tn}/answer", {"answer": typed, "canned": "", "do": "insert"}
    )
    assert (
        status == 400 and "请先选择要插入的常用答复" in page and textarea(page, "answer") == typed
    )
    # The lead deletes it.
    status, page = await boss.post(f"/staff/replies/{reply_id.group(1)}/delete", {})
    assert status == 200 and "已删除" in page and body not in page


async def test_a_supervisor_opens_named_accounts_for_a_bureau(
    visitor: MakeVisitor, service: FeedbackService
) -> None:
    zjj = await visitor("zjj1")
    status, _ = await zjj.get("/staff/accounts")
    assert status == 403
    sup = await visitor("sup1")
    status, page = await sup.get("/staff/accounts")
    assert status == 200 and "城管张科员" in page
    form = {"username": "zhzf.wu", "name": "吴科员", "department": "zhzf",
            "password": PASSWORD, "password2": "something-else"}  # fmt: skip
    status, page = await sup.post("/staff/accounts", form)
    assert status == 400 and "两次输入的密码不一致" in page and "吴科员" in page
    status, page = await sup.post("/staff/accounts", {**form, "password2": PASSWORD})
    assert status == 200 and "已创建账号 zhzf.wu" in page
    user = await service.store.get_user("zhzf.wu")
    assert user and user.password_hash.startswith("$argon2id$") and not user.bureau_lead
    wu: Visitor = await visitor("zhzf.wu")
    _, page = await wu.get("/staff")
    assert "吴科员" in page
    status, page = await sup.post("/staff/accounts/zhzf.wu/lead", {})
    assert status == 200 and "已设为本单位负责人" in page
    status, page = await sup.post("/staff/accounts/zhzf.wu/disable", {})
    assert status == 200 and "已停用账号 zhzf.wu" in page
    status, _ = await wu.get("/staff")
    assert "工作人员登录" in _
