"""Checkpoints: every report's record anchored outside the database.

A report's chain proves that its events were not edited one by one, but whoever can write to
the database can rewrite a whole chain with fresh hashes, or delete a report with its events.
A checkpoint fixes the state of every chain at one moment: a Merkle tree (RFC 6962 shape)
over one leaf per report, (tracking number, number of events, hash of the last event), for
the events with ids up to ``events_upto``; with the number of reports and events and the
time. Its digest chains it to the previous checkpoint, and an operator key (Ed25519) may sign
it. Published (the public page lists them, each downloadable as JSON), a checkpoint lets
anyone holding a copy run `feedback verify --checkpoint FILE`: any rewrite, deletion or
truncation of history before it changes the root.

Events are appended only: the events up to ``events_upto`` are the same set at every later
time. ``events_upto`` is read while no event is being written (SQLite's write lock; on
PostgreSQL a SHARE lock on events waits for open writers), so no event with a lower id can
commit afterwards.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from feedback.errors import ValidationError
from feedback.record import GENESIS, canonical
from feedback.store import Store
from feedback.store import schema as t
from feedback.store.sql import Query, param

VERSION = 1
PAGE = 1000
BODY_FIELDS = ("version", "taken_at", "events_upto", "reports", "events", "root", "prev")


def leaf_hash(tracking_number: str, count: int, head: str) -> bytes:
    return hashlib.sha256(b"\x00" + canonical([tracking_number, count, head]).encode()).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


class Merkle:
    """The RFC 6962 Merkle tree hash, built leaf by leaf with O(log n) memory."""

    def __init__(self) -> None:
        self.stack: list[tuple[int, bytes]] = []  # (leaves in the subtree, its hash)

    def add(self, leaf: bytes) -> None:
        size, digest = 1, leaf
        while self.stack and self.stack[-1][0] == size:
            left_size, left = self.stack.pop()
            size, digest = left_size + size, _node(left, digest)
        self.stack.append((size, digest))

    def root(self) -> str:
        if not self.stack:
            return hashlib.sha256(b"").hexdigest()
        digest = self.stack[-1][1]
        for _size, left in reversed(self.stack[:-1]):  # smaller subtrees fold in from the right
            digest = _node(left, digest)
        return digest.hex()


def merkle_root(leaves: Iterable[bytes]) -> str:
    tree = Merkle()
    for leaf in leaves:
        tree.add(leaf)
    return tree.root()


@dataclass
class Checkpoint:
    body: dict[str, Any]
    digest: str
    signature: str | None = None
    public_key: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {**self.body, "digest": self.digest, "signature": self.signature,
                "public_key": self.public_key}  # fmt: skip

    def text(self) -> str:
        return json.dumps(self.to_json(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def body_digest(body: dict[str, Any]) -> str:
    return hashlib.sha256(canonical({k: body[k] for k in BODY_FIELDS}).encode()).hexdigest()


# -- the operator's key ----------------------------------------------------------------------


def new_key(path: str | Path) -> str:
    """Write a new Ed25519 private key (PEM, mode 0600) to ``path``; its public key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    target = Path(path)
    if target.exists():
        raise ValidationError(f"{target} already exists; not overwriting a key.", field="key")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    return _public(key)


def _public(key: Any) -> str:
    from cryptography.hazmat.primitives import serialization

    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def _load(path: str | Path) -> Any:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise ValidationError(f"cannot read the signing key {path}: {exc}", field="key") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ValidationError(f"{path} is not an Ed25519 key", field="key")
    return key


def public_key_of(path: str | Path) -> str:
    return _public(_load(path))


def signature_ok(digest: str, signature: str, public_key: str) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key))
        key.verify(base64.b64decode(signature), digest.encode())
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


E, R, CP = t.events, t.reports, t.checkpoints
SETTLED = Query(sa.select(sa.func.coalesce(sa.func.max(E.c.id), 0).label("n")))
REPORT_PAGE = Query(
    sa.select(R.c.id, R.c.tracking_number)
    .where(R.c.id > param("after"))
    .order_by(R.c.id)
    .limit(param("limit"))
)
_m = (
    sa.select(E.c.report_id, sa.func.max(E.c.seq).label("seq"), sa.func.count().label("n"))
    .where(E.c.report_id >= param("lo"), E.c.report_id <= param("hi"), E.c.id <= param("upto"))
    .group_by(E.c.report_id)
    .subquery("m")
)
# Each chain's head as it stood at event ``upto``, with the chain's length then.
HEADS = Query(
    sa.select(E.c.report_id, _m.c.n, E.c.hash).select_from(
        E.join(_m, sa.and_(E.c.report_id == _m.c.report_id, E.c.seq == _m.c.seq))
    )
)
_shown = (CP.c.body, CP.c.digest, CP.c.signature, CP.c.public_key)
RECENT = Query(sa.select(*_shown).order_by(CP.c.id.desc()).limit(param("limit")))
BY_DIGEST = Query(sa.select(*_shown).where(CP.c.digest == param("digest")))
_COLUMNS = ("taken_at", "events_upto", "reports", "events", "root", "prev", "digest", "body",
            "signature", "public_key")  # fmt: skip
ADD = Query(sa.insert(CP).values({c: param(c) for c in _COLUMNS}))
ANY_EVENT = Query(sa.select(E.c.id).limit(1))


