"""Reads that are the same SQL on every store: built only on `fetch` with `?` placeholders."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any

from feedback import workflow
from feedback.models import Attachment, Event, Report
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

CHAIN_PAGE = 500


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


def _where(flt: ReportFilter) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if flt.statuses:
        clauses.append(f"status IN ({', '.join('?' for _ in flt.statuses)})")
        params.extend(s.value for s in flt.statuses)
    if flt.department is not None:
        clauses.append("department = ?")
        params.append(flt.department)
    if flt.issue_type:
        clauses.append("id IN (SELECT report_id FROM report_issue_types WHERE issue_type = ?)")
        params.append(flt.issue_type)
    if flt.channel:
        clauses.append("channel = ?")
        params.append(flt.channel)
    if flt.tracking_number:
        clauses.append("tracking_number = ?")
        params.append(flt.tracking_number)
    for word, number in flt.words:
        clauses.append(
            "(tracking_number LIKE ? ESCAPE '\\' OR title LIKE ? ESCAPE '\\'"
            " OR text LIKE ? ESCAPE '\\')"
        )
        params.extend([_like(number), _like(word), _like(word)])
    if flt.created_from:
        clauses.append("created_at >= ?")
        params.append(iso(flt.created_from))
    if flt.created_to:
        clauses.append("created_at < ?")
        params.append(iso(flt.created_to))
    if flt.api_key_id is not None:
        clauses.append("id IN (SELECT report_id FROM api_key_reports WHERE api_key_id = ?)")
        params.append(flt.api_key_id)
    if flt.updated_from:
        clauses.append("updated_at >= ?")
        params.append(iso(flt.updated_from))
    if flt.departments is not None:
        clauses.append(f"department IN ({', '.join('?' for _ in flt.departments) or 'NULL'})")
        params.extend(flt.departments)
    if flt.due_before:
        sql, due_params = workflow.overdue_sql(flt.due_before)  # the one definition
        clauses.append(sql)
        params.extend(due_params)
    if flt.arbitration is not None:
        clauses.append("arbitration = ?")
        params.append(int(flt.arbitration))
    if flt.escalated is not None:
        clauses.append("escalation_level > 0" if flt.escalated else "escalation_level = 0")
    if flt.assignee is not None:
        # "" = nobody has claimed it (未认领); a username = that clerk's.
        if flt.assignee:
            clauses.append("assignee = ?")
            params.append(flt.assignee)
        else:
            clauses.append("assignee IS NULL")
    if flt.telegram_chat_id is not None:
        clauses.append("telegram_chat_id = ?")
        params.append(flt.telegram_chat_id)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


class PortableReads:
    """Mixed into each store, which provides `fetch`."""

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        raise NotImplementedError

    async def list_corrections(self, target: str | None = None) -> list[Correction]:
        sql = "SELECT * FROM corrections"
        params: tuple[Any, ...] = ()
        if target:
            sql += " WHERE target = ?"
            params = (target,)
        return [correction_from_row(r) for r in await self.fetch(sql + " ORDER BY id", params)]

    async def get_user(self, username: str) -> User | None:
        rows = await self.fetch("SELECT * FROM users WHERE username = ?", (username,))
        return user_from_row(rows[0]) if rows else None

    async def list_users(self) -> list[User]:
        rows = await self.fetch("SELECT * FROM users ORDER BY username")
        return [user_from_row(r) for r in rows]

    async def get_report(self, tracking_number: str) -> Report | None:
        rows = await self.fetch(
            "SELECT * FROM reports WHERE tracking_number = ?", (tracking_number,)
        )
        if not rows:
            return None
        report = report_from_row(rows[0])
        atts = await self.fetch(
            "SELECT * FROM attachments WHERE report_id = ? ORDER BY id", (report.id,)
        )
        report.attachments = [attachment_from_row(a) for a in atts]
        return report

    async def get_attachment(self, attachment_id: int) -> tuple[Attachment, str] | None:
        """An attachment and the tracking number of its report."""
        rows = await self.fetch(
            "SELECT a.*, r.tracking_number FROM attachments a "
            "JOIN reports r ON r.id = a.report_id WHERE a.id = ?",
            (attachment_id,),
        )
        return (attachment_from_row(rows[0]), rows[0]["tracking_number"]) if rows else None

    async def list_reports(self, flt: ReportFilter) -> list[Report]:
        where, params = _where(flt)
        order = "DESC" if flt.newest_first else "ASC"
        rows = await self.fetch(
            f"SELECT * FROM reports{where} ORDER BY created_at {order}, id {order} "
            "LIMIT ? OFFSET ?",
            (*params, flt.limit, flt.offset),
        )
        return [report_from_row(r) for r in rows]

    async def duplicate_candidates(
        self, bands: Sequence[int], flt: ReportFilter
    ) -> list[tuple[str, str, str]]:
        """(tracking number, title, text) of reports matching ``flt`` that share a band of the
        near-duplicate index (feedback.duplicates) with ``bands``, most shared first."""
        where, params = _where(flt)
        marks = ", ".join("?" for _ in bands)
        rows = await self.fetch(
            "SELECT tracking_number, title, text FROM reports JOIN ("
            f"SELECT report_id, COUNT(*) AS hits FROM report_bands WHERE band IN ({marks}) "
            f"GROUP BY report_id) b ON b.report_id = reports.id{where} "
            "ORDER BY b.hits DESC, reports.id DESC LIMIT ?",
            (*bands, *params, flt.limit),
        )
        return [(r["tracking_number"], r["title"], r["text"]) for r in rows]

    async def count_reports(self, flt: ReportFilter) -> int:
        where, params = _where(flt)
        rows = await self.fetch(f"SELECT COUNT(*) AS n FROM reports{where}", params)
        return int(rows[0]["n"])

    async def list_events(self, report_id: int) -> list[Event]:
        rows = await self.fetch(
            "SELECT * FROM events WHERE report_id = ? ORDER BY seq", (report_id,)
        )
        return [event_from_row(r) for r in rows]

    async def iter_chains(self) -> AsyncIterator[Chain]:
        """Every report's chain, a page of reports at a time (bounded memory)."""
        last_id = 0
        while True:
            reports = await self.fetch(
                "SELECT id, tracking_number, record_head, record_count FROM reports "
                "WHERE id > ? ORDER BY id LIMIT ?",
                (last_id, CHAIN_PAGE),
            )
            if not reports:
                return
            ids = [r["id"] for r in reports]
            events = await self.fetch(
                "SELECT * FROM events WHERE report_id >= ? AND report_id <= ? "
                "ORDER BY report_id, seq",
                (ids[0], ids[-1]),
            )
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
            rows = await self.fetch(
                "SELECT * FROM reports WHERE id > ? ORDER BY id LIMIT ?", (last_id, CHAIN_PAGE)
            )
            if not rows:
                return
            first, last_id = rows[0]["id"], rows[-1]["id"]
            span = (first, last_id)
            events: dict[int, list[Event]] = {r["id"]: [] for r in rows}
            for e in await self.fetch(
                "SELECT * FROM events WHERE report_id >= ? AND report_id <= ? "
                "ORDER BY report_id, seq",
                span,
            ):
                if e["report_id"] in events:
                    events[e["report_id"]].append(event_from_row(e))
            files: dict[int, list[Attachment]] = {r["id"]: [] for r in rows}
            for a in await self.fetch(
                "SELECT * FROM attachments WHERE report_id >= ? AND report_id <= ? ORDER BY id",
                span,
            ):
                if a["report_id"] in files:
                    files[a["report_id"]].append(attachment_from_row(a))
            for r in rows:
                yield r, files[r["id"]], events[r["id"]]


