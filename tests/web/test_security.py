"""What must be refused: forged forms, other bureaus' reports, guessed passwords, stack traces."""

from __future__ import annotations

import pytest
from aiohttp import web

from feedback import accounts
from feedback.service import FeedbackService
from feedback.settings import Settings
from feedback.store import ReportFilter
from tests.conftest import SUPERVISOR, Clock
from tests.web.conftest import PASSWORD, MakeVisitor, Visitor, png_bytes, submit
from web.app import create_app
from web.staff import ACTIONS


@pytest.fixture
def app(settings: Settings, clock: Clock) -> web.Application:
    app = create_app(settings, clock=clock)

    async def boom(request: web.Request) -> web.Response:
        raise RuntimeError("secret internals /etc/passwd")

    app.router.add_get("/boom", boom)
    return app


# Every state-changing HTML route; {tn} is filled in with a real report.
CITIZEN_POSTS = ["/report", "/track", "/track/rate", "/track/review"]
STAFF_POSTS = ["/staff/login", "/staff/logout"] + [f"/staff/reports/{{tn}}/{a}" for a in ACTIONS]


async def routed_report(v: Visitor, service: FeedbackService, dept: str = "zhzf") -> str:
    """A report the supervisor has assigned to ``dept``."""
    tn, _ = await submit(v)
    await service.assign(SUPERVISOR, tn, dept)
    return tn


@pytest.mark.parametrize("token", ["missing", "wrong"])
async def test_every_state_changing_route_refuses_a_missing_or_wrong_csrf_token(
    visitor: MakeVisitor, service: FeedbackService, token: str
) -> None:
    v = await visitor("zhzf1")
    tn, code = await submit(v)
    await service.assign(SUPERVISOR, tn, "zhzf")
    before = await service.store.get_report(tn)
    for path in CITIZEN_POSTS + STAFF_POSTS:
        data = {"tn": tn, "code": code, "answer": "经核查，已经处理完毕并告知当事人。",
                "username": "zhzf1", "password": PASSWORD, "department": "zjj",
                "reason": "不属于本单位的职责", "rating": "satisfied"}  # fmt: skip
        if token == "wrong":
            data["csrf_token"] = "forged-" + v.token[7:]
        status, html = await v.post(path.format(tn=tn), data, token=False)
        assert status == 403, path
        if path == "/report":
            # The report form comes back with what was typed (test_citizen.py), unfiled.
            assert "安全校验已过期" in html
        elif path.endswith("/answer"):
            # So does the staff answer form (test_staff_desk.py), unsent.
            assert "页面已过期，答复尚未发送" in html
        else:
            assert "页面已过期或无法确认请求来自本站" in html
    assert len(await service.store.list_reports(ReportFilter())) == 1
    after = await service.store.get_report(tn)
    assert before and after and after.record_count == before.record_count
    # Still logged in: the refused logout did nothing.
    status, _ = await v.get("/staff")
    assert status == 200


async def test_multipart_forms_need_the_token_too(visitor: MakeVisitor) -> None:
    from aiohttp import FormData

    v = await visitor()
    await v.get("/report")
    form = FormData()
    form.add_field("text", "这是一段足够长的诉求内容，描述了问题。")
    form.add_field("attachments", png_bytes(), filename="a.png", content_type="image/png")
    status, _ = await v.post("/report", form)
    assert status == 403


async def test_the_json_api_needs_no_token(visitor: MakeVisitor) -> None:
    v = await visitor()
    resp = await v.client.post(
        "/api/v1/reports", json={"text": "这是一段足够长的诉求内容，描述了问题。"}
    )
    assert resp.status == 201


async def test_another_bureau_is_refused_on_every_staff_route(
    visitor: MakeVisitor, service: FeedbackService
) -> None:
    owner = await visitor("zhzf1")
    tn = await routed_report(owner, service)
    await owner.post(f"/staff/reports/{tn}/accept", {})
    await owner.get(f"/staff/reports/{tn}")
    from aiohttp import FormData

    form = FormData()
    form.add_field("csrf_token", owner.token)
    form.add_field("documents", png_bytes(), filename="现场.png", content_type="image/png")
    status, html = await owner.post(f"/staff/reports/{tn}/attach", form)
    assert status == 200
    rows = await service.store.fetch("SELECT id FROM attachments")
    att_id = rows[0]["id"]
    before = await service.store.get_report(tn)
    assert before is not None

    other = await visitor("zjj1")
    status, html = await other.get(f"/staff/reports/{tn}")
    assert status == 404 and "未找到该诉求，或不属于本单位办理" in html
    assert before.title not in html
    status, _ = await other.get(f"/staff/attachments/{att_id}")
    assert status == 404
    for action in ACTIONS:
        data = {
            "department": "zjj",
            "reason": "这件事不归我们管理",
            "answer": "经核查，已经处理完毕并告知当事人。",
            "days": "5",
            "issue_types": "opacity",
            "approve": "1",
            "reopen": "1",
            "note": "越权操作的尝试",
        }
        status, html = await other.post(f"/staff/reports/{tn}/{action}", data)
        assert status in (403, 404), action
        assert "13800001234" not in html and before.text not in html
    for queue in ("new", "in_progress", "all", "due_soon", "overdue"):
        status, html = await other.get("/staff", params={"queue": queue, "q": "票据"})
        assert tn not in html
    status, _ = await other.get("/staff/triage")
    assert status == 403
    after = await service.store.get_report(tn)
    assert after is not None and after.record_count == before.record_count
    assert len(after.attachments) == 1


