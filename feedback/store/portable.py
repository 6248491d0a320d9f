"""What every store does the same way, written once as SQLAlchemy Core over `store.schema`
(`feedback.store.sql`): the reads, built only on `fetch`, and the writes, on `execute`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from feedback import workflow
from feedback.models import Attachment, Event, Report
from feedback.store import schema as t
from feedback.store.base import Chain, Correction, ReportFilter, User
from feedback.store.rows import (
    REPORT_COLUMNS,
    attachment_from_row,
    dump,
    event_from_row,
    iso,
    js,
    report_from_row,
    report_values,
    ts,
)
from feedback.store.sql import Params, Query, cached, insert, param

CHAIN_PAGE = 500
PER_BAND = 20  # near-duplicate index rows read per band, newest first (duplicates.CANDIDATES)


def correction_from_row(r: dict[str, Any]) -> Correction:
    return Correction(
        id=r["id"],
        report_id=r["report_id"],
        target=r["target"],
        title=r["title"],
        text=r["text"],
        labels=list(js(r["labels"])),
        previous=list(js(r["previous"])),
        actor_id=r["actor_id"],
        created_at=ts(r["created_at"]),  # type: ignore[arg-type]
    )


def user_from_row(r: dict[str, Any]) -> User:
    return User(
        id=r["id"],
        username=r["username"],
        password_hash=r["password_hash"],
        role=r["role"],
        department=r["department"],
        display_name=r["display_name"],
        active=bool(r["active"]),
        created_at=ts(r["created_at"]),
        bureau_lead=bool(r.get("bureau_lead", False)),
    )


def _like(word: str) -> str:
    """A LIKE pattern finding ``word`` anywhere, its own % and _ taken literally."""
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


R = t.reports


def _shape(flt: ReportFilter) -> tuple[Any, ...]:
    """What decides the WHERE clause's form (never a value): the cache key of `_clauses`."""
    return (
        bool(flt.statuses), flt.department is not None, bool(flt.issue_type),
        bool(flt.channel), bool(flt.tracking_number), len(flt.words),
        bool(flt.created_from), bool(flt.created_to), flt.api_key_id is not None,
        bool(flt.updated_from), flt.departments is not None, bool(flt.due_before),
        flt.arbitration is not None, flt.escalated,
        None if flt.assignee is None else bool(flt.assignee), flt.telegram_chat_id is not None,
    )  # fmt: skip


def _clauses(shape: tuple[Any, ...]) -> list[sa.ColumnElement[bool]]:
    (statuses, department, issue_type, channel, tracking_number, words, created_from,
     created_to, api_key, updated_from, departments, due_before, arbitration, escalated,
     assignee, chat) = shape  # fmt: skip
    out: list[sa.ColumnElement[bool]] = []
    if statuses:
        out.append(R.c.status.in_(param("statuses", expanding=True)))
    if department:
        out.append(R.c.department == param("department"))
    if issue_type:
        types = t.report_issue_types
        out.append(
            R.c.id.in_(
                sa.select(types.c.report_id).where(types.c.issue_type == param("issue_type"))
            )
        )
    if channel:
        out.append(R.c.channel == param("channel"))
    if tracking_number:
        out.append(R.c.tracking_number == param("tracking_number"))
    for i in range(words):
        out.append(
            sa.or_(
                R.c.tracking_number.like(param(f"number_{i}"), escape="\\"),
                R.c.title.like(param(f"word_{i}"), escape="\\"),
                R.c.text.like(param(f"word_{i}"), escape="\\"),
            )
        )
    if created_from:
        out.append(R.c.created_at >= param("created_from"))
    if created_to:
        out.append(R.c.created_at < param("created_to"))
    if api_key:
        keyed = t.api_key_reports
        out.append(
            R.c.id.in_(sa.select(keyed.c.report_id).where(keyed.c.api_key_id == param("api_key")))
        )
    if updated_from:
        out.append(R.c.updated_at >= param("updated_from"))
    if departments:
        out.append(R.c.department.in_(param("departments", expanding=True)))
    if due_before:
        out.append(workflow.overdue_clause(R, param("due_before")))  # the one definition
    if arbitration:
        out.append(R.c.arbitration == param("arbitration"))
    if escalated is not None:
        out.append(R.c.escalation_level > 0 if escalated else R.c.escalation_level == 0)
    if assignee is not None:
        # "" = nobody has claimed it (未认领); a username = that clerk's.
        out.append(R.c.assignee == param("assignee") if assignee else R.c.assignee.is_(None))
    if chat:
        out.append(R.c.telegram_chat_id == param("chat"))
    return out


