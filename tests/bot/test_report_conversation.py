"""A citizen reports from a Telegram chat: /start, /report step by step, tracking number and
code; a photo comes along; a half-written report survives a restart of the bot."""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import replace

from feedback.models import Channel, Status
from tests.bot.conftest import BotUnderTest
from tests.bot.fake_telegram import JPEG

CHAT = 5550001
WHAT = "今天上午在般阳路摆摊，城管执法人员没有出示证件就把我的三轮车拉走了，也没有给任何单据。"


async def test_whole_report_from_start_to_tracking_number(bot: BotUnderTest) -> None:
    fake = bot.fake
    fake.message(CHAT, "/start")
    welcome = await fake.expect(CHAT, "行政执法社会监督")
    assert ("开始反映问题", "report:start") in welcome.buttons

    fake.press(CHAT, "report:start", on=welcome)
    await fake.expect(CHAT, "请描述发生了什么")
    fake.message(CHAT, "太短了")
    await fake.expect(CHAT, "至少需要 10 个字")
    fake.message(CHAT, WHAT)
    place = await fake.expect(CHAT, "在哪里发生的")
    assert ("跳过", "report:skip") in place.buttons
    fake.message(CHAT, "般阳路与人民路路口")
    await fake.expect(CHAT, "什么时候发生的")
    fake.message(CHAT, "3月9日上午十点")
    await fake.expect(CHAT, "涉及哪个单位")
    fake.press(CHAT, "report:skip")  # does not know which authority
    await fake.expect(CHAT, "如有照片")
    fake.press(CHAT, "report:done")
    choice = await fake.expect(CHAT, "匿名反映")
    fake.press(CHAT, "report:named", on=choice)
    await fake.expect(CHAT, "姓名和手机号码")
    fake.message(CHAT, "王某 1381234")
    await fake.expect(CHAT, "没有识别出手机号码")
    fake.message(CHAT, "王某 13812345678")
    summary = await fake.expect(CHAT, "请核对")
    assert "般阳路与人民路路口" in summary.text and "3月9日上午十点" in summary.text
    assert "实名（王某 13812345678）" in summary.text
    fake.press(CHAT, "report:submit", on=summary)
    # The confirm button is taken away at once, so a second tap cannot file it twice.
    await fake.expect(CHAT, "✅ 已提交")
    done = await fake.expect(CHAT, "提交成功")
    tn = re.search(r"受理编号：(\S+)", done.text).group(1)  # type: ignore[union-attr]
    code = re.search(r"查询码：(\S+)", done.text).group(1)  # type: ignore[union-attr]

    # The same number and code work on the website's follow-up page (the service).
    view = await bot.service.status(tn, code)
    report = view.report
    assert report.channel is Channel.TELEGRAM
    assert report.text == WHAT and report.place == "般阳路与人民路路口"
    assert report.occurred_at == "3月9日上午十点" and report.authority is None
    assert not report.anonymous and report.contact.phone == "13812345678"
    assert report.contact.telegram_chat_id == CHAT
    fake.press(CHAT, "report:submit", on=summary)  # an old button, tapped again
    fake.message(CHAT, "/status")
    listing = await fake.expect(CHAT, "您反映过的问题")
    assert tn in listing.text and "待人工分办" in listing.text
    assert len(await bot.service.reports_for_chat(CHAT)) == 1


async def test_anonymous_report_with_a_photo(bot: BotUnderTest) -> None:
    fake = bot.fake
    fake.message(CHAT, "/report")
    await fake.expect(CHAT, "请描述发生了什么")
    fake.message(CHAT, WHAT)
    await fake.expect(CHAT, "在哪里发生的")
    fake.press(CHAT, "report:skip")
    await fake.expect(CHAT, "什么时候发生的")
    fake.press(CHAT, "report:skip")
    await fake.expect(CHAT, "涉及哪个单位")
    fake.message(CHAT, "区综合行政执法局")
    await fake.expect(CHAT, "如有照片")
    fake.photo(CHAT, JPEG)
    await fake.expect(CHAT, "已收到第 1 张照片")
    fake.photo(CHAT, b"MZ\x90\x00 not a picture at all" * 10)
    await fake.expect(CHAT, "照片没有保存成功")
    fake.press(CHAT, "report:done")
    await fake.expect(CHAT, "匿名反映")
    fake.press(CHAT, "report:anon")
    summary = await fake.expect(CHAT, "请核对")
    assert "照片：1 张" in summary.text and "方式：匿名" in summary.text
    fake.press(CHAT, "report:submit", on=summary)
    done = await fake.expect(CHAT, "提交成功")

    tn = re.search(r"受理编号：(\S+)", done.text).group(1)  # type: ignore[union-attr]
    report = await bot.service.store.get_report(tn)
    assert report is not None and report.anonymous and report.contact.phone is None
    assert report.authority == "区综合行政执法局"
    [photo] = report.attachments
    assert photo.content_type == "image/jpeg" and photo.size == len(JPEG)
    stored = bot.data_dir / "attachments" / photo.storage_key
    assert stored.read_bytes() == JPEG
    assert [c.method for c in fake.calls].count("getFile") == 2


