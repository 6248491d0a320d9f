"""Intake benchmark: submissions per second and latency on loopback, per store and process count.

Run: ``python bench/intake.py [--requests 300] [--concurrency 16] [--pg-url URL]``.
Prints figures; never fails on timing.

In one run, each with the same load from this process (aiohttp client, loopback only):
* bare    — an aiohttp handler that parses the JSON and answers 201: the HTTP floor;
* sqlite  — `feedback serve` on a SQLite file, 1 process;
* pg ×1   — `feedback serve` on PostgreSQL (a throw-away schema), 1 process;
* pg ×2   — `feedback serve --workers 2` on the same kind of schema.
Every submission is the real thing: validation, argon2id hash of the follow-up code (the
dominant cost, by design), classifier, routing, hash-chained record, commit. The per-address
submission limit is lifted for the run. The servers share the CPUs with the load generator,
so on a small machine more processes can mean less throughput: read the figures with the
machine line printed above them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
BODY = {
    "title": "执法人员未出示证件",
    "text": "今天上午在街口摆摊，城管执法人员没有出示证件就要没收我的三轮车，也没有开任何单据。",
}


@dataclass
class Figures:
    name: str
    done: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def per_second(self) -> float:
        return self.done / self.seconds if self.seconds else 0.0


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}; load average at start {load}"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bare_server(port: int) -> None:
    """The floor: aiohttp parsing the same JSON and answering, nothing else."""
    from aiohttp import web

    async def submit(request: web.Request) -> web.Response:
        data = await request.json()
        return web.json_response({"tracking_number": "X", "title": data.get("title")}, status=201)

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_post("/api/v1/reports", submit)
    app.router.add_get("/healthz", health)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log.open("wb")
    )


def wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 120) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            print(f"  server exited: {log.read_text()[-1500:]}")
            return False
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1) as resp:
                if resp.status == 200:
                    return True
        except OSError:
            time.sleep(0.3)
    print("  server did not become healthy in time")
    return False


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


async def load(name: str, url: str, requests: int, concurrency: int, seconds: float) -> Figures:
    import aiohttp

    latencies: list[float] = []
    errors = 0
    sent = 0
    deadline = 0.0

    async def one(session: aiohttp.ClientSession, i: int) -> None:
        nonlocal errors
        body = {**BODY, "title": f"{BODY['title']} {i}"}
        t0 = time.perf_counter()
        try:
            async with session.post(f"{url}/api/v1/reports", json=body) as resp:
                await resp.read()
                ok = resp.status == 201
        except aiohttp.ClientError:
            ok = False
        if ok:
            latencies.append(time.perf_counter() - t0)
        else:
            errors += 1

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal sent
        while sent < requests and time.perf_counter() < deadline:
            sent += 1
            await one(session, sent)

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        deadline = time.perf_counter() + 60
        await asyncio.gather(*(one(session, -i) for i in range(min(10, concurrency))))  # warm-up
        latencies.clear()
        errors = 0
        started = time.perf_counter()
        deadline = started + seconds
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()

    def pct(p: float) -> float:
        if not latencies:
            return float("nan")
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    return Figures(name, len(latencies), errors, elapsed, pct(0.50), pct(0.99))


async def drop_schema(pg_url: str, schema: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(pg_url)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()


def pg_available(pg_url: str) -> str | None:
    import asyncpg

    async def version() -> str:
        conn = await asyncpg.connect(pg_url, timeout=3)
        try:
            return str(await conn.fetchval("SHOW server_version"))
        finally:
            await conn.close()

    try:
        return asyncio.run(version())
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        print(f"PostgreSQL at {pg_url} not available ({exc}); its rows are skipped")
        return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=300, help="per configuration")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60, help="time cap per configuration")
    parser.add_argument("--pg-url", default=os.environ.get("FEEDBACK_TEST_PG_URL") or DEFAULT_PG)
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--bare-server", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_server:
        bare_server(args.bare_server)
        return 0

    print(f"machine: {machine()}")
    pg_version = None if args.no_pg else pg_available(args.pg_url)
    if pg_version:
        print(f"PostgreSQL {pg_version} at {args.pg_url}")
    print(f"load: {args.requests} submissions per row, {args.concurrency} concurrent, loopback\n")

    tmp = Path(tempfile.mkdtemp(prefix="feedback-bench-"))
    env = {
        **os.environ,
        "FEEDBACK_DATA_DIR": str(tmp),
        "FEEDBACK_TICK_SECONDS": "0",
        "FEEDBACK_SUBMIT_PER_HOUR": str(10**9),
        "FEEDBACK_SECRET_KEY": secrets.token_urlsafe(48),
    }
    feedback = [sys.executable, "-m", "feedback.cli", "serve"]
    runs: list[tuple[str, list[str], str | None]] = [
        ("bare aiohttp handler", [sys.executable, __file__, "--bare-server"], None),
        ("SQLite, 1 process", [*feedback, "--db", str(tmp / "bench.db")], None),
    ]
    if pg_version:
        for workers in (1, 2):
            pg_schema = f"bench_{secrets.token_hex(4)}"
            db = f"{args.pg_url}?schema={pg_schema}"
            runs.append(
                (
                    f"PostgreSQL, {workers} process{'es' if workers > 1 else ''}",
                    [*feedback, "--db", db, "--workers", str(workers)],
                    pg_schema,
                )  # fmt: skip
            )
    results: list[Figures] = []
    for name, cmd, schema in runs:
        port = free_port()
        full = [*cmd, str(port)] if cmd[-1] == "--bare-server" else [*cmd, "--port", str(port)]
        log = tmp / f"{port}.log"
        print(f"{name}: starting …", flush=True)
        proc = start(full, env, log)
        try:
            if wait_healthy(f"http://127.0.0.1:{port}", proc, log):
                fig = asyncio.run(
                    load(
                        name,
                        f"http://127.0.0.1:{port}",
                        args.requests,
                        args.concurrency,
                        args.seconds,
                    )  # fmt: skip
                )
                results.append(fig)
                print(f"  {fig.per_second:7.1f}/s  p50 {fig.p50_ms:7.1f} ms  "
                      f"p99 {fig.p99_ms:7.1f} ms  ({fig.done} ok, {fig.errors} errors)")  # fmt: skip
        finally:
            stop(proc)
            if schema:
                asyncio.run(drop_schema(args.pg_url, schema))

    print("\n| configuration | submissions/s | p50 ms | p99 ms | ok | errors |")
    print("|---|---:|---:|---:|---:|---:|")
    for f in results:
        print(f"| {f.name} | {f.per_second:.1f} | {f.p50_ms:.0f} | {f.p99_ms:.0f} | "
              f"{f.done} | {f.errors} |")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