def _values(flt: ReportFilter) -> dict[str, Any]:
    """The parameters `_clauses` names, for this filter."""
    v: dict[str, Any] = {
        "statuses": [s.value for s in flt.statuses or ()],
        "department": flt.department,
        "issue_type": flt.issue_type,
        "channel": flt.channel,
        "tracking_number": flt.tracking_number,
        "created_from": iso(flt.created_from),
        "created_to": iso(flt.created_to),
        "api_key": flt.api_key_id,
        "updated_from": iso(flt.updated_from),
        "departments": list(flt.departments or ()),
        "due_before": iso(flt.due_before),
        "arbitration": None if flt.arbitration is None else int(flt.arbitration),
        "assignee": flt.assignee,
        "chat": flt.telegram_chat_id,
        "limit": flt.limit,
        "offset": flt.offset,
    }
    for i, (word, number) in enumerate(flt.words):
        v[f"word_{i}"], v[f"number_{i}"] = _like(word), _like(number)
    return v


def _list_reports(shape: tuple[Any, ...], newest_first: bool) -> sa.Select[Any]:
    order = (R.c.created_at.desc(), R.c.id.desc()) if newest_first else (R.c.created_at, R.c.id)
    return (
        sa.select(R)
        .where(*_clauses(shape))
        .order_by(*order)
        .limit(param("limit"))
        .offset(param("offset"))
    )


def _count_reports(shape: tuple[Any, ...]) -> sa.Select[Any]:
    return sa.select(sa.func.count().label("n")).select_from(R).where(*_clauses(shape))


def _duplicate_candidates(shape: tuple[Any, ...], n_bands: int) -> sa.Select[Any]:
    """Each band's newest PER_BAND reports only (an index range read backwards), then the
    filter: the work does not grow with a band many reports share (a repost storm, where every
    copy shares every band). Where no band is shared by more, the same rows as counting all."""
    bands = t.report_bands
    per_band = [
        sa.select(bands.c.report_id)
        .where(bands.c.band == param(f"band_{i}"))
        .order_by(bands.c.report_id.desc())
        .limit(PER_BAND)
        .subquery(f"b{i}")
        for i in range(n_bands)
    ]
    matched = sa.union_all(*(sa.select(b.c.report_id) for b in per_band)).subquery("m")
    hits = (
        sa.select(matched.c.report_id, sa.func.count().label("hits"))
        .group_by(matched.c.report_id)
        .subquery("b")
    )
    return (
        sa.select(R.c.tracking_number, R.c.title, R.c.text)
        .join_from(R, hits, hits.c.report_id == R.c.id)
        .where(*_clauses(shape))
        .order_by(hits.c.hits.desc(), R.c.id.desc())
        .limit(param("limit"))
    )


