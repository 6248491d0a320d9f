"""A refused upload leaves nothing behind: past the hourly limit an address cannot fill the data
folder with attachments that no report names, nor can a bureau that may only read a report."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp import FormData, web

from feedback.service import FeedbackService
from feedback.settings import Settings
from tests.conftest import SUPERVISOR, Clock, staff
from tests.web.conftest import REPORT_FORM, MakeVisitor, Visitor, png_bytes
from web.app import create_app

LIMIT = 2


@pytest.fixture
def app(settings: Settings, clock: Clock) -> web.Application:
    settings.submit_per_hour = LIMIT
    return create_app(settings, clock=clock)


def stored_files(settings: Settings) -> list[Path]:
    root = settings.attachments_dir
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


async def send_with_photo(v: Visitor, n: int) -> int:
    await v.get("/report")
    form = FormData()
    for k, value in {**REPORT_FORM, "text": f"{REPORT_FORM['text']}（第{n}次）"}.items():
        form.add_field(k, value)
    form.add_field("csrf_token", v.token)
    # A different photo each time: the store keeps one copy of the same bytes.
    form.add_field(
        "attachments", png_bytes(rgb=(n, 40, 40)), filename=f"现场{n}.png",
        content_type="image/png",
    )  # fmt: skip
    status, _ = await v.post("/report", form)
    return status


async def test_a_report_over_the_hourly_limit_writes_no_attachment_to_disk(
    visitor: MakeVisitor, settings: Settings
) -> None:
    for n in range(LIMIT):
        assert await send_with_photo(await visitor(), n) == 200
    kept = stored_files(settings)
    assert len(kept) == LIMIT
    # The same address goes on, each time from a fresh browser and with a new photo.
    for n in range(LIMIT, LIMIT + 5):
        assert await send_with_photo(await visitor(), n) == 429
    assert stored_files(settings) == kept


async def test_an_assisting_bureau_may_read_the_report_but_its_refused_upload_writes_nothing(
    visitor: MakeVisitor, service: FeedbackService, settings: Settings
) -> None:
    done = await service.submit({k: REPORT_FORM[k] for k in ("title", "text", "place")})
    tn = done.tracking_number
    # 综合执法局 handles it; 住建局 assists and may read it.
    await service.assign(SUPERVISOR, tn, "zhzf", [], ["zjj"])
    await service.accept(staff("zhzf"), tn)
    helper = await visitor("zjj1")
    status, html = await helper.get(f"/staff/reports/{tn}")
    assert status == 200 and REPORT_FORM["title"] in html
    form = FormData()
    form.add_field("csrf_token", helper.token)
    form.add_field("documents", png_bytes(), filename="协办.png", content_type="image/png")
    status, html = await helper.post(f"/staff/reports/{tn}/attach", form)
    assert status == 403
    assert stored_files(settings) == []
    assert await service.store.fetch("SELECT id FROM attachments") == []
