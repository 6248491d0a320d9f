"""A dispatcher stops when asked, whatever it is doing: a bot or web process shutting down (and
every test's teardown) waits for it before the store closes."""

from __future__ import annotations

import asyncio

from feedback.dispatch import Dispatcher
from feedback.notifications import OutboxMessage
from feedback.service import FeedbackService


class Recorder:
    channel = "email"

    def __init__(self) -> None:
        self.sent: list[int] = []

    async def send(self, message: OutboxMessage) -> None:
        self.sent.append(message.id)


async def test_stop_ends_the_loop_even_when_it_meets_a_wake_up(service: FeedbackService) -> None:
    # A change announced as the process stops (a citizen's report at shutdown) wakes the loop
    # at the same moment as the cancel: stop must still return, every time.
    for turns in range(60):
        dispatcher = Dispatcher(service.notices, Recorder(), interval=0.05)
        dispatcher.start(service.listeners)
        # Anywhere in its round or in its wait between rounds.
        await asyncio.sleep(0.002 * (turns % 20))
        dispatcher.wake()
        async with asyncio.timeout(5):
            await dispatcher.stop(service.listeners)
        assert dispatcher.on_change not in service.listeners


async def test_a_stopped_dispatcher_starts_again(service: FeedbackService) -> None:
    dispatcher = Dispatcher(service.notices, Recorder(), interval=0.05)
    dispatcher.start()
    await dispatcher.stop()
    dispatcher.start()
    await asyncio.sleep(0.1)  # runs rounds again: the stop flag is cleared on start
    assert dispatcher._task is not None and not dispatcher._task.done()
    await dispatcher.stop()
