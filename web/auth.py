"""Staff login and logout, and the guard every staff page goes through."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from aiohttp import web

from feedback import accounts
from feedback.errors import PermissionDenied, RateLimited
from feedback.models import Actor, User
from web import sessions
from web.citizen import text_value
from web.errors import REPORT_ACTION
from web.keys import service_key
from web.limits import client_address
from web.render import render

routes = web.RouteTableDef()


def safe_next(value: str | None) -> str:
    """Only our own staff pages are places to go back to after login (no open redirect)."""
    if value and value.startswith("/staff") and "//" not in value and "\\" not in value:
        return value
    return "/staff"


async def require_staff(request: web.Request) -> tuple[User, Actor]:
    """The logged-in staff member; otherwise to the login page (and back afterwards)."""
    user = await sessions.current_user(request)
    if user is None:
        if request.method in ("GET", "HEAD"):
            raise web.HTTPSeeOther(f"/staff/login?next={quote(request.path_qs, safe='/')}")
        # A form sent after the login ended: nothing is done. After logging in, back to the page
        # the form was on -- the action's own address takes no GET (it was a 405 page).
        target = quote(_page_of(request), safe="/")
        raise web.HTTPSeeOther(f"/staff/login?ended=1&next={target}")
    return user, accounts.actor_for(user)


def _page_of(request: web.Request) -> str:
    """The staff page a POST came from: a report's page for its actions, else the referring
    page of this site, else the desk."""
    found = REPORT_ACTION.fullmatch(request.path)
    if found:
        return found.group(1)
    referer = urlsplit(request.headers.get("Referer", ""))
    if referer.netloc == request.host and referer.path.startswith("/staff"):
        return safe_next(referer.path + (f"?{referer.query}" if referer.query else ""))
    return "/staff"


@routes.get("/staff/login")
async def login_form(request: web.Request) -> web.StreamResponse:
    if await sessions.current_user(request):
        raise web.HTTPSeeOther(safe_next(request.query.get("next")))
    values = {"next": safe_next(request.query.get("next"))}
    context = {"values": values, "errors": {}, "ended": request.query.get("ended") == "1"}
    return await render(request, "staff/login.html", context)


@routes.post("/staff/login")
async def login(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    username = text_value(form, "username", 64).strip()
    password = text_value(form, "password", 500)
    values = {"username": username, "next": safe_next(text_value(form, "next", 500))}
    # An answer typed on a page whose login expired (web.staff.answer_kept) rides along.
    carried = text_value(form, "carry_answer")
    if carried:
        values["carry_answer"] = carried
    # The address the rest of the app uses: behind the district's proxy, request.remote is the
    # proxy, and 20 failures from anyone would lock every staff member out.
    address = client_address(request)
    try:
        user = await request.app[service_key].accounts.authenticate(username, password, address)
    except RateLimited as exc:
        # Not the password's fault (it may be right): said above the form, no field marked.
        page = await render(
            request, "staff/login.html",
            {"values": values, "errors": {}, "throttled": exc.message}, status=429,
        )  # fmt: skip
        retry = getattr(exc, "retry_after", None)
        if retry:
            page.headers["Retry-After"] = str(retry)
        return page
    except PermissionDenied as exc:
        return await render(
            request, "staff/login.html", {"values": values, "errors": {"password": exc.message}},
            status=401,
        )  # fmt: skip
    await sessions.login(request, user)
    if carried:
        from web.staff import answer_after_login  # staff imports this module

        kept = await answer_after_login(request, accounts.actor_for(user), values["next"], carried)
        if kept is not None:
            return kept
    raise web.HTTPSeeOther(values["next"])


@routes.post("/staff/logout")
async def logout(request: web.Request) -> web.StreamResponse:
    await sessions.logout(request)
    raise web.HTTPSeeOther("/staff/login")
