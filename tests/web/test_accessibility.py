"""Every page a user reaches passes axe-core (WCAG 2.0/2.1 A and AA) in Chromium, at 1280 px
and on a 390 px phone: no violation of impact serious or critical (issue 20, part 2).

One browser for the whole story; each page is reached once, the way its user reaches it, and
checked at both widths (the viewport is resized in place: the pages have no script, so the
layout is the stylesheet's alone). All violations are gathered and listed together at the end.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiohttp.test_utils import TestServer

from feedback import checkpoint, incentives
from feedback.service import FeedbackService
from feedback.store.base import User
from tests.browser import AXE_BLOCKING, MARKS, axe_page, axe_source, axe_violations, shot
from tests.conftest import SUPERVISOR, Clock
from tests.insight.stories import COMPOUND
from tests.web.conftest import PASSWORD, REPORT_FORM, password_hash

pytestmark = MARKS

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
ANSWER = "经核查，执法队员确未开具票据，已责令补开并退还罚款，对相关人员批评教育。"


class Audit:
    """Runs axe on a page at both widths and keeps what fails, to report all pages at once."""

    def __init__(self) -> None:
        self.source = axe_source()
        self.failures: list[str] = []
        self.pages: list[str] = []

    async def check(self, page: Any, name: str) -> None:
        for label, viewport in (("1280", DESKTOP), ("390", PHONE)):
            await page.set_viewport_size(viewport)
            for v in await axe_violations(page, self.source):
                if v["impact"] in AXE_BLOCKING:
                    where = "; ".join(
                        f"{n['target']} — {n['summary'].splitlines()[-1].strip()}"
                        for n in v["nodes"][:5]
                    )
                    self.failures.append(
                        f"{name} @{label}px [{v['impact']}] {v['id']}: {v['help']} ({where})"
                    )
            await shot(page, f"a11y-{name}-{label}")
        await page.set_viewport_size(DESKTOP)
        self.pages.append(name)


async def login(page: Any, base: str, username: str) -> None:
    await page.goto(base + "/staff/login")
    await page.fill("#f-username", username)
    await page.fill("#f-password", PASSWORD)
    await page.click("button:has-text('登录')")


async def track(page: Any, base: str, tn: str, code: str) -> None:
    await page.goto(base + "/track")
    await page.fill("#f-tn", tn)
    await page.fill("#f-code", code)
    await page.click("button:has-text('查询')")


async def test_every_page_has_no_serious_or_critical_axe_violation(
    browser: Any, server: TestServer, service: FeedbackService, clock: Clock
) -> None:
    base = str(server.make_url("")).rstrip("/")
    audit = Audit()
    # Five residents about one compound: a hot issue on the dashboard and the public page.
    for title, text, _phone in COMPOUND:
        await service.submit(dict(REPORT_FORM, title=title, text=text, place="幸福里小区"))
        clock.advance(hours=20)

    # A citizen: home, the form, a mistake, the receipt, the follow-up.
    citizen = await axe_page(browser, DESKTOP)
    await citizen.goto(base + "/")
    await audit.check(citizen, "home")
    await citizen.goto(base + "/report")
    await audit.check(citizen, "report-form")
    await citizen.fill("#f-text", "太短")
    await citizen.check("input[name=anonymous][value='0']")
    await citizen.fill("#f-contact_phone", "12345")
    await citizen.click("#do-preview")
    assert await citizen.locator("#text-error").count() == 1
    await audit.check(citizen, "report-form-errors")
    await citizen.fill("#f-text", REPORT_FORM["text"])
    await citizen.fill("#f-title", REPORT_FORM["title"])
    await citizen.fill("#f-contact_name", "张三")
    await citizen.fill("#f-contact_phone", "13800001234")
    await citizen.click("#do-preview")
    await audit.check(citizen, "report-preview")
    await citizen.click("#do-confirm")
    tn = (await citizen.inner_text("#tracking-number")).strip()
    code = (await citizen.inner_text("#follow-up-code")).strip()
    await audit.check(citizen, "receipt")
    await citizen.goto(base + "/track")
    await audit.check(citizen, "track-form")
    await citizen.fill("#f-tn", tn)
    await citizen.fill("#f-code", "WRONG-CODE")
    await citizen.click("button:has-text('查询')")
    await audit.check(citizen, "track-wrong-code")
    await track(citizen, base, tn, code)
    assert "待人工分办" in await citizen.inner_text("#status")
    await audit.check(citizen, "track-status")
    response = await citizen.goto(base + "/no-such-page")
    assert response is not None and response.status == 404
    await audit.check(citizen, "error-404")

    # Staff: the login page, a wrong password, the triage desk.
    desk = await axe_page(browser, DESKTOP)
    await desk.goto(base + "/staff/login")
    await audit.check(desk, "staff-login")
    await desk.fill("#f-username", "sfj1")
    await desk.fill("#f-password", "not-the-password")
    await desk.click("button:has-text('登录')")
    assert await desk.locator("#password-error").count() == 1
    await audit.check(desk, "staff-login-wrong-password")
    await login(desk, base, "sfj1")
    await audit.check(desk, "queue-triage-desk")
    await desk.goto(base + "/staff/triage")
    await audit.check(desk, "triage")
    await desk.goto(base + f"/staff/reports/{tn}")
    await audit.check(desk, "report-triage")
    await desk.select_option("#f-as-dept", "zhzf")
    await desk.click("#do-assign")
    response = await desk.goto(base + "/staff/reports/ZC-2026-999999")
    assert response is not None and response.status == 404
    await audit.check(desk, "error-404-staff")

    # The bureau signs for it, checks and sends the answer.
    bureau = await axe_page(browser, DESKTOP)
    await login(bureau, base, "zhzf1")
    await audit.check(bureau, "queue-bureau")
    await bureau.goto(base + f"/staff/reports/{tn}")
    await audit.check(bureau, "report-to-sign-for")
    await bureau.click("#do-accept")
    await bureau.fill("#f-answer", ANSWER)
    await bureau.click("#do-check-answer")
    assert await bureau.locator("#answer-review").count() == 1
    await audit.check(bureau, "report-answer-checked")
    await bureau.click("#do-answer")
    assert "已答复" in await bureau.inner_text("#status")
    await audit.check(bureau, "report-answered")

    # The citizen: the answer and the rating form, a rating without a choice, then rated.
    await track(citizen, base, tn, code)
    await audit.check(citizen, "track-answered-rating")
    await citizen.click("button:has-text('提交评价')")
    await audit.check(citizen, "track-rating-error")
    await citizen.check("input[name=rating][value=satisfied]")
    await citizen.click("button:has-text('提交评价')")
    assert "已办结" in await citizen.inner_text("#status")
    await audit.check(citizen, "track-rated-review")

    # The supervisor: the report page with its decisions, a 400, the dashboard.
    sup = await axe_page(browser, DESKTOP)
    await login(sup, base, "sup1")
    await audit.check(sup, "queue-supervisor")
    await sup.goto(base + f"/staff/reports/{tn}")
    await audit.check(sup, "report-supervisor")
    await sup.click("button:has-text('提交认定')")  # no choice made
    assert "请选择查实或不属实" in await sup.inner_text("main")
    await audit.check(sup, "report-supervisor-400")
    await incentives.substantiate(service, SUPERVISOR, tn, True, "经核查情况属实")
    await sup.goto(base + "/staff/dashboard")
    assert await sup.locator("#hot article.hot-issue").count() >= 1
    # A hot issue's figures line reads as a quiet line under its description, not body text.
    look = await sup.evaluate("""() => {
        const meta = getComputedStyle(document.querySelector('#hot .hot-issue .meta'));
        const head = getComputedStyle(document.querySelector('#hot .hot-issue h3'));
        return {meta: parseFloat(meta.fontSize), head: parseFloat(head.fontSize),
                color: meta.color};
    }""")
    assert look["meta"] < look["head"] and look["color"] == "rgb(91, 103, 115)", look
    assert await sup.locator("#answer-quality").count() == 1
    await audit.check(sup, "dashboard")
    # Each chart is described by a caption that links to the table with its figures.
    charts = await sup.evaluate("""() => [...document.querySelectorAll('svg.chart')].map(svg => {
        const note = document.getElementById(svg.getAttribute('aria-describedby'));
        const link = note && note.querySelector('a[href^="#"]');
        const table = link && document.getElementById(link.getAttribute('href').slice(1));
        return {label: svg.getAttribute('aria-label'), note: note && note.textContent,
                table: table && table.tagName};
    })""")
    assert len(charts) == 4
    for chart in charts:
        assert chart["note"] and chart["table"] == "TABLE", chart

    # The citizen claims the points.
    await track(citizen, base, tn, code)
    await citizen.click("button:has-text('领取积分')")
    assert "（已领取）" in await citizen.inner_text("#points")
    await audit.check(citizen, "track-points-claimed")

    # The public: the disclosure page, a search, a bad search, the checkpoints.
    clock.advance(days=1)
    await checkpoint.take(service.store, clock() - timedelta(minutes=1))
    public = await axe_page(browser, DESKTOP)
    await public.goto(base + "/public")
    await audit.check(public, "public")
    await public.fill("input[name=q]", "票据")
    await public.click("button:has-text('搜索')")
    await audit.check(public, "public-search")
    await public.goto(base + "/public/checkpoints")
    assert await public.locator("#checkpoints a:has-text('JSON')").count() == 1
    await audit.check(public, "public-checkpoints")

    # Login throttled: the sixth wrong password for one name is a 429.
    for _ in range(6):
        await public.goto(base + "/staff/login")
        await public.fill("#f-username", "zjj1")
        await public.fill("#f-password", "guessing-again")
        async with public.expect_response(lambda r: r.request.method == "POST") as answer:
            await public.click("button:has-text('登录')")
    assert (await answer.value).status == 429
    await audit.check(public, "staff-login-429")

    assert not audit.failures, "\n" + "\n".join(audit.failures)
    assert len(audit.pages) == 31


async def test_the_clerks_desk_pages_have_no_serious_or_critical_axe_violation(
    browser: Any, server: TestServer, service: FeedbackService
) -> None:
    """Issue 18: 12: the report page with 认领/指派, notes, a draft and canned replies; the
    queue filtered by 经办人; the canned replies page; the supervisor's accounts page."""
    base = str(server.make_url("")).rstrip("/")
    audit = Audit()
    async with service.store.transaction() as tx:
        await tx.insert_user(User(None, "zhzf.boss", password_hash(), "staff", "zhzf", "赵科长",
                                  bureau_lead=True))  # fmt: skip
    result = await service.submit(dict(REPORT_FORM, anonymous=True))
    tn = result.tracking_number
    await service.assign(SUPERVISOR, tn, "zhzf")

    lead = await axe_page(browser, DESKTOP)
    await login(lead, base, "zhzf.boss")
    await lead.goto(base + "/staff/replies")
    await lead.click("#do-add-reply")  # nothing typed
    assert await lead.locator("#title-error").count() == 1
    await audit.check(lead, "desk-replies-error")
    await lead.fill("#f-title", "未开票据")
    await lead.fill("#f-body", ANSWER)
    await lead.click("#do-add-reply")
    await audit.check(lead, "desk-replies")
    await lead.goto(base + f"/staff/reports/{tn}")
    await audit.check(lead, "desk-report-lead")
    await lead.select_option("#f-assignee", "zhzf1")
    await lead.click("#do-give")

    clerk = await axe_page(browser, DESKTOP)
    await login(clerk, base, "zhzf1")
    await clerk.goto(base + "/staff?queue=new&clerk=mine")
    assert await clerk.locator("table.queue tbody tr").count() == 1
    await audit.check(clerk, "desk-queue-mine")
    await clerk.goto(base + f"/staff/reports/{tn}")
    await clerk.click("#do-accept")
    await clerk.click("#do-note")  # empty: the error under the field
    assert await clerk.locator("#note-note-error").count() == 1
    await audit.check(clerk, "desk-note-error")
    await clerk.fill("#f-note", "已电话联系中队长，周三前提供视频。")
    await clerk.click("#do-note")
    await clerk.fill("#f-answer", "您好，")
    await clerk.click("#do-save-draft")
    await clerk.goto(base + f"/staff/reports/{tn}")
    assert await clerk.locator("#draft-note").count() == 1
    await audit.check(clerk, "desk-report-draft")
    await clerk.select_option("#f-canned", label="未开票据")
    await clerk.click("#do-insert")
    await audit.check(clerk, "desk-report-inserted")

    sup = await axe_page(browser, DESKTOP)
    await login(sup, base, "sup1")
    await sup.goto(base + "/staff/accounts")
    await audit.check(sup, "desk-accounts")
    await sup.fill("#f-username", "x")
    await sup.click("#do-add-account")
    assert await sup.locator("#username-error").count() == 1
    await audit.check(sup, "desk-accounts-error")

    assert not audit.failures, "\n" + "\n".join(audit.failures)
    assert len(audit.pages) == 9
