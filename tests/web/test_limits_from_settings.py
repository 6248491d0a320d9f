"""The operator raises or lowers a limit in the settings, and every channel follows: the form's
stated limit and its checks, the JSON API, the OpenAPI document and the attachment count."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from feedback.settings import Settings
from tests.conftest import MigratedFile
from tests.web.conftest import REPORT_FORM, MakeVisitor, png_bytes

LONG = "城管执法人员在般阳路摆摊处直接罚款两百元，没有出具任何票据和处罚决定书。" * 150  # 5,550


@pytest.fixture
def settings(tmp_path: Path, migrated_sqlite: MigratedFile) -> Settings:
    return Settings(
        db=migrated_sqlite(tmp_path / "web.db"),
        data_dir=str(tmp_path / "data"),
        secret_key="test-secret-key-that-is-long-enough-000",
        tick_seconds=0,
        max_body_mb=30,
        max_text_chars=6000,
        max_attachments=1,
    )


async def test_a_longer_text_is_accepted_everywhere_once_the_setting_allows_it(
    visitor: MakeVisitor,
) -> None:
    assert 5000 < len(LONG) < 6000
    v = await visitor()
    status, html = await v.get("/report")
    assert "最多 6000 个字" in html and "最多 1 个，每个不超过 10 MB" in html
    status, html = await v.post("/report", {**REPORT_FORM, "text": LONG})
    assert status == 200 and 'id="tracking-number"' in html
    resp = await v.client.post("/api/v1/reports", json={"title": "罚款不开票", "text": LONG})
    assert resp.status == 201
    doc = await (await v.client.get("/api/v1/openapi.json")).json()
    assert doc["components"]["schemas"]["NewReport"]["properties"]["text"]["maxLength"] == 6000
    resp = await v.client.post("/api/v1/reports", json={"title": "太长", "text": LONG * 2})
    assert resp.status == 400 and "不能超过 6000 个字" in (await resp.json())["error"]["message"]


async def test_the_attachment_count_follows_the_setting(visitor: MakeVisitor) -> None:
    v = await visitor()
    await v.get("/report")
    form = aiohttp.FormData()
    for k, val in {**REPORT_FORM, "csrf_token": v.token}.items():
        form.add_field(k, val)
    for i in range(2):
        form.add_field("attachments", png_bytes(rgb=(i, 0, 0)), filename=f"p{i}.png",
                       content_type="image/png")  # fmt: skip
    status, html = await v.post("/report", form)
    assert status == 400 and "最多上传 1 个附件（现在 2 个）" in html
