"""Intake benchmark: the project beside a reference server, in one interleaved run.

Run: ``python bench/intake.py [--preload 2000] [--requests 300] [--seconds 15] [--pg-url URL]``.
Prints figures beside the targets of issue 14; never fails on timing. Loopback only
(127.0.0.1, ports 8120-8129), every phase bounded in time.

* reference — the work that cannot be avoided, in one process: parse the JSON, the project's
  shipped classifier, a SHA-256 of a fresh follow-up code, one INSERT and a durable commit
  (SQLite WAL, synchronous=FULL);
* SQLite    — `feedback serve` on a SQLite file, 1 process;
* PostgreSQL ×1, ×2 — with ``--pg-url`` (a throw-away schema each).
Every database starts with ``--preload`` reports (the shipped corpus' texts, through the
service itself, so their record and fingerprints are real). Then, server after server for
each phase (interleaved, so a change in the machine's load hits all alike): a closed loop of
16 clients, and open loops offering 10/s and 50/s (each request waits at most 30 s). CPU per
request and RSS are read from /proc for the server and every process it started. Last, on each
project server, an open loop at 10/s while another process refreshes the statistics with every
report marked changed: its longest write transaction (what intake can wait for) and the
intake p99 beside it. The machine is shared: the load average is printed before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import os
import platform
import secrets
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PORTS = iter(range(8120, 8130))
TICK = os.sysconf("SC_CLK_TCK")
BODY = {
    "title": "执法人员未出示证件",
    "text": "今天上午在街口摆摊，城管执法人员没有出示证件就要没收我的三轮车，也没有开任何单据。",
}
TARGET_RATIO, GOAL_RATIO = 0.5, 0.6
REFRESH_TX_MS = 20  # issue 14: intake never waits for a statistics refresh longer than this


@dataclass
class Phase:
    name: str
    done: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    cpu_ms: float = 0.0  # server CPU per answered request
    rss_mb: float = 0.0  # after the phase
    refresh: dict[str, float] = field(default_factory=dict)  # the statistics phase only

    @property
    def rate(self) -> float:
        return self.done / self.seconds if self.seconds else 0.0

    def pct(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        s = sorted(self.latencies)
        return s[min(len(s) - 1, int(p * len(s)))] * 1000


def load_average() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, {platform.system()} {platform.release()}"  # noqa: E501


def tree(pid: int) -> list[int]:
    """The process and every descendant (workers, spawn helpers)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        for task in Path(f"/proc/{p}/task").glob("*"):
            with contextlib.suppress(OSError):
                todo += [int(c) for c in (task / "children").read_text().split()]
    return out


def cpu_seconds(pid: int) -> float:
    total = 0
    for p in tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except OSError:
            pass
    return total / TICK


