"""Conversation state through the service (`service.bot_state`, a table of the database), so a
half-written report survives a restart and every bot process sees the same drafts.

A python-telegram-bot `BasePersistence` (its public API only). What is kept: the
conversations' states and each chat's draft (chat_data); user_data, bot_data and callback
data are not stored. The bot's Application asks for an update after each processed update
(bots.app.BotApplication), so a crash loses at most the message being processed. Before each
update PTB refreshes the chat's draft from here, so a draft written by another bot process is
the one continued.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from copy import deepcopy
from typing import Any

from telegram.ext import BasePersistence, PersistenceInput

from bots.steps import STEP
from feedback.bot_state import CHAT_DATA, BotState, conversation_scope
from feedback.service import FeedbackService

log = logging.getLogger(__name__)

# The shapes PTB hands a persistence (spelled out here: PTB keeps its aliases private).
ConversationKey = tuple[int | str, ...]
ConversationDict = dict[ConversationKey, object]
CDCData = tuple[list[tuple[str, float, dict[str, Any]]], dict[str, str]]


class ServicePersistence(BasePersistence[dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    def __init__(self, service: Callable[[], FeedbackService], update_interval: float = 60):
        super().__init__(
            store_data=PersistenceInput(
                bot_data=False, chat_data=True, user_data=False, callback_data=False
            ),
            update_interval=update_interval,
        )
        self._service = service
        self._chats: dict[int, dict[Any, Any]] = {}  # what was last written, per chat

    @property
    def state(self) -> BotState:
        return self._service().bot_state

    # -- conversations -------------------------------------------------------------------

    async def get_conversations(self, name: str) -> ConversationDict:
        out: ConversationDict = {}
        for key, state in (await self.state.load(conversation_scope(name))).items():
            try:
                parsed = json.loads(key)
            except ValueError:
                continue
            if isinstance(parsed, list):
                out[tuple(parsed)] = state
        return out

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        await self.state.save(conversation_scope(name), json.dumps(list(key)), new_state)

    # -- chat data (the draft report) ------------------------------------------------------

    async def get_chat_data(self) -> dict[int, dict[Any, Any]]:
        out: dict[int, dict[Any, Any]] = {}
        for key, value in (await self.state.load(CHAT_DATA)).items():
            try:
                out[int(key)] = value if isinstance(value, dict) else {}
            except ValueError:
                continue
        await self._move_old_steps(out)
        self._chats = deepcopy(out)
        return out

    async def _move_old_steps(self, chats: dict[int, dict[Any, Any]]) -> None:
        """Steps kept by the old ConversationHandler ("conversation:report", per chat and
        user) move into the chat's draft, where bots.steps keeps them now, so a report half
        written before the upgrade goes on where it was."""
        scope = conversation_scope("report")
        for key, state in (await self.state.load(scope)).items():
            try:
                chat_id = json.loads(key)[0]
            except (ValueError, IndexError, KeyError, TypeError):
                chat_id = None
            if isinstance(chat_id, int) and isinstance(state, str):
                data = chats.setdefault(chat_id, {})
                if STEP not in data:
                    data[STEP] = state
                    await self.state.save(CHAT_DATA, str(chat_id), deepcopy(data))
            await self.state.save(scope, key, None)

    async def update_chat_data(self, chat_id: int, data: dict[Any, Any]) -> None:
        if self._chats.get(chat_id) == data:
            return
        # An empty draft is no reason to keep a chat id in the database.
        await self.state.save(CHAT_DATA, str(chat_id), deepcopy(data) if data else None)
        self._chats[chat_id] = deepcopy(data)

    async def drop_chat_data(self, chat_id: int) -> None:
        self._chats.pop(chat_id, None)
        await self.state.save(CHAT_DATA, str(chat_id), None)

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[Any, Any]) -> None:
        """Before an update: take the draft as the database has it (another process may have
        moved it on)."""
        stored = await self.state.get(CHAT_DATA, str(chat_id))
        fresh = stored if isinstance(stored, dict) else {}
        if fresh != chat_data:
            chat_data.clear()
            chat_data.update(fresh)
        self._chats[chat_id] = deepcopy(fresh)

    # -- not stored ------------------------------------------------------------------------

    async def get_user_data(self) -> dict[int, dict[Any, Any]]:
        return {}

    async def update_user_data(self, user_id: int, data: dict[Any, Any]) -> None:
        pass

    async def drop_user_data(self, user_id: int) -> None:
        pass

    async def refresh_user_data(self, user_id: int, user_data: dict[Any, Any]) -> None:
        pass

    async def get_bot_data(self) -> dict[Any, Any]:
        return {}

    async def update_bot_data(self, data: dict[Any, Any]) -> None:
        pass

    async def refresh_bot_data(self, bot_data: dict[Any, Any]) -> None:
        pass

    async def get_callback_data(self) -> CDCData | None:
        return None

    async def update_callback_data(self, data: CDCData) -> None:
        pass

    async def flush(self) -> None:
        pass  # every change is written when it is made
