"""Citizen pages: the report form, the receipt with the follow-up code, following up, rating.

Every POST answers with a redirect (303) to a GET page (post-redirect-get), so reload and Back
never re-post a form. The follow-up code travels only in POST bodies and in this browser's
encrypted cookies (the receipt: web/receipts.py; the status page: the session), never in a
URL, so not in logs or history; every page that shows it is sent with Cache-Control: no-store.
"""

from __future__ import annotations

import asyncio
import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import unquote

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from multidict import MultiDictProxy

from feedback import attachments, incentives, validation
from feedback.errors import (
    InvalidTransition,
    NotFound,
    PermissionDenied,
    RateLimited,
    ValidationError,
)
from feedback.models import Channel
from feedback.service import CitizenView
from feedback.settings import InputLimits
from web import csrf, limits, receipts
from web.keys import service_key, settings_key
from web.render import render
from web.sessions import flash, session

routes = web.RouteTableDef()

REPORT_FIELDS = ("kind", "title", "text", "place", "occurred_at", "authority", "anonymous",
                 "contact_name", "contact_phone", "publish", "notify_email", "notify_sms",
                 "notify_code")  # fmt: skip
# Remember this many recent form ids per visitor, so a reload does not file a report twice.
_RECENT_FORMS = 5

Form = MultiDictProxy[str | bytes | bytearray | web.FileField]


def text_value(form: Form, name: str, limit: int = 20000) -> str:
    """A text field as typed (files and bytes read as empty); long values cut, never crashed."""
    value = form.get(name, "")
    return value[:limit] if isinstance(value, str) else ""


def field_of(exc: ValidationError, default: str) -> str:
    # The service names contact fields "contact.name"; the form calls them contact_name.
    return (exc.field or default).replace("contact.", "contact_").replace("notify.", "notify_")


def submission(values: dict[str, str]) -> dict[str, Any]:
    return {
        "kind": values["kind"] or "complaint",
        "title": values["title"],
        "text": values["text"],
        "place": values["place"],
        "occurred_at": values["occurred_at"],
        "authority": values["authority"],
        "anonymous": values["anonymous"] or "1",
        "publish": values["publish"] or "1",
        "contact": {"name": values["contact_name"], "phone": values["contact_phone"]},
        "notify": {
            "email": values["notify_email"],
            "sms": values["notify_sms"],
            "send_code": values["notify_code"] or "0",
        },
    }


_FORM_ORDER = {name: i for i, name in enumerate(
    ("kind", "text", "place", "occurred_at", "authority", "title", "anonymous", "contact",
     "contact_name", "contact_phone", "publish", "notify", "notify_email", "notify_sms")
)}  # fmt: skip


def report_errors(values: dict[str, str], limits: InputLimits) -> dict[str, str]:
    """Every field error of the report form at once, by form field name (empty when valid):
    one check of the whole input (validation.submit_errors), so a citizen on a phone never
    submits once per mistake."""
    _, found = validation.submit_errors(submission(values), Channel.WEB, limits)
    errors = {k.replace("contact.", "contact_").replace("notify.", "notify_"): v
              for k, v in found.items()}  # fmt: skip
    # Listed in the order the form asks, top to bottom.
    return dict(sorted(errors.items(), key=lambda kv: _FORM_ORDER.get(kv[0], len(_FORM_ORDER))))


async def read_uploads(
    form: Form, limits: InputLimits, name: str = "attachments"
) -> list[attachments.Upload]:
    uploads = []
    for item in form.getall(name, []):
        if isinstance(item, web.FileField) and (item.filename or "").strip():
            # One byte over the limit is enough to refuse the file with its name.
            data = await asyncio.to_thread(
                attachments.read_limited, item.file, limits.max_attachment_bytes
            )
            # Browsers send UTF-8 names as they are; some clients percent-encode them.
            name = unquote(item.filename) if "%" in item.filename else item.filename
            uploads.append(attachments.Upload(name, data))
    return uploads


