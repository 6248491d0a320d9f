"""What notices link to: the status page by signed link, and unsubscribing (退订).

The signed link (`service.status_link`, sent in e-mail notices; in SMS notices its short
form `/r/<token>`, feedback.short_links) stands in for the follow-up code on one report until
it expires: opening it grants this browser the report as typing the
code does, so rating and asking for a review work from the mail. Unsubscribing by link asks
first (GET shows what would end, POST ends it), so a mail scanner that follows links does not
unsubscribe anyone.
"""

from __future__ import annotations

from aiohttp import web

from feedback.errors import NotFound
from web import limits
from web.citizen import _grant, _see_other, _status_location
from web.keys import service_key
from web.render import render

routes = web.RouteTableDef()


@routes.get("/track/s/{tn}/{token}")
async def status_by_link(request: web.Request) -> web.Response:
    tn, token = request.match_info["tn"][:40], request.match_info["token"][:80]
    try:
        async with limits.code_attempt(request, tn):
            view = await request.app[service_key].status(tn, token)
    except NotFound:
        return await render(request, "notice_link.html", {"why": "signed"}, status=404)
    # As after typing the code: this browser may see the report (and rate it) for a while.
    number = view.report.tracking_number
    await _grant(request, number, token)
    return _see_other(_status_location(number))


@routes.get("/r/{token}")
async def short_link(request: web.Request) -> web.Response:
    """The short link of an SMS notice: on to the signed link it stands for (which grants
    this browser the report); an unknown or expired one gets a page that says which."""
    token = request.match_info["token"][:40]
    try:
        # Counted as a code attempt when unknown: tokens cannot be guessed at speed.
        async with limits.code_attempt(request, "short-link"):
            path = await request.app[service_key].open_short_link(token)
    except NotFound:
        return await render(request, "notice_link.html", {"why": "unknown"}, status=404)
    if path is None:
        return await render(request, "notice_link.html", {"why": "expired"}, status=410)
    return _see_other(path)


@routes.get("/notices/unsubscribe/{token}")
async def unsubscribe_form(request: web.Request) -> web.Response:
    token = request.match_info["token"][:80]
    found = await request.app[service_key].notices.subscription(token)
    return await render(request, "unsubscribe.html", {"s": found, "token": token, "done": False},
                        status=200 if found else 404)  # fmt: skip


@routes.post("/notices/unsubscribe/{token}")
async def unsubscribe(request: web.Request) -> web.Response:
    await request.post()
    token = request.match_info["token"][:80]
    service = request.app[service_key]
    if not await service.notices.unsubscribe(token):
        return await render(request, "unsubscribe.html", {"s": None, "token": token}, status=404)
    found = await service.notices.subscription(token)
    return await render(request, "unsubscribe.html", {"s": found, "token": token, "done": True})
