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

import sqlalchemy as sa

from feedback.store import Store
from feedback.store import schema as t
from feedback.store.sql import Query, insert, param

CHAT_DATA = "chat_data"


B = t.bot_state
LOAD = Query(sa.select(B.c.key, B.c.value).where(B.c.scope == param("scope")).order_by(B.c.key))
GET = Query(sa.select(B.c.value).where(B.c.scope == param("scope"), B.c.key == param("key")))
DELETE = Query(sa.delete(B).where(B.c.scope == param("scope"), B.c.key == param("key")))


def _put(dialect: str) -> sa.Executable:
    # An upsert: each dialect's SQLAlchemy writes its ON CONFLICT.
    stmt = insert(dialect, B).values(
        scope=param("scope"), key=param("key"), value=param("value"),
        updated_at=param("updated_at"),
    )  # fmt: skip
    return stmt.on_conflict_do_update(
        index_elements=[B.c.scope, B.c.key],
        set_={"value": stmt.excluded.value, "updated_at": stmt.excluded.updated_at},
    )


PUT = Query(_put)


def conversation_scope(name: str) -> str:
    return f"conversation:{name}"


class BotState:
    def __init__(self, store: Store, clock: Callable[[], datetime]):
        self.store = store
        self.clock = clock

    async def load(self, scope: str) -> dict[str, Any]:
        """Every key of a scope with its value; an unreadable value is left out."""
        rows = await self.store.fetch(LOAD, {"scope": scope})
        out: dict[str, Any] = {}
        for r in rows:
            try:
                out[str(r["key"])] = json.loads(r["value"])
            except (TypeError, ValueError):
                continue
        return out

    async def get(self, scope: str, key: str) -> Any:
        rows = await self.store.fetch(GET, {"scope": scope, "key": key})
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
                await tx.execute(DELETE, {"scope": scope, "key": key})
                return
            await tx.execute(
                PUT,
                {"scope": scope, "key": key,
                 "value": json.dumps(value, ensure_ascii=False, sort_keys=True),
                 "updated_at": self.clock().astimezone(UTC).isoformat()},
            )  # fmt: skip
