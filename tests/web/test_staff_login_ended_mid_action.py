"""A clerk's login ends (ten hours after it began, or logged out in another tab) while a
report's page is still open; the clerk presses 签收 or adds a note. Nothing is done, and the
login page says so; after logging in the clerk is back on the report's page to do it again --
not on a "405 不支持该请求方式" page, as happened when the login sent the browser on to the
action's address with a GET."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from feedback import accounts
from feedback.ratelimit import stamp
from feedback.service import FeedbackService
from tests.conftest import SUPERVISOR
from tests.web.conftest import PASSWORD, MakeVisitor, submit


async def a_working_day_later(service: FeedbackService) -> None:
    """Every login ends as it does ten hours after it began (sessions run on the wall clock)."""
    later = datetime.now(UTC) + accounts.SESSION_LIFETIME + timedelta(minutes=1)
    async with service.store.transaction() as tx:
        await tx.execute(accounts.SESSIONS_EXPIRED, {"now": stamp(later)})


async def test_an_action_after_the_login_ended_comes_back_to_the_report(
    visitor: MakeVisitor, service: FeedbackService
) -> None:
    citizen = await visitor()
    tn, _ = await submit(citizen)
    await service.assign(SUPERVISOR, tn, "zhzf")
    clerk = await visitor("zhzf1")
    status, _ = await clerk.get(f"/staff/reports/{tn}")
    assert status == 200

    await a_working_day_later(service)
    for action, data in (("accept", {}), ("note", {"note": "已电话联系诉求人"})):
        status, html = await clerk.post(f"/staff/reports/{tn}/{action}", data)
        assert status == 200 and 'action="/staff/login"' in html
        assert 'id="login-ended"' in html and "操作没有完成" in html
        assert f'name="next" value="/staff/reports/{tn}"' in html
    report = await service.store.get_report(tn)
    assert report is not None and report.status.value == "routed"  # nothing was done

    status, html = await clerk.post(
        "/staff/login",
        {"username": "zhzf1", "password": PASSWORD, "next": f"/staff/reports/{tn}"},
    )
    assert status == 200 and clerk.last is not None
    assert clerk.last.url.path == f"/staff/reports/{tn}" and "签收" in html
    status, html = await clerk.post(f"/staff/reports/{tn}/accept", {})
    assert status == 200 and "已签收" in html


async def test_a_form_elsewhere_on_the_desk_comes_back_to_its_page(
    visitor: MakeVisitor, service: FeedbackService
) -> None:
    lead = await visitor("zhzf1")
    status, _ = await lead.get("/staff/replies")
    assert status == 200
    await a_working_day_later(service)
    status, html = await lead.post(
        "/staff/replies", {"title": "已受理", "body": "您反映的问题已收到，我们正在核查。"},
        headers={"Referer": str(lead.last.url) if lead.last else ""},
    )  # fmt: skip
    assert status == 200 and 'id="login-ended"' in html
    assert 'name="next" value="/staff/replies"' in html
