"""Guessing follow-up codes is slowed down, but the citizen who has the code gets in.

Every test here runs against the real app on SQLite and on PostgreSQL, behind a trusted proxy
so that each guess can come from its own address (X-Forwarded-For).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp import ClientSession, web
from aiohttp.test_utils import TestServer

from feedback.settings import Settings
from tests.conftest import Clock
from tests.web.conftest import MakeVisitor, submit
from web.app import create_app

REPORT = {
    "title": "办证窗口推诿",
    "text": "去政务服务大厅办营业执照，窗口说材料不全，问缺什么又不肯一次性告知，跑了三趟。",
}
WRONG = "AAAA-BBBB-CCCC-DDDD-EEEE"


@pytest.fixture
def app(settings: Settings, clock: Clock) -> web.Application:
    settings.trusted_proxies = "127.0.0.1"
    settings.code_attempts_per_15min = 10
    settings.code_attempts_per_report = 5
    settings.submit_per_hour = 5
    return create_app(settings, clock=clock)


@pytest.fixture
async def api(server: TestServer) -> Any:
    async with ClientSession(base_url=server.make_url("/")) as session:
        yield session


async def new_report(api: ClientSession, ip: str = "192.0.2.1") -> tuple[str, str]:
    resp = await api.post("/api/v1/reports", json=REPORT, headers={"X-Forwarded-For": ip})
    assert resp.status == 201, await resp.text()
    body = await resp.json()
    return body["tracking_number"], body["follow_up_code"]


async def look(api: ClientSession, tn: str, code: str, ip: str) -> tuple[int, Any]:
    resp = await api.get(
        f"/api/v1/reports/{tn}", params={"code": code}, headers={"X-Forwarded-For": ip}
    )
    return resp.status, resp


async def test_guesses_from_many_addresses_do_not_lock_the_owner_out(api: ClientSession) -> None:
    tn, code = await new_report(api)
    # 25 addresses, each guessing the (sequential, so easily known) tracking number.
    for i in range(25):
        for _ in range(3):
            status, _ = await look(api, tn, WRONG, f"203.0.113.{i}")
            assert status == 404
    status, _ = await look(api, tn, code, "198.51.100.20")
    assert status == 200


async def test_a_guesser_waits_longer_and_longer_and_is_told_how_long(
    api: ClientSession, clock: Clock
) -> None:
    tn, code = await new_report(api)
    guesser = "203.0.113.9"
    for _ in range(5):
        assert (await look(api, tn, WRONG, guesser))[0] == 404
    waits = []
    for _ in range(4):
        status, resp = await look(api, tn, WRONG, guesser)
        assert status == 429
        body = await resp.json()
        wait = int(resp.headers["Retry-After"])
        assert f"{wait} 秒后再试" in body["error"]["message"]
        waits.append(wait)
        clock.advance(seconds=wait)
        assert (await look(api, tn, WRONG, guesser))[0] == 404  # checked once the wait is over
    assert waits == sorted(waits) and waits[-1] > waits[0]  # each wrong code doubles the wait
    # Someone at that address with the right code: once the wait has passed, it is accepted.
    status, resp = await look(api, tn, code, guesser)
    assert status == 429
    clock.advance(seconds=int(resp.headers["Retry-After"]))
    assert (await look(api, tn, code, guesser))[0] == 200


async def test_the_waiting_page_says_how_long_in_chinese(
    visitor: MakeVisitor, clock: Clock
) -> None:
    v = await visitor()
    tn, code = await submit(v)
    await v.get("/track")
    for _ in range(5):
        status, _ = await v.post("/track", {"tn": tn, "code": WRONG})
        assert status == 404
    status, html = await v.post("/track", {"tn": tn, "code": code})
    assert status == 429
    assert v.last is not None and v.last.headers["Retry-After"] == "1"
    assert "查询码输入错误次数较多" in html and "请 1 秒后再试" in html
    clock.advance(seconds=1)
    status, html = await v.post("/track", {"tn": tn, "code": code})
    assert status == 200 and tn in html


async def test_one_address_sweeping_many_reports_is_slowed_down(api: ClientSession) -> None:
    numbers = [(await new_report(api, f"192.0.2.{i}"))[0] for i in range(4)]
    sweeper = "203.0.113.77"
    statuses = []
    for i in range(12):
        statuses.append((await look(api, numbers[i % 4], WRONG, sweeper))[0])
    assert statuses == [404] * 10 + [429] * 2
    status, resp = await look(api, numbers[0], WRONG, sweeper)
    assert status == 429 and int(resp.headers["Retry-After"]) <= 60


async def test_a_burst_of_guesses_reaches_the_code_check_only_as_often_as_allowed(
    api: ClientSession,
) -> None:
    tn, _ = await new_report(api)
    results = await asyncio.gather(*(look(api, tn, WRONG, "203.0.113.5") for _ in range(40)))
    statuses = [s for s, _ in results]
    assert statuses.count(404) == 5, sorted(statuses)
    assert statuses.count(429) == 35
    assert all(int(r.headers["Retry-After"]) >= 1 for s, r in results if s == 429)


async def test_a_burst_of_submissions_gets_no_more_than_the_hourly_limit(
    api: ClientSession,
) -> None:
    for _ in range(2):
        await new_report(api, "203.0.113.50")

    async def one() -> tuple[int, str | None]:
        resp = await api.post(
            "/api/v1/reports", json=REPORT, headers={"X-Forwarded-For": "203.0.113.50"}
        )
        await resp.read()
        return resp.status, resp.headers.get("Retry-After")

    results = await asyncio.gather(*(one() for _ in range(15)))
    statuses = [s for s, _ in results]
    assert statuses.count(201) == 3, sorted(statuses)
    assert statuses.count(429) == 12
    assert all(r and int(r) > 0 for s, r in results if s == 429)
