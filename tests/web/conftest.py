"""Fixtures for the web: the real app on a real SQLite file (a copy of the session's migrated
template), staff accounts, form helpers."""

from __future__ import annotations

import functools
import re
import struct
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientResponse, ClientSession, CookieJar, web
from aiohttp.test_utils import TestServer

from feedback import accounts, secrets
from feedback.service import FeedbackService
from feedback.settings import Settings
from feedback.store.base import User
from tests.conftest import Clock, MigratedFile
from web.app import create_app
from web.keys import service_key

PASSWORD = "correct-horse-42"
# username -> (role, department, display name)
USERS = {
    "zhzf1": ("staff", "zhzf", "城管张科员"),
    "zjj1": ("staff", "zjj", "住建李科员"),
    "sfj1": ("staff", "sfj", "司法局分办员"),
    "sup1": ("supervisor", "sfj", "监督员王"),
    "admin": ("admin", None, "管理员"),
}

REPORT_FORM = {
    "kind": "complaint",
    "title": "城管执法罚款不开票据",
    "text": "昨天下午在般阳路摆摊，城管执法人员直接罚款两百元，没有出具任何票据和处罚决定书。",
    "place": "般阳路",
    "occurred_at": "3月9日下午",
    "authority": "区综合行政执法局",
    "anonymous": "1",
    "contact_name": "",
    "contact_phone": "",
}

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
FORM_ID_RE = re.compile(r'name="form_id" value="([^"]+)"')


def png_bytes(width: int = 8, height: int = 8, rgb: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    """A real PNG, made without an imaging library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(rgb) * width
    raw = zlib.compress(row * height)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


@functools.cache
def password_hash() -> str:
    return secrets.hash_secret(PASSWORD)


def csrf_of(html: str) -> str:
    found = CSRF_RE.search(html)
    assert found, "page has no CSRF token"
    return found.group(1)


@pytest.fixture
def settings(tmp_path: Path, migrated_sqlite: MigratedFile) -> Settings:
    return Settings(
        db=migrated_sqlite(tmp_path / "web.db"),
        data_dir=str(tmp_path / "data"),
        secret_key="test-secret-key-that-is-long-enough-000",
        tick_seconds=0,
        max_body_mb=30,
    )


@pytest.fixture
def app(settings: Settings, clock: Clock) -> web.Application:
    return create_app(settings, clock=clock)


@pytest.fixture
async def server(app: web.Application) -> AsyncIterator[TestServer]:
    srv = TestServer(app, host="127.0.0.1")
    await srv.start_server()
    service = app[service_key]
    # The accounts as `feedback users add` makes them, with the password hashed once per run
    # (argon2 is slow on purpose; test_accounts.py covers create_user itself).
    async with service.store.transaction() as tx:
        for name, (role, dept, shown) in USERS.items():
            new = accounts.check_new_user(service.config, name, role, dept, shown)
            await tx.insert_user(
                User(None, new.username, password_hash(), new.role.value, new.department,
                     new.display_name)
            )  # fmt: skip
    yield srv
    await srv.close()


class Visitor:
    """One browser's worth of cookies, with helpers to fill in our forms."""

    def __init__(self, client: ClientSession):
        self.client = client
        self.token = ""
        self.last: ClientResponse | None = None

    async def get(self, path: str, **kw: Any) -> tuple[int, str]:
        resp = await self.client.get(path, **kw)
        self.last = resp
        text = await resp.text()
        found = CSRF_RE.search(text)
        if found:
            self.token = found.group(1)
        return resp.status, text

    async def post(
        self, path: str, data: Any = None, *, token: bool = True, **kw: Any
    ) -> tuple[int, str]:
        if not self.token:
            await self.get("/")
        if isinstance(data, dict):
            data = dict(data)
            if token:
                data.setdefault("csrf_token", self.token)
        resp = await self.client.post(path, data=data, **kw)
        text = await resp.text()
        self.last = resp
        found = CSRF_RE.search(text)
        if found:
            self.token = found.group(1)
        return resp.status, text

    async def login(self, username: str, password: str = PASSWORD) -> tuple[int, str]:
        await self.get("/staff/login")
        return await self.post("/staff/login", {"username": username, "password": password})


MakeVisitor = Callable[..., Awaitable[Visitor]]


@pytest.fixture
async def visitor(server: TestServer) -> AsyncIterator[MakeVisitor]:
    clients: list[ClientSession] = []

    async def make(login: str | None = None) -> Visitor:
        # Each visitor its own cookie jar (unsafe: cookies for a bare IP address).
        client = ClientSession(base_url=server.make_url("/"), cookie_jar=CookieJar(unsafe=True))
        clients.append(client)
        v = Visitor(client)
        if login:
            status, _ = await v.login(login)
            assert status == 200, f"login of {login} failed"
        return v

    yield make
    for c in clients:
        await c.close()


@pytest.fixture
def service(app: web.Application, server: TestServer) -> FeedbackService:
    return app[service_key]


async def submit(v: Visitor, **overrides: str) -> tuple[str, str]:
    """A citizen files the standard report; returns (tracking number, follow-up code)."""
    await v.get("/report")
    status, html = await v.post("/report", {**REPORT_FORM, **overrides})
    assert status == 200, html
    tn = re.search(r'id="tracking-number">([^<]+)<', html)
    code = re.search(r'id="follow-up-code">(.*?)</dd>', html)
    assert tn and code
    # The code is shown group by group (<span class="group">…</span>-…): its text is the code.
    return tn.group(1), re.sub(r"<[^>]+>", "", code.group(1))
