"""A simulated district's history: the trainer given every shared labelled message but the newest.

Issue 13 item 7. Measures what ``classifiers.training.train`` (the trainer behind ``feedback
train`` and ``feedback retrain``) reaches when a district hands over its past work orders, on
the messages that came after them. Printed by ``python bench/classify.py`` (``--no-history``
skips it) or run alone: ``python bench/district_history.py``.

Split (fixed, documented):
* raw subset (``attachment2_raw_subset.csv``, title + text): exact duplicates (same text without
  whitespace and punctuation) and near-duplicates (cosine >= 0.8 of character 3-gram TF-IDF)
  are grouped. The groups holding a dated message are ordered by their newest date; the newest
  quarter of them is the held-out part (whole groups, so no copy of a held-out message is
  trained on). Every other group gives one message to the training part.
* the segmented file (``attachment2_full_segmented.csv``) joins the training part after
  dropping the rows any raw message points at (``seg_row``: they are raw messages again), exact
  duplicates, and rows whose word TF-IDF cosine with any held-out message is >= 0.5 (the check
  that this catches the held-out messages' own ``seg_row`` partners is printed).
* anchor: jieba + word 1–2-gram TF-IDF + LinearSVC(C=0.5) (``bench/teddy_cv.anchor``) on the
  same training part. Target: anchor + 0.03 (goal 0.95).
* ours: ``classifiers.training.choose_config`` picks among ``HISTORY_CANDIDATES`` by 3-fold
  cross-validated macro-F1 on the training part only; ``train`` then fits it and calibrates it
  and its routing table on its own held-out folds, exactly as every retrained model. The
  held-out part is scored once.
"""

from __future__ import annotations

import csv
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import teddy_cv  # noqa: E402

from classifiers.model import ReportClassifier  # noqa: E402
from classifiers.training import (  # noqa: E402
    HISTORY_CANDIDATES,
    Example,
    choose_config,
    train,
)
from tests.shared_data import TEDDY  # noqa: E402

TEST_SHARE = 0.25


def load_time_split() -> tuple[list[Example], list[Example], dict[str, object]]:
    """(training examples, held-out examples in time order, split statistics)."""
    with open(TEDDY / "attachment2_raw_subset.csv", encoding="utf-8", newline="") as fh:
        raw = list(csv.DictReader(fh))
    with open(TEDDY / "attachment2_full_segmented.csv", encoding="utf-8", newline="") as fh:
        seg = list(csv.DictReader(fh))
    stats: dict[str, object] = {"raw": len(raw), "seg": len(seg)}
    texts = [r["title"] + r["text"] for r in raw]
    groups = teddy_cv._Groups(len(raw))
    first: dict[str, int] = {}
    for i, t in enumerate(texts):
        k = teddy_cv._key(t)
        if k in first:
            groups.union(i, first[k])
        else:
            first[k] = i
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(analyzer="char", ngram_range=(3, 3), sublinear_tf=True)
    Xr = vec.fit_transform([teddy_cv._key(t) for t in texts])
    for i, j in teddy_cv._pairs_above(Xr, Xr, teddy_cv.NEAR_RAW):
        if i < j:
            groups.union(i, j)
    members: dict[int, list[int]] = {}
    for i in range(len(raw)):
        members.setdefault(groups.find(i), []).append(i)
    stats["raw_groups"] = len(members)
    dated = {
        g: max(raw[i]["time"] for i in m)
        for g, m in members.items()
        if any(raw[i]["time"] for i in m)
    }
    order = sorted(dated, key=lambda g: dated[g])
    n_test = round(TEST_SHARE * len(order))
    test_groups = order[-n_test:]
    test_set = set(test_groups)
    stats["dated_groups"] = len(order)
    stats["held_out_from"] = dated[test_groups[0]][:10]
    stats["held_out_to"] = dated[test_groups[-1]][:10]
    # one message per group: the dated one (newest) for held-out groups, the first otherwise
    test_idx = [max(members[g], key=lambda i: raw[i]["time"]) for g in test_groups]
    train_idx = [m[0] for g, m in members.items() if g not in test_set]
    test_rows = [i for g in test_groups for i in members[g]]

    seg_keep = teddy_cv.segmented_unlinked(raw, seg)
    import jieba

    test_tokens = [" ".join(jieba.lcut(texts[i])) for i in test_rows]
    wvec = TfidfVectorizer(
        tokenizer=str.split, token_pattern=None, lowercase=False, sublinear_tf=True
    )
    wvec.fit([r["text_seg"] for r in seg] + test_tokens)
    Xs = wvec.transform([r["text_seg"] for r in seg_keep])
    Xt = wvec.transform(test_tokens)
    near = {i for i, _ in teddy_cv._pairs_above(Xs, Xt, teddy_cv.NEAR_SEG)}
    seg_by_row = {int(r["row"]): r["text_seg"] for r in seg}
    partner = []
    for pos, i in enumerate(test_rows):
        if raw[i]["seg_row"]:
            v = wvec.transform([seg_by_row[int(raw[i]["seg_row"])]])
            partner.append(float((v @ Xt[pos].T).toarray()[0, 0]))
    stats["held_out_seg_partners_caught"] = (
        f"{np.mean([c >= teddy_cv.NEAR_SEG for c in partner]):.0%}" if partner else "n/a"
    )
    seg_keep = [r for i, r in enumerate(seg_keep) if i not in near]
    stats["seg_dropped_near_held_out"] = len(near)
    train_ex = [Example(raw[i]["title"], raw[i]["text"], (raw[i]["label"],)) for i in train_idx]
    train_ex += [Example("", r["text_seg"], (r["label"],)) for r in seg_keep]
    test_ex = [Example(raw[i]["title"], raw[i]["text"], (raw[i]["label"],)) for i in test_idx]
    stats["train"] = len(train_ex)
    stats["held_out"] = len(test_ex)
    return train_ex, test_ex, stats


