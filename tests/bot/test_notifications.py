"""The chat hears about its report: staff sign for and answer it, the citizen rates by button;
another chat cannot rate it; a failed send is retried, never lost."""

from __future__ import annotations

from typing import Any

from feedback.models import Channel, Status
from feedback.service import FeedbackService
from tests.bot.conftest import BotUnderTest
from tests.conftest import SUPERVISOR, Clock, staff

CHAT = 5550002
OTHER = 5550999
ANSWER = "经核查，执法队员未出示证件属实，已责令其当面道歉并退还三轮车，对相关人员批评教育。"


async def file_from_chat(service: FeedbackService, chat_id: int = CHAT) -> str:
    result = await service.submit(
        {
            "text": "城管执法人员没有出示证件就把我的三轮车拉走了，也没有给任何单据。",
            "place": "般阳路",
            "telegram_chat_id": chat_id,
        },
        channel=Channel.TELEGRAM,
    )
    return result.tracking_number


async def outbox(service: FeedbackService) -> list[dict[str, Any]]:
    return await service.store.fetch(
        "SELECT kind, sent_at, attempts, last_error, next_attempt_at FROM outbox ORDER BY id"
    )


async def test_staff_actions_reach_the_chat_and_a_button_rates(bot: BotUnderTest) -> None:
    fake, service = bot.fake, bot.service
    tn = await file_from_chat(service)
    await fake.expect(CHAT, "人工分办")
    await service.assign(SUPERVISOR, tn, "zhzf")
    await fake.expect(CHAT, "已分派至区综合行政执法局")
    bureau = staff("zhzf")
    await service.accept(bureau, tn)
    await fake.expect(CHAT, "已由区综合行政执法局签收")
    await service.escalate(SUPERVISOR, tn, "请尽快办理")
    await fake.expect(CHAT, "督办")
    await service.answer(bureau, tn, ANSWER)
    answered = await fake.expect(CHAT, "已答复")
    assert ANSWER in answered.text
    assert [label for label, _ in answered.buttons] == ["满意", "基本满意", "不满意"]

    # Another chat replays the button's data: it cannot rate someone else's report.
    fake.press(OTHER, f"rate:{tn}:s", on=answered)
    await _until(lambda: _answered_callbacks(fake) >= 1)
    assert (await service.store.get_report(tn)).status is Status.ANSWERED  # type: ignore[union-attr]
    assert "未找到该诉求" in _last_callback_text(fake)

    fake.press(CHAT, f"rate:{tn}:s", on=answered)
    await fake.expect(CHAT, "您的评价：满意", in_order=False)
    await fake.expect(CHAT, "已办结。感谢您的监督", in_order=False)
    report = await service.store.get_report(tn)
    assert report is not None and report.status is Status.CLOSED
    assert report.rating is not None and report.rating.value == "satisfied"
    # Every notice went out; none is left waiting.
    await bot.notifier.send_pending()
    rows = await outbox(service)
    assert rows and all(r["sent_at"] for r in rows)


async def test_unsatisfied_asks_first_and_then_reopens(bot: BotUnderTest) -> None:
    fake, service = bot.fake, bot.service
    tn = await file_from_chat(service)
    await service.assign(SUPERVISOR, tn, "zhzf")
    await service.accept(staff("zhzf"), tn)
    await service.answer(staff("zhzf"), tn, ANSWER)
    answered = await fake.expect(CHAT, "请对办理结果进行评价")
    fake.press(CHAT, f"rate:{tn}:u", on=answered)
    ask = await fake.expect(CHAT, "退回承办单位重新办理")
    assert ("确认不满意", f"rate!:{tn}") in ask.buttons
    assert (await service.store.get_report(tn)).status is Status.ANSWERED  # type: ignore[union-attr]
    fake.press(CHAT, f"rate!:{tn}", on=answered)
    await fake.expect(CHAT, "您的评价：不满意", in_order=False)
    await fake.expect(CHAT, "已退回区综合行政执法局重新办理", in_order=False)
    report = await service.store.get_report(tn)
    assert report is not None and report.status is Status.REOPENED and report.supervised
    # The same button again: the report is no longer waiting for a rating.
    fake.press(CHAT, f"rate:{tn}:s", on=answered)
    await _until(lambda: "只有已答复" in _last_callback_text(fake))


