"""Limits on what the public internet may send: rates, sizes, file types, API keys.

Handlers (the JSON API, Open311, and the citizen web forms) use these helpers:

    key = await limits.api_key(request, request.headers.get("X-Api-Key"))
    async with limits.submission(request, key) as claim:
        result = await service.submit(..., rate=claim)

    async with limits.code_attempt(request, tracking_number):
        view = await service.status(tracking_number, code)   # also rate(), request_review()

A submission counts against the client address (``submit_per_hour``), or against the key's
own per-minute limit when a valid API key is given; a submission refused for bad input gives
its slot back, so a citizen fixing a typo is not punished. A follow-up code attempt counts
only when the code is wrong (NotFound); past the limits each further try from that address
waits twice as long (feedback.ratelimit.code_rules), and is told how long, while other
addresses (the citizen's own) are not slowed. Over a limit the request gets 429 with a
Chinese message and Retry-After.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from feedback import attachments, ratelimit, secrets
from feedback.apikeys import ApiKey
from feedback.errors import NotFound, PermissionDenied, ValidationError
from feedback.models import Attachment
from feedback.ratelimit import Claim, RateLimiter, Rule
from feedback.settings import InputLimits
from web.keys import service_key, settings_key

KEY_WINDOW = timedelta(minutes=1)
BAD_KEY = "API 密钥无效或已被吊销。"


def client_address(request: web.Request) -> str:
    """The client's address; X-Forwarded-For is believed only from a trusted proxy."""
    remote = request.remote or "unknown"
    trusted = {a.strip() for a in request.app[settings_key].trusted_proxies.split(",")}
    trusted.discard("")
    if remote in trusted:
        hops = [
            h.strip()
            for value in request.headers.getall("X-Forwarded-For", [])
            for h in value.split(",")
        ]
        # The rightmost address not added by our own proxies is the one the proxy saw.
        for hop in reversed(hops):
            if hop and hop not in trusted:
                return hop[:64]
    return remote


def _now(request: web.Request) -> datetime:
    return request.app[service_key].clock()


def limiter(request: web.Request) -> RateLimiter:
    return request.app[service_key].limits


async def api_key(request: web.Request, presented: str | None) -> ApiKey | None:
    """The caller's key; None when none was presented; 403 when a bad one was."""
    if not presented:
        return None
    key = await request.app[service_key].api_keys.authenticate(presented)
    if key is None:
        raise PermissionDenied(BAD_KEY, field="api_key")
    return key


def submission_rules(request: web.Request, key: ApiKey | None) -> list[tuple[Rule, str]]:
    settings = request.app[settings_key]
    if key is not None:
        return [(Rule("apikey", key.per_minute, KEY_WINDOW), key.prefix)]
    return ratelimit.submit_rules(client_address(request), settings.submit_per_hour)


@asynccontextmanager
async def submission(request: web.Request, key: ApiKey | None = None) -> AsyncIterator[Claim]:
    """Count one submission; refused input (ValidationError) does not count. Refused at once
    when no slot is free; the slot is taken in the submission's own transaction when the
    claim is passed to `service.submit(rate=…)`, else here once the block ends."""
    rl = limiter(request)
    claim = Claim(submission_rules(request, key), _now(request))
    await rl.check(claim.hits, claim.now)
    yield claim
    if not claim.taken:  # a caller that did not hand the claim on: counted, never refused late
        await rl.record(claim.hits, claim.now)


def code_rules(request: web.Request, tracking_number: str) -> list[tuple[Rule, str]]:
    settings = request.app[settings_key]
    return ratelimit.code_rules(
        client_address(request),
        secrets.normalise_tracking_number(tracking_number or ""),
        settings.code_attempts_per_15min,
        settings.code_attempts_per_report,
    )


@asynccontextmanager
async def code_attempt(request: web.Request, tracking_number: str) -> AsyncIterator[None]:
    """Count a follow-up code attempt; only a wrong code (NotFound) keeps counting."""
    rl = limiter(request)
    ticket = await rl.acquire(
        code_rules(request, tracking_number), _now(request), ratelimit.CODE_WAIT
    )
    try:
        yield
    except NotFound:
        raise
    except BaseException:
        await rl.release(ticket)
        raise
    await rl.release(ticket)


