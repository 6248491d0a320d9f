"""Reading labelled examples and training linear models for either target."""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from classifiers.features import Analyzed, FeatureConfig, analyze, document, fit_space
from classifiers.model import DEPARTMENT, ISSUE_TYPE, TARGETS, LinearModel, map_top
from classifiers.rules import KeywordRules

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
    authority: str = ""  # the citizen's 涉及单位 field
    group: str = ""  # who wrote it: held-out folds leave whole groups out when there are some
    # False: learn from it but fit no probability or threshold on it (the old stitched corpus
    # is far easier than real text, so its held-out scores would make the model overconfident)
    calibrate: bool = True


@dataclass(frozen=True)
class TrainConfig:
    """Model choices. ``loss`` is 'svm' (LinearSVC) or 'logistic' (LogisticRegression)."""

    features: FeatureConfig = field(default_factory=FeatureConfig)
    loss: str = "svm"
    C: float = 0.5
    class_weight: str | None = "balanced"
    binary_class_weight: str | None = None  # issue types (one binary model each)
    calibration_folds: int = 3
    seed: int = 0
    n_jobs: int = 1  # >1 fits folds in threads: faster, but liblinear then is not reproducible
    # held-out predictions leave one author out at a time (when there are >= 3); department
    # examples whose bureau the other authors never wrote for are left out of calibration
    group_folds: bool = False
    # department: map the top probability to held-out correctness: "sigmoid" (on its logit:
    # smooth, keeps the ranking), "isotonic" (steps) or "none"
    top_calibration: str = "sigmoid"
    # issue types: combine the learned score with the cue rules of classifiers/cues.py
    cue_stack: bool = True
    stack_all_scores: bool = False  # ... with every type's learned score, not only its own
    cue_blend: float = 0.0  # weight of a cue-only logistic view averaged into each type
    # issue types: the types whose stack also reads the clause features (cues.CLAUSE_FEATURES)
    clause_types: tuple[str, ...] = ()


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

    weight = config.binary_class_weight if binary else config.class_weight
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


def _held_out_folds(
    y: np.ndarray, groups: Sequence[str], k: int, seed: int, by_group: bool
) -> list[np.ndarray]:
    """One fold per author when there are at least three (and ``by_group``), else stratified."""
    names = sorted(set(groups))
    if by_group and len(names) >= 3:
        g = np.array([names.index(x) for x in groups])
        return [np.flatnonzero(g == i) for i in range(len(names))]
    return _folds(y, k, seed)


def _fit_scale_and_weights(
    z: np.ndarray, y: np.ndarray, evidence: Sequence[np.ndarray]
) -> tuple[float, list[float]]:
    """Softmax scale and one weight per evidence matrix, minimising held-out log-loss.

    ``evidence[k][i, j]`` is how much evidence k points example i at label j (the 涉及单位
    naming it: 0/1; the share of remit keywords found). Each weight is a log-odds bonus:
    evidence weighed against the text, not an override.
    """
    from scipy.optimize import minimize

    used = [e for e in evidence if e.any()]
    if not used:
        return _fit_temperature(z, y), [0.0] * len(evidence)

    def nll(params: np.ndarray) -> float:
        s = z * np.exp(params[0])
        for w, e in zip(params[1:], used, strict=True):
            s = s + w * e
        s = s - s.max(axis=1, keepdims=True)
        logp = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
        return float(-logp[np.arange(len(y)), y].mean())

    res = minimize(
        nll,
        np.array([0.0] + [1.0] * len(used)),
        method="L-BFGS-B",
        bounds=[(-3.0, 2.0)] + [(0.0, 8.0)] * len(used),
    )
    fitted = iter(float(w) for w in res.x[1:])
    return float(np.exp(res.x[0])), [next(fitted) if e.any() else 0.0 for e in evidence]


