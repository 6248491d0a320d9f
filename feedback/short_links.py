"""Short links for SMS notices (issue 20): ``{public_url}/r/<token>`` stands for the report's
signed status link (feedback.secrets.StatusLinks, the link e-mail notices carry), so the 答复
SMS can carry the rating link within its 70 characters.

The only owner of the table ``short_links`` (migration 0022). A link follows the e-mail link's
rules: it opens that one report's status page (and rating) as the follow-up code would, as
often as needed, until the signed link it stands for expires (LINK_DAYS after sending). The
token is 10 characters of an alphabet without look-alikes (about 58 bits); it is derived from
the notice it is sent in (an HMAC of the outbox id), so a retried SMS carries the same link,
and the table keeps only its SHA-256. A token that is unknown, and one whose time is over,
are told apart (链接无效 / 链接已过期) because the row outlives its expiry, by a year
(KEEP_EXPIRED): then `feedback tick` deletes it, and the link says 链接无效 like any other.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from feedback.ratelimit import parse_stamp, stamp
from feedback.store import Store
from feedback.store import schema as t
from feedback.store.sql import Query, insert, param

# No 0/O, 1/l/I: the link may be typed from a phone's screen.
ALPHABET = "23456789abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"
LENGTH = 10
PATH = "/r/"
TOKEN_RE = re.compile(f"[{ALPHABET}]{{{LENGTH}}}")
# How long an expired link is still told apart from one never issued.
KEEP_EXPIRED = timedelta(days=365)
PRUNE_BATCH = 1000  # rows per short transaction


S, R = t.short_links, t.reports
PUT = Query(lambda d: insert(d, S).values(
    token_hash=param("token_hash"), report_id=param("report_id"), outbox_id=param("outbox_id"),
    link=param("link"), created_at=param("created_at"), expires_at=param("expires_at"),
).on_conflict_do_nothing(index_elements=[S.c.token_hash]))  # fmt: skip
GET = Query(
    sa.select(R.c.tracking_number, S.c.link, S.c.expires_at)
    .select_from(S.join(R, R.c.id == S.c.report_id))
    .where(S.c.token_hash == param("token_hash"))
)

PRUNE = Query(
    sa.delete(S).where(
        S.c.token_hash.in_(
            sa.select(S.c.token_hash)
            .where(S.c.expires_at < param("before"))
            .limit(param("batch"))
            .scalar_subquery()
        )
    )
)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class ShortLink:
    tracking_number: str
    link: str  # the signed status token it stands for
    expires_at: datetime


class ShortLinks:
    """Reached as ``service.short_links``."""

    def __init__(self, store: Store, clock: Callable[[], datetime], key: bytes):
        self._store = store
        self._clock = clock
        self._key = key

    def token_for(self, outbox_id: int) -> str:
        """The token of the notice ``outbox_id``: the same on every try of that notice."""
        number = int.from_bytes(hmac.new(self._key, f"outbox:{outbox_id}".encode(),
                                         hashlib.sha256).digest(), "big")  # fmt: skip
        chars = []
        for _ in range(LENGTH):
            number, digit = divmod(number, len(ALPHABET))
            chars.append(ALPHABET[digit])
        return "".join(chars)

    async def put(self, report_id: int, outbox_id: int, link: str, expires: datetime) -> str:
        """Keep the short link of a notice (once: a retry finds it there); returns the
        token."""
        token = self.token_for(outbox_id)
        async with self._store.transaction() as tx:
            await tx.execute(PUT, {
                "token_hash": _hash(token), "report_id": report_id, "outbox_id": outbox_id,
                "link": link, "created_at": stamp(self._clock()), "expires_at": stamp(expires),
            })  # fmt: skip
        return token

    async def get(self, token: str) -> ShortLink | None:
        """What a token stands for, expired or not; None for a token never issued."""
        if not TOKEN_RE.fullmatch(token or ""):
            return None
        rows = await self._store.fetch(GET, {"token_hash": _hash(token)})
        if not rows:
            return None
        r = rows[0]
        return ShortLink(str(r["tracking_number"]), str(r["link"]),
                         parse_stamp(str(r["expires_at"])))  # fmt: skip

    async def prune(self, now: datetime | None = None) -> int:
        """Delete links expired more than KEEP_EXPIRED ago, in short batches; returns how
        many."""
        before = stamp((now or self._clock()) - KEEP_EXPIRED)
        done = 0
        while True:
            async with self._store.transaction() as tx:
                n = await tx.execute(PRUNE, {"before": before, "batch": PRUNE_BATCH})
            done += n or 0
            if not n or n < PRUNE_BATCH:
                return done
