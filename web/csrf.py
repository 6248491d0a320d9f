"""CSRF protection for every HTML form that changes state.

Each visitor's session (an encrypted cookie, web/sessions.py) carries a random token; every
form sends it back in a hidden field. A POST whose token is missing or differs is refused
with 403 before the handler runs. Anonymous citizens get the same protection: their session
holds only the token. Machine clients (the JSON API) send no cookies, so they are exempt.
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp_session import get_session

from feedback.errors import PermissionDenied, ValidationError
from web.keys import csrf_exempt_key, csrf_refused_key

FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_SESSION_KEY = "csrf"
REFUSED = "页面已过期或无法确认请求来自本站，请返回上一页刷新后重新提交。"
MALFORMED = "提交的表单格式有误，请返回上一页重新提交。"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def setup(app: web.Application) -> None:
    app[csrf_exempt_key] = ["/api/", "/healthz"]
    app[csrf_refused_key] = {}
    app.middlewares.append(csrf_middleware)


def on_refused(app: web.Application, path: str, handler: Handler) -> None:
    """Let the page at ``path`` answer a same-site POST whose token is missing or stale (an
    expired session, a restart) itself -- typically its form again, with what was typed and a
    fresh token. The action is still not taken; a cross-site POST still gets the 403.
    ``path`` is a path, or a regular expression a whole path must match (the staff answer
    form: ``/staff/reports/([^/]+)/answer``)."""
    app[csrf_refused_key][path] = handler


def _refused_handler(request: web.Request) -> Handler | None:
    handlers = request.app[csrf_refused_key]
    found = handlers.get(request.path)
    if found is not None:
        return found
    return next((h for p, h in handlers.items() if re.fullmatch(p, request.path)), None)


def same_site(request: web.Request) -> bool:
    """Whether the browser says the POST came from our own pages (Sec-Fetch-Site, else Origin);
    a browser that says neither is given the benefit of the doubt."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc == request.host


def exempt(app: web.Application, prefix: str) -> None:
    """Let POSTs under ``prefix`` through without a token (only for cookie-less clients)."""
    app[csrf_exempt_key].append(prefix)


async def token(request: web.Request) -> str:
    """This visitor's token, created on first use."""
    s = await get_session(request)
    value = s.get(_SESSION_KEY)
    if not isinstance(value, str) or len(value) < 32:
        value = secrets.token_urlsafe(32)
        s[_SESSION_KEY] = value
    return value


async def _sent_token(request: web.Request) -> str:
    form = None
    if request.content_type in FORM_TYPES:
        # Parsed here, where a broken body is a 400 whichever way the token came (a broken
        # client, a re-encoding proxy: not a forgery, and not a 500 in the handler); aiohttp
        # keeps the parsed form, so the handler reads it again for free.
        try:
            form = await request.post()
        except (HttpProcessingError, ValueError, UnicodeDecodeError):
            raise ValidationError(MALFORMED, field="body") from None
    header = request.headers.get(HEADER)
    if header:
        return header
    value = form.get(FIELD) if form is not None else None
    return value if isinstance(value, str) else ""


@web.middleware
async def csrf_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method in SAFE_METHODS or any(
        request.path.startswith(p) for p in request.app[csrf_exempt_key]
    ):
        return await handler(request)
    s = await get_session(request)
    expected = s.get(_SESSION_KEY)
    sent = await _sent_token(request)
    if not (
        isinstance(expected, str)
        and expected
        and sent
        and hmac.compare_digest(expected.encode(), sent.encode())
    ):
        refused = _refused_handler(request)
        if refused is not None and same_site(request):
            return await refused(request)
        raise PermissionDenied(REFUSED, code="csrf")
    return await handler(request)
