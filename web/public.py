"""The public disclosure page (行政执法公示): per-bureau figures and answered reports, anonymised.

No login. Nothing private can reach it: the report list selects only the columns it shows
(never contact data, tracking numbers, places or rating comments), every text goes through
feedback.anonymise, a search matches only the anonymised text through an index that never holds
anything else (feedback.public_search), so it cannot probe for a phone number, and groups of
fewer than five reports are not shown (domain notes §6).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote, urlencode

from aiohttp import web

from feedback.secrets import normalise_tracking_number
from feedback.stats import Figures, StatsFilter, days_text, pct
from web import limits
from web.keys import NavItem, nav_key, service_key
from web.render import render

routes = web.RouteTableDef()

MIN_GROUP = 5  # cells with fewer reports are suppressed
PAGE_SIZE = 20
MAX_QUERY = 30


@dataclass
class PublicRow:
    label: str
    received: str
    answer_on_time: str
    satisfaction: str
    answer_median: str
    suppressed: bool


def setup(app: web.Application) -> None:
    app.add_routes(routes)
    app[nav_key].append(NavItem("/public", "执法监督公示", "public"))


def _rate(part: int, whole: int) -> str:
    return pct(part / whole) if whole >= MIN_GROUP else "—"


def public_row(fig: Figures) -> PublicRow:
    """A bureau's published figures; fewer than five reports (or ratings) show nothing."""
    if fig.received < MIN_GROUP:
        return PublicRow(fig.label, f"少于{MIN_GROUP}件", "—", "—", "—", True)
    return PublicRow(
        label=fig.label,
        received=str(fig.received),
        answer_on_time=_rate(fig.answered_on_time, fig.answered),
        satisfaction=_rate(fig.satisfied, fig.rated),
        answer_median=days_text(fig.answer_median) if fig.answered >= MIN_GROUP else "—",
        suppressed=False,
    )


async def _shown(request: web.Request) -> tuple[list[str], datetime]:
    """The bureaus the public page lists (5+ reports in the year) and since when."""
    service = request.app[service_key]
    stats = service.stats
    now = service.clock()
    today = stats.local_day(now)
    flt = StatsFilter(date_from=today - timedelta(days=364), date_to=today)
    board = await stats.dashboard(flt, now)
    shown = [f.key for f in board.by_department if f.key and f.received >= MIN_GROUP]
    return shown, stats.day_start(flt.date_from)


@routes.get("/public/reports")
async def find_report(request: web.Request) -> web.Response:
    """按受理编号查找: a citizen looks for their own case among the published ones."""
    tn = request.query.get("tn", "").strip()[:40]
    if not tn:
        return web.Response(status=303, headers={"Location": "/public#find"})
    number = normalise_tracking_number(tn)
    return web.Response(status=303, headers={"Location": f"/public/reports/{quote(number)}"})


@routes.get("/public/reports/{tn}")
async def public_report(request: web.Request) -> web.Response:
    tn = request.match_info["tn"][:40]
    shown, since = await _shown(request)
    report = await request.app[service_key].public_report(shown, since, tn)
    return await render(
        request,
        "public/report.html",
        {"r": report, "tn": tn, "min_group": MIN_GROUP},
        status=200 if report else 404,
    )


@routes.get("/public")
async def public_page(request: web.Request) -> web.Response:
    service = request.app[service_key]
    stats = service.stats
    now = service.clock()
    today = stats.local_day(now)
    query = request.query.get("q", "").strip()
    errors: dict[str, str] = {}
    if len(query) > MAX_QUERY:
        errors["q"] = f"搜索词不能超过 {MAX_QUERY} 个字。"
        query = ""
    page = limits.page_number(request, 500)
    flt = StatsFilter(date_from=today - timedelta(days=364), date_to=today)
    board = await stats.dashboard(flt, now)
    rows = [public_row(f) for f in board.by_department if f.key]
    shown = [f.key for f in board.by_department if f.key and f.received >= MIN_GROUP]
    overall = public_row(board.overall)
    since = stats.day_start(flt.date_from)
    reports, more = await service.public_reports(shown, since, query, page, PAGE_SIZE)
    counts = await service.insight.support_counts([r.id for r in reports])
    for r in reports:
        r.support = counts.get(r.id, 0)
    hot_issues = await service.insight.public_hot_issues()
    return await render(
        request,
        "public/index.html",
        {
            "flt": flt,
            "overall": overall,
            "rows": rows,
            "reports": reports,
            "more": more,
            "page": page,
            "q": query,
            "errors": errors,
            "min_group": MIN_GROUP,
            "hot_issues": hot_issues,
            "back": urlencode({"q": query, "page": page}),
        },
    )
