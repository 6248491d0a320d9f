"""Values that parse but no store can hold -- a date in the year 1, a row id of 20 digits --
are the sender's mistake: a 4xx saying so, never a 500."""

from __future__ import annotations

import pytest

from tests.web.conftest import MakeVisitor

V2 = "/open311/v2"


@pytest.mark.parametrize(
    "query",
    [
        "requests.json?start_date=0001-01-01",
        "requests.json?end_date=0001-01-01",
        "requests.xml?start_date=0001-01-01T00:00:00%2B14:00",
        "requests.json?start_date=9999-12-31T23:59:59-14:00",
        "servicerequestupdates.json?end_date=0001-01-01",
        "servicerequestupdates.json?start_date=0001-01-01&end_date=0001-01-02",
    ],
)
async def test_an_open311_date_at_the_end_of_the_calendar_is_a_400(
    visitor: MakeVisitor, query: str
) -> None:
    v = await visitor()
    resp = await v.client.get(f"{V2}/{query}")
    body = await resp.text()
    assert resp.status == 400, body[:300]
    assert "年之间" in (body if ".xml" in query else str(await resp.json()))
    # An ordinary window still answers.
    ok = await v.client.get(f"{V2}/requests.json", params={"start_date": "2026-01-01"})
    assert ok.status == 200


TOO_BIG = "9" * 20  # digits, but more than any 64-bit row id


async def test_a_public_support_for_a_report_id_of_twenty_digits_is_a_404(
    visitor: MakeVisitor,
) -> None:
    v = await visitor()
    await v.get("/report")  # a page with a form: this browser's token
    for raw in (TOO_BIG, "-" + TOO_BIG, "0"):
        status, html = await v.post("/public/support", {"report": raw})
        assert status == 404, html[:300]
        assert "不能附议" in html and "服务器内部错误" not in html


@pytest.mark.parametrize(
    ("user", "method", "path"),
    [
        ("zjj1", "GET", f"/staff/attachments/{TOO_BIG}"),
        ("admin", "POST", f"/staff/replies/{TOO_BIG}/delete"),
        ("sup1", "POST", f"/staff/notices/{TOO_BIG}/retry"),
    ],
)
async def test_a_staff_link_with_a_row_id_of_twenty_digits_is_a_404(
    visitor: MakeVisitor, user: str, method: str, path: str
) -> None:
    v = await visitor(user)
    if method == "GET":
        status, html = await v.get(path)
    else:
        status, html = await v.post(path, {})
    assert status == 404, html[:300]
    assert "服务器内部错误" not in html
