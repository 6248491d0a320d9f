"""Webhook mode in the app `feedback serve` builds (feedback.runtime.build_web_app), talking to
a local Bot API peer through `telegram_api_url`: a citizen's /start is answered, a report with a
photo gets a number, the bureau's answer and the rating both stay in the chat, and the token
never reaches the logs."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bots.webhook import HEADER, PATH
from feedback.models import Status
from feedback.runtime import build_web_app
from feedback.service import FeedbackService
from feedback.settings import Settings
from tests.bot.fake_telegram import JPEG, FakeTelegram
from tests.conftest import SUPERVISOR, staff
from web.keys import service_key

CHAT = 5550042
SECRET = "served-webhook-secret-for-tests"
PUBLIC = "https://feedback.example.gov.cn"
WHAT = "今天上午在般阳路摆摊，城管执法人员没有出示证件就把我的三轮车拉走了，也没有给任何单据。"
ANSWER = "经核查，执法队员未出示证件属实，已责令其当面道歉并退还三轮车，对相关人员批评教育。"


@dataclass
class Served:
    app: web.Application
    url: str
    fake: FakeTelegram
    http: aiohttp.ClientSession

    @property
    def service(self) -> FeedbackService:
        return self.app[service_key]

    async def deliver(self) -> None:
        """Telegram pushes each update the peer has queued to the webhook, with the secret."""
        while self.fake.updates:
            update = self.fake.updates.pop(0)
            async with self.http.post(self.url, json=update, headers={HEADER: SECRET}) as resp:
                assert resp.status == 200, await resp.text()


@pytest.fixture
async def served(tmp_path: Path, fake: FakeTelegram) -> AsyncIterator[Served]:
    settings = Settings(
        db=str(tmp_path / "served.db"),
        data_dir=str(tmp_path / "data"),
        tick_seconds=0,
        telegram_token=fake.token,
        telegram_webhook_secret=SECRET,
        telegram_api_url=fake.base_url,
        public_url=PUBLIC,
    )
    app = build_web_app(settings)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    async with aiohttp.ClientSession() as http:
        yield Served(app, f"http://127.0.0.1:{server.port}{PATH}", fake, http)
    await server.close()


async def test_a_citizen_reports_rates_and_keeps_the_answer_in_webhook_mode(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake = served.fake
    # The served app registered its public address with the peer given by telegram_api_url.
    [hook] = [c for c in fake.calls if c.method == "setWebhook"]
    assert hook.params["url"] == PUBLIC + PATH and hook.params["secret_token"] == SECRET

    # Without the secret (or a CSRF token, which Telegram never has) nothing gets in.
    fake.message(CHAT, "/start")
    update = fake.updates.pop(0)
    async with served.http.post(served.url, json=update) as resp:
        assert resp.status == 403
    fake.updates.insert(0, update)
    await served.deliver()
    welcome = await fake.expect(CHAT, "行政执法社会监督")

    fake.press(CHAT, "report:start", on=welcome)
    await served.deliver()
    await fake.expect(CHAT, "请描述发生了什么")
    fake.message(CHAT, WHAT)
    await served.deliver()
    await fake.expect(CHAT, "在哪里发生的")
    fake.photo(CHAT, JPEG)  # too early: it is not the photo step yet
    await served.deliver()
    await fake.expect(CHAT, "现在还不能接收照片")
    for next_question in ("什么时候发生的", "涉及哪个单位", "如有照片"):
        fake.press(CHAT, "report:skip")
        await served.deliver()
        await fake.expect(CHAT, next_question)
    fake.photo(CHAT, JPEG)
    await served.deliver()
    await fake.expect(CHAT, "已收到第 1 张照片")
    pdf = {"file_id": "doc-1", "file_unique_id": "udoc1", "file_name": "a.pdf",
           "mime_type": "application/pdf", "file_size": 10}  # fmt: skip
    fake.message(CHAT, "", document=pdf)
    await served.deliver()
    await fake.expect(CHAT, "只能接收照片")
    fake.press(CHAT, "report:done")
    await served.deliver()
    choice = await fake.expect(CHAT, "匿名反映")
    fake.press(CHAT, "report:anon", on=choice)
    await served.deliver()
    summary = await fake.expect(CHAT, "请核对")
    assert "照片：1 张" in summary.text
    fake.press(CHAT, "report:submit", on=summary)
    await served.deliver()
    await fake.expect(CHAT, "正在提交")
    done = await fake.expect(CHAT, "提交成功")
    tn = re.search(r"受理编号：(\S+)", done.text).group(1)  # type: ignore[union-attr]
    report = await served.service.report(tn)
    assert report is not None and len(report.attachments) == 1

    # The bureau answers; the chat hears it from the notifier running in the web process.
    service = served.service
    if report.status is Status.TRIAGE:
        await service.assign(SUPERVISOR, tn, "zhzf")
    routed = await service.report(tn)
    assert routed is not None and routed.department
    bureau = staff(routed.department)
    await service.accept(bureau, tn)
    await service.answer(bureau, tn, ANSWER)
    answered = await fake.expect(CHAT, "请对办理结果进行评价", in_order=False, wait=10)
    assert ANSWER in answered.text

    fake.message(CHAT, "/status")
    await served.deliver()
    again = await fake.expect(CHAT, "请对办理结果进行评价")
    assert ANSWER in again.text  # /status repeats the latest answer with the buttons

    fake.press(CHAT, f"rate:{tn}:b", on=answered)
    await served.deliver()
    rated = await fake.expect(CHAT, "已收到您的评价：基本满意")
    assert rated.method == "sendMessage"
    answer_id = answered.params["_message_id"]
    edits = [c for c in fake.calls if c.method == "editMessageText"
             and int(c.params.get("message_id", 0)) == answer_id]  # fmt: skip
    assert edits == []  # the answer was not overwritten; only its buttons went
    assert any(c.method == "editMessageReplyMarkup" for c in fake.calls)
    closed = await service.report(tn)
    assert closed is not None and closed.status is Status.CLOSED

    # httpx logged every call to the peer, none with the token in it.
    requests = [r for r in caplog.records if r.name == "httpx"]
    assert requests and any("/sendMessage" in r.getMessage() for r in requests)
    assert fake.token not in caplog.text
    leaked = [
        (r.name, r.getMessage()[:300]) for r in caplog.records if fake.token in r.getMessage()
    ]
    assert leaked == []
