"""An integrator's first calls: who runs the endpoint, and what a POST without a key is told."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from web.open311 import agency_name

V2 = "/open311/v2"
TEXT = "城管执法人员在东门市场收缴摊贩的秤和货物，没有开具任何单据，也没有出示执法证件。"


def test_agency_name_says_the_level_once() -> None:
    assert agency_name("淄川区", "区司法局") == "淄川区司法局"
    assert agency_name("淄川区", "淄川区司法局") == "淄川区司法局"
    assert agency_name("桓台县", "县司法局") == "桓台县司法局"
    assert agency_name("淄川区", "司法局") == "淄川区司法局"
    assert agency_name("", "区司法局") == "区司法局"


async def test_discovery_contact_has_no_double_district(client: TestClient) -> None:
    body = await (await client.get(f"{V2}/discovery.json")).json()
    assert body["contact"] == "淄川区司法局"


async def _errors(resp: Any) -> list[dict[str, Any]]:
    assert resp.status == 403, await resp.text()
    body = await resp.json()
    assert isinstance(body, list) and body[0]["code"] == 403
    return list(body)


async def test_post_without_or_with_a_bad_key_is_told_which(client: TestClient) -> None:
    resp = await client.post(
        f"{V2}/requests.json", data={"service_code": "zhzf", "description": TEXT}
    )
    (err,) = await _errors(resp)
    assert err["description"].startswith("api_key required")
    assert "API 密钥" in err["description"] and "您无权访问此页面" not in err["description"]

    resp = await client.post(
        f"{V2}/requests.json",
        data={"api_key": "fbk_00000000_" + "x" * 32, "service_code": "zhzf", "description": TEXT},
    )
    (err,) = await _errors(resp)
    assert err["description"].startswith("invalid api_key") and "无效" in err["description"]

    # The XML form of the same list, for clients that ask for it.
    resp = await client.post(f"{V2}/requests.xml", data={"service_code": "zhzf"})
    text = await resp.text()
    assert resp.status == 403 and "<errors>" in text and "api_key required" in text
