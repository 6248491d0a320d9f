"""Labelled examples from the workflow: the only owner of the ``labels`` table.

Every handled report teaches, whether the model was right or wrong:
- its department when a bureau signs for it (签收, after any send-back), when the triage desk
  assigns it (分办) and when a supervisor rules after a second send-back (裁定);
- its issue types when a bureau answers (the predicted types preselected, the clerk may change
  them), when a supervisor decides 查实 or a review (复查), and when staff correct them.
A past work order imported by `feedback import-history` is a label without a report.

Each label is written in the transaction of the workflow event that gave it, with who gave it
and when. A report can be labelled more than once (assigned, then signed for; sent back after
signing): the newest label of a report and target is the one that counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from feedback.models import Actor, Report
from feedback.store import Store, WriteTx
from feedback.store import schema as t
from feedback.store.rows import dump, iso, js, ts
from feedback.store.sql import Query, param

__all__ = [
    "DEPARTMENT",
    "ISSUE_TYPE",
    "SOURCES",
    "Label",
    "count_after",
    "department_label",
    "effective",
    "issue_type_label",
    "latest_id",
    "of_report",
    "record",
    "record_all",
]

DEPARTMENT = "department"
ISSUE_TYPE = "issue_type"

# Where a label came from, as staff read it (`feedback model list`, docs/classifier.md).
SOURCES: dict[str, str] = {
    "accept": "签收",
    "assign": "人工分派",
    "arbitration": "区司法局裁定",
    "answer": "答复时确认",
    "substantiate": "查实认定",
    "review": "复查决定",
    "correction": "人工更正",
    "import": "历史工单导入",
}


@dataclass
class Label:
    target: str  # "department" or "issue_type"
    title: str
    text: str
    labels: list[str]  # one bureau code; issue types: any number (none = empty)
    predicted: list[str]  # what the model said when the report came in
    source: str  # a key of SOURCES
    actor_id: str
    created_at: datetime
    report_id: int | None = None
    authority: str = ""  # the citizen's 涉及单位 field
    id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def right(self) -> bool:
        """Did the model get it right when the report came in?"""
        return sorted(self.labels) == sorted(self.predicted)


def _predicted_department(report: Report) -> list[str]:
    top = (report.routing or {}).get("top") or []
    return [str(top[0][0])] if top and top[0] else []


def department_label(report: Report, actor: Actor, source: str, now: datetime) -> Label:
    """The report's department as it stands, given by ``actor`` through ``source``."""
    assert report.department is not None
    return Label(
        target=DEPARTMENT,
        title=report.title,
        text=report.text,
        labels=[report.department],
        predicted=_predicted_department(report),
        source=source,
        actor_id=actor.id,
        created_at=now,
        report_id=report.id,
        authority=report.authority or "",
    )


def issue_type_label(
    report: Report, actor: Actor, source: str, types: Sequence[str], now: datetime
) -> Label:
    """Issue types confirmed (or changed) by ``actor``; the prediction is the router's."""
    predicted = (report.routing or {}).get("issue_types") or []
    return Label(
        target=ISSUE_TYPE,
        title=report.title,
        text=report.text,
        labels=list(types),
        predicted=[str(t) for t in predicted],
        source=source,
        actor_id=actor.id,
        created_at=now,
        report_id=report.id,
        authority=report.authority or "",
    )


L = t.labels
_COLUMNS = ("report_id", "target", "title", "text", "authority", "labels", "predicted", "source",
            "actor_id", "created_at")  # fmt: skip
INSERT = Query(sa.insert(L).values({c: param(c) for c in _COLUMNS}))
_m = L.alias("m")
# The newest label of each report for the target (up to ``top``), and every imported one.
EFFECTIVE = Query(
    sa.select(L)
    .where(
        L.c.target == param("target"), L.c.id > param("after_id"), L.c.id <= param("top"),
        sa.or_(
            L.c.report_id.is_(None),
            L.c.id == sa.select(sa.func.max(_m.c.id)).where(
                _m.c.report_id == L.c.report_id, _m.c.target == L.c.target,
                _m.c.id <= param("top"),
            ).scalar_subquery(),
        ),
    )
    .order_by(L.c.created_at, L.c.id)
)  # fmt: skip
OF_REPORT = Query(sa.select(L).where(L.c.report_id == param("report_id")).order_by(L.c.id))
LATEST_ID = Query(sa.select(sa.func.max(L.c.id).label("n")))
TEXTS_FROM = Query(sa.select(L.c.title, L.c.text).where(L.c.source == param("source")))
COUNT_AFTER = Query(sa.select(sa.func.count().label("n")).where(L.c.id > param("after_id")))


def _params(label: Label) -> dict[str, Any]:
    if label.source not in SOURCES:
        raise ValueError(f"unknown label source {label.source!r}")
    return {
        "report_id": label.report_id, "target": label.target, "title": label.title,
        "text": label.text, "authority": label.authority, "labels": dump(list(label.labels)),
        "predicted": dump(list(label.predicted)), "source": label.source,
        "actor_id": label.actor_id, "created_at": iso(label.created_at),
    }  # fmt: skip


async def record(tx: WriteTx, label: Label) -> None:
    """Keep ``label``, inside the transaction of the event that gave it."""
    await tx.execute(INSERT, _params(label))


async def record_all(tx: WriteTx, found: Sequence[Label]) -> None:
    for label in found:
        await record(tx, label)


def _from_row(r: dict[str, Any]) -> Label:
    created = ts(r["created_at"])
    assert created is not None
    return Label(
        id=int(r["id"]),
        report_id=r["report_id"],
        target=r["target"],
        title=r["title"],
        text=r["text"],
        authority=r["authority"] or "",
        labels=[str(x) for x in js(r["labels"])],
        predicted=[str(x) for x in js(r["predicted"])],
        source=r["source"],
        actor_id=r["actor_id"],
        created_at=created,
    )


async def effective(
    store: Store, target: str, *, after_id: int = 0, up_to_id: int | None = None
) -> list[Label]:
    """The labels that count for ``target`` (the newest per report, every imported row), in
    time order (oldest first; ties by id). ``after_id``/``up_to_id`` bound the ids looked at."""
    top = up_to_id if up_to_id is not None else 2**62
    rows = await store.fetch(EFFECTIVE, {"target": target, "after_id": after_id, "top": top})
    return [_from_row(r) for r in rows]


async def of_report(store: Store, report_id: int) -> list[Label]:
    """Every label a report was given, oldest first (staff page, tests)."""
    rows = await store.fetch(OF_REPORT, {"report_id": report_id})
    return [_from_row(r) for r in rows]


async def latest_id(store: Store) -> int:
    rows = await store.fetch(LATEST_ID, {})
    return int(rows[0]["n"] or 0)


async def count_after(store: Store, after_id: int) -> int:
    """Labels given since label ``after_id`` (the background job's retraining trigger)."""
    rows = await store.fetch(COUNT_AFTER, {"after_id": after_id})
    return int(rows[0]["n"])


async def texts_from(store: Store, source: str) -> set[tuple[str, str]]:
    """(title, text) of every label from ``source`` ("import": `feedback import-history`)."""
    return {(r["title"], r["text"]) for r in await store.fetch(TEXTS_FROM, {"source": source})}
