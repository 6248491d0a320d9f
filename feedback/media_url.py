"""Download the photos an Open311 client names by ``media_url``, safely under hostile use.

The link comes from another system, so its address is not trusted: http(s) only; every
address the host name resolves to (and every redirect, followed by hand, each hop checked
again) must be a public one — loopback, private, link-local, shared and reserved ranges are
refused unless the operator lists a network in ``media_url_allow_networks`` (an intranet photo
store; tests). The check is made on the addresses the connection then uses (the connector's
resolver), so a name cannot resolve to a public address for the check and a private one for
the connection. A download is bounded in time (``media_url_seconds`` for all the links of one
request together, and per socket operation) and in size (``max_attachment_mb``, counted while
the body streams), and its content is checked like any attachment. A link that cannot be
kept is never an error for the report: the result says why, and the caller notes it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import unquote

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver
from yarl import URL

from feedback import attachments
from feedback.errors import ValidationError
from feedback.settings import InputLimits

log = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

REDIRECTS_MAX = 3
# Per socket operation (connect, each read): a peer that trickles is cut off by the total.
SOCKET_SECONDS = 5.0
_CHUNK = 64 * 1024


class Refused(OSError):
    """The address is not one a download may reach (an OSError, so the connector passes it
    on as the cause of its connection error)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Fetched:
    """One link: the checked file and its type, or why it was not kept."""

    url: str
    upload: attachments.Upload | None = None
    content_type: str | None = None
    reason: str | None = None


def networks(setting: str) -> list[Network]:
    """``media_url_allow_networks`` as networks; a bad entry is the operator's error, said
    at start rather than on the first report."""
    out: list[Network] = []
    for part in setting.split(","):
        if part.strip():
            try:
                out.append(ipaddress.ip_network(part.strip(), strict=False))
            except ValueError:
                raise ValueError(
                    f"media_url_allow_networks: not a network: {part.strip()}"
                ) from None
    return out


def address_refusal(address: str, allowed: Sequence[Network] = ()) -> str | None:
    """Why a download may not connect to ``address``; None when it may."""
    try:
        ip: IPAddress = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "地址无法识别"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    if ip.is_unspecified or ip.is_multicast:
        return "地址不可用"
    if any(ip in net for net in allowed):
        return None
    if ip.is_global:
        return None
    return "链接指向本机或内网地址，不予下载"


class GuardedResolver(AbstractResolver):
    """The system resolver, refusing a name if any of its addresses is not allowed."""

    def __init__(self, allowed: Sequence[Network]) -> None:
        self._inner = ThreadedResolver()
        self._allowed = list(allowed)

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        for result in found:
            if why := address_refusal(result["host"], self._allowed):
                raise Refused(why)
        return found

    async def close(self) -> None:
        await self._inner.close()


def _hop_refusal(url: URL, allowed: Sequence[Network]) -> str | None:
    if url.scheme not in ("http", "https") or not url.host:
        return "不是 http(s) 链接"
    if url.user or url.password:
        return "链接含用户名或密码"
    host = url.host.strip("[]")
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None  # a name: the resolver checks what it resolves to
    return address_refusal(host, allowed)  # the connector does not resolve a literal


def _filename(url: URL, content_type: str | None = None) -> str:
    """The link's last path segment; with the detected type's extension if it has none."""
    name = PurePosixPath(unquote(url.path)).name or "图片链接"
    if content_type is None or "." in name:
        return name
    return f"{name}.{attachments.ALLOWED[content_type]}"


