"""Timing of the record's checks: `feedback verify` (every chain and every row against it) and a
checkpoint (Merkle root over all chains), on a database the service filled itself.

Run: ``python bench/record.py var/bench-record.db --count 300`` (the demo data set, loaded
through the service, so every report has its real chain). Prints the totals and the cost per
report beside the target: the daily checkpoint and a verify of a district's year (~50,000
reports) each well under a minute on one core. Never fails on timing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from feedback import checkpoint  # noqa: E402
from feedback.config import load_config  # noqa: E402
from feedback.demo import load_demo  # noqa: E402
from feedback.service import FeedbackService  # noqa: E402
from feedback.store import ReportFilter  # noqa: E402
from feedback.store.sqlite import SQLiteStore  # noqa: E402

TARGET_S_PER_50K = 60.0


async def main(path: Path, count: int) -> None:
    async with SQLiteStore(path) as store:
        service = FeedbackService(store, load_config())
        have = await store.count_reports(ReportFilter())
        if have < count:
            t = time.perf_counter()
            await load_demo(service, count=count - have)
            print(f"loaded {count - have} demo reports in {time.perf_counter() - t:.1f} s")
        t = time.process_time()
        checked, breaks = await service.verify_records()
        verify_s = time.process_time() - t
        t = time.process_time()
        taken = await checkpoint.take(store, service.clock())
        cp_s = time.process_time() - t
        t = time.process_time()
        problems = await checkpoint.check(store, taken.to_json())
        check_s = time.process_time() - t
    n = max(checked, 1)
    print(f"{checked} reports, {taken.body['events']} events; breaks {len(breaks)}, "
          f"checkpoint problems {len(problems)}; load {os.getloadavg()[0]:.1f}")  # fmt: skip
    for name, s in (("verify", verify_s), ("checkpoint", cp_s), ("verify --checkpoint", check_s)):
        per_50k = s / n * 50_000
        print(
            f"{name:>20}: {s * 1000:8.1f} ms CPU, {s / n * 1e6:7.1f} µs/report, "
            f"~{per_50k:5.1f} s per 50,000 reports (target < {TARGET_S_PER_50K:.0f} s)"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("db", type=Path)
    parser.add_argument("--count", type=int, default=300)
    args = parser.parse_args()
    asyncio.run(main(args.db, args.count))
