"""Conversation state as a JSON file, so a half-written report survives a restart.

Not pickle: the file is data, not code, and an operator can read it. Only what the bot needs is
kept — the conversations' states and each chat's draft (chat_data); user_data, bot_data and
callback data are not stored. The file is rewritten atomically (temp file, fsync, rename) on
every change, and the bot's Application asks for an update after each processed update
(bots.app.BotApplication), so a crash loses at most the message being processed.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from copy import deepcopy
from pathlib import Path
from typing import Any

from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import CDCData, ConversationDict, ConversationKey

log = logging.getLogger(__name__)


class JsonPersistence(BasePersistence[dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    def __init__(self, path: str | Path, update_interval: float = 60):
        super().__init__(
            store_data=PersistenceInput(
                bot_data=False, chat_data=True, user_data=False, callback_data=False
            ),
            update_interval=update_interval,
        )
        self.path = Path(path)
        self._conversations: dict[str, dict[str, object]] = {}
        self._chat_data: dict[str, dict[str, Any]] = {}
        self._load()

    def _load(self) -> None:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return
        except (OSError, ValueError):
            # A damaged file must not stop the bot: start afresh, keep the bad file to look at.
            log.exception("conversation state %s unreadable; starting with none", self.path)
            self.path.replace(self.path.with_suffix(".damaged"))
            return
        if isinstance(raw, dict):
            conv = raw.get("conversations")
            chats = raw.get("chat_data")
            self._conversations = conv if isinstance(conv, dict) else {}
            self._chat_data = chats if isinstance(chats, dict) else {}

    def _save(self) -> None:
        data = {"conversations": self._conversations, "chat_data": self._chat_data}
        text = json.dumps(data, ensure_ascii=False, sort_keys=True)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".bot-state-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    # -- conversations -------------------------------------------------------------------

    async def get_conversations(self, name: str) -> ConversationDict:
        states = self._conversations.get(name)
        out: dict[tuple[int | str, ...], object] = {}
        if isinstance(states, dict):
            for key, state in states.items():
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
        states = self._conversations.setdefault(name, {})
        k = json.dumps(list(key))
        if new_state is None:
            if states.pop(k, None) is None:
                return
        elif states.get(k) == new_state:
            return
        else:
            states[k] = new_state
        self._save()

    # -- chat data (the draft report) ------------------------------------------------------

    async def get_chat_data(self) -> dict[int, dict[Any, Any]]:
        out: dict[int, dict[Any, Any]] = {}
        for key, value in self._chat_data.items():
            try:
                out[int(key)] = deepcopy(value) if isinstance(value, dict) else {}
            except ValueError:
                continue
        return out

    async def update_chat_data(self, chat_id: int, data: dict[Any, Any]) -> None:
        if self._chat_data.get(str(chat_id)) == data:
            return
        if data:
            self._chat_data[str(chat_id)] = deepcopy(data)
        else:
            # An empty draft is no reason to keep a chat id on disk.
            if self._chat_data.pop(str(chat_id), None) is None:
                return
        self._save()

    async def drop_chat_data(self, chat_id: int) -> None:
        if self._chat_data.pop(str(chat_id), None) is not None:
            self._save()

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[Any, Any]) -> None:
        pass

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
        self._save()
