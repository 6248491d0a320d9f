"""Notices seen from outside the citizen's pages: the supervisor's dead-letter list (notices
given up on, with their errors, and a button to send one again once the channel works), and
the SMS gateway's inbound callback where a reply of 退订 ends a number's SMS notices."""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Any

from aiohttp import web

from feedback.errors import PermissionDenied
from web import csrf, limits
from web.auth import require_staff
from web.keys import NavItem, nav_key, service_key, settings_key
from web.render import render

routes = web.RouteTableDef()
INBOUND = "/sms/inbound"


def setup(app: web.Application) -> None:
    # The gateway sends no cookies and no CSRF token: the shared secret is its proof.
    csrf.exempt(app, INBOUND)
    app.add_routes(routes)
    # Supervisors reach the list from every page, not only from a link in the docs.
    app[nav_key].append(NavItem("/staff/notices", "通知", "supervisor"))


@routes.get("/staff/notices")
async def dead_letters(request: web.Request) -> web.Response:
    _, actor = await require_staff(request)
    service = request.app[service_key]
    rows = [{**r, "dead_at": _when(r.get("dead_at"))} for r in await service.dead_letters(actor)]
    waiting = {ch: await service.notices.unsent(ch) for ch in ("telegram", "email", "sms")}
    return await render(request, "staff/notices.html", {"rows": rows, "waiting": waiting,
                                                       "title": "通知发送失败"})  # fmt: skip


def _when(value: Any) -> datetime | None:
    """The outbox's times are stored as ISO text: shown in local time as on other pages."""
    if isinstance(value, datetime) or value is None:
        return value
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


@routes.post("/staff/notices/{id:\\d+}/retry")
async def retry(request: web.Request) -> web.Response:
    await request.post()
    _, actor = await require_staff(request)
    outbox_id = limits.row_id(request.match_info["id"], "没有这条发送失败的通知。")
    await request.app[service_key].requeue_notice(actor, outbox_id)
    raise web.HTTPSeeOther("/staff/notices")


@routes.post(INBOUND)
async def inbound(request: web.Request) -> web.Response:
    """An SMS reply forwarded by the gateway: ``mobile``/``phone`` and ``content``/``text``,
    as a form or JSON, with ``?secret=`` the setting sms_inbound_secret."""
    secret = request.app[settings_key].sms_inbound_secret
    given = request.query.get("secret", "")
    if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
        raise PermissionDenied("短信回调密钥不正确。")
    if request.content_type == "application/json":
        try:
            data = await request.json()
        except ValueError:
            data = None
        data = data if isinstance(data, dict) else {}
    else:
        data = dict(await request.post())
    mobile = str(data.get("mobile") or data.get("phone") or "")[:20]
    text = str(data.get("content") or data.get("text") or "")[:200]
    ended = await request.app[service_key].sms_reply(mobile, text)
    return web.json_response({"ok": True, "unsubscribed": ended})
