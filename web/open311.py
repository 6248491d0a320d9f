"""Open311 GeoReport v2 under /open311/v2/: other systems hand reports in and read status.

Every resource answers as ``.json`` and ``.xml`` (the standard requires XML). The mapping:

- a *service* is a department of the district (service_code = department code); its
  attributes are the report's title, kind (投诉/咨询), issue kinds (multivaluelist), the
  authority concerned and when it happened;
- ``POST requests`` needs an API key (``feedback keys add NAME``; 403 otherwise) and is
  counted against that key's own per-minute limit. The report goes through the same
  ``service.submit`` (channel ``api``) and routing as any other. **The service_code is a hint,
  not an order:** it is recorded as the report's stated authority (涉及单位), and routing
  (classifier and remit keywords) decides the department, falling back to the 司法局 triage
  desk — a hotline's guess at the bureau is often the very ping-pong this system ends. Issue
  kinds the client states and the sending system's name are written under the text, for
  staff. ``service_request_id`` is the tracking number, returned at once (no tokens), with
  the follow-up code as an extension field for the citizen;
- ``GET requests`` / ``requests/{id}`` are public, so they carry only public-safe data: no
  text, contact, address or answer; status open|closed, status_notes from fixed labels,
  agency_responsible (the department), expected_datetime (the current deadline);
- location (lat/long, address_string, address_id) is optional here: many reports about how
  an authority behaved have no place, and refusing them would lose them;
- ``email`` is accepted and not stored (a contact has a name and a phone only);
- errors are the standard's list of {code, description} with 400/403/404 (also 413, 429).
"""

from __future__ import annotations

import logging
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from multidict import MultiDictProxy
from pydantic import BaseModel

from feedback import media_url, secrets, validation, workflow
from feedback.config import Config
from feedback.errors import FeedbackError, NotFound, PermissionDenied, ValidationError
from feedback.models import Channel, Kind, Report, Status
from feedback.settings import InputLimits
from feedback.workflow import Action
from web import keys, limits
from web.api_models import (
    O311Attribute,
    O311AttributeValue,
    O311Discovery,
    O311Endpoint,
    O311Error,
    O311Errors,
    O311Posted,
    O311PostedRequest,
    O311Request,
    O311Requests,
    O311Service,
    O311ServiceDefinition,
    O311Services,
    O311Update,
    O311Updates,
    dump,
)
from web.errors import HTTP_MESSAGES, status_for
from web.keys import config_key, service_key, settings_key

log = logging.getLogger(__name__)

PREFIX = "/open311/v2"
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# When the endpoint list last changed.
CHANGESET = datetime.fromisoformat("2026-03-01T00:00:00+08:00")
FORMATS = ("json", "xml")
LIST_MAX = 1000
LIST_DAYS = 90
IDS_MAX = 100
# The years a start_date or end_date may name.
DATE_YEARS = (1970, 9000)
# Open311 clients are programs first: the description leads with the standard's words.
API_KEY_REQUIRED = (
    "api_key required：提交诉求需要 API 密钥（api_key 字段），请向区司法局系统管理员申请。"
)
API_KEY_INVALID = "invalid api_key：API 密钥无效或已被吊销，请向区司法局系统管理员核实。"
URL_MAX = 500
NOT_A_FORM = (
    "request body must be form-encoded：请求体应为表单编码（application/x-www-form-urlencoded "
    "或 multipart/form-data），不接受 JSON。"
)
KIND_NAMES = {Kind.COMPLAINT: "投诉", Kind.CONSULTATION: "咨询"}
# Attribute codes a client may send as attribute[code] (or attribute[code][] for lists).
ATTRIBUTES = ("title", "kind", "issue_type", "authority", "occurred_at")
_ATTR_RE = re.compile(r"^attribute\[([^\[\]]*)\](\[\])?$")
_PHOTO_RE = re.compile(r"^photo(\d{1,4})$")
# Characters XML 1.0 cannot carry at all.
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# media_url_allow_networks, read once at start (a bad entry stops the start, not a report).
media_networks_key = web.AppKey("open311_media_networks", list[media_url.Network])


# -- formats ---------------------------------------------------------------------------------


def _fmt(request: web.Request) -> str:
    return "xml" if request.path.endswith(".xml") else "json"


