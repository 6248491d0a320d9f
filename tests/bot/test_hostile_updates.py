"""Malformed and hostile updates are ignored without crashing the bot; the webhook checks
Telegram's secret token before reading anything."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bots.app import BotApp
from bots.webhook import HEADER, PATH, add_webhook_routes
from feedback.service import FeedbackService
from tests.bot.conftest import BotUnderTest, make_application
from tests.bot.fake_telegram import FakeTelegram

CHAT = 5550003
SECRET = "webhook-secret-for-tests-only"


async def test_odd_updates_are_ignored_and_the_bot_keeps_working(bot: BotUnderTest) -> None:
    fake = bot.fake
    user = fake.user(CHAT)
    chat = fake.chat(CHAT)
    group = {"id": -100123, "type": "supergroup", "title": "群"}
    channel = {"id": -100456, "type": "channel", "title": "频道"}
    odd: list[dict[str, Any]] = [
        {"edited_message": {"message_id": 1, "date": 1, "edit_date": 2, "chat": chat,
                            "from": user, "text": "/report"}},
        {"channel_post": {"message_id": 2, "date": 1, "chat": channel, "text": "/report"}},
        {"message": {"message_id": 3, "date": 1, "chat": group, "from": user, "text": "/report",
                     "entities": [{"type": "bot_command", "offset": 0, "length": 7}]}},
        {"message": {"message_id": 4, "date": 1, "chat": chat}},  # no sender, no content
        {"message": {"message_id": 5, "date": 1, "chat": chat, "from": user,
                     "sticker": {"file_id": "s", "file_unique_id": "s", "width": 1,
                                 "height": 1, "is_animated": False, "is_video": False,
                                 "type": "regular"}}},
        {"callback_query": {"id": "q1", "from": user, "chat_instance": "c",
                            "data": "rate:ZC-2026-000001:s"}},  # no message to belong to
        {"callback_query": {"id": "q2", "from": user, "chat_instance": "c"}},  # no data
        {"something_from_a_future_api": {"x": 1}},
    ]  # fmt: skip
    for update in odd:
        fake.push(update)
    for data in ("💣" * 16, "rate:../../etc/passwd:s", "rate:ZC-2026-000001:x", "report:submit"):
        fake.press(CHAT, data)
    fake.message(CHAT, "长" * 100_000)  # far beyond anything Telegram sends

    fake.message(CHAT, "/report")
    await fake.expect(CHAT, "请描述发生了什么", in_order=False)
    fake.message(CHAT, "太" * 6000)
    await fake.expect(CHAT, "不能超过 5000 个字")
    fake.message(CHAT, "/cancel")
    await fake.expect(CHAT, "已取消")

    texts = [c.text for c in fake.sent()]
    assert not any("出错了" in t for t in texts)
    assert all(c.chat_id == CHAT for c in fake.sent())  # nothing said in the group or channel
    gone = [c for c in fake.calls if c.method == "answerCallbackQuery"]
    assert len(gone) >= 4 and all(c.params.get("text") == "该按钮已失效。" for c in gone)
    assert await bot.service.reports_for_chat(CHAT) == []


@pytest.fixture
async def webhook(
    fake: FakeTelegram, service: FeedbackService, tmp_path: Path
) -> AsyncIterator[tuple[str, BotApp]]:
    application = make_application(fake, service, tmp_path / "data")
    app = web.Application()
    add_webhook_routes(app, application, SECRET)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield f"http://127.0.0.1:{server.port}{PATH}", application
    await server.close()


async def test_webhook_checks_the_secret_and_feeds_the_bot(
    webhook: tuple[str, BotApp], fake: FakeTelegram
) -> None:
    url, _ = webhook
    update = {
        "update_id": 1,
        "message": {"message_id": 1, "date": 1, "chat": fake.chat(CHAT),
                    "from": fake.user(CHAT), "text": "/start",
                    "entities": [{"type": "bot_command", "offset": 0, "length": 6}]},
    }  # fmt: skip
    async with aiohttp.ClientSession() as http:
        async with http.post(url, json=update) as resp:
            assert resp.status == 403
        async with http.post(url, json=update, headers={HEADER: "wrong"}) as resp:
            assert resp.status == 403
        for body in (b"not json", b"[1, 2]", json.dumps({"update_id": "x", "message": 5}).encode()):
            async with http.post(url, data=body, headers={HEADER: SECRET}) as resp:
                assert resp.status == 200
        async with http.post(url, json=update, headers={HEADER: SECRET}) as resp:
            assert resp.status == 200
    await fake.expect(CHAT, "行政执法社会监督")
    assert len(fake.sent(CHAT)) == 1  # the refused and the garbage posts reached nobody