def _form_context(
    limits: InputLimits, values: dict[str, str], errors: dict[str, str], had_files: bool = False
) -> dict[str, Any]:
    return {
        "values": values,
        "errors": errors,
        "had_files": had_files,
        "form_id": secrets.token_urlsafe(16),
        "max_files": limits.max_attachments,
        "max_mb": limits.max_attachment_mb,
        "max_text": validation.text_max(limits),
    }


EXPIRED = (
    "页面停留时间较长或本站刚刚更新，安全校验已过期，这次提交没有成功。"
    "您填写的内容已保留在下面，请核对后再次提交。"
)


def setup(app: web.Application) -> None:
    app.add_routes(routes)
    csrf.on_refused(app, "/report", report_expired)


async def report_expired(request: web.Request) -> web.Response:
    """The report form posted with a stale token (an expired session, a restart): nothing is
    filed; the form comes back with what was typed and a fresh token, never a bare 403."""
    try:
        form = await request.post()
    except (HttpProcessingError, ValueError, UnicodeDecodeError):
        raise PermissionDenied(csrf.MALFORMED, code="csrf") from None
    values = {k: text_value(form, k) for k in REPORT_FIELDS}
    had_files = any(
        isinstance(item, web.FileField) and (item.filename or "").strip()
        for item in form.getall("attachments", [])
    )
    lim = request.app[service_key].input_limits
    context = _form_context(lim, values, {}, had_files)
    context["expired"] = EXPIRED
    return await render(request, "report_form.html", context, status=403)


@routes.get("/")
async def home(request: web.Request) -> web.Response:
    return await render(request, "home.html")


_PREVIEW = "report_preview"  # the session's key for this browser's preview token


@routes.get("/report")
async def report_form(request: web.Request) -> web.Response:
    service = request.app[service_key]
    values: dict[str, str] = {}
    form_id = None
    if request.query.get("edit") == "1":
        # 返回修改 from the preview: every field as it was, and the same form id, so the form
        # sent after the changes is still recognised as this one.
        kept = await service.previews.get((await session(request)).get(_PREVIEW))
        if kept and not kept.get("sent"):
            values = {k: str(v) for k, v in dict(kept.get("values") or {}).items()}
            form_id = str(kept.get("form_id") or "") or None
    context = _form_context(service.input_limits, values, {})
    if form_id:
        context["form_id"] = form_id
    return await render(request, "report_form.html", context)


async def _preview_context(
    request: web.Request, values: dict[str, str], form_id: str
) -> dict[str, Any]:
    service = request.app[service_key]
    preview = await service.preview(submission(values))
    lim = service.input_limits
    return {
        "values": values,
        "form_id": form_id,
        "p": preview,
        "r": preview.input,
        "errors": {},
        "max_files": lim.max_attachments,
        "max_mb": lim.max_attachment_mb,
        "title": "确认提交",
    }


@routes.get("/report/preview")
async def report_preview(request: web.Request) -> web.Response:
    """预览: what will be sent, what will be public and what stays private; 确认提交 files
    it, 返回修改 goes back to the form with every field. A GET page: reload and Back show it
    again, and once it was sent, they lead to its receipt."""
    service = request.app[service_key]
    kept = await service.previews.get((await session(request)).get(_PREVIEW))
    if not kept:
        return _see_other("/report")
    if kept.get("sent"):
        return _see_other(f"{receipts.PATH}/receipt/{kept['sent']}")
    values = {k: str(v) for k, v in dict(kept.get("values") or {}).items()}
    try:
        context = await _preview_context(request, values, str(kept.get("form_id") or ""))
    except ValidationError:
        # The rules changed since (a new limit): back to the form to see why.
        return _see_other("/report?edit=1")
    return await render(request, "report_preview.html", context)


async def _start_preview(request: web.Request, values: dict[str, str], form_id: str) -> str:
    s = await session(request)
    token = await request.app[service_key].previews.put(
        None, {"values": values, "form_id": form_id}
    )
    s[_PREVIEW] = token
    return token


async def _mark_sent(request: web.Request, form_id: str, tracking_number: str) -> None:
    """After 确认提交: the preview now leads to the receipt (Back from the receipt)."""
    s = await session(request)
    token = s.get(_PREVIEW)
    service = request.app[service_key]
    kept = await service.previews.get(token)
    if kept is not None and str(kept.get("form_id") or "") == form_id:
        await service.previews.put(token, {"sent": tracking_number, "form_id": form_id})