CORRECTIONS = Query(sa.select(t.corrections).order_by(t.corrections.c.id))
CORRECTIONS_FOR = Query(
    sa.select(t.corrections)
    .where(t.corrections.c.target == param("target"))
    .order_by(t.corrections.c.id)
)
USER = Query(sa.select(t.users).where(t.users.c.username == param("username")))
USERS = Query(sa.select(t.users).order_by(t.users.c.username))
REPORT = Query(sa.select(R).where(R.c.tracking_number == param("tracking_number")))
ATTACHMENTS = Query(
    sa.select(t.attachments)
    .where(t.attachments.c.report_id == param("report_id"))
    .order_by(t.attachments.c.id)
)
ATTACHMENT = Query(
    sa.select(t.attachments, R.c.tracking_number)
    .join_from(t.attachments, R, R.c.id == t.attachments.c.report_id)
    .where(t.attachments.c.id == param("id"))
)
EVENTS = Query(
    sa.select(t.events).where(t.events.c.report_id == param("report_id")).order_by(t.events.c.seq)
)
CHAIN_HEADS = Query(
    sa.select(R.c.id, R.c.tracking_number, R.c.record_head, R.c.record_count)
    .where(R.c.id > param("after"))
    .order_by(R.c.id)
    .limit(param("limit"))
)
REPORT_PAGE = Query(
    sa.select(R).where(R.c.id > param("after")).order_by(R.c.id).limit(param("limit"))
)
EVENTS_BETWEEN = Query(
    sa.select(t.events)
    .where(t.events.c.report_id.between(param("first"), param("last")))
    .order_by(t.events.c.report_id, t.events.c.seq)
)
ATTACHMENTS_BETWEEN = Query(
    sa.select(t.attachments)
    .where(t.attachments.c.report_id.between(param("first"), param("last")))
    .order_by(t.attachments.c.id)
)


VERSION = Query(sa.select(sa.column("version_num")).select_from(sa.table("alembic_version")))


class PortableReads:
    """Mixed into each store, which provides `fetch`."""

    async def fetch(self, sql: str | Query, params: Params = ()) -> list[dict[str, Any]]:
        raise NotImplementedError

    async def fetch_few(self, sql: str | Query, params: Params = ()) -> list[dict[str, Any]]:
        """An indexed read of a few rows (the store may answer it without a thread hop)."""
        return await self.fetch(sql, params)

    async def schema_version(self) -> int:
        rows = await self.fetch(VERSION, {})
        return int(rows[0]["version_num"]) if rows else 0

    async def list_corrections(self, target: str | None = None) -> list[Correction]:
        if target:
            rows = await self.fetch(CORRECTIONS_FOR, {"target": target})
        else:
            rows = await self.fetch(CORRECTIONS, {})
        return [correction_from_row(r) for r in rows]

    async def get_user(self, username: str) -> User | None:
        rows = await self.fetch(USER, {"username": username})
        return user_from_row(rows[0]) if rows else None

    async def list_users(self) -> list[User]:
        return [user_from_row(r) for r in await self.fetch(USERS, {})]

    async def get_report(self, tracking_number: str) -> Report | None:
        rows = await self.fetch(REPORT, {"tracking_number": tracking_number})
        if not rows:
            return None
        report = report_from_row(rows[0])
        atts = await self.fetch(ATTACHMENTS, {"report_id": report.id})
        report.attachments = [attachment_from_row(a) for a in atts]
        return report

    async def get_attachment(self, attachment_id: int) -> tuple[Attachment, str] | None:
        """An attachment and the tracking number of its report."""
        rows = await self.fetch(ATTACHMENT, {"id": attachment_id})
        return (attachment_from_row(rows[0]), rows[0]["tracking_number"]) if rows else None

    async def list_reports(self, flt: ReportFilter) -> list[Report]:
        query = cached(_list_reports, _shape(flt), flt.newest_first)
        return [report_from_row(r) for r in await self.fetch(query, _values(flt))]

    async def duplicate_candidates(
        self, bands: Sequence[int], flt: ReportFilter
    ) -> list[tuple[str, str, str]]:
        """(tracking number, title, text) of reports matching ``flt`` that share a band of the
        near-duplicate index (feedback.duplicates) with ``bands``, most shared first."""
        values = _values(flt)
        values.update({f"band_{i}": band for i, band in enumerate(bands)})
        query = cached(_duplicate_candidates, _shape(flt), len(bands))
        rows = await self.fetch_few(query, values)  # a few rows, by the index (PER_BAND)
        return [(r["tracking_number"], r["title"], r["text"]) for r in rows]

    async def count_reports(self, flt: ReportFilter) -> int:
        rows = await self.fetch(cached(_count_reports, _shape(flt)), _values(flt))
        return int(rows[0]["n"])

    async def list_events(self, report_id: int) -> list[Event]:
        rows = await self.fetch(EVENTS, {"report_id": report_id})
        return [event_from_row(r) for r in rows]

    async def iter_chains(self) -> AsyncIterator[Chain]:
        """Every report's chain, a page of reports at a time (bounded memory)."""
        last_id = 0
        while True:
            reports = await self.fetch(CHAIN_HEADS, {"after": last_id, "limit": CHAIN_PAGE})
            if not reports:
                return
            ids = [r["id"] for r in reports]
            events = await self.fetch(EVENTS_BETWEEN, {"first": ids[0], "last": ids[-1]})
            by_report: dict[int, list[Event]] = {i: [] for i in ids}
            for e in events:
                if e["report_id"] in by_report:
                    by_report[e["report_id"]].append(event_from_row(e))
            for r in reports:
                yield Chain(r["tracking_number"], r["record_head"], r["record_count"],
                            by_report[r["id"]])  # fmt: skip
            last_id = ids[-1]

    async def iter_records(
        self,
    ) -> AsyncIterator[tuple[dict[str, Any], list[Attachment], list[Event]]]:
        """Every report's whole row (statistics columns too, unconverted: a tampered row may
        not even parse), its attachments and its events, a page at a time: what
        `feedback verify` checks against each other."""
        last_id = 0
        while True:
            rows = await self.fetch(REPORT_PAGE, {"after": last_id, "limit": CHAIN_PAGE})
            if not rows:
                return
            first, last_id = rows[0]["id"], rows[-1]["id"]
            span = {"first": first, "last": last_id}
            events: dict[int, list[Event]] = {r["id"]: [] for r in rows}
            for e in await self.fetch(EVENTS_BETWEEN, span):
                if e["report_id"] in events:
                    events[e["report_id"]].append(event_from_row(e))
            files: dict[int, list[Attachment]] = {r["id"]: [] for r in rows}
            for a in await self.fetch(ATTACHMENTS_BETWEEN, span):
                if a["report_id"] in files:
                    files[a["report_id"]].append(attachment_from_row(a))
            for r in rows:
                yield r, files[r["id"]], events[r["id"]]


