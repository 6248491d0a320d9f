"""A web reporter who leaves an e-mail address hears from us: the receipt (with the code when
asked), then 签收, 答复 with a link to rate, 办结 — each a real message at a real SMTP server.
An anonymous reporter gets nothing, and 退订 stops the mail. A server in trouble (4xx) is tried
again after the back-off; a refusal (5xx) is given up at once and kept for the supervisor."""

from __future__ import annotations

import asyncio
import re

from feedback.notifications import MAX_ATTEMPTS
from feedback.service import FeedbackService
from feedback.workflow import Action
from tests.conftest import SUPERVISOR, Clock, staff
from tests.notices.conftest import Mailbox, body
from tests.notices.sms_peer import SmsPeer
from tests.web.conftest import REPORT_FORM, MakeVisitor, submit

EMAIL = "zhangsan@example.com"
ANSWER = "经核查，执法队员未出具票据属实，已退还罚款并责令当事队员作出书面检查。"
LINK_RE = re.compile(r"https://feedback\.example\.gov\.cn(/track/s/[^\s\"<]+)")
UNSUB_RE = re.compile(r"https://feedback\.example\.gov\.cn(/notices/unsubscribe/[^\s\"<]+)")
NAMED = {"anonymous": "0", "contact_name": "张三", "notify_email": EMAIL}


async def settled(service: FeedbackService) -> None:
    """Until every e-mail notice is marked sent (the server has it a moment before)."""
    for _ in range(200):
        if not await service.notices.unsent("email"):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("e-mail notices still waiting")


async def answered(service: FeedbackService, tn: str) -> None:
    report = await service.report(tn)
    assert report is not None
    if report.status.value == "triage":
        await service.assign(SUPERVISOR, tn, "zhzf")
    await service.accept(staff("zhzf"), tn)
    await service.answer(staff("zhzf"), tn, ANSWER)


async def test_a_web_reporter_with_email_gets_the_receipt_and_every_step(
    visitor: MakeVisitor, service: FeedbackService, mailbox: Mailbox
) -> None:
    citizen = await visitor()
    tn, code = await submit(citizen, **NAMED, notify_code="1")

    [receipt] = await mailbox.wait_for(EMAIL, 1)
    assert receipt["Subject"] == f"您反映的问题已受理（{tn}）"
    assert "淄川区司法局" in receipt["From"] and receipt["To"] == EMAIL
    text = body(receipt)
    assert f"受理编号：{tn}" in text and f"查询码：{code}" in text  # asked for by this channel
    assert f"查询码：{code}" in body(receipt, "html")
    assert UNSUB_RE.search(receipt["List-Unsubscribe"])
    # Sent: the sealed code is gone from the outbox.
    await settled(service)
    rows = await service.store.fetch("SELECT secret, sent_at FROM outbox WHERE channel = 'email'")
    assert rows == [{"secret": None, "sent_at": rows[0]["sent_at"]}] and rows[0]["sent_at"]

    await answered(service, tn)
    mails = await mailbox.wait_for(EMAIL, 3 if "已分派" in text else 4)
    subjects = [m["Subject"] for m in mails]
    assert f"您反映的问题（{tn}）：签收" in subjects
    notice = mails[-1]
    assert notice["Subject"] == f"您反映的问题（{tn}）：答复"
    assert ANSWER in body(notice) and ANSWER in body(notice, "html")
    assert "查看办理进展并评价" in body(notice) and code not in body(notice)

    # The signed link opens the status page without the code, and the rating works from it.
    link = LINK_RE.search(body(notice))
    assert link
    other_browser = await visitor()
    status, page = await other_browser.get(link.group(1))
    assert status == 200 and ANSWER in page and 'name="rating"' in page
    token = link.group(1).rsplit("/", 1)[1]
    status, page = await other_browser.post(
        "/track/rate", {"tn": tn, "code": token, "rating": "satisfied", "comment": ""}
    )
    assert status == 200 and "感谢您的评价" in page
    closed = (await mailbox.wait_for(EMAIL, len(mails) + 1))[-1]
    assert closed["Subject"] == f"您反映的问题（{tn}）：已办结"
    assert "已办结。感谢您的监督" in body(closed)

    # A forged or altered link opens nothing.
    status, page = await other_browser.get(link.group(1)[:-1] + ("0" if token[-1] != "0" else "1"))
    assert status == 404 and "链接已失效" in page


async def test_the_code_is_sent_only_when_asked_and_the_json_api_opts_in_too(
    visitor: MakeVisitor, service: FeedbackService, mailbox: Mailbox
) -> None:
    citizen = await visitor()
    resp = await citizen.client.post("/api/v1/reports", json={
        "text": REPORT_FORM["text"], "anonymous": False, "contact": {"name": "李四"},
        "notify": {"email": "lisi@example.com"},
    })  # fmt: skip
    assert resp.status == 201, await resp.text()
    data = await resp.json()
    [receipt] = await mailbox.wait_for("lisi@example.com", 1)
    assert data["tracking_number"] in body(receipt)
    assert data["follow_up_code"] not in body(receipt) and "查询码：" not in body(receipt)


