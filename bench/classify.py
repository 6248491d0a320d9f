"""The classifier on real citizens' messages it never saw: the figures of issue 12 beside their targets.

Run: ``python bench/classify.py [--model DIR | --train [--corpus FILE ...]] [--anchor-cv ...]``.
About a minute on 2 cores (``--train`` adds the training time). Prints figures; never fails.

* Model: the shipped bundle by default; ``--model DIR`` another bundle; ``--train`` trains a bundle
  from the project's corpus (``classifiers/data/corpus/*.jsonl``, or the ``--corpus`` files, JSONL
  or the old CSV) exactly as ``classifiers.build_shipped`` does, into a temporary directory.
* Data (``../shared/data`` beside the checkout; measured on, never trained or tuned on):
  - department: ``teddy2020/attachment2_raw_subset.csv`` (title + text), exact duplicates (same
    text without whitespace and punctuation) dropped; a predicted bureau is right when the true
    一级标签 is among the bureau's labels in the README's bureau map (sfj, spj: none). For
    macro-F1 over the 7 labels a prediction counts as the true label when right, else as the
    bureau's first label (sfj/spj: no label).
  - issue types: ``issue_types_dev.csv``, the rows where both labellings agree (``agree=1``).
  - ECE: 10 equal-width bins of the predicted bureau's probability, correctness as above.
  - routing: the service's own decision (``feedback.routing.decide`` with the shipped config,
    the out-of-domain rule included) on every department message.
* Keyword rules beside them: the bureau whose remit keywords (shipped config) appear most (ties and
  no hit: no bureau; routed when exactly one bureau is hit), and an issue type whenever one of its
  cue words (``classifiers/data/cues/<type>.txt``) appears.
* District history (issue 13 item 7; ``--no-history`` skips it, a few minutes): the trainer
  given every shared labelled message but the newest quarter, as a district's past work orders,
  scored on those newest messages beside its target, anchor + 0.03 (``bench/district_history.py``
  says how the split is made and deduplicated; the shipped model never sees any of it).
* ``--anchor-cv`` runs the older trained-on-real comparison with a plain TF-IDF anchor instead
  (``bench/teddy_cv.py``; a yardstick of the model family, never the shipped model).
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from classifiers.bundle import SHIPPED_DIR, load_classifier  # noqa: E402
from classifiers.cues import Cues  # noqa: E402
from classifiers.model import Prediction, ReportClassifier  # noqa: E402
from feedback import routing  # noqa: E402
from feedback.config import Config, load_config  # noqa: E402
from tests.shared_data import SHARED, TEDDY  # noqa: E402

LABELS7 = ["城乡建设", "劳动和社会保障", "教育文体", "商贸旅游", "环境保护", "卫生计生", "交通运输"]
#: the README's bureau map: which 一级标签 a bureau's reports carry
BUREAU_LABELS: dict[str, tuple[str, ...]] = {
    "zhzf": ("城乡建设",),
    "zjj": ("城乡建设",),
    "zrzy": ("城乡建设",),
    "nyj": ("城乡建设",),
    "yjj": ("城乡建设",),
    "slj": ("城乡建设", "环境保护"),
    "sthj": ("环境保护",),
    "jtys": ("交通运输",),
    "gaj": ("交通运输",),
    "scjg": ("商贸旅游",),
    "wlj": ("商贸旅游", "教育文体"),
    "jtj": ("教育文体",),
    "rsj": ("劳动和社会保障",),
    "mzj": ("劳动和社会保障",),
    "ybj": ("劳动和社会保障", "卫生计生"),
    "wjj": ("卫生计生",),
}
TYPES = ["opacity", "improper_procedure", "abuse_of_power", "inaction"]


def _key(text: str) -> str:
    return re.sub(r"[\W_]+", "", text)


def read_department_set() -> list[tuple[str, str, str]]:
    """(title, text, label) of the raw subset, exact duplicates dropped."""
    with open(TEDDY / "attachment2_raw_subset.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    seen: set[str] = set()
    out = []
    for r in rows:
        k = _key(r["title"] + r["text"])
        if k in seen:
            continue
        seen.add(k)
        out.append((r["title"], r["text"], r["label"]))
    return out


def read_issue_set() -> list[tuple[str, str, set[str]]]:
    with open(SHARED / "issue_types_dev.csv", encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["agree"] == "1"]
    return [
        (r["title"], r["text"], set() if r["labels"] == "none" else set(r["labels"].split("|")))
        for r in rows
    ]


def _as_label(bureau: str | None, truth: str) -> str | None:
    labels = BUREAU_LABELS.get(bureau or "", ())
    if truth in labels:
        return truth
    return labels[0] if labels else None


def macro_f1(
    truth: Sequence[str], predicted: Sequence[str | None], labels: Sequence[str]
) -> tuple[float, dict[str, tuple[float, float, float]]]:
    per: dict[str, tuple[float, float, float]] = {}
    for lab in labels:
        tp = sum(1 for t, p in zip(truth, predicted, strict=True) if t == lab and p == lab)
        fp = sum(1 for t, p in zip(truth, predicted, strict=True) if t != lab and p == lab)
        fn = sum(1 for t, p in zip(truth, predicted, strict=True) if t == lab and p != lab)
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        per[lab] = (prec, rec, 2 * prec * rec / (prec + rec) if prec + rec else 0.0)
    return float(np.mean([v[2] for v in per.values()])), per


def ece_table(conf: np.ndarray, correct: np.ndarray, bins: int = 10) -> tuple[float, list[str]]:
    edges = np.linspace(0, 1, bins + 1)
    ece = 0.0
    lines = []
    for i in range(bins):
        lo, hi = edges[i], edges[i + 1]
        m = (conf >= lo) & ((conf < hi) if i < bins - 1 else (conf <= hi))
        if not m.any():
            continue
        acc, mean_c = float(correct[m].mean()), float(conf[m].mean())
        ece += m.mean() * abs(acc - mean_c)
        lines.append(
            f"    [{lo:.1f}, {hi:.1f}{']' if i == bins - 1 else ')'}  n={int(m.sum()):5d}  "
            f"mean p {mean_c:.3f}  right {acc:.3f}  gap {acc - mean_c:+.3f}"
        )
    return float(ece), lines


def _mark(ok: bool) -> str:
    return "MET" if ok else "NOT MET"


def issue_f1(
    truth: Sequence[set[str]], predicted: Sequence[set[str]]
) -> tuple[float, dict[str, tuple[float, int, int]]]:
    per: dict[str, tuple[float, int, int]] = {}
    for t in TYPES:
        tp = sum(1 for a, b in zip(truth, predicted, strict=True) if t in a and t in b)
        n_pred = sum(1 for b in predicted if t in b)
        n_true = sum(1 for a in truth if t in a)
        f = 2 * tp / (n_pred + n_true) if n_pred + n_true else 0.0
        per[t] = (f, n_pred, n_true)
    return float(np.mean([v[0] for v in per.values()])), per


def keyword_bureau(text: str, config: Config) -> tuple[str | None, float, bool]:
    hits = routing.keyword_hits(text, config)
    if not hits:
        return None, 0.0, False
    counts = sorted(((len(v), c) for c, v in hits.items()), reverse=True)
    total = sum(n for n, _ in counts)
    if len(counts) > 1 and counts[0][0] == counts[1][0]:
        return None, counts[0][0] / total, False
    return counts[0][1], counts[0][0] / total, len(counts) == 1


def report_department(
    clf: ReportClassifier, config: Config, data: list[tuple[str, str, str]]
) -> None:
    truth = [lab for _, _, lab in data]
    t0 = time.process_time()
    preds: list[Prediction] = [clf.predict(t, x) for t, x, _ in data]
    cpu_ms = (time.process_time() - t0) * 1000 / len(data)
    bureaus = [p.department for p in preds]
    f1, per = macro_f1(
        truth, [_as_label(b, t) for b, t in zip(bureaus, truth, strict=True)], LABELS7
    )
    correct = np.array(
        [t in BUREAU_LABELS.get(b or "", ()) for b, t in zip(bureaus, truth, strict=True)]
    )
    conf = np.array([p.department_probability for p in preds])
    kw = [keyword_bureau(f"{t}\n{x}", config) for t, x, _ in data]
    kf1, kper = macro_f1(
        truth, [_as_label(b, t) for (b, _, _), t in zip(kw, truth, strict=True)], LABELS7
    )
    print(
        f"department on {len(data)} real messages (7 一级标签 via the bureau map); CPU {cpu_ms:.2f} ms/report"
    )
    print(
        f"  macro-F1 {f1:.3f}   target >= 0.80 (goal 0.85)  {_mark(f1 >= 0.80)}   keyword rules {kf1:.3f}"
    )
    print(f"  bureau right {correct.mean():.3f}")
    for lab in LABELS7:
        p, r, f = per[lab]
        kp, kr, kf = kper[lab]
        print(f"    {lab:8s} P {p:.2f} R {r:.2f} F1 {f:.2f}    keywords F1 {kf:.2f}")
    # where each category's messages went (aggregate counts only: which bureaus draw them)
    print("  true category -> predicted bureau (wrong ones, top 4):")
    for lab in LABELS7:
        wrong: dict[str, int] = {}
        for b, t, ok in zip(bureaus, truth, correct, strict=True):
            if t == lab and not ok:
                wrong[b or "-"] = wrong.get(b or "-", 0) + 1
        top4 = sorted(wrong.items(), key=lambda kv: -kv[1])[:4]
        print(f"    {lab:8s} " + ", ".join(f"{b} {n}" for b, n in top4))
    ece, lines = ece_table(conf, correct.astype(float))
    print(
        f"  ECE of the predicted bureau's probability {ece:.3f}   target <= 0.05  {_mark(ece <= 0.05)}"
    )
    print("  reliability (10 equal-width bins):")
    for line in lines:
        print(line)
    kconf = np.array([s for _, s, _ in kw])
    kcorrect = np.array(
        [t in BUREAU_LABELS.get(b or "", ()) for (b, _, _), t in zip(kw, truth, strict=True)]
    )
    kece, _ = ece_table(kconf, kcorrect.astype(float))
    print(f"  keyword rules (share of hits as probability): ECE {kece:.3f}")
    routed = np.array(
        [
            routing.decide(p, f"{t}\n{x}", config).confident
            for p, (t, x, _) in zip(preds, data, strict=True)
        ]
    )
    cov = float(routed.mean())
    acc = float(correct[routed].mean()) if routed.any() else 0.0
    print(
        f"  auto-routed (service decision, shipped config): coverage {cov:.3f}, right {acc:.3f}   "
        f"target >= 0.90 right at >= 0.50 coverage  {_mark(acc >= 0.9 and cov >= 0.5)}"
        f"   (goal 0.95 at 0.60: {_mark(acc >= 0.95 and cov >= 0.6)})"
    )
    order = np.argsort(-conf)
    for target in (0.9, 0.95):
        run = np.cumsum(correct[order]) / np.arange(1, len(order) + 1)
        ok = np.flatnonzero(run >= target)
        best = (ok.max() + 1) / len(order) if len(ok) else 0.0
        print(
            f"    (for orientation: the largest top-confidence share {target:.0%} right is {best:.3f})"
        )
    kr = np.array([r for _, _, r in kw])
    print(
        f"  keyword rules routed when one bureau is hit: coverage {kr.mean():.3f}, "
        f"right {kcorrect[kr].mean() if kr.any() else 0:.3f}"
    )


def report_issue_types(clf: ReportClassifier, data: list[tuple[str, str, set[str]]]) -> None:
    truth = [lab for _, _, lab in data]
    preds = [clf.predict(t, x) for t, x, _ in data]
    predicted = [set(p.issue_types) for p in preds]
    f1, per = issue_f1(truth, predicted)
    cues = Cues.load()
    kpred = [set(cues.keyword_types(f"{t}\n{x}")) for t, x, _ in data]
    kf1, kper = issue_f1(truth, kpred)
    print(f"issue types on {len(data)} agreed real rows (issue_types_dev.csv, agree=1)")
    print(
        f"  macro-F1 {f1:.3f}   target >= 0.65 (goal 0.80)  {_mark(f1 >= 0.65)}   keyword rules {kf1:.3f}   two labellers 0.896"
    )
    n_none_t = sum(1 for a in truth if not a)
    n_none_p = sum(1 for b in predicted if not b)
    print(
        "  per type: F1, predicted / true (target: within ±25 %)      keyword rules F1, predicted"
    )
    all_ok = True
    for t in TYPES:
        f, n_pred, n_true = per[t]
        ok = n_true and abs(n_pred - n_true) <= 0.25 * n_true
        all_ok &= bool(ok)
        print(
            f"    {t:18s} F1 {f:.2f}  {n_pred:4d} / {n_true:4d}  {_mark(bool(ok))}      {kper[t][0]:.2f}  {kper[t][1]:4d}"
        )
    print(
        f"    {'none':18s}          {n_none_p:4d} / {n_none_t:4d}  {_mark(abs(n_none_p - n_none_t) <= 0.25 * n_none_t)}      {sum(1 for b in kpred if not b):4d}"
    )
    print(f"  counts within ±25 % for every type: {_mark(all_ok)}")
    hi = [
        (t in truth[i])
        for i, p in enumerate(preds)
        for t, v in p.issue_type_probabilities.items()
        if v >= 0.9
    ]
    if hi:
        print(f"  issue-type labels given >= 0.9: {len(hi)}, right {np.mean(hi):.2f}")


def report_ood(clf: ReportClassifier, config: Config) -> None:
    samples = [
        (
            "",
            "The street light outside my building has been broken for two weeks and nobody fixes it.",
        ),
        ("", "https://example.com/video/123"),
        ("", "12345678901 ？？？"),
    ]
    for title, text in samples:
        p = clf.predict(title, text)
        d = routing.decide(p, f"{title}\n{text}", config)
        print(
            f"  out of domain {text[:40]!r}: {'ROUTED' if d.confident else 'triage'} ({d.why})   target never auto-routed  {_mark(not d.confident)}"
        )


def held_out(clf: ReportClassifier) -> None:
    """What the model itself measured on its writer-held-out corpus predictions (for the gap)."""
    if clf.department is not None:
        rule = clf.department.rule
        print(
            f"  held-out corpus (one writer left out): department accuracy "
            f"{rule.get('held_out', {}).get('accuracy')}, 涉及单位 weight "  # type: ignore[union-attr]
            f"{rule.get('authority_weight')}, keyword weight {rule.get('keyword_weight')}"
        )
    if clf.issue_type is not None:
        types = clf.issue_type.rule.get("types") or {}
        assert isinstance(types, dict)
        print(
            "  held-out corpus issue-type F1 / threshold: "
            + ", ".join(
                f"{k} {v.get('held_out_f1')} / {v.get('threshold')}" for k, v in types.items()
            )
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=None, help="bundle directory (default: shipped)")
    ap.add_argument("--train", action="store_true", help="train a bundle from the corpus first")
    ap.add_argument("--corpus", type=Path, action="append", help="corpus file(s) for --train")
    ap.add_argument(
        "--anchor-cv", action="store_true", help="the trained-on-real anchor comparison"
    )
    ap.add_argument(
        "--no-history", action="store_true", help="skip the district-history trainer figure"
    )
    args, rest = ap.parse_known_args(argv)
    if args.anchor_cv:
        sys.path.insert(0, str(ROOT / "bench"))
        import teddy_cv  # noqa: PLC0415

        return int(teddy_cv.main(rest))
    if not SHARED.is_dir():
        print(f"no shared data at {SHARED.resolve()}: nothing to measure")
        return 0
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    config = load_config()
    with tempfile.TemporaryDirectory() as tmp:
        directory = args.model or SHIPPED_DIR
        if args.train:
            from classifiers.build_shipped import build

            t0 = time.perf_counter()
            summary = build(Path(tmp), args.corpus)
            print(f"trained on the corpus in {time.perf_counter() - t0:.0f} s: {summary}")
            directory = Path(tmp)
        clf = load_classifier(directory)
        print(f"model: {directory}")
        held_out(clf)
        report_department(clf, config, read_department_set())
        report_issue_types(clf, read_issue_set())
        report_ood(clf, config)
    if not args.no_history:
        sys.path.insert(0, str(ROOT / "bench"))
        import district_history  # noqa: PLC0415

        district_history.report(verbose=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
