"""Benchmark of the hot-issue engine (feedback/hot.py) on 附件3 (4,119 real messages).

Run: ``python bench/hot.py [--sample N]``. Prints figures beside their targets; never fails.

* run time over the whole file (jieba loaded beforehand, as in the service);
* the top 10 with heat, sizes, place, time range and summary;
* the five hot issues that published analyses of 附件3 agree on, each given here as a keyword
  rule over title + text (a proxy for their member lists, which are not in the shared data):
  for each, the best-matching issue of the top 10 and how many of its reports it holds
  (target: in the top 10 with at least half of its reports);
* cluster purity on a hand-labelled sample: ``bench/hot_labels.csv`` holds, for messages drawn
  from the top 10 issues (up to 8 each, seeded), the matter a person read in each message
  (ids and a short tag only, no text). Purity = the share of labelled members whose tag is their
  issue's most common tag. ``--sample`` prints a fresh sample to label.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from feedback import hot  # noqa: E402


def shared_data() -> Path:
    """``../shared/data`` beside the checkout (a worktree sits one level deeper: look upward)."""
    here = Path(__file__).resolve().parents[1]
    for base in (here, *here.parents):
        if (base / ".." / "shared" / "data").is_dir():
            return base / ".." / "shared" / "data"
    raise SystemExit("../shared/data not found beside the checkout")


DATA = shared_data()
LABELS = Path(__file__).resolve().parent / "hot_labels.csv"

# (name, every one of these, at least one of these) over title + text.
KNOWN = [
    ("魅力之城小区临街门面油烟噪音扰民", ["魅力之城"], ["油烟", "噪音", "扰民", "夜宵", "烧烤", "门面", "商铺"]),
    ("经济学院强制学生外出实习", ["经济学院"], ["实习", "打工", "社会实践"]),
    ("58车贷案", ["车贷"], []),
    ("丽发新城附近搅拌站噪音粉尘", ["搅拌"], ["丽发", "暮云"]),
    ("伊景园滨河苑捆绑销售车位", ["伊景园"], ["车位"]),
]  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sample", action="store_true", help="print a sample of the top 10 to label")
    args = ap.parse_args()
    with (DATA / "teddy2020" / "attachment3_hot.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    hot.extract_places("预热小区")  # jieba and its tag table, loaded as the service has them
    t0, c0 = time.perf_counter(), time.process_time()
    messages = hot.messages_from_rows(rows)
    issues = hot.hot_issues(messages)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(f"attachment3_hot.csv: {len(messages)} messages, {len(issues)} issues of 2+ reports, "
          f"{wall:.1f} s wall, {cpu:.1f} s CPU (target < 60 s; load {os.getloadavg()[0]:.2f})")  # fmt: skip
    print(
        "\ntop 10 (heat, reports, distinct reporters, support, returns, place, from - to, summary)"
    )
    top = issues[:10]
    for h in top:
        print(f"{h.rank:2d} {h.heat:7.2f} {h.reports:3d} {h.reporters:3d} {h.support:5d} {h.returns} "
              f"{h.place or '-'} {h.time_from:%Y-%m-%d}–{h.time_to:%Y-%m-%d} {h.summary}")  # fmt: skip

    print("\nknown hot issues (keyword proxies) in the top 10:")
    met = 0
    for name, all_of, any_of in KNOWN:
        ref = {
            m.id
            for m in messages
            if all(k in m.title + m.text for k in all_of)
            and (not any_of or any(k in m.title + m.text for k in any_of))
        }
        best = max(top, key=lambda h: len(ref & set(h.ids)))
        got = len(ref & set(best.ids))
        ok = got * 2 >= len(ref) and got > 0
        met += ok
        print(f"  {name}: {len(ref)} reports; best is #{best.rank} holding {got} "
              f"({got / len(ref):.0%}) of {best.reports} members: {'ok' if ok else 'MISSED'}")  # fmt: skip
    print(f"  {met} of {len(KNOWN)} in the top 10 with at least half of their reports "
          f"(target 5 of 5{'' if met == len(KNOWN) else ': MISSED'})")  # fmt: skip

    by_id = {m.id: m for m in messages}
    if args.sample:
        rng = random.Random(19)
        for h in top:
            for m in rng.sample(h.members, min(8, len(h.members))):
                print(f"{h.rank}\t{m.id}\t{m.title[:50]}")
        return 0
    if LABELS.exists():
        with LABELS.open(encoding="utf-8", newline="") as fh:
            lines = [line for line in fh if not line.startswith("#")]
        labels = {r["id"]: r["tag"] for r in csv.DictReader(lines)}
        pure = total = 0
        for h in top:
            tags = [labels[i] for i in h.ids if i in labels]
            if not tags:
                continue
            major, k = Counter(tags).most_common(1)[0]
            pure += k
            total += len(tags)
            print(f"  #{h.rank}: {k}/{len(tags)} labelled members are '{major}'")
        if total:
            print(f"cluster purity on {total} hand-labelled members of the top 10: "
                  f"{pure / total:.2f}")  # fmt: skip
        unknown = [i for i in labels if i not in by_id]
        if unknown:
            print(f"  ({len(unknown)} labelled ids not in the file)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
