"""Sends the outbox: a chat hears when its report moves (routed, signed for, answered, …).

The rows are written by the service in the same transaction as the change (see
feedback.notifications), so this loop may die, restart or fall behind without a notice being
lost. A send that fails is counted and tried again later (Telegram's own wait after a 429,
else exponential backoff); one that cannot succeed (the citizen blocked the bot) is given up at
once. Either way the row keeps its last error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import warnings
from datetime import timedelta

from telegram import Bot, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.warnings import PTBDeprecationWarning

from bots import texts
from bots.conversation import rating_keyboard
from feedback import notifications
from feedback.notifications import OutboxMessage
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


class Notifier:
    """Drains the outbox every ``interval`` seconds, and at once when the service announces a
    change made in this process."""

    def __init__(
        self, service: FeedbackService, bot: Bot, *, interval: float = 5.0, batch: int = 20
    ):
        self.service = service
        self.bot = bot
        self.interval = interval
        self.batch = batch
        self._wake = asyncio.Event()
        self._round = asyncio.Lock()  # one round at a time, or a notice could go out twice
        self._task: asyncio.Task[None] | None = None

    async def _on_change(self, tracking_number: str, action: str) -> None:
        self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self.service.listeners.append(self._on_change)
            self._task = asyncio.create_task(self._run(), name="telegram-notifier")

    async def stop(self) -> None:
        if self._on_change in self.service.listeners:
            self.service.listeners.remove(self._on_change)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.send_pending()
            except Exception:  # the database away for a moment must not end the loop
                log.exception("notifier round failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.interval)

    async def send_pending(self) -> int:
        """One round: send what is due; returns how many were sent."""
        async with self._round:
            return await self._send_due()

    async def _send_due(self) -> int:
        sent = 0
        while True:
            due = await notifications.pending(self.service, self.batch)
            if not due:
                return sent
            for message in due:
                outcome = await self.send(message)
                if outcome == "sent":
                    sent += 1
                elif outcome == "flood":
                    return sent  # Telegram asked us to wait: the rest wait too
            if len(due) < self.batch:
                return sent

    async def send(self, message: OutboxMessage) -> str:
        """Send one row: "sent", "failed" or "flood" (Telegram asked to slow down)."""
        text = texts.notice(message.kind, message.payload)
        if text is None:
            await notifications.mark_sent(self.service, message.id)
            return "sent"
        markup: InlineKeyboardMarkup | None = None
        tn = message.payload.get("tracking_number")
        if message.kind == "answer" and message.payload.get("status") == "answered" and tn:
            markup = rating_keyboard(str(tn))
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
            await notifications.mark_failed(self.service, message.id, f"429: retry after {wait}s",
                                            retry_after=wait)  # fmt: skip
            return "flood"
        except (Forbidden, BadRequest) as exc:
            # Blocked, chat gone, or a message Telegram will never take: retrying cannot help.
            await notifications.mark_failed(
                self.service, message.id, f"{type(exc).__name__}: {exc.message}", permanent=True
            )
            return "failed"
        except TelegramError as exc:  # network trouble, Telegram 5xx, timeouts
            await notifications.mark_failed(
                self.service, message.id, f"{type(exc).__name__}: {exc.message}"
            )
            return "failed"
        except Exception as exc:
            log.exception("unexpected error sending notice %s", message.id)
            await notifications.mark_failed(self.service, message.id, repr(exc))
            return "failed"
        await notifications.mark_sent(self.service, message.id)
        return "sent"