async def test_an_anonymous_reporter_gets_nothing_and_cannot_ask_for_notices(
    visitor: MakeVisitor, service: FeedbackService, mailbox: Mailbox, sms_peer: SmsPeer
) -> None:
    citizen = await visitor()
    tn, _ = await submit(citizen)  # anonymous, the form's default
    await answered(service, tn)
    await citizen.get("/report")
    status, page = await citizen.post("/report", {**REPORT_FORM, "notify_email": EMAIL})
    assert status == 400 and "匿名反映不能接收短信或邮件通知" in page
    resp = await citizen.client.post("/api/v1/reports", json={
        "text": REPORT_FORM["text"], "notify": {"email": EMAIL, "sms": "13800138000"},
    })  # fmt: skip
    error = (await resp.json())["error"]
    assert (
        resp.status == 400 and error["field"] == "notify" and "匿名反映不能接收" in error["message"]
    )
    assert await service.store.fetch("SELECT id FROM notice_channels") == []
    rows = await service.store.fetch("SELECT channel FROM outbox")
    assert rows == []
    for _ in range(10):  # give a stray notice every chance to go out
        await service.announce(tn, Action.NOTE)
        await asyncio.sleep(0.02)
    assert mailbox.tried == 0 and sms_peer.tried == 0


async def test_unsubscribing_by_the_link_stops_the_mail(
    visitor: MakeVisitor, service: FeedbackService, mailbox: Mailbox
) -> None:
    citizen = await visitor()
    tn, _ = await submit(citizen, **NAMED)
    [receipt] = await mailbox.wait_for(EMAIL, 1)
    found = UNSUB_RE.search(body(receipt))
    assert found
    status, page = await citizen.get(found.group(1))
    assert status == 200 and "确认退订" in page and "z***@example.com" in page
    status, page = await citizen.post(found.group(1), {})
    assert status == 200 and "已退订" in page
    await answered(service, tn)
    for _ in range(20):  # give a stray notice every chance to arrive
        await service.announce(tn, Action.NOTE)
        await asyncio.sleep(0.02)
    assert len(mailbox.to(EMAIL)) == 1
    assert await service.notices.unsent("email") == 0


async def test_a_server_in_trouble_is_tried_again_and_a_refusal_is_kept(
    visitor: MakeVisitor, service: FeedbackService, mailbox: Mailbox, clock: Clock
) -> None:
    mailbox.refuse = 1  # 451: the server cannot take it now
    citizen = await visitor()
    tn, _ = await submit(citizen, **NAMED)
    for _ in range(200):
        if mailbox.tried:
            break
        await asyncio.sleep(0.05)
    await service.announce(tn, Action.NOTE)
    await asyncio.sleep(0.2)
    assert mailbox.tried == 1 and mailbox.to(EMAIL) == []  # not before the back-off
    clock.advance(seconds=31)
    await service.announce(tn, Action.NOTE)
    [receipt] = await mailbox.wait_for(EMAIL, 1)
    assert tn in body(receipt)
    await settled(service)

    report = await service.report(tn)
    assert report is not None
    if report.status.value == "triage":  # its 分派 notice goes out first
        await service.assign(SUPERVISOR, tn, "zhzf")
        await mailbox.wait_for(EMAIL, 2)
        await settled(service)
    sent = len(mailbox.to(EMAIL))
    mailbox.reject = 1  # 550: refused, trying again cannot help
    tried = mailbox.tried
    await service.accept(staff("zhzf"), tn)
    for _ in range(200):
        if await service.dead_letters(SUPERVISOR):
            break
        await asyncio.sleep(0.05)
    dead = [d for d in await service.dead_letters(SUPERVISOR) if d["channel"] == "email"]
    assert len(dead) == 1 and "550" in str(dead[0]["last_error"])
    assert dead[0]["attempts"] == MAX_ATTEMPTS and dead[0]["tracking_number"] == tn
    clock.advance(hours=3)
    await service.announce(tn, Action.NOTE)
    await asyncio.sleep(0.3)
    assert mailbox.tried == tried + 1  # given up at once: one try only
    # Sent again by the supervisor, it arrives: nothing of the notice was lost.
    await service.requeue_notice(SUPERVISOR, int(dead[0]["id"]))
    await service.announce(tn, Action.NOTE)
    mails = await mailbox.wait_for(EMAIL, sent + 1)
    assert mails[-1]["Subject"] == f"您反映的问题（{tn}）：签收"
