"""The supervision dashboard (监督统计): figures, charts, the overdue list with 督办, exports.

Supervisors (and admins) see every bureau; bureau staff see their own bureau's figures only.
Every figure comes from feedback.stats, so the page, the exports and `feedback stats` agree.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import web

from feedback import export, permissions
from feedback.errors import FeedbackError, PermissionDenied
from feedback.models import Actor, Role
from feedback.stats import (
    CHANNEL_LABELS,
    DAY_COLUMNS,
    FIGURE_COLUMNS,
    RATE_COLUMNS,
    Dashboard,
    Stats,
    StatsFilter,
    build_filter,
    figure_text,
)
from web import charts, insight
from web.auth import require_staff
from web.citizen import text_value
from web.keys import NavItem, nav_key, service_key
from web.render import render
from web.sessions import flash

routes = web.RouteTableDef()

FILTER_FIELDS = ("from", "to", "department", "issue_type", "channel", "period")


def setup(app: web.Application) -> None:
    app.add_routes(routes)
    app[nav_key].append(NavItem("/staff/dashboard", "监督统计", "staff"))


def stats_for(request: web.Request) -> Stats:
    service = request.app[service_key]
    return service.stats


def _allowed(actor: Actor) -> None:
    if not (permissions.is_supervisor(actor) or actor.role is Role.STAFF):
        raise PermissionDenied("只有监督人员和承办单位工作人员可以查看统计。")


async def _board(request: web.Request) -> tuple[Actor, Stats, Dashboard, dict[str, str]]:
    _user, actor = await require_staff(request)
    _allowed(actor)
    stats = stats_for(request)
    now = request.app[service_key].clock()
    q = {k: request.query.get(k, "").strip()[:40] for k in FILTER_FIELDS}
    if not permissions.is_supervisor(actor):
        q["department"] = actor.department or ""  # a bureau sees its own figures
    flt = build_filter(
        stats,
        stats.local_day(now),
        date_from=q["from"],
        date_to=q["to"],
        department=q["department"],
        issue_type=q["issue_type"],
        channel=q["channel"],
        period=q["period"],
    )
    board = await stats.dashboard(flt, now)
    return actor, stats, board, q


def _query_string(flt: StatsFilter) -> str:
    return urlencode(
        {
            "from": flt.date_from.isoformat(),
            "to": flt.date_to.isoformat(),
            "department": flt.department or "",
            "issue_type": flt.issue_type or "",
            "channel": flt.channel or "",
            "period": flt.period,
        }
    )


@routes.get("/staff/dashboard")
async def dashboard(request: web.Request) -> web.Response:
    try:
        actor, stats, board, _q = await _board(request)
    except FeedbackError as exc:
        if exc.field is None:
            raise
        # A bad filter: the page again with the message, over the default period.
        await flash(request, exc.message, problem=True)
        raise web.HTTPSeeOther("/staff/dashboard") from None
    o = board.overall
    partial = {i: board.partial[f.key] for i, f in enumerate(board.trend) if f.key in board.partial}
    # Said beside the trend charts and in their labels: a short period is not a fall.
    partial_text = (
        "；带 * 的时段不完整（空心点、虚线）："
        + "、".join(f"{k}（{n}）" for k, n in board.partial.items())
        if board.partial
        else ""
    )
    context: dict[str, Any] = {
        "board": board,
        "flt": board.flt,
        "columns": FIGURE_COLUMNS,
        "rate_columns": RATE_COLUMNS,
        "day_columns": DAY_COLUMNS,
        "text": figure_text,
        "is_supervisor": permissions.is_supervisor(actor),
        "channels": CHANNEL_LABELS,
        "qs": _query_string(board.flt),
        "summary": [
            ("受理量", str(o.received), "received"),
            ("按时签收率", figure_text(o, "sign_on_time_rate", "rate"), "sign_on_time_rate"),
            ("按时答复率", figure_text(o, "answer_on_time_rate", "rate"), "answer_on_time_rate"),
            ("满意率", figure_text(o, "satisfaction_rate", "rate"), "satisfaction_rate"),
            ("当前逾期", str(o.overdue_now or 0), "overdue_now"),
        ],
        "ranking_chart": charts.bar_chart(
            [(f.label, f.assessment_score) for f in board.by_department],
            title="各承办单位考核得分（按期办理40·不退回30·满意30·答复质量20）",
            described_by="ranking-chart-note",
        ),
        "trend_chart": charts.line_chart(
            [(f.key, float(f.received)) for f in board.trend],
            title="受理量趋势" + partial_text,
            described_by="trend-chart-note",
            partial=partial,
        ),
        "trend_rate_chart": charts.line_chart(
            [(f.key, f.answer_on_time_rate) for f in board.trend],
            title="按时答复率趋势" + partial_text,
            percent=True,
            color=charts.ACCENT,
            described_by="trend-rate-chart-note",
            partial=partial,
        ),
        "partial_text": partial_text,
        "types_chart": charts.bar_chart(
            [(f.label, float(f.received)) for f in board.by_issue_type],
            title="问题类型分布（受理量）",
            color=charts.ACCENT,
            described_by="types-chart-note",
        ),
        "timings": board.timings,
        "stats": stats,
        # 督办 only where it can be taken now; else when it can (the service's own window).
        "escalation_waits": await request.app[service_key].escalation_waits(
            [o.tracking_number for o in board.overdue]
        ),
        **await insight.dashboard_context(request, actor, board, stats),
    }
    return await render(request, "dashboard/index.html", context)


@routes.post("/staff/dashboard/escalate")
async def escalate(request: web.Request) -> web.StreamResponse:
    """One-click 督办 from the overdue list; back to the same view of the dashboard."""
    _user, actor = await require_staff(request)
    form = await request.post()
    tn = text_value(form, "tracking_number", 40).strip()
    note = text_value(form, "note", 500).strip() or "区司法局督办：请尽快办理并答复。"
    back = text_value(form, "back", 500)
    target = "/staff/dashboard" + (f"?{back}" if back and "//" not in back else "")
    try:
        await request.app[service_key].escalate(actor, tn, note)
    except FeedbackError as exc:
        await flash(request, f"督办未成功：{exc.message}", problem=True)
    else:
        await flash(request, f"已督办 {tn}。")
    raise web.HTTPSeeOther(target)


@routes.get("/staff/dashboard/export.xlsx")
async def export_xlsx(request: web.Request) -> web.Response:
    actor, stats, board, _q = await _board(request)
    rows = await export.report_rows(stats, board.flt, actor)
    # Tens of thousands of rows take seconds to write: off the event loop.
    body = await asyncio.to_thread(export.xlsx, board, rows, export.report_columns(actor))
    return _download(
        body,
        (
            export.filename(board, "figures", "xlsx"),
            export.ascii_filename(board, "figures", "xlsx"),
        ),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


@routes.get("/staff/dashboard/export.csv")
async def export_csv(request: web.Request) -> web.Response:
    actor, stats, board, _q = await _board(request)
    if request.query.get("what") == "reports":
        rows = await export.report_rows(stats, board.flt, actor)
        body = await asyncio.to_thread(export.reports_csv, rows, export.report_columns(actor))
        what = "reports"
    else:
        body = export.figures_csv(board)
        what = "figures"
    name = (export.filename(board, what, "csv"), export.ascii_filename(board, what, "csv"))
    return _download(body, name, "text/csv; charset=utf-8")


def _download(body: bytes, name: tuple[str, str], content_type: str) -> web.Response:
    """``name``: (the Chinese file name, its ASCII fallback). RFC 6266 with RFC 5987's
    filename*: browsers save 监督统计-….xlsx, older clients the ASCII name."""
    chinese, fallback = name
    return web.Response(
        body=body,
        headers={
            "Content-Type": content_type,
            "Content-Disposition": (
                f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(chinese)}"
            ),
            "Cache-Control": "no-store",
        },
    )
