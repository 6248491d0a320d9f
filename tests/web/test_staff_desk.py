"""At the desk, through the pages: an answer typed while the login ran out is kept, 督办 asks
for a reason and is not taken twice, 改派 moves a report, the extension form is not offered
after an application (the real app on a real SQLite file)."""

from __future__ import annotations

import html as htmllib
import re

from feedback.service import FeedbackService
from tests.conftest import SUPERVISOR, staff
from tests.web.conftest import PASSWORD, MakeVisitor, submit

ANSWER = "经核查，执法队员确未开具票据，已责令补开票据并退还罚款，\n对相关人员批评教育。"


async def signed_for(visitor: MakeVisitor, service: FeedbackService) -> str:
    tn, _ = await submit(await visitor())
    await service.assign(SUPERVISOR, tn, "zhzf")
    await service.accept(staff("zhzf"), tn)
    return tn


def textarea(page: str, name: str) -> str:
    found = re.search(rf'<textarea[^>]*name="{name}"[^>]*>(.*?)</textarea>', page, re.S)
    assert found, f"no textarea {name}"
    return htmllib.unescape(found.group(1))


async def expire_logins(service: FeedbackService) -> None:
    # What ten hours away from the desk does: every login's session is past its end.
    async with service.store.transaction() as tx:
        await tx.execute("UPDATE staff_sessions SET expires_at = ?", ("2000-01-01T00:00:00+00:00",))


async def test_an_answer_typed_after_the_login_expired_is_kept_through_the_login(
    visitor: MakeVisitor, service: FeedbackService
) -> None:
    tn = await signed_for(visitor, service)
    clerk = await visitor("zhzf1")
    await clerk.get(f"/staff/reports/{tn}")
    await expire_logins(service)
    status, page = await clerk.post(f"/staff/reports/{tn}/answer", {"answer": ANSWER})
    # Not sent, not lost: the login page, holding the text.
    assert status == 401 and "工作人员登录" in page and "尚未发送" in page
    assert textarea(page, "carry_answer") == ANSWER
    assert (await service.staff_view(SUPERVISOR, tn)).report.answer is None
    # A wrong password keeps it too.
    status, page = await clerk.post(
        "/staff/login",
        {"username": "zhzf1", "password": "wrong", "next": f"/staff/reports/{tn}",
         "carry_answer": ANSWER},
    )  # fmt: skip
    assert status == 401 and textarea(page, "carry_answer") == ANSWER
    status, page = await clerk.post(
        "/staff/login",
        {"username": "zhzf1", "password": PASSWORD, "next": f"/staff/reports/{tn}",
         "carry_answer": ANSWER},
    )  # fmt: skip
    # Back at the report's answer form with the text, ready to send.
    assert status == 200 and tn in page and "请核对后发送" in page
    assert textarea(page, "answer") == ANSWER
    status, page = await clerk.post(f"/staff/reports/{tn}/answer", {"answer": ANSWER})
    assert status == 200 and "答复已发送" in page
    assert (await service.staff_view(SUPERVISOR, tn)).report.answer == ANSWER


async def test_an_answer_from_a_page_of_an_ended_browser_session_is_kept(
    visitor: MakeVisitor, service: FeedbackService
) -> None:
    tn = await signed_for(visitor, service)
    clerk = await visitor("zhzf1")
    await clerk.get(f"/staff/reports/{tn}")
    old_token = clerk.token
    clerk.client.cookie_jar.clear()  # the browser was closed, the tab restored
    status, page = await clerk.post(
        f"/staff/reports/{tn}/answer", {"answer": ANSWER, "csrf_token": old_token}
    )
    assert status == 401 and textarea(page, "carry_answer") == ANSWER
    # Logged in again in another tab, then the old page sends: the form again, text kept.
    again = await visitor("zhzf1")
    status, page = await again.post(
        f"/staff/reports/{tn}/answer", {"answer": ANSWER, "csrf_token": "stale-token"}
    )
    assert status == 403 and "页面已过期，答复尚未发送" in page
    assert textarea(page, "answer") == ANSWER
    assert (await service.staff_view(SUPERVISOR, tn)).report.answer is None


async def test_escalation_asks_for_a_reason_and_is_not_taken_twice(
    visitor: MakeVisitor, service: FeedbackService
) -> None:
    tn, _ = await submit(await visitor())
    await service.assign(SUPERVISOR, tn, "zhzf")
    sup = await visitor("sup1")
    status, page = await sup.get(f"/staff/reports/{tn}")
    assert "督办理由（尚未逾期，必须填写）" in page
    status, page = await sup.post(f"/staff/reports/{tn}/escalate", {"note": ""})
    assert status == 400 and 'id="escalate-note-error"' in page and "督办理由" in page
    status, page = await sup.post(
        f"/staff/reports/{tn}/escalate", {"note": "群众多次来电，请优先办理"}
    )
    assert status == 200 and "已督办（1 级）" in page
    # The form is gone for the window; a second post (another tab) changes nothing.
    assert 'id="escalate-form"' not in page and 'id="escalate-later"' in page
    status, page = await sup.post(f"/staff/reports/{tn}/escalate", {"note": "请优先办理"})
    assert status == 409 and "不重复督办" in page and "督办 1 级" in page


async def test_supervisor_reassigns_through_the_page(
    visitor: MakeVisitor, service: FeedbackService
) -> None:
    tn = await signed_for(visitor, service)
    sup = await visitor("sup1")
    status, page = await sup.get(f"/staff/reports/{tn}")
    assert 'id="reassign-form"' in page
    status, page = await sup.post(f"/staff/reports/{tn}/reassign", {"department": "zjj"})
    assert status == 400 and 'id="reassign-reason-error"' in page
    status, page = await sup.post(
        f"/staff/reports/{tn}/reassign",
        {"department": "zjj", "reason": "属住建部门监管的施工事项，改派住建局。"},
    )
    assert status == 200 and "已改派至 区住房和城乡建设局" in page
    assert "属住建部门监管的施工事项" in page  # in the record shown on the page
    # The bureau's clerk sees neither the form nor, now, the report.
    clerk = await visitor("zhzf1")
    status, _ = await clerk.get(f"/staff/reports/{tn}")
    assert status == 404
    new = await visitor("zjj1")
    status, page = await new.get(f"/staff/reports/{tn}")
    assert status == 200 and 'id="do-accept"' in page and 'id="reassign-form"' not in page


async def test_the_extension_form_is_gone_after_one_application(
    visitor: MakeVisitor, service: FeedbackService
) -> None:
    tn = await signed_for(visitor, service)
    clerk = await visitor("zhzf1")
    status, page = await clerk.get(f"/staff/reports/{tn}")
    assert "只能申请一次" in page and 'action="/staff/reports/' + tn + '/extension"' in page
    await clerk.post(
        f"/staff/reports/{tn}/extension", {"days": "5", "reason": "需要调取执法记录仪视频。"}
    )
    await service.decide_extension(SUPERVISOR, tn, False, "理由不充分")
    status, page = await clerk.get(f"/staff/reports/{tn}")
    assert "/extension" not in page
    status, page = await clerk.post(
        f"/staff/reports/{tn}/extension", {"days": "5", "reason": "再次申请，情况复杂。"}
    )
    assert status == 409 and "只能申请一次延期" in page
