"""社会监督激励: points for citizens whose reports are substantiated, and the 考核 score's formula
(the one definition; its inputs are the statistics' figures, feedback.stats.Figures).

A supervisor decides once whether a report is substantiated (查实). A substantiated report earns
its reporter points by the configured table (the largest value among its issue types), granted
once. An anonymous reporter claims them with the tracking number and follow-up code alone. The
ledger is append-only with its own hash chain, verified by `feedback verify`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from feedback import labels, permissions, record, secrets, workflow
from feedback.errors import InvalidTransition, NotFound
from feedback.models import Actor, Report
from feedback.service import FeedbackService
from feedback.store import WriteTx
from feedback.store import schema as t
from feedback.store.rows import js
from feedback.store.sql import Query, param
from feedback.workflow import Action

P = t.points_ledger
LEDGER_OF = Query(sa.select(P.c.kind, P.c.points).where(P.c.report_id == param("report_id")))
HASH_AT = Query(sa.select(P.c.hash).where(P.c.seq == param("seq")))
APPEND = Query(sa.insert(P).values({c: param(c) for c in (
    "seq", "report_id", "kind", "points", "at", "actor_id", "details", "prev_hash", "hash")}))  # fmt: skip
LEDGER = Query(
    sa.select(P, t.reports.c.tracking_number)
    .select_from(P.join(t.reports, t.reports.c.id == P.c.report_id))
    .order_by(P.c.seq)
)
COUNTER = Query(sa.select(t.counters.c.value).where(t.counters.c.name == "points_ledger"))


@dataclass(frozen=True)
class Points:
    granted: int
    claimed: bool
    substantiated: bool | None


def tally(rows: list[dict[str, Any]]) -> tuple[int, bool]:
    """(points granted, claimed yet) from a report's ledger rows: points are summed only here."""
    granted = sum(int(r["points"]) for r in rows if r["kind"] == "grant")
    return granted, any(r["kind"] == "claim" for r in rows)


async def ledger_of(reader: Any, report_id: int | None) -> tuple[int, bool]:
    """The tally of one report's ledger, read by ``reader`` (the store or a transaction)."""
    rows = await reader.fetch(LEDGER_OF, {"report_id": report_id})
    return tally(rows)


def points_for(report: Report, table: dict[str, int]) -> int:
    values = [table.get(t, 0) for t in report.issue_types] or [table.get("none", 0)]
    return max(values + [table.get("none", 0)])


def _hash(entry: dict[str, Any], prev: str) -> str:
    return hashlib.sha256(record.canonical({**entry, "prev": prev}).encode()).hexdigest()


async def _append_ledger(
    tx: WriteTx, report: Report, kind: str, points: int, actor: Actor, at: datetime,
    details: dict[str, Any],
) -> None:  # fmt: skip
    seq = await tx.next_counter("points_ledger")
    rows = await tx.fetch(HASH_AT, {"seq": seq - 1})
    prev = rows[0]["hash"] if rows else record.GENESIS
    entry = {
        "seq": seq,
        "report": report.tracking_number,
        "kind": kind,
        "points": points,
        "at": at.isoformat(),
        "actor": actor.id,
        "details": details,
    }
    await tx.execute(APPEND, {
        "seq": seq, "report_id": report.id, "kind": kind, "points": points,
        "at": at.isoformat(), "actor_id": actor.id, "details": record.canonical(details),
        "prev_hash": prev, "hash": _hash(entry, prev),
    })  # fmt: skip


