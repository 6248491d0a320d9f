"""What FixMyStreet's Open311 client sends, request by request, against the app `feedback
serve` builds (feedback.runtime.build_web_app): photos as multipart parts photo1, photo2…, a
list of service codes, its requests found by its own api_key whatever bureau took them, and
the updates read back through mySociety's servicerequestupdates extension.

FixMyStreet's own perllib/Open311.pm is run in test_fixmystreet_open311_pm.py (where a
FixMyStreet checkout is at hand). These requests imitate it and need no checkout: its upload
mode, its parameter names, and its answers read back with Perl's XML::Simple configured as
Open311.pm configures it (skipped without Perl)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from feedback import apikeys
from feedback.runtime import build_web_app
from feedback.settings import Settings
from tests.bot.fake_telegram import JPEG
from tests.conftest import SUPERVISOR, staff
from web.keys import service_key

V2 = "/open311/v2"
TEXT = "城管执法人员在东门市场收缴摊贩的秤和货物，没有开具任何单据，也没有出示执法证件。"
ANSWER = "经核查，执法队员未出具单据属实，已退还物品并对相关人员批评教育。"


@pytest.fixture
async def served(aiohttp_client: Any, tmp_path: Path) -> TestClient:
    settings = Settings(db=str(tmp_path / "fms.db"), data_dir=str(tmp_path / "data"),
                        tick_seconds=0)  # fmt: skip
    return await aiohttp_client(build_web_app(settings))


async def key_for(client: TestClient, name: str) -> str:
    service = client.server.app[service_key]  # type: ignore[attr-defined]
    _, secret = await apikeys.create(service.store, name, 60, datetime.now(UTC))
    return secret


def fms_form(key: str, code: str, photos: int = 0) -> aiohttp.FormData:
    """A POST as Open311.pm's upload_files mode builds it (multipart, photos as photoN)."""
    form = aiohttp.FormData()
    for name, value in (("api_key", key), ("service_code", code), ("description", TEXT),
                        ("lat", "36.6433"), ("long", "117.9666"), ("first_name", "张"),
                        ("last_name", "三"), ("email", "z@example.com"),
                        ("attribute[title]", "收缴秤和货物不开单据")):  # fmt: skip
        form.add_field(name, value)
    for n in range(1, photos + 1):
        form.add_field(f"photo{n}", JPEG, filename=f"photo{n}.jpeg", content_type="image/jpeg")
    return form


async def test_fixmystreet_posts_photos_lists_its_requests_and_reads_updates(
    served: TestClient,
) -> None:
    client = served
    service = client.server.app[service_key]  # type: ignore[attr-defined]
    fms, other = await key_for(client, "fixmystreet"), await key_for(client, "hotline")

    resp = await client.post(f"{V2}/requests.xml", data=fms_form(fms, "wjj", photos=2))
    assert resp.status == 200, await resp.text()
    tn = ET.fromstring(await resp.text()).findtext("request/service_request_id")
    assert tn
    report = await service.store.get_report(tn)
    assert report is not None and len(report.attachments) == 2  # photo1 and photo2 kept
    assert {a.content_type for a in report.attachments} == {"image/jpeg"}
    assert report.contact.name == "张 三"  # as typed, though FixMyStreet split it in two
    theirs = await client.post(f"{V2}/requests.json", data=fms_form(other, "zjj"))
    their_tn = (await theirs.json())[0]["service_request_id"]

    # A file that is not an image is refused as the web form refuses it, under any part name.
    bad = fms_form(fms, "zhzf")
    bad.add_field("photo1", b"#!/bin/sh\necho hi\n", filename="photo1.jpeg",
                  content_type="image/jpeg")  # fmt: skip
    resp = await client.post(f"{V2}/requests.json", data=bad)
    assert resp.status == 400
    assert (await resp.json())[0]["description"]

    # The bureau that took it need not be the one the client guessed; the client's key finds it.
    if report.department is None:
        await service.assign(SUPERVISOR, tn, "zhzf")
    report = await service.store.get_report(tn)
    assert report is not None and report.department
    listed = await client.get(f"{V2}/requests.json", params={"api_key": fms})
    mine = await listed.json()
    assert [r["service_request_id"] for r in mine] == [tn]
    assert mine[0]["agency_responsible"].startswith(
        service.config.department_name(report.department)
    )
    # A comma-separated list of service codes (the standard allows it).
    codes = ",".join(dict.fromkeys([report.department, "zjj"]))
    listed = await client.get(f"{V2}/requests.json", params={"service_code": codes})
    assert listed.status == 200, await listed.text()
    found = {r["service_request_id"] for r in await listed.json()}
    assert tn in found
    by_id = (await (await client.get(f"{V2}/requests/{tn}.json")).json())[0]
    in_list = (await (await client.get(f"{V2}/requests.json",
                                       params={"service_request_id": tn})).json())[0]  # fmt: skip
    assert by_id["status_notes"] == in_list["status_notes"]
    assert their_tn not in {r["service_request_id"] for r in mine}

    # The bureau signs for it and answers: FixMyStreet reads the updates back.
    bureau = staff(report.department)
    await service.accept(bureau, tn)
    await service.answer(bureau, tn, ANSWER)
    now = datetime.now(UTC)
    window = {"api_key": fms, "start_date": (now - timedelta(hours=1)).isoformat(),
              "end_date": (now + timedelta(minutes=1)).isoformat()}  # fmt: skip
    resp = await client.get(f"{V2}/servicerequestupdates.xml", params=window)
    assert resp.status == 200, await resp.text()
    root = ET.fromstring(await resp.text())
    updates = [u for u in root.findall("request_update")
               if u.findtext("service_request_id") == tn]  # fmt: skip
    descriptions = [u.findtext("description") or "" for u in updates]
    assert any("签收" in d for d in descriptions) and any("答复" in d for d in descriptions)
    for u in updates:
        assert u.findtext("update_id") and u.findtext("status") in ("open", "closed")
        assert (u.findtext("updated_datetime") or "").endswith("+08:00")
    assert ANSWER not in await resp.text()  # public-safe, as the requests themselves
    as_json = await (await client.get(f"{V2}/servicerequestupdates.json", params=window)).json()
    assert {u["update_id"] for u in as_json} >= {u.findtext("update_id") for u in updates}
    later = {"start_date": (now + timedelta(minutes=2)).isoformat(),
             "end_date": (now + timedelta(minutes=3)).isoformat()}  # fmt: skip
    assert await (await client.get(f"{V2}/servicerequestupdates.json", params=later)).json() == []


