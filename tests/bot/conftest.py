"""The bot under test: the real python-telegram-bot Application, polling a fake Bot API server
on 127.0.0.1, over the real service and a real SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bots.app import BotApp, build_application, notifier_of, start_bot, stop_bot
from bots.notifier import Notifier
from feedback.service import FeedbackService
from feedback.settings import Settings
from tests.bot.fake_telegram import FakeTelegram


@dataclass
class BotUnderTest:
    fake: FakeTelegram
    service: FeedbackService
    application: BotApp
    data_dir: Path

    @property
    def notifier(self) -> Notifier:
        return notifier_of(self.application)

    def build(self) -> BotApp:
        return make_application(self.fake, self.service, self.data_dir)

    async def restart(self) -> None:
        """Stop the bot and start a new Application on the same state file, as after a deploy."""
        await stop_bot(self.application)
        self.application = self.build()
        await start_bot(self.application, polling=True)


def make_application(
    fake: FakeTelegram, service: FeedbackService, data_dir: Path, submit_per_hour: int | None = None
) -> BotApp:
    return build_application(
        service,
        fake.token,
        data_dir=data_dir,
        base_url=fake.base_url,
        base_file_url=fake.base_file_url,
        submit_per_hour=Settings().submit_per_hour if submit_per_hour is None else submit_per_hour,
        notify_interval=0.2,
    )


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram()
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def bot(
    fake: FakeTelegram, service: FeedbackService, tmp_path: Path
) -> AsyncIterator[BotUnderTest]:
    data_dir = tmp_path / "data"
    under_test = BotUnderTest(fake, service, make_application(fake, service, data_dir), data_dir)
    await start_bot(under_test.application, polling=True)
    yield under_test
    await stop_bot(under_test.application)
