"""FixMyStreet's own Open311 client, perllib/Open311.pm, run unmodified against the app
`feedback serve` builds (feedback.runtime.build_web_app) on a real port: it lists the
services and reads a definition, posts a report with its photos uploaded as photo1, photo2
parts, finds its requests by a list of service codes, and reads the bureau's progress back
as updates.

FixMyStreet is not part of this repository. The test finds a checkout's perllib at run time:
FEEDBACK_FIXMYSTREET_PERLLIB, or ../fixmystreet/perllib beside this checkout; without one it
skips and says how to get it. tests/open311/fixmystreet_open311.pl is the driver (it says
which FixMyStreet application modules it stands in for, and why)."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from feedback import apikeys, attachments
from feedback.models import Status
from feedback.runtime import build_web_app
from feedback.service import FeedbackService
from feedback.settings import Settings
from tests.bot.fake_telegram import JPEG
from tests.conftest import SUPERVISOR, staff
from web.keys import service_key, settings_key

HERE = Path(__file__).resolve().parent
DRIVER = HERE / "fixmystreet_open311.pl"
CHECKOUT = HERE.parents[1].parent / "fixmystreet" / "perllib"
HOW_TO_GET = (
    "git clone https://github.com/mysociety/fixmystreet /srv/fixmystreet && "
    "export FEEDBACK_FIXMYSTREET_PERLLIB=/srv/fixmystreet/perllib"
)
# What Open311.pm and the driver load from Debian (scripts/test installs them).
PERL_MODULES = {
    "Moo": "libmoo-perl",
    "MooX::Types::MooseLike::Base": "libmoox-types-mooselike-perl",
    "LWP::UserAgent": "libwww-perl",
    "URI": "liburi-perl",
    "XML::Simple": "libxml-simple-perl",
    "DateTime::Format::W3CDTF": "libdatetime-format-w3cdtf-perl",
    "Path::Tiny": "libpath-tiny-perl",
    "Try::Tiny": "libtry-tiny-perl",
    "JSON": "libjson-perl",
}
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00"
    b"\x00\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)
TITLE = "收缴秤和货物不开单据"
DETAIL = "城管执法人员在东门市场收缴摊贩的秤和货物，没有开具任何单据，也没有出示执法证件。"
ANSWER = "经核查，执法队员未出具单据属实，已退还物品并对相关人员批评教育。"
REPORT_URL = "https://fixmystreet.example.cn/report/7"


def perllib() -> Path | None:
    found = os.environ.get("FEEDBACK_FIXMYSTREET_PERLLIB")
    path = Path(found) if found else CHECKOUT
    return path if (path / "Open311.pm").is_file() else None


def why_not() -> str | None:
    if shutil.which("perl") is None:
        return "perl is not installed (Debian: apt-get install perl)"
    missing = [
        package
        for module, package in PERL_MODULES.items()
        if subprocess.run(["perl", f"-M{module}", "-e1"], capture_output=True).returncode
    ]
    if missing:
        return "Perl modules missing (scripts/test installs them): apt-get install " + " ".join(
            missing
        )
    if perllib() is None:
        where = os.environ.get("FEEDBACK_FIXMYSTREET_PERLLIB") or str(CHECKOUT)
        return f"no FixMyStreet perllib/Open311.pm at {where}; to run it: {HOW_TO_GET}"
    return None


pytestmark = pytest.mark.skipif(why_not() is not None, reason=str(why_not()))


@dataclass
class Served:
    app: web.Application
    endpoint: str
    key: str

    @property
    def service(self) -> FeedbackService:
        return self.app[service_key]

    async def fixmystreet(self, call: str, **args: Any) -> Any:
        """One call of Open311.pm, as FixMyStreet makes it; what it returned."""
        lib = perllib()
        assert lib is not None
        proc = await asyncio.create_subprocess_exec(
            "perl", str(DRIVER), str(lib), self.endpoint, self.key, call,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env={**os.environ, "LC_ALL": "C"},
        )  # fmt: skip
        out, err = await asyncio.wait_for(proc.communicate(json.dumps(args).encode()), 60)
        assert proc.returncode == 0, err.decode()
        answer = json.loads(out)
        assert answer["success"], answer["error"]
        return answer["result"]


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    # Loopback allowed for media_url: the photo server below is a local peer.
    settings = Settings(db=str(tmp_path / "fms.db"), data_dir=str(tmp_path / "data"),
                        tick_seconds=0, media_url_allow_networks="127.0.0.1/32")  # fmt: skip
    app = build_web_app(settings)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    _, key = await apikeys.create(app[service_key].store, "fixmystreet", 60, datetime.now(UTC))
    yield Served(app, f"http://127.0.0.1:{server.port}/open311/v2/", key)
    await server.close()


def problem(photos: list[tuple[str, bytes]]) -> dict[str, Any]:
    """A FixMyStreet problem as its database row gives it to Open311.pm."""
    return {
        "id": 7,
        "title": TITLE,
        "detail": DETAIL,
        "name": "张 三",
        "used_map": 1,
        "latitude": 36.64331234,
        "longitude": 117.96661111,
        "postcode": "",
        "cobrand": "fixmystreet",
        "user": {"email": "zhangsan@example.cn"},
        "photos": [
            {
                "id": f"{n}.{kind.split('/')[1]}",
                "content_type": kind,
                "data": base64.b64encode(data).decode(),
            }
            for n, (kind, data) in enumerate(photos)
        ],
    }


async def test_fixmystreets_open311_pm_posts_photos_lists_and_reads_updates(
    served: Served,
) -> None:
    # FixMyStreet reads what it may send: the services and one service's attributes.
    services = (await served.fixmystreet("get_service_list"))["service"]
    codes = {s["service_code"]: s for s in services}
    assert {"zhzf", "wjj", "zjj"} <= codes.keys()
    assert codes["zhzf"]["service_name"] == "区综合行政执法局"
    assert codes["zhzf"]["metadata"] == "true"
    definition = await served.fixmystreet("get_service_meta_info", service_code="wjj")
    attributes = {a["code"]: a for a in definition["attributes"]}
    assert attributes.keys() == {"title", "kind", "issue_type", "authority", "occurred_at"}
    assert [v["key"] for v in attributes["kind"]["values"]] == ["complaint", "consultation"]

    # Its upload mode: the photos as multipart parts photo1, photo2, no media_url.
    tn = await served.fixmystreet(
        "send_service_request",
        service_code="wjj",
        options={"upload_files": 1, "always_upload_photos": 1},
        extra={"url": REPORT_URL},
        problem=problem([("image/jpeg", JPEG), ("image/png", PNG)]),
    )
    assert isinstance(tn, str) and tn.startswith("ZC-")

    # The district has the report: FixMyStreet's title, detail and link, the name as typed,
    # the place, and both photos stored, checked by their content.
    service = served.service
    report = await service.store.get_report(tn)
    assert report is not None
    assert TITLE in report.text and DETAIL in report.text and REPORT_URL in report.text
    assert "来件渠道：fixmystreet（Open311）" in report.text
    assert report.contact.name == "张 三"
    assert report.place == "经纬度 36.643312,117.966611"
    assert [a.content_type for a in report.attachments] == ["image/jpeg", "image/png"]
    root = served.app[settings_key].attachments_dir
    assert [attachments.path_of(root, a).read_bytes() for a in report.attachments] == [JPEG, PNG]

    # FixMyStreet's list of its codes finds the request, whichever of them routing chose.
    if report.status is Status.TRIAGE:
        await service.assign(SUPERVISOR, tn, "zhzf")
    report = await service.store.get_report(tn)
    assert report is not None and report.department
    codes_list = ",".join(dict.fromkeys(["wjj", report.department]))
    found = await served.fixmystreet("get_service_requests", args={"service_code": codes_list})
    [mine] = [r for r in found if r["service_request_id"] == tn]
    assert mine["status"] == "open" and mine["service_code"] == report.department
    assert mine["requested_datetime"].endswith("+08:00")
    by_id = await served.fixmystreet("get_service_requests", args={"report_ids": [tn]})
    assert [r["service_request_id"] for r in by_id] == [tn]

    # The bureau signs for it and answers; FixMyStreet reads the updates back, as its
    # fetch-updates job asks (W3CDTF times in UTC, its api_key).
    bureau = staff(report.department)
    await service.accept(bureau, tn)
    await service.answer(bureau, tn, ANSWER)
    now = datetime.now(UTC).replace(microsecond=0)
    updates = await served.fixmystreet(
        "get_service_request_updates",
        start_date=(now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        end_date=(now + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    theirs = [u for u in updates if u["service_request_id"] == tn]
    descriptions = [u["description"] for u in theirs]
    assert any("签收" in d for d in descriptions) and any("答复" in d for d in descriptions)
    assert len({u["update_id"] for u in theirs}) == len(theirs)
    assert all(u["status"] in ("open", "closed") for u in theirs)
    assert all(u["updated_datetime"].endswith("+08:00") for u in theirs)
    assert all(ANSWER not in d for d in descriptions)  # public-safe, like the requests


@pytest.fixture
async def photo_site() -> AsyncIterator[str]:
    """FixMyStreet's own site, serving its problems' photos at /photo/…"""

    async def photo(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        body, kind = (JPEG, "image/jpeg") if name.endswith(".jpeg") else (PNG, "image/png")
        return web.Response(body=body, content_type=kind)

    app = web.Application()
    app.router.add_get("/photo/{name}", photo)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield f"http://127.0.0.1:{server.port}/photo/"
    await server.close()


async def test_fixmystreets_photo_links_are_downloaded(served: Served, photo_site: str) -> None:
    """FixMyStreet's default: no upload, the photos' links as media_url (one per photo with
    multi_photos); the district downloads them."""
    links = [photo_site + "7.0.full.jpeg", photo_site + "7.1.full.png"]
    tn = await served.fixmystreet(
        "send_service_request",
        service_code="zhzf",
        options={"multi_photos": 1},
        extra={"url": REPORT_URL, "image_url": links[0], "all_image_urls": links},
        problem=problem([]),
    )
    report = await served.service.store.get_report(tn)
    assert report is not None
    assert [a.filename for a in report.attachments] == ["7.0.full.jpeg", "7.1.full.png"]
    root = served.app[settings_key].attachments_dir
    assert [attachments.path_of(root, a).read_bytes() for a in report.attachments] == [JPEG, PNG]
    assert f"图片链接（已下载为附件）：{links[1]}" in report.text
