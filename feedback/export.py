"""Exports of the supervision statistics: Excel (.xlsx) and CSV (UTF-8 with BOM for Excel).

The figures are those of `feedback.stats.Dashboard`, so an export always matches the dashboard
it was downloaded from. The report list never carries contact data unless the actor may see it
(supervisors); bureau staff get their own bureau's reports only.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from feedback import permissions
from feedback.config import Config
from feedback.errors import PermissionDenied
from feedback.models import Actor, Role, Status
from feedback.stats import (
    CHANNEL_LABELS,
    FIGURE_COLUMNS,
    Dashboard,
    Figures,
    Stats,
    StatsFilter,
    filter_clauses,
    filter_shape,
    filter_values,
)
from feedback.store import Store
from feedback.store import schema as t
from feedback.store.rows import js, ts
from feedback.store.sql import cached, param

if TYPE_CHECKING:
    # openpyxl (and lxml) are ~30 MB: imported by the export that needs them, not by every
    # serving process (issue 14, RSS).
    from openpyxl.cell import WriteOnlyCell

MAX_ROWS = 200_000  # an export is a download, not a backup
# A cell starting with one of these is taken as a formula by Excel, LibreOffice and Sheets
# (OWASP "CSV injection"): citizen text such as =HYPERLINK("http://…?"&A2) would run in the
# supervisor's spreadsheet.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def formula_like(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


RATING_LABELS = {"satisfied": "满意", "basically_satisfied": "基本满意", "unsatisfied": "不满意"}
KIND_LABELS = {"complaint": "投诉", "consultation": "咨询"}


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    kind: str  # text, count, rate, days, datetime, bool
    width: int = 14


REPORT_COLUMNS: tuple[Column, ...] = (
    Column("tracking_number", "受理编号", "text", 18),
    Column("created_at", "提交时间", "datetime", 18),
    Column("channel", "渠道", "text", 10),
    Column("kind", "诉求类型", "text", 8),
    Column("title", "标题", "text", 36),
    Column("text", "诉求内容", "text", 60),
    Column("status", "状态", "text", 16),
    Column("department", "承办单位", "text", 24),
    Column("issue_types", "问题类型", "text", 24),
    Column("accepted_at", "签收时间", "datetime", 18),
    Column("signed_on_time", "按时签收", "bool", 10),
    Column("answered_at", "答复时间", "datetime", 18),
    Column("answered_on_time", "按时答复", "bool", 10),
    Column("send_back_count", "退回次数", "count", 10),
    Column("extension_used", "延期", "bool", 8),
    Column("rating", "评价", "text", 10),
    Column("reopen_count", "重办次数", "count", 10),
    Column("escalation_level", "督办次数", "count", 10),
    Column("closed_at", "办结时间", "datetime", 18),
)
# Marked 内部 in the header: personal data, never to be passed on or published.
CONTACT_COLUMNS: tuple[Column, ...] = (
    Column("contact_name", "联系人（内部）", "text", 14),
    Column("contact_phone", "联系电话（内部）", "text", 18),
)


def scope(actor: Actor, flt: StatsFilter) -> StatsFilter:
    """What this actor may export: supervisors everything, bureau staff their own bureau."""
    if permissions.is_supervisor(actor):
        return flt
    if actor.role is Role.STAFF and actor.department:
        return StatsFilter(flt.date_from, flt.date_to, actor.department, flt.issue_type,
                           flt.channel, flt.period)  # fmt: skip
    raise PermissionDenied("只有监督人员和承办单位工作人员可以导出统计。")


def report_columns(actor: Actor) -> tuple[Column, ...]:
    return REPORT_COLUMNS + (CONTACT_COLUMNS if permissions.can_export_contact(actor) else ())


def _report_rows(shape: tuple[bool, bool, str | None], contact: bool) -> sa.Select[Any]:
    """The reports submitted in the period under the supervisor's filters, newest first."""
    names = [
        "tracking_number", "created_at", "channel", "kind", "title", "text", "status",
        "department", "issue_types", "accepted_at", "signed_on_time", "answered_at",
        "answered_on_time", "send_back_count", "extension_used", "rating", "reopen_count",
        "escalation_level", "closed_at", *(("contact_name", "contact_phone") if contact else ()),
    ]  # fmt: skip
    r = t.reports
    return (
        sa.select(*(r.c[n] for n in names))
        .where(r.c.created_at >= param("since"), r.c.created_at < param("until"),
               *filter_clauses(shape))
        .order_by(r.c.created_at.desc(), r.c.id.desc())
        .limit(param("limit"))
    )  # fmt: skip


