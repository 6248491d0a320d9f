"""The receipt of a report, kept only in the browser that sent it.

A submission answers with a redirect (303) to ``/report/receipt/{tracking number}``; that page
shows the number and the follow-up code for ``LIFETIME`` and survives a reload, because the code
travels in a short-lived cookie of this browser alone: encrypted and authenticated (Fernet,
from `cryptography`) under a key derived from the app's cookie key, HttpOnly, ``Path=/report``.
The server keeps no copy of the plain code (only its HMAC, as before).

Each receipt also holds a fingerprint of the report's content (an HMAC under the same key), so
the same report sent again from this browser within the window -- Back, then 提交 on a form
the browser re-rendered with a fresh form id -- leads to the same receipt instead of a second
report. Two requests of one double tap that race each other share one submission
(`Inflight`), keyed by this browser's session token with the fingerprint, so two people who
send the same words never meet.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import timedelta

from aiohttp import web
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from web import csrf
from web.keys import cookie_key, service_key, settings_key

COOKIE = "feedback_receipt"
PATH = "/report"
LIFETIME = timedelta(minutes=30)
KEEP = 3  # receipts one browser keeps at once (each ~150 bytes before encryption)


@dataclass(frozen=True)
class Receipt:
    tracking_number: str
    code: str
    fingerprint: str
    form_id: str
    issued: int  # Unix seconds, by the service's clock
    files: list[str] = field(default_factory=list)  # short digests of the files sent with it


def _derive(request: web.Request, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
        request.app[cookie_key]
    )


def _fernet(request: web.Request) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_derive(request, b"feedback-receipt-cookie")))


def _now(request: web.Request) -> int:
    return int(request.app[service_key].clock().timestamp())


def fingerprint(request: web.Request, content: Mapping[str, str]) -> str:
    """The report's content as typed (fields stripped; files are not part of it), keyed."""
    canonical = json.dumps(
        {k: " ".join(str(v).split()) for k, v in sorted(content.items())}, ensure_ascii=False
    )
    key = _derive(request, b"feedback-receipt-fingerprint")
    return hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()[:32]


def read(request: web.Request) -> list[Receipt]:
    """This browser's receipts that are still within the window (an expired, forged or
    garbled cookie reads as none)."""
    token = request.cookies.get(COOKIE)
    if not token:
        return []
    now = _now(request)
    life = int(LIFETIME.total_seconds())
    try:
        data = _fernet(request).decrypt_at_time(token.encode(), life, now)
        items = json.loads(data)
        found = [Receipt(**item) for item in items]
    except (InvalidToken, ValueError, TypeError):
        return []
    return [r for r in found if 0 <= now - r.issued < life]


def find(request: web.Request, tracking_number: str) -> Receipt | None:
    return next((r for r in read(request) if r.tracking_number == tracking_number), None)


def file_digests(files: list[bytes]) -> list[str]:
    return sorted(hashlib.sha256(data).hexdigest()[:16] for data in files)


def same_report(
    request: web.Request, form_id: str, print_: str, files: list[str]
) -> Receipt | None:
    """The receipt of this form (the same form id) or of the same content, if this browser
    sent it within the window. After Back a browser re-renders the text but not the chosen
    files, so the same text with no files is the same report; with other files it is not."""
    for r in reversed(read(request)):
        if form_id and r.form_id == form_id:
            return r
        if r.fingerprint == print_ and (not files or files == r.files):
            return r
    return None


def issue(
    request: web.Request, tracking_number: str, code: str, print_: str, form_id: str,
    files: list[str],
) -> Receipt:  # fmt: skip
    return Receipt(tracking_number, code, print_, form_id, _now(request), files)


def remember(request: web.Request, response: web.StreamResponse, receipt: Receipt) -> None:
    """Add the receipt to this browser's cookie (newest last, at most KEEP)."""
    kept = [r for r in read(request) if r.tracking_number != receipt.tracking_number]
    items = [asdict(r) for r in [*kept, receipt][-KEEP:]]
    token = _fernet(request).encrypt_at_time(
        json.dumps(items, ensure_ascii=False).encode(), receipt.issued
    )
    response.set_cookie(
        COOKIE,
        token.decode(),
        max_age=int(LIFETIME.total_seconds()),
        path=PATH,
        httponly=True,
        samesite="Lax",
        secure=request.app[settings_key].secure_cookies,
    )


def location(receipt: Receipt) -> str:
    return f"{PATH}/receipt/{receipt.tracking_number}"


# -- one submission for the two requests of a double tap ------------------------------------

Submit = Callable[[], Awaitable[Receipt]]


class Inflight:
    """Submissions under way in this process, by browser and content. A second request with
    the same content from the same browser waits for the first and gets its receipt."""

    def __init__(self) -> None:
        self._running: dict[str, asyncio.Future[Receipt | None]] = {}

    async def once(self, request: web.Request, print_: str, submit: Submit) -> Receipt:
        key = f"{await csrf.token(request)}:{print_}"
        running = self._running.get(key)
        if running is not None:
            done = await asyncio.shield(running)
            if done is not None:
                return done
        future: asyncio.Future[Receipt | None] = asyncio.get_running_loop().create_future()
        self._running[key] = future
        try:
            receipt = await submit()
        except BaseException:
            future.set_result(None)  # a waiting request then submits on its own
            raise
        finally:
            self._running.pop(key, None)
        future.set_result(receipt)
        return receipt


inflight_key = web.AppKey("receipt_inflight", Inflight)


def setup(app: web.Application) -> None:
    app[inflight_key] = Inflight()
