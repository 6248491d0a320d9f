"""The full-process record (执法全过程记录): an append-only, hash-chained log per report.

Each event's hash covers its own content and the previous event's hash, so editing, inserting
or deleting an event anywhere breaks the chain. The report row keeps the head hash and the
count, so cutting events off the end is caught too. Each event also holds the digest of the
report row it left behind, and the first one the citizen's words (salted hashes), so an edit of
the row itself is caught; checkpoints (feedback.checkpoint) anchor all chains outside the
database, so a rewrite of whole chains, or their deletion, is caught too.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from feedback import workflow
from feedback.models import Event, Report

GENESIS = "0" * 64


def canonical(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def event_hash(
    *,
    tracking_number: str,
    seq: int,
    at: datetime,
    actor_role: str,
    actor_id: str,
    action: str,
    details: dict[str, Any],
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    public: bool,
    prev_hash: str,
) -> str:
    content = {
        "report": tracking_number,
        "seq": seq,
        "at": at.isoformat(),
        "actor": [actor_role, actor_id],
        "action": action,
        "details": details,
        "before": before,
        "after": after,
        "public": public,
        "prev": prev_hash,
    }
    return hashlib.sha256(canonical(content).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    tracking_number: str
    seq: int
    reason: str

    def __str__(self) -> str:
        return f"{self.tracking_number} event #{self.seq}: {self.reason}"


def verify_chain(
    tracking_number: str,
    events: Sequence[Event],
    *,
    head: str,
    count: int,
) -> ChainBreak | None:
    """The first broken link of one report's chain, or None when it holds."""
    prev = GENESIS
    for expected_seq, ev in enumerate(events, start=1):
        if ev.seq != expected_seq:
            return ChainBreak(tracking_number, expected_seq, f"event missing (found #{ev.seq})")
        if ev.prev_hash != prev:
            return ChainBreak(tracking_number, ev.seq, "previous-hash link does not match")
        recomputed = event_hash(
            tracking_number=tracking_number,
            seq=ev.seq,
            at=ev.at,
            actor_role=ev.actor_role,
            actor_id=ev.actor_id,
            action=ev.action,
            details=ev.details,
            before=ev.before,
            after=ev.after,
            public=ev.public,
            prev_hash=ev.prev_hash,
        )
        if recomputed != ev.hash:
            return ChainBreak(tracking_number, ev.seq, "content does not match its hash")
        prev = ev.hash
    if len(events) != count:
        return ChainBreak(
            tracking_number, len(events) + 1, f"report records {count} events, found {len(events)}"
        )
    if prev != (head or GENESIS):
        return ChainBreak(tracking_number, len(events), "last event is not the recorded head")
    return None


def first_break(chains: Iterable[tuple[str, Sequence[Event], str, int]]) -> list[ChainBreak]:
    """Every broken chain among (tracking number, events, head, count) tuples."""
    breaks = []
    for tn, events, head, count in chains:
        found = verify_chain(tn, events, head=head, count=count)
        if found is not None:
            breaks.append(found)
    return breaks


def next_event(
    report_id: int,
    tracking_number: str,
    head: str,
    count: int,
    *,
    at: datetime,
    actor_role: str,
    actor_id: str,
    action: str,
    details: dict[str, Any],
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    public: bool,
) -> Event:
    """The event that extends a chain whose last hash is ``head`` and length ``count``."""
    prev = head or GENESIS
    seq = count + 1
    digest = event_hash(
        tracking_number=tracking_number,
        seq=seq,
        at=at,
        actor_role=actor_role,
        actor_id=actor_id,
        action=action,
        details=details,
        before=before,
        after=after,
        public=public,
        prev_hash=prev,
    )
    return Event(
        report_id=report_id,
        seq=seq,
        at=at,
        actor_role=actor_role,
        actor_id=actor_id,
        action=action,
        details=details,
        before=before,
        after=after,
        prev_hash=prev,
        hash=digest,
        public=public,
    )


# -- the report row, covered by the record ---------------------------------------------------
#
# Every event's `after` carries ``row``: the digest of the whole report row as that event left
# it (every column the service writes, apart from the chain's own head and count). The first
# event that holds a report's words carries ``content``: salted hashes of title, text, contact
# and place, so the complaint as filed is in the chain without putting a phone number where
# every staff member reads the record. The salt is a random value kept in the row itself.


