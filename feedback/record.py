"""The full-process record (执法全过程记录): an append-only, hash-chained log per report.

Each event's hash covers its own content and the previous event's hash, so editing, inserting
or deleting an event anywhere breaks the chain. The report row keeps the head hash and the
count, so cutting events off the end is caught too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from feedback.models import Event

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
