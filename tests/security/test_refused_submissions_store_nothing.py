"""A report refused for the address's hourly limit leaves nothing behind: past the limit an
address cannot fill the data folder with attachments that no report names."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp import FormData, web

from feedback.settings import Settings
from tests.conftest import Clock
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
