"""Reading labelled examples and training linear models for either target."""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from classifiers.features import Analyzed, FeatureConfig, analyze, fit_space
from classifiers.model import DEPARTMENT, ISSUE_TYPE, TARGETS, LinearModel

__all__ = [
    "Example",
    "Progress",
    "TrainConfig",
    "examples_sha256",
    "read_examples",
    "train",
]

#: progress(stage, done, total): called as training advances.
Progress = Callable[[str, int, int], None]

_COLUMN_FOR_TARGET = {DEPARTMENT: "department", ISSUE_TYPE: "issue_types"}


@dataclass(frozen=True)
class Example:
    """A labelled report. ``labels`` is empty for an issue-type example with no issue."""

    title: str
    text: str
    labels: tuple[str, ...]
    weight: float = 1.0


@dataclass(frozen=True)
class TrainConfig:
    """Model choices. ``loss`` is 'svm' (LinearSVC) or 'logistic' (LogisticRegression)."""

    features: FeatureConfig = field(default_factory=FeatureConfig)
    loss: str = "svm"
    C: float = 0.5
    class_weight: str | None = "balanced"
    calibration_folds: int = 3
    seed: int = 0
    n_jobs: int = 1  # >1 fits folds in threads: faster, but liblinear then is not reproducible


def _split_labels(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    return tuple(dict.fromkeys(p.strip() for p in value.split("|") if p.strip()))


def read_examples(
    csv_path: str | Path, label_column: str = "label", target: str | None = None
) -> list[Example]:
    """Examples from a CSV with ``text``, a label column and an optional ``title``.

    Labels are ``|``-joined; empty means none. ``target='department'`` or ``'issue_type'``
    picks the bootstrap corpus's ``department`` / ``issue_types`` column instead of ``label``
    (when the file has no ``label`` column).
    """
    with open(csv_path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        fields = reader.fieldnames or []
        column = label_column
        if target is not None and (column not in fields):
            column = _COLUMN_FOR_TARGET.get(target, column)
        if "text" not in fields or column not in fields:
            raise ValueError(f"{csv_path}: needs columns 'text' and {column!r}, has {fields}")
        return [
            Example(
                (row.get("title") or "").strip(),
                (row.get("text") or "").strip(),
                _split_labels(row.get(column)),
            )
            for row in reader
            if (row.get("text") or row.get("title") or "").strip()
        ]


def examples_sha256(examples: Iterable[Example]) -> str:
    """A stable hash of a training set's content."""
    h = hashlib.sha256()
    for ex in examples:
        h.update(f"{ex.title}\x1f{ex.text}\x1f{'|'.join(ex.labels)}\x1f{ex.weight}\x1e".encode())
    return h.hexdigest()


def _estimator(config: TrainConfig, binary: bool) -> object:
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    weight = None if binary else config.class_weight
    if config.loss == "logistic":
        return LogisticRegression(C=config.C * 10, class_weight=weight, max_iter=2000)
    if config.loss == "svm":
        return LinearSVC(C=config.C, class_weight=weight, random_state=config.seed)
    raise ValueError(f"unknown loss {config.loss!r}")


def _fit_linear(
    X: object, y: np.ndarray, config: TrainConfig, binary: bool, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(coef (n_features, n_outputs), intercept) of one fitted estimator."""
    est = _estimator(config, binary)
    est.fit(X, y, sample_weight=weights)  # type: ignore[attr-defined]
    coef = np.asarray(est.coef_, dtype=np.float64).T  # type: ignore[attr-defined]
    intercept = np.asarray(est.intercept_, dtype=np.float64)  # type: ignore[attr-defined]
    return coef, intercept


def _folds(y: np.ndarray, k: int, seed: int) -> list[np.ndarray]:
    """Stratified fold indices (works with tiny classes: they simply miss some folds)."""
    rng = np.random.default_rng(seed)
    assign = np.empty(len(y), dtype=np.int64)
    for cls in np.unique(y):
        idx = np.flatnonzero(y == cls)
        rng.shuffle(idx)
        assign[idx] = (np.arange(len(idx)) + rng.integers(k)) % k
    return [np.flatnonzero(assign == f) for f in range(k)]


def _fit_temperature(z: np.ndarray, y: np.ndarray) -> float:
    """Softmax scale minimising the log-loss of out-of-fold scores."""
    from scipy.optimize import minimize_scalar

    def nll(log_t: float) -> float:
        s = z * np.exp(log_t)
        s = s - s.max(axis=1, keepdims=True)
        logp = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
        return float(-logp[np.arange(len(y)), y].mean())

    # bounded: a corpus the model separates perfectly must not yield near-certain outputs
    res = minimize_scalar(nll, bounds=(-3.0, 2.0), method="bounded")
    return float(np.exp(res.x))


def _fit_platt(z: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Sigmoid (a, b) of out-of-fold scores, with Platt's target smoothing."""
    from scipy.optimize import minimize

    pos = float(y.sum())
    neg = float(len(y) - pos)
    t = np.where(y == 1, (pos + 1) / (pos + 2), 1 / (neg + 2))

    def loss(ab: np.ndarray) -> float:
        s = np.clip(ab[0] * z + ab[1], -50, 50)
        return float(np.mean(np.logaddexp(0, s) - t * s))

    res = minimize(loss, np.array([1.0, 0.0]), method="L-BFGS-B")
    a, b = float(res.x[0]), float(res.x[1])
    if a <= 0:
        return 1.0, 0.0
    # bounded slope: keep probabilities from saturating on an easily separated corpus
    return (a, b) if a <= 8.0 else (8.0, b * 8.0 / a)


def analyze_all(
    examples: Sequence[Example], config: FeatureConfig, progress: Progress | None = None
) -> list[Analyzed]:
    docs: list[Analyzed] = []
    step = max(1, len(examples) // 50)
    for i, ex in enumerate(examples):
        docs.append(analyze(ex.title, ex.text, config))
        if progress and (i + 1) % step == 0:
            progress("segmenting", i + 1, len(examples))
    if progress:
        progress("segmenting", len(examples), len(examples))
    return docs


def train(
    examples: Sequence[Example],
    target: str,
    progress: Progress | None = None,
    config: TrainConfig | None = None,
    docs: Sequence[Analyzed] | None = None,
) -> LinearModel:
    """Train a model for ``target`` ('department': one label per example, examples without a
    label are skipped; 'issue_type': any number of labels per example).

    ``docs`` may carry the already analysed examples (same order) to save segmentation time.
    """
    if target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS}, not {target!r}")
    config = config or TrainConfig()
    multilabel = target == ISSUE_TYPE
    keep = [i for i, ex in enumerate(examples) if multilabel or ex.labels]
    examples = [examples[i] for i in keep]
    if docs is not None:
        docs = [docs[i] for i in keep]
    if not examples:
        raise ValueError("no labelled examples to train on")
    if docs is None:
        docs = analyze_all(examples, config.features, progress)
    space = fit_space(docs, config.features)
    X = space.matrix(docs)
    weights = np.array([ex.weight for ex in examples], dtype=np.float64)
    k = max(2, config.calibration_folds)

    if not multilabel:
        labels = sorted({ex.labels[0] for ex in examples})
        if len(labels) < 2:
            raise ValueError(f"department training needs at least two labels, got {labels}")
        y = np.array([labels.index(ex.labels[0]) for ex in examples])
        folds = _folds(y, k, config.seed)
        everything = np.arange(len(y))
        jobs = [np.setdiff1d(everything, test_idx) for test_idx in folds] + [everything]
        done = 0

        def fit(train_idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            nonlocal done
            present = np.unique(y[train_idx])
            c, b = _fit_linear(X[train_idx], y[train_idx], config, False, weights[train_idx])
            if len(present) == 2:  # sklearn returns one column for two classes
                c = np.hstack([-c, c]) / 2
                b = np.array([-b[0], b[0]]) / 2
            done += 1
            if progress:
                progress("fitting", done, len(jobs))
            return present, c, b

        # liblinear releases the GIL, so n_jobs > 1 runs folds side by side (its shared random
        # state then makes results vary slightly from run to run)
        with ThreadPoolExecutor(max_workers=config.n_jobs) as pool:
            fitted = list(pool.map(fit, jobs))
        z_oof = np.zeros((len(y), len(labels)))
        for test_idx, (present, c, b) in zip(folds, fitted[:-1], strict=True):
            z = np.full((len(test_idx), len(labels)), -10.0)
            z[:, present] = X[test_idx] @ c + b
            z_oof[test_idx] = z
        scale = _fit_temperature(z_oof, y)
        _, coef, intercept = fitted[-1]
        calib_scale = np.full(len(labels), scale)
        calib_bias = np.zeros(len(labels))
    else:
        labels = sorted({lab for ex in examples for lab in ex.labels})
        if not labels:
            raise ValueError("issue-type training needs at least one example with a label")
        Y = np.array([[lab in ex.labels for lab in labels] for ex in examples], dtype=np.int64)
        coef = np.zeros((space.n_features, len(labels)))
        intercept = np.zeros(len(labels))
        calib_scale = np.ones(len(labels))
        calib_bias = np.zeros(len(labels))
        for li in range(len(labels)):
            y = Y[:, li]
            if y.sum() == len(y):  # every example has it
                intercept[li], calib_bias[li] = 10.0, 0.0
                continue
            if y.sum() >= k:
                z_bin = np.zeros(len(y))
                for test_idx in _folds(y, k, config.seed):
                    train_idx = np.setdiff1d(np.arange(len(y)), test_idx)
                    c, b = _fit_linear(X[train_idx], y[train_idx], config, True, weights[train_idx])
                    z_bin[test_idx] = (X[test_idx] @ c).ravel() + b[0]
                calib_scale[li], calib_bias[li] = _fit_platt(z_bin, y)
            else:
                calib_scale[li], calib_bias[li] = 2.0, 0.0
            c, b = _fit_linear(X, y, config, True, weights)
            coef[:, li] = c.ravel()
            intercept[li] = b[0]
            if progress:
                progress("fitting", li + 1, len(labels))

    import sklearn

    return LinearModel(
        target=target,
        labels=labels,
        multilabel=multilabel,
        space=space,
        coef=np.ascontiguousarray(coef, dtype=np.float32),
        intercept=intercept.astype(np.float64),
        calib_scale=calib_scale.astype(np.float64),
        calib_bias=calib_bias.astype(np.float64),
        metrics={"n_examples": len(examples), "sklearn": str(sklearn.__version__)},
        training_sha256=examples_sha256(examples),
    )
