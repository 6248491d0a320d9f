"""The promotion gate: old and new model on the same held-out labels, a paired bootstrap, and a
verdict in plain words.

The held-out labels are the newest ones that neither model was trained on (feedback.learning
picks them). Both models are scored on the very same rows — the department by the share of
reports routed to the bureau that took them (accuracy: with a few rows for each of twenty
bureaus, macro-F1 swings with every rare bureau), issue types by macro-F1 over the types (most
reports have none, so accuracy would reward predicting none); the bootstrap resamples those rows and
recomputes both scores on each resample, so the noise of a small holdout shows as a wide
interval of the difference.

The candidate is promoted when
* it is better beyond noise: better on the whole holdout and in at least ``confidence`` of
  the resamples, or
* it is not worse beyond noise (non-inferior): at least as good on the whole holdout, and
  worse by more than ``margin`` in at most ``1 - confidence`` of the resamples — on a holdout
  where one report moves the score by at most half the margin (100 rows for 0.02: with a
  handful of rows that disagree, the bootstrap's spread understates the noise).
The second rule is there because a candidate learns from the same district as the model in
use plus newer labels: a holdout of a few hundred rows cannot show a real gain of 0.01-0.03
beyond noise (a paired bootstrap then refused candidates 0.026 better on thousands of real
messages; at 1,000 labels one tied on its 250-label holdout and was 0.029 better on them), but
it can show that the candidate is not meaningfully worse, and then the one that learned from the
newer labels is the better bet. A candidate worse on the whole holdout is never promoted; a
refused one is kept with its scores.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

__all__ = ["GateSettings", "Verdict", "judge", "macro_f1", "outcome_counts"]

TARGET_NAMES = {"department": "承办单位", "issue_type": "问题类型"}
METRICS = {"department": "分派正确率", "issue_type": "macro-F1"}


@dataclass(frozen=True)
class GateSettings:
    holdout_fraction: float = 0.25  # of a target's labels, the newest, held out
    min_holdout: int = 8  # fewer new labels than this: too few to judge, no retraining
    max_holdout: int = 1000
    resamples: int = 2000
    confidence: float = 0.8  # share of resamples in which the candidate must be better
    # non-inferiority: a candidate better on the holdout is also promoted when it is worse by
    # more than this in at most 1 - confidence of the resamples (0 turns the rule off)
    margin: float = 0.02
    seed: int = 0


@dataclass
class Verdict:
    """One target's decision, as `feedback retrain` prints it and the model history keeps it."""

    target: str
    promoted: bool
    reason: str  # plain Chinese, with the figures
    holdout: int = 0
    trained_labels: int = 0
    old_score: float | None = None
    new_score: float | None = None
    low: float | None = None  # 5th and 95th percentile of new - old over the resamples
    high: float | None = None
    p_better: float | None = None
    p_worse: float | None = None  # share of resamples in which it is worse by more than margin
    rule: str = ""  # why promoted: "better" (beyond noise) or "not worse" (non-inferior)
    skipped: bool = False  # nothing was trained (no or too few new labels)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def outcome_counts(
    truth: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]], classes: Sequence[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row and class: true positive, false positive, false negative (0/1 arrays n × C)."""
    n, c = len(truth), len(classes)
    index = {k: i for i, k in enumerate(classes)}
    t = np.zeros((n, c), dtype=np.float64)
    p = np.zeros((n, c), dtype=np.float64)
    for row, (ts, ps) in enumerate(zip(truth, predicted, strict=True)):
        for k in ts:
            t[row, index[k]] = 1
        for k in ps:
            if k in index:
                p[row, index[k]] = 1
    return t * p, (1 - t) * p, t * (1 - p)


def _macro(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> np.ndarray:
    """Macro-F1 over the last axis; a class never true nor predicted is left out."""
    denom = 2 * tp + fp + fn
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(denom > 0, 2 * tp / np.where(denom > 0, denom, 1), np.nan)
    counted = np.sum(~np.isnan(f1), axis=-1)
    total = np.nansum(f1, axis=-1)
    return np.where(counted > 0, total / np.maximum(counted, 1), 0.0)


def macro_f1(
    truth: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]], classes: Sequence[str]
) -> float:
    tp, fp, fn = outcome_counts(truth, predicted, classes)
    return float(_macro(tp.sum(0), fp.sum(0), fn.sum(0)))


def judge(
    target: str,
    truth: Sequence[Sequence[str]],
    old: Sequence[Sequence[str]],
    new: Sequence[Sequence[str]],
    settings: GateSettings,
    *,
    old_name: str,
    trained_labels: int,
) -> Verdict:
    """Compare the current model's predictions ``old`` with the candidate's ``new`` on the
    held-out ``truth``: promote when the candidate is better beyond noise."""
    classes = sorted({k for rows in (truth, old, new) for r in rows for k in r})
    n = len(truth)
    old_c = outcome_counts(truth, old, classes)
    new_c = outcome_counts(truth, new, classes)
    rng = np.random.default_rng(settings.seed)
    weights = rng.multinomial(n, np.full(n, 1.0 / n), size=settings.resamples).astype(np.float64)
    if target == "department":
        # one label a row: right when the predicted bureau is the one that took the report
        old_right, new_right = old_c[0].sum(1), new_c[0].sum(1)
        old_score, new_score = float(old_right.mean()), float(new_right.mean())
        diff = (weights @ new_right - weights @ old_right) / n
    else:
        old_score = float(_macro(*(a.sum(0) for a in old_c)))
        new_score = float(_macro(*(a.sum(0) for a in new_c)))
        diff = _macro(*(weights @ a for a in new_c)) - _macro(*(weights @ a for a in old_c))
    p_better = float(np.mean(diff > 0))
    p_worse = float(np.mean(diff < -settings.margin)) if settings.margin > 0 else 1.0
    low, high = (float(x) for x in np.percentile(diff, [5, 95]))
    rule = ""
    if new_score > old_score and p_better >= settings.confidence:
        rule = "better"
    elif new_score >= old_score and p_worse <= 1 - settings.confidence and n * settings.margin >= 2:
        rule = "not worse"
    promoted = bool(rule)
    what = TARGET_NAMES.get(target, target)
    figures = (
        f"在最新的 {n} 条两者都未学过的标注上，{what}{METRICS.get(target, '')}：现用模型（{old_name}）"
        f"{old_score:.3f}，新模型 {new_score:.3f}，差 {new_score - old_score:+.3f}"
        f"（自助法 90% 区间 {low:+.3f} 至 {high:+.3f}，新模型更好的比例 {p_better:.0%}）"
    )
    worse = f"重抽样中新模型低 {settings.margin:.2f} 以上的比例 {p_worse:.0%}"
    if rule == "better":
        reason = f"已启用新模型：{figures}，超出随机波动。"
    elif rule == "not worse":
        reason = (
            f"已启用新模型：{figures}。新模型不低于现用模型，虽未超出随机波动，但{worse}"
            f"（不超过 {1 - settings.confidence:.0%}），不会明显更差，且学过更新的标注。"
        )
    elif p_better <= 1 - settings.confidence:
        reason = f"未启用：新模型更差。{figures}。"
    elif new_score < old_score:
        reason = f"未启用：新模型没有更好（在这些标注上低于现用模型）。{figures}。"
    elif n * settings.margin < 2:
        reason = (
            f"未启用：新模型没有明显更好（需要在至少 {settings.confidence:.0%} 的重抽样中更好；"
            f"标注少于 {math.ceil(2 / settings.margin) if settings.margin > 0 else '∞'} 条时"
            f"不按“不会明显更差”启用）。{figures}。"
        )
    else:
        reason = (
            f"未启用：新模型没有明显更好，也不能排除更差（{worse}，"
            f"需不超过 {1 - settings.confidence:.0%}；或在至少 {settings.confidence:.0%} "
            f"的重抽样中更好）。{figures}。"
        )
    return Verdict(
        target, promoted, reason, holdout=n, trained_labels=trained_labels,
        old_score=old_score, new_score=new_score, low=low, high=high, p_better=p_better,
        p_worse=p_worse, rule=rule,
    )  # fmt: skip
