"""A form's own address opened again with a GET -- picked from the browser's history, a
bookmark, a tab reloaded the next morning, a link pasted into an e-mail -- lands on the page
the form is on, never on a "不支持该请求方式" page."""

from __future__ import annotations

from feedback.service import FeedbackService
from tests.conftest import SUPERVISOR
from tests.web.conftest import MakeVisitor, submit


async def test_a_citizen_opening_a_status_action_from_the_history_gets_the_tracking_form(
    visitor: MakeVisitor,
) -> None:
    citizen = await visitor()
    for action in ("rate", "review", "claim"):
        status, html = await citizen.get(f"/track/{action}")
        assert status == 200 and citizen.last is not None
        assert citizen.last.url.path == "/track", action
        assert "查询进度" in html and "不支持该请求方式" not in html


async def test_a_clerk_opening_an_action_address_gets_the_report_page(
    visitor: MakeVisitor, service: FeedbackService
) -> None:
    citizen = await visitor()
    tn, _ = await submit(citizen)
    await service.assign(SUPERVISOR, tn, "zhzf")
    clerk = await visitor("zhzf1")
    for action in ("accept", "extension", "answer"):
        status, html = await clerk.get(f"/staff/reports/{tn}/{action}")
        assert status == 200 and clerk.last is not None
        assert clerk.last.url.path == f"/staff/reports/{tn}", action
        assert "签收" in html and "不支持该请求方式" not in html
    report = await service.store.get_report(tn)
    assert report is not None and report.status.value == "routed"  # a GET does nothing
    status, _ = await clerk.get("/staff/dashboard/escalate")
    assert status == 200 and clerk.last is not None and clerk.last.url.path.startswith("/staff")


async def test_the_same_address_logged_out_asks_for_the_login_and_comes_back_to_the_report(
    visitor: MakeVisitor, service: FeedbackService
) -> None:
    citizen = await visitor()
    tn, _ = await submit(citizen)
    stranger = await visitor()
    status, html = await stranger.get(f"/staff/reports/{tn}/accept")
    assert status == 200 and stranger.last is not None
    assert stranger.last.url.path == "/staff/login" and 'action="/staff/login"' in html
    assert f"/staff/reports/{tn}" in stranger.last.url.query.get("next", "")