def rss_mb(pid: int) -> float:
    total = 0
    for p in tree(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


# -- the reference server ----------------------------------------------------------------------


def reference_server(port: int, db: str) -> None:
    from aiohttp import web

    from classifiers.bundle import SHIPPED_DIR, load_classifier

    model = load_classifier(SHIPPED_DIR)
    model.predict("预热", "预热文本，加载词典。")
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute(
        "CREATE TABLE IF NOT EXISTS reports (id INTEGER PRIMARY KEY, title TEXT, text TEXT, "
        "department TEXT, code_hash TEXT, created_at REAL)"
    )

    async def submit(request: web.Request) -> web.Response:
        data = await request.json()
        pred = model.predict(data["title"], data["text"])
        code = secrets.token_hex(13)
        digest = hashlib.sha256(code.encode()).hexdigest()
        conn.execute("BEGIN IMMEDIATE")
        cur = conn.execute(
            "INSERT INTO reports (title, text, department, code_hash, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (data["title"], data["text"], getattr(pred, "department", None), digest, time.time()),
        )
        conn.execute("COMMIT")
        return web.json_response({"tracking_number": cur.lastrowid, "follow_up_code": code},
                                 status=201)  # fmt: skip

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_post("/api/v1/reports", submit)
    app.router.add_get("/healthz", health)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def preload_reference(db: Path, texts: list[tuple[str, str]]) -> None:
    conn = sqlite3.connect(db)
    conn.execute(
        "CREATE TABLE reports (id INTEGER PRIMARY KEY, title TEXT, text TEXT, "
        "department TEXT, code_hash TEXT, created_at REAL)"
    )
    conn.executemany(
        "INSERT INTO reports (title, text, department, code_hash, created_at) "
        "VALUES (?, ?, NULL, '-', 0)",
        texts,
    )
    conn.commit()
    conn.close()


# -- the project's database, pre-loaded through the service ------------------------------------


def corpus_texts(n: int) -> list[tuple[str, str]]:
    from classifiers.corpus import corpus_examples

    examples = corpus_examples("department")
    return [(examples[i % len(examples)].title or "诉求", examples[i % len(examples)].text)
            for i in range(n)]  # fmt: skip


async def preload_project(db: str, texts: list[tuple[str, str]], data_dir: Path) -> None:
    from feedback.config import load_config
    from feedback.model_provider import ModelProvider
    from feedback.service import opened
    from feedback.store.sqlite import SQLiteStore

    provider = ModelProvider(data_dir / "models")
    async with opened(db, load_config(), classify=provider) as service:
        if isinstance(service.store, SQLiteStore):
            await service.store.set_synchronous("NORMAL")  # loading only
        for title, text in texts:
            await service.submit({"title": title, "text": text})


async def refresh_stats(db: str) -> dict[str, float]:
    """Every report marked changed, then one full statistics refresh through the service's
    own code, each write transaction timed from the end of BEGIN to the end of COMMIT, the
    time it holds the writer (waiting for BEGIN is waiting for intake, not holding it)."""
    from feedback.config import load_config
    from feedback.service import opened

    times: list[float] = []
    async with opened(db, load_config()) as service:
        store = service.store
        async with store.transaction() as tx:
            await tx.execute("INSERT INTO stats_dirty (report_id) SELECT id FROM reports WHERE true "
                             "ON CONFLICT DO NOTHING")  # fmt: skip
        plain = store.transaction

        @contextlib.asynccontextmanager
        async def timed() -> Any:
            async with plain() as tx:
                t0 = time.perf_counter()  # BEGIN done: the writer is held from here
                yield tx
            times.append(time.perf_counter() - t0)  # to the end of COMMIT

        store.transaction = timed  # type: ignore[method-assign]
        started = time.perf_counter()
        days = await service.stats.refresh()
        took = time.perf_counter() - started
    return {"days": days, "seconds": took, "transactions": len(times),
            "longest_ms": max(times, default=0) * 1000}  # fmt: skip


async def with_refresh(url: str, db: str, rate: float, seconds: float) -> Phase:
    """The open loop at ``rate`` while a refresh runs in another process."""
    import json

    proc = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--refresh-stats", db, stdout=asyncio.subprocess.PIPE,
        cwd=ROOT,
    )  # fmt: skip
    phase = await open_loop(url, rate, seconds)
    phase.name = f"open loop, {rate:g}/s + stats refresh"
    out, _ = await proc.communicate()
    with contextlib.suppress(ValueError, IndexError):
        phase.refresh = json.loads(out.decode().strip().splitlines()[-1])
    return phase


# -- load ----------------------------------------------------------------------------------------


async def _post(session: Any, url: str, i: int, phase: Phase) -> None:
    import aiohttp

    body = {**BODY, "title": f"{BODY['title']} {i}"}
    t0 = time.perf_counter()
    try:
        async with session.post(f"{url}/api/v1/reports", json=body,
                                timeout=aiohttp.ClientTimeout(total=30)) as resp:  # fmt: skip
            await resp.read()
            ok = resp.status == 201
    except (aiohttp.ClientError, TimeoutError):
        ok = False
    if ok:
        phase.latencies.append(time.perf_counter() - t0)
        phase.done += 1
    else:
        phase.errors += 1


async def closed_loop(url: str, clients: int, requests: int, seconds: float) -> Phase:
    import aiohttp

    phase = Phase(f"closed loop, {clients} clients")
    sent = 0
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=clients)) as session:
        deadline = time.perf_counter() + seconds
        start = time.perf_counter()

        async def client() -> None:
            nonlocal sent
            while sent < requests and time.perf_counter() < deadline:
                sent += 1
                await _post(session, url, sent, phase)

        await asyncio.gather(*(client() for _ in range(clients)))
        phase.seconds = time.perf_counter() - start
    return phase


async def open_loop(url: str, rate: float, seconds: float) -> Phase:
    import aiohttp

    phase = Phase(f"open loop, {rate:g}/s offered")
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        start = time.perf_counter()
        tasks = []
        for i in range(int(rate * seconds)):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(_post(session, url, 10**6 + i, phase)))
        await asyncio.gather(*tasks)
        phase.seconds = seconds
    return phase


