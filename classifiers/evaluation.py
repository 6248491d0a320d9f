"""Scoring a model on labelled examples."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from classifiers.model import LinearModel
from classifiers.training import Example

__all__ = ["evaluate", "format_report", "predict_labels"]


def predict_labels(
    model: LinearModel, examples: Sequence[Example], threshold: float = 0.5
) -> list[tuple[str, ...]]:
    """Predicted labels per example: the best label, or every label above ``threshold``."""
    out: list[tuple[str, ...]] = []
    for ex in examples:
        z, _, _ = model.decision(model.analyze(ex.title, ex.text))
        p = model.calibrate(z)
        if model.multilabel:
            out.append(tuple(lab for lab, v in zip(model.labels, p, strict=True) if v >= threshold))
        else:
            out.append((model.labels[int(np.argmax(p))],))
    return out


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def _single(model: LinearModel, examples: Sequence[Example]) -> dict[str, object]:
    examples = [ex for ex in examples if ex.labels]
    predicted = [p[0] for p in predict_labels(model, examples)]
    truth = [ex.labels[0] for ex in examples]
    labels = sorted(set(truth) | set(model.labels))
    index = {lab: i for i, lab in enumerate(labels)}
    cm = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for t, p in zip(truth, predicted, strict=True):
        cm[index[t], index[p]] += 1
    per_class: dict[str, dict[str, float]] = {}
    f1s: list[float] = []
    for lab, i in index.items():
        tp = int(cm[i, i])
        fp = int(cm[:, i].sum()) - tp
        fn = int(cm[i, :].sum()) - tp
        prec, rec, f = _prf(tp, fp, fn)
        per_class[lab] = {"precision": prec, "recall": rec, "f1": f, "support": int(cm[i, :].sum())}
        if cm[i, :].sum() or cm[:, i].sum():
            f1s.append(f)
    n = len(examples)
    acc = float(np.trace(cm)) / n if n else 0.0
    supports = np.array([per_class[lab]["support"] for lab in labels], dtype=np.float64)
    weighted = (
        float(np.dot(supports, [per_class[lab]["f1"] for lab in labels]) / supports.sum())
        if supports.sum()
        else 0.0
    )
    return {
        "target": model.target,
        "n": n,
        "accuracy": acc,
        "macro_f1": float(np.mean(f1s)) if f1s else 0.0,
        "weighted_f1": weighted,
        "per_class": per_class,
        "confusion": {"labels": labels, "matrix": cm.tolist()},
    }


def _multi(model: LinearModel, examples: Sequence[Example], threshold: float) -> dict[str, object]:
    predicted = predict_labels(model, examples, threshold)
    labels = sorted({lab for ex in examples for lab in ex.labels} | set(model.labels))
    per_label: dict[str, dict[str, float]] = {}
    tps = fps = fns = 0
    f1s: list[float] = []
    for lab in labels:
        tp = sum(
            1 for ex, p in zip(examples, predicted, strict=True) if lab in ex.labels and lab in p
        )
        fp = sum(
            1
            for ex, p in zip(examples, predicted, strict=True)
            if lab not in ex.labels and lab in p
        )
        fn = sum(
            1
            for ex, p in zip(examples, predicted, strict=True)
            if lab in ex.labels and lab not in p
        )
        p_, r_, f_ = _prf(tp, fp, fn)
        per_label[lab] = {"precision": p_, "recall": r_, "f1": f_, "support": tp + fn}
        tps, fps, fns = tps + tp, fps + fp, fns + fn
        f1s.append(f_)
    subset = sum(1 for ex, p in zip(examples, predicted, strict=True) if set(ex.labels) == set(p))
    none_truth = [not ex.labels for ex in examples]
    none_pred = [not p for p in predicted]
    n = len(examples)
    return {
        "target": model.target,
        "n": n,
        "threshold": threshold,
        "accuracy": subset / n if n else 0.0,
        "subset_accuracy": subset / n if n else 0.0,
        "macro_f1": float(np.mean(f1s)) if f1s else 0.0,
        "micro_f1": _prf(tps, fps, fns)[2],
        "none_accuracy": (
            sum(a == b for a, b in zip(none_truth, none_pred, strict=True)) / n if n else 0.0
        ),
        "per_label": per_label,
    }


def evaluate(
    model: LinearModel, examples: Sequence[Example], threshold: float = 0.5
) -> dict[str, object]:
    """Scores of ``model`` on ``examples``.

    Single-label: accuracy, macro_f1, weighted_f1, per_class P/R/F1/support, confusion matrix
    (rows = truth). Multi-label: per_label P/R/F1, micro_f1, macro_f1, subset_accuracy (also
    reported as accuracy). Labels the model does not know count as errors.
    """
    if model.multilabel:
        return _multi(model, examples, threshold)
    return _single(model, examples)


def format_report(report: dict[str, object]) -> str:
    """A human-readable table of an :func:`evaluate` result."""

    def num(key: str) -> float:
        value = report[key]
        assert isinstance(value, int | float)
        return float(value)

    lines = [
        f"target {report['target']}  n={report['n']}  "
        f"accuracy {num('accuracy'):.3f}  macro-F1 {num('macro_f1'):.3f}"
    ]
    if "micro_f1" in report:
        lines[0] += f"  micro-F1 {num('micro_f1'):.3f}"
    table = report.get("per_class") or report.get("per_label")
    assert isinstance(table, dict)
    width = max([len(k) for k in table] + [5])
    lines.append(f"{'label':<{width}}  precision  recall     f1  support")
    for lab, row in table.items():
        lines.append(
            f"{lab:<{width}}  {row['precision']:9.3f}  {row['recall']:6.3f}  "
            f"{row['f1']:5.3f}  {int(row['support']):7d}"
        )
    conf = report.get("confusion")
    if isinstance(conf, dict):
        labs = conf["labels"]
        lines.append("confusion (rows = truth, columns = predicted): " + " ".join(labs))
        for lab, row in zip(labs, conf["matrix"], strict=True):
            lines.append(f"{lab:<{width}}  " + " ".join(f"{v:5d}" for v in row))
    return "\n".join(lines)