def _fit_top_map(confidence: np.ndarray, correct: np.ndarray, kind: str) -> dict[str, object]:
    """A map from the top bureau's softmax probability to how often held-out reports at that
    probability were right (see ``classifiers.model.map_top``)."""
    if kind == "none" or len(confidence) < 50:
        return {}
    y = correct.astype(np.float64)
    if kind == "isotonic":
        from sklearn.isotonic import IsotonicRegression

        iso = IsotonicRegression(y_min=0.0, y_max=1.0, increasing=True, out_of_bounds="clip")
        iso.fit(confidence, y)
        return {
            "kind": "isotonic",
            "x": [round(float(v), 5) for v in iso.X_thresholds_],
            "y": [round(float(v), 5) for v in iso.y_thresholds_],
        }
    if kind == "sigmoid":
        a, b = _fit_platt(_logit(confidence), correct.astype(np.int64))
        return {"kind": "sigmoid", "a": round(a, 6), "b": round(b, 6)}
    raise ValueError(f"unknown top calibration {kind!r}")


def _logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(q / (1 - q))


def route_curve(confidence: np.ndarray, correct: np.ndarray, points: int = 60) -> list[list[float]]:
    """[threshold, accuracy of the reports at or above it, their share] at up to ``points``
    thresholds (held-out predictions): routing picks the lowest threshold meeting a target."""
    order = np.argsort(-confidence, kind="stable")
    conf, ok = confidence[order], correct[order].astype(np.float64)
    acc = np.cumsum(ok) / np.arange(1, len(ok) + 1)
    picks = np.unique(np.linspace(0, len(ok) - 1, min(points, len(ok))).astype(int))
    return [
        [round(float(conf[i]), 4), round(float(acc[i]), 4), round((i + 1) / len(ok), 4)]
        for i in picks
    ]


# Examples of a district's own labelled reports carry a group starting with this
# (feedback.learning); the rest are the project's corpus.
DISTRICT_GROUP = "district-"
# With this many of them (held out by time), a department model's probabilities, evidence
# weights and routing table are fitted on the district's rows alone.
DISTRICT_CALIBRATION_ROWS = 200
# A type's decision threshold is chosen on the district's rows alone once they hold this many
# rows and positives of it: they are the traffic the model will meet, the corpus is not.
THRESHOLD_ROWS, THRESHOLD_POSITIVES = 60, 6


def _threshold(p: np.ndarray, y: np.ndarray, district: np.ndarray) -> tuple[float, float]:
    if district.sum() >= THRESHOLD_ROWS and y[district].sum() >= THRESHOLD_POSITIVES:
        return _best_f1_threshold(p[district], y[district])
    return _best_f1_threshold(p, y)


