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

Templates, one per public event, are data (feedback/data/sms_templates.toml). The sender keeps
a per-recipient daily cap (a notice over it waits for the next day, counted in the district's
time zone) and tells the dispatcher which errors to retry: a gateway down, slow or answering
5xx/429 is retried with back-off, then dead-lettered; a 4xx refusal is given up at once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

import aiohttp

from feedback.dispatch import Deferred, SendError
from feedback.notifications import SMS, OutboxMessage
from feedback.settings import Settings

if TYPE_CHECKING:
    from feedback.service import FeedbackService

log = logging.getLogger(__name__)

SIGNING = ("none", "hmac-sha256", "md5")
SMS_MAX = 70  # characters in one Chinese SMS, the signature included
UNSUBSCRIBE_WORDS = frozenset({"退订", "TD", "T", "N", "取消", "0000"})


@dataclass(frozen=True)
class Template:
    key: str
    id: str
    text: str

    def render(self, params: Mapping[str, str]) -> str:
        out = self.text
        for name, value in params.items():
            out = out.replace("${" + name + "}", value)
        return out


@cache
def templates() -> dict[str, Template]:
    raw = tomllib.loads(
        resources.files("feedback").joinpath("data", "sms_templates.toml").read_text("utf-8")
    )
    return {k: Template(k, str(v["id"]), str(v["text"])) for k, v in raw.items()}


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

    @classmethod
    def of(cls, settings: Settings, timezone: str) -> SmsSettings | None:
        """The gateway's settings, or None when no gateway is set (SMS notices then wait)."""
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
                   float(settings.sms_timeout), timezone)  # fmt: skip


def signature(fields: Mapping[str, Any], how: str, key: str) -> str:
    """The gateway's signature over the fields, sorted by name, as ``k=v&k=v``."""
    base = "&".join(f"{k}={fields[k]}" for k in sorted(fields))
    if how == "hmac-sha256":
        return hmac.new(key.encode(), base.encode(), hashlib.sha256).hexdigest()
    if how == "md5":
        return hashlib.md5(f"{base}&key={key}".encode()).hexdigest()
    raise ValueError(how)


class SmsGateway(Protocol):
    async def send(self, phone: str, template: Template, params: Mapping[str, str],
                   text: str) -> None:  # fmt: skip
        """Hand one message to the gateway, or raise SendError."""
        ...


class HttpGateway:
    """The common Chinese SMS HTTP API: template id + parameters, optionally signed."""

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

    async def send(self, phone: str, template: Template, params: Mapping[str, str],
                   text: str) -> None:  # fmt: skip
        fields = self.request_fields(phone, template, params, text)
        c = self.conf
        kw: dict[str, Any] = {}
        if c.method == "GET":
            kw["params"] = {k: str(v) for k, v in fields.items()}
        elif c.format == "json":
            kw["json"] = fields
        else:
            kw["data"] = {k: str(v) for k, v in fields.items()}
        try:
            timeout = aiohttp.ClientTimeout(total=c.timeout)
            async with aiohttp.ClientSession(timeout=timeout) as session, session.request(
                c.method, c.url, **kw
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
        if c.ok is not None:
            try:
                got = json.loads(answer).get(c.ok[0])
            except (ValueError, AttributeError):
                got = None
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
        text = self.conf.signature + found.render(params)
        await self.gateway.send(message.recipient, found, params, text)


def is_unsubscribe(text: str) -> bool:
    """An SMS reply asking to stop (退订, TD, …), as gateways forward them."""
    return (text or "").strip().strip("。.!！").upper() in UNSUBSCRIBE_WORDS
