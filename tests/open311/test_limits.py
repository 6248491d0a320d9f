"""The public internet cannot guess follow-up codes or flood submissions: 429 in Chinese."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from tests.open311.conftest import MakeClient, new_key

REPORT = {
    "title": "办证窗口推诿",
    "text": "去政务服务大厅办营业执照，窗口说材料不全，问缺什么又不肯一次性告知，跑了三趟。",
}


async def _submit(client: TestClient, **headers: str) -> Any:
    return await client.post("/api/v1/reports", json=REPORT, headers=headers)


async def test_brute_forcing_a_follow_up_code_gets_429(make_client: MakeClient, clock: Any) -> None:
    client = await make_client(code_attempts_per_15min=5)
    body = await (await _submit(client)).json()
    tn, code = body["tracking_number"], body["follow_up_code"]

    # The owner may look as often as they like: right codes do not count.
    for _ in range(8):
        assert (await client.get(f"/api/v1/reports/{tn}", params={"code": code})).status == 200

    statuses = []
    for i in range(8):
        resp = await client.get(f"/api/v1/reports/{tn}", params={"code": f"WRONG-{i:04d}"})
        statuses.append(resp.status)
    assert statuses == [404] * 5 + [429] * 3
    body = await resp.json()
    assert body["error"]["code"] == "rate_limited"
    wait = int(resp.headers["Retry-After"])
    assert (
        body["error"]["message"] == f"查询码输入错误次数较多，为防止他人猜测，请 {wait} 秒后再试。"
    )
    assert 0 < wait <= 60
    # Until the wait is over even the right code waits: the guesser learns nothing more.
    assert (await client.get(f"/api/v1/reports/{tn}", params={"code": code})).status == 429

    clock.advance(seconds=wait)
    assert (await client.get(f"/api/v1/reports/{tn}", params={"code": code})).status == 200


async def test_guessing_one_report_is_slowed_per_address(make_client: MakeClient) -> None:
    # Behind the district's proxy each guess says where it comes from.
    client = await make_client(trusted_proxies="127.0.0.1", code_attempts_per_report=4)
    body = await (await _submit(client)).json()
    tn = body["tracking_number"]
    statuses = []
    for _ in range(6):
        resp = await client.get(
            f"/api/v1/reports/{tn}",
            params={"code": "AAAA-BBBB-CCCC-DDDD-EEEE"},
            headers={"X-Forwarded-For": "203.0.113.1"},
        )
        statuses.append(resp.status)
    assert statuses == [404] * 4 + [429] * 2
    # The citizen, from their own address, is not slowed by someone else's guessing.
    resp = await client.get(
        f"/api/v1/reports/{tn}",
        params={"code": body["follow_up_code"]},
        headers={"X-Forwarded-For": "198.51.100.3"},
    )
    assert resp.status == 200
    # Another report is not affected.
    other = await (await _submit(client)).json()
    resp = await client.get(
        f"/api/v1/reports/{other['tracking_number']}", params={"code": other["follow_up_code"]}
    )
    assert resp.status == 200


async def test_forwarded_for_is_ignored_unless_the_proxy_is_trusted(
    make_client: MakeClient,
) -> None:
    client = await make_client(code_attempts_per_15min=2)
    tn = (await (await _submit(client)).json())["tracking_number"]
    statuses = []
    for i in range(3):
        resp = await client.get(
            f"/api/v1/reports/{tn}",
            params={"code": "x"},
            headers={"X-Forwarded-For": f"198.51.100.{i}"},  # forged: no trusted proxy
        )
        statuses.append(resp.status)
    assert statuses == [404, 404, 429]


async def test_submissions_per_address_are_limited(make_client: MakeClient, clock: Any) -> None:
    client = await make_client(submit_per_hour=3)
    # Mistakes do not count against the citizen.
    resp = await client.post("/api/v1/reports", json={"text": "短"})
    assert resp.status == 400
    assert [(await _submit(client)).status for _ in range(4)] == [201, 201, 201, 429]
    resp = await _submit(client)
    assert resp.status == 429 and "Retry-After" in resp.headers
    assert (await resp.json())["error"]["message"] == "操作过于频繁，请稍后再试。"

    # A machine client's key lifts the per-address limit to the key's own.
    key = await new_key(client, per_minute=100)
    assert (await _submit(client, **{"X-Api-Key": key})).status == 201
    bad = await _submit(client, **{"X-Api-Key": "fbk_deadbeef_" + "A" * 32})
    assert bad.status == 403 and (await bad.json())["error"]["field"] == "api_key"

    clock.advance(minutes=61)
    assert (await _submit(client)).status == 201


async def test_text_length_is_configurable(make_client: MakeClient) -> None:
    client = await make_client(max_text_chars=50)
    resp = await client.post("/api/v1/reports", json={"text": "很长的诉求内容。" * 10})
    assert resp.status == 400
    err = (await resp.json())["error"]
    assert err["field"] == "text" and "50" in err["message"]


async def test_too_many_or_too_big_attachments(make_client: MakeClient) -> None:
    from aiohttp import FormData

    client = await make_client(max_attachments=1, max_attachment_mb=1)
    key = await new_key(client)

    def form(*files: tuple[str, bytes]) -> FormData:
        f = FormData()
        for name, value in (("api_key", key), ("service_code", "zhzf"),
                            ("description", REPORT["text"])):  # fmt: skip
            f.add_field(name, value)
        for fname, data in files:
            f.add_field("media", data, filename=fname, content_type="image/jpeg")
        return f

    jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 100
    resp = await client.post(
        "/open311/v2/requests.json", data=form(("a.jpg", jpeg), ("b.jpg", jpeg))
    )
    assert resp.status == 400 and "最多上传 1 个附件" in (await resp.json())[0]["description"]
    big = jpeg + b"\x00" * (1024 * 1024)
    resp = await client.post("/open311/v2/requests.json", data=form(("big.jpg", big)))
    assert resp.status == 400 and "超过 1 MB" in (await resp.json())[0]["description"]