# One statement of a batch (`WriteTx.run`): SQL, its parameters (a list of rows when many).
Statement = tuple[str, Any, bool]


def new_report_statements(report: Report) -> list[Statement]:
    """The new report's row, with the id `reserve_report` gave it, and its issue types."""
    assert report.id is not None
    cols = ", ".join(("id", *REPORT_COLUMNS))
    marks = ", ".join("?" for _ in range(len(REPORT_COLUMNS) + 1))
    out: list[Statement] = [
        (f"INSERT INTO reports ({cols}) VALUES ({marks})", (report.id, *report_values(report)),
         False),
    ]  # fmt: skip
    if report.issue_types:
        out.append((
            "INSERT INTO report_issue_types (report_id, issue_type) VALUES (?, ?)",
            [(report.id, t) for t in dict.fromkeys(report.issue_types)], True,
        ))  # fmt: skip
    return out


def event_statement(event: Event) -> Statement:
    return (
        "INSERT INTO events (report_id, seq, at, actor_role, actor_id, action, details, "
        "before, after, public, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (event.report_id, event.seq, iso(event.at), event.actor_role, event.actor_id,
         event.action, dump(event.details), dump(event.before), dump(event.after),
         event.public, event.prev_hash, event.hash),
        False,
    )  # fmt: skip


def bands_statement(report_id: int, bands: Sequence[int]) -> Statement:
    """The report's near-duplicate fingerprint (feedback.duplicates), in one statement."""
    values = ", ".join("(?, ?)" for _ in bands)
    return (
        f"INSERT INTO report_bands (band, report_id) VALUES {values} ON CONFLICT DO NOTHING",
        [v for band in bands for v in (band, report_id)],
        False,
    )


class PortableWrites:
    """Mixed into each store's write transaction, which provides `execute` (an INSERT returns
    the new id on both stores) and `executemany`."""

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        raise NotImplementedError

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
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

    async def insert_attachment(self, report_id: int, attachment: Attachment) -> int:
        return await self.execute(
            "INSERT INTO attachments (report_id, filename, content_type, size, sha256, "
            "storage_key, uploaded_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (report_id, attachment.filename, attachment.content_type, attachment.size,
             attachment.sha256, attachment.storage_key, attachment.uploaded_by,
             iso(attachment.created_at or datetime.now(UTC))),
        )  # fmt: skip

    async def insert_correction(self, correction: Correction) -> int:
        return await self.execute(
            "INSERT INTO corrections (report_id, target, title, text, labels, previous, "
            "actor_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (correction.report_id, correction.target, correction.title, correction.text,
             dump(correction.labels), dump(correction.previous), correction.actor_id,
             iso(correction.created_at)),
        )  # fmt: skip

    async def update_user(self, user: User) -> None:
        await self.execute(
            "UPDATE users SET password_hash = ?, role = ?, department = ?, display_name = ?, "
            "active = ?, bureau_lead = ? WHERE id = ?",
            (user.password_hash, user.role, user.department, user.display_name, user.active,
             user.bureau_lead, user.id),
        )  # fmt: skip