async def test_five_failed_logins_lock_the_username_for_a_while(
    visitor: MakeVisitor, service: FeedbackService
) -> None:
    v = await visitor()
    for _ in range(accounts.USERNAME_FAILURES):
        status, _ = await v.login("zhzf1", "not-the-password")
        assert status == 401
    # Now even the right password is refused, from this address or any other.
    status, html = await v.login("zhzf1", PASSWORD)
    assert status == 429 and "登录失败次数过多，请 15 分钟后再试" in html
    elsewhere = await visitor()
    status, _ = await elsewhere.login("zhzf1", PASSWORD)
    assert status == 429
    # Other accounts still log in.
    status, _ = await elsewhere.login("zjj1", PASSWORD)
    assert status == 200


async def test_throttle_counts_per_address_across_usernames(service: FeedbackService) -> None:
    from datetime import UTC, datetime, timedelta

    from feedback.errors import PermissionDenied, RateLimited

    now = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
    for i in range(accounts.ADDRESS_FAILURES):
        with pytest.raises(PermissionDenied):
            await accounts.authenticate(service.store, f"guess{i}", "x", "10.0.0.9", now=now)
    with pytest.raises(RateLimited):
        await accounts.authenticate(service.store, "zhzf1", PASSWORD, "10.0.0.9", now=now)
    later = now + accounts.THROTTLE_WINDOW + timedelta(seconds=1)
    user = await accounts.authenticate(service.store, "zhzf1", PASSWORD, "10.0.0.9", now=later)
    assert user.username == "zhzf1"


async def test_disabled_account_is_logged_out_at_once(
    visitor: MakeVisitor, service: FeedbackService
) -> None:
    v = await visitor("zhzf1")
    await accounts.set_active(service.store, "zhzf1", False)
    resp = await v.client.get("/staff", allow_redirects=False)
    assert resp.status == 303
    status, html = await v.login("zhzf1")
    assert status == 401


async def test_staff_only_for_staff_and_triage_only_for_the_desk(visitor: MakeVisitor) -> None:
    v = await visitor()
    resp = await v.client.get("/staff/attachments/1", allow_redirects=False)
    assert resp.status == 303
    bureau = await visitor("zhzf1")
    status, html = await bureau.get("/staff/triage")
    assert status == 403 and "无权访问" in html


async def test_no_open_redirect_after_login(visitor: MakeVisitor) -> None:
    v = await visitor()
    await v.get("/staff/login?next=//evil.example/")
    resp = await v.client.post(
        "/staff/login",
        data={"username": "zhzf1", "password": PASSWORD, "next": "https://evil.example/",
              "csrf_token": v.token},
        allow_redirects=False,
    )  # fmt: skip
    assert resp.status == 303 and resp.headers["Location"] == "/staff"


async def test_a_crash_shows_a_chinese_page_without_internals(visitor: MakeVisitor) -> None:
    v = await visitor()
    status, html = await v.get("/boom")
    assert status == 500 and "服务器内部错误" in html
    assert "Traceback" not in html and "/etc/passwd" not in html and "RuntimeError" not in html


async def test_pages_carry_protective_headers_and_cookie_flags(visitor: MakeVisitor) -> None:
    v = await visitor()
    await v.get("/report")
    assert v.last is not None
    h = v.last.headers
    assert "frame-ancestors 'none'" in h["Content-Security-Policy"]
    assert h["X-Content-Type-Options"] == "nosniff"
    cookie = h["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


async def test_brute_forcing_a_follow_up_code_on_the_page_gets_429(visitor: MakeVisitor) -> None:
    citizen = await visitor()
    tn, code = await submit(citizen)
    attacker = await visitor()
    await attacker.get("/track")
    answers = []
    for i in range(12):
        status, html = await attacker.post("/track", {"tn": tn, "code": f"WRONG-{i:04d}"})
        answers.append(status)
    assert answers[0] == 404 and answers[-1] == 429
    assert "查询码输入错误次数较多" in html


async def test_malformed_multipart_is_refused_not_a_crash(visitor: MakeVisitor) -> None:
    v = await visitor()
    await v.get("/report")
    resp = await v.client.post(
        "/report",
        data=b'--xyz\r\nContent-Disposition: form-data; name="text"\r\n\r\nabc',
        headers={"Content-Type": "multipart/form-data; boundary=xyz"},
    )
    assert resp.status in (400, 403)
