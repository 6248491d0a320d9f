"""Throttles that hold: behind a proxy, and under a burst of concurrent guesses."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web

from feedback import accounts
from feedback.settings import Settings
from tests.conftest import Clock
from tests.web.conftest import PASSWORD, MakeVisitor, Visitor
from web.app import create_app

PROXY = "127.0.0.1"  # the test client connects from here: it plays the district's proxy


@pytest.fixture
def app(settings: Settings, clock: Clock) -> web.Application:
    settings.trusted_proxies = PROXY
    return create_app(settings, clock=clock)


async def login_from(v: Visitor, client_ip: str, username: str, password: str) -> int:
    await v.get("/staff/login", headers={"X-Forwarded-For": client_ip})
    status, _ = await v.post(
        "/staff/login",
        {"username": username, "password": password},
        headers={"X-Forwarded-For": client_ip},
    )
    return status


async def test_failed_logins_behind_the_proxy_lock_out_only_the_guessing_address(
    visitor: MakeVisitor,
) -> None:
    attacker = await visitor()
    for i in range(accounts.ADDRESS_FAILURES):
        assert await login_from(attacker, "203.0.113.66", f"guess{i}", "wrong-password") == 401
    assert await login_from(attacker, "203.0.113.66", "zjj1", PASSWORD) == 429
    # Told to wait above the form; the password (which was right) is not marked as wrong.
    status, page = await attacker.post(
        "/staff/login", {"username": "zjj1", "password": PASSWORD},
        headers={"X-Forwarded-For": "203.0.113.66"},
    )  # fmt: skip
    assert status == 429 and 'id="login-throttled"' in page
    assert 'id="password-error"' not in page and 'aria-invalid="true"' not in page
    # Every staff member comes through the same proxy, from their own address: they log in.
    colleague = await visitor()
    assert await login_from(colleague, "198.51.100.7", "zhzf1", PASSWORD) == 200


async def test_a_burst_of_wrong_passwords_reaches_the_password_check_five_times(
    visitor: MakeVisitor,
) -> None:
    # 30 browsers at once, each with one wrong password for the same account.
    guessers = [await visitor() for _ in range(30)]
    for i, v in enumerate(guessers):
        await v.get("/staff/login", headers={"X-Forwarded-For": f"203.0.113.{i}"})

    async def guess(i: int, v: Visitor) -> tuple[int, str | None]:
        resp = await v.client.post(
            "/staff/login",
            data={"username": "zhzf1", "password": f"wrong-{i}", "csrf_token": v.token},
            headers={"X-Forwarded-For": f"203.0.113.{i}"},
        )
        await resp.read()
        return resp.status, resp.headers.get("Retry-After")

    results = await asyncio.gather(*(guess(i, v) for i, v in enumerate(guessers)))
    statuses = sorted(s for s, _ in results)
    assert statuses.count(401) == accounts.USERNAME_FAILURES, statuses
    assert statuses.count(429) == len(guessers) - accounts.USERNAME_FAILURES
    waits = [int(r) for s, r in results if s == 429 and r]
    assert len(waits) == statuses.count(429) and all(0 < w <= 15 * 60 for w in waits)