def _best_f1_threshold(p: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(threshold of the best F1 on held-out probabilities, that F1)."""
    best_t, best_f = 0.5, -1.0
    for t in np.arange(0.05, 0.96, 0.01):
        pred = p >= t
        tp = float((pred & (y == 1)).sum())
        f = 2 * tp / (pred.sum() + y.sum()) if pred.sum() + y.sum() else 0.0
        if f > best_f + 1e-9:
            best_t, best_f = float(t), f
    return round(best_t, 2), round(float(best_f), 4)


def _fit_stack(z: np.ndarray, cues: np.ndarray, y: np.ndarray) -> tuple[list[float], float]:
    """Logistic layer over [learned score(s), cue features] of held-out predictions."""
    from sklearn.linear_model import LogisticRegression

    X = np.hstack([z, cues])
    lr = LogisticRegression(C=1.0, max_iter=1000)
    lr.fit(X, y)
    return [round(float(w), 6) for w in lr.coef_[0]], round(float(lr.intercept_[0]), 6)


def _noncontent_words(terms: Sequence[str]) -> list[str]:
    """Word terms that are not content words by jieba's part-of-speech tags (never reasons)."""
    from classifiers.reasons import content_tag

    return [t for t in terms if " " not in t and not content_tag(t)]


def train(
    examples: Sequence[Example],
    target: str,
    progress: Progress | None = None,
    config: TrainConfig | None = None,
    docs: Sequence[Analyzed] | None = None,
    authority_match: Callable[[str], str | None] | None = None,
    keywords: Mapping[str, Sequence[str]] | None = None,
) -> LinearModel:
    """Train a model for ``target`` ('department': one label per example, examples without a
    label are skipped; 'issue_type': any number of labels per example).

    ``docs`` may carry the already analysed examples (same order) to save segmentation time.
    ``authority_match`` maps a 涉及单位 field to a label (department), for weighing that field;
    ``keywords`` (label → remit keywords), when given, are weighed the same way and kept in the
    model (the weight was fitted for these very lists).

    Held-out predictions (one author left out at a time when there are authors) fit what turns
    scores into decisions: the department's softmax temperature, the 涉及单位 weight and the
    table routing thresholds are chosen from; for each issue type a logistic layer over the
    learned score and the cue rules, and the threshold with the best F1.
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
    groups = [ex.group for ex in examples]
    k = max(2, config.calibration_folds)
    rule: dict[str, object] = {}

    if not multilabel:
        labels = sorted({ex.labels[0] for ex in examples})
        if len(labels) < 2:
            raise ValueError(f"department training needs at least two labels, got {labels}")
        y = np.array([labels.index(ex.labels[0]) for ex in examples])
        folds = _held_out_folds(y, groups, k, config.seed, config.group_folds)
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
        # a held-out example whose label its fold never saw (a bureau only one author wrote
        # for) says nothing about calibration: it cannot be right
        seen = np.ones(len(y), dtype=bool)
        for test_idx, (present, c, b) in zip(folds, fitted[:-1], strict=True):
            z = np.full((len(test_idx), len(labels)), -10.0)
            z[:, present] = X[test_idx] @ c + b
            z_oof[test_idx] = z
            seen[test_idx] = np.isin(y[test_idx], present)
        match = np.zeros_like(z_oof)
        if authority_match is not None:
            for i, ex in enumerate(examples):
                code = authority_match(ex.authority) if ex.authority else None
                if code in labels:
                    match[i, labels.index(code)] = 1.0
        kw = np.zeros_like(z_oof)
        if keywords is not None:
            kw = keyword_evidence(KeywordRules(keywords), labels, examples)
        cal = np.array([ex.calibrate for ex in examples]) & seen
        if not cal.any():
            cal[:] = True
        own = cal & np.array([ex.group.startswith(DISTRICT_GROUP) for ex in examples])
        scale, (authority_weight, keyword_weight) = _fit_scale_and_weights(
            z_oof[cal], y[cal], [match[cal], kw[cal]]
        )
        if own.sum() >= DISTRICT_CALIBRATION_ROWS:
            # A district's own rows are the traffic the model meets: the text scale, the
            # keyword weight, the top-probability map and the routing table are fitted on
            # them alone (on the corpus the remit keywords weighed 1.8, on real letters 0.5).
            # The 涉及单位 weight stays the corpus's when no district row names a bureau.
            authority_corpus = authority_weight
            scale, (authority_weight, keyword_weight) = _fit_scale_and_weights(
                z_oof[own], y[own], [match[own], kw[own]]
            )
            if not match[own].any():
                authority_weight = authority_corpus
            cal = own
        z_oof, y_cal, match, kw = z_oof[cal], y[cal], match[cal], kw[cal]
        s = z_oof * scale + authority_weight * match + keyword_weight * kw
        p = np.exp(s - s.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        correct = p.argmax(axis=1) == y_cal
        top_map = _fit_top_map(p.max(axis=1), correct, config.top_calibration)
        confidence = map_top(p.max(axis=1), top_map)
        rule = {
            "authority_weight": round(authority_weight, 4),
            "keyword_weight": round(keyword_weight, 4),
            "keywords": {k: list(v) for k, v in (keywords or {}).items()} if keyword_weight else {},
            "top_calibration": top_map,
            "route_curve": route_curve(confidence, correct),
            "held_out": {
                "folds": len(folds),
                "examples": int(cal.sum()),
                "accuracy": round(float(correct.mean()), 4),
                "by": "author" if len(set(groups)) >= 3 and config.group_folds else "stratified",
                "rows": "district" if cal is own else "all",
            },
        }
        _, coef, intercept = fitted[-1]
        calib_scale = np.full(len(labels), scale)
        calib_bias = np.zeros(len(labels))
    else:
        from classifiers.cues import CLAUSE_FEATURES, FEATURES, Cues

        labels = sorted({lab for ex in examples for lab in ex.labels})
        if not labels:
            raise ValueError("issue-type training needs at least one example with a label")
        Y = np.array([[lab in ex.labels for lab in labels] for ex in examples], dtype=np.int64)
        coef = np.zeros((space.n_features, len(labels)))
        intercept = np.zeros(len(labels))
        calib_scale = np.ones(len(labels))
        calib_bias = np.zeros(len(labels))
        cues = Cues.load()
        reports = [cues.analyse(cue_text(ex.title, ex.text)) for ex in examples]
        district = np.array([ex.group.startswith(DISTRICT_GROUP) for ex in examples])
        stack: dict[str, object] = {}
        Z = np.zeros(Y.shape)  # held-out scores, one column per type
        stackable: list[int] = []
        for li in range(len(labels)):
            y = Y[:, li]
            if y.sum() == len(y):  # every example has it
                intercept[li], calib_bias[li] = 10.0, 0.0
                continue
            if y.sum() >= k:
                for test_idx in _held_out_folds(y, groups, k, config.seed, config.group_folds):
                    train_idx = np.setdiff1d(np.arange(len(y)), test_idx)
                    if len(np.unique(y[train_idx])) < 2:
                        continue
                    c, b = _fit_linear(X[train_idx], y[train_idx], config, True, weights[train_idx])
                    Z[test_idx, li] = (X[test_idx] @ c).ravel() + b[0]
                calib_scale[li], calib_bias[li] = _fit_platt(Z[:, li], y)
                stackable.append(li)
            else:
                calib_scale[li], calib_bias[li] = 2.0, 0.0
            c, b = _fit_linear(X, y, config, True, weights)
            coef[:, li] = c.ravel()
            intercept[li] = b[0]
            if progress:
                progress("fitting", li + 1, len(labels))
        for li in stackable:
            lab, y = labels[li], Y[:, li]
            if config.cue_stack and lab in cues.lists:
                clause = lab in config.clause_types
                F = np.array(
                    [
                        np.concatenate([r.features(lab), r.clause_features()])
                        if clause
                        else r.features(lab)
                        for r in reports
                    ]
                )
                # every type's score: types come together (a fine without a receipt is
                # opacity and often abuse), so one type's score is evidence for another
                scores = Z if config.stack_all_scores else Z[:, [li]]
                w, b0 = _fit_stack(scores, F, y)
                s = np.hstack([scores, F]) @ np.array(w) + b0
                p = 1 / (1 + np.exp(-np.clip(s, -50, 50)))
                spec: dict[str, object] = {
                    "weights": w,
                    "bias": b0,
                    "scores": "all" if config.stack_all_scores else "own",
                }
                if clause:
                    spec["clause"] = True
                if config.cue_blend:
                    # a cue-only view averaged in: the learned score is what suffers most when
                    # real text reads unlike the corpus, the cue rules suffer less
                    wc, bc = _fit_stack(np.zeros((len(y), 0)), F, y)
                    pc = 1 / (1 + np.exp(-np.clip(F @ np.array(wc) + bc, -50, 50)))
                    p = (1 - config.cue_blend) * p + config.cue_blend * pc
                    spec["cue_only"] = {"weights": wc, "bias": bc, "blend": config.cue_blend}
                t, f = _threshold(p, y, district)
                stack[lab] = {**spec, "threshold": t, "held_out_f1": f}
            else:
                p = 1 / (1 + np.exp(-np.clip(calib_scale[li] * Z[:, li] + calib_bias[li], -50, 50)))
                t, f = _threshold(p, y, district)
                stack[lab] = {"threshold": t, "held_out_f1": f}
        rule = {
            "cue_features": list(FEATURES),
            "clause_features": list(CLAUSE_FEATURES),
            "types": stack,
        }
    rule["noncontent"] = _noncontent_words(space.word_terms)

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
        rule=rule,
    )


def keyword_evidence(
    rules: KeywordRules, labels: Sequence[str], examples: Sequence[Example]
) -> np.ndarray:
    """Share of remit keyword hits per label, one row per example."""
    out = np.zeros((len(examples), len(labels)))
    index = {lab: j for j, lab in enumerate(labels)}
    for i, ex in enumerate(examples):
        for lab, share in rules.scores(cue_text(ex.title, ex.text)).items():
            if lab in index:
                out[i, index[lab]] = share
    return out


def cue_text(title: str, text: str) -> str:
    """The part of a report the cue rules read (the head: long letters repeat themselves)."""
    return document(title, text)[:1500]


#: Department model choices a district's own history is cross-validated over (see
#: :func:`choose_config`; ``bench/district_history.py`` prints their scores).
HISTORY_CANDIDATES: dict[str, TrainConfig] = {
    "LinearSVC C=0.5": TrainConfig(),
    "LinearSVC C=1.0": TrainConfig(C=1.0),
}


def choose_config(
    examples: Sequence[Example],
    candidates: Mapping[str, TrainConfig],
    folds: int = 3,
    seed: int = 0,
    progress: Progress | None = None,
) -> tuple[TrainConfig, dict[str, float]]:
    """The department configuration with the best stratified ``folds``-fold cross-validated
    macro-F1 on ``examples`` (each fold fits its own vocabulary), and every candidate's score.

    Only which label comes out on top is scored, so calibration is left out here; ``train``
    then calibrates the chosen configuration on its own held-out folds.
    """
    from sklearn.metrics import f1_score

    examples = [ex for ex in examples if ex.labels]
    labels = sorted({ex.labels[0] for ex in examples})
    y = np.array([labels.index(ex.labels[0]) for ex in examples])
    weights = np.array([ex.weight for ex in examples], dtype=np.float64)
    parts = _folds(y, folds, seed)
    docs_by_features: dict[FeatureConfig, list[Analyzed]] = {}
    spaces: dict[tuple[FeatureConfig, int], tuple[object, object]] = {}
    scores: dict[str, float] = {}
    for n, (name, cfg) in enumerate(candidates.items()):
        feats = cfg.features
        if feats not in docs_by_features:
            docs_by_features[feats] = analyze_all(examples, feats)
        docs = docs_by_features[feats]
        f1s = []
        for f, test_idx in enumerate(parts):
            train_idx = np.setdiff1d(np.arange(len(y)), test_idx)
            if (feats, f) not in spaces:
                space = fit_space([docs[i] for i in train_idx], feats)
                spaces[(feats, f)] = (
                    space.matrix([docs[i] for i in train_idx]),
                    space.matrix([docs[i] for i in test_idx]),
                )
            X_tr, X_te = spaces[(feats, f)]
            coef, b = _fit_linear(X_tr, y[train_idx], cfg, False, weights[train_idx])
            pred = np.asarray(X_te @ coef + b).argmax(axis=1)
            f1s.append(f1_score(y[test_idx], np.unique(y[train_idx])[pred], average="macro"))
        scores[name] = float(np.mean(f1s))
        if progress:
            progress("choosing", n + 1, len(candidates))
    best = max(scores, key=lambda k: scores[k])
    return candidates[best], scores
