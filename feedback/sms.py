"""SMS notices through a gateway: the outbox's SMS sender.

`SmsGateway` is the interface (one message: a number, a template id, its parameters and the
rendered text); `HttpGateway` its one implementation, configured for the usual Chinese SMS
APIs, which take a template id registered with them plus the template's parameters:

- ``sms_url`` and ``sms_method`` (POST or GET), ``sms_format`` (json or form);
- ``sms_params``: the request's fields as a JSON object whose string values may name
  ``{phone}``, ``{template_id}``, ``{params}`` (the parameters as a JSON object),
  ``{text}`` (the rendered message, for gateways that take content), ``{timestamp}``,
  ``{nonce}``; other values are sent as they are (account id, signature name);
- ``sms_sign``: none, ``hmac-sha256`` or ``md5`` over the fields sorted by name as
  ``k=v&k=v`` (md5: with ``&key=<sms_sign_key>`` appended), hex, put in ``sms_sign_param``;
- ``sms_ok``: ``field=value`` the JSON answer must hold for success (``Code=OK``,
  ``code=0``); without it, any 2xx answer is success.

``sms_api`` picks a vendor's request shape and signing instead of the generic one above
(the same gateway, template ids and parameters; only the request differs):

- ``aliyun``: Aliyun SMS (dysmsapi) SendSms, RPC style: the fields as a form POST, signed with
  the POP signature (HMAC-SHA1 of ``POST&%2F&`` + the percent-encoded, name-sorted query,
  key ``<AccessKeySecret>&``, base64), ``TemplateParam`` the parameters as a JSON object;
- ``tencent``: Tencent Cloud SMS SendSms (API 3.0, 2021-01-11): a JSON POST signed with
  TC3-HMAC-SHA256 (the ``Authorization`` header over the canonical request, a key derived
  from the date and the service), ``TemplateParamSet`` the parameters in the order the
  template names them.

Both take the account's key id (``sms_key_id``) and secret (``sms_sign_key``), the signature
name from ``sms_signature`` (without 【】), ``sms_region`` and, for Tencent, the SDK app id
(``sms_app_id``); ``sms_url`` defaults to the vendor's endpoint.

Templates, one per public event, are data (feedback/data/sms_templates.toml); the ids the
provider gave them are a setting (``sms_template_ids``: each template's name there, FB_SUBMIT,
…, to the provider's id), since ids are per account. The sender keeps
a per-recipient daily cap (a notice over it waits for the next day, counted in the district's
time zone) and tells the dispatcher which errors to retry: a gateway down, slow or answering
5xx/429 is retried with back-off, then dead-lettered; a 4xx refusal is given up at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import re
import tomllib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

import aiohttp

from feedback import short_links
from feedback.dispatch import Deferred, SendError
from feedback.notifications import SMS, OutboxMessage
from feedback.settings import Settings

if TYPE_CHECKING:
    from feedback.service import FeedbackService

log = logging.getLogger(__name__)

SIGNING = ("none", "hmac-sha256", "md5")
APIS = ("generic", "aliyun", "tencent")
ALIYUN_URL = "https://dysmsapi.aliyuncs.com/"
ALIYUN_VERSION = "2017-05-25"
TENCENT_URL = "https://sms.tencentcloudapi.com/"
TENCENT_VERSION = "2021-01-11"
TENCENT_JSON = "application/json; charset=utf-8"
DEFAULT_REGION = {"aliyun": "cn-hangzhou", "tencent": "ap-guangzhou"}
# Vendors' error codes worth another try (limits, the vendor in trouble); others are final.
ALIYUN_RETRY = ("Throttling", "ServiceUnavailable", "InternalError", "isp.")
TENCENT_PERMANENT = ("AuthFailure", "InvalidParameter", "MissingParameter",
                     "UnauthorizedOperation", "UnsupportedOperation")  # fmt: skip
SMS_MAX = 70  # characters in one Chinese SMS, the signature included
UNSUBSCRIBE_WORDS = frozenset({"退订", "TD", "T", "N", "取消", "0000"})


@dataclass(frozen=True)
class Template:
    key: str
    id: str
    text: str
    # The template to use when this one's ${url} does not fit 70 characters (a long
    # public_url) or there is no public_url to link to.
    fallback: str = ""

    def render(self, params: Mapping[str, str]) -> str:
        out = self.text
        for name, value in params.items():
            out = out.replace("${" + name + "}", value)
        return out

    @property
    def names(self) -> list[str]:
        """The parameters in the order the text names them (Tencent's {1}, {2}, …)."""
        return list(dict.fromkeys(re.findall(r"\$\{(\w+)\}", self.text)))


@cache
def templates() -> dict[str, Template]:
    raw = tomllib.loads(
        resources.files("feedback").joinpath("data", "sms_templates.toml").read_text("utf-8")
    )
    return {k: Template(k, str(v["id"]), str(v["text"]), str(v.get("fallback", "")))
            for k, v in raw.items()}  # fmt: skip


def template_key(kind: str, payload: Mapping[str, Any], with_code: bool) -> str:
    """Which template words this notice: the event, and its outcome where it has several."""
    status = payload.get("status")
    match kind:
        case "submit":
            return "submit.code" if with_code else "submit"
        case "send_back":
            return "send_back.triage" if status == "triage" else "send_back.routed"
        case "decide_extension":
            return "decide_extension.approved" if payload.get("approved") else (
                "decide_extension.refused")  # fmt: skip
        case "rate":
            return "rate.reopened" if status == "reopened" else "rate.closed"
        case "decide_review":
            return "decide_review.reopened" if status == "reopened" else "decide_review.closed"
    return kind


def params_of(message: OutboxMessage) -> dict[str, str]:
    p = message.payload
    params = {"tn": message.tracking_number, "dept": str(p.get("department") or "承办单位")}
    if p.get("days") is not None:
        params["days"] = str(p["days"])
    if message.code:
        params["code"] = message.code
    return params


@dataclass(frozen=True)
class SmsSettings:
    url: str
    method: str
    format: str
    params: dict[str, Any]
    sign: str
    sign_key: str
    sign_param: str
    ok: tuple[str, str] | None
    signature: str
    daily_cap: int
    timeout: float
    timezone: str
    api: str = "generic"
    key_id: str = ""  # Aliyun's AccessKeyId, Tencent's SecretId
    app_id: str = ""  # Tencent's SmsSdkAppId
    region: str = ""
    link_base: str = ""  # public_url: links in SMS start here (none without it)
    # sms_template_ids: a template's name in sms_templates.toml -> the provider's id for it.
    template_ids: dict[str, str] = field(default_factory=dict)

    def registered(self, template: Template) -> Template:
        """The template as the provider knows it: with the id it gave, where one is set."""
        return replace(template, id=self.template_ids.get(template.id, template.id))

    @property
    def sign_name(self) -> str:
        """The signature's name as the vendors register it: 【淄川区司法局】 → 淄川区司法局."""
        return self.signature.strip().strip("【】[]").strip()

    @classmethod
    def of(cls, settings: Settings, timezone: str) -> SmsSettings | None:
        """The gateway's settings, or None when no gateway is set (SMS notices then wait)."""
        found = cls._of(settings, timezone)
        ids = template_ids_of(settings.sms_template_ids)
        return replace(found, template_ids=ids) if found is not None else None

    @classmethod
    def _of(cls, settings: Settings, timezone: str) -> SmsSettings | None:
        api = settings.sms_api
        if api not in APIS:
            raise ValueError(f"sms_api must be one of {', '.join(APIS)}")
        if api == "generic":
            return cls._generic(settings, timezone)
        if not settings.sms_key_id or not settings.sms_sign_key:
            raise ValueError(f"sms_api={api} needs sms_key_id and sms_sign_key (the account's "
                             "key id and secret)")  # fmt: skip
        if api == "tencent" and not settings.sms_app_id:
            raise ValueError("sms_api=tencent needs sms_app_id (the SmsSdkAppId)")
        if not settings.sms_signature.strip().strip("【】[]").strip():
            raise ValueError("sms_signature (the registered signature name) is required")
        url = settings.sms_url or (ALIYUN_URL if api == "aliyun" else TENCENT_URL)
        return cls(url, "POST", "form" if api == "aliyun" else "json", {}, api,
                   settings.sms_sign_key, "", None, settings.sms_signature,
                   settings.sms_daily_cap, float(settings.sms_timeout), timezone, api=api,
                   key_id=settings.sms_key_id, app_id=settings.sms_app_id or "",
                   region=settings.sms_region or DEFAULT_REGION[api],
                   link_base=settings.public_url.rstrip("/"))  # fmt: skip

    @classmethod
    def _generic(cls, settings: Settings, timezone: str) -> SmsSettings | None:
        if not settings.sms_url:
            return None
        try:
            params = json.loads(settings.sms_params)
        except ValueError as exc:
            raise ValueError(f"sms_params is not a JSON object: {exc}") from exc
        if not isinstance(params, dict):
            raise ValueError("sms_params must be a JSON object")
        if settings.sms_sign not in SIGNING:
            raise ValueError(f"sms_sign must be one of {', '.join(SIGNING)}")
        if settings.sms_sign != "none" and not settings.sms_sign_key:
            raise ValueError("sms_sign_key is required to sign SMS requests")
        method = settings.sms_method.upper()
        if method not in ("POST", "GET") or settings.sms_format not in ("json", "form"):
            raise ValueError("sms_method is POST or GET; sms_format is json or form")
        ok = None
        if settings.sms_ok:
            name, sep, value = settings.sms_ok.partition("=")
            if not sep:
                raise ValueError("sms_ok is field=value, e.g. Code=OK")
            ok = (name.strip(), value.strip())
        return cls(settings.sms_url, method, settings.sms_format, params, settings.sms_sign,
                   settings.sms_sign_key or "", settings.sms_sign_param, ok,
                   settings.sms_signature, settings.sms_daily_cap,
                   float(settings.sms_timeout), timezone,
                   link_base=settings.public_url.rstrip("/"))  # fmt: skip


def template_ids_of(raw: str) -> dict[str, str]:
    """The setting sms_template_ids: a JSON object from template names (the ``id`` of each
    template in sms_templates.toml) to the provider's ids; an unknown name is refused, so a
    typo does not silently send the placeholder."""
    if not raw.strip():
        return {}
    try:
        found = json.loads(raw)
    except ValueError as exc:
        raise ValueError(f"sms_template_ids is not a JSON object: {exc}") from exc
    if not isinstance(found, dict):
        raise ValueError('sms_template_ids must be a JSON object, e.g. {"FB_SUBMIT": "SMS_1"}')
    names = template_names()
    unknown = sorted(k for k in found if k not in names)
    if unknown:
        raise ValueError(f"sms_template_ids names unknown templates: {', '.join(unknown)} "
                         f"(known: {', '.join(sorted(names))})")  # fmt: skip
    ids: dict[str, str] = {}
    for name, value in found.items():
        if not isinstance(value, str | int) or isinstance(value, bool) or not str(value).strip():
            raise ValueError(f"sms_template_ids: the id of {name} must be a non-empty string")
        ids[name] = str(value).strip()
    return ids


def template_names() -> dict[str, list[Template]]:
    """Each template name (what the provider registers once) and the templates that use it."""
    names: dict[str, list[Template]] = {}
    for t in templates().values():
        names.setdefault(t.id, []).append(t)
    return names


def signature(fields: Mapping[str, Any], how: str, key: str) -> str:
    """The gateway's signature over the fields, sorted by name, as ``k=v&k=v``."""
    base = "&".join(f"{k}={fields[k]}" for k in sorted(fields))
    if how == "hmac-sha256":
        return hmac.new(key.encode(), base.encode(), hashlib.sha256).hexdigest()
    if how == "md5":
        return hashlib.md5(f"{base}&key={key}".encode()).hexdigest()
    raise ValueError(how)


# -- Aliyun: the RPC (POP) signature ----------------------------------------------------------


def percent_encode(value: str) -> str:
    """RFC 3986 as Aliyun's RPC signature wants it: UTF-8, only A-Z a-z 0-9 - _ . ~ left as
    they are, space as %20 (not +), upper-case hex."""
    return quote(value, safe="-_.~")


def aliyun_string_to_sign(method: str, fields: Mapping[str, str]) -> str:
    """``METHOD&%2F&`` + the percent-encoded ``k=v&k=v`` of every field but Signature, sorted
    by name, itself percent-encoded (so its = and & become %3D and %26)."""
    query = "&".join(f"{percent_encode(k)}={percent_encode(str(fields[k]))}"
                     for k in sorted(fields) if k != "Signature")  # fmt: skip
    return f"{method.upper()}&{percent_encode('/')}&{percent_encode(query)}"


def aliyun_signature(method: str, fields: Mapping[str, str], secret: str) -> str:
    """Base64 of HMAC-SHA1 over the string to sign, keyed with ``<AccessKeySecret>&``."""
    digest = hmac.new(f"{secret}&".encode(), aliyun_string_to_sign(method, fields).encode(),
                      hashlib.sha1).digest()  # fmt: skip
    return base64.b64encode(digest).decode("ascii")


# -- Tencent Cloud: TC3-HMAC-SHA256 ------------------------------------------------------------


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac256(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def tc3_canonical_request(method: str, headers: Mapping[str, str], signed: list[str],
                          payload: bytes, query: str = "") -> str:  # fmt: skip
    """HTTPRequestMethod, CanonicalURI (/), CanonicalQueryString, CanonicalHeaders (the
    signed ones, lower-case name:trimmed value, sorted), SignedHeaders, and the payload's
    SHA-256, one a line."""
    lower = {k.lower(): v.strip() for k, v in headers.items()}
    names = sorted(h.lower() for h in signed)
    canonical_headers = "".join(f"{n}:{lower[n].lower()}\n" for n in names)
    return "\n".join([method.upper(), "/", query, canonical_headers, ";".join(names),
                      _sha256_hex(payload)])  # fmt: skip


def tc3_authorization(secret_id: str, secret_key: str, service: str, timestamp: int,
                      canonical_request: str, signed: list[str]) -> str:  # fmt: skip
    """The Authorization header: the string to sign (algorithm, timestamp, the scope
    date/service/tc3_request with the UTC date of the timestamp, the canonical request's
    SHA-256) signed with the key derived from "TC3"+secret, the date, the service."""
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    scope = f"{date}/{service}/tc3_request"
    to_sign = "\n".join(["TC3-HMAC-SHA256", str(timestamp), scope,
                         _sha256_hex(canonical_request.encode())])  # fmt: skip
    key = _hmac256(_hmac256(_hmac256(f"TC3{secret_key}".encode(), date), service), "tc3_request")
    sig = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    names = ";".join(sorted(h.lower() for h in signed))
    return (f"TC3-HMAC-SHA256 Credential={secret_id}/{scope}, SignedHeaders={names}, "
            f"Signature={sig}")  # fmt: skip


@dataclass
class Outgoing:
    """One HTTP request to the gateway, as it will be sent."""

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] | None = None
    form: dict[str, str] | None = None
    json: dict[str, Any] | None = None
    body: bytes | None = None  # sent as they are (what was signed)

    def kwargs(self) -> dict[str, Any]:
        kw: dict[str, Any] = {"headers": self.headers}
        if self.query is not None:
            kw["params"] = self.query
        if self.form is not None:
            kw["data"] = self.form
        elif self.json is not None:
            kw["json"] = self.json
        elif self.body is not None:
            kw["data"] = self.body
        return kw


class SmsGateway(Protocol):
    async def send(self, phone: str, template: Template, params: Mapping[str, str],
                   text: str) -> None:  # fmt: skip
        """Hand one message to the gateway, or raise SendError."""
        ...


class HttpGateway:
    """The common Chinese SMS HTTP API: template id + parameters, optionally signed; or
    Aliyun's or Tencent's own request and signature (``sms_api``)."""

    def __init__(self, conf: SmsSettings, clock: Any):
        self.conf = conf
        self.clock = clock

    def request_fields(self, phone: str, template: Template, params: Mapping[str, str],
                       text: str) -> dict[str, Any]:  # fmt: skip
        values = {
            "{phone}": phone,
            "{template_id}": template.id,
            "{params}": json.dumps(dict(params), ensure_ascii=False, sort_keys=True),
            "{text}": text,
            "{timestamp}": str(int(self.clock().timestamp())),
            "{nonce}": os.urandom(8).hex(),
        }
        fields: dict[str, Any] = {}
        for name, value in self.conf.params.items():
            if isinstance(value, str):
                for mark, real in values.items():
                    value = value.replace(mark, real)
            fields[name] = value
        if self.conf.sign != "none":
            fields[self.conf.sign_param] = signature(fields, self.conf.sign, self.conf.sign_key)
        return fields

    def request(self, phone: str, template: Template, params: Mapping[str, str],
                text: str) -> Outgoing:  # fmt: skip
        """The request that sends one message, signed."""
        c = self.conf
        if c.api == "aliyun":
            return self._aliyun(phone, template, params)
        if c.api == "tencent":
            return self._tencent(phone, template, params)
        fields = self.request_fields(phone, template, params, text)
        if c.method == "GET":
            return Outgoing("GET", c.url, query={k: str(v) for k, v in fields.items()})
        if c.format == "json":
            return Outgoing("POST", c.url, json=fields)
        return Outgoing("POST", c.url, form={k: str(v) for k, v in fields.items()})

    def _aliyun(self, phone: str, template: Template, params: Mapping[str, str]) -> Outgoing:
        c = self.conf
        fields = {
            "AccessKeyId": c.key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "PhoneNumbers": phone,
            "RegionId": c.region,
            "SignName": c.sign_name,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": str(uuid.uuid4()),
            "SignatureVersion": "1.0",
            "TemplateCode": template.id,
            "TemplateParam": json.dumps(dict(params), ensure_ascii=False, sort_keys=True),
            "Timestamp": self.clock().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": ALIYUN_VERSION,
        }
        fields["Signature"] = aliyun_signature("POST", fields, c.sign_key)
        return Outgoing("POST", c.url, form=fields)

    def _tencent(self, phone: str, template: Template, params: Mapping[str, str]) -> Outgoing:
        c = self.conf
        body = {
            "PhoneNumberSet": [phone if phone.startswith("+") else f"+86{phone}"],
            "SmsSdkAppId": c.app_id,
            "SignName": c.sign_name,
            "TemplateId": template.id,
            "TemplateParamSet": [params.get(name, "") for name in template.names],
        }
        payload = json.dumps(body, ensure_ascii=False).encode()
        timestamp = int(self.clock().timestamp())
        headers = {
            "Content-Type": TENCENT_JSON,
            "Host": urlsplit(c.url).netloc,
            "X-TC-Action": "SendSms",
            "X-TC-Version": TENCENT_VERSION,
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Region": c.region,
        }
        signed = ["content-type", "host"]
        canonical = tc3_canonical_request("POST", headers, signed, payload)
        headers["Authorization"] = tc3_authorization(c.key_id, c.sign_key, "sms", timestamp,
                                                     canonical, signed)  # fmt: skip
        return Outgoing("POST", c.url, headers=headers, body=payload)

    async def send(self, phone: str, template: Template, params: Mapping[str, str],
                   text: str) -> None:  # fmt: skip
        out = self.request(phone, template, params, text)
        try:
            timeout = aiohttp.ClientTimeout(total=self.conf.timeout)
            async with aiohttp.ClientSession(timeout=timeout) as session, session.request(
                out.method, out.url, **out.kwargs()
            ) as resp:  # fmt: skip
                answer = await resp.text()
                status = resp.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise SendError(f"SMS gateway unreachable: {type(exc).__name__}: {exc}") from exc
        if status == 429 or status >= 500:
            raise SendError(f"SMS gateway HTTP {status}: {answer[:300]}")
        if status >= 400:
            raise SendError(f"SMS gateway refused (HTTP {status}): {answer[:300]}",
                            permanent=True)  # fmt: skip
        self.check(answer)

    def check(self, answer: str) -> None:
        """A 2xx answer that still says no (the vendors answer 200 with an error code): a
        refusal that cannot pass by waiting (a bad key, number, template) is given up at once,
        the rest (frequency limits, the vendor in trouble) retried."""
        c = self.conf
        try:
            data = json.loads(answer)
        except ValueError:
            data = None
        if c.api == "aliyun":
            code = str(data.get("Code")) if isinstance(data, dict) else ""
            if code != "OK":
                raise SendError(f"Aliyun SMS answered {answer[:300]}",
                                permanent=bool(code) and not code.startswith(ALIYUN_RETRY)
                                and "LIMIT_CONTROL" not in code)  # fmt: skip
            return
        if c.api == "tencent":
            got = data.get("Response") if isinstance(data, dict) else None
            error = got.get("Error") if isinstance(got, dict) else None
            if isinstance(error, dict):
                code = str(error.get("Code", ""))
                raise SendError(f"Tencent SMS answered {answer[:300]}",
                                permanent=code.startswith(TENCENT_PERMANENT))  # fmt: skip
            statuses = got.get("SendStatusSet") if isinstance(got, dict) else None
            first = statuses[0] if isinstance(statuses, list) and statuses else {}
            if not isinstance(first, dict) or first.get("Code") != "Ok":
                raise SendError(f"Tencent SMS answered {answer[:300]}")
            return
        if c.ok is not None:
            got = data.get(c.ok[0]) if isinstance(data, dict) else None
            if str(got) != c.ok[1]:
                raise SendError(f"SMS gateway answered {answer[:300]}")


class SmsSender:
    channel = SMS

    def __init__(self, service: FeedbackService, conf: SmsSettings,
                 gateway: SmsGateway | None = None):  # fmt: skip
        self.service = service
        self.conf = conf
        self.gateway = gateway or HttpGateway(conf, service.clock)
        self.zone = ZoneInfo(conf.timezone)
        for t in templates().values():
            if "${url}" in t.text and not (conf.link_base and link_fits(t, conf, {})):
                log.warning("SMS %s goes without its link (%s): no public_url, or it is too "
                            "long for 70 characters", t.key, t.fallback)  # fmt: skip
        unset = sorted(set(template_names()) - set(conf.template_ids))
        if conf.api != "generic" and unset:
            log.warning("sms_template_ids gives no %s id for %s: the provider will refuse "
                        "those SMS (dead letters)", conf.api, ", ".join(unset))  # fmt: skip

    def _day_start(self) -> tuple[datetime, datetime]:
        local = self.service.clock().astimezone(self.zone)
        start = datetime.combine(local.date(), time(0), tzinfo=self.zone)
        return start, start + timedelta(days=1)

    async def send(self, message: OutboxMessage) -> None:
        found = templates().get(template_key(message.kind, message.payload, bool(message.code)))
        if found is None:
            return  # no SMS for this event: done
        if self.conf.daily_cap > 0:
            start, tomorrow = self._day_start()
            sent = await self.service.notices.sent_since(SMS, message.recipient, start)
            if sent >= self.conf.daily_cap:
                raise Deferred(tomorrow, f"每日上限 {self.conf.daily_cap} 条已满，次日发送")
        params = params_of(message)
        if "${url}" in found.text:
            found, params = await self._with_link(message, found, params)
        text = self.conf.signature + found.render(params)
        await self.gateway.send(message.recipient, self.conf.registered(found), params, text)

    async def _with_link(self, message: OutboxMessage, found: Template,
                         params: dict[str, str]) -> tuple[Template, dict[str, str]]:  # fmt: skip
        """The template's ${url}: a short link to the status page (and rating), when it fits
        70 characters with the configured public_url; else the template's fallback."""
        fits = bool(self.conf.link_base) and link_fits(found, self.conf, params)
        if not fits:
            return templates()[found.fallback], params
        path = await self.service.short_status_link(message.report_id, message.id,
                                                    message.tracking_number)  # fmt: skip
        return found, {**params, "url": self.conf.link_base + path}


def link_fits(template: Template, conf: SmsSettings, params: Mapping[str, str]) -> bool:
    """Whether the template with a short link under ``conf.link_base`` fits one SMS."""
    url = conf.link_base + short_links.PATH + "x" * short_links.LENGTH
    return len(conf.signature + template.render({**params, "url": url})) <= SMS_MAX


def is_unsubscribe(text: str) -> bool:
    """An SMS reply asking to stop (退订, TD, …), as gateways forward them."""
    return (text or "").strip().strip("。.!！").upper() in UNSUBSCRIBE_WORDS
