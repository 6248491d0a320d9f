"""Sends the Telegram outbox: a chat hears when its report moves (routed, signed for, answered…).

The rows are written by the service in the same transaction as the change (see
feedback.notifications), and claimed before they are sent (feedback.dispatch), so this loop
may die, restart, fall behind or run in several bot processes at once without a notice being
lost or sent twice. A send that fails is counted and tried again later (Telegram's own wait
after a 429, else exponential backoff); one that cannot succeed (the citizen blocked the bot)
is given up at once. Either way the row keeps its last error.
"""

from __future__ import annotations

import logging
import warnings
from datetime import timedelta

from telegram import Bot, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.warnings import PTBDeprecationWarning

from bots import texts
from bots.conversation import rating_keyboard
from feedback.dispatch import Dispatcher, SendError
from feedback.notifications import TELEGRAM, OutboxMessage
from feedback.service import FeedbackService

log = logging.getLogger(__name__)

# Telegram refuses longer messages; a long answer goes out in parts, the buttons on the last.
MESSAGE_MAX = 4000


def split(text: str, size: int = MESSAGE_MAX) -> list[str]:
    parts: list[str] = []
    while len(text) > size:
        cut = text.rfind("\n", 0, size)
        cut = cut if cut > size // 2 else size
        parts.append(text[:cut])
        text = text[cut:].lstrip("\n")
    parts.append(text)
    return parts


def _seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramSender:
    """One outbox row to its chat, Telegram's errors told apart for the dispatcher."""

    channel = TELEGRAM

    def __init__(self, bot: Bot):
        self.bot = bot

    async def send(self, message: OutboxMessage) -> None:
        text = texts.notice(message.kind, message.payload)
        if text is None:
            return  # nothing to say on this channel: done
        markup: InlineKeyboardMarkup | None = None
        tn = message.tracking_number
        if message.kind == "answer" and message.payload.get("status") == "answered" and tn:
            markup = rating_keyboard(tn)
        parts = split(text)
        try:
            for i, part in enumerate(parts):
                last = i == len(parts) - 1
                await self.bot.send_message(
                    message.chat_id, part, reply_markup=markup if last else None
                )
        except RetryAfter as exc:
            with warnings.catch_warnings():  # PTB 22 moves retry_after to a timedelta
                warnings.simplefilter("ignore", PTBDeprecationWarning)
                wait = _seconds(exc.retry_after)
            raise SendError(f"429: retry after {wait}s", retry_after=wait, pause=True) from exc
        except (Forbidden, BadRequest) as exc:
            # Blocked, chat gone, or a message Telegram will never take: retrying cannot help.
            raise SendError(f"{type(exc).__name__}: {exc.message}", permanent=True) from exc
        except TelegramError as exc:  # network trouble, Telegram 5xx, timeouts
            raise SendError(f"{type(exc).__name__}: {exc.message}") from exc


class Notifier:
    """The Telegram channel's dispatcher, woken when the service announces a change made in
    this process."""

    def __init__(
        self, service: FeedbackService, bot: Bot, *, interval: float = 5.0, batch: int = 20
    ):
        self.service = service
        self.bot = bot
        self.dispatcher = Dispatcher(
            service.notices, TelegramSender(bot), interval=interval, batch=batch
        )

    def start(self) -> None:
        self.dispatcher.start(self.service.listeners)

    async def stop(self) -> None:
        await self.dispatcher.stop(self.service.listeners)

    async def send_pending(self) -> int:
        """One round: send what is due; returns how many were sent."""
        return await self.dispatcher.send_pending()
