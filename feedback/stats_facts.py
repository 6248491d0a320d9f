"""Historic facts for the statistics, written when a bureau signs for or answers a report.

The report row keeps only the latest deadlines (a send-back re-routing resets sign_by, a
reopen resets answer_by), so whether a step was on time, and how many working days it took, is
recorded in the same transaction as the step itself (columns of migration 0006).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from feedback import workflow
from feedback.deadlines import WorkCalendar
from feedback.models import Report
from feedback.store import WriteTx
from feedback.store.rows import ts

# Actions after which a report reaches a (new) bureau: the sign-for clock starts there.
ROUTING_ACTIONS = workflow.ROUTING


def working_days_between(calendar: WorkCalendar, start: datetime, end: datetime) -> int:
    """Working days after the day of ``start`` up to the day of ``end`` (same day = 0)."""
    if end <= start:
        return 0
    return max(calendar.working_days_left(start, end), 0)


async def record(
    tx: WriteTx,
    calendar: WorkCalendar,
    report: Report,
    action: str,
    now: datetime,
    details: Mapping[str, Any] | None = None,
) -> None:
    """Called by the service after an action's event is appended, inside its transaction."""
    if action == "accept":
        rows = await tx.fetch(
            "SELECT at FROM events WHERE report_id = ? AND action IN "
            f"({', '.join('?' for _ in ROUTING_ACTIONS)}) ORDER BY seq DESC LIMIT 1",
            (report.id, *ROUTING_ACTIONS),
        )
        reached = ts(rows[0]["at"]) if rows else report.created_at
        due = report.deadlines.sign_by
        await tx.execute(
            "UPDATE reports SET signed_on_time = ?, sign_working_days = ? WHERE id = ?",
            (
                int(due is None or now <= due),
                working_days_between(calendar, reached or report.created_at, now),
                report.id,
            ),
        )
    elif action in workflow.REROUTING:
        # The next bureau signs afresh; the previous one's signing is no longer the fact.
        await tx.execute(
            "UPDATE reports SET signed_on_time = NULL, sign_working_days = NULL WHERE id = ?",
            (report.id,),
        )
        # A send-back counts against the bureau that made it (migration 0010); a 改派 is
        # the supervisor's and counts against nobody.
        if action == "send_back" and details and details.get("from"):
            await tx.execute(
                "INSERT INTO send_backs (report_id, seq, department) VALUES (?, ?, ?)",
                (report.id, report.record_count, details["from"]),
            )
    elif action == "answer":
        due = report.deadlines.answer_by
        on_time = int(due is None or now <= due)
        started = report.accepted_at or report.created_at
        # A report answered again after a reopen is on time only if every answer was; the
        # time to answer stays that of the first answer.
        await tx.execute(
            "UPDATE reports SET answered_on_time = CASE WHEN answered_on_time IS NULL THEN ? "
            "WHEN answered_on_time < ? THEN answered_on_time ELSE ? END, "
            "answer_working_days = COALESCE(answer_working_days, ?) WHERE id = ?",
            (on_time, on_time, on_time, working_days_between(calendar, started, now), report.id),
        )
