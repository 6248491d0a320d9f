"""The report conversation's step, kept in the chat's data (so in the database, through
bots.persistence) instead of in python-telegram-bot's ConversationHandler.

ConversationHandler reads its states from persistence once, at start-up, and then trusts its
own memory; with two bot processes (webhook mode under several `feedback serve` workers, or a
deploy that overlaps) each kept its own idea of where a citizen was, and a reply could land
on a process that thought the conversation over. Here the step is part of the chat's draft,
which is read from the database before each update (`refresher`, in the group before the
handlers), so whichever process gets the next message continues where the last one left off.

It behaves as ConversationHandler does with per_chat, allow_reentry and no timeouts: entry
points, a list of handlers per step, fallbacks; a callback returns the next step, None to
stay, or END to finish.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from telegram import Update
from telegram.ext import Application, BaseHandler, CallbackContext, ConversationHandler, TypeHandler

STEP = "step"  # the key in chat_data
END = ConversationHandler.END

Handler = BaseHandler[Update, Any, Any]
ChatData = Callable[[int], Mapping[str, Any]]


class StepConversation(BaseHandler[Update, CallbackContext[Any, Any, Any, Any], None]):
    def __init__(
        self,
        entry_points: Sequence[Handler],
        states: Mapping[str, Sequence[Handler]],
        fallbacks: Sequence[Handler],
        chat_data: ChatData,
    ):
        super().__init__(self._unused)
        self.entry_points = list(entry_points)
        self.states = {step: list(handlers) for step, handlers in states.items()}
        self.fallbacks = list(fallbacks)
        self._chat_data = chat_data

    @staticmethod
    async def _unused(update: object, context: object) -> None:  # pragma: no cover
        raise AssertionError("StepConversation hands each update to one of its handlers")

    def step_of(self, chat_id: int) -> str | None:
        step = self._chat_data(chat_id).get(STEP)
        return step if isinstance(step, str) and step in self.states else None

    def check_update(self, update: object) -> tuple[Handler, object] | None:
        if not isinstance(update, Update) or update.effective_chat is None:
            return None
        step = self.step_of(update.effective_chat.id)
        # Re-entry as ConversationHandler(allow_reentry=True): an entry point starts afresh.
        candidates = [*self.entry_points]
        if step is not None:
            candidates += [*self.states[step], *self.fallbacks]
        for handler in candidates:
            check = handler.check_update(update)
            if check is not None and check is not False:
                return handler, check
        return None

    async def handle_update(
        self,
        update: Update,
        application: Application[Any, Any, Any, Any, Any, Any],
        check_result: object,
        context: CallbackContext[Any, Any, Any, Any],
    ) -> None:
        assert isinstance(check_result, tuple)  # what check_update returned
        handler, check = check_result
        after = await handler.handle_update(update, application, check, context)
        data = context.chat_data
        if data is None:
            return
        if after == END:
            data.pop(STEP, None)
        elif isinstance(after, str):
            data[STEP] = after


async def _fresh(update: object, context: object) -> None:
    """Nothing to do: matching every update makes the Application build the context, which
    reads the chat's data from the database, before the handlers of the next group look at
    the step."""


def refresher() -> TypeHandler[Any, Any, Any]:
    return TypeHandler(Update, _fresh)


def chat_data_of(application: Application[Any, Any, Any, Any, Any, Any]) -> ChatData:
    return lambda chat_id: application.chat_data.get(chat_id) or {}
