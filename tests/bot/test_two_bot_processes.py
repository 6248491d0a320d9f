"""Two bot processes over one database (webhook mode under two `feedback serve` workers, or a
deploy that overlaps the old process): a citizen's messages land on either, and the report
goes on where it was, whichever process took the last one."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from telegram import Update

from bots.app import BotApp, start_bot, stop_bot
from feedback.models import Status
from feedback.service import FeedbackService
from tests.bot.conftest import make_application
from tests.bot.fake_telegram import FakeTelegram

CHAT = 7770001
WHAT = "昨天下午在般阳路，城管执法人员没有出示证件就扣押了我的电动三轮车，也没有开具任何单据。"


@pytest.fixture
async def workers(
    fake: FakeTelegram, service: FeedbackService, tmp_path: Path
) -> AsyncIterator[list[BotApp]]:
    apps = [make_application(fake, service, tmp_path / f"worker{i}") for i in (1, 2)]
    for app in apps:
        await start_bot(app, polling=False)  # updates are handed in, as a webhook does
    yield apps
    for app in apps:
        await stop_bot(app)


async def deliver(app: BotApp, update: dict[str, Any]) -> None:
    await app.process_update(Update.de_json(update, app.bot))


async def test_a_report_goes_on_whichever_worker_gets_the_next_message(
    fake: FakeTelegram, workers: list[BotApp], service: FeedbackService
) -> None:
    one, two = workers
    await deliver(one, fake.message(CHAT, "/report"))
    await fake.expect(CHAT, "请描述发生了什么")
    await deliver(two, fake.message(CHAT, WHAT))
    await fake.expect(CHAT, "在哪里发生的")
    await deliver(one, fake.message(CHAT, "般阳路"))
    await fake.expect(CHAT, "什么时候发生的")
    await deliver(two, fake.message(CHAT, "昨天下午"))
    await fake.expect(CHAT, "涉及哪个单位")
    await deliver(one, fake.press(CHAT, "report:skip"))
    await fake.expect(CHAT, "如有照片")
    await deliver(two, fake.press(CHAT, "report:done"))
    await fake.expect(CHAT, "匿名反映")
    await deliver(one, fake.press(CHAT, "report:anon"))
    summary = await fake.expect(CHAT, "请核对")
    assert WHAT in summary.text and "般阳路" in summary.text and "昨天下午" in summary.text
    await deliver(two, fake.press(CHAT, "report:submit", on=summary))
    await fake.expect(CHAT, "提交成功")
    [report] = await service.reports_for_chat(CHAT)
    assert report.place == "般阳路" and report.status is Status.TRIAGE

    # Done on worker two: worker one knows it too, and a new message is not a step of it.
    await deliver(one, fake.message(CHAT, "还有一件事"))
    await fake.expect(CHAT, "您是想反映问题吗")
    drafts = await service.bot_state.load("chat_data")
    assert "step" not in json.dumps(drafts.get(str(CHAT), {}))


async def test_cancel_on_one_worker_ends_the_report_on_the_other(
    fake: FakeTelegram, workers: list[BotApp], service: FeedbackService
) -> None:
    one, two = workers
    await deliver(one, fake.message(CHAT, "/report"))
    await fake.expect(CHAT, "请描述发生了什么")
    await deliver(two, fake.message(CHAT, "/cancel"))
    await fake.expect(CHAT, "已取消")
    await deliver(one, fake.message(CHAT, WHAT))  # no longer the answer to a question
    await fake.expect(CHAT, "您是想反映问题吗")
    assert await service.reports_for_chat(CHAT) == []
    assert not [c for c in fake.sent(CHAT) if "在哪里发生的" in c.text]


async def test_a_step_kept_by_the_old_bot_survives_the_upgrade(
    fake: FakeTelegram, service: FeedbackService, tmp_path: Path
) -> None:
    # 0.2's first bot kept the step in python-telegram-bot's own conversation table.
    await service.bot_state.save("chat_data", str(CHAT), {"draft": {"photos": [], "text": WHAT}})
    await service.bot_state.save("conversation:report", json.dumps([CHAT, CHAT]), "place")
    app = make_application(fake, service, tmp_path / "upgraded")
    await start_bot(app, polling=False)
    try:
        await deliver(app, fake.message(CHAT, "般阳路"))
        await fake.expect(CHAT, "什么时候发生的")
    finally:
        await stop_bot(app)
    assert await service.bot_state.load("conversation:report") == {}