async def test_status_lists_only_this_chats_reports(bot: BotUnderTest) -> None:
    fake, service = bot.fake, bot.service
    mine = await file_from_chat(service, CHAT)
    theirs = await file_from_chat(service, OTHER)
    fake.message(CHAT, "/status")
    listing = await fake.expect(CHAT, "您反映过的问题")
    assert mine in listing.text and theirs not in listing.text


async def test_failed_sends_are_retried_with_backoff_not_lost(
    bot: BotUnderTest, clock: Clock
) -> None:
    fake, service = bot.fake, bot.service
    await bot.notifier.stop()  # this test drives the rounds itself
    notifier = bot.notifier
    tn = await file_from_chat(service)
    await notifier.send_pending()
    await fake.expect(CHAT, "人工分办")

    # Telegram has a hiccup (HTTP 500): the notice waits 30 s and goes out on the next try.
    fake.fail("sendMessage", 500)
    await service.assign(SUPERVISOR, tn, "zhzf")
    assert await notifier.send_pending() == 0
    [row] = [r for r in await outbox(service) if r["kind"] == "assign"]
    assert row["sent_at"] is None and row["attempts"] == 1 and "Server Error" in row["last_error"]
    assert await notifier.send_pending() == 0  # not due yet
    clock.advance(seconds=31)
    assert await notifier.send_pending() == 1
    await fake.expect(CHAT, "已分派至区综合行政执法局")

    # Flood control (429 with retry_after): the rate limiter waits once, then the outbox
    # keeps the notice for as long as Telegram asked.
    fake.fail("sendMessage", 429, times=2, retry_after=1)
    await service.accept(staff("zhzf"), tn)
    assert await notifier.send_pending() == 0
    [row] = [r for r in await outbox(service) if r["kind"] == "accept"]
    assert row["attempts"] == 1 and "429" in row["last_error"]
    clock.advance(seconds=2)
    assert await notifier.send_pending() == 1
    await fake.expect(CHAT, "签收")
    assert [c.method for c in fake.calls].count("sendMessage") >= 4

    # The citizen blocked the bot (403): trying again cannot help; the row stays, marked.
    fake.fail("sendMessage", 403)
    await service.answer(staff("zhzf"), tn, ANSWER)
    assert await notifier.send_pending() == 0
    clock.advance(hours=5)
    assert await notifier.send_pending() == 0
    [given_up] = await service.notices.dead_letters()
    assert given_up["tracking_number"] == tn and given_up["kind"] == "answer"
    assert "Forbidden" in given_up["last_error"]


async def test_a_long_answer_arrives_whole_in_parts(bot: BotUnderTest) -> None:
    fake, service = bot.fake, bot.service
    tn = await file_from_chat(service)
    await service.assign(SUPERVISOR, tn, "zhzf")
    await service.accept(staff("zhzf"), tn)
    long_answer = ("经核查，情况如下。" * 50 + "\n") * 20  # about 9,000 characters
    await service.answer(staff("zhzf"), tn, long_answer)
    await fake.expect(CHAT, "已答复")
    last = await fake.expect(CHAT, "请对办理结果进行评价")
    parts = [c.text for c in fake.sent(CHAT, "sendMessage") if "经核查" in c.text]
    assert len(parts) >= 3 and all(len(p) <= 4096 for p in parts)
    assert "".join(parts).count("经核查") == 1000
    assert last.buttons and parts[-1] == last.text


# -- helpers -----------------------------------------------------------------------------------


def _answered_callbacks(fake: Any) -> int:
    return sum(1 for c in fake.calls if c.method == "answerCallbackQuery")


def _last_callback_text(fake: Any) -> str:
    answers = [c for c in fake.calls if c.method == "answerCallbackQuery"]
    return str(answers[-1].params.get("text", "")) if answers else ""


async def _until(condition: Any, wait: float = 5.0) -> None:
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)
