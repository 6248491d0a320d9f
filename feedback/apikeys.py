"""API keys for machine clients (a 12345 hotline platform, a city's app).

A key looks like ``fbk_1a2b3c4d_<32 characters>``: the middle part is a public prefix that
finds the row, the rest is 192 random bits. Only the SHA-256 of the whole key is stored — a
fast hash is right here, because a key with that much randomness cannot be guessed from its
hash the way a password can. The key is shown once, when it is created. Revoked keys stay in
the table (with ``revoked_at``) so that the log of who handed in what keeps its meaning.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from feedback.errors import NotFound, ValidationError
from feedback.ratelimit import stamp
from feedback.store import Store
from feedback.store import schema as t
from feedback.store.sql import Query, param

KEY_RE = re.compile(r"^fbk_([0-9a-f]{8})_([A-Za-z0-9_-]{32})$")
NAME_RE = re.compile(r"^[^\s/\\]{1,64}$")
RATE_MAX = 100_000


K = t.api_keys
BY_NAME = Query(sa.select(K).where(K.c.name == param("name")))
BY_PREFIX = Query(sa.select(K).where(K.c.prefix == param("prefix")))
ALL = Query(sa.select(K).order_by(K.c.id))
CREATE = Query(
    sa.insert(K).values(
        name=param("name"), prefix=param("prefix"), key_hash=param("key_hash"),
        per_minute=param("per_minute"), created_at=param("created_at"),
    )
)  # fmt: skip
REVOKE = Query(sa.update(K).where(K.c.id == param("id")).values(revoked_at=param("revoked_at")))


@dataclass
class ApiKey:
    id: int | None
    name: str
    prefix: str
    per_minute: int
    created_at: str
    revoked_at: str | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_key() -> tuple[str, str]:
    """(prefix, full key)."""
    prefix = secrets.token_hex(4)
    return prefix, f"fbk_{prefix}_{secrets.token_urlsafe(24)}"


def _row(r: dict[str, object]) -> ApiKey:
    return ApiKey(
        id=int(r["id"]),  # type: ignore[call-overload]
        name=str(r["name"]),
        prefix=str(r["prefix"]),
        per_minute=int(r["per_minute"]),  # type: ignore[call-overload]
        created_at=str(r["created_at"]),
        revoked_at=None if r["revoked_at"] is None else str(r["revoked_at"]),
    )


def check_name(name: str) -> str:
    name = (name or "").strip()
    if not NAME_RE.match(name):
        raise ValidationError("密钥名称应为 1–64 个字符，不含空格和斜杠。", field="name")
    return name


def check_rate(per_minute: int) -> int:
    if not isinstance(per_minute, int) or not 1 <= per_minute <= RATE_MAX:
        raise ValidationError(f"每分钟请求数应为 1 至 {RATE_MAX}。", field="rate")
    return per_minute


async def create(store: Store, name: str, per_minute: int, now: datetime) -> tuple[ApiKey, str]:
    """A new key: the record and the key itself, which is never shown again."""
    name, per_minute = check_name(name), check_rate(per_minute)
    if await store.fetch(BY_NAME, {"name": name}):
        raise ValidationError(f"密钥名称“{name}”已被使用（含已吊销的密钥）。", field="name")
    prefix, key = new_key()
    async with store.transaction() as tx:
        await tx.execute(
            CREATE,
            {"name": name, "prefix": prefix, "key_hash": _hash(key), "per_minute": per_minute,
             "created_at": stamp(now)},
        )  # fmt: skip
    rows = await store.fetch(BY_PREFIX, {"prefix": prefix})
    return _row(rows[0]), key


async def list_keys(store: Store) -> list[ApiKey]:
    return [_row(r) for r in await store.fetch(ALL, {})]


async def revoke(store: Store, name: str, now: datetime) -> ApiKey:
    rows = await store.fetch(BY_NAME, {"name": (name or "").strip()})
    if not rows:
        raise NotFound(f"没有名为“{name}”的密钥。", field="name")
    key = _row(rows[0])
    if key.active:
        async with store.transaction() as tx:
            await tx.execute(REVOKE, {"revoked_at": stamp(now), "id": key.id})
        key.revoked_at = stamp(now)
    return key


async def authenticate(store: Store, presented: str | None) -> ApiKey | None:
    """The active key ``presented`` is, or None (unknown, malformed or revoked)."""
    m = KEY_RE.match((presented or "").strip())
    if not m:
        return None
    rows = await store.fetch(BY_PREFIX, {"prefix": m.group(1)})
    if not rows or not hmac.compare_digest(str(rows[0]["key_hash"]), _hash(m.group(0))):
        return None
    key = _row(rows[0])
    return key if key.active else None


class ApiKeys:
    """Machine clients' keys over one store, as the service offers them (`service.api_keys`)."""

    def __init__(self, store: Store):
        self._store = store

    async def authenticate(self, presented: str | None) -> ApiKey | None:
        return await authenticate(self._store, presented)
