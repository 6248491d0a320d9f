"""Notices to citizens on every channel: the outbox, written and read here (one owner).

`Notices.enqueue` (called by FeedbackService.record_event) writes one ``outbox`` row per
channel the report has — its Telegram chat, and the e-mail address or mobile number a web or
API reporter opted in with (``notice_channels``) — in the same transaction as the public event
it announces, so a notice can never be lost between the change and the send.

Senders (bots/notifier.py for Telegram, feedback.dispatch for e-mail and SMS) take due rows
with `claim`: one short write transaction marks them as theirs for a lease (SQLite: the single
writer makes the statement atomic across processes; PostgreSQL: ``FOR UPDATE SKIP LOCKED``, so
concurrent claimers pass each other by). Two processes therefore never take the same row; a
sender that dies mid-lease leaves its rows to be taken again once the lease lapses. Each row
ends `mark_sent` or `mark_failed`: a failed row waits (exponential backoff, or as long as the
far side asked) and is tried again until MAX_ATTEMPTS, after which it is a dead letter, kept
with its last error for a supervisor to see and send again (`requeue`).

A receipt asked to carry the follow-up code holds it encrypted (``secret``, Fernet under a key
derived from the server's code key) and the code is erased when the row is sent.

Also here: what a chat may do with its own reports without the follow-up code.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken

from feedback import record, secrets, workflow
from feedback.config import Config
from feedback.models import Report
from feedback.store import Store, WriteTx
from feedback.store import schema as t
from feedback.store.sql import Query, param
from feedback.workflow import Action

if TYPE_CHECKING:  # the service owns a Notices; the chat helpers are handed a service
    from feedback.service import CitizenView, FeedbackService

log = logging.getLogger(__name__)

TELEGRAM, EMAIL, SMS = "telegram", "email", "sms"
CHANNELS = (TELEGRAM, EMAIL, SMS)
OPT_IN = (EMAIL, SMS)  # the channels a web or API reporter can ask for
MAX_ATTEMPTS = 8
BACKOFF_FIRST = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=2)
# How long a claimed row is a sender's alone: far longer than one send takes, short enough
# that the notices of a sender that died go out soon after.
LEASE = timedelta(minutes=5)
UNSUBSCRIBED = "退订"  # last_error of the waiting notices an unsubscribe dropped
# Events whose news the receipt already carries: at submission the e-mail and SMS reader gets
# one receipt, not a receipt and a "routed" notice in the same second.
IN_RECEIPT = frozenset({Action.ROUTE, Action.TO_TRIAGE})

OB, C, R = t.outbox, t.notice_channels, t.reports
_COLUMNS = [OB.c[c] for c in ("id", "report_id", "channel", "recipient", "kind", "payload",
                             "secret", "attempts", "created_at")]  # fmt: skip
_WAITING = (OB.c.sent_at.is_(None), OB.c.dead_at.is_(None))

CHANNELS_OF = Query(
    sa.select(C.c.channel, C.c.address)
    .where(C.c.report_id == param("report_id"), C.c.unsubscribed_at.is_(None))
    .order_by(C.c.id)
)
ENQUEUE = Query(sa.insert(OB).values({c: param(c) for c in (
    "report_id", "channel", "recipient", "kind", "payload", "secret", "created_at")}))  # fmt: skip
SUBSCRIBE = Query(sa.insert(C).values({c: param(c) for c in (
    "report_id", "channel", "address", "token", "created_at")}))  # fmt: skip
TOKEN_OF = Query(
    sa.select(C.c.token).where(C.c.report_id == param("report_id"), C.c.channel == param("channel"))
)
SUBSCRIPTION = Query(
    sa.select(R.c.tracking_number, C.c.channel, C.c.address, C.c.unsubscribed_at)
    .select_from(C.join(R, R.c.id == C.c.report_id))
    .where(C.c.token == param("token"))
)
BY_TOKEN = Query(
    sa.select(C.c.report_id, C.c.channel, C.c.address).where(C.c.token == param("token"))
)
UNSUBSCRIBE = Query(
    sa.update(C)
    .where(C.c.token == param("token"), C.c.unsubscribed_at.is_(None))
    .values(unsubscribed_at=param("now"))
)
UNSUBSCRIBE_ADDRESS = Query(
    sa.update(C)
    .where(C.c.channel == param("channel"), C.c.address == param("address"),
           C.c.unsubscribed_at.is_(None))
    .values(unsubscribed_at=param("now"))
)  # fmt: skip
_drop = (
    sa.update(OB)
    .where(OB.c.channel == param("channel"), OB.c.recipient == param("address"), *_WAITING)
    .values(dead_at=param("now"), last_error=UNSUBSCRIBED, secret=None)
)
DROP_WAITING = Query(_drop)
DROP_WAITING_OF_REPORT = Query(_drop.where(OB.c.report_id == param("report_id")))


def _claim(dialect: str) -> sa.Update:
    due = (
        sa.select(OB.c.id)
        .where(
            OB.c.channel == param("channel"), *_WAITING,
            sa.or_(OB.c.next_attempt_at.is_(None), OB.c.next_attempt_at <= param("now")),
            sa.or_(OB.c.claimed_until.is_(None), OB.c.claimed_until <= param("now")),
        )
        .order_by(OB.c.id)
        .limit(param("limit"))
    )  # fmt: skip
    if dialect == "postgresql":
        # Claimers skip rows another claimer has locked instead of queueing on them.
        due = due.with_for_update(skip_locked=True)
    return (
        sa.update(OB)
        .where(OB.c.id.in_(due.scalar_subquery()))
        .values(claimed_by=param("worker"), claimed_until=param("until"))
        .returning(*_COLUMNS)
    )


CLAIM = Query(_claim)
_claimed = (OB.c.id == param("id"), OB.c.claimed_by == param("worker"))
SENT = Query(
    # claimed_by stays: which sender sent it.
    sa.update(OB)
    .where(*_claimed)
    .values(sent_at=param("now"), last_error=None, secret=None, claimed_until=None)
)
RELEASE = Query(sa.update(OB).where(*_claimed).values(claimed_by=None, claimed_until=None))
DEFER = Query(sa.update(OB).where(*_claimed).values(
    next_attempt_at=param("until"), last_error=param("why"), claimed_by=None, claimed_until=None
))  # fmt: skip
FAILED = Query(sa.update(OB).where(*_claimed).values(
    attempts=param("attempts"), last_error=param("error"), next_attempt_at=param("next"),
    dead_at=param("dead"), claimed_by=None, claimed_until=None,
))  # fmt: skip
SENT_SINCE = Query(
    sa.select(sa.func.count().label("n")).where(
        OB.c.channel == param("channel"), OB.c.recipient == param("recipient"),
        OB.c.sent_at.is_not(None), OB.c.sent_at >= param("since"),
    )
)  # fmt: skip
_listed = [OB.c.id, R.c.tracking_number, OB.c.channel, OB.c.recipient, OB.c.kind, OB.c.attempts,
           OB.c.last_error, OB.c.created_at]  # fmt: skip
DEAD_LETTERS = Query(
    sa.select(*_listed, OB.c.dead_at)
    .select_from(OB.join(R, R.c.id == OB.c.report_id))
    .where(OB.c.sent_at.is_(None), OB.c.dead_at.is_not(None),
           sa.or_(OB.c.last_error.is_(None), OB.c.last_error != UNSUBSCRIBED))
    .order_by(OB.c.id.desc())
    .limit(param("limit"))
)  # fmt: skip
PENDING = Query(
    sa.select(*_listed, OB.c.next_attempt_at)
    .select_from(OB.join(R, R.c.id == OB.c.report_id))
    .where(*_WAITING)
    .order_by(OB.c.id)
    .limit(param("limit"))
)
REQUEUE = Query(
    sa.update(OB)
    .where(OB.c.id == param("id"), OB.c.sent_at.is_(None), OB.c.dead_at.is_not(None))
    .values(dead_at=None, attempts=0, next_attempt_at=None)
)
UNSENT = Query(sa.select(sa.func.count().label("n")).where(*_WAITING))
UNSENT_OF = Query(
    sa.select(sa.func.count().label("n")).where(*_WAITING, OB.c.channel == param("channel"))
)


@dataclass
class OutboxMessage:
    id: int
    report_id: int
    channel: str
    recipient: str  # a chat id, an e-mail address or a mobile number
    kind: str  # the workflow action announced: submit, accept, answer, …
    payload: dict[str, Any]
    attempts: int
    created_at: str
    code: str | None = None  # the follow-up code, for a receipt asked to carry it
    claimed_by: str = ""

    @property
    def chat_id(self) -> int:
        return int(self.recipient)

    @property
    def tracking_number(self) -> str:
        return str(self.payload.get("tracking_number", ""))


def backoff(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failure: 30 s, 1 min, 2 min, … up to 2 h."""
    return min(BACKOFF_FIRST * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


def _iso(at: datetime) -> str:
    # UTC ISO text: compared as text on both stores, so every stamp must be in one zone.
    return at.astimezone(UTC).isoformat()


def worker_name() -> str:
    """Who holds a claim: host, process and a random part (two senders in one process)."""
    return f"{socket.gethostname()}:{os.getpid()}:{os.urandom(4).hex()}"


def payload_of(
    report: Report, action: Action, details: Mapping[str, Any], config: Config
) -> dict[str, Any]:
    """What a notice needs to be worded on any channel (feedback.workflow words it)."""
    payload: dict[str, Any] = {
        "tracking_number": report.tracking_number,
        "action": action.value,
        "status": report.status.value,
        "status_label": report.status.label,
        "department": config.department_name(report.department) if report.department else None,
    }
    if action is Action.ANSWER:
        payload["answer"] = report.answer
    if "reason" in details and action is Action.DECIDE_EXTENSION:
        payload["reason"] = details["reason"]
        payload["approved"] = bool(details.get("approved"))  # the citizen is told either way
        payload["days"] = details.get("days")
    return payload


class Notices:
    """The outbox and the opt-ins, reached as ``service.notices``."""

    def __init__(self, store: Store, config: Config, clock: Callable[[], datetime],
                 seal_key: bytes):  # fmt: skip
        self.store = store
        self.config = config
        self.clock = clock
        self._fernet = Fernet(base64.urlsafe_b64encode(seal_key))

    # -- writing (inside the change's transaction) ------------------------------------------

    async def enqueue(
        self,
        tx: WriteTx,
        report: Report,
        action: Action,
        details: Mapping[str, Any],
        now: datetime,
        *,
        in_submission: bool = False,
        code_for: Sequence[str] = (),
        code: str | None = None,
    ) -> int:
        """Queue the notice of a public event on each of the report's channels, in the same
        transaction as the change. ``code_for``: the channels whose receipt carries ``code``.
        Returns the rows written."""
        payload = payload_of(report, action, details, self.config)
        text = record.canonical(payload)
        rows: list[tuple[str, str, str | None]] = []
        chat = report.contact.telegram_chat_id
        if chat and workflow.public_notice(action.value, payload) is not None:
            rows.append((TELEGRAM, str(chat), None))
        if not report.anonymous and not (in_submission and action in IN_RECEIPT):
            assert report.id is not None
            for ch in await tx.fetch(CHANNELS_OF, {"report_id": report.id}):
                sealed = None
                if code and action is Action.SUBMIT and ch["channel"] in code_for:
                    sealed = self._fernet.encrypt(code.encode()).decode("ascii")
                rows.append((str(ch["channel"]), str(ch["address"]), sealed))
        for channel, recipient, sealed in rows:
            await tx.execute(ENQUEUE, {
                "report_id": report.id, "channel": channel, "recipient": recipient,
                "kind": action.value, "payload": text, "secret": sealed, "created_at": _iso(now),
            })  # fmt: skip
        return len(rows)

    async def subscribe(
        self, tx: WriteTx, report_id: int, channels: Mapping[str, str], now: datetime
    ) -> None:
        """A reporter's opt-in (channel → address), in the submission's transaction. The
        service never calls this for an anonymous report."""
        for channel, address in channels.items():
            if channel not in OPT_IN:
                raise ValueError(channel)
            await tx.execute(SUBSCRIBE, {
                "report_id": report_id, "channel": channel, "address": address,
                "token": base64.urlsafe_b64encode(os.urandom(18)).decode(),
                "created_at": _iso(now),
            })  # fmt: skip

    async def token_of(self, report_id: int, channel: str) -> str | None:
        """The unsubscribe token of a report's channel (for the link in its notices)."""
        rows = await self.store.fetch(TOKEN_OF, {"report_id": report_id, "channel": channel})
        return str(rows[0]["token"]) if rows else None

    async def subscription(self, token: str) -> dict[str, Any] | None:
        """What an unsubscribe link is for: the report's number, the channel, the masked
        address and whether it is still on."""
        rows = await self.store.fetch(SUBSCRIPTION, {"token": token})
        if not rows:
            return None
        r = rows[0]
        return {"tracking_number": r["tracking_number"], "channel": r["channel"],
                "address": mask(str(r["channel"]), str(r["address"])),
                "active": r["unsubscribed_at"] is None}  # fmt: skip

    async def unsubscribe(self, token: str) -> bool:
        """退订 by link: no more notices on that channel for that report; the notices already
        waiting are dropped too (marked given up, "退订"). False for an unknown token."""
        now = _iso(self.clock())
        async with self.store.transaction() as tx:
            rows = await tx.fetch(BY_TOKEN, {"token": token})
            if not rows:
                return False
            r = rows[0]
            await tx.execute(UNSUBSCRIBE, {"now": now, "token": token})
            await self._drop_waiting(tx, now, r["channel"], r["address"], r["report_id"])
        return True

    async def unsubscribe_address(self, channel: str, address: str) -> int:
        """退订 by SMS keyword: every report's notices to that number end. Returns how many
        opt-ins ended."""
        now = _iso(self.clock())
        async with self.store.transaction() as tx:
            n = await tx.execute(
                UNSUBSCRIBE_ADDRESS, {"now": now, "channel": channel, "address": address}
            )
            await self._drop_waiting(tx, now, channel, address, None)
        return n

    async def _drop_waiting(
        self, tx: WriteTx, now: str, channel: str, address: str, report_id: int | None
    ) -> None:
        params = {"now": now, "channel": channel, "address": address}
        if report_id is None:
            await tx.execute(DROP_WAITING, params)
        else:
            await tx.execute(DROP_WAITING_OF_REPORT, {**params, "report_id": report_id})

    # -- sending ---------------------------------------------------------------------------

    async def claim(
        self, channel: str, worker: str, limit: int = 20, *, lease: timedelta = LEASE
    ) -> list[OutboxMessage]:
        """Take up to ``limit`` due rows of ``channel`` for ``worker``, oldest first. No other
        claimer gets them until they are marked or the lease lapses."""
        now = self.clock()
        async with self.store.transaction() as tx:
            rows = await tx.fetch(CLAIM, {
                "worker": worker, "until": _iso(now + lease), "channel": channel,
                "now": _iso(now), "limit": limit,
            })  # fmt: skip
        return sorted((self._message(r, worker) for r in rows), key=lambda m: m.id)

    def _message(self, r: Mapping[str, Any], worker: str) -> OutboxMessage:
        try:
            payload = json.loads(r["payload"])
        except (TypeError, ValueError):
            payload = {}
        code = None
        if r.get("secret"):
            try:
                code = self._fernet.decrypt(str(r["secret"]).encode("ascii")).decode()
            except InvalidToken:  # the code key changed: the code is useless anyway
                log.warning("outbox %s: the sealed follow-up code no longer opens", r["id"])
        return OutboxMessage(
            id=int(r["id"]),
            report_id=int(r["report_id"]),
            channel=str(r["channel"]),
            recipient=str(r["recipient"]),
            kind=str(r["kind"]),
            payload=payload if isinstance(payload, dict) else {},
            attempts=int(r["attempts"]),
            created_at=str(r["created_at"]),
            code=code,
            claimed_by=worker,
        )

    async def mark_sent(self, message: OutboxMessage) -> bool:
        """Sent: the row is done and its sealed code erased. False if the claim had lapsed
        and another sender took the row meanwhile (then that sender marks it)."""
        async with self.store.transaction() as tx:
            n = await tx.execute(
                SENT, {"now": _iso(self.clock()), "id": message.id, "worker": message.claimed_by}
            )
        return n > 0

    async def release(self, messages: Sequence[OutboxMessage]) -> None:
        """Give claimed rows back untried (the far side asked everyone to wait)."""
        async with self.store.transaction() as tx:
            for m in messages:
                await tx.execute(RELEASE, {"id": m.id, "worker": m.claimed_by})

    async def defer(self, message: OutboxMessage, until: datetime, why: str) -> None:
        """Not now, and not a failure (the recipient's daily cap): try again at ``until``."""
        async with self.store.transaction() as tx:
            await tx.execute(DEFER, {
                "until": _iso(until), "why": why[:1000], "id": message.id,
                "worker": message.claimed_by,
            })  # fmt: skip

    async def mark_failed(
        self,
        message: OutboxMessage,
        error: str,
        *,
        retry_after: float | None = None,
        permanent: bool = False,
    ) -> int:
        """Count a failed send and say when to try again; returns the attempts so far.

        ``retry_after`` is the far side's own wait (Telegram's 429); ``permanent`` gives up at
        once (the chat blocked the bot, the address does not exist), since trying again cannot
        help. A row given up on is a dead letter: kept, with its error, until requeued."""
        now = self.clock()
        attempts = MAX_ATTEMPTS if permanent else message.attempts + 1
        wait = timedelta(seconds=retry_after) if retry_after is not None else backoff(attempts)
        dead = _iso(now) if attempts >= MAX_ATTEMPTS else None
        async with self.store.transaction() as tx:
            await tx.execute(FAILED, {
                "attempts": attempts, "error": error[:1000], "next": _iso(now + wait),
                "dead": dead, "id": message.id, "worker": message.claimed_by,
            })  # fmt: skip
        if dead:
            # Loud on purpose: a citizen did not hear about their report; someone must look.
            log.error("gave up sending %s notice %s after %d attempts: %s",
                      message.channel, message.id, attempts, error)  # fmt: skip
        else:
            log.warning("%s notice %s failed (attempt %d), retry in %s: %s",
                        message.channel, message.id, attempts, wait, error)  # fmt: skip
        return attempts

    async def sent_since(self, channel: str, recipient: str, since: datetime) -> int:
        """Notices sent to one recipient since ``since`` (the SMS daily cap)."""
        rows = await self.store.fetch(
            SENT_SINCE, {"channel": channel, "recipient": recipient, "since": _iso(since)}
        )
        return int(rows[0]["n"])

    # -- what a supervisor sees --------------------------------------------------------------

    async def dead_letters(self, limit: int = 100) -> list[dict[str, Any]]:
        """Notices given up on, newest first: the report, channel, masked recipient, error."""
        rows = await self.store.fetch(DEAD_LETTERS, {"limit": limit})
        for r in rows:
            r["recipient"] = mask(str(r["channel"]), str(r["recipient"]))
            r["label"] = Action(r["kind"]).label if r["kind"] in set(Action) else r["kind"]
        return rows

    async def pending(self, limit: int = 100) -> list[dict[str, Any]]:
        """Notices still waiting, oldest first, as dead_letters shows them (`feedback notify`)."""
        rows = await self.store.fetch(PENDING, {"limit": limit})
        for r in rows:
            r["recipient"] = mask(str(r["channel"]), str(r["recipient"]))
            r["label"] = Action(r["kind"]).label if r["kind"] in set(Action) else r["kind"]
        return rows

    async def requeue(self, outbox_id: int) -> bool:
        """Send a dead letter again from the start (the gateway is back)."""
        async with self.store.transaction() as tx:
            n = await tx.execute(REQUEUE, {"id": outbox_id})
        return n > 0

    async def unsent(self, channel: str | None = None) -> int:
        """Notices still waiting (not sent, not given up on)."""
        if channel:
            rows = await self.store.fetch(UNSENT_OF, {"channel": channel})
        else:
            rows = await self.store.fetch(UNSENT, {})
        return int(rows[0]["n"])


def mask(channel: str, recipient: str) -> str:
    """A recipient as a supervisor may see it: enough to tell two apart, not to write to."""
    if channel == EMAIL and "@" in recipient:
        name, _, domain = recipient.partition("@")
        return f"{name[:1]}***@{domain}"
    if channel == SMS and len(recipient) >= 7:
        return f"{recipient[:3]}****{recipient[-4:]}"
    return "***"


async def rate_from_chat(
    service: FeedbackService,
    chat_id: int,
    tracking_number: str,
    rating: str,
    comment: str | None = None,
) -> CitizenView:
    """Rate a report from the chat that filed it; any other chat gets NotFound."""
    return await service.rate_as_owner(chat_id, tracking_number, rating, comment)


async def report_of_chat(
    service: FeedbackService, chat_id: int, tracking_number: str
) -> Report | None:
    """The report, if this chat filed it; None for another chat's report or an unknown one."""
    tn = secrets.normalise_tracking_number(tracking_number or "")
    report = await service.store.get_report(tn) if secrets.TRACKING_RE.match(tn) else None
    if report is None or report.contact.telegram_chat_id != chat_id:
        return None
    return report
