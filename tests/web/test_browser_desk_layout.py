"""The staff pages at 1280 px and 390 px in Chromium, with the shipped model routing the reports
(so the page carries the model's reason words): the desk uses the width, tracking numbers stay
on one line, the actions sit beside the report on a wide screen and after it on a phone, 退回
does not look like 签收, reason words are a vertical list, a report sent back twice reads
待裁定. Screenshots: test-artifacts/screenshots/desk-*.png."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from feedback import accounts
from feedback.model_provider import ModelProvider
from feedback.service import FeedbackService
from feedback.settings import Settings
from feedback.store.base import User
from tests.browser import MARKS, shot
from tests.conftest import SUPERVISOR, Clock, staff
from tests.web.conftest import USERS, password_hash
from tests.web.test_browser_clerk import DESKTOP, PHONE, login
from web.app import create_app
from web.keys import service_key

pytestmark = MARKS

NOISE = {
    "title": "城管执法罚款不开票据",
    "text": "昨天下午在般阳路摆摊，城管执法人员直接罚款两百元，没有出具任何票据和处罚决定书，"
    "也没有出示执法证件。",
    "anonymous": True,
}


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> ModelProvider:
    p = ModelProvider(tmp_path_factory.mktemp("models"), check_every=0)
    p.current()
    return p


@pytest.fixture
async def routed_app(
    settings: Settings, clock: Clock, provider: ModelProvider
) -> AsyncIterator[tuple[TestServer, FeedbackService]]:
    app: web.Application = create_app(settings, clock=clock, classify=provider.classify)
    srv = TestServer(app, host="127.0.0.1")
    await srv.start_server()
    service = app[service_key]
    async with service.store.transaction() as tx:
        for name, (role, dept, shown) in USERS.items():
            new = accounts.check_new_user(service.config, name, role, dept, shown)
            await tx.insert_user(User(None, new.username, password_hash(), new.role.value,
                                      new.department, new.display_name))  # fmt: skip
    yield srv, service
    await srv.close()


async def box(page: Any, selector: str) -> dict[str, float]:
    found = await page.locator(selector).first.bounding_box()
    assert found, selector
    return dict(found)


async def test_the_desk_at_1280_and_390(
    browser: Any, routed_app: tuple[TestServer, FeedbackService], tmp_path: Path
) -> None:
    server, service = routed_app
    base = str(server.make_url("")).rstrip("/")
    filed = [(await service.submit(dict(NOISE))).tracking_number for _ in range(3)]
    for tn in filed:
        report = await service.report(tn)
        assert report is not None
        if report.department != "zhzf":
            await service.assign(SUPERVISOR, tn, "zhzf")
    tn = filed[0]
    # The third is sent back twice: the supervisor must rule.
    twice = filed[2]
    await service.send_back(staff("zhzf"), twice, "不属于本单位职责范围，建议住建局办理。", "zjj")
    await service.send_back(staff("zjj"), twice, "不属于本单位职责范围，建议城管局办理。", "zhzf")

    wide = await login(browser, base, "zhzf1", DESKTOP)
    main = await box(wide, "main")
    assert main["width"] >= 1200  # not a 930 px column in a 1280 px window
    number = await box(wide, "table.queue a.tn")
    line = await wide.evaluate(
        "() => parseFloat(getComputedStyle(document.querySelector('table.queue a.tn')).lineHeight)"
    )
    assert number["height"] < 1.5 * line, "the tracking number wrapped"
    await shot(wide, "desk-queue-1280")

    await wide.goto(f"{base}/staff/reports/{tn}")
    body, actions = await box(wide, ".report-body"), await box(wide, ".actions-panel")
    assert actions["x"] >= body["x"] + body["width"] - 1  # beside, not below
    assert actions["y"] < body["y"] + 50
    sign = await wide.evaluate(
        "() => getComputedStyle(document.querySelector('#do-accept')).backgroundColor"
    )
    back = await wide.evaluate(
        "() => getComputedStyle(document.querySelector('#do-send-back')).backgroundColor"
    )
    back_text = await wide.evaluate(
        "() => getComputedStyle(document.querySelector('#do-send-back')).color"
    )
    assert sign != back and back_text == "rgb(179, 38, 30)"  # the error red: destructive
    words = wide.locator("#reason-words .reason-words li")
    assert await words.count() >= 2
    ys = [(await w.bounding_box() or {"y": 0})["y"] for w in await words.all()]
    assert len(set(ys)) == len(ys), "reason words should stand one under another"
    await shot(wide, "desk-report-1280")

    narrow = await login(browser, base, "zhzf1", PHONE)
    await narrow.goto(f"{base}/staff/reports/{tn}")
    body, actions = await box(narrow, ".report-body"), await box(narrow, ".actions-panel")
    assert actions["y"] > body["y"] + body["height"] - 1  # after the report on a phone
    await shot(narrow, "desk-report-390")

    desk = await login(browser, base, "sup1", DESKTOP)
    await desk.goto(f"{base}/staff/triage?queue=arbitration")
    row = desk.locator(f"table.queue tr:has-text('{twice}')")
    assert "待裁定" in await row.inner_text() and "待人工分办" not in await row.inner_text()
    await desk.goto(f"{base}/staff/reports/{twice}")
    assert "待裁定" in await desk.inner_text("#status")
    await shot(desk, "desk-arbitration-1280")