# One statement of a batch (`WriteTx.run`): a Query and its parameters by name (a list of
# rows when many), or hand-written SQL with its parameters in order.
Statement = tuple[str | Query, Any, bool]
_EVENT_COLUMNS = ("report_id", "seq", "at", "actor_role", "actor_id", "action", "details",
                  "before", "after", "public", "prev_hash", "hash")  # fmt: skip


def new_report_statements(report: Report) -> list[Statement]:
    """The new report's row, with the id `reserve_report` gave it, and its issue types."""
    assert report.id is not None
    values = dict(zip(REPORT_COLUMNS, report_values(report), strict=True))
    out: list[Statement] = [(NEW_REPORT, {"id": report.id, **values}, False)]
    if report.issue_types:
        out.append((
            INSERT_ISSUE_TYPE,
            [{"report_id": report.id, "issue_type": k} for k in dict.fromkeys(report.issue_types)],
            True,
        ))  # fmt: skip
    return out


def event_statement(event: Event) -> Statement:
    values = (event.report_id, event.seq, iso(event.at), event.actor_role, event.actor_id,
              event.action, dump(event.details), dump(event.before), dump(event.after),
              event.public, event.prev_hash, event.hash)  # fmt: skip
    return INSERT_EVENT, dict(zip(_EVENT_COLUMNS, values, strict=True)), False


def _bands(n: int) -> Any:
    """One INSERT of ``n`` (band, report) rows, a band already there skipped."""
    rows = [{"band": param(f"band_{i}"), "report_id": param("report_id")} for i in range(n)]
    return lambda d: insert(d, t.report_bands).values(rows).on_conflict_do_nothing()


def bands_statement(report_id: int, bands: Sequence[int]) -> Statement:
    """The report's near-duplicate fingerprint (feedback.duplicates), in one statement."""
    values = {f"band_{i}": band for i, band in enumerate(bands)}
    return cached(_bands, len(bands)), {"report_id": report_id, **values}, False


