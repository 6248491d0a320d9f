"""The JSON API as a client uses it: submit, follow up, and the errors it must give."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from feedback.settings import Settings
from tests.conftest import MigratedFile
from web.app import create_app


@pytest.fixture
async def client(aiohttp_client: Any, tmp_path: Path, migrated_sqlite: MigratedFile) -> TestClient:
    settings = Settings(
        db=migrated_sqlite(tmp_path / "api.db"), data_dir=str(tmp_path), max_body_mb=1
    )
    return await aiohttp_client(create_app(settings))


REPORT = {
    "title": "办证窗口推诿",
    "text": "去政务服务大厅办营业执照，窗口说材料不全，问缺什么又不肯一次性告知，跑了三趟。",
    "anonymous": True,
}


async def test_submit_then_follow_up(client: TestClient) -> None:
    resp = await client.post("/api/v1/reports", json=REPORT)
    assert resp.status == 201
    body = await resp.json()
    tn, code = body["tracking_number"], body["follow_up_code"]
    resp = await client.get(f"/api/v1/reports/{tn}", params={"code": code})
    assert resp.status == 200
    status = await resp.json()
    assert status["tracking_number"] == tn
    assert status["history"][0]["label"] == "提交诉求"
    resp = await client.get(f"/api/v1/reports/{tn}", headers={"X-Follow-Up-Code": code})
    assert resp.status == 200


async def test_wrong_or_missing_code_is_404_like_an_unknown_number(client: TestClient) -> None:
    body = await (await client.post("/api/v1/reports", json=REPORT)).json()
    tn = body["tracking_number"]
    answers = []
    for path, params in [
        (f"/api/v1/reports/{tn}", {"code": "WRONG-CODE"}),
        (f"/api/v1/reports/{tn}", {}),
        ("/api/v1/reports/ZC-2026-999999", {"code": body["follow_up_code"]}),
        ("/api/v1/reports/not-a-number", {"code": body["follow_up_code"]}),
    ]:
        resp = await client.get(path, params=params)
        answers.append((resp.status, await resp.json()))
    assert all(a == answers[0] for a in answers)
    assert answers[0][0] == 404


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"title": "t", "text": "短"}, "text"),
        ({"title": "t", "text": 12345}, None),
        ({"title": "t", "text": "足够长的一段诉求内容文字。", "anonymous": "maybe"}, "anonymous"),
    ],
)
async def test_invalid_input_is_400_with_field(
    client: TestClient, payload: dict[str, Any], field: str | None
) -> None:
    resp = await client.post("/api/v1/reports", json=payload)
    assert resp.status == 400
    err = (await resp.json())["error"]
    assert err["code"] == "invalid" and err["message"]
    if field:
        assert err["field"] == field


async def test_malformed_json_and_wrong_shapes_are_400(client: TestClient) -> None:
    for body in [b"{not json", b"[1, 2]", b"\xff\xfe", b"null"]:
        resp = await client.post(
            "/api/v1/reports", data=body, headers={"Content-Type": "application/json"}
        )
        assert resp.status == 400, body


async def test_oversized_body_is_413(client: TestClient) -> None:
    resp = await client.post(
        "/api/v1/reports",
        data=b"{" + b" " * (2 * 1024 * 1024) + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert resp.status == 413
    assert (await resp.json())["error"]["code"] == "too_large"


async def test_healthz(client: TestClient) -> None:
    resp = await client.get("/healthz")
    assert resp.status == 200 and (await resp.json())["status"] == "ok"


async def test_non_standard_json_numbers_are_refused(client: TestClient) -> None:
    for body in [b'{"title": NaN, "text": "x"}', b'{"text": Infinity}', b'{"a": 1e999999}']:
        resp = await client.post(
            "/api/v1/reports", data=body, headers={"Content-Type": "application/json"}
        )
        assert resp.status == 400, body


async def test_times_are_in_the_districts_zone_like_open311(client: TestClient) -> None:
    """/api/v1 gives every time as ISO 8601 with the district's offset (+08:00), the same
    instants Open311 gives, not UTC."""
    body = await (await client.post("/api/v1/reports", json=REPORT)).json()
    tn, code = body["tracking_number"], body["follow_up_code"]
    status = await (await client.get(f"/api/v1/reports/{tn}", params={"code": code})).json()
    times = [status["created_at"], status["updated_at"]]
    times += [h["at"] for h in status["history"]] + [d["due"] for d in status["deadlines"]]
    assert times and all(t.endswith("+08:00") for t in times), times
    o311 = (await (await client.get(f"/open311/v2/requests/{tn}.json")).json())[0]
    assert datetime.fromisoformat(status["created_at"]) == datetime.fromisoformat(
        o311["requested_datetime"]
    )


async def test_a_client_hears_every_field_at_fault_at_once(client: TestClient) -> None:
    # A client fixing its form one round trip per field would give up: all of them, once.
    resp = await client.post(
        "/api/v1/reports",
        json={"title": "t" * 500, "text": "短", "anonymous": "maybe", "kind": "praise"},
    )
    assert resp.status == 400
    err = (await resp.json())["error"]
    fields = {e["field"]: e["message"] for e in err["errors"]}
    assert {"title", "text", "anonymous", "kind"} <= set(fields)
    assert fields["anonymous"] == "anonymous 应为 true 或 false。"
    assert "诉求内容" in fields["text"]
    assert (err["field"], err["message"]) == next(iter(fields.items()))


async def test_a_named_report_without_contact_says_so_beside_the_other_errors(
    client: TestClient,
) -> None:
    resp = await client.post("/api/v1/reports", json={"text": "短", "anonymous": False})
    fields = {e["field"] for e in (await resp.json())["error"]["errors"]}
    assert {"text", "contact"} <= fields


async def test_an_error_without_a_field_lists_none(client: TestClient) -> None:
    resp = await client.get("/api/v1/reports/ZC-2026-999999", params={"code": "nope"})
    assert resp.status == 404
    assert (await resp.json())["error"]["errors"] == []
