"""The JSON API (/api/v1): the contract other parts and machine clients rely on."""

from __future__ import annotations

import json
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from feedback import validation
from feedback.errors import ValidationError
from feedback.models import Channel
from feedback.service import CitizenView
from web import limits
from web.api_models import CitizenStatus, Deadline, Health, HistoryEntry, Submitted, dump
from web.keys import service_key

routes = web.RouteTableDef()


def citizen_status(view: CitizenView, timezone: str) -> CitizenStatus:
    """Times in the district's zone, ISO 8601 with the offset (+08:00), as Open311 gives them."""
    zone = ZoneInfo(timezone)
    r = view.report
    return CitizenStatus(
        tracking_number=r.tracking_number,
        status=r.status,
        status_label=view.status_label,
        title=r.title,
        department=r.department,
        department_name=view.department_name,
        issue_types=r.issue_types,
        created_at=r.created_at.astimezone(zone),
        updated_at=r.updated_at.astimezone(zone),
        deadlines=[
            Deadline(name=d.name, label=d.label, due=d.due.astimezone(zone),
                        working_days_left=d.working_days_left, overdue=d.overdue,
                        estimated=d.estimated)
            for d in view.deadlines
        ],
        history=[
            HistoryEntry(at=h.at.astimezone(zone), action=h.action, label=h.label, note=h.note)
            for h in view.history
        ],
        answer=r.answer,
        answered_at=r.answered_at.astimezone(zone) if r.answered_at is not None else None,
        rating=r.rating,
        close_reason=r.close_reason,
        can_rate=view.can_rate,
        can_request_review=view.can_request_review,
        points=view.points,
    )  # fmt: skip


async def read_json(request: web.Request) -> Any:
    try:
        return await request.json(loads=json.loads)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        # RecursionError: nesting thousands deep is an attack, not a report.
        raise ValidationError("请求内容不是有效的 JSON。", field="body") from None


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    version = await request.app[service_key].schema_version()
    return web.json_response(dump(Health(status="ok", schema_version=version)))


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
    submitted = Submitted(
        tracking_number=result.tracking_number,
        follow_up_code=result.follow_up_code,
        status=result.status,
        department=result.department,
        status_url=f"/api/v1/reports/{result.tracking_number}",
    )
    return web.json_response(dump(submitted), status=201)


@routes.get("/api/v1/reports/{tracking_number}")
async def get_report(request: web.Request) -> web.Response:
    code = request.query.get("code") or request.headers.get("X-Follow-Up-Code") or ""
    tracking_number = request.match_info["tracking_number"]
    async with limits.code_attempt(request, tracking_number):
        view = await request.app[service_key].status(tracking_number, code)
    timezone = request.app[service_key].config.timezone
    return web.json_response(dump(citizen_status(view, timezone)))
