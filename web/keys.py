"""Typed application keys: everything the handlers share lives on the app under these."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from feedback.config import Config
from feedback.service import FeedbackService
from feedback.settings import Settings

settings_key = web.AppKey("settings", Settings)
config_key = web.AppKey("config", Config)
service_key = web.AppKey("service", FeedbackService)


# -- the HTML side (web/render.py, web/sessions.py, web/csrf.py) ------------------------------


@dataclass(frozen=True)
class NavItem:
    """A link in the page header. ``audience``: "public", "staff" or "supervisor"."""

    href: str
    label: str
    audience: str = "public"


# Other parts add their pages' links here (e.g. the statistics dashboard) before start-up.
nav_key = web.AppKey("nav", list[NavItem])
# Path prefixes whose POSTs carry no cookies and need no CSRF token (machine clients).
csrf_exempt_key = web.AppKey("csrf_exempt", list[str])
# Pages that answer a refused CSRF token themselves, by path (web.csrf.on_refused): a form
# whose session expired is shown again with what was typed, rather than lost behind a 403.
RefusedHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]
csrf_refused_key = web.AppKey("csrf_refused", dict[str, RefusedHandler])
# The root of the app's cookie keys (web/sessions.py derives it from Settings.secret_key, or a
# random one per start); other cookies (the receipt, web/receipts.py) derive their own from it.
cookie_key = web.AppKey("cookie_key", bytes)
