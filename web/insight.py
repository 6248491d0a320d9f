"""The insight desk on the web: hot issues and answer quality on the dashboard, 督办 of a whole
issue, return of an answer for rework, 附议 on the public page, published hot issues.

Everything goes through the service (``service.insight``); pages work without JavaScript.
"""

from __future__ import annotations

import secrets as pysecrets
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from aiohttp import web

from feedback import permissions
from feedback.errors import FeedbackError
from feedback.models import Actor
from feedback.stats import Dashboard
from web import limits
from web.auth import require_staff
from web.citizen import text_value
from web.keys import service_key, settings_key
from web.sessions import flash, session

routes = web.RouteTableDef()

HOT_TOP = 10


def setup(app: web.Application) -> None:
    app.add_routes(routes)


async def dashboard_context(
    request: web.Request, actor: Actor, board: Dashboard, stats: Any
) -> dict[str, Any]:
    """The insight parts of the dashboard, for the same period and bureaus as its figures."""
    service = request.app[service_key]
    flt = board.flt
    since = stats.day_start(flt.date_from)
    until = stats.day_start(flt.date_to + timedelta(days=1))
    quality = await service.insight.quality_by_bureau(actor, since, until)
    if flt.department:
        quality = [q for q in quality if q.department == flt.department]
    # The same 考核 score as the ranking above it (answer quality is one of its parts).
    scores = {f.key: f.assessment_score for f in board.by_department}
    out: dict[str, Any] = {"quality": quality, "scores": scores, "hot": [], "hot_done": {}}
    if permissions.is_supervisor(actor):
        out["hot"] = await service.insight.hot_issues(actor, top=HOT_TOP)
        out["hot_done"] = await service.insight.hot_escalations()
        out["department_name"] = service.config.department_name
    return out


def _back(form: Any) -> str:
    back = text_value(form, "back", 500)
    return "/staff/dashboard" + (f"?{back}" if back and "//" not in back else "")


@routes.post("/staff/insight/escalate-issue")
async def escalate_issue(request: web.Request) -> web.StreamResponse:
    """督办 of a whole hot issue: one action for all its open reports."""
    _user, actor = await require_staff(request)
    form = await request.post()
    key = text_value(form, "issue", 40).strip()
    members = [v for v in form.getall("tracking_number", []) if isinstance(v, str)][:500]
    note = text_value(form, "note", 500).strip() or None
    try:
        done, skipped = await request.app[service_key].insight.escalate_issue(
            actor, key, members, note
        )
    except FeedbackError as exc:
        await flash(request, f"督办未成功：{exc.message}", problem=True)
    else:
        extra = f"；{len(skipped)} 件已答复或办结，未督办" if skipped else ""
        await flash(request, f"已对该热点问题统一督办 {len(done)} 件诉求{extra}。")
    raise web.HTTPSeeOther(_back(form) + "#hot")


@routes.post("/staff/insight/rework")
async def rework(request: web.Request) -> web.StreamResponse:
    """A supervisor returns an answer to the bureau for rework (recorded)."""
    _user, actor = await require_staff(request)
    form = await request.post()
    tn = text_value(form, "tracking_number", 40).strip()
    reason = text_value(form, "reason", 500).strip() or "答复质量不合格，请重新答复。"
    target = text_value(form, "from", 20)
    try:
        await request.app[service_key].insight.return_for_rework(actor, tn, reason)
    except FeedbackError as exc:
        await flash(request, f"退回未成功：{exc.message}", problem=True)
    else:
        await flash(request, f"已将 {tn} 的答复退回承办单位重新答复。")
    if target == "report":
        raise web.HTTPSeeOther(f"/staff/reports/{quote(tn)}")
    raise web.HTTPSeeOther(_back(form) + "#quality")


async def visitor_voice(request: web.Request) -> str:
    """This browser's 附议 key: a random value in its session cookie, hashed with the secret."""
    s = await session(request)
    visitor = s.get("visitor")
    if not isinstance(visitor, str):
        visitor = pysecrets.token_urlsafe(18)
        s["visitor"] = visitor
    from feedback.insight import voter_key

    return voter_key(request.app[settings_key].secret_key or "", visitor)


@routes.post("/public/support")
async def support(request: web.Request) -> web.StreamResponse:
    """附议 / 我也遇到 on a published report."""
    form = await request.post()
    raw = text_value(form, "report", 20).strip()
    back = text_value(form, "back", 300)
    target = "/public" + (f"?{back}" if back and "//" not in back else "")
    report_id = limits.row_id(raw, "该诉求未公开，不能附议。")
    voice = await visitor_voice(request)
    async with limits.support_vote(request) as counted:
        added = await request.app[service_key].insight.support(report_id, voice)
        counted(added)
    await flash(
        request, "感谢您的附议，已计入该问题的关注度。" if added else "您已附议过这件诉求。"
    )
    raise web.HTTPSeeOther(f"{target}#r{report_id}")
