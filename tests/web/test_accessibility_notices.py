"""The pages notices lead to pass axe-core at 1280 and 390 px (issue 20, part 2): the
unsubscribe link's page (asking, done, a link that is wrong), the status link of an e-mail
that is wrong, the short link of an SMS past its time (410), the supervisor's list of notices
given up on (the dead letters, with the button to send one again), and the public page of one
published report and of a number it does not publish (404).

Together with tests/web/test_accessibility.py, test_accessibility_errors.py and
test_accessibility_staff_forms.py this reaches every page a route of the web app renders:
test_every_html_route_is_reached_by_an_axe_test checks that list against the app's routes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from feedback.service import FeedbackService
from tests.browser import MARKS, axe_page
from tests.conftest import SUPERVISOR, Clock, staff
from tests.web.conftest import REPORT_FORM
from tests.web.test_accessibility import ANSWER, Audit, login, track

DESKTOP = {"width": 1280, "height": 900}
MOBILE = "13800138000"


@MARKS[0]
@MARKS[1]
async def test_the_pages_notices_lead_to_have_no_serious_or_critical_axe_violation(
    browser: Any, server: TestServer, service: FeedbackService, clock: Clock
) -> None:
    base = str(server.make_url("")).rstrip("/")
    audit = Audit()
    # Five answered reports of one bureau: enough for the public page to show it.
    numbers, codes = [], []
    for i in range(5):
        form: dict[str, Any] = dict(REPORT_FORM, title=f"{REPORT_FORM['title']}{i}")
        if i == 0:  # named, with notices by e-mail and SMS
            form = {k: v for k, v in form.items() if not k.startswith("contact_")}
            form.update(anonymous=False, contact={"name": "王五"},
                        notify={"email": "wang@example.com", "sms": MOBILE})  # fmt: skip
        result = await service.submit(form)
        tn = result.tracking_number
        await service.assign(SUPERVISOR, tn, "zhzf")
        await service.accept(staff("zhzf"), tn)
        await service.answer(staff("zhzf"), tn, ANSWER)
        numbers.append(tn)
        codes.append(result.follow_up_code)
    mine = await service.report(numbers[0])
    assert mine is not None and mine.id is not None
    # No sender runs here: the SMS receipt waits; the gateway refuses it for good.
    [receipt, *_] = await service.notices.claim("sms", "test-worker")
    await service.notices.mark_failed(receipt, "HTTP 400 template not approved", permanent=True)
    short = await service.short_status_link(mine.id, receipt.id, numbers[0])

    # The citizen's mail: the unsubscribe link asks, then says it is done; a cut link.
    citizen = await axe_page(browser, DESKTOP)
    token = await service.notices.token_of(mine.id, "email")
    assert token
    await citizen.goto(base + f"/notices/unsubscribe/{token}")
    assert await citizen.locator("button:has-text('确认退订')").count() == 1
    await audit.check(citizen, "unsubscribe-ask")
    await citizen.click("button:has-text('确认退订')")
    assert "已退订" in await citizen.inner_text("main")
    await audit.check(citizen, "unsubscribe-done")
    response = await citizen.goto(base + f"/notices/unsubscribe/{token[:-4]}")
    assert response is not None and response.status == 404
    await audit.check(citizen, "unsubscribe-unknown")
    response = await citizen.goto(base + f"/track/s/{numbers[0]}/not-the-signature")
    assert response is not None and response.status == 404
    assert "查询进度" in await citizen.inner_text("main")
    await audit.check(citizen, "status-link-wrong")

    # Rated, then a review asked for without a reason: the status page with the error.
    await service.rate(numbers[2], codes[2], "satisfied", "")
    await track(citizen, base, numbers[2], codes[2])
    await citizen.click("button:has-text('申请复查')")
    assert await citizen.locator("#reason-error").count() == 1
    await audit.check(citizen, "track-review-error")

    # The public page of the published report, and of a number it does not publish.
    public = await axe_page(browser, DESKTOP)
    await public.goto(base + f"/public/reports?tn={numbers[1]}")
    assert ANSWER in await public.inner_text("main")
    await audit.check(public, "public-report")
    response = await public.goto(base + "/public/reports/ZC-2026-999999")
    assert response is not None and response.status == 404
    await audit.check(public, "public-report-404")

    # The supervisor's list of notices given up on, with the button to send one again.
    sup = await axe_page(browser, DESKTOP)
    await login(sup, base, "sup1")
    await sup.goto(base + "/staff/notices")
    listed = await sup.inner_text("#dead-letters")
    assert "138****8000" in listed and MOBILE not in listed
    assert "2026-03-10 09:30" in listed  # when it was given up, in the district's time
    assert await sup.locator("button:has-text('重新发送')").count() == 1
    await audit.check(sup, "staff-notices-dead-letters")
    await sup.click("button:has-text('重新发送')")
    assert "没有发送失败的通知" in await sup.inner_text("main")
    await audit.check(sup, "staff-notices-none")

    # The SMS's short link, 121 days on: 链接已过期 (410).
    clock.advance(days=121)
    response = await citizen.goto(base + short)
    assert response is not None and response.status == 410
    assert "链接已过期" in await citizen.inner_text("main")
    await audit.check(citizen, "short-link-expired")

    assert not audit.failures, "\n" + "\n".join(audit.failures)
    assert len(audit.pages) == 10


# -- the list of pages against the app's routes -------------------------------------------------

TESTS = Path(__file__).resolve().parent
AXE_TESTS = sorted(TESTS.glob("test_accessibility*.py"))
# Routes that render no page of their own: files, JSON, redirects, and POSTs that answer
# with a redirect (their error states are pages listed below, or flash on the page they
# return to). Each with the reason.
NO_PAGE = {
    "GET /static/{filename}": "files",
    "GET /favicon.ico": "a file",
    "GET /public/checkpoints/{digest}.json": "JSON",
    "GET /staff/attachments/{id}": "a file",
    "GET /staff/dashboard/export.xlsx": "a file",
    "GET /staff/dashboard/export.csv": "a file",
    "GET /public/reports": "redirect to /public/reports/{tn}",
    "GET /r/{token}": "redirect to the status page (unknown/expired: pages below)",
    "GET /track/s/{tn}/{token}": "redirect to the status page (wrong: page below)",
    "POST /staff/logout": "redirect",
    "POST /staff/dashboard/escalate": "redirect back to the dashboard",
    "POST /staff/insight/escalate-issue": "redirect back to the dashboard",
    "POST /staff/insight/rework": "redirect back to the page it came from",
    "POST /staff/replies/{id}/delete": "redirect to /staff/replies",
    "POST /staff/accounts/{username}/{change}": "redirect to /staff/accounts",
    "POST /staff/notices/{id}/retry": "redirect to /staff/notices",
    "POST /public/support": "redirect back to the public page",
    "POST /sms/inbound": "JSON, for the gateway",
    "GET /healthz": "JSON, for the load balancer",
}
# Every other route, and the name of an axe check (Audit.check / blocking) that reaches the
# page it renders — a shown page, and its error states.
PAGES = {
    "GET /": ["home"],
    "GET /report": ["report-form", "report-form-errors"],
    "POST /report": ["report-form-errors", "report-form-expired"],
    "GET /report/preview": ["report-preview"],
    "GET /report/receipt/{tn}": ["receipt"],
    "GET /track": ["track-form"],
    "POST /track": ["track-wrong-code"],
    "GET /track/{tn}": ["track-status", "track-answered-rating", "track-rated-review"],
    "POST /track/rate": ["track-rating-error"],
    "POST /track/review": ["track-review-error"],
    "POST /track/claim": ["track-points-claimed"],
    "GET /staff/login": ["staff-login"],
    "POST /staff/login": ["staff-login-wrong-password", "staff-login-429"],
    "GET /staff": ["queue-triage-desk", "queue-bureau", "queue-supervisor", "desk-queue-mine"],
    "GET /staff/triage": ["triage"],
    "GET /staff/reports/{tn}": ["report-triage", "report-to-sign-for", "report-supervisor"],
    "POST /staff/reports/{tn}/{action}": [
        "report-answer-checked",
        "report-supervisor-400",
        "answer-form-expired",
        "staff-assign-error",
        "staff-send-back-error",
        "staff-extension-error",
        "staff-answer-error",
        "staff-decide-extension-error",
        "staff-escalate-error",
        "desk-note-error",
        "desk-report-inserted",
    ],
    "GET /staff/dashboard": ["dashboard"],
    "GET /staff/replies": ["desk-replies"],
    "POST /staff/replies": ["desk-replies-error"],
    "GET /staff/accounts": ["desk-accounts"],
    "POST /staff/accounts": ["desk-accounts-error"],
    "GET /staff/notices": ["staff-notices-dead-letters", "staff-notices-none", "error-403"],
    "GET /notices/unsubscribe/{token}": ["unsubscribe-ask", "unsubscribe-unknown"],
    "POST /notices/unsubscribe/{token}": ["unsubscribe-done"],
    "GET /public": ["public", "public-search", "public-search-too-long"],
    "GET /public/reports/{tn}": ["public-report", "public-report-404"],
    "GET /public/checkpoints": ["public-checkpoints"],
    # Pages every route may end in.
    "error pages": [
        "error-404",
        "error-404-staff",
        "error-403",
        "staff-login-429",
        "short-link-unknown",
        "short-link-expired",
        "status-link-wrong",
    ],
}


def _routes(app: web.Application) -> set[str]:
    found = set()
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter") or info.get("prefix", "")
        # /api/ and /open311/ answer programs in JSON and XML (tests/web/test_api, Open311's).
        if route.method == "HEAD" or path.startswith(("/api/", "/open311/")) or not path:
            continue
        path = re.sub(r"\{(\w+):[^}]*\}", r"{\1}", path.rstrip("/") or "/")
        if info.get("prefix") == "/static":
            path = "/static/{filename}"
        found.add(f"{route.method} {path}")
    return found


def _checked_names() -> set[str]:
    """The names the axe tests give the pages they check."""
    names = set()
    for test in AXE_TESTS:
        source = test.read_text(encoding="utf-8")
        names |= set(re.findall(r"(?:audit\.check|blocking)\(\w+, \"([\w-]+)\"\)", source))
    return names


def test_every_html_route_is_reached_by_an_axe_test(app: web.Application) -> None:
    routes = _routes(app)
    assert "GET /staff/notices" in routes and "GET /track/s/{tn}/{token}" in routes  # read right
    unlisted = routes - set(PAGES) - set(NO_PAGE)
    assert not unlisted, (
        f"a route with no axe check listed (add it to PAGES or NO_PAGE): {unlisted}"
    )
    gone = (set(PAGES) | set(NO_PAGE)) - routes - {"error pages"}
    assert not gone, f"listed but no such route: {gone}"
    checked = _checked_names()
    missing = {name for names in PAGES.values() for name in names} - checked
    assert not missing, f"listed as checked, but no axe test checks a page by that name: {missing}"
