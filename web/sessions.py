"""Sessions in encrypted cookies, and who is logged in.

The cookie holds only the username, the login time and the CSRF token, encrypted and
authenticated with a key derived from Settings.secret_key. The user is looked up on every
request, so disabling an account ends its sessions at once.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time

from aiohttp import web
from aiohttp_session import Session, get_session, new_session, session_middleware
from aiohttp_session.cookie_storage import EncryptedCookieStorage

from feedback import accounts
from feedback.models import Actor
from feedback.settings import Settings
from feedback.store.base import User
from web.keys import store_key

log = logging.getLogger(__name__)

COOKIE_NAME = "feedback_session"
# A staff login lasts a working day; after that the staff member logs in again.
SESSION_SECONDS = 10 * 3600
_USER = "user"
_LOGIN_AT = "login_at"
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
    name = s.get(_USER)
    if isinstance(name, str) and time.time() - float(s.get(_LOGIN_AT, 0)) < SESSION_SECONDS:
        found = await request.app[store_key].get_user(name)
        if found is not None and found.active:
            user = found
    if user is None and name:
        s.pop(_USER, None)
        s.pop(_LOGIN_AT, None)
    request[_REQUEST_USER] = user
    return user


async def current_actor(request: web.Request) -> Actor | None:
    user = await current_user(request)
    return accounts.actor_for(user) if user else None


async def login(request: web.Request, user: User) -> None:
    """A fresh session (new CSRF token) on login: nothing from before the login survives."""
    s = await new_session(request)
    s[_USER] = user.username
    s[_LOGIN_AT] = time.time()
    request[_REQUEST_USER] = user


async def logout(request: web.Request) -> None:
    s = await get_session(request)
    s.invalidate()
    request[_REQUEST_USER] = None


async def flash(request: web.Request, message: str) -> None:
    """A one-time notice shown on the next page (after a redirect)."""
    s = await get_session(request)
    s["flash"] = message


async def pop_flash(request: web.Request) -> str | None:
    try:
        s = await get_session(request)
    except RuntimeError:
        return None
    value = s.pop("flash", None)
    return value if isinstance(value, str) else None