@dataclass
class Server:
    name: str
    cmd: list[str]
    port: int
    db: str = ""
    proc: subprocess.Popen[bytes] | None = None
    idle_rss: float = 0.0
    phases: list[Phase] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def wait_healthy(server: Server, log: Path, timeout: float = 120) -> bool:
    assert server.proc is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            print(f"  {server.name} exited: {log.read_text()[-1500:]}")
            return False
        try:
            with urllib.request.urlopen(f"{server.url}/healthz", timeout=1) as resp:
                if resp.status == 200:
                    return True
        except OSError:
            time.sleep(0.3)
    return False


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def measure(server: Server, run: Any) -> Phase:
    assert server.proc is not None
    cpu0 = cpu_seconds(server.proc.pid)
    phase: Phase = asyncio.run(run)
    cpu = cpu_seconds(server.proc.pid) - cpu0
    phase.cpu_ms = cpu / phase.done * 1000 if phase.done else float("nan")
    phase.rss_mb = rss_mb(server.proc.pid)
    server.phases.append(phase)
    return phase


def first_submission_ms(server: Server) -> float:
    async def one() -> float:
        import aiohttp

        async with aiohttp.ClientSession() as session:
            phase = Phase("first")
            await _post(session, server.url, 0, phase)
            return phase.latencies[0] * 1000 if phase.latencies else float("nan")

    return asyncio.run(one())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preload", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=300, help="closed loop, per server")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=15, help="per phase and server")
    parser.add_argument("--pg-url", default=os.environ.get("FEEDBACK_BENCH_PG_URL"))
    parser.add_argument("--reference-server", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--refresh-stats", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.refresh_stats:
        import json

        print(json.dumps(asyncio.run(refresh_stats(args.refresh_stats))))
        return 0
    if args.reference_server:
        reference_server(int(args.reference_server[0]), args.reference_server[1])
        return 0

    print(f"machine: {machine()}")
    print(f"load average at start: {load_average()} (the machine is shared)")
    tmp = Path(tempfile.mkdtemp(prefix="feedback-bench-"))
    texts = corpus_texts(args.preload)
    started = time.perf_counter()
    preload_reference(tmp / "reference.db", texts)
    asyncio.run(preload_project(str(tmp / "bench.db"), texts, tmp))
    print(f"pre-loaded {args.preload} reports in each database "
          f"({time.perf_counter() - started:.0f} s)")  # fmt: skip
    env = {
        **os.environ,
        "FEEDBACK_DATA_DIR": str(tmp),
        "FEEDBACK_TICK_SECONDS": "0",
        "FEEDBACK_SUBMIT_PER_HOUR": str(10**9),
        "FEEDBACK_SECRET_KEY": secrets.token_urlsafe(48),
    }
    feedback = [sys.executable, "-m", "feedback.cli", "serve"]
    servers = [
        Server("reference", [sys.executable, __file__, "--reference-server"], next(PORTS)),
        Server(
            "SQLite, 1 process",
            [*feedback, "--db", str(tmp / "bench.db")],
            next(PORTS),
            str(tmp / "bench.db"),
        ),
    ]
    schemas: list[str] = []
    if args.pg_url:
        for workers in (1, 2):
            schema = f"bench_{secrets.token_hex(4)}"
            schemas.append(schema)
            db = f"{args.pg_url}?schema={schema}"
            asyncio.run(preload_project(db, texts, tmp))
            servers.append(Server(f"PostgreSQL, {workers} process{'es' * (workers > 1)}",
                                  [*feedback, "--db", db, "--workers", str(workers)],
                                  next(PORTS), db))  # fmt: skip
    first: dict[str, float] = {}
    try:
        for s in servers:
            cmd = (
                [*s.cmd, str(s.port), str(tmp / "reference.db")]
                if s.name == "reference"
                else [*s.cmd, "--port", str(s.port)]
            )
            log = tmp / f"{s.port}.log"
            s.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                      stderr=log.open("wb"))  # fmt: skip
            if not wait_healthy(s, log):
                raise SystemExit(f"{s.name} did not start")
            s.idle_rss = rss_mb(s.proc.pid)
            first[s.name] = first_submission_ms(s)
        phases = [
            lambda s: closed_loop(s.url, args.clients, args.requests, args.seconds * 2),
            lambda s: open_loop(s.url, 10, args.seconds),
            lambda s: open_loop(s.url, 50, args.seconds),
        ]
        for make in phases:
            for s in servers:  # interleaved: each phase on every server in turn
                p = measure(s, make(s))
                print(f"  {s.name:22} {p.name:24} {p.rate:6.1f}/s  p50 {p.pct(0.5):7.1f} ms  "
                      f"p99 {p.pct(0.99):7.1f} ms  cpu {p.cpu_ms:6.1f} ms/req  "
                      f"({p.done} ok, {p.errors} failed)", flush=True)  # fmt: skip
        for s in servers[1:]:  # the project's servers: intake beside a statistics refresh
            p = measure(s, with_refresh(s.url, s.db, 10, args.seconds))
            print(f"  {s.name:22} {p.name:24} p99 {p.pct(0.99):7.1f} ms, refresh {p.refresh}",
                  flush=True)  # fmt: skip
    finally:
        for s in servers:
            if s.proc is not None:
                stop(s.proc)
        if schemas:
            import asyncpg

            async def drop() -> None:
                conn = await asyncpg.connect(args.pg_url)
                for schema in schemas:
                    await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
                await conn.close()

            asyncio.run(drop())
    report(servers, first)
    print(f"\nload average at end: {load_average()}")
    return 0