# -- taking one ------------------------------------------------------------------------------


async def _settled_upto(store: Store) -> int:
    async with store.transaction() as tx:
        await tx.wait_for_writers("events")
        rows = await tx.fetch(SETTLED, {})
    return int(rows[0]["n"])


async def leaves(store: Store, upto: int) -> AsyncIterator[tuple[str, int, str]]:
    """(tracking number, events, last hash) per report, for the events with id <= upto."""
    last = 0
    while True:
        reports = await store.fetch(REPORT_PAGE, {"after": last, "limit": PAGE})
        if not reports:
            return
        lo, last = reports[0]["id"], reports[-1]["id"]
        heads = await store.fetch(HEADS, {"lo": lo, "hi": last, "upto": upto})
        by_report = {h["report_id"]: h for h in heads}
        for r in reports:
            h = by_report.get(r["id"])
            if h is not None:
                yield r["tracking_number"], int(h["n"]), h["hash"]


async def state(store: Store, upto: int) -> tuple[int, int, str]:
    """(reports, events, Merkle root) of every chain cut at event id ``upto``."""
    reports = events = 0
    tree = Merkle()
    async for tn, n, head in leaves(store, upto):
        reports += 1
        events += n
        tree.add(leaf_hash(tn, n, head))
    return reports, events, tree.root()


async def latest(store: Store) -> Checkpoint | None:
    found = await recent(store, 1)
    return found[0] if found else None


async def recent(store: Store, limit: int = 30) -> list[Checkpoint]:
    """The newest checkpoints first (the public page lists them)."""
    rows = await store.fetch(RECENT, {"limit": limit})
    return [
        Checkpoint(json.loads(r["body"]), r["digest"], r["signature"], r["public_key"])
        for r in rows
    ]


async def get(store: Store, digest: str) -> Checkpoint | None:
    rows = await store.fetch(BY_DIGEST, {"digest": digest})
    if not rows:
        return None
    r = rows[0]
    return Checkpoint(json.loads(r["body"]), r["digest"], r["signature"], r["public_key"])


async def take(store: Store, now: datetime, key_path: str | None = None) -> Checkpoint:
    """Record a checkpoint of every chain now, signed with the key at ``key_path`` if given."""
    key = _load(key_path) if key_path else None
    upto = await _settled_upto(store)
    reports, events, root = await state(store, upto)
    previous = await latest(store)
    body = {
        "version": VERSION,
        "taken_at": now.astimezone(UTC).isoformat(),
        "events_upto": upto,
        "reports": reports,
        "events": events,
        "root": root,
        "prev": previous.digest if previous else GENESIS,
    }
    digest = body_digest(body)
    signature = public = None
    if key is not None:
        signature = base64.b64encode(key.sign(digest.encode())).decode()
        public = _public(key)
    async with store.transaction() as tx:
        values = (body["taken_at"], upto, reports, events, root, body["prev"], digest,
                  canonical(body), signature, public)  # fmt: skip
        await tx.execute(ADD, dict(zip(_COLUMNS, values, strict=True)))
    return Checkpoint(body, digest, signature, public)


async def daily(
    store: Store, now: datetime, tz: ZoneInfo, key_path: str | None = None
) -> Checkpoint | None:
    """The background job's checkpoint: one per local day, once there is any record."""
    last = await latest(store)
    if last is not None:
        taken = datetime.fromisoformat(last.body["taken_at"])
        if taken.astimezone(tz).date() >= now.astimezone(tz).date():
            return None
    elif not await store.fetch(ANY_EVENT, {}):
        return None
    return await take(store, now, key_path)


# -- checking against one --------------------------------------------------------------------


def read_file(path: str | Path) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValidationError(
            f"cannot read the checkpoint {path}: {exc}", field="checkpoint"
        ) from exc
    if not isinstance(data, dict) or any(k not in data for k in BODY_FIELDS):
        raise ValidationError(f"{path} is not a feedback checkpoint", field="checkpoint")
    return data


async def check(store: Store, data: dict[str, Any], trusted_key: str | None = None) -> list[str]:
    """What is wrong with the database's history against a checkpoint; [] when it holds."""
    problems: list[str] = []
    body = {k: data[k] for k in BODY_FIELDS}
    if body_digest(body) != data.get("digest"):
        problems.append("the checkpoint file itself was altered (its digest does not match)")
    signature, public = data.get("signature"), data.get("public_key")
    if trusted_key and public != trusted_key:
        problems.append("the checkpoint is not signed with the operator's key")
    elif signature and public and not signature_ok(data["digest"], signature, public):
        problems.append("the checkpoint's signature is not valid")
    reports, events, root = await state(store, int(body["events_upto"]))
    taken = body["taken_at"]
    if reports != body["reports"]:
        problems.append(
            f"{body['reports']} reports had records at the checkpoint of {taken}, "
            f"{reports} have now (deleted or added before it)"
        )
    if events != body["events"]:
        problems.append(
            f"{body['events']} events up to the checkpoint of {taken}, {events} now "
            "(deleted, truncated or inserted before it)"
        )
    if root != body["root"]:
        problems.append(f"the record before the checkpoint of {taken} was rewritten (root differs)")
    return problems