async def _fetch(
    session: aiohttp.ClientSession, url: str, limits: InputLimits, allowed: Sequence[Network]
) -> Fetched:
    limit = limits.max_attachment_bytes
    current = URL(url)
    for _ in range(REDIRECTS_MAX + 1):
        if why := _hop_refusal(current, allowed):
            return Fetched(url, reason=why)
        try:
            async with session.get(current, allow_redirects=False) as resp:
                if resp.status in (301, 302, 303, 307, 308):
                    location = resp.headers.get("Location")
                    if not location:
                        return Fetched(url, reason=f"对方返回 HTTP {resp.status} 但未给出新地址")
                    current = current.join(URL(location))
                    continue
                if resp.status != 200:
                    return Fetched(url, reason=f"对方返回 HTTP {resp.status}")
                if resp.content_length is not None and resp.content_length > limit:
                    return Fetched(url, reason=f"文件超过 {limits.max_attachment_mb} MB")
                chunks: list[bytes] = []
                size = 0
                async for chunk in resp.content.iter_chunked(_CHUNK):
                    size += len(chunk)
                    if size > limit:
                        return Fetched(url, reason=f"文件超过 {limits.max_attachment_mb} MB")
                    chunks.append(chunk)
                data = b"".join(chunks)
        except aiohttp.ClientConnectorError as exc:
            cause = exc.os_error
            if isinstance(cause, Refused):
                return Fetched(url, reason=cause.reason)
            if isinstance(exc, aiohttp.ClientConnectorDNSError):
                return Fetched(url, reason="域名无法解析")
            return Fetched(url, reason="无法连接对方服务器")
        except aiohttp.InvalidURL:
            return Fetched(url, reason="链接地址无效")  # e.g. 2130706433, a numeric 127.0.0.1
        except (aiohttp.ClientError, OSError) as exc:
            if isinstance(exc, Refused):
                return Fetched(url, reason=exc.reason)
            return Fetched(url, reason="下载中断")
        try:
            [(upload, kind)] = attachments.check(
                [attachments.Upload(_filename(current), data)], field="media_url", limits=limits
            )
        except ValidationError as exc:
            return Fetched(url, reason=exc.message)
        upload.filename = _filename(current, kind)
        return Fetched(url, upload, kind)
    return Fetched(url, reason=f"重定向超过 {REDIRECTS_MAX} 次")


async def fetch_all(
    urls: Sequence[str],
    limits: InputLimits,
    *,
    seconds: float,
    allowed: Sequence[Network] = (),
) -> list[Fetched]:
    """Download ``urls`` together within ``seconds`` in all; one result per link, in order."""
    if not urls:
        return []
    if seconds <= 0:
        return [Fetched(u, reason="本系统未开启图片链接下载") for u in urls]
    connector = aiohttp.TCPConnector(resolver=GuardedResolver(allowed), use_dns_cache=False,
                                     force_close=True)  # fmt: skip
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=SOCKET_SECONDS,
                                    sock_read=SOCKET_SECONDS)  # fmt: skip
    headers = {"Accept": "image/*, application/pdf", "Accept-Encoding": "identity"}
    async with aiohttp.ClientSession(
        connector=connector, timeout=timeout, headers=headers,
        cookie_jar=aiohttp.DummyCookieJar(), trust_env=False,
    ) as session:  # fmt: skip
        tasks = [asyncio.ensure_future(_fetch(session, u, limits, allowed)) for u in urls]
        done, pending = await asyncio.wait(tasks, timeout=seconds)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
    out: list[Fetched] = []
    for url, task in zip(urls, tasks, strict=True):
        if task in done and not task.cancelled() and task.exception() is None:
            out.append(task.result())
        elif task in done and not task.cancelled():
            # Never the report's loss: an unforeseen failure of one link is noted like any.
            log.error("media_url %s failed", url[:200], exc_info=task.exception())
            out.append(Fetched(url, reason="下载失败"))
        else:
            out.append(Fetched(url, reason=f"下载超时（{seconds:g} 秒）"))
    return out


def describe(results: Sequence[Fetched]) -> list[str]:
    """Lines for staff under the citizen's text: which links were kept and why others not."""
    lines: list[str] = []
    for r in results:
        if r.upload is not None:
            lines.append(f"图片链接（已下载为附件）：{r.url}")
        else:
            lines.append(f"图片链接（未能下载：{r.reason}）：{r.url}")
    return lines