def _macro_f1(truth: list[str], pred: list[str]) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(truth, pred, average="macro"))


def _ece(conf: np.ndarray, correct: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error over equal-width bins (as ``bench/classify.py``)."""
    idx = np.minimum((conf * bins).astype(int), bins - 1)
    return float(
        sum(
            (idx == b).mean() * abs(correct[idx == b].mean() - conf[idx == b].mean())
            for b in range(bins)
            if (idx == b).any()
        )
    )


def report(verbose: bool = True) -> dict[str, float]:
    """Print the district-history figures beside their targets; return them."""
    t0 = time.perf_counter()
    train_ex, test_ex, stats = load_time_split()
    print(
        "district history (issue 13 item 7): trained on shared labelled messages, scored on the newest"
    )
    print("  split: " + ", ".join(f"{k}={v}" for k, v in stats.items()))
    print(f"  (split {time.perf_counter() - t0:.0f} s)", flush=True)
    a_f1, a_acc, _ = teddy_cv.anchor(train_ex, test_ex)
    target = a_f1 + 0.03
    print(
        f"  anchor (jieba, word 1-2 TF-IDF, LinearSVC C=0.5): macro-F1 {a_f1:.4f}  accuracy {a_acc:.4f}"
    )
    t0 = time.perf_counter()
    config, scores = choose_config(train_ex, HISTORY_CANDIDATES)
    print(f"  model choice by 3-fold CV on the training part ({time.perf_counter() - t0:.0f} s):")
    for name, s in scores.items():
        print(
            f"    {name:34s} CV macro-F1 {s:.4f}{'   <- chosen' if s == max(scores.values()) else ''}"
        )
    t0 = time.perf_counter()
    model = train(train_ex, "department", config=config)
    train_secs = time.perf_counter() - t0
    clf = ReportClassifier(department=model)
    clf.predict(test_ex[0].title, test_ex[0].text)
    t0 = time.process_time()
    preds = [clf.predict(ex.title, ex.text) for ex in test_ex]
    cpu_ms = (time.process_time() - t0) * 1000 / len(test_ex)
    truth = [ex.labels[0] for ex in test_ex]
    labels = [p.department or "" for p in preds]
    f1 = _macro_f1(truth, labels)
    correct = np.array([t == p for t, p in zip(truth, labels, strict=True)], dtype=float)
    conf = np.array([p.department_probability for p in preds])
    e = _ece(conf, correct)
    th = preds[0].route_threshold(0.95)
    routed = conf >= (th if th is not None else 1.01)
    cov = float(routed.mean())
    racc = float(correct[routed].mean()) if routed.any() else 0.0
    mark = "MET" if f1 >= target else "NOT MET"
    print(
        f"  ours: macro-F1 {f1:.4f}  accuracy {correct.mean():.4f}   target >= anchor + 0.03 = "
        f"{target:.4f}  {mark}   (goal 0.95  {'MET' if f1 >= 0.95 else 'NOT MET'})"
    )
    print(
        f"    training {train_secs:.0f} s on {len(train_ex)} messages (target <= 120 s "
        f"{'MET' if train_secs <= 120 else 'NOT MET'}); CPU {cpu_ms:.2f} ms/message (target <= 5 ms "
        f"{'MET' if cpu_ms <= 5 else 'NOT MET'}); load {os.getloadavg()[0]:.1f}"
    )
    print(
        f"    calibrated on its own held-out folds: ECE {e:.3f} (target <= 0.05 "
        f"{'MET' if e <= 0.05 else 'NOT MET'}); routing at its own 95 % threshold: coverage "
        f"{cov:.3f}, right {racc:.3f}"
    )
    if verbose:
        from sklearn.metrics import classification_report

        print(classification_report(truth, labels, digits=3))
    return {"anchor": a_f1, "f1": f1, "ece": e, "train_secs": train_secs, "cpu_ms": cpu_ms}


if __name__ == "__main__":
    report()
