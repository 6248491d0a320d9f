"""Several app processes on one PostgreSQL database: citizens submit through all of them at
once, and nothing is lost, nothing doubled, every record chain holds."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.store.pg import fresh_schema_url

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parents[2]
PER_PROCESS = 60


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def feedback_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "feedback.cli", *args]


@pytest.fixture
def servers(pg_database: str | None, tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    """(database URL, base URLs): one plain `feedback serve` and one with --workers 2."""
    db = fresh_schema_url(pg_database)
    env = {
        **os.environ,
        "FEEDBACK_DATA_DIR": str(tmp_path),
        "FEEDBACK_TICK_SECONDS": "0",
        "FEEDBACK_SUBMIT_PER_HOUR": "100000",
    }
    procs, urls = [], []
    for extra in ([], ["--workers", "2"]):
        port = free_port()
        procs.append(
            subprocess.Popen(
                feedback_cmd("serve", "--db", db, "--port", str(port), *extra),
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=open(tmp_path / f"serve-{port}.log", "wb"),  # noqa: SIM115
            )
        )
        urls.append(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 60
        for url, proc in zip(urls, procs, strict=True):
            while not _healthy(url):
                if proc.poll() is not None or time.monotonic() > deadline:
                    logs = "\n".join(p.read_text() for p in tmp_path.glob("serve-*.log"))
                    pytest.fail(f"feedback serve did not start:\n{logs[-3000:]}")
                time.sleep(0.2)
        yield db, urls
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()


def _healthy(url: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=1) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


async def test_concurrent_submissions_through_two_processes(
    servers: tuple[str, list[str]],
) -> None:
    db, urls = servers

    async def submit(session: aiohttp.ClientSession, url: str, i: int) -> tuple[str, str]:
        body = {
            "title": f"执法记录仪未开启 {i}",
            "text": f"第{i}号：交警查车时没有开执法记录仪，也没有出示证件，直接开了罚单。",
        }
        async with session.post(f"{url}/api/v1/reports", json=body) as resp:
            assert resp.status == 201, await resp.text()
            data = await resp.json()
            return data["tracking_number"], data["follow_up_code"]

    connector = aiohttp.TCPConnector(limit=40)
    async with aiohttp.ClientSession(connector=connector) as session:
        results = await asyncio.gather(
            *(submit(session, url, i) for i in range(PER_PROCESS) for url in urls)
        )
        numbers = [tn for tn, _ in results]
        assert len(numbers) == len(set(numbers)) == 2 * PER_PROCESS
        # A citizen follows up through whichever process the balancer picks.
        for (tn, code), url in zip(results[:10], urls * 5, strict=True):
            other = urls[1] if url == urls[0] else urls[0]
            async with session.get(f"{other}/api/v1/reports/{tn}", params={"code": code}) as r:
                assert r.status == 200

    verify = await asyncio.to_thread(
        subprocess.run,
        feedback_cmd("verify", "--db", db),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert f"all {2 * PER_PROCESS} report records verify" in verify.stdout