SUPPORT_WINDOW = timedelta(hours=1)
SUPPORT_WAIT = "附议过于频繁，请 {wait}后再试。"


@asynccontextmanager
async def support_vote(request: web.Request) -> AsyncIterator[Callable[[bool], None]]:
    """Count one new 附议 voice against the client address (``support_per_hour``): one voice
    per browser is only a cookie, and a client dropping it could add thousands to the count
    shown and to the hot issues' heat. The block reports whether the voice was new; a voice
    given before (or an error) gives the slot back."""
    rl = limiter(request)
    rule = Rule("support", request.app[settings_key].support_per_hour, SUPPORT_WINDOW)
    ticket = await rl.acquire([(rule, client_address(request))], _now(request), SUPPORT_WAIT)
    added: list[bool] = []
    try:
        yield added.append
    except BaseException:
        await rl.release(ticket)
        raise
    if not any(added):
        await rl.release(ticket)


def page_number(request: web.Request, last: int) -> int:
    """The ?page= of a list: 1 when missing or not a number, at most `last` (an edited link's
    page=99999999999999999999 would be an offset SQLite cannot hold: a 500)."""
    try:
        return min(max(1, int(request.query.get("page", "1"))), last)
    except ValueError:
        return 1


# The largest row id either store holds (a 64-bit integer): a bigger number in a link or a
# form names no row, and handed to the database it is an OverflowError, a 500.
ID_MAX = 2**63 - 1


def row_id(value: str, message: str) -> int:
    """The row id a link or a form names, or NotFound(``message``) for one that cannot be
    (not a number, or more digits than any id has)."""
    try:
        found = int(value.strip())
    except (ValueError, AttributeError):
        raise NotFound(message) from None
    if not 0 < found <= ID_MAX:
        raise NotFound(message)
    return found


def check_text(data: Mapping[str, Any], limits: InputLimits, field: str = "text") -> None:
    """The operator's cap on report text (``max_text_chars``), before any work is done."""
    text = data.get(field)
    limit = limits.max_text_chars
    if isinstance(text, str) and limit > 0 and len(text) > limit:
        raise ValidationError(
            f"诉求内容不能超过 {limit} 个字（现在 {len(text)} 个）。", field=field
        )


async def read_uploads(
    files: list[web.FileField], limits: InputLimits, field: str = "media"
) -> list[attachments.Upload]:
    """Read uploaded files within the configured count and size; content is checked later."""
    files = [f for f in files if f.filename or f.file]
    if len(files) > limits.max_attachments:
        raise ValidationError(
            f"最多上传 {limits.max_attachments} 个附件（现在 {len(files)} 个）。", field=field
        )
    limit = limits.max_attachment_bytes
    uploads = []
    for f in files:
        data = attachments.read_limited(f.file, limit)
        if len(data) > limit:
            name = attachments.clean_filename(f.filename)
            raise ValidationError(
                f"附件“{name}”超过 {limits.max_attachment_mb} MB，请压缩后再上传。", field=field
            )
        uploads.append(attachments.Upload(_filename(f.filename), data))
    return uploads


def _filename(name: str | None) -> str:
    """Some clients (aiohttp's among them) percent-encode non-ASCII file names."""
    if name and "%" in name:
        try:
            return unquote(name, errors="strict")
        except UnicodeDecodeError:
            return name
    return name or ""


async def store_uploads(
    request: web.Request, uploads: list[attachments.Upload], field: str = "media"
) -> list[Attachment]:
    """Check each file by its content (not its name) and write it to disk before the report
    that names it is committed."""
    if not uploads:
        return []
    settings = request.app[settings_key]
    service = request.app[service_key]
    checked = attachments.check(uploads, field=field, limits=service.input_limits)
    return await service.in_thread(
        attachments.store_all, settings.attachments_dir, checked, "citizen"
    )
