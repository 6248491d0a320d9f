"""One input model for every channel (issue 15): the JSON API and Open311 check a report with
the same SubmitInput, Open311's 4,000-character description is its declared variant, every
error comes back from one check, and the OpenAPI document is generated from the model."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from feedback import validation
from feedback.models import Channel
from tests.open311.conftest import new_key

V2 = "/open311/v2"
LONG = "城管执法人员在东门市场收缴摊贩的秤和货物，没有开具任何单据，也没有出示执法证件。" * 110


def test_every_mistake_of_a_report_is_found_in_one_check() -> None:
    _, errors = validation.submit_errors(
        {"text": "太短", "place": "路" * 201, "anonymous": "0", "contact": {"phone": "12"}},
        Channel.WEB,
    )
    assert errors == {
        "text": "诉求内容至少需要 10 个字。",
        "place": "地点不能超过 200 个字（现在 201 个）。",
        "contact.phone": "手机号码应为 11 位数字，座机请带区号，如 0533-1234567。",
    }


async def test_open311_keeps_its_own_description_limit_the_json_api_does_not(
    client: TestClient,
) -> None:
    assert 4000 < len(LONG) < 5000
    key = await new_key(client)
    resp = await client.post(
        f"{V2}/requests.json", data={"api_key": key, "service_code": "zhzf", "description": LONG}
    )
    assert resp.status == 400
    [error] = await resp.json()
    assert "description（诉求内容）不能超过 4000 个字" in error["description"]
    resp = await client.post("/api/v1/reports", json={"title": "收缴不开单", "text": LONG})
    assert resp.status == 201


async def test_the_documented_report_body_is_the_model(client: TestClient) -> None:
    doc = await (await client.get("/api/v1/openapi.json")).json()
    schemas = doc["components"]["schemas"]
    body = schemas["NewReport"]["properties"]
    public = set(validation.SubmitInput.model_fields) - {"channel", "telegram_chat_id"}
    assert set(body) == public and schemas["NewReport"]["required"] == ["text"]
    assert set(schemas["ContactInput"]["properties"]) == {"name", "phone"}
    description = schemas["O311NewRequest"]["properties"]["description"]
    assert description["maxLength"] == validation.Open311Input.text_cap == 4000
