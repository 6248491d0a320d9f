"""Benchmark of the answer-quality review (feedback/answer_review.py) on real replies.

Run: ``python bench/answers.py``. Prints figures beside their targets; never fails on them.

* run time and score distribution over ``attachment4_replies.csv`` (2,713 real 答复意见);
* agreement with ``answer_quality_dev.csv`` (150 replies judged twice from
  ``../shared/answer_quality_guide.md``): Spearman of ``score`` against the judges' mean of
  relevance + completeness + basis (all 150 rows), and accuracy of ``acceptable`` on the rows
  where both judges gave the same verdict (``agree=1``).

The dev set measures; the engine's cue lists were written from the guide, not fitted to it.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from feedback import answer_review  # noqa: E402
from feedback.config import load_config  # noqa: E402
from feedback.deadlines import WorkCalendar  # noqa: E402


def shared_data() -> Path:
    """``../shared/data`` beside the checkout (a worktree sits one level deeper: look upward)."""
    here = Path(__file__).resolve().parents[1]
    for base in (here, *here.parents):
        if (base / ".." / "shared" / "data").is_dir():
            return base / ".." / "shared" / "data"
    raise SystemExit("../shared/data not found beside the checkout")


DATA = shared_data()
TARGETS = {"spearman": (0.60, 0.75), "accuracy": (0.85, 0.92)}


def spearman(xs: list[float], ys: list[float]) -> float:
    def ranks(v: list[float]) -> list[float]:
        order = sorted(range(len(v)), key=lambda i: v[i])
        out = [0.0] * len(v)
        i = 0
        while i < len(order):
            j = i
            while j + 1 < len(order) and v[order[j + 1]] == v[order[i]]:
                j += 1
            for k in range(i, j + 1):
                out[order[k]] = (i + j) / 2 + 1
            i = j + 1
        return out

    rx, ry = ranks(xs), ranks(ys)
    mx, my = statistics.fmean(rx), statistics.fmean(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    vx = sum((a - mx) ** 2 for a in rx) ** 0.5
    vy = sum((b - my) ** 2 for b in ry) ** 0.5
    return cov / (vx * vy) if vx and vy else 0.0


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def mark(value: float, target: tuple[float, float]) -> str:
    floor, goal = target
    return "goal met" if value >= goal else ("target met" if value >= floor else "MISSED")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--dump", help="write the dev rows with the engine's verdicts (JSON lines)")
    args = ap.parse_args()
    config = load_config(None)
    calendar = WorkCalendar(config.calendar_extra, config.timezone)
    limit = config.clocks.answer_complaint

    rows = read(DATA / "teddy2020" / "attachment4_replies.csv")
    answer_review.review("", "预热", "预热")  # load jieba and the cue lists outside the timing
    t0, c0 = time.perf_counter(), time.process_time()
    out = list(answer_review.review_rows(rows, calendar, limit))
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    scores = [r["score"] for r in out]
    q = statistics.quantiles(scores, n=10)
    print(f"attachment4_replies.csv: {len(out)} replies in {wall:.1f} s wall, {cpu:.1f} s CPU "
          f"(target < 60 s; load {os.getloadavg()[0]:.2f})")  # fmt: skip
    print(f"  score: mean {statistics.fmean(scores):.1f}, median {statistics.median(scores):.1f}, "
          f"deciles {' '.join(f'{x:.0f}' for x in q)}")  # fmt: skip
    hist = [0] * 10
    for s in scores:
        hist[min(int(s // 10), 9)] += 1
    print("  histogram (0-9, 10-19, …, 90-100): " + " ".join(str(h) for h in hist))
    acc = sum(r["acceptable"] for r in out)
    print(f"  acceptable {acc} ({acc / len(out):.0%}), needs rework {len(out) - acc}")
    for name in ("relevance", "completeness", "basis"):
        c = [sum(1 for r in out if r[name] == v) for v in (0, 1, 2)]
        print(f"  {name}: 0={c[0]} 1={c[1]} 2={c[2]}")
    late = [r for r in out if r["timeliness"] and not r["timeliness"]["on_time"]]
    print(f"  answered after {limit} working days: {len(late)} ({len(late) / len(out):.0%})")

    dev = read(DATA / "answer_quality_dev.csv")
    got = {r["id"]: r for r in answer_review.review_rows(dev, calendar, limit)}
    mean = [
        sum(int(d[f"{k}_{j}"]) for k in ("relevance", "completeness", "basis") for j in (1, 2)) / 2
        for d in dev
    ]
    rho = spearman([got[d["id"]]["score"] for d in dev], mean)
    agreed = [d for d in dev if d["agree"] == "1"]
    right = sum(
        got[d["id"]]["acceptable"] == (d["acceptable_1"].lower() in ("yes", "1", "true"))
        for d in agreed
    )
    accuracy = right / len(agreed)
    print(f"\nanswer_quality_dev.csv ({len(dev)} rows, {len(agreed)} with agreeing verdicts)")
    print(f"  Spearman(score, judges' mean R+C+B) = {rho:.3f}   target ≥ 0.60, goal 0.75: "
          f"{mark(rho, TARGETS['spearman'])}")  # fmt: skip
    print(f"  acceptable accuracy (agree=1)       = {accuracy:.3f}   target ≥ 0.85, goal 0.92: "
          f"{mark(accuracy, TARGETS['accuracy'])}")  # fmt: skip
    for k in ("relevance", "completeness", "basis"):
        judge = [(int(d[f"{k}_1"]) + int(d[f"{k}_2"])) / 2 for d in dev]
        print(f"  Spearman({k}) = {spearman([got[d['id']][k] for d in dev], judge):.3f}")
    yes = [d for d in agreed if d["acceptable_1"].lower() in ("yes", "1", "true")]
    tp = sum(got[d["id"]]["acceptable"] for d in yes)
    no = len(agreed) - len(yes)
    tn = right - tp
    print(f"  judges acceptable {len(yes)}: engine agrees on {tp}; "
          f"judges rework {no}: engine agrees on {tn}")  # fmt: skip
    if args.dump:
        with open(args.dump, "w", encoding="utf-8") as fh:
            for d, m in zip(dev, mean, strict=True):
                fh.write(json.dumps({**got[d["id"]], "judges": m, "judge_ok": d["acceptable_1"],
                                     "agree": d["agree"]}, ensure_ascii=False) + "\n")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
