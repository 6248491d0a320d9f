"""The work-order clock's background job (催办/督办, 回访 window): `feedback tick` and the app's timer.

Each pass looks at open reports with a deadline and
- warns the bureau when a deadline is near (催办, recorded, not shown to the citizen),
- escalates a report whose deadline has passed to the supervisor (督办, shown to the citizen),
- closes an answered report whose rating window has passed ('closed without rating'),
- seals reports from before row digests and takes the day's record checkpoint
  (feedback.checkpoint), so every chain is anchored at least once a day;
- retrains the classifier when enough new labels arrived, or nightly (feedback.learning),
  under a lock of its own so one process trains while the others go on.
Every step is keyed by the deadline it concerns and re-checked inside the report's
transaction, so running the job twice, or in two processes at once, acts once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from feedback import checkpoint, learning, public_search, workflow
from feedback.models import Actor, CloseReason, Report
from feedback.service import FeedbackService
from feedback.store import ReportFilter
from feedback.workflow import Action

log = logging.getLogger(__name__)

CLOCK = Actor.system("clock")
LOCK_NAME = "feedback-tick"
RETRAIN_LOCK = "feedback-retrain"
PAGE = 1000
START_DELAY = 10  # seconds: let the app finish starting first


@dataclass
class TickResult:
    warned: list[str] = field(default_factory=list)
    escalated: list[str] = field(default_factory=list)
    closed_unrated: list[str] = field(default_factory=list)
    skipped_locked: bool = False
    stats_days: int = 0  # days of the statistics rollup recomputed
    sealed: int = 0  # reports from before row digests given their first one
    checkpoint: str | None = None  # digest of the checkpoint taken, if one was due
    retrained: list[str] = field(default_factory=list)  # the retraining's verdict, if one ran

    def summary(self) -> str:
        if self.skipped_locked:
            return "another process is running the job; nothing done"
        text = (
            f"warned {len(self.warned)}, escalated {len(self.escalated)}, "
            f"closed without rating {len(self.closed_unrated)}"
        )
        if self.sealed:
            text += f", sealed {self.sealed} records"
        if self.checkpoint:
            text += f", checkpoint {self.checkpoint[:16]}"
        if self.retrained:
            text += "; retrained: " + " ".join(self.retrained)
        return text


def stage_deadline(report: Report) -> tuple[str, datetime] | None:
    """The deadline the bureau (or triage desk) is working against now, with its stage."""
    found = workflow.stage_deadline(report)
    return (found[0].stage, found[1]) if found else None


_key = workflow.deadline_key


@asynccontextmanager
async def _no_lock() -> AsyncIterator[bool]:
    yield True


def _job_lock(service: FeedbackService, name: str = LOCK_NAME) -> AbstractAsyncContextManager[bool]:
    """Run once across processes when the store offers an advisory lock."""
    lock = getattr(service.store, "try_advisory_lock", None)
    return lock(name) if lock is not None else _no_lock()


@dataclass(frozen=True)
class Learning:
    """Where the models live and when to retrain (settings ``data_dir``, ``retrain_labels``)."""

    models_dir: Path
    every: int = 200


async def tick(
    service: FeedbackService,
    now: datetime | None = None,
    checkpoint_key: str | None = None,
    learn: Learning | None = None,
) -> TickResult:
    result = TickResult()
    async with _job_lock(service) as got:
        if not got:
            result.skipped_locked = True
            return result
        now = now or service.clock()
        await _deadlines(service, now, result)
        await _rating_windows(service, now, result)
        # Keep the statistics rollup and the public search index current, so the dashboard
        # and the public page rarely pay for a bulk change (both work in short transactions).
        result.stats_days = await service.stats.refresh()
        await public_search.update(service.store)
        result.sealed = await service.seal_records()
        await service.short_links.prune(now)
        tz = ZoneInfo(service.config.timezone)
        taken = await checkpoint.daily(service.store, now, tz, checkpoint_key)
        result.checkpoint = taken.digest if taken else None
    if learn is not None:
        # Training takes a minute or more: outside the clock's lock, in a worker thread.
        async with _job_lock(service, RETRAIN_LOCK) as got:
            if got:
                report = await learning.auto_retrain(service, learn.models_dir, learn.every, now)
                result.retrained = report.lines() if report else []
    if result.warned or result.escalated or result.closed_unrated:
        log.info("tick: %s", result.summary())
    return result


async def _candidates(service: FeedbackService, flt: ReportFilter) -> list[str]:
    flt.limit, flt.newest_first = PAGE, False
    found: list[str] = []
    while True:
        batch = await service.store.list_reports(flt)
        found.extend(r.tracking_number for r in batch)
        if len(batch) < PAGE:
            return found
        flt.offset += PAGE


async def _deadlines(service: FeedbackService, now: datetime, result: TickResult) -> None:
    # Warnings look a few calendar days ahead: enough to cover `warn_before` working days
    # across a weekend; the exact working-day test is made per report.
    horizon = now + timedelta(days=service.config.clocks.warn_before * 2 + 4)
    numbers = await _candidates(service, ReportFilter(due_before=horizon))
    for tn in dict.fromkeys(numbers):
        await _one_deadline(service, tn, now, result)


async def _one_deadline(
    service: FeedbackService, tn: str, now: datetime, result: TickResult
) -> None:
    async with service.store.transaction() as tx:
        report = await tx.lock_report(tn)
        if report is None:
            return
        stage = stage_deadline(report)
        if stage is None:
            return
        name, due = stage
        key = _key(name, due)
        if now > due:
            if report.escalated_for == key:
                return
            before = report.snapshot()
            workflow.apply(Action.ESCALATE, report)
            report.escalation_level += 1
            report.escalated_for = key
            report.supervised = True
            late = service.calendar.working_days_left(now, due)
            await service.record_event(
                tx,
                report,
                CLOCK,
                Action.ESCALATE,
                before,
                {"stage": name, "due": due.isoformat(), "working_days_late": -late, "auto": True},
                at=now,
            )
            result.escalated.append(tn)
            action = Action.ESCALATE
        else:
            left = service.calendar.working_days_left(now, due)
            # The working days the office still has, today's counted while it is one: a
            # deadline set this morning (签收 within 1 working day) is not a reminder matter
            # until its last working day (before: `left <= warn_before` warned at once).
            today = service.calendar.is_workday(service.calendar.local_date(now))[0]
            if left + int(today) > service.config.clocks.warn_before or report.warned_for == key:
                return
            before = report.snapshot()
            workflow.apply(Action.WARN, report)
            report.warned_for = key
            await service.record_event(
                tx,
                report,
                CLOCK,
                Action.WARN,
                before,
                {"stage": name, "due": due.isoformat(), "working_days_left": left},
                at=now,
            )
            result.warned.append(tn)
            action = Action.WARN
    await service.announce(tn, action)


async def _rating_windows(service: FeedbackService, now: datetime, result: TickResult) -> None:
    for tn in await _candidates(service, ReportFilter(statuses=workflow.in_order(workflow.RATING))):
        async with service.store.transaction() as tx:
            report = await tx.lock_report(tn)
            if report is None or report.status not in workflow.RATING:
                continue
            if report.deadlines.rate_by is None or now <= report.deadlines.rate_by:
                continue
            before = report.snapshot()
            workflow.apply(Action.CLOSE_UNRATED, report)
            report.close_reason = CloseReason.NO_RATING
            report.closed_at = now
            await service.record_event(
                tx, report, CLOCK, Action.CLOSE_UNRATED, before, {"rate_by": iso(report)}, at=now
            )
            result.closed_unrated.append(tn)
        await service.announce(tn, Action.CLOSE_UNRATED)


def iso(report: Report) -> str | None:
    due = report.deadlines.rate_by
    return due.isoformat() if due else None


async def run_forever(
    service: FeedbackService,
    every_seconds: int,
    checkpoint_key: str | None = None,
    learn: Learning | None = None,
) -> None:
    """The app's timer: a tick shortly after start, then every `every_seconds`; errors are
    logged, never fatal."""
    await asyncio.sleep(min(every_seconds, START_DELAY))
    while True:
        try:
            await tick(service, checkpoint_key=checkpoint_key, learn=learn)
        except Exception:
            log.exception("tick failed; trying again next time")
        await asyncio.sleep(every_seconds)


@asynccontextmanager
async def background(
    service: FeedbackService,
    every_seconds: int,
    checkpoint_key: str | None = None,
    learn: Learning | None = None,
) -> AsyncIterator[None]:
    if every_seconds <= 0:
        yield
        return
    task = asyncio.create_task(
        run_forever(service, every_seconds, checkpoint_key, learn), name="feedback-tick"
    )
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
