"""Hypothesis throws malformed, huge and odd input at every endpoint of the running server.

Never a 500, never a partial write: every 201/200 submission is exactly one report with a
verifying record, and every refusal leaves the database as it was.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.fuzz.conftest import Live

FUZZ = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Odd Unicode: every plane, combining marks, right-to-left, zero-width and control characters.
odd_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=300
) | st.sampled_from(
    [
        "",
        " ",
        "\x00" * 20,
        "\u202e投诉\u202d" * 5,
        "\u200b" * 50,
        "e\u0301" * 100,
        "𠀀𪚥🀄️" * 10,
        "<script>alert(1)</script>" * 3,
        "'; DROP TABLE reports; --" * 2,
        "%s%n%x" * 10,
        "城管执法人员没收了摊贩的秤，没有开任何单据。" * 300,  # far over every limit
    ]
)
json_scalar = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | odd_text
)
json_value = st.recursive(
    json_scalar,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(odd_text, inner, max_size=4),
    max_leaves=10,
)
report_field = st.sampled_from(
    ["title", "text", "kind", "place", "occurred_at", "authority", "anonymous", "contact",
     "telegram_chat_id", "attachments"]
)  # fmt: skip
report_like = st.dictionaries(report_field | odd_text, json_value, max_size=8)
raw_bodies = st.sampled_from(
    [
        b"",
        b"{",
        b"\xff\xfe\x00",
        b'{"text": "\\ud800\\udc00\\ud800 lone surrogate in the middle of a report"}',
        b'{"text": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        b'{"text": 1e999999}',
        b'{"text": "' + "很长".encode() * 4000 + b'"}',
        b'{"title": "t", "text": "\x00\x01\x02 control characters inside the JSON string"}',
        json.dumps({"text": "正常的诉求内容正常的诉求内容", "contact": "not an object"}).encode(),
    ]
) | st.binary(max_size=2000)


def _check_json_error(resp: Any) -> None:
    body = resp.json()
    assert set(body["error"]) == {"code", "message", "field", "errors"}
    assert body["error"]["message"]


def test_submissions_never_500_and_never_half_written(live: Live) -> None:
    before = live.counts()
    accepted: list[str] = []

    @FUZZ
    @given(body=report_like | json_value, raw=st.none() | raw_bodies)
    def post(body: Any, raw: bytes | None) -> None:
        if raw is not None:
            resp = live.session.post(
                f"{live.base_url}/api/v1/reports",
                data=raw,
                headers={"Content-Type": "application/json"},
            )
        else:
            resp = live.session.post(f"{live.base_url}/api/v1/reports", json=body)
        assert resp.status_code in (201, 400, 413), (resp.status_code, resp.text[:300])
        if resp.status_code == 201:
            accepted.append(resp.json()["tracking_number"])
        else:
            _check_json_error(resp)

    post()
    after = live.counts()
    assert after["reports"] - before["reports"] == len(accepted)
    assert after["mismatched"] == 0
    checked, breaks = live.verify()
    assert not breaks and checked == after["reports"]


def test_follow_up_lookups_never_500(live: Live) -> None:
    @FUZZ
    @given(tn=odd_text, code=odd_text, header=st.booleans())
    def look(tn: str, code: str, header: bool) -> None:
        url = f"{live.base_url}/api/v1/reports/{quote(tn, safe='')}"
        if header:
            # Raw UTF-8 bytes in a header, as a hostile client would send them; what HTTP
            # itself cannot carry (line breaks) the client library refuses to send.
            value = code.encode("utf-8").decode("latin-1").strip()
            assume(value.isprintable())
            resp = live.session.get(url, headers={"X-Follow-Up-Code": value})
        else:
            resp = live.session.get(url, params={"code": code})
        assert resp.status_code in (404, 400), (resp.status_code, resp.text[:300])
        if resp.headers.get("Content-Type", "").startswith("application/json"):
            _check_json_error(resp)
        else:
            # Refused by the HTTP parser itself, before the app: still not a 500.
            assert resp.status_code == 400

    look()


open311_field = st.sampled_from(
    ["service_code", "description", "lat", "long", "address_string", "address_id", "email",
     "device_id", "account_id", "first_name", "last_name", "phone", "media_url",
     "attribute[title]", "attribute[kind]", "attribute[issue_type]", "attribute[issue_type][]",
     "attribute[authority]", "attribute[occurred_at]", "attribute[nope]", "attribute[", "api_key"]
)  # fmt: skip


def test_open311_posts_never_500_and_never_half_written(live: Live) -> None:
    before = live.counts()
    accepted: list[str] = []

    @FUZZ
    @given(
        fields=st.lists(st.tuples(open311_field | odd_text, odd_text), max_size=10),
        base=st.fixed_dictionaries(
            {"service_code": st.sampled_from(["zhzf", "sfj", "", "nope"]),
             "description": odd_text}
        ),
        with_key=st.booleans(),
        fmt=st.sampled_from(["json", "xml"]),
    )  # fmt: skip
    def post(fields: list[tuple[str, str]], base: dict[str, str], with_key: bool, fmt: str) -> None:
        data = [*base.items(), *fields]
        if with_key:
            data.insert(0, ("api_key", live.api_key))
        resp = live.session.post(f"{live.base_url}/open311/v2/requests.{fmt}", data=data)
        assert resp.status_code in (200, 400, 403, 413), (resp.status_code, resp.text[:300])
        if fmt == "json":
            body = resp.json()
            if resp.status_code == 200:
                accepted.append(body[0]["service_request_id"])
            else:
                assert body[0]["code"] == resp.status_code and body[0]["description"]
        else:
            import xml.etree.ElementTree as ET

            root = ET.fromstring(resp.text)
            if resp.status_code == 200:
                accepted.append(root.findtext("request/service_request_id") or "")
            else:
                assert root.tag == "errors"

    post()
    after = live.counts()
    assert after["reports"] - before["reports"] == len(accepted)
    assert after["mismatched"] == 0
    assert not live.verify()[1]


def test_open311_reads_never_500(live: Live) -> None:
    params = st.dictionaries(
        st.sampled_from(["service_request_id", "service_code", "start_date", "end_date",
                         "status", "page"]) | odd_text,
        odd_text | st.sampled_from(["open", "closed", "2026-03-01", "2026-03-01T00:00:00Z"]),
        max_size=5,
    )  # fmt: skip

    @FUZZ
    @given(
        what=st.sampled_from(["requests", "services", "discovery", "requests/", "services/"]),
        tail=odd_text,
        query=params,
        fmt=st.sampled_from(["json", "xml", "csv", ""]),
    )
    def read(what: str, tail: str, query: dict[str, str], fmt: str) -> None:
        path = what + (quote(tail, safe="") if what.endswith("/") else "")
        resp = live.session.get(f"{live.base_url}/open311/v2/{path}.{fmt}", params=query)
        assert resp.status_code in (200, 400, 404), (resp.status_code, resp.text[:300])

    read()