async def report_rows(
    stats: Stats, flt: StatsFilter, actor: Actor, limit: int = MAX_ROWS
) -> list[dict[str, Any]]:
    """The reports under the figures (submitted in the period, same filters), newest first."""
    flt = scope(actor, flt)
    store: Store = stats.store
    config: Config = stats.config
    tz = stats.tz
    params = {
        "since": stats.time_param(stats.day_start(flt.date_from)),
        "until": stats.time_param(stats.day_start(flt.date_to + timedelta(days=1))),
        "limit": limit,
        **filter_values(flt),
    }
    contact = permissions.can_export_contact(actor)
    rows = await store.fetch(cached(_report_rows, filter_shape(flt), contact), params)
    out = []
    for r in rows:
        item = dict(r)
        for key in ("created_at", "accepted_at", "answered_at", "closed_at"):
            item[key] = _local(r[key], tz)
        item["channel"] = CHANNEL_LABELS.get(r["channel"], r["channel"])
        item["kind"] = KIND_LABELS.get(r["kind"], r["kind"])
        item["status"] = Status(r["status"]).label
        item["department"] = config.department_name(r["department"])
        item["issue_types"] = "、".join(
            config.issue_type_name(t) for t in (js(r["issue_types"]) or [])
        )
        item["rating"] = RATING_LABELS.get(r["rating"] or "", "")
        if contact and not permissions.can_see_contact_of(actor, r["department"]):
            item["contact_name"] = item["contact_phone"] = None
        for key in ("signed_on_time", "answered_on_time"):
            item[key] = None if r[key] is None else bool(r[key])
        item["extension_used"] = bool(r["extension_used"])
        out.append(item)
    return out


def _local(value: Any, tz: ZoneInfo) -> datetime | None:
    moment = ts(value)
    # Excel has no time zones: local wall-clock time, as people in the district read it.
    return None if moment is None else moment.astimezone(tz).replace(tzinfo=None)


# -- Excel ---------------------------------------------------------------------------------

FIGURE_SHEETS = (
    ("承办单位", "department_rows"),
    ("问题类型", "by_issue_type"),
    ("受理渠道", "by_channel"),
    ("趋势", "trend"),
)
NUMBER_FORMATS = {
    "rate": "0.0%",
    "days": "0.0",
    "score": "0.0",
    "count": "0",
    "datetime": "yyyy-mm-dd hh:mm",
}


def _figure_header(first: str) -> list[str]:
    return [first, *(label for _n, label, _k in FIGURE_COLUMNS)]


def xlsx(board: Dashboard, reports: Sequence[dict[str, Any]], columns: Sequence[Column]) -> bytes:
    """A workbook: 汇总 (overall + per bureau), one sheet per breakdown, and 诉求清单; every
    table with its header row frozen and an autofilter on it.

    Written in openpyxl's write-only mode: rows stream to the file instead of building a cell
    object per value (47,000 reports took 26 s the other way). Formats and bold headers are
    set per cell as the row is written; widths and frozen panes before the first row.
    """
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("汇总")
    f = board.flt
    _figure_layout(ws, header_row=3)
    ws.append(["统计期间", f"{f.date_from.isoformat()} 至 {f.date_to.isoformat()}"])
    ws.append([])
    ws.append(_bold(ws, _figure_header("范围")))
    ws.append(_figure_cells(ws, board.overall))
    _filter(ws, 3, len(FIGURE_COLUMNS) + 1, 1)
    for title, attr in FIGURE_SHEETS:
        sheet = wb.create_sheet(title)
        _figure_layout(sheet, header_row=1)
        sheet.append(_bold(sheet, _figure_header(title)))
        figures = getattr(board, attr)
        for fig in figures:
            sheet.append(_figure_cells(sheet, fig))
        _filter(sheet, 1, len(FIGURE_COLUMNS) + 1, len(figures))
    sheet = wb.create_sheet("诉求清单")
    for i, c in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = c.width
    sheet.freeze_panes = "A2"
    sheet.append(_bold(sheet, [c.header for c in columns]))
    # One styled cell per formatted column, made once and given each row's value: the row is
    # written out by append(), so the cell is free again for the next row (a new styled cell
    # per value cost more than writing it).
    styled = [
        _styled(sheet, None, NUMBER_FORMATS[c.kind]) if c.kind in NUMBER_FORMATS else None
        for c in columns
    ]
    quoted = [_quoted(sheet) for _c in columns]
    for item in reports:
        row: list[Any] = []
        for c, template, as_text in zip(columns, styled, quoted, strict=True):
            value = _cell(item.get(c.key), c)
            if formula_like(value):
                value = _text_cell(as_text, value)
            elif template is not None and value is not None:
                template.value = value
                value = template
            row.append(value)
        sheet.append(row)
    _filter(sheet, 1, len(columns), len(reports))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _filter(ws: Any, header_row: int, width: int, rows: int) -> None:
    """Excel's autofilter over a table: its header row and the ``rows`` below it."""
    from openpyxl.utils import get_column_letter

    ws.auto_filter.ref = f"A{header_row}:{get_column_letter(width)}{header_row + max(rows, 1)}"


