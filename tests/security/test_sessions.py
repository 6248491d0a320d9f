"""A session ends on the server: a copied cookie is worthless after logout, a new password or
disabling the account."""

from __future__ import annotations

import asyncio
import io
import sys

import pytest
from aiohttp import ClientSession, CookieJar
from aiohttp.test_utils import TestServer

from feedback import accounts, cli
from feedback.service import FeedbackService
from feedback.settings import Settings
from tests.web.conftest import MakeVisitor, Visitor


async def thief_of(server: TestServer, victim: Visitor) -> ClientSession:
    """Another browser holding a copy of the victim's session cookie."""
    jar = CookieJar(unsafe=True)
    jar.update_cookies({c.key: c.value for c in victim.client.cookie_jar})
    return ClientSession(base_url=server.make_url("/"), cookie_jar=jar)


async def logged_in(client: ClientSession) -> bool:
    resp = await client.get("/staff", allow_redirects=False)
    return resp.status == 200


async def test_a_copied_cookie_stops_working_when_its_owner_logs_out(
    server: TestServer, visitor: MakeVisitor
) -> None:
    v = await visitor("zhzf1")
    async with await thief_of(server, v) as thief:
        assert await logged_in(thief)
        status, _ = await v.post("/staff/logout", {})
        assert status == 200 and not await logged_in(v.client)
        assert not await logged_in(thief)


async def test_a_new_password_from_the_command_line_ends_every_session(
    server: TestServer, visitor: MakeVisitor, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    v = await visitor("zhzf1")
    other_device = await visitor("zhzf1")
    async with await thief_of(server, v) as thief:
        assert await logged_in(thief)
        monkeypatch.setattr(sys, "stdin", io.StringIO("a-brand-new-password\n"))
        argv = ["users", "password", "zhzf1", "--password-stdin", "--db", settings.db]
        # The real command, on its own event loop, against the same database.
        assert await asyncio.to_thread(cli.main, argv) == 0
        assert not await logged_in(thief)
        assert not await logged_in(v.client) and not await logged_in(other_device.client)
    # Colleagues stay logged in; the new password works.
    colleague = await visitor("zjj1")
    assert await logged_in(colleague.client)
    fresh = await visitor()
    status, _ = await fresh.login("zhzf1", "a-brand-new-password")
    assert status == 200


async def test_disabling_an_account_ends_its_sessions(
    server: TestServer, visitor: MakeVisitor, service: FeedbackService
) -> None:
    v = await visitor("zhzf1")
    async with await thief_of(server, v) as thief:
        await accounts.set_active(service.store, "zhzf1", False)
        assert not await logged_in(thief)
        # Enabling it again does not bring the old sessions back.
        await accounts.set_active(service.store, "zhzf1", True)
        assert not await logged_in(thief) and not await logged_in(v.client)
