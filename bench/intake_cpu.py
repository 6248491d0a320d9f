"""Intake's CPU and disk writes per submission, measured in ways the machine's load does not
change: process CPU time (every thread, split by thread), SQLite WAL pages written, and rows
of the duplicate index read. Issue 14: what `bench/intake.py`'s "CPU per submission" is made of.

Run: ``python bench/intake_cpu.py [--preload 2000] [--submissions 200]``. The service is driven
directly (no HTTP), sequentially, on a SQLite database pre-loaded with ``--preload`` reports
of the shipped corpus; the submitted texts are other corpus texts (their own lengths), and
one in five is a repost of a pre-loaded report (so duplicates are found as in real intake).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TICK = os.sysconf("SC_CLK_TCK")
PAGE = 4096
TARGET_CPU_RATIO = 2.0  # issue 14: <= 2x the reference server's CPU per submission


def thread_cpu() -> dict[str, float]:
    """CPU seconds (user + system) of this process's threads, summed by thread name."""
    names = {t.native_id: t.name for t in threading.enumerate()}
    out: dict[str, float] = defaultdict(float)
    for task in Path("/proc/self/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        name = names.get(int(task.name), "other")
        kind = "event loop" if task.name == str(os.getpid()) else name.split("_")[0]
        out[kind] += (int(fields[11]) + int(fields[12])) / TICK
    return out


def system_cpu() -> float:
    fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[12]) / TICK


def wal_frames(db: Path) -> int:
    wal = Path(f"{db}-wal")
    size = wal.stat().st_size if wal.exists() else 0
    return max(0, (size - 32) // (PAGE + 24))


async def run(preload: int, submissions: int) -> None:
    from classifiers.corpus import corpus_examples
    from feedback.config import load_config
    from feedback.model_provider import ModelProvider
    from feedback.service import opened

    examples = corpus_examples("department")
    texts = [(e.title or "诉求", e.text) for e in examples]
    tmp = Path(tempfile.mkdtemp(prefix="feedback-cpu-"))
    db = tmp / "bench.db"
    provider = ModelProvider(tmp / "models")
    async with opened(str(db), load_config(), classify=provider) as service:
        store: object = service.store
        await store.set_synchronous("NORMAL")  # type: ignore[attr-defined]
        started = time.perf_counter()
        for i in range(preload):
            title, text = texts[i % len(texts)]
            await service.submit({"title": title, "text": text})
        await store.set_synchronous("FULL")  # type: ignore[attr-defined]
        print(f"pre-loaded {preload} reports ({time.perf_counter() - started:.0f} s)")
        await service.warm_up()
        bodies = []
        for i in range(submissions):
            if i % 5 == 4:  # a repost of a pre-loaded report, a few words added
                title, text = texts[(i * 7) % max(1, min(preload, len(texts)))]
                bodies.append({"title": title, "text": text + "请尽快处理。"})
            else:
                title, text = texts[(preload + i) % len(texts)]
                bodies.append({"title": title, "text": text})
        # WAL pages: a checkpoint first, then a few submissions (fewer than the
        # auto-checkpoint's 1,000 pages), read from the WAL file's length.
        side = sqlite3.connect(db)
        side.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        frames0 = wal_frames(db)
        for body in bodies[:10]:
            await service.submit(body)
        pages = (wal_frames(db) - frames0) / 10
        side.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        side.close()
        cpu0, sys0, t0 = thread_cpu(), system_cpu(), time.perf_counter()
        linked = 0
        for body in bodies:
            result = await service.submit(body)
            linked += result.report.duplicate_of is not None
        wall = time.perf_counter() - t0
        cpu1, sys1 = thread_cpu(), system_cpu()
    per = {k: (cpu1.get(k, 0) - cpu0.get(k, 0)) / submissions * 1000 for k in cpu1}
    total = sum(per.values())
    print(f"load average: {', '.join(f'{x:.2f}' for x in os.getloadavg())} (CPU time is "
          "counted per process; the load changes it little, wall time a lot)")  # fmt: skip
    print(f"{submissions} sequential submissions, {linked} linked as duplicates, "
          f"wall {wall / submissions * 1000:.1f} ms each\n")  # fmt: skip
    print("| figure | per submission |\n|---|---:|")
    print(f"| process CPU, all threads | {total:.2f} ms |")
    for k, v in sorted(per.items(), key=lambda kv: -kv[1]):
        if v >= 0.01:
            print(f"| … thread {k} | {v:.2f} ms |")
    print(f"| … of which in the kernel | {(sys1 - sys0) / submissions * 1000:.2f} ms |")
    print(f"| WAL pages written (4 KiB) | {pages:.1f} |")
    print(f"\nbench/intake.py compares the whole server (HTTP too) with the reference: target "
          f"<= {TARGET_CPU_RATIO:g}x its CPU per submission.")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preload", type=int, default=2000)
    parser.add_argument("--submissions", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(run(args.preload, args.submissions))
    return 0


if __name__ == "__main__":
    sys.exit(main())