async def test_cancel_anywhere_and_free_text_offers_a_report(bot: BotUnderTest) -> None:
    fake = bot.fake
    fake.message(CHAT, "你好，我想问一下")
    offer = await fake.expect(CHAT, "您是想反映问题吗")
    assert ("开始反映问题", "report:start") in offer.buttons
    fake.message(CHAT, "/cancel")
    await fake.expect(CHAT, "当前没有进行中的操作")
    fake.message(CHAT, "/report")
    await fake.expect(CHAT, "请描述发生了什么")
    fake.message(CHAT, WHAT)
    await fake.expect(CHAT, "在哪里发生的")
    fake.message(CHAT, "/cancel")
    await fake.expect(CHAT, "已取消")
    fake.message(CHAT, "般阳路")  # no longer an answer to a question
    await fake.expect(CHAT, "您是想反映问题吗")
    assert await bot.service.reports_for_chat(CHAT) == []


async def test_half_written_report_survives_a_restart(bot: BotUnderTest) -> None:
    fake = bot.fake
    fake.message(CHAT, "/report")
    await fake.expect(CHAT, "请描述发生了什么")
    fake.message(CHAT, WHAT)
    await fake.expect(CHAT, "在哪里发生的")
    fake.message(CHAT, "般阳路")
    await fake.expect(CHAT, "什么时候发生的")

    await bot.restart()
    # The state is in the database, through the service: no file per process.
    assert not (bot.data_dir / "bot").exists()
    drafts = await bot.service.bot_state.load("chat_data")
    assert "般阳路" in json.dumps(drafts[str(CHAT)], ensure_ascii=False)
    assert drafts[str(CHAT)]["step"] == "when"  # the step is part of the draft

    fake.message(CHAT, "昨天")  # answers the question asked before the restart
    await fake.expect(CHAT, "涉及哪个单位")
    fake.press(CHAT, "report:skip")
    await fake.expect(CHAT, "如有照片")
    fake.press(CHAT, "report:done")
    await fake.expect(CHAT, "匿名反映")
    fake.press(CHAT, "report:anon")
    summary = await fake.expect(CHAT, "请核对")
    assert WHAT in summary.text and "般阳路" in summary.text and "昨天" in summary.text
    fake.press(CHAT, "report:submit", on=summary)
    await fake.expect(CHAT, "提交成功")
    [report] = await bot.service.reports_for_chat(CHAT)
    assert report.place == "般阳路" and report.occurred_at == "昨天"
    assert report.status is Status.TRIAGE
    # Once filed, the draft (and with it the chat id) is gone from the stored state (written
    # when the update has been handled, a moment after the reply).
    for _ in range(100):
        if str(CHAT) not in await bot.service.bot_state.load("chat_data"):
            break
        await asyncio.sleep(0.05)
    assert str(CHAT) not in await bot.service.bot_state.load("chat_data")


async def test_the_bot_takes_its_text_limit_from_the_settings(bot: BotUnderTest) -> None:
    bot.service.input_limits = replace(bot.service.input_limits, max_text_chars=40)
    fake = bot.fake
    fake.message(CHAT, "/report")
    await fake.expect(CHAT, "请描述发生了什么")
    fake.message(CHAT, WHAT)  # 45 characters
    await fake.expect(CHAT, f"诉求内容不能超过 40 个字（现在 {len(WHAT)} 个）")


async def test_the_chat_says_what_is_published_and_lets_the_citizen_opt_out(
    bot: BotUnderTest,
) -> None:
    """Issue 18: 3 in the chat: the confirmation says the text may be published, anonymised;
    不公开 turns it off (and 同意公开 back on) in the same message, and the report keeps it."""
    fake = bot.fake
    fake.message(CHAT, "/report")
    await fake.expect(CHAT, "请描述发生了什么")
    fake.message(CHAT, WHAT)
    for question in ("在哪里发生的", "什么时候发生的", "涉及哪个单位"):
        await fake.expect(CHAT, question)
        fake.press(CHAT, "report:skip")
    await fake.expect(CHAT, "如有照片")
    fake.press(CHAT, "report:done")
    choice = await fake.expect(CHAT, "匿名反映")
    fake.press(CHAT, "report:anon", on=choice)
    summary = await fake.expect(CHAT, "请核对")
    assert "执法监督公示" in summary.text and "公开：同意去掉个人信息后公开" in summary.text
    assert ("不公开", "report:private") in summary.buttons
    fake.press(CHAT, "report:private", on=summary)
    private = await fake.expect(CHAT, "公开：不公开")
    assert "您选择了不公开" in private.text and ("同意公开", "report:public") in private.buttons
    fake.press(CHAT, "report:public", on=private)
    public = await fake.expect(CHAT, "公开：同意去掉个人信息后公开")
    fake.press(CHAT, "report:private", on=public)
    final = await fake.expect(CHAT, "公开：不公开")
    fake.press(CHAT, "report:submit", on=final)
    done = await fake.expect(CHAT, "提交成功")
    tn = re.search(r"受理编号：(\S+)", done.text).group(1)  # type: ignore[union-attr]
    report = await bot.service.report(tn)
    assert report is not None and report.publish is False and report.anonymous
