"""Errors to responses: JSON under /api, friendly Chinese pages elsewhere, never a trace."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

from feedback.errors import (
    FeedbackError,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    RateLimited,
    ValidationError,
)
from web.api_models import Error, ErrorBody, FieldError, dump

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

STATUS: list[tuple[type[FeedbackError], int]] = [
    (ValidationError, 400),
    (NotFound, 404),
    (PermissionDenied, 403),
    (InvalidTransition, 409),
    (RateLimited, 429),
]

HTTP_MESSAGES = {
    400: "请求有误。",
    403: "您无权访问此页面。",
    404: "页面不存在。",
    405: "不支持该请求方式。",
    409: "当前状态不允许此操作。",
    413: "提交的内容过大。",
    429: "操作过于频繁，请稍后再试。",
    500: "服务器内部错误，请稍后再试。我们已记录此问题。",
}


def status_for(exc: FeedbackError) -> int:
    for cls, status in STATUS:
        if isinstance(exc, cls):
            return status
    return 400


# A form's own address opened with a GET -- from the history, a bookmark, a reload after the
# tab slept, an old link -- goes to the page the form is on, not to a "不支持该请求方式" page.
# A report's action (/staff/reports/TN/accept …): its form is on the report's page, group 1.
REPORT_ACTION = re.compile(r"(/staff/reports/[^/]+)/[^/]+")
_FORM_PAGES: list[tuple[re.Pattern[str], str]] = [
    (REPORT_ACTION, r"\1"),
    (re.compile(r"/staff/.+"), "/staff"),
    (re.compile(r"/track/(?:rate|review|claim)"), "/track"),
    (re.compile(r"/public/support"), "/public"),
]


def form_page(path: str) -> str | None:
    """The page whose form posts to ``path`` (None: not a citizen or staff form's address)."""
    for pattern, page in _FORM_PAGES:
        found = pattern.fullmatch(path)
        if found:
            return found.expand(page)
    return None


def wants_json(request: web.Request) -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


# Pages that want their own rendering of errors register a renderer here (web/pages.py).
PageRenderer = Callable[[web.Request, int, str], Awaitable[web.StreamResponse]]
page_renderer_key: web.AppKey[PageRenderer] = web.AppKey("page_renderer")


async def _page(request: web.Request, status: int, message: str) -> web.StreamResponse:
    renderer = request.app.get(page_renderer_key)
    if renderer is not None:
        return await renderer(request, status, message)
    return web.Response(status=status, text=message, content_type="text/plain", charset="utf-8")


def error_body(code: str, message: str, field: str | None = None,
               errors: Mapping[str, str] | None = None) -> dict[str, object]:  # fmt: skip
    """``errors``: every field at fault, when the whole input was checked at once (the first
    of them is ``field`` and ``message``); else the one error, or none for a field-less one.
    Sent as web.api_models.Error, the schema the OpenAPI document gives."""
    listed = [FieldError(field=None if f == "body" else f, message=m)
              for f, m in (errors or {}).items()]  # fmt: skip
    if not listed and field is not None:
        listed = [FieldError(field=field, message=message)]
    body = ErrorBody(code=code, message=message, field=field, errors=listed)
    out: dict[str, object] = dump(Error(error=body))
    return out


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except FeedbackError as exc:
        status = status_for(exc)
        # A rate limit says when to come back (feedback.ratelimit.TooManyRequests).
        retry = getattr(exc, "retry_after", None)
        headers = {"Retry-After": str(retry)} if retry else {}
        if wants_json(request):
            found = exc.errors if isinstance(exc, ValidationError) else None
            return web.json_response(
                error_body(exc.code, exc.message, exc.field, found), status=status,
                headers=headers,
            )  # fmt: skip
        page = await _page(request, status, exc.message)
        page.headers.update(headers)
        return page
    except web.HTTPException as exc:
        if exc.status < 400 or exc.empty_body:
            raise
        page_of = form_page(request.path) if exc.status == 405 else None
        if page_of and request.method in ("GET", "HEAD") and not wants_json(request):
            raise web.HTTPSeeOther(page_of) from None
        message = HTTP_MESSAGES.get(exc.status, exc.reason)
        code = {413: "too_large", 404: "not_found", 405: "method_not_allowed"}.get(
            exc.status, "http_error"
        )
        if wants_json(request):
            return web.json_response(
                error_body(code, message), status=exc.status, headers=_keep(exc)
            )
        return await _page(request, exc.status, message)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        if wants_json(request):
            return web.json_response(error_body("internal", HTTP_MESSAGES[500]), status=500)
        return await _page(request, 500, HTTP_MESSAGES[500])


def _keep(exc: web.HTTPException) -> dict[str, str]:
    return {k: v for k, v in exc.headers.items() if k.lower() in ("allow", "retry-after")}
