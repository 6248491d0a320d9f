"""The record's checkpoints, published (公示): anyone may keep a copy and check later that the
full-process records before it were not rewritten (`feedback verify --checkpoint FILE`)."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web

from web.keys import service_key
from web.render import render

routes = web.RouteTableDef()


def setup(app: web.Application) -> None:
    app.add_routes(routes)


@routes.get("/public/checkpoints")
async def index(request: web.Request) -> web.Response:
    found = await request.app[service_key].published_checkpoints()
    rows = [(datetime.fromisoformat(c.body["taken_at"]), c) for c in found]
    return await render(request, "public/checkpoints.html", {"checkpoints": rows})


@routes.get("/public/checkpoints/{digest}.json")
async def download(request: web.Request) -> web.Response:
    digest = request.match_info["digest"].lower()
    found = await request.app[service_key].published_checkpoint(digest)
    return web.Response(
        text=found.text(),
        content_type="application/json",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="checkpoint-{digest[:16]}.json"'},
    )