def _see_other(location: str) -> web.Response:
    # 303: the browser asks for the next page with GET, so Back and reload never re-post.
    return web.Response(status=303, headers={"Location": location})


@routes.post("/report")
async def report_submit(request: web.Request) -> web.Response:
    form = await request.post()
    values = {k: text_value(form, k) for k in REPORT_FIELDS}
    # The text whole, however long (the body size bounds it): never cut, only counted.
    values["text"] = text_value(form, "text", request.app[settings_key].max_body_mb * 1024 * 1024)
    form_id = text_value(form, "form_id", 64)
    service = request.app[service_key]
    lim = service.input_limits
    uploads = await read_uploads(form, lim)
    print_ = receipts.fingerprint(request, values)
    files = receipts.file_digests([u.data for u in uploads])
    earlier = receipts.same_report(request, form_id, print_, files)
    if earlier is not None:
        # Sent before from this browser (reload, double tap, Back and 提交): the same receipt.
        return _see_other(receipts.location(earlier))
    s = await session(request)
    sent: dict[str, str] = dict(s.get("sent_forms") or {})
    if form_id and form_id in sent:
        # The same form after the receipt's window: the number, never a second report.
        return _see_other(f"{receipts.PATH}/receipt/{sent[form_id]}")
    # Fields and files are checked together, so every mistake is shown on the first return.
    errors = report_errors(values, lim)
    try:
        checked = attachments.check(uploads, limits=lim)
    except ValidationError as exc:
        errors[field_of(exc, "attachments")] = exc.message
    step = text_value(form, "do", 10)
    if errors and step == "confirm" and set(errors) == {"attachments"}:
        # On the preview page only the files were added: its own page, with the error.
        context = await _preview_context(request, values, form_id)
        context["errors"] = errors
        return await render(request, "report_preview.html", context, status=400)
    if errors:
        return await render(
            request,
            "report_form.html",
            _form_context(lim, values, errors, bool(uploads)),
            status=400,
        )
    if step == "preview":
        # 预览: nothing is filed; the preview is a page of its own (post-redirect-get).
        await _start_preview(request, values, form_id)
        return _see_other("/report/preview")

    async def file_it() -> receipts.Receipt:
        inp = validation.submit_input(submission(values), Channel.WEB, lim)
        root = request.app[settings_key].attachments_dir
        async with limits.submission(request) as claim:
            # Only once the address has a free slot (a refused one writes nothing to disk),
            # and on disk before the report that names them is committed.
            stored = await asyncio.to_thread(attachments.store_all, root, checked, "citizen")
            result = await service.submit(inp, attachments=stored, rate=claim)
        return receipts.issue(
            request, result.tracking_number, result.follow_up_code, print_, form_id, files
        )

    try:
        receipt = await request.app[receipts.inflight_key].once(request, print_, file_it)
    except ValidationError as exc:
        errors = {field_of(exc, "text"): exc.message}
        return await render(
            request,
            "report_form.html",
            _form_context(lim, values, errors, bool(uploads)),
            status=400,
        )
    if form_id:
        sent[form_id] = receipt.tracking_number
        s["sent_forms"] = dict(list(sent.items())[-_RECENT_FORMS:])
    await _mark_sent(request, form_id, receipt.tracking_number)
    response = _see_other(receipts.location(receipt))
    receipts.remember(request, response, receipt)
    return response