def _t(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()


def report_state(r: Report) -> dict[str, Any]:
    """Every field of the report row the service writes, as plain JSON values."""
    d = r.deadlines
    return {
        "tracking_number": r.tracking_number,
        "code_hash": r.code_hash,
        "channel": r.channel.value,
        "kind": r.kind.value,
        "title": r.title,
        "text": r.text,
        "status": r.status.value,
        "created_at": _t(r.created_at),
        "updated_at": _t(r.updated_at),
        "anonymous": bool(r.anonymous),
        "contact": [r.contact.name, r.contact.phone, r.contact.telegram_chat_id],
        "place": r.place,
        "occurred_at": r.occurred_at,
        "authority": r.authority,
        "department": r.department,
        "assisting": list(r.assisting),
        "issue_types": list(r.issue_types),
        "deadlines": [_t(d.sign_by), _t(d.answer_by), _t(d.rate_by), _t(d.send_back_by)],
        "routing": r.routing,
        "send_back_count": r.send_back_count,
        "route_locked": bool(r.route_locked),
        "arbitration": bool(r.arbitration),
        "extension_used": bool(r.extension_used),
        "pending_extension": r.pending_extension,
        "escalation_level": r.escalation_level,
        "warned_for": r.warned_for,
        "escalated_for": r.escalated_for,
        "supervised": bool(r.supervised),
        "answer": r.answer,
        "answered_at": _t(r.answered_at),
        "accepted_at": _t(r.accepted_at),
        "rating": r.rating.value if r.rating else None,
        "rating_comment": r.rating_comment,
        "reopen_count": r.reopen_count,
        "review_used": bool(r.review_used),
        "close_reason": r.close_reason.value if r.close_reason else None,
        "closed_at": _t(r.closed_at),
        "substantiated": r.substantiated,
        "duplicate_of": r.duplicate_of,
    }


def row_digest(r: Report) -> str:
    state = report_state(r)
    if not r.publish:
        # Only a refusal is in the digest, so rows from before the choice keep their digests.
        state["publish"] = False
    if r.assignee:
        # Likewise only a claimed report's 经办人 (migration 0016).
        state["assignee"] = r.assignee
    body = canonical({"salt": r.record_salt, "state": state})
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def new_salt() -> str:
    return secrets.token_hex(16)


def _salted(salt: str, name: str, value: Any) -> str:
    return hashlib.sha256(f"{salt}\x00{name}\x00{canonical(value)}".encode()).hexdigest()


def content_hashes(r: Report) -> dict[str, str]:
    """The citizen's words as filed: salted, so the record shows no guessable phone number."""
    salt = r.record_salt
    return {
        "title": _salted(salt, "title", r.title),
        "text": _salted(salt, "text", r.text),
        "contact": _salted(salt, "contact", [r.contact.name, r.contact.phone,
                                             r.contact.telegram_chat_id]),
        "where": _salted(salt, "where", [r.place, r.occurred_at, r.authority]),
    }  # fmt: skip


CONTENT_LABELS = {"title": "title", "text": "text", "contact": "contact", "where": "place"}


@dataclass
class RecordCheck:
    """What `verify_report` needs besides the chain: the statistics columns and how to count
    working days (feedback.stats_facts writes them in the same transaction as the event)."""

    stats: dict[str, Any]
    working_days: Callable[[datetime, datetime], int]


ROUTING_ACTIONS = workflow.ROUTING


def verify_report(
    report: Report, events: Sequence[Event], check: RecordCheck | None = None
) -> list[ChainBreak]:
    """Everything wrong with one report: its chain, and its row against what the chain says.

    Reports whose events predate row digests (a database from before 0.2.0 not yet sealed by
    the background job) are checked for their chain only.
    """
    tn = report.tracking_number
    broken = verify_chain(tn, events, head=report.record_head, count=report.record_count)
    if broken is not None:
        return [broken]
    if not events:
        return []
    out: list[ChainBreak] = []
    last = events[-1]
    shown = last.after or {}
    digest = shown.get("row")
    if digest is None:
        return out
    snapshot = report.snapshot()
    stated = [k for k in snapshot if k in shown and shown[k] != snapshot[k]]
    if stated and digest == row_digest(report):
        # Digest recomputed by hand, but the state the event shows was left behind.
        out.append(
            ChainBreak(tn, last.seq, f"report row differs from its record ({', '.join(stated)})")
        )
    if digest != row_digest(report):
        fields = _differing(report, events)
        what = ", ".join(fields) if fields else "a field not named by any event"
        out.append(ChainBreak(tn, last.seq, f"report row differs from its record ({what})"))
    if _t(report.updated_at) != _t(last.at):
        out.append(ChainBreak(tn, last.seq, "report row's updated_at is not its last event's"))
    expected = _attachments(events)
    found = sorted(a.sha256 for a in report.attachments)
    if expected is not None and sorted(expected) != found:
        out.append(ChainBreak(tn, last.seq, "attachments differ from those the record names"))
    if check is not None:
        out.extend(_stats_breaks(report, events, check))
    return out


def _differing(report: Report, events: Sequence[Event]) -> list[str]:
    """The fields of the row that disagree with what the events state outright."""
    names: list[str] = []
    after = events[-1].after or {}
    for key in ("status", "department", "assisting", "issue_types", "escalation_level"):
        value = report.snapshot()[key]
        if key in after and after[key] != value:
            names.append(key)
    content = next((e.details["content"] for e in reversed(events) if "content" in e.details),
                   None)  # fmt: skip
    if content:
        now = content_hashes(report)
        names += [CONTENT_LABELS[k] for k in now if content.get(k) != now[k]]
    answers = [e.details.get("answer") for e in events if e.action == "answer"]
    if (answers[-1] if answers else None) != report.answer:
        names.append("answer")
    ratings = [e.details.get("rating") for e in events if e.action == "rate"]
    if (ratings[-1] if ratings else None) != (report.rating.value if report.rating else None):
        names.append("rating")
    if report.status.value == "closed" and not any(
        e.action in ("rate", "close_unrated", "decide_review") for e in events
    ):
        names.append("status (closed without a closing event)")
    return names


def _attachments(events: Sequence[Event]) -> list[str] | None:
    """The attachments' SHA-256 the record names, or None if it never listed them."""
    found: list[str] | None = None
    for e in events:
        d = e.details
        if e.action in ("submit", "seal") and isinstance(d.get("attachments"), list):
            found = list(d["attachments"])
        elif isinstance(d.get("attachment"), dict) and found is not None:
            found.append(d["attachment"].get("sha256"))
    return found


def _stats_breaks(report: Report, events: Sequence[Event], check: RecordCheck) -> list[ChainBreak]:
    """signed_on_time / answered_on_time and their working days, from the events that set them
    (only events written with row digests: older rows were filled in by migration 0006)."""
    tn, stats = report.tracking_number, check.stats
    out: list[ChainBreak] = []
    signed: tuple[bool, int] | None = None
    reached = report.created_at
    accepted_at: datetime | None = None
    answered: bool | None = None
    answer_days: int | None = None
    covered = True
    for e in events:
        new_style = "row" in (e.after or {})
        if e.action in ROUTING_ACTIONS:
            reached = e.at
            if e.action in workflow.REROUTING:
                signed, accepted_at = None, None
        elif e.action == "accept":
            covered = covered and new_style
            accepted_at = e.at
            signed = (bool(e.details.get("on_time")), check.working_days(reached, e.at))
        elif e.action == "answer":
            covered = covered and new_style
            on_time = bool(e.details.get("on_time"))
            answered = on_time if answered is None else (answered and on_time)
            if answer_days is None:
                answer_days = check.working_days(accepted_at or report.created_at, e.at)
    if not covered:
        return out
    want_signed = (None, None) if signed is None else (int(signed[0]), signed[1])
    have_signed = (_int(stats.get("signed_on_time")), _int(stats.get("sign_working_days")))
    if have_signed != want_signed:
        out.append(ChainBreak(tn, events[-1].seq, "signing statistics differ from the record"))
    want_answer = (None if answered is None else int(answered), answer_days)
    have_answer = (_int(stats.get("answered_on_time")), _int(stats.get("answer_working_days")))
    if have_answer != want_answer:
        out.append(ChainBreak(tn, events[-1].seq, "answer statistics differ from the record"))
    return out


def _int(value: Any) -> int | None:
    return None if value is None else int(value)