def api_key_statement(report_id: int, api_key_id: int) -> Statement:
    """Which machine client submitted the report (`ReportFilter.api_key_id`)."""
    return API_KEY_REPORT, {"report_id": report_id, "api_key_id": api_key_id}, False


class PortableWrites:
    """Mixed into each store's write transaction, which provides `execute` (an INSERT returns
    the new id on both stores), `executemany` and `fetch`, and names its ``dialect``."""

    dialect: str

    async def execute(self, sql: str | Query, params: Params = ()) -> int:
        raise NotImplementedError

    async def executemany(
        self, sql: str | Query, rows: Sequence[Sequence[Any]] | Sequence[Mapping[str, Any]]
    ) -> None:
        raise NotImplementedError

    async def run(self, statements: Sequence[Statement]) -> None:
        """Several statements whose results nobody needs, in order (SQLite: in one hop to its
        connection's thread)."""
        for sql, params, many in statements:
            if many:
                await self.executemany(sql, params)
            else:
                await self.execute(sql, params)

    async def insert_event(self, event: Event) -> None:
        await self.run([event_statement(event)])

    async def insert_bands(self, report_id: int, bands: Sequence[int]) -> None:
        if bands:
            await self.run([bands_statement(report_id, bands)])

    async def fetch(self, sql: str | Query, params: Params = ()) -> list[dict[str, Any]]:
        raise NotImplementedError

    async def next_counter(self, name: str) -> int:
        rows = await self.fetch(NEXT_COUNTER, {"name": name})
        return int(rows[0]["value"])

    def _report_values(self, report: Report) -> dict[str, Any]:
        # PostgreSQL takes datetimes as they are; SQLite keeps ISO text.
        native = self.dialect == "postgresql"
        return dict(zip(REPORT_COLUMNS, report_values(report, native_time=native), strict=True))

    async def insert_report(self, report: Report) -> int:
        rows = await self.fetch(INSERT_REPORT, self._report_values(report))
        report.id = int(rows[0]["id"])
        await self._issue_types(report, fresh=True)
        return report.id

    async def _issue_types(self, report: Report, *, fresh: bool = False) -> None:
        if not fresh:
            await self.execute(DELETE_ISSUE_TYPES, {"report_id": report.id})
        if report.issue_types:
            await self.executemany(
                INSERT_ISSUE_TYPE,
                [{"report_id": report.id, "issue_type": k}
                 for k in dict.fromkeys(report.issue_types)],
            )  # fmt: skip

    async def update_report(self, report: Report) -> None:
        await self.execute(UPDATE_REPORT, {**self._report_values(report), "id": report.id})
        await self._issue_types(report)

    async def lock_report(self, tracking_number: str) -> Report | None:
        # PostgreSQL: FOR UPDATE, so a second process acting on this report waits here until
        # we commit, then reads the chain head we wrote. SQLite renders no FOR UPDATE: its
        # single writer already excludes every other write, a plain read is a lock.
        rows = await self.fetch(LOCK_REPORT, {"tracking_number": tracking_number})
        return report_from_row(rows[0]) if rows else None

    async def insert_attachment(self, report_id: int, attachment: Attachment) -> int:
        return await self.execute(
            INSERT_ATTACHMENT,
            {"report_id": report_id, "filename": attachment.filename,
             "content_type": attachment.content_type, "size": attachment.size,
             "sha256": attachment.sha256, "storage_key": attachment.storage_key,
             "uploaded_by": attachment.uploaded_by,
             "created_at": iso(attachment.created_at or datetime.now(UTC))},
        )  # fmt: skip

    async def insert_correction(self, correction: Correction) -> int:
        return await self.execute(
            INSERT_CORRECTION,
            {"report_id": correction.report_id, "target": correction.target,
             "title": correction.title, "text": correction.text,
             "labels": dump(correction.labels), "previous": dump(correction.previous),
             "actor_id": correction.actor_id, "created_at": iso(correction.created_at)},
        )  # fmt: skip

    async def update_user(self, user: User) -> None:
        await self.execute(
            UPDATE_USER,
            {"password_hash": user.password_hash, "role": user.role,
             "department": user.department, "display_name": user.display_name,
             "active": user.active, "bureau_lead": user.bureau_lead, "id": user.id},
        )  # fmt: skip


