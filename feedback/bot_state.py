"""The Telegram bot's conversation state, in the database (table ``bot_state``), so every bot
process (polling, or the webhook app's workers) and every restart sees the same half-written
reports. Reached as ``service.bot_state``; bots/persistence.py is its python-telegram-bot face.

Values are JSON, not pickle: data, not code, and an operator can read them. A scope is
"chat_data" (key: the chat id) or "conversation:<name>" (key: the conversation key as JSON).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from feedback.store import Store

CHAT_DATA = "chat_data"


def conversation_scope(name: str) -> str:
    return f"conversation:{name}"


class BotState:
    def __init__(self, store: Store, clock: Callable[[], datetime]):
        self.store = store
        self.clock = clock

    async def load(self, scope: str) -> dict[str, Any]:
        """Every key of a scope with its value; an unreadable value is left out."""
        rows = await self.store.fetch(
            "SELECT key, value FROM bot_state WHERE scope = ? ORDER BY key", (scope,)
        )
        out: dict[str, Any] = {}
        for r in rows:
            try:
                out[str(r["key"])] = json.loads(r["value"])
            except (TypeError, ValueError):
                continue
        return out

    async def get(self, scope: str, key: str) -> Any:
        rows = await self.store.fetch(
            "SELECT value FROM bot_state WHERE scope = ? AND key = ?", (scope, key)
        )
        if not rows:
            return None
        try:
            return json.loads(rows[0]["value"])
        except (TypeError, ValueError):
            return None

    async def save(self, scope: str, key: str, value: Any) -> None:
        """Store ``value`` (JSON-able) under the key; None removes it."""
        async with self.store.transaction() as tx:
            if value is None:
                await tx.execute("DELETE FROM bot_state WHERE scope = ? AND key = ?", (scope, key))
                return
            await tx.execute(
                "INSERT INTO bot_state (scope, key, value, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (scope, key) DO UPDATE SET value = excluded.value, "
                "updated_at = excluded.updated_at",
                (scope, key, json.dumps(value, ensure_ascii=False, sort_keys=True),
                 self.clock().astimezone(UTC).isoformat()),
            )  # fmt: skip