def _styled(ws: Any, value: Any, number_format: str) -> WriteOnlyCell:
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(ws, value=value)
    cell.number_format = number_format
    return cell


def _quoted(ws: Any) -> WriteOnlyCell:
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(ws)
    # The quote prefix (Excel's leading ') keeps the text as typed when someone edits the cell.
    cell.quotePrefix = True
    return cell


def _text_cell(cell: WriteOnlyCell, value: str) -> WriteOnlyCell:
    """Citizen text that looks like a formula, written as a string cell, never a formula."""
    cell.value = value
    cell.data_type = "s"  # openpyxl made it "f" because of the leading "="
    return cell


def _bold(ws: Any, values: Sequence[Any]) -> list[WriteOnlyCell]:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    bold = Font(bold=True)
    cells = []
    for value in values:
        cell = WriteOnlyCell(ws, value=value)
        cell.font = bold
        cells.append(cell)
    return cells


def _cell(value: Any, column: Column) -> Any:
    if column.kind == "bool":
        return None if value is None else ("是" if value else "否")
    return value


def _figure_layout(ws: Any, header_row: int) -> None:
    from openpyxl.utils import get_column_letter

    ws.column_dimensions["A"].width = 26
    for i in range(2, len(FIGURE_COLUMNS) + 2):
        ws.column_dimensions[get_column_letter(i)].width = 14
    ws.freeze_panes = f"B{header_row + 1}"


def _figure_cells(ws: Any, fig: Figures) -> list[Any]:
    label: Any = _text_cell(_quoted(ws), fig.label) if formula_like(fig.label) else fig.label
    return [label] + [
        _styled(ws, getattr(fig, name), NUMBER_FORMATS[kind])
        for name, _label, kind in FIGURE_COLUMNS
    ]


# -- CSV -----------------------------------------------------------------------------------


def csv_safe(value: Any) -> Any:
    """A leading ' on text a spreadsheet would run as a formula (OWASP's CSV-injection rule);
    the reader still sees what was typed, after the quote."""
    return "'" + value if formula_like(value) else value


def _csv(rows: Iterable[Sequence[Any]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerows([csv_safe(v) for v in row] for row in rows)
    # The BOM tells Excel the file is UTF-8; without it Chinese headers come out garbled.
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def _plain(value: Any, kind: str) -> Any:
    if value is None:
        return ""
    if kind == "rate":
        return f"{value * 100:.1f}%"
    if kind in ("days", "score"):
        return f"{value:.1f}"
    if kind == "datetime":
        return value.strftime("%Y-%m-%d %H:%M")
    if kind == "bool":
        return "是" if value else "否"
    return value


def figures_csv(board: Dashboard) -> bytes:
    """Overall and per bureau, as on the dashboard's ranking table."""
    rows: list[list[Any]] = [_figure_header("承办单位")]
    for fig in [board.overall, *board.department_rows]:
        rows.append([fig.label, *(_plain(getattr(fig, n), k) for n, _l, k in FIGURE_COLUMNS)])
    return _csv(rows)


def reports_csv(reports: Sequence[dict[str, Any]], columns: Sequence[Column]) -> bytes:
    rows: list[list[Any]] = [[c.header for c in columns]]
    rows += [[_plain(item.get(c.key), c.kind) for c in columns] for item in reports]
    return _csv(rows)


FILE_NAMES = {"figures": "监督统计", "reports": "诉求清单"}


def filename(board: Dashboard, what: str, ext: str) -> str:
    """The download's name as staff file it: 监督统计-20260301-20260331.xlsx."""
    f = board.flt
    return f"{FILE_NAMES[what]}-{f.date_from:%Y%m%d}-{f.date_to:%Y%m%d}.{ext}"


def ascii_filename(board: Dashboard, what: str, ext: str) -> str:
    """The same for clients that cannot read a UTF-8 file name (RFC 6266's fallback)."""
    f = board.flt
    return f"supervision-{what}-{f.date_from:%Y%m%d}-{f.date_to:%Y%m%d}.{ext}"
