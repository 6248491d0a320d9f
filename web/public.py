"""The public disclosure page (行政执法公示): per-bureau figures and answered reports, anonymised.

No login. Nothing private can reach it: the report list selects only the columns it shows
(never contact data, tracking numbers, places or rating comments), every text goes through
feedback.anonymise, a search matches only the anonymised text through an index that never holds
anything else (feedback.public_search), so it cannot probe for a phone number, and groups of
fewer than five reports are not shown (domain notes §6).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from feedback import public_search, workflow
from feedback.anonymise import anonymise
from feedback.models import Status
from feedback.stats import Figures, Stats, StatsFilter, days_text, pct
from feedback.store.rows import js, ts
from web.keys import NavItem, nav_key, service_key
from web.render import render

routes = web.RouteTableDef()

MIN_GROUP = 5  # cells with fewer reports are suppressed
PAGE_SIZE = 20
SEARCH_CATCH_UP = 200  # queued reports indexed before a search (`feedback tick` does the rest)
MAX_QUERY = 30


@dataclass
class PublicRow:
    label: str
    received: str
    answer_on_time: str
    satisfaction: str
    answer_median: str
    suppressed: bool


@dataclass
class PublicReport:
    answered_on: date
    department: str
    issue_types: list[str]
    title: str
    text: str
    answer: str
    status: str
    id: int = 0  # for 附议 (the tracking number stays private)
    support: int = 0


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


async def answered_reports(
    stats: Stats,
    departments: list[str],
    since: datetime,
    query: str,
    page: int,
) -> tuple[list[PublicReport], bool]:
    """Answered reports of the shown bureaus, anonymised; (this page, whether there is more)."""
    if not departments:
        return [], False
    marks = ", ".join("?" for _ in departments)
    statuses = tuple(s.value for s in workflow.in_order(workflow.PUBLISHED))
    params: list[Any] = [stats.time_param(since), *statuses, *departments]
    where = (
        f"answered_at >= ? AND status IN (?, ?, ?) AND department IN ({marks}) "
        "AND answer IS NOT NULL"
    )
    if query:
        # The index holds the masked text only: a search cannot probe for a phone number.
        await public_search.update(stats.store, limit=SEARCH_CATCH_UP)
        hint, sub, more = await public_search.search_plan(stats.store, query)
        where += f" AND id IN ({sub})"
        params += more
    else:
        hint = ""
    rows = await stats.store.fetch(
        "SELECT id, title, text, answer, answered_at, department, issue_types, status FROM reports "
        f"{hint} WHERE {where} ORDER BY answered_at DESC LIMIT ? OFFSET ?",
        [*params, PAGE_SIZE + 1, (page - 1) * PAGE_SIZE],
    )
    # Masking uses a part-of-speech tagger: off the event loop.
    items = await asyncio.to_thread(_publish, stats, rows)
    return items[:PAGE_SIZE], len(items) > PAGE_SIZE


def _publish(stats: Stats, rows: list[dict[str, Any]]) -> list[PublicReport]:
    config = stats.config
    out = []
    for r in rows:
        answered = ts(r["answered_at"])
        assert answered is not None
        out.append(
            PublicReport(
                answered_on=stats.local_day(answered),
                department=config.department_name(r["department"]),
                issue_types=[config.issue_type_name(t) for t in (js(r["issue_types"]) or [])],
                title=anonymise(r["title"]),
                text=anonymise(r["text"]),
                answer=anonymise(r["answer"]),
                status=Status(r["status"]).label,
                id=int(r["id"]),
            )
        )
    return out


@routes.get("/public")
async def public_page(request: web.Request) -> web.Response:
    service = request.app[service_key]
    stats = Stats(service.store, service.config)
    now = service.clock()
    today = stats.local_day(now)
    query = request.query.get("q", "").strip()
    errors: dict[str, str] = {}
    if len(query) > MAX_QUERY:
        errors["q"] = f"搜索词不能超过 {MAX_QUERY} 个字。"
        query = ""
    try:
        page = max(1, min(int(request.query.get("page", "1")), 500))
    except ValueError:
        page = 1
    flt = StatsFilter(date_from=today - timedelta(days=364), date_to=today)
    board = await stats.dashboard(flt, now)
    rows = [public_row(f) for f in board.by_department if f.key]
    shown = [f.key for f in board.by_department if f.key and f.received >= MIN_GROUP]
    overall = public_row(board.overall)
    since = stats.day_start(flt.date_from)
    reports, more = await answered_reports(stats, shown, since, query, page)
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
