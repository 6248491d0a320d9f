"""One Telegram chat is held to the hourly limit a web address is held to: past it, the bot
says how long to wait, keeps the draft, and files nothing; after the hour it files again."""

from __future__ import annotations

from pathlib import Path

from bots.app import start_bot, stop_bot
from feedback.service import FeedbackService
from tests.bot.conftest import make_application
from tests.bot.fake_telegram import FakeTelegram
from tests.conftest import Clock

CHAT = 5550077
OTHER = 5550078
WHAT = "今天上午在般阳路摆摊，城管执法人员没有出示证件就把我的三轮车拉走了，也没有给任何单据。"


async def report(fake: FakeTelegram, chat: int, n: int, answer: str = "提交成功") -> str:
    """A whole anonymous report; the text of the bot's answer to 提交 (containing ``answer``)."""
    fake.message(chat, "/report")
    await fake.expect(chat, "请描述发生了什么")
    fake.message(chat, f"{WHAT}（第{n}次）")
    await fake.expect(chat, "在哪里发生的")
    fake.press(chat, "report:skip")
    await fake.expect(chat, "什么时候发生的")
    fake.press(chat, "report:skip")
    await fake.expect(chat, "涉及哪个单位")
    fake.press(chat, "report:skip")
    await fake.expect(chat, "如有照片")
    fake.press(chat, "report:done")
    await fake.expect(chat, "匿名反映")
    fake.press(chat, "report:anon")
    summary = await fake.expect(chat, "请核对")
    fake.press(chat, "report:submit", on=summary)
    return (await fake.expect(chat, answer)).text


async def test_a_chat_past_the_hourly_limit_is_told_to_wait_and_files_nothing(
    fake: FakeTelegram, service: FeedbackService, clock: Clock, tmp_path: Path
) -> None:
    application = make_application(fake, service, tmp_path / "data", submit_per_hour=2)
    await start_bot(application, polling=True)
    try:
        assert "提交成功" in await report(fake, CHAT, 1)
        assert "提交成功" in await report(fake, CHAT, 2)
        refused = await report(fake, CHAT, 3, "提交过于频繁")
        assert "分钟" in refused and "/report" in refused
        assert len(await service.reports_for_chat(CHAT)) == 2
        # Another chat is not held back by this one.
        assert "提交成功" in await report(fake, OTHER, 1)
        clock.advance(minutes=61)
        assert "提交成功" in await report(fake, CHAT, 4)
        assert len(await service.reports_for_chat(CHAT)) == 3
    finally:
        await stop_bot(application)
