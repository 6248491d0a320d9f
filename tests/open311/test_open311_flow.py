"""A 12345 hotline platform talks Open311 GeoReport v2 to the running app."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from aiohttp.test_utils import TestClient

from tests.conftest import staff
from tests.open311.conftest import MakeClient, new_key
from web.keys import service_key

V2 = "/open311/v2"
TEXT = "城管执法人员在东门市场收缴摊贩的秤和货物，没有开具任何单据，也没有出示执法证件。"


async def _post(client: TestClient, fmt: str = "json", **fields: Any) -> Any:
    return await client.post(f"{V2}/requests.{fmt}", data=fields)


async def test_discover_list_post_and_follow(client: TestClient) -> None:
    key = await new_key(client)

    discovery = await (await client.get(f"{V2}/discovery.json")).json()
    endpoint = discovery["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2") and "text/xml" in endpoint["formats"]

    services = await (await client.get(f"{V2}/services.json")).json()
    by_code = {s["service_code"]: s for s in services}
    assert by_code["zhzf"]["service_name"] == "区综合行政执法局"
    assert by_code["zhzf"]["metadata"] is True and by_code["zhzf"]["type"] == "realtime"

    definition = await (await client.get(f"{V2}/services/zhzf.json")).json()
    attrs = {a["code"]: a for a in definition["attributes"]}
    assert attrs["issue_type"]["datatype"] == "multivaluelist"
    assert {v["key"] for v in attrs["issue_type"]["values"]} >= {"opacity", "abuse_of_power"}
    assert attrs["kind"]["datatype"] == "singlevaluelist"

    resp = await client.post(
        f"{V2}/requests.json",
        data=[
            ("api_key", key),
            ("service_code", "zhzf"),
            ("description", TEXT),
            ("address_string", "淄川区东门市场"),
            ("lat", "36.6433"),
            ("long", "117.9666"),
            ("first_name", "明"),
            ("last_name", "王"),
            ("phone", "13800138000"),
            ("email", "wang@example.com"),
            ("attribute[issue_type][]", "opacity"),
            ("attribute[issue_type][]", "abuse_of_power"),
            ("attribute[kind]", "complaint"),
        ],
    )
    assert resp.status == 200, await resp.text()
    posted = (await resp.json())[0]
    tn = posted["service_request_id"]
    assert tn.startswith("ZC-2026-") and posted["follow_up_code"]
    assert tn in posted["service_notice"]

    got = await (await client.get(f"{V2}/requests/{tn}.json")).json()
    req = got[0]
    assert req["service_request_id"] == tn and req["status"] == "open"
    assert req["requested_datetime"].endswith("+08:00")
    assert req["expected_datetime"]  # the sign-for deadline
    assert req["agency_responsible"] and req["status_notes"]
    # Public-safe: nothing the citizen wrote, no contact, no place.
    body = await (await client.get(f"{V2}/requests/{tn}.json")).text()
    for private in ("13800138000", "王", "东门市场", "秤和货物", "wang@example.com"):
        assert private not in body

    # Routed and tracked like any other report: the citizen follows up with the code...
    status = await client.get(f"/api/v1/reports/{tn}", params={"code": posted["follow_up_code"]})
    assert status.status == 200
    assert (await status.json())["status"] in ("routed", "triage")
    # ...the report carries the stated authority and the hotline's notes for staff...
    service = client.server.app[service_key]  # type: ignore[attr-defined]
    report = await service.store.get_report(tn)
    assert report is not None
    assert report.channel.value == "api" and report.authority == "区综合行政执法局"
    assert report.contact.phone == "13800138000" and not report.anonymous
    assert "来件渠道：12345-hotline（Open311）" in report.text
    assert "不透明/公示不到位" in report.text
    assert report.place and "东门市场" in report.place
    # ...and its record verifies.
    checked, breaks = await service.verify_records()
    assert checked == 1 and not breaks

    # When the bureau signs for it, Open311 readers see the new state and the answer deadline.
    assigned = report.department or "zhzf"
    if report.department is None:
        from tests.conftest import SUPERVISOR

        await service.assign(SUPERVISOR, tn, "zhzf")
    await service.accept(staff(assigned), tn)
    req = (await (await client.get(f"{V2}/requests/{tn}.json")).json())[0]
    assert "已签收" in req["status_notes"] and req["service_code"] == assigned


async def test_xml_everywhere(client: TestClient) -> None:
    key = await new_key(client)
    root = ET.fromstring(await (await client.get(f"{V2}/discovery.xml")).text())
    assert root.tag == "discovery"
    assert root.find("endpoints/endpoint/specification").text.endswith("GeoReport_v2")  # type: ignore[union-attr]

    resp = await client.get(f"{V2}/services.xml")
    assert resp.content_type == "text/xml"
    root = ET.fromstring(await resp.text())
    assert root.tag == "services"
    codes = [s.findtext("service_code") for s in root.findall("service")]
    assert "zhzf" in codes and "sfj" in codes

    root = ET.fromstring(await (await client.get(f"{V2}/services/sthj.xml")).text())
    assert root.tag == "service_definition"
    values = root.findall("attributes/attribute/values/value")
    assert any(v.findtext("key") == "inaction" for v in values)

    resp = await _post(client, "xml", api_key=key, service_code="sthj", description=TEXT)
    root = ET.fromstring(await resp.text())
    assert root.tag == "service_requests"
    tn = root.findtext("request/service_request_id")
    assert tn

    root = ET.fromstring(await (await client.get(f"{V2}/requests/{tn}.xml")).text())
    assert root.findtext("request/service_request_id") == tn
    assert root.findtext("request/status") == "open"

    resp = await client.get(f"{V2}/requests/ZC-2026-999999.xml")
    assert resp.status == 404
    root = ET.fromstring(await resp.text())
    assert root.tag == "errors" and root.findtext("error/code") == "404"
    assert root.findtext("error/description")


async def test_errors_are_the_standard_list(client: TestClient) -> None:
    key = await new_key(client)

    async def error(resp: Any, status: int) -> str:
        assert resp.status == status, await resp.text()
        body = await resp.json()
        assert isinstance(body, list) and body[0]["code"] == status
        return str(body[0]["description"])

    await error(await _post(client, service_code="zhzf", description=TEXT), 403)
    await error(await _post(client, api_key="fbk_00000000_" + "x" * 32, service_code="zhzf",
                            description=TEXT), 403)  # fmt: skip
    assert "service_code" in await error(await _post(client, api_key=key, description=TEXT), 400)
    await error(await _post(client, api_key=key, service_code="nope", description=TEXT), 400)
    assert "10" in await error(
        await _post(client, api_key=key, service_code="zhzf", description="太短"), 400
    )
    await error(await _post(client, api_key=key, service_code="zhzf", description=TEXT,
                            lat="91", long="0"), 400)  # fmt: skip
    await error(await _post(client, api_key=key, service_code="zhzf", description=TEXT,
                            **{"attribute[colour]": "red"}), 400)  # fmt: skip
    await error(await _post(client, api_key=key, service_code="zhzf", description=TEXT,
                            **{"attribute[issue_type]": "made_up"}), 400)  # fmt: skip
    await error(await _post(client, api_key=key, service_code="zhzf", description=TEXT,
                            phone="12345"), 400)  # fmt: skip
    await error(await client.get(f"{V2}/services/nope.json"), 404)
    await error(await client.get(f"{V2}/requests/not-a-number.json"), 404)
    await error(await client.get(f"{V2}/nothing.json"), 404)
    await error(await client.delete(f"{V2}/requests.json"), 405)
    await error(await client.get(f"{V2}/requests.json", params={"start_date": "yesterday"}), 400)
    await error(await client.get(f"{V2}/requests.json", params={"status": "pending"}), 400)

    # No refused request left anything behind.
    service = client.server.app[service_key]  # type: ignore[attr-defined]
    checked, _ = await service.verify_records()
    assert checked == 0


async def test_revoked_key_is_refused(client: TestClient) -> None:
    from datetime import UTC, datetime

    from feedback import apikeys

    key = await new_key(client, "city-app")
    assert (await _post(client, api_key=key, service_code="zhzf", description=TEXT)).status == 200
    store = client.server.app[service_key].store  # type: ignore[attr-defined]
    await apikeys.revoke(store, "city-app", datetime.now(UTC))
    resp = await _post(client, api_key=key, service_code="zhzf", description=TEXT)
    assert resp.status == 403


async def test_list_with_filters(client: TestClient, clock: Any) -> None:
    key = await new_key(client)
    ids = []
    for code in ("zhzf", "sthj", "zhzf"):
        resp = await _post(client, api_key=key, service_code=code, description=TEXT)
        ids.append((await resp.json())[0]["service_request_id"])
        clock.advance(hours=1)

    everything = await (await client.get(f"{V2}/requests.json")).json()
    assert [r["service_request_id"] for r in everything] == ids[::-1]  # newest first
    closed = await (await client.get(f"{V2}/requests.json", params={"status": "closed"})).json()
    assert closed == []
    some = await (
        await client.get(f"{V2}/requests.json", params={"service_request_id": f"{ids[0]},{ids[2]}"})
    ).json()
    assert {r["service_request_id"] for r in some} == {ids[0], ids[2]}
    later = await (
        await client.get(f"{V2}/requests.json", params={"start_date": "2026-03-10T10:00:00+08:00"})
    ).json()
    assert [r["service_request_id"] for r in later] == [ids[2], ids[1]]
    # Older than 90 days drops out of the default list.
    clock.advance(days=91)
    assert await (await client.get(f"{V2}/requests.json")).json() == []


async def test_media_checked_by_content(client: TestClient) -> None:
    from aiohttp import FormData

    key = await new_key(client)
    png = (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00"
        b"\x00\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
        b"\x00\x00\x00\x00IEND\xaeB`\x82"
    )

    def form(name: str, data: bytes) -> FormData:
        f = FormData()
        f.add_field("api_key", key)
        f.add_field("service_code", "zhzf")
        f.add_field("description", TEXT)
        f.add_field("media", data, filename=name, content_type="image/png")
        return f

    resp = await client.post(f"{V2}/requests.json", data=form("现场.png", png))
    assert resp.status == 200, await resp.text()
    tn = (await resp.json())[0]["service_request_id"]
    report = await client.server.app[service_key].store.get_report(tn)  # type: ignore[attr-defined]
    assert report is not None and report.attachments[0].content_type == "image/png"

    resp = await client.post(
        f"{V2}/requests.json", data=form("假图片.png", b"MZ\x90\x00 not an image")
    )
    assert resp.status == 400
    assert "假图片.png" in (await resp.json())[0]["description"]


async def test_key_rate_limit_answers_429(make_client: MakeClient, clock: Any) -> None:
    client = await make_client()
    key = await new_key(client, per_minute=2)
    for _ in range(2):
        assert (
            await _post(client, api_key=key, service_code="zhzf", description=TEXT)
        ).status == 200
    resp = await _post(client, api_key=key, service_code="zhzf", description=TEXT)
    assert resp.status == 429
    assert int(resp.headers["Retry-After"]) > 0
    assert "操作过于频繁" in (await resp.json())[0]["description"]
    # Refused input does not use up the key's allowance; time does free it.
    clock.advance(seconds=61)
    assert (await _post(client, api_key=key, service_code="zhzf", description="短")).status == 400
    assert (await _post(client, api_key=key, service_code="zhzf", description=TEXT)).status == 200
