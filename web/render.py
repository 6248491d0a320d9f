"""Server-rendered pages: the template environment, the shared page context, error pages.

Pages are rendered with `render(request, "name.html", {...})`, which adds what base.html needs
(who is logged in, the CSRF token, the navigation). Every asset comes from /static; no page
needs JavaScript.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp_jinja2
import jinja2
from aiohttp import web

from feedback import permissions, workflow
from feedback.accounts import ROLE_LABELS, actor_for
from feedback.models import Role, User
from feedback.workflow import Action
from web import csrf, sessions
from web.errors import page_renderer_key
from web.keys import NavItem, config_key, nav_key

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

ERROR_TITLES = {
    400: "提交的内容有误",
    401: "请先登录",
    403: "无权访问",
    404: "未找到",
    405: "不支持该请求方式",
    409: "当前状态不允许此操作",
    413: "提交的内容过大",
    429: "操作过于频繁",
    500: "系统出错了",
}


class CompiledTemplates(jinja2.BytecodeCache):
    """Templates compiled once per process, whatever number of apps it builds (the tests build
    hundreds; parsing and compiling a page takes 50-150 ms). Jinja checks each entry against
    the template's source checksum, so an edited template is compiled anew."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


COMPILED = CompiledTemplates()


def setup(app: web.Application) -> None:
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        bytecode_cache=COMPILED,
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.ChainableUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    tz = ZoneInfo(app[config_key].timezone)

    def local(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        if value is None:
            return ""
        return value.astimezone(tz).strftime(fmt)

    env.filters["local"] = local
    env.filters["percent"] = lambda p: f"{float(p) * 100:.0f}%"
    env.filters["action_label"] = _action_label
    env.filters["actor_label"] = lambda e: workflow.actor_label(e.actor_role, e.actor_id)
    app[nav_key] = [
        NavItem("/report", "我要反映", "public"),
        NavItem("/track", "查询进度", "public"),
        NavItem("/staff", "工作台", "staff"),
        NavItem("/staff/triage", "分办", "triage"),
    ]
    app.router.add_static("/static", STATIC, name="static", append_version=False)
    # Pages link /static/favicon.svg; browsers and tools that ask for /favicon.ico anyway
    # get the icon rather than a 404 in every log.
    app.router.add_get("/favicon.ico", _favicon)
    app[page_renderer_key] = render_error
    app.on_response_prepare.append(_security_headers)


async def _favicon(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(
        STATIC / "favicon.ico",
        headers={"Content-Type": "image/x-icon", "Cache-Control": "public, max-age=86400"},
    )


def _action_label(value: str) -> str:
    try:
        return Action(value).label
    except ValueError:
        return value


async def base_context(request: web.Request) -> dict[str, Any]:
    config = request.app[config_key]
    user = await sessions.current_user(request)
    actor = actor_for(user) if user else None
    audiences = {"public"}
    if actor:
        audiences.add("staff")
        if permissions.is_supervisor(actor):
            audiences.add("supervisor")
        if permissions.is_triage_desk(actor, config):
            audiences.add("triage")
    return {
        "config": config,
        "district": config.district_name,
        "user": user,
        "actor": actor,
        "role_label": _role_label(user, "triage" in audiences) if user else "",
        "user_department": config.department_name(user.department)
        if user and user.department
        else "",
        "csrf_token": await csrf.token(request),
        "nav": [n for n in request.app[nav_key] if n.audience in audiences],
        "path": request.path,
        "flash": await sessions.pop_flash(request),
    }


async def render(
    request: web.Request, template: str, context: dict[str, Any] | None = None, *, status: int = 200
) -> web.Response:
    ctx = await base_context(request)
    ctx.update(context or {})
    response = aiohttp_jinja2.render_template(template, request, ctx, status=status)
    # Pages may hold a follow-up code or a citizen's contact details: never kept in caches.
    response.headers["Cache-Control"] = "no-store"
    return response


async def render_error(request: web.Request, status: int, message: str) -> web.StreamResponse:
    try:
        return await render(
            request,
            "error.html",
            {"status": status, "title": ERROR_TITLES.get(status, "出错了"), "message": message},
            status=status,
        )
    except Exception:  # the error page itself must never fail into a stack trace
        log.exception("rendering the error page failed")
        return web.Response(status=status, text=message, content_type="text/plain", charset="utf-8")


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    h = response.headers
    h.setdefault("X-Content-Type-Options", "nosniff")
    h.setdefault("Referrer-Policy", "same-origin")
    h.setdefault("X-Frame-Options", "DENY")
    if response.content_type == "text/html":
        h.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        )


def _role_label(user: User, triage: bool) -> str:
    """The header's role: the supervising body's staff run the triage desk (分办), which
    "承办单位工作人员" hid."""
    if triage and Role(user.role) is Role.STAFF:
        return "分办工作人员"
    return ROLE_LABELS.get(Role(user.role), user.role)
