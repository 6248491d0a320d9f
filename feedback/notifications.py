"""Chat notifications: the outbox, written and read here (one owner for the table).

`enqueue` (called by FeedbackService.record_event) writes an ``outbox`` row in the same
transaction as every public event of a report filed from a Telegram chat, so a notice can never be lost between the change and
the send. The sender (bots/notifier.py) takes due rows with `pending`, and marks each with
`mark_sent` or `mark_failed`; a failed row waits (exponential backoff, or as long as Telegram
asked) and is tried again until MAX_ATTEMPTS, after which it stays, with its last error, for
an operator to see.

Also here: what a chat may do with its own reports without the follow-up code.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from feedback import record, secrets
from feedback.config import Config
from feedback.models import Report
from feedback.store import WriteTx
from feedback.workflow import Action

if TYPE_CHECKING:  # the service calls `enqueue`; the other functions are handed a service
    from feedback.service import CitizenView, FeedbackService

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
BACKOFF_FIRST = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=2)


@dataclass
class OutboxMessage:
    id: int
    report_id: int
    chat_id: int
    kind: str  # the workflow action announced: route, accept, answer, …
    payload: dict[str, Any]
    attempts: int
    created_at: str


def backoff(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failure: 30 s, 1 min, 2 min, … up to 2 h."""
    return min(BACKOFF_FIRST * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


def _iso(at: datetime) -> str:
    return at.isoformat()


async def enqueue(
    tx: WriteTx,
    report: Report,
    action: Action,
    details: dict[str, Any],
    config: Config,
    now: datetime,
) -> None:
    """Queue a chat message in the same transaction as the change it announces."""
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
        payload["approved"] = bool(details.get("approved"))  # the chat is told either way
        payload["days"] = details.get("days")
    await tx.execute(
        "INSERT INTO outbox (report_id, chat_id, kind, payload, created_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (report.id, report.contact.telegram_chat_id, action.value, record.canonical(payload),
         now.isoformat()),
    )  # fmt: skip


async def pending(service: FeedbackService, limit: int = 50) -> list[OutboxMessage]:
    """Unsent messages that are due now, oldest first; rows given up on are left out."""
    now = _iso(service.clock())
    rows = await service.store.fetch(
        "SELECT id, report_id, chat_id, kind, payload, attempts, created_at FROM outbox "
        "WHERE sent_at IS NULL AND attempts < ? "
        "AND (next_attempt_at IS NULL OR next_attempt_at <= ?) ORDER BY id LIMIT ?",
        (MAX_ATTEMPTS, now, limit),
    )
    out = []
    for r in rows:
        try:
            payload = json.loads(r["payload"])
        except (TypeError, ValueError):
            payload = {}
        out.append(
            OutboxMessage(
                id=int(r["id"]),
                report_id=int(r["report_id"]),
                chat_id=int(r["chat_id"]),
                kind=str(r["kind"]),
                payload=payload if isinstance(payload, dict) else {},
                attempts=int(r["attempts"]),
                created_at=str(r["created_at"]),
            )
        )
    return out


async def mark_sent(service: FeedbackService, message_id: int) -> None:
    async with service.store.transaction() as tx:
        await tx.execute(
            "UPDATE outbox SET sent_at = ?, last_error = NULL WHERE id = ?",
            (_iso(service.clock()), message_id),
        )


async def mark_failed(
    service: FeedbackService,
    message_id: int,
    error: str,
    *,
    retry_after: float | None = None,
    permanent: bool = False,
) -> int:
    """Count a failed send and say when to try again; returns the attempts so far.

    ``retry_after`` is Telegram's own wait (429); ``permanent`` gives up at once (the chat
    blocked the bot or no longer exists), since trying again cannot help.
    """
    async with service.store.transaction() as tx:
        rows = await tx.fetch("SELECT attempts FROM outbox WHERE id = ?", (message_id,))
        if not rows:
            return 0
        attempts = MAX_ATTEMPTS if permanent else int(rows[0]["attempts"]) + 1
        wait = timedelta(seconds=retry_after) if retry_after is not None else backoff(attempts)
        await tx.execute(
            "UPDATE outbox SET attempts = ?, last_error = ?, next_attempt_at = ? WHERE id = ?",
            (attempts, error[:1000], _iso(service.clock() + wait), message_id),
        )
    if attempts >= MAX_ATTEMPTS:
        # Loud on purpose: a citizen did not hear about their report; an operator must look.
        log.error(
            "gave up sending chat notice %s after %d attempts: %s", message_id, attempts, error
        )
    else:
        log.warning("chat notice %s failed (attempt %d), retry in %s: %s",
                    message_id, attempts, wait, error)  # fmt: skip
    return attempts


async def failed(service: FeedbackService, limit: int = 100) -> list[dict[str, Any]]:
    """Notices given up on, for an operator (no chat ids: the report and the error suffice)."""
    return await service.store.fetch(
        "SELECT o.id, r.tracking_number, o.kind, o.attempts, o.last_error, o.created_at "
        "FROM outbox o JOIN reports r ON r.id = o.report_id "
        "WHERE o.sent_at IS NULL AND o.attempts >= ? ORDER BY o.id DESC LIMIT ?",
        (MAX_ATTEMPTS, limit),
    )


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