async def substantiate(
    service: FeedbackService, actor: Actor, tracking_number: str, substantiated: bool, note: str
) -> Report:
    """The supervisor's finding (查实/不属实); points are granted with a positive finding."""
    permissions.require_supervisor(actor)
    from feedback import validation

    text = validation.reason(note, "note", "认定意见")
    now = service.clock()
    async with service.store.transaction() as tx:
        report = await tx.lock_report(secrets.normalise_tracking_number(tracking_number))
        if report is None:
            raise NotFound()
        if report.substantiated is not None:
            raise InvalidTransition("该诉求已作出查实认定，不能重复认定。")
        workflow.check(Action.SUBSTANTIATE, report.status)
        before = report.snapshot()
        report.substantiated = substantiated
        points = points_for(report, service.config.incentive_points) if substantiated else 0
        details = {"substantiated": substantiated, "note": text, "points": points}
        await service.record_event(tx, report, actor, Action.SUBSTANTIATE, before, details, at=now)
        # The supervisor's finding confirms the report's issue types (a label for the model).
        await labels.record(
            tx, labels.issue_type_label(report, actor, "substantiate", report.issue_types, now)
        )
        if points:
            await _append_ledger(tx, report, "grant", points, actor, now, {"note": text})
    await service.announce(report.tracking_number, Action.SUBSTANTIATE)
    return report


async def points_of(service: FeedbackService, report: Report) -> Points:
    granted, claimed = await ledger_of(service.store, report.id)
    return Points(granted, claimed, report.substantiated)


async def claim(service: FeedbackService, tracking_number: str, code: str) -> Points:
    """The reporter claims granted points with the tracking number and code alone."""
    verified = await service.verified_report(tracking_number, code)
    now = service.clock()
    async with service.store.transaction() as tx:
        report = await tx.lock_report(verified.tracking_number)
        assert report is not None
        granted, claimed = await ledger_of(tx, report.id)
        if not granted:
            raise InvalidTransition("该诉求暂无可领取的积分。")
        if claimed:
            raise InvalidTransition("积分已经领取过了。")
        receipt = hashlib.sha256(f"{report.tracking_number}:{now.isoformat()}".encode()).hexdigest()
        await _append_ledger(
            tx, report, "claim", granted, Actor.citizen(), now, {"receipt": receipt[:12]}
        )
        before = report.snapshot()
        await service.record_event(
            tx, report, Actor.citizen(), Action.NOTE, before, {"points_claimed": granted},
            public=False,
        )  # fmt: skip
    return Points(granted, True, True)


async def verify_ledger(service: FeedbackService) -> str | None:
    """The first broken link of the points ledger, or None."""
    rows = await service.store.fetch(LEDGER, {})
    prev = record.GENESIS
    for expected, row in enumerate(rows, start=1):
        if row["seq"] != expected:
            return f"points ledger entry #{expected} missing"
        entry = {
            "seq": row["seq"],
            "report": row["tracking_number"],
            "kind": row["kind"],
            "points": row["points"],
            "at": row["at"],
            "actor": row["actor_id"],
            "details": js(row["details"]),
        }
        if row["prev_hash"] != prev or _hash(entry, prev) != row["hash"]:
            return f"points ledger entry #{row['seq']} does not match its hash"
        prev = row["hash"]
    counter = await service.store.fetch(COUNTER, {})
    if counter and int(counter[0]["value"]) != len(rows):
        return f"points ledger has {len(rows)} entries, counter says {counter[0]['value']}"
    return None


# Weights of the 考核 score: punctuality, getting routing right, citizens' satisfaction, and
# the quality of the answers (feedback.answer_review's mean score, where it is known: the
# supervisor's insight desk). A part not known is left out and the others share its weight,
# so without answer quality the score is the 40 · 30 · 30 it always was.
WEIGHTS = {"on_time": 40.0, "no_send_back": 30.0, "satisfaction": 30.0, "answer_quality": 20.0}


def assessment_score(
    on_time: float | None,
    send_back: float | None,
    satisfaction: float | None,
    answer_quality: float | None = None,
) -> float | None:
    """考核 score out of 100 from the parts known; None when nothing is known yet.
    ``answer_quality`` is the mean answer-review score as a fraction (0–1)."""
    parts = [
        (WEIGHTS["on_time"], on_time),
        (WEIGHTS["no_send_back"], None if send_back is None else 1 - send_back),
        (WEIGHTS["satisfaction"], satisfaction),
        (WEIGHTS["answer_quality"], answer_quality),
    ]
    known = [(w, v) for w, v in parts if v is not None]
    if on_time is None:
        return None  # nothing answered and nothing overdue yet: no basis for a score
    return round(100 * sum(w * v for w, v in known) / sum(w for w, _ in known), 1)