def user_values(user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "password_hash": user.password_hash,
        "role": user.role,
        "department": user.department,
        "display_name": user.display_name,
        "active": user.active,
        "created_at": iso(user.created_at or datetime.now(UTC)),
        "bureau_lead": user.bureau_lead,
    }


def _columns(table: sa.Table, names: Sequence[str]) -> dict[str, Any]:
    """``{column: bindparam(column)}`` — a statement's values by name, each column checked."""
    return {table.c[n].name: param(n) for n in names}


# A counter's next value: an upsert, which each dialect's SQLAlchemy writes for itself; the
# row lock of ON CONFLICT DO UPDATE makes the values unique on PostgreSQL.
NEXT_COUNTER = Query(
    lambda d: (
        insert(d, t.counters)
        .values(name=param("name"), value=1)
        .on_conflict_do_update(
            index_elements=[t.counters.c.name], set_={"value": t.counters.c.value + 1}
        )
        .returning(t.counters.c.value)
    )
)
INSERT_REPORT = Query(sa.insert(R).values(_columns(R, REPORT_COLUMNS)).returning(R.c.id))
UPDATE_REPORT = Query(sa.update(R).where(R.c.id == param("id")).values(_columns(R, REPORT_COLUMNS)))
LOCK_REPORT = Query(
    sa.select(R).where(R.c.tracking_number == param("tracking_number")).with_for_update()
)
DELETE_ISSUE_TYPES = Query(
    sa.delete(t.report_issue_types).where(t.report_issue_types.c.report_id == param("report_id"))
)
NEW_REPORT = Query(sa.insert(R).values(_columns(R, ("id", *REPORT_COLUMNS))))
INSERT_EVENT = Query(sa.insert(t.events).values(_columns(t.events, _EVENT_COLUMNS)))
API_KEY_REPORT = Query(
    sa.insert(t.api_key_reports).values(_columns(t.api_key_reports, ("report_id", "api_key_id")))
)
# Open reports from before the near-duplicate index, without a fingerprint yet.
UNFINGERPRINTED = Query(
    sa.select(R.c.id, R.c.title, R.c.text).where(
        ~sa.exists().where(t.report_bands.c.report_id == R.c.id),
        R.c.status.in_(param("statuses", expanding=True)),
    )
)
INSERT_ISSUE_TYPE = Query(
    sa.insert(t.report_issue_types).values(
        _columns(t.report_issue_types, ("report_id", "issue_type"))
    )
)
INSERT_ATTACHMENT = Query(
    sa.insert(t.attachments).values(
        _columns(
            t.attachments,
            (
                "report_id",
                "filename",
                "content_type",
                "size",
                "sha256",
                "storage_key",
                "uploaded_by",
                "created_at",
            ),
        )  # fmt: skip
    )
)
INSERT_CORRECTION = Query(
    sa.insert(t.corrections).values(
        _columns(
            t.corrections,
            (
                "report_id",
                "target",
                "title",
                "text",
                "labels",
                "previous",
                "actor_id",
                "created_at",
            ),
        )  # fmt: skip
    )
)
INSERT_USER = Query(
    sa.insert(t.users).values(
        _columns(
            t.users,
            (
                "username",
                "password_hash",
                "role",
                "department",
                "display_name",
                "active",
                "created_at",
                "bureau_lead",
            ),
        )  # fmt: skip
    )
)
UPDATE_USER = Query(
    sa.update(t.users)
    .where(t.users.c.id == param("id"))
    .values(
        _columns(
            t.users,
            ("password_hash", "role", "department", "display_name", "active", "bureau_lead"),
        )
    )  # fmt: skip
)
