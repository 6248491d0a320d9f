"""Historic facts for the statistics, written when a bureau signs for or answers a report.

The report row keeps only the latest deadlines (a send-back re-routing resets sign_by, a
reopen resets answer_by), so whether a step was on time, and how many working days it took, is
recorded in the same transaction as the step itself (columns of migration 0006).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from feedback import workflow
from feedback.deadlines import WorkCalendar
from feedback.models import Report
from feedback.store import WriteTx
from feedback.store import schema as t
from feedback.store.rows import ts
from feedback.store.sql import Query, param

# Actions after which a report reaches a (new) bureau: the sign-for clock starts there.
ROUTING_ACTIONS = workflow.ROUTING

E, R = t.events, t.reports
REACHED = Query(
    sa.select(E.c.at)
    .where(E.c.report_id == param("report_id"), E.c.action.in_([str(a) for a in ROUTING_ACTIONS]))
    .order_by(E.c.seq.desc())
    .limit(1)
)
SIGNED = Query(sa.update(R).where(R.c.id == param("id")).values(
    signed_on_time=param("on_time"), sign_working_days=param("days")
))  # fmt: skip
UNSIGNED = Query(
    sa.update(R).where(R.c.id == param("id")).values(signed_on_time=None, sign_working_days=None)
)
SENT_BACK = Query(sa.insert(t.send_backs).values(
    report_id=param("report_id"), seq=param("seq"), department=param("department")
))  # fmt: skip
# On time only if every answer was (a reopened report answered again); the working days stay
# those of the first answer.
ANSWERED = Query(sa.update(R).where(R.c.id == param("id")).values(
    answered_on_time=sa.case(
        (R.c.answered_on_time.is_(None), param("on_time")),
        (R.c.answered_on_time < param("on_time"), R.c.answered_on_time),
        else_=param("on_time"),
    ),
    answer_working_days=sa.func.coalesce(R.c.answer_working_days, param("days")),
))  # fmt: skip


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
        rows = await tx.fetch(REACHED, {"report_id": report.id})
        reached = ts(rows[0]["at"]) if rows else report.created_at
        due = report.deadlines.sign_by
        await tx.execute(SIGNED, {
            "on_time": int(due is None or now <= due),
            "days": working_days_between(calendar, reached or report.created_at, now),
            "id": report.id,
        })  # fmt: skip
    elif action in workflow.REROUTING:
        # The next bureau signs afresh; the previous one's signing is no longer the fact.
        await tx.execute(UNSIGNED, {"id": report.id})
        # A send-back counts against the bureau that made it (migration 0010); a 改派 is
        # the supervisor's and counts against nobody.
        if action == "send_back" and details and details.get("from"):
            await tx.execute(SENT_BACK, {
                "report_id": report.id, "seq": report.record_count, "department": details["from"]
            })  # fmt: skip
    elif action == "answer":
        due = report.deadlines.answer_by
        on_time = int(due is None or now <= due)
        started = report.accepted_at or report.created_at
        # A report answered again after a reopen is on time only if every answer was; the
        # time to answer stays that of the first answer.
        await tx.execute(ANSWERED, {
            "on_time": on_time, "days": working_days_between(calendar, started, now),
            "id": report.id,
        })  # fmt: skip