def report(servers: list[Server], first: dict[str, float]) -> None:
    ref = servers[0]
    print(f"\n{len(servers)} servers; the reference is re-measured in the same run.\n")
    print(
        "| server | phase | answered/s | ratio to reference | p50 ms | p99 ms | CPU ms/req "
        "| CPU ratio | RSS MB | ok | failed |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for s in servers:
        for p, r in zip(s.phases, ref.phases, strict=False):
            ratio = p.rate / r.rate if r.rate else float("nan")
            cpu_ratio = p.cpu_ms / r.cpu_ms if r.cpu_ms else float("nan")
            print(f"| {s.name} | {p.name} | {p.rate:.1f} | {ratio:.2f} | {p.pct(0.5):.0f} | "
                  f"{p.pct(0.99):.0f} | {p.cpu_ms:.1f} | {cpu_ratio:.1f} | {p.rss_mb:.0f} | "
                  f"{p.done} | {p.errors} |")  # fmt: skip
    print("\nStatistics refresh beside intake at 10/s (every report marked changed):\n")
    print("| server | refresh transactions | longest, ms | refresh took, s | intake p99 ms |")
    print("|---|---:|---:|---:|---:|")
    for s in servers[1:]:
        for p in s.phases:
            if p.refresh:
                got = p.refresh
                print(f"| {s.name} | {got['transactions']:.0f} | {got['longest_ms']:.1f} | "
                      f"{got['seconds']:.1f} | {p.pct(0.99):.0f} |")  # fmt: skip
    print("\nAgainst the targets of issue 14 (SQLite, 1 process, against the reference):")
    found = next((x for x in servers if x.name.startswith("SQLite")), None)
    if found is None or len(found.phases) < 3:
        return
    s = found
    closed, o10, o50 = s.phases[:3]
    rc = ref.phases[0]
    ratio = closed.rate / rc.rate if rc.rate else 0.0
    cpu_ratio = closed.cpu_ms / rc.cpu_ms if rc.cpu_ms else float("inf")
    peak = max(p.rss_mb for p in s.phases)
    refresh = next((p for p in s.phases if p.refresh), None)
    longest = refresh.refresh.get("longest_ms", float("nan")) if refresh else float("nan")

    def verdict(ok: bool) -> str:
        return "met" if ok else "MISSED"

    rows = [
        ("closed loop rate", f"{ratio:.0%} of the reference ({closed.rate:.0f}/s vs "
         f"{rc.rate:.0f}/s)", f">= {TARGET_RATIO:.0%} (goal {GOAL_RATIO:.0%})",
         verdict(ratio >= TARGET_RATIO)),
        ("CPU per submission", f"{closed.cpu_ms:.1f} ms ({cpu_ratio:.1f}x the reference's "
         f"{rc.cpu_ms:.1f} ms)", "<= 2x the reference's", verdict(cpu_ratio <= 2)),
        ("open loop 10/s", f"p50 {o10.pct(0.5):.0f} ms, p99 {o10.pct(0.99):.0f} ms, "
         f"{o10.done} of {o10.done + o10.errors}", "(no target)", ""),
        ("open loop 50/s", f"{o50.done} of {o50.done + o50.errors} answered, p99 "
         f"{o50.pct(0.99):.0f} ms", "all answered, p99 <= 100 ms (goal 50)",
         verdict(o50.errors == 0 and o50.pct(0.99) <= 100)),
        ("server RSS", f"{s.idle_rss:.0f} MB idle, {peak:.0f} MB after load",
         "<= 250 MB, flat", verdict(peak <= 250)),
        ("first submission after start", f"{first.get(s.name, float('nan')):.0f} ms",
         "<= 100 ms", verdict(first.get(s.name, 1e9) <= 100)),
        ("statistics refresh", f"longest transaction {longest:.1f} ms (intake p99 beside it "
         f"{refresh.pct(0.99) if refresh else float('nan'):.0f} ms)",
         f"<= {REFRESH_TX_MS} ms per transaction", verdict(longest <= REFRESH_TX_MS)),
    ]  # fmt: skip
    print("| figure | measured | target | |\n|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    sys.exit(main())