# Element names of list items in the standard's XML.
_ITEM = {
    "services": "service",
    "service_requests": "request",
    "service_request_updates": "request_update",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _XML_BAD.sub("", str(value))


def _element(name: str, value: Any) -> ET.Element:
    el = ET.Element(name)
    if isinstance(value, dict):
        for k, v in value.items():
            el.append(_element(k, v))
    elif isinstance(value, list):
        for v in value:
            el.append(_element(_ITEM.get(name, "item"), v))
    else:
        el.text = _text(value)
    return el


def to_xml(root: str, value: Any) -> str:
    body = ET.tostring(_element(root, value), encoding="unicode")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + body


def respond(request: web.Request, root: str, model: BaseModel, status: int = 200) -> web.Response:
    """``model`` (one of web.api_models, the schema the document gives) as JSON, or as XML
    under ``root`` (list items named per the standard, fields in the model's order)."""
    value = dump(model)
    headers = {"Access-Control-Allow-Origin": "*"}
    if _fmt(request) == "xml":
        return web.Response(
            text=to_xml(root, value),
            status=status,
            content_type="text/xml",
            charset="utf-8",
            headers=headers,
        )
    return web.json_response(value, status=status, headers=headers)


def error_response(
    request: web.Request, status: int, description: str, retry_after: int | None = None
) -> web.Response:
    errors = O311Errors([O311Error(code=status, description=description)])
    resp = respond(request, "errors", errors, status)
    if retry_after:
        resp.headers["Retry-After"] = str(retry_after)
    return resp


@web.middleware
async def open311_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Under /open311/ every error is the standard's errors list, in the asked-for format."""
    if not request.path.startswith("/open311/"):
        return await handler(request)
    try:
        return await handler(request)
    except FeedbackError as exc:
        return error_response(
            request, status_for(exc), exc.message, getattr(exc, "retry_after", None)
        )
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return error_response(request, exc.status, HTTP_MESSAGES.get(exc.status, exc.reason))
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(request, 500, HTTP_MESSAGES[500])


# -- what a service and a request look like -----------------------------------------------


def _local(config: Config, value: datetime) -> datetime:
    return value.astimezone(ZoneInfo(config.timezone))


def service_json(config: Config, code: str) -> O311Service:
    d = config.department(code)
    return O311Service(
        service_code=d.code,
        service_name=d.name,
        description=d.remit,
        metadata=True,
        type="realtime",
        keywords=",".join(d.keywords),
        group=f"{config.district_name}行政执法",
    )


def service_definition(config: Config, code: str) -> O311ServiceDefinition:
    d = config.department(code)
    attributes = [
        _attribute(1, "title", "string", "标题（可不填，默认取诉求内容的开头）"),
        _attribute(2, "kind", "singlevaluelist", "诉求类型：投诉或咨询（默认投诉）",
                   [O311AttributeValue(key=k.value, name=n) for k, n in KIND_NAMES.items()]),
        _attribute(3, "issue_type", "multivaluelist",
                   "来件方判断的问题类型（可多选，供承办单位参考，最终由系统和工作人员认定）",
                   [O311AttributeValue(key=t.code, name=t.name) for t in config.issue_types]),
        _attribute(4, "authority", "string", f"涉及的执法单位或执法人员（默认为{d.name}）"),
        _attribute(5, "occurred_at", "string", "发生时间，如 2026年3月5日上午"),
    ]  # fmt: skip
    return O311ServiceDefinition(service_code=d.code, attributes=attributes)


def _attribute(
    order: int,
    code: str,
    datatype: Literal["string", "singlevaluelist", "multivaluelist"],
    description: str,
    values: list[O311AttributeValue] | None = None,
) -> O311Attribute:
    return O311Attribute(
        variable=True,
        code=code,
        datatype=datatype,
        required=False,
        datatype_description="" if values is None else "取 values 中的 key",
        order=order,
        description=description,
        values=values,
    )


def _expected(report: Report) -> datetime | None:
    """When the responsible body is due to act next: sign for it, or answer it."""
    found = workflow.stage_deadline(report)
    return found[1] if found else None


def request_json(config: Config, report: Report, latest: str | None = None) -> O311Request:
    """Public-safe: nothing the citizen wrote, no contact, no place, no staff names."""
    code = report.department or config.supervisor_department
    label = report.status.label
    if report.status is Status.CLOSED and report.close_reason:
        label = f"{label}（{report.close_reason.label}）"
    notes = f"{label}；最近进展：{latest}" if latest else label
    expected = _expected(report)
    return O311Request(
        service_request_id=report.tracking_number,
        status="closed" if report.status in workflow.CLOSED else "open",
        status_notes=notes,
        service_name=config.department_name(code),
        service_code=code,
        description=None,
        agency_responsible=config.department_name(code)
        + ("" if report.department else "（待分办）"),
        service_notice=None,
        requested_datetime=_local(config, report.created_at),
        updated_datetime=_local(config, report.updated_at),
        expected_datetime=_local(config, expected) if expected is not None else None,
        address=None,
        address_id=None,
        zipcode=None,
        lat=None,
        long=None,
        media_url=None,
        status_label=label,
    )


# -- handlers -----------------------------------------------------------------------------


def agency_name(district: str, department: str) -> str:
    """The district and the department as one name, the level said once: 淄川区 + 区司法局 is
    淄川区司法局, not 淄川区区司法局."""
    if not district or department.startswith(district):
        return department
    if department[:1] and district.endswith(department[:1]):
        return district + department[1:]
    return district + department


async def discovery(request: web.Request) -> web.Response:
    config = request.app[config_key]
    base = request.app[settings_key].public_url.rstrip("/") or str(request.url.origin())
    endpoint = O311Endpoint(
        specification=SPECIFICATION,
        url=base + PREFIX,
        changeset=CHANGESET,
        type="production",
        formats=["text/xml", "application/json"],
    )
    found = O311Discovery(
        changeset=CHANGESET,
        contact=agency_name(
            config.district_name, config.department_name(config.supervisor_department)
        ),
        key_service="API 密钥由系统管理员发放（feedback keys add 名称）。",
        endpoints=[endpoint],
    )
    return respond(request, "discovery", found)


async def services(request: web.Request) -> web.Response:
    config = request.app[config_key]
    listed = O311Services([service_json(config, c) for c in config.department_codes])
    return respond(request, "services", listed)


def _department(config: Config, code: str) -> str:
    if not config.has_department(code):
        raise NotFound(f"没有代码为“{code[:50]}”的服务。", field="service_code")
    return code


async def service_detail(request: web.Request) -> web.Response:
    config = request.app[config_key]
    code = _department(config, request.match_info["service_code"])
    return respond(request, "service_definition", service_definition(config, code))


def _attributes(form: MultiDictProxy[Any], config: Config) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, value in form.items():
        m = _ATTR_RE.match(name)
        if not m:
            continue
        code = m.group(1)
        if code not in ATTRIBUTES:
            raise ValidationError(f"未知的属性：attribute[{code[:50]}]", field=name)
        if not isinstance(value, str):
            raise ValidationError(f"属性 attribute[{code}] 应为文字。", field=name)
        found.setdefault(code, []).append(value)
    for code, values in found.items():
        if code != "issue_type" and len(values) > 1:
            raise ValidationError(f"属性 attribute[{code}] 只能有一个值。", field=code)
    raw = [part.strip() for v in found.get("issue_type", []) for part in v.split(",")]
    types = [t for t in raw if t]
    unknown = [t for t in types if t not in config.issue_type_codes]
    if unknown:
        raise ValidationError(f"未知的问题类型：{'、'.join(u[:30] for u in unknown)}",
                              field="attribute[issue_type]")  # fmt: skip
    found["issue_type"] = sorted(set(types), key=config.issue_type_codes.index)
    return found


def _field(form: MultiDictProxy[Any], name: str) -> str:
    value = form.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError(f"字段 {name} 应为文字。", field=name)
    return validation.clean_text(value, multiline=name == "description")


def _coordinates(form: MultiDictProxy[Any]) -> str | None:
    lat, lon = _field(form, "lat"), _field(form, "long")
    if not lat and not lon:
        return None
    try:
        la, lo = float(lat), float(lon)
    except ValueError:
        raise ValidationError("lat 和 long 应同时给出，且为数字。", field="lat") from None
    if not (math.isfinite(la) and math.isfinite(lo) and -90 <= la <= 90 and -180 <= lo <= 180):
        raise ValidationError("经纬度超出范围。", field="lat")
    return f"{la:.6f},{lo:.6f}"


def _media_urls(form: MultiDictProxy[Any]) -> list[str]:
    """Every ``media_url`` (FixMyStreet repeats the field for several photos): http(s) links."""
    urls = []
    for value in form.getall("media_url", []):
        if not isinstance(value, str):
            raise ValidationError("media_url 应为文字。", field="media_url")
        url = validation.clean_text(value).strip()
        if not url:
            continue
        if len(url) > URL_MAX or not re.match(r"^https?://[^\s/?#]+\S*$", url, re.IGNORECASE):
            raise ValidationError("media_url 应为 http(s) 链接。", field="media_url")
        urls.append(url)
    return list(dict.fromkeys(urls))


def _file_parts(form: MultiDictProxy[Any]) -> list[web.FileField]:
    """Every file part is an attachment. FixMyStreet's upload mode names them photo1, photo2…
    and sends them in no fixed order (a Perl hash): photoN go first, by N, the citizen's order;
    any other part follows as it came."""
    parts = [(name, v) for name, v in form.items() if isinstance(v, web.FileField)]

    def order(item: tuple[int, tuple[str, web.FileField]]) -> tuple[int, int]:
        position, (name, _) = item
        m = _PHOTO_RE.match(name)
        return (0, int(m.group(1))) if m else (1, position)

    return [part for _, (_, part) in sorted(enumerate(parts), key=order)]


def _open311_input(data: dict[str, Any], limits: InputLimits) -> validation.SubmitInput:
    try:
        return validation.submit_input(data, Channel.API, limits, validation.Open311Input)
    except ValidationError as exc:
        if exc.field == "text":  # the standard's name for it
            raise ValidationError(exc.message, field="description") from None
        raise


async def post_request(request: web.Request) -> web.Response:
    app = request.app
    config = app[config_key]
    if request.content_type == "application/json":
        # The standard posts forms; a JSON body would otherwise read as "api_key required".
        raise ValidationError(NOT_A_FORM, field="body")
    try:
        form = await request.post()
    except (HttpProcessingError, ValueError, UnicodeDecodeError):
        # A malformed multipart or form body is the sender's fault, not ours.
        raise ValidationError("请求内容格式不正确（应为表单编码）。", field="body") from None
    presented = form.get("api_key") or request.headers.get("X-Api-Key")
    if not isinstance(presented, str) or not presented:
        # Said plainly, in the standard's errors list: the generic 403 page text told a hotline
        # integrator nothing about what was missing.
        raise PermissionDenied(API_KEY_REQUIRED, field="api_key")
    try:
        key = await limits.api_key(request, presented)
    except PermissionDenied:
        raise PermissionDenied(API_KEY_INVALID, field="api_key") from None
    assert key is not None
    async with limits.submission(request, key) as claim:
        code = _field(form, "service_code")
        if not code:
            raise ValidationError("缺少 service_code。", field="service_code")
        if not config.has_department(code):
            raise ValidationError(f"没有代码为“{code[:50]}”的服务。", field="service_code")
        department = config.department(code)
        attrs = _attributes(form, config)
        description = _field(form, "description")
        limits.check_text(
            {"description": description}, app[service_key].input_limits, field="description"
        )
        media_urls = _media_urls(form)
        coords = _coordinates(form)
        address = _field(form, "address_string")
        place = "；".join(p for p in (address, coords and f"经纬度 {coords}") if p) or None
        # Clients with one name box (FixMyStreet) split what was typed at the first space into
        # first_name and the rest: put back in that order, "张 三" stays "张 三".
        name = " ".join(p for p in (_field(form, "first_name"), _field(form, "last_name")) if p)
        phone = _field(form, "phone")
        # Told to staff under the citizen's words; the classifier reads it too.
        notes = [f"来件渠道：{key.name}（Open311）"]
        if attrs["issue_type"]:
            names = "、".join(config.issue_type_name(t) for t in attrs["issue_type"])
            notes.append(f"来件方标注的问题类型：{names}")
        if address_id := _field(form, "address_id"):
            notes.append(f"地址编号：{address_id[:100]}")
        kind = (attrs.get("kind") or ["complaint"])[0].strip() or "complaint"
        data = {
            "title": (attrs.get("title") or [""])[0],
            "text": description,
            "kind": kind,
            "place": place,
            "occurred_at": (attrs.get("occurred_at") or [""])[0],
            "authority": (attrs.get("authority") or [""])[0].strip() or department.name,
            "anonymous": not (name or phone),
            "contact": {"name": name or None, "phone": phone or None},
        }
        # Open311's own rule (description at most 4,000 characters) is a declared variant of
        # the one input model; the notes for staff go under the citizen's words afterwards.
        input_limits = app[service_key].input_limits
        inp = _open311_input(data, input_limits)
        files = _file_parts(form)
        uploads = await limits.read_uploads(files, input_limits)
        # The links fill what room the file parts leave; what is not kept is said, never lost.
        room = max(0, input_limits.max_attachments - len(uploads))
        allowed: list[media_url.Network] = app[media_networks_key]
        fetched = await media_url.fetch_all(
            media_urls[:room], input_limits, seconds=app[settings_key].media_url_seconds,
            allowed=allowed,
        )  # fmt: skip
        notes += media_url.describe(fetched)
        if (over := len(media_urls) - room) > 0:
            notes.append(f"另有 {over} 个图片链接超出附件数量上限"
                         f"（{input_limits.max_attachments} 个），未下载")  # fmt: skip
        uploads += [f.upload for f in fetched if f.upload is not None]
        inp.text = validation.with_notes(inp.text, notes, input_limits)
        stored = await limits.store_uploads(request, uploads)
        result = await app[service_key].submit(
            inp, channel=Channel.API, attachments=stored, api_key=key, rate=claim
        )
    notice = (
        f"已受理，受理编号 {result.tracking_number}。请将查询码告知诉求人，"
        "凭受理编号和查询码可查询办理进度、评价答复。"
    )
    if missed := len(media_urls) - sum(f.upload is not None for f in fetched):
        notice += f"有 {missed} 个图片链接未能下载，原因已在诉求中注明。"
    posted = O311PostedRequest(
        service_request_id=result.tracking_number,
        service_notice=notice,
        account_id=None,
        follow_up_code=result.follow_up_code,
    )
    return respond(request, "service_requests", O311Posted([posted]))


def _date(config: Config, value: str, name: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValidationError(f"{name} 应为 ISO 8601 时间，如 2026-03-01T00:00:00+08:00。",
                              field=name) from None  # fmt: skip
    if not DATE_YEARS[0] <= parsed.year <= DATE_YEARS[1]:
        # 0001-01-01 or 9999-12-31 parse, but a day's arithmetic or the conversion to UTC
        # around them overflows (a 500): no report was ever filed then.
        raise ValidationError(
            f"{name} 应在 {DATE_YEARS[0]} 年至 {DATE_YEARS[1]} 年之间。", field=name
        )
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=ZoneInfo(config.timezone))


async def list_requests(request: web.Request) -> web.Response:
    app = request.app
    config, service = app[config_key], app[service_key]
    q = request.query
    reports: list[Report] = []
    if ids := q.get("service_request_id", "").strip():
        # Named requests: every other filter is ignored, as the standard says.
        wanted = [secrets.normalise_tracking_number(i) for i in ids.split(",") if i.strip()]
        if len(wanted) > IDS_MAX:
            raise ValidationError(f"一次最多查询 {IDS_MAX} 个编号。", field="service_request_id")
        for tn in dict.fromkeys(wanted):
            if r := await service.report(tn):
                reports.append(r)
        found = O311Requests([await _request_json(request, r) for r in reports])
        return respond(request, "service_requests", found)
    # With the client's own key: the requests it handed in, whichever bureau took them.
    key = await limits.api_key(request, q.get("api_key") or request.headers.get("X-Api-Key"))
    departments = None
    if code := q.get("service_code", "").strip():
        # The standard allows a comma-separated list of codes.
        departments = [_department(config, c.strip()) for c in code.split(",") if c.strip()]
    start = _date(config, q["start_date"], "start_date") if q.get("start_date") else None
    end = _date(config, q["end_date"], "end_date") if q.get("end_date") else None
    if start is None and end is None:
        start = app[service_key].clock() - timedelta(days=LIST_DAYS)
    if start and end and start > end:
        raise ValidationError("start_date 不能晚于 end_date。", field="start_date")
    statuses = None
    if status := q.get("status", "").strip():
        wanted_status = {s.strip() for s in status.split(",")}
        if not wanted_status <= {"open", "closed"}:
            raise ValidationError("status 只能是 open 或 closed。", field="status")
        if wanted_status == {"closed"}:
            statuses = workflow.in_order(workflow.CLOSED)
        elif wanted_status == {"open"}:
            statuses = workflow.in_order(workflow.OPEN)
    reports = await service.find_reports(
        departments=departments, created_from=start, created_to=end, statuses=statuses,
        api_key=key, limit=LIST_MAX,
    )  # fmt: skip
    listed = O311Requests([await _request_json(request, r) for r in reports])
    return respond(request, "service_requests", listed)


async def get_request(request: web.Request) -> web.Response:
    service = request.app[service_key]
    tn = secrets.normalise_tracking_number(request.match_info["service_request_id"])
    report = await service.report(tn)
    if report is None:
        raise NotFound(f"没有编号为“{tn[:40]}”的诉求。", field="service_request_id")
    return respond(
        request, "service_requests", O311Requests([await _request_json(request, report)])
    )


async def _request_json(request: web.Request, report: Report) -> O311Request:
    """A request as every listing shows it: the same status_notes by id or in a list."""
    config, service = request.app[config_key], request.app[service_key]
    public = await service.public_history(report)
    latest = None
    if public:
        e = public[-1]
        latest = f"{Action(e.action).label}（{_local(config, e.at).isoformat(timespec='seconds')}）"
    return request_json(config, report, latest)


async def list_updates(request: web.Request) -> web.Response:
    """mySociety's extension ``servicerequestupdates``, which FixMyStreet reads: the public
    events of every report between start_date and end_date (default: the last day)."""
    app = request.app
    config, service = app[config_key], app[service_key]
    q = request.query
    end = _date(config, q["end_date"], "end_date") if q.get("end_date") else service.clock()
    start = (_date(config, q["start_date"], "start_date") if q.get("start_date")
             else end - timedelta(days=1))  # fmt: skip
    if start > end:
        raise ValidationError("start_date 不能晚于 end_date。", field="start_date")
    if end - start > timedelta(days=LIST_DAYS):
        raise ValidationError(f"一次最多查询 {LIST_DAYS} 天的进展。", field="start_date")
    updates = await service.public_updates(start, end, LIST_MAX)
    out: list[O311Update] = []
    for u in updates:
        state = u.status or u.report.status
        status: Literal["open", "closed"] = "closed" if state in workflow.CLOSED else "open"
        label = u.item.label + (f"：{u.item.note}" if u.item.note else "")
        out.append(
            O311Update(
                update_id=f"{u.report.tracking_number}-{u.seq}",
                service_request_id=u.report.tracking_number,
                status=status,
                updated_datetime=_local(config, u.item.at),
                description=label,
                media_url="",
            )
        )
    return respond(request, "service_request_updates", O311Updates(out))


# -- wiring ---------------------------------------------------------------------------------

# (method, path without the format suffix, handler): every one answers .json and .xml.
ROUTES: list[tuple[str, str, Handler]] = [
    ("GET", "/discovery", discovery),
    ("GET", "/services", services),
    ("GET", "/services/{service_code}", service_detail),
    ("GET", "/requests", list_requests),
    ("POST", "/requests", post_request),
    ("GET", "/requests/{service_request_id}", get_request),
    ("GET", "/servicerequestupdates", list_updates),
]


async def _exempt_from_csrf(app: web.Application) -> None:
    # Machine clients send no cookies: the web side's CSRF check must let them through.
    key = getattr(keys, "csrf_exempt_key", None)
    exempt = app.get(key) if key is not None else None
    if exempt is not None and "/open311/" not in exempt:
        exempt.append("/open311/")


def setup(app: web.Application) -> None:
    """Mount Open311 on ``app``: routes, the standard's error format, the CSRF exemption."""
    for method, path, handler in ROUTES:
        for fmt in FORMATS:
            app.router.add_route(method, f"{PREFIX}{path}.{fmt}", handler)
    app.middlewares.append(open311_errors)
    app[media_networks_key] = media_url.networks(app[settings_key].media_url_allow_networks)
    app.on_startup.append(_exempt_from_csrf)
