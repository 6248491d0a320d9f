"""A citizen's report between 预览 and 确认提交 (issue 18: 4): the form's values kept on the
server for a while, so the preview is a GET page (post-redirect-get: reload and Back never
re-post, never ask "confirm form resubmission") and 返回修改 brings every field back.

The only owner of the table `report_previews` (migration 0016). A preview is found by a random
token that only the browser's session cookie holds; the table keeps its SHA-256. Nothing here
is a report: it is filed only by 确认提交, through the usual submission.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from feedback.ratelimit import stamp
from feedback.store import Store
from feedback.store import schema as t
from feedback.store.sql import Query, param

LIFETIME = timedelta(hours=2)


P = t.report_previews
CLEAR = Query(
    sa.delete(P).where(sa.or_(P.c.token_hash == param("token_hash"), P.c.expires_at < param("now")))
)
PUT = Query(
    sa.insert(P).values(
        token_hash=param("token_hash"), payload=param("payload"), expires_at=param("expires_at")
    )
)
GET = Query(
    sa.select(P.c.payload).where(
        P.c.token_hash == param("token_hash"), P.c.expires_at > param("now")
    )
)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


class Previews:
    """Reached as `service.previews`."""

    def __init__(self, store: Store, clock: Callable[[], datetime]):
        self._store = store
        self._clock = clock

    async def put(self, token: str | None, payload: dict[str, Any]) -> str:
        """Keep ``payload`` under ``token`` (a new token when None); returns the token."""
        token = token or secrets.token_urlsafe(24)
        now = self._clock()
        async with self._store.transaction() as tx:
            await tx.execute(CLEAR, {"token_hash": _hash(token), "now": stamp(now)})
            await tx.execute(
                PUT,
                {"token_hash": _hash(token), "payload": json.dumps(payload, ensure_ascii=False),
                 "expires_at": stamp(now + LIFETIME)},
            )  # fmt: skip
        return token

    async def get(self, token: str | None) -> dict[str, Any] | None:
        if not token:
            return None
        rows = await self._store.fetch(
            GET, {"token_hash": _hash(token), "now": stamp(self._clock())}
        )
        if not rows:
            return None
        found = json.loads(rows[0]["payload"])
        return found if isinstance(found, dict) else None
