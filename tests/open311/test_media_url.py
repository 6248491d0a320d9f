"""A hotline system posts a report naming its photos by media_url: the district downloads them
as attachments, checked like the web form's, and a link that cannot be kept (refused address,
redirect out, too slow, too big, not a photo, too many) is noted for staff while the report
itself is always kept. The photo servers here are local HTTP peers on loopback."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from feedback import attachments, media_url
from feedback.models import Report
from tests.bot.fake_telegram import JPEG
from tests.open311.conftest import MakeClient, new_key
from web.keys import service_key, settings_key

V2 = "/open311/v2"
TEXT = "城管执法人员在东门市场收缴摊贩的秤和货物，没有开具任何单据，也没有出示执法证件。"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00"
    b"\x00\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)
MB = 1024 * 1024


@dataclass
class Peer:
    """A photo server: what it serves, and which paths were asked for."""

    url: str
    hits: Counter[str] = field(default_factory=Counter)

    def __call__(self, path: str) -> str:
        return self.url + path


def photo_server(hits: Counter[str], elsewhere: Callable[[], str]) -> web.Application:
    async def photo(request: web.Request) -> web.StreamResponse:
        hits[request.path] += 1
        name = request.match_info["name"]
        if name == "photo.jpg":
            return web.Response(body=JPEG, content_type="image/jpeg")
        if name == "photo.png":
            return web.Response(body=PNG, content_type="image/png")
        if name == "to-png":
            raise web.HTTPFound("/photo.png")
        if name == "to-elsewhere":
            raise web.HTTPFound(elsewhere() + "/photo.jpg")
        if name == "loop":
            raise web.HTTPFound("/loop")
        if name == "page.jpg":  # says it is a photo; the content decides
            return web.Response(text="<html>登录</html>", content_type="image/jpeg")
        if name == "declared-big":
            return web.Response(body=b"\xff" * (2 * MB), content_type="image/jpeg")
        if name == "streamed-big":
            resp = web.StreamResponse(headers={"Content-Type": "image/jpeg"})
            resp.enable_chunked_encoding()
            await resp.prepare(request)
            await resp.write(JPEG)
            for _ in range(40):
                await resp.write(b"\0" * 64 * 1024)
            await resp.write_eof()
            return resp
        if name == "slow":
            await asyncio.sleep(4)
            return web.Response(body=JPEG, content_type="image/jpeg")
        raise web.HTTPNotFound()

    app = web.Application()
    app.router.add_get("/{name}", photo)
    return app


@pytest.fixture
async def peers() -> AsyncIterator[tuple[Peer, Peer]]:
    """The photo server on 127.0.0.1, and another loopback address it redirects to."""
    other_hits: Counter[str] = Counter()
    other = TestServer(photo_server(other_hits, lambda: ""), host="127.0.0.2")
    await other.start_server()
    other_peer = Peer(f"http://127.0.0.2:{other.port}", other_hits)
    hits: Counter[str] = Counter()
    main = TestServer(photo_server(hits, lambda: other_peer.url), host="127.0.0.1")
    await main.start_server()
    yield Peer(f"http://127.0.0.1:{main.port}", hits), other_peer
    await main.close()
    await other.close()


Post = Callable[..., Awaitable[tuple[dict[str, Any], Report]]]


def poster(client: TestClient) -> Post:
    keys: list[str] = []

    async def post(*urls: str, photos: int = 0) -> tuple[dict[str, Any], Report]:
        keys[:] = keys or [await new_key(client, "12345-hotline")]
        key = keys[0]
        fields: list[tuple[str, Any]] = [("api_key", key), ("service_code", "zhzf"),
                                         ("description", TEXT)]  # fmt: skip
        fields += [("media_url", u) for u in urls]
        data: Any = fields
        if photos:
            import aiohttp

            form = aiohttp.FormData()
            for name, value in fields:
                form.add_field(name, value)
            for n in range(1, photos + 1):
                form.add_field(f"photo{n}", JPEG, filename=f"{n}.jpg", content_type="image/jpeg")
            data = form
        resp = await client.post(f"{V2}/requests.json", data=data)
        assert resp.status == 200, await resp.text()
        [answer] = await resp.json()
        service = client.server.app[service_key]  # type: ignore[attr-defined]
        report = await service.store.get_report(answer["service_request_id"])
        assert report is not None
        return answer, report

    return post


def stored_bytes(client: TestClient, report: Report) -> list[bytes]:
    root = client.server.app[settings_key].attachments_dir  # type: ignore[attr-defined]
    return [attachments.path_of(root, a).read_bytes() for a in report.attachments]


async def test_photos_named_by_media_url_are_downloaded_and_kept(
    make_client: MakeClient, peers: tuple[Peer, Peer]
) -> None:
    peer, _ = peers
    client = await make_client(media_url_allow_networks="127.0.0.1/32")
    answer, report = await poster(client)(peer("/photo.jpg"), peer("/to-png"))
    assert [a.content_type for a in report.attachments] == ["image/jpeg", "image/png"]
    assert stored_bytes(client, report) == [JPEG, PNG]
    assert [a.filename for a in report.attachments] == ["photo.jpg", "photo.png"]
    assert f"图片链接（已下载为附件）：{peer('/photo.jpg')}" in report.text
    assert "未能下载" not in answer["service_notice"]


async def test_links_that_cannot_be_kept_are_noted_and_the_report_is_kept(
    make_client: MakeClient, peers: tuple[Peer, Peer]
) -> None:
    peer, elsewhere = peers
    client = await make_client(media_url_allow_networks="127.0.0.1/32", max_attachment_mb=1)
    post = poster(client)
    answer, report = await post(peer("/missing.jpg"), peer("/page.jpg"), peer("/declared-big"),
                                peer("/streamed-big"), peer("/loop"))  # fmt: skip
    assert report.attachments == []
    text = report.text
    assert f"图片链接（未能下载：对方返回 HTTP 404）：{peer('/missing.jpg')}" in text
    assert f"附件“page.jpg”不是 {attachments.ALLOWED_LABEL}。）：{peer('/page.jpg')}" in text
    assert f"（未能下载：文件超过 1 MB）：{peer('/declared-big')}" in text
    assert f"（未能下载：文件超过 1 MB）：{peer('/streamed-big')}" in text
    assert f"（未能下载：重定向超过 {media_url.REDIRECTS_MAX} 次）：{peer('/loop')}" in text
    assert "有 5 个图片链接未能下载" in answer["service_notice"]

    # A redirect to an address the operator did not allow is refused before connecting.
    _, report = await post(peer("/to-elsewhere"), elsewhere("/photo.jpg"))
    assert report.attachments == []
    assert report.text.count("链接指向本机或内网地址，不予下载") == 2
    assert peer.hits["/to-elsewhere"] == 1 and elsewhere.hits == Counter()


async def test_loopback_and_private_addresses_are_refused_by_default(
    make_client: MakeClient, peers: tuple[Peer, Peer]
) -> None:
    peer, _ = peers
    client = await make_client()
    port = peer.url.rsplit(":", 1)[1]
    links = [peer("/photo.jpg"), f"http://localhost:{port}/photo.jpg",
             f"http://[::ffff:127.0.0.1]:{port}/photo.jpg", f"http://2130706433:{port}/photo.jpg"]  # fmt: skip
    answer, report = await poster(client)(*links)
    assert report.attachments == [] and peer.hits == Counter()  # nothing reached the peer
    for link in links[:3]:
        assert f"（未能下载：链接指向本机或内网地址，不予下载）：{link}" in report.text
    assert f"（未能下载：链接地址无效）：{links[3]}" in report.text
    assert "有 4 个图片链接未能下载" in answer["service_notice"]


def test_the_address_rule() -> None:
    refused = ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",
               "100.64.0.1", "::1", "fe80::1", "fc00::1", "::ffff:10.0.0.1", "0.0.0.0",
               "224.0.0.1", "240.0.0.1"]  # fmt: skip
    assert [a for a in refused if media_url.address_refusal(a) is None] == []
    assert media_url.address_refusal("8.8.8.8") is None
    assert media_url.address_refusal("2001:4860:4860::8888") is None
    allowed = media_url.networks("10.20.0.0/16, 127.0.0.1/32")
    assert media_url.address_refusal("10.20.3.4", allowed) is None
    assert media_url.address_refusal("10.21.0.1", allowed) is not None
    assert media_url.address_refusal("0.0.0.0", media_url.networks("0.0.0.0/0")) is not None
    with pytest.raises(ValueError, match="not a network"):
        media_url.networks("10.20.0.0/16, intranet")


async def test_a_slow_photo_server_does_not_hold_the_report(
    make_client: MakeClient, peers: tuple[Peer, Peer]
) -> None:
    peer, _ = peers
    client = await make_client(media_url_allow_networks="127.0.0.1/32", media_url_seconds=1)
    started = time.monotonic()
    _, report = await poster(client)(peer("/slow"), peer("/photo.jpg"))
    assert time.monotonic() - started < 3  # the peer would take 4 s
    assert stored_bytes(client, report) == [JPEG]
    assert f"（未能下载：下载超时（1 秒））：{peer('/slow')}" in report.text


async def test_links_fill_only_the_room_the_uploaded_photos_leave(
    make_client: MakeClient, peers: tuple[Peer, Peer]
) -> None:
    peer, _ = peers
    client = await make_client(media_url_allow_networks="127.0.0.1/32", max_attachments=2)
    _, report = await poster(client)(peer("/photo.png"), peer("/photo.jpg"), peer("/to-png"),
                                     photos=1)  # fmt: skip
    assert [a.content_type for a in report.attachments] == ["image/jpeg", "image/png"]
    assert "另有 2 个图片链接超出附件数量上限（2 个），未下载" in report.text
    assert peer.hits == Counter({"/photo.png": 1})


async def test_downloads_can_be_switched_off(
    make_client: MakeClient, peers: tuple[Peer, Peer]
) -> None:
    peer, _ = peers
    client = await make_client(media_url_allow_networks="127.0.0.1/32", media_url_seconds=0)
    _, report = await poster(client)(peer("/photo.jpg"))
    assert report.attachments == [] and peer.hits == Counter()
    assert f"（未能下载：本系统未开启图片链接下载）：{peer('/photo.jpg')}" in report.text


async def test_a_link_that_is_not_http_is_refused_plainly(make_client: MakeClient) -> None:
    client = await make_client()
    key = await new_key(client)
    for bad in ("file:///etc/passwd", "ftp://example.cn/a.jpg", "http:///a.jpg", "javascript:1"):
        resp = await client.post(f"{V2}/requests.json", data={
            "api_key": key, "service_code": "zhzf", "description": TEXT, "media_url": bad})  # fmt: skip
        assert resp.status == 400, bad
        assert (await resp.json())[0]["description"] == "media_url 应为 http(s) 链接。"


async def test_long_links_never_push_the_report_past_the_longest_text(
    make_client: MakeClient,
) -> None:
    """A 4,000-character description (Open311's most) and five links of nearly 500 characters that
    are not downloaded: the notes under the citizen's words are cut so the kept text stays
    within max_text_chars (5,000), the citizen's words whole and the channel named first."""
    client = await make_client()
    description = ("执法人员没有出示证件就把摊位上的秤和货物拿走了，也没有开任何单据。" * 200)[
        :4000
    ]
    links = [f"http://127.0.0.1:9/{n}-" + "a" * 460 + ".jpg" for n in range(5)]
    key = await new_key(client, "12345-long")
    fields = [("api_key", key), ("service_code", "zhzf"), ("description", description)]
    fields += [("media_url", u) for u in links]
    resp = await client.post(f"{V2}/requests.json", data=fields)
    assert resp.status == 200, await resp.text()
    [answer] = await resp.json()
    service = client.server.app[service_key]  # type: ignore[attr-defined]
    report = await service.store.get_report(answer["service_request_id"])
    assert report is not None
    assert len(report.text) <= service.input_limits.max_text_chars
    assert report.text.startswith(description)
    assert "来件渠道：12345-long（Open311）" in report.text
    assert "条说明超出字数上限，从略" in report.text
