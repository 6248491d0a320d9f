"""A web reporter who leaves a mobile number gets SMS through the gateway (a local HTTP peer
that records what it got): the receipt with the code when asked, then 签收 and 答复. A gateway
outage is retried with back-off and then dead-lettered, kept for the supervisor, who sends it
again once the gateway is back. The daily cap holds a notice to the next day; replying 退订
ends the SMS."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
from typing import Any

import pytest

from feedback import jobs, secrets, short_links, sms, workflow
from feedback.config import Config
from feedback.notifications import MAX_ATTEMPTS
from feedback.service import FeedbackService
from feedback.settings import Settings
from feedback.workflow import Action
from tests.conftest import SUPERVISOR, Clock, staff
from tests.notices.sms_peer import SmsPeer
from tests.web.conftest import MakeVisitor, submit

MOBILE = "13800138000"
NAMED = {"anonymous": "0", "contact_name": "王五", "notify_sms": MOBILE}
ANSWER = "经核查，执法队员未出具票据属实，已退还罚款并责令当事队员作出书面检查。"
SHORT_RE = re.compile(r"https://feedback\.example\.gov\.cn(/r/([0-9A-Za-z]{10}))")


def signed_right(request: dict[str, str]) -> bool:
    fields = {k: v for k, v in request.items() if k != "sign"}
    base = "&".join(f"{k}={fields[k]}" for k in sorted(fields))
    good = hmac.new(b"test-sms-key", base.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(good, request["sign"])


async def wake(service: FeedbackService, tn: str) -> None:
    """A change announced in this process wakes the senders (as any staff action does)."""
    await service.announce(tn, Action.NOTE)


async def sms_rows(service: FeedbackService) -> list[dict[str, object]]:
    return await service.store.fetch(
        "SELECT kind, attempts, sent_at, dead_at, next_attempt_at, last_error FROM outbox "
        "WHERE channel = 'sms' ORDER BY id"
    )


async def test_a_web_reporter_with_a_phone_gets_the_receipt_and_the_answer_by_sms(
    visitor: MakeVisitor, service: FeedbackService, sms_peer: SmsPeer
) -> None:
    citizen = await visitor()
    tn, code = await submit(citizen, **NAMED, notify_code="1")
    [receipt] = await sms_peer.wait_for(MOBILE, 1)
    assert receipt["template"] == "FB_SUBMIT_CODE" and receipt["account"] == "zc-feedback"
    assert sms_peer.params(receipt) == {"tn": tn, "dept": sms_peer.params(receipt)["dept"],
                                        "code": code}  # fmt: skip
    assert signed_right(receipt)

    report = await service.report(tn)
    assert report is not None
    if report.status.value == "triage":
        await service.assign(SUPERVISOR, tn, "zhzf")
    await service.accept(staff("zhzf"), tn)
    await service.answer(staff("zhzf"), tn, ANSWER)
    await sms_peer.wait_for(MOBILE, 4 if report.status.value == "triage" else 3)
    got = sms_peer.templates_to(MOBILE)
    assert got[-2:] == ["FB_ACCEPT", "FB_ANSWER_LINK"]
    answer = sms_peer.to(MOBILE)[-1]
    params = sms_peer.params(answer)
    link = SHORT_RE.fullmatch(params.pop("url"))
    assert link and params == {"tn": tn, "dept": "区综合行政执法局"}
    # The message as the phone shows it fits one SMS, the rating link included.
    text = "【淄川区司法局】" + sms.templates()["answer"].render({"url": link.group(0)})
    assert len(text) <= sms.SMS_MAX, text
    assert code not in str(answer) and all(signed_right(r) for r in sms_peer.to(MOBILE))
    rows = await service.store.fetch("SELECT secret FROM outbox WHERE channel = 'sms'")
    assert all(r["secret"] is None for r in rows)

    # The link opens the report in another browser, without the code, and it can be rated.
    phone = await visitor()
    status, page = await phone.get(link.group(1))
    assert status == 200 and ANSWER in page and 'name="rating"' in page and tn in page
    status, page = await phone.post("/track/rate", {"tn": tn, "rating": "satisfied",
                                                    "comment": "处理得很及时"})  # fmt: skip
    assert status == 200 and "感谢您的评价" in page
    # The table keeps the token's hash only; the link stays valid as the e-mail one does.
    rows = await service.store.fetch("SELECT token_hash, link FROM short_links")
    assert len(rows) == 1 and link.group(2) not in str(rows)
    status, page = await (await visitor()).get(link.group(1))
    assert status == 200 and tn in page


async def test_old_short_links_say_why_they_do_not_open(
    visitor: MakeVisitor, service: FeedbackService, sms_peer: SmsPeer, clock: Clock
) -> None:
    citizen = await visitor()
    tn, _ = await submit(citizen, **NAMED)
    report = await service.report(tn)
    assert report is not None
    if report.status.value == "triage":
        await service.assign(SUPERVISOR, tn, "zhzf")
    await service.accept(staff("zhzf"), tn)
    await service.answer(staff("zhzf"), tn, ANSWER)
    await sms_peer.wait_for(MOBILE, 4 if report.status.value == "triage" else 3)
    link = SHORT_RE.fullmatch(sms_peer.params(sms_peer.to(MOBILE)[-1])["url"])
    assert link
    other = await visitor()
    # Never issued, mistyped, cut short, or not a token at all: 链接无效, never a 500.
    for path in ("/r/" + link.group(2)[::-1], "/r/" + link.group(2)[:-1], "/r/" + "%E9%93%BE" * 3,
                 "/r/" + "x" * 300, "/r/0O1lI23456"):  # fmt: skip
        status, page = await other.get(path)
        assert status == 404 and "链接无效" in page and 'href="/track"' in page, path
    # Its time over (the signed link's 120 days): 链接已过期, and the report stays closed to it.
    clock.advance(days=121)
    status, page = await other.get(link.group(1))
    assert status == 410 and "链接已过期" in page and ANSWER not in page
    # Told apart for a year after that; then the job deletes the row and it is one more
    # unknown link.
    clock.advance(days=364)
    await jobs.tick(service)
    status, page = await other.get(link.group(1))
    assert status == 410 and "链接已过期" in page
    clock.advance(days=2)
    await jobs.tick(service)
    assert await service.store.fetch("SELECT token_hash FROM short_links") == []
    status, page = await other.get(link.group(1))
    assert status == 404 and "链接无效" in page


def test_the_answer_goes_without_its_link_when_the_link_cannot_fit() -> None:
    answer = sms.templates()["answer"]
    plain = sms.templates()[answer.fallback]
    assert "${url}" in answer.text and "${url}" not in plain.text
    conf = sms.SmsSettings.of(Settings(sms_url="http://gw", public_url="https://x.gov.cn"), "UTC")
    assert conf is not None and sms.link_fits(answer, conf, {})
    long = Settings(sms_url="http://gw", public_url="https://feedback.zichuan.zibo.gov.cn/sfj")
    conf = sms.SmsSettings.of(long, "UTC")
    assert conf is not None and not sms.link_fits(answer, conf, {})


async def test_a_gateway_outage_is_retried_then_dead_lettered_without_losing_the_notice(
    visitor: MakeVisitor, service: FeedbackService, sms_peer: SmsPeer, clock: Clock
) -> None:
    sms_peer.down = True
    citizen = await visitor()
    tn, _ = await submit(citizen, **NAMED)
    await sms_peer.wait_tried(1)
    for attempt in range(2, MAX_ATTEMPTS + 1):
        # Not before the back-off has passed ...
        await wake(service, tn)
        await asyncio.sleep(0.2)
        assert sms_peer.tried == attempt - 1
        # ... and again once it has (30 s, 1 min, 2 min, … up to 2 h).
        clock.advance(hours=2, seconds=1)
        await wake(service, tn)
        await sms_peer.wait_tried(attempt)
    await _until(service, lambda rows: bool(rows[0]["dead_at"]))
    [row] = await sms_rows(service)
    assert row["attempts"] == MAX_ATTEMPTS and row["dead_at"] and row["sent_at"] is None
    assert "503" in str(row["last_error"])
    clock.advance(days=1)
    await wake(service, tn)
    await asyncio.sleep(0.3)
    assert sms_peer.tried == MAX_ATTEMPTS  # given up: no more tries on its own

    # The supervisor sees it, with the number masked, and sends it again once the gateway works.
    supervisor = await visitor(login="sup1")
    _, queue = await supervisor.get("/staff")
    assert 'href="/staff/notices"' in queue  # in the supervisor's menu on every page
    status, page = await supervisor.get("/staff/notices")
    assert status == 200 and tn in page and "短信" in page and "138****8000" in page
    assert "HTTP 503" in page and MOBILE not in page
    bureau = await visitor(login="zhzf1")
    status, _ = await bureau.get("/staff/notices")
    assert status == 403
    _, queue = await bureau.get("/staff")
    assert 'href="/staff/notices"' not in queue
    sms_peer.down = False
    retry = re.search(r'action="(/staff/notices/\d+/retry)"', page)
    assert retry
    status, page = await supervisor.post(retry.group(1), {})
    assert status == 200 and "没有发送失败的通知" in page
    [receipt] = await sms_peer.wait_for(MOBILE, 1)
    assert receipt["template"] == "FB_SUBMIT" and sms_peer.params(receipt)["tn"] == tn


@pytest.mark.parametrize("sms_cap", [3])
async def test_the_daily_cap_holds_a_notice_to_the_next_day(
    visitor: MakeVisitor, service: FeedbackService, sms_peer: SmsPeer, clock: Clock
) -> None:
    citizen = await visitor()
    tn, _ = await submit(citizen, **NAMED)  # the cap in these tests: 3 a day
    report = await service.report(tn)
    assert report is not None
    if report.status.value == "triage":
        await service.assign(SUPERVISOR, tn, "zhzf")
    await service.accept(staff("zhzf"), tn)
    await service.escalate(SUPERVISOR, tn, "请尽快办理")
    await service.answer(staff("zhzf"), tn, ANSWER)
    await sms_peer.wait_for(MOBILE, 3)
    await _until(service, lambda rows: all(r["sent_at"] or "每日上限" in str(r["last_error"])
                                           for r in rows))  # fmt: skip
    assert len(sms_peer.to(MOBILE)) == 3
    held = [r for r in await sms_rows(service) if r["sent_at"] is None]
    assert len(held) == len(await sms_rows(service)) - 3 >= 2
    # 00:00 the next day in Zibo (UTC+8) is 16:00 UTC today.
    assert all(str(r["next_attempt_at"]).startswith("2026-03-10T16:00") for r in held)
    clock.advance(days=1)
    await wake(service, tn)
    await sms_peer.wait_for(MOBILE, 3 + len(held))
    assert sms_peer.templates_to(MOBILE)[-1] == "FB_ANSWER_LINK"


async def test_replying_td_ends_the_sms(
    visitor: MakeVisitor, service: FeedbackService, sms_peer: SmsPeer
) -> None:
    citizen = await visitor()
    tn, _ = await submit(citizen, **NAMED)
    await sms_peer.wait_for(MOBILE, 1)
    gateway = await visitor()
    resp = await gateway.client.post(
        "/sms/inbound?secret=wrong", data={"mobile": MOBILE, "content": "退订"}
    )
    assert resp.status == 403
    resp = await gateway.client.post("/sms/inbound?secret=inbound-secret",
                                     json={"mobile": MOBILE, "content": " 退订 "})  # fmt: skip
    assert resp.status == 200 and (await resp.json())["unsubscribed"] == 1
    report = await service.report(tn)
    assert report is not None
    if report.status.value == "triage":
        await service.assign(SUPERVISOR, tn, "zhzf")
    await service.accept(staff("zhzf"), tn)
    await asyncio.sleep(0.5)
    assert len(sms_peer.to(MOBILE)) == 1
    assert await service.notices.unsent("sms") == 0


def test_every_public_event_has_a_template_that_fits_one_sms(config: Config) -> None:
    longest = max((d.name for d in config.departments), key=len)
    values = {"tn": "ZC-2026-000123", "dept": longest, "days": "15",
              "code": secrets.new_follow_up_code(),
              "url": "https://feedback.example.gov.cn/r/" + "x" * short_links.LENGTH}  # fmt: skip
    for template in sms.templates().values():
        text = "【淄川区司法局】" + template.render(values)
        assert "${" not in text and len(text) <= sms.SMS_MAX, (template.key, len(text), text)
    outcomes = [{"status": s, "approved": a} for s in ("routed", "triage", "closed", "reopened")
                for a in (True, False)]  # fmt: skip
    for action in workflow.PUBLIC:
        for payload in outcomes:
            for with_code in (False, True):
                key = sms.template_key(action.value, payload, with_code)
                assert key in sms.templates(), (action, payload)


async def _until(service: FeedbackService, condition: Any, wait: float = 15.0) -> None:
    """Until the SMS rows meet ``condition`` (sending and marking take a moment)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while not condition(await sms_rows(service)):
        if loop.time() > deadline:
            raise AssertionError(f"SMS rows: {await sms_rows(service)}")
        await asyncio.sleep(0.05)
