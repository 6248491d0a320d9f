"""The JSON API (/api/v1): the contract other parts and machine clients rely on."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from feedback import validation
from feedback.errors import ValidationError
from feedback.models import Channel
from feedback.service import CitizenView
from web import limits
from web.keys import service_key

routes = web.RouteTableDef()


def citizen_json(view: CitizenView, timezone: str) -> dict[str, Any]:
    """Times in the district's zone, ISO 8601 with the offset (+08:00), as Open311 gives them."""
    zone = ZoneInfo(timezone)

    def _iso(value: datetime | None) -> str | None:
        return value.astimezone(zone).isoformat(timespec="seconds") if value is not None else None

    r = view.report
    return {
        "tracking_number": r.tracking_number,
        "status": r.status.value,
        "status_label": view.status_label,
        "title": r.title,
        "department": r.department,
        "department_name": view.department_name,
        "issue_types": r.issue_types,
        "created_at": _iso(r.created_at),
        "updated_at": _iso(r.updated_at),
        "deadlines": [
            {
                "name": d.name,
                "label": d.label,
                "due": _iso(d.due),
                "working_days_left": d.working_days_left,
                "overdue": d.overdue,
                "estimated": d.estimated,
            }
            for d in view.deadlines
        ],
        "history": [
            {"at": _iso(h.at), "action": h.action, "label": h.label, "note": h.note}
            for h in view.history
        ],
        "answer": r.answer,
        "answered_at": _iso(r.answered_at),
        "rating": r.rating.value if r.rating else None,
        "close_reason": r.close_reason.value if r.close_reason else None,
        "can_rate": view.can_rate,
        "can_request_review": view.can_request_review,
        "points": view.points,
    }


async def read_json(request: web.Request) -> Any:
    try:
        return await request.json(loads=json.loads)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        # RecursionError: nesting thousands deep is an attack, not a report.
        raise ValidationError("请求内容不是有效的 JSON。", field="body") from None


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    version = await request.app[service_key].schema_version()
    return web.json_response({"status": "ok", "schema_version": version})


@routes.post("/api/v1/reports")
async def create_report(request: web.Request) -> web.Response:
    # Open to citizens (limited per address); a machine client's key lifts that to its own.
    key = await limits.api_key(request, request.headers.get("X-Api-Key"))
    async with limits.submission(request, key) as claim:
        data = await read_json(request)
        if not isinstance(data, dict):
            raise ValidationError("请求内容必须是一个 JSON 对象。", field="body")
        data.pop("telegram_chat_id", None)  # only the bot may set a chat id
        service = request.app[service_key]
        limits.check_text(data, service.input_limits)  # the cap first: before any other work
        # One check of the whole body: the client hears every field at fault at once.
        inp = validation.submit_input(data, Channel.API, service.input_limits,
                                      validation.ApiSubmitInput)  # fmt: skip
        result = await service.submit(inp, channel=Channel.API, api_key=key, rate=claim)
    return web.json_response(
        {
            "tracking_number": result.tracking_number,
            "follow_up_code": result.follow_up_code,
            "status": result.status.value,
            "department": result.department,
            "status_url": f"/api/v1/reports/{result.tracking_number}",
        },
        status=201,
    )


@routes.get("/api/v1/reports/{tracking_number}")
async def get_report(request: web.Request) -> web.Response:
    code = request.query.get("code") or request.headers.get("X-Follow-Up-Code") or ""
    tracking_number = request.match_info["tracking_number"]
    async with limits.code_attempt(request, tracking_number):
        view = await request.app[service_key].status(tracking_number, code)
    return web.json_response(citizen_json(view, request.app[service_key].config.timezone))