async def test_a_json_body_is_told_to_be_a_form(served: TestClient) -> None:
    key = await key_for(served, "json-client")
    resp = await served.post(f"{V2}/requests.json",
                             json={"api_key": key, "service_code": "zhzf", "description": TEXT})  # fmt: skip
    assert resp.status == 400
    assert "form-encoded" in (await resp.json())[0]["description"]


# How Open311.pm reads every answer (its _get_xml_object): XML::Simple with these options.
READ_AS_FIXMYSTREET = r"""
use strict; use warnings; use XML::Simple; use JSON;
my $tags = { services => 'service', attributes => 'attribute', values => 'value',
             service_requests => 'request', errors => 'error',
             service_request_updates => 'request_update', groups => 'group' };
my $xml = do { local $/; <STDIN> };
my $obj = XML::Simple->new(ForceArray => [ values %$tags ], KeyAttr => {},
                           GroupTags => $tags, SuppressEmpty => undef)->XMLin($xml);
print JSON->new->canonical->encode($obj);
"""


def _perl_reads(xml: str) -> Any:
    import json
    import subprocess

    done = subprocess.run(["perl", "-e", READ_AS_FIXMYSTREET], input=xml.encode(),
                          capture_output=True, timeout=30)  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()
    return json.loads(done.stdout)


def _perl_missing() -> str | None:
    import shutil
    import subprocess

    if shutil.which("perl") is None:
        return "perl is not installed"
    ok = subprocess.run(["perl", "-MXML::Simple", "-MJSON", "-e1"], capture_output=True)
    return None if ok.returncode == 0 else "Perl's XML::Simple or JSON is missing " \
        "(Debian: libxml-simple-perl libjson-perl)"  # fmt: skip


@pytest.mark.skipif(_perl_missing() is not None, reason=str(_perl_missing()))
async def test_fixmystreets_xml_reader_finds_the_request_and_its_updates(
    served: TestClient,
) -> None:
    """Read with XML::Simple as Open311.pm configures it: the posted id at
    {request}[0]{service_request_id}, the updates at {request_update}[…]."""
    client = served
    service = client.server.app[service_key]  # type: ignore[attr-defined]
    key = await key_for(client, "fixmystreet")
    resp = await client.post(f"{V2}/requests.xml", data=fms_form(key, "zhzf", photos=1))
    posted = _perl_reads(await resp.text())
    tn = posted["request"][0]["service_request_id"]
    report = await service.store.get_report(tn)
    assert report is not None
    if report.department is None:
        await service.assign(SUPERVISOR, tn, "zhzf")
        report = await service.store.get_report(tn)
    assert report is not None and report.department
    await service.accept(staff(report.department), tn)
    now = datetime.now(UTC)
    window = {"start_date": (now - timedelta(hours=1)).isoformat(timespec="seconds"),
              "end_date": (now + timedelta(minutes=1)).isoformat(timespec="seconds")}  # fmt: skip
    resp = await client.get(f"{V2}/servicerequestupdates.xml", params=window)
    updates = _perl_reads(await resp.text())["request_update"]
    mine = [u for u in updates if u["service_request_id"] == tn]
    assert mine and any("签收" in u["description"] for u in mine)
    assert all(u["update_id"] and u["status"] == "open" for u in mine)
    errors = _perl_reads(await (await client.get(f"{V2}/requests/ZC-2026-999999.xml")).text())
    assert errors["error"][0]["code"] == "404"
