"""Sessions in encrypted cookies, and who is logged in.

The cookie holds only a session token and the CSRF token, encrypted and authenticated with a
key derived from Settings.secret_key. The session itself lives on the server
(feedback.accounts, table staff_sessions) and is looked up on every request, so logging out,
a new password (`feedback users password`) or disabling the account ends it at once, copies of
the cookie included.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass

from aiohttp import web
from aiohttp_session import Session, get_session, new_session, session_middleware
from aiohttp_session.cookie_storage import EncryptedCookieStorage

from feedback import accounts
from feedback.models import Actor, User
from feedback.settings import Settings
from web.keys import cookie_key, service_key

log = logging.getLogger(__name__)

COOKIE_NAME = "feedback_session"
_TOKEN = "sid"
_REQUEST_USER: web.RequestKey[User | None] = web.RequestKey("feedback.user")


def setup(app: web.Application, settings: Settings) -> None:
    secret = settings.secret_key
    if not secret:
        secret = secrets.token_urlsafe(32)
        log.warning(
            "no secret_key set (FEEDBACK_SECRET_KEY): using a random one, so every restart "
            "logs all staff out and invalidates open forms"
        )
    key = hashlib.sha256(("feedback-session:" + secret).encode()).digest()
    app[cookie_key] = key
    storage = EncryptedCookieStorage(
        key,
        cookie_name=COOKIE_NAME,
        httponly=True,
        samesite="Lax",
        secure=settings.secure_cookies,
        max_age=None,  # a browser-session cookie; the login's age is checked below
    )
    app.middlewares.append(session_middleware(storage))


async def session(request: web.Request) -> Session:
    return await get_session(request)


async def current_user(request: web.Request) -> User | None:
    if _REQUEST_USER in request:
        cached: User | None = request[_REQUEST_USER]
        return cached
    user: User | None = None
    try:
        s = await get_session(request)
    except RuntimeError:  # no session middleware on this request (e.g. an early error page)
        return None
    token = s.get(_TOKEN)
    if isinstance(token, str) and token:
        user = await request.app[service_key].accounts.session_user(token)
        if user is None:
            s.pop(_TOKEN, None)
    request[_REQUEST_USER] = user
    return user


async def current_actor(request: web.Request) -> Actor | None:
    user = await current_user(request)
    return accounts.actor_for(user) if user else None


async def login(request: web.Request, user: User) -> None:
    """A fresh session (new CSRF token) on login: nothing from before the login survives."""
    token = await request.app[service_key].accounts.start_session(user)
    s = await new_session(request)
    s[_TOKEN] = token
    request[_REQUEST_USER] = user


async def logout(request: web.Request) -> None:
    s = await get_session(request)
    token = s.get(_TOKEN)
    if isinstance(token, str):
        await request.app[service_key].accounts.end_session(token)
    s.invalidate()
    request[_REQUEST_USER] = None


@dataclass(frozen=True)
class Flash:
    message: str
    problem: bool  # shown as a warning the reader must act on, not as a success


async def flash(request: web.Request, message: str, *, problem: bool = False) -> None:
    """A one-time notice shown on the next page (after a redirect). `problem` for what did not
    happen (a refused filter, a failed 督办): it is shown as a warning and read out at once."""
    s = await get_session(request)
    s["flash"] = message
    s["flash_problem"] = problem


async def pop_flash(request: web.Request) -> Flash | None:
    try:
        s = await get_session(request)
    except RuntimeError:
        return None
    value = s.pop("flash", None)
    problem = s.pop("flash_problem", False) is True
    return Flash(value, problem) if isinstance(value, str) else None