@routes.get(r"/report/receipt/{tn:[A-Za-z]{1,6}-\d{4}-\d{6,}}")
async def receipt_page(request: web.Request) -> web.Response:
    """The receipt: number and code while this browser's receipt cookie holds them."""
    tn = request.match_info["tn"][:40]
    receipt = receipts.find(request, tn)
    s = await session(request)
    sent = dict(s.get("sent_forms") or {})
    if receipt is None:
        # Past the window, or never sent from this browser: the number only, if it was ours.
        ours = tn in sent.values()
        return await render(
            request,
            "report_done.html",
            {"tracking_number": tn if ours else None, "expired": True,
             "minutes": int(receipts.LIFETIME.total_seconds() // 60)},
            status=200 if ours else 404,
        )  # fmt: skip
    service = request.app[service_key]
    try:
        view = await service.status(receipt.tracking_number, receipt.code)
    except NotFound:
        view = None
    return await render(
        request,
        "report_done.html",
        {
            "tracking_number": receipt.tracking_number,
            "code": receipt.code,
            "minutes": int(receipts.LIFETIME.total_seconds() // 60),
            "status_label": view.status_label if view else None,
            "department_name": view.department_name if view else None,
        },
    )


# After the code has been typed once (POST /track), this browser's session -- an encrypted
# cookie, web/sessions.py -- holds it for a while, so the status page is a plain GET at
# /track/{number}: reloadable, Back-safe, bookmarkable, with no code in any URL or history.
TRACK_LIFETIME = timedelta(hours=2)
_TRACKED = "tracked"
_TRACKED_KEEP = 5


async def _grant(request: web.Request, tn: str, code: str) -> None:
    s = await session(request)
    tracked = {k: v for k, v in dict(s.get(_TRACKED) or {}).items() if k != tn}
    tracked[tn] = [code, int(request.app[service_key].clock().timestamp())]
    s[_TRACKED] = dict(list(tracked.items())[-_TRACKED_KEEP:])


async def _granted_code(request: web.Request, tn: str) -> str | None:
    s = await session(request)
    item = dict(s.get(_TRACKED) or {}).get(tn)
    if not (isinstance(item, list) and len(item) == 2):
        return None
    code, at = item
    age = request.app[service_key].clock().timestamp() - float(at)
    return str(code) if 0 <= age < TRACK_LIFETIME.total_seconds() else None


def _status_location(tn: str) -> str:
    return f"/track/{tn}"


@routes.get("/track")
async def track_form(request: web.Request) -> web.Response:
    values = {"tn": request.query.get("tn", "")[:40]}
    return await render(request, "track_form.html", {"values": values, "errors": {}})


async def _status_page(
    request: web.Request,
    view: CitizenView,
    *,
    notice: str | None = None,
    problem: str | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    return await render(
        request,
        "track_status.html",
        {
            "view": view,
            "r": view.report,
            "notice": notice,
            "problem": problem,
            "values": values or {},
            "errors": errors or {},
        },
        status=status,
    )


async def _track_form_error(request: web.Request, tn: str, code: str, message: str) -> web.Response:
    return await render(
        request,
        "track_form.html",
        {"values": {"tn": tn, "code": code}, "errors": {"code": message}},
        status=404,
    )


@routes.post("/track")
async def track(request: web.Request) -> web.Response:
    form = await request.post()
    tn, code = text_value(form, "tn", 40).strip(), text_value(form, "code", 60).strip()
    errors = {}
    if not tn:
        errors["tn"] = "请填写受理编号。"
    if not code:
        errors["code"] = "请填写查询码。"
    if errors:
        return await render(
            request, "track_form.html", {"values": {"tn": tn, "code": code}, "errors": errors},
            status=400,
        )  # fmt: skip
    try:
        async with limits.code_attempt(request, tn):
            view = await request.app[service_key].status(tn, code)
    except NotFound as exc:
        return await _track_form_error(request, tn, code, exc.message)
    except RateLimited as exc:
        # Said above the form with what was typed (the code may be right): after the wait,
        # one press of 查询, as the staff login does.
        page = await render(
            request, "track_form.html",
            {"values": {"tn": tn, "code": code}, "errors": {}, "throttled": exc.message},
            status=429,
        )  # fmt: skip
        retry = getattr(exc, "retry_after", None)
        if retry:
            page.headers["Retry-After"] = str(retry)
        return page
    number = view.report.tracking_number
    await _grant(request, number, code)
    return _see_other(_status_location(number))


@routes.get(r"/track/{tn:[A-Za-z]{1,6}-\d{4}-\d{6,}}")
async def status_page(request: web.Request) -> web.Response:
    tn = request.match_info["tn"][:40]
    code = await _granted_code(request, tn)
    view = None
    if code:
        try:
            view = await request.app[service_key].status(tn, code)
        except NotFound:
            view = None
    if view is None:
        # A bookmark in a new browser session: the number is filled in, the code asked again.
        return await render(
            request,
            "track_form.html",
            {
                "values": {"tn": tn},
                "errors": {},
                "ask_again": True,
                "hours": int(TRACK_LIFETIME.total_seconds() // 3600),
            },  # fmt: skip
        )
    return await _status_page(request, view)


async def _owner_code(request: web.Request, form: Form, tn: str) -> str:
    """The code for an action on the status page: typed in the form, or this browser's."""
    return text_value(form, "code", 60).strip() or await _granted_code(request, tn) or ""


async def _moved_on(
    request: web.Request, tn: str, code: str, exc: InvalidTransition
) -> web.Response:
    """The action no longer fits the report -- most often a second tap on a slow phone, after
    the first was taken: the report as it now is, and why nothing more was done."""
    current = await request.app[service_key].status(tn, code)
    return await _status_page(request, current, problem=exc.message, status=409)


async def _done(request: web.Request, tn: str, code: str, notice: str) -> web.Response:
    await _grant(request, tn, code)
    await flash(request, notice)
    return _see_other(_status_location(tn))


@routes.post("/track/rate")
async def rate(request: web.Request) -> web.Response:
    form = await request.post()
    tn = text_value(form, "tn", 40)
    code = await _owner_code(request, form, tn)
    values = {"rating": text_value(form, "rating", 40), "comment": text_value(form, "comment")}
    service = request.app[service_key]
    try:
        async with limits.code_attempt(request, tn):
            view = await service.rate(tn, code, values["rating"], values["comment"])
    except NotFound as exc:
        return await _track_form_error(request, tn, code, exc.message)
    except InvalidTransition as exc:
        return await _moved_on(request, tn, code, exc)
    except ValidationError as exc:
        current = await service.status(tn, code)
        return await _status_page(
            request, current, values=values,
            errors={field_of(exc, "rating"): exc.message}, status=400,
        )  # fmt: skip
    notice = "感谢您的评价。"
    if view.report.status.value == "reopened":
        notice = "感谢您的评价。您的诉求已退回承办单位重新办理，区司法局将跟踪督办。"
    return await _done(request, view.report.tracking_number, code, notice)


@routes.post("/track/review")
async def review(request: web.Request) -> web.Response:
    form = await request.post()
    tn = text_value(form, "tn", 40)
    code = await _owner_code(request, form, tn)
    values = {"reason": text_value(form, "reason")}
    service = request.app[service_key]
    try:
        async with limits.code_attempt(request, tn):
            view = await service.request_review(tn, code, values["reason"])
    except NotFound as exc:
        return await _track_form_error(request, tn, code, exc.message)
    except InvalidTransition as exc:
        return await _moved_on(request, tn, code, exc)
    except ValidationError as exc:
        current = await service.status(tn, code)
        return await _status_page(
            request, current, values=values,
            errors={field_of(exc, "reason"): exc.message}, status=400,
        )  # fmt: skip
    return await _done(
        request, view.report.tracking_number, code, "复查申请已提交，区司法局将在 30 日内答复。"
    )


@routes.post("/track/claim")
async def claim_points(request: web.Request) -> web.Response:
    """社会监督激励: the reporter claims the points with the tracking number and code alone."""
    form = await request.post()
    tn = text_value(form, "tn", 40)
    code = await _owner_code(request, form, tn)
    service = request.app[service_key]
    try:
        async with limits.code_attempt(request, tn):
            points = await incentives.claim(service, tn, code)
    except NotFound as exc:
        return await _track_form_error(request, tn, code, exc.message)
    except InvalidTransition as exc:
        return await _moved_on(request, tn, code, exc)
    view = await service.status(tn, code)
    notice = (
        f"已领取 {points.granted} 分监督积分，已记入区司法局监督积分台账"
        "（兑换办法以区司法局公布为准）。感谢您的监督！"
    )
    return await _done(request, view.report.tracking_number, code, notice)
