"""Sending the outbox of one channel: claim due rows, hand each to the channel's sender, mark it.

The loop is the same for every channel (Telegram in bots/notifier.py, e-mail and SMS in
feedback.mailer and feedback.sms); a channel brings only a `Sender`. Any number of dispatchers
of one channel may run, in one process or many: rows are claimed (feedback.notifications), so
each notice goes out once. A send that fails is counted and tried again later; one that cannot
succeed is given up at once; either way the row keeps its last error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Protocol

from feedback.notifications import Notices, OutboxMessage, worker_name

log = logging.getLogger(__name__)


class SendError(Exception):
    """A send that did not happen. ``permanent``: trying again cannot help (blocked, no such
    address). ``retry_after``: the far side's own wait. ``pause``: the far side asked every
    send to wait (flood control): the round stops and the other claimed rows go back."""

    def __init__(self, message: str, *, permanent: bool = False,
                 retry_after: float | None = None, pause: bool = False):  # fmt: skip
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.retry_after = retry_after
        self.pause = pause


class Deferred(Exception):
    """Not now and not a failure (a daily cap): send at ``until`` without counting a try."""

    def __init__(self, until: datetime, why: str):
        super().__init__(why)
        self.until = until
        self.why = why


Listeners = list[Callable[[str, str], Awaitable[None]]]


class Sender(Protocol):
    channel: str

    async def send(self, message: OutboxMessage) -> None:
        """Deliver one notice, or raise SendError (or Deferred)."""
        ...


class Dispatcher:
    """Drains one channel's outbox every ``interval`` seconds, and at once when woken (the
    service announces a change made in this process)."""

    def __init__(self, notices: Notices, sender: Sender, *, interval: float = 5.0,
                 batch: int = 20, worker: str | None = None):  # fmt: skip
        self.notices = notices
        self.sender = sender
        self.interval = interval
        self.batch = batch
        self.worker = worker or worker_name()
        self._wake = asyncio.Event()
        # One round at a time in a dispatcher: a round asked for (a test, a command) waits for
        # the background one, so what it claimed is marked when this returns.
        self._round = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    @property
    def channel(self) -> str:
        return self.sender.channel

    def wake(self) -> None:
        self._wake.set()

    async def on_change(self, tracking_number: str, action: str) -> None:
        self._wake.set()

    def start(self, listeners: Listeners | None = None) -> None:
        if self._task is None:
            self._stopping = False
            if listeners is not None:
                listeners.append(self.on_change)
            self._task = asyncio.create_task(self._run(), name=f"{self.channel}-notices")

    async def stop(self, listeners: Listeners | None = None) -> None:
        if listeners is not None and self.on_change in listeners:
            listeners.remove(self.on_change)
        if self._task is not None:
            # The flag as well as the cancel: a cancel that lands as the loop is woken could be
            # lost in a wait (and a round's `except Exception` must not keep it going), and
            # stop() would then wait for ever on a loop still claiming from a closing store.
            self._stopping = True
            self._wake.set()
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                await self.send_pending()
            except Exception:  # the database away for a moment must not end the loop
                if self._stopping:
                    return
                log.exception("%s notices: round failed", self.channel)
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancel that
            # arrives as the event is set (gh-86296), and the loop never ends.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.interval):
                    await self._wake.wait()

    async def send_pending(self) -> int:
        """One round: send what is due now; returns how many were sent."""
        async with self._round:
            return await self._round_of_sends()

    async def _round_of_sends(self) -> int:
        sent = 0
        while True:
            due = await self.notices.claim(self.channel, self.worker, self.batch)
            for i, message in enumerate(due):
                outcome = await self.send(message)
                if outcome == "sent":
                    sent += 1
                elif outcome == "pause":
                    await self.notices.release(due[i + 1 :])
                    return sent
            if len(due) < self.batch:
                return sent

    async def send(self, message: OutboxMessage) -> str:
        """Send one claimed row: "sent", "failed", "deferred" or "pause"."""
        try:
            await self.sender.send(message)
        except Deferred as later:
            await self.notices.defer(message, later.until, later.why)
            return "deferred"
        except SendError as exc:
            await self.notices.mark_failed(message, exc.message, retry_after=exc.retry_after,
                                           permanent=exc.permanent)  # fmt: skip
            return "pause" if exc.pause else "failed"
        except Exception as exc:
            log.exception("unexpected error sending %s notice %s", self.channel, message.id)
            await self.notices.mark_failed(message, repr(exc))
            return "failed"
        await self.notices.mark_sent(message)
        return "sent"
