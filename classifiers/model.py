"""Linear text models with calibrated probabilities, and the report classifier built on them.

Prediction uses only numpy: the weights are plain arrays, so a model is read-only after loading
and safe to share between threads.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from classifiers.features import Analyzed, FeatureSpace, analyze

if TYPE_CHECKING:
    from classifiers.cues import CueReport
    from classifiers.rules import KeywordRules

__all__ = ["DEPARTMENT", "ISSUE_TYPE", "TARGETS", "LinearModel", "Prediction", "ReportClassifier"]

DEPARTMENT = "department"
ISSUE_TYPE = "issue_type"
TARGETS = (DEPARTMENT, ISSUE_TYPE)


@dataclass
class Prediction:
    """What the classifier says about one report."""

    department: str | None
    department_probability: float
    top: list[tuple[str, float]]
    issue_types: list[str]
    issue_type_probabilities: dict[str, float]
    reasons: list[str]  # every label's reasons, de-duplicated (department's first)
    reasons_by_label: dict[str, list[str]] = field(default_factory=dict)
    #: False: out of domain (无法识别): no issue types, never auto-routed
    recognised: bool = True
    #: held-out [threshold, accuracy, share] of the department model (see ``route_threshold``)
    route_curve: list[list[float]] = field(default_factory=list, repr=False)

    def route_threshold(self, target_accuracy: float) -> float | None:
        """The lowest probability at which held-out reports were right ``target_accuracy`` of
        the time (None: the model has no table; 1.01: no threshold reaches the target)."""
        return threshold_for(self.route_curve, target_accuracy)

    def to_json(self) -> dict[str, object]:
        return {
            "department": self.department,
            "department_probability": round(self.department_probability, 4),
            "top": [[code, round(p, 4)] for code, p in self.top],
            "issue_types": list(self.issue_types),
            "issue_type_probabilities": {
                k: round(v, 4) for k, v in self.issue_type_probabilities.items()
            },
            "reasons": {k: list(v) for k, v in self.reasons_by_label.items()},
            "recognised": self.recognised,
        }


def map_top(confidence: np.ndarray, spec: object) -> np.ndarray:
    """The top bureau's probability through the model's fitted map (``top_calibration``)."""
    if not isinstance(spec, dict) or not spec:
        return confidence
    if spec.get("kind") == "isotonic":
        return np.interp(confidence, spec["x"], spec["y"])
    if spec.get("kind") == "sigmoid":
        q = np.clip(confidence, 1e-6, 1 - 1e-6)
        s = float(spec["a"]) * np.log(q / (1 - q)) + float(spec["b"])
        return 1.0 / (1.0 + np.exp(-np.clip(s, -50, 50)))
    return confidence


def _calibrate_top(p: np.ndarray, best: int, spec: object) -> np.ndarray:
    """The top label's probability through the model's map (how often held-out reports at
    that probability were right, at least 1/labels: it is the likeliest); the others share the
    rest in proportion, so the probabilities still sum to 1. In the rare unsure case the map
    puts the top below a runner-up, the model's order is kept."""
    if not isinstance(spec, dict) or not spec:
        return p
    c = max(float(map_top(np.array([p[best]]), spec)[0]), 1.0 / len(p))
    rest = 1.0 - float(p[best])
    out = (
        p * ((1.0 - c) / rest) if rest > 1e-12 else np.full_like(p, (1.0 - c) / max(1, len(p) - 1))
    )
    out[best] = c
    return out


def threshold_for(curve: Sequence[Sequence[float]], target_accuracy: float) -> float | None:
    if not curve:
        return None
    # the curve runs from the most confident down; accuracy above a threshold is not
    # monotone, so the lowest threshold is taken only while every higher one met the target
    best: float | None = None
    for row in curve:
        if row[1] < target_accuracy:
            break
        best = row[0]
    return best if best is not None else 1.01


@dataclass
class LinearModel:
    """One target: a linear scorer over a feature space plus a probability calibration.

    Single-label (``multilabel=False``): p = softmax(scale * z + bias).
    Multi-label: p_k = sigmoid(scale_k * z_k + bias_k), one binary model per label.
    """

    target: str
    labels: list[str]
    multilabel: bool
    space: FeatureSpace
    coef: np.ndarray  # (n_features, n_labels)
    intercept: np.ndarray  # (n_labels,)
    calib_scale: np.ndarray  # (n_labels,)
    calib_bias: np.ndarray  # (n_labels,)
    metrics: dict[str, object] = field(default_factory=dict)
    training_sha256: str = ""
    #: what turns scores into decisions, fitted on held-out data (see classifiers.training):
    #: department: authority_weight, route_curve; issue types: per type the cue-stack weights
    #: and threshold; both: noncontent (vocabulary words never shown as reasons)
    rule: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        words = self.rule.get("noncontent") or ()
        self._noncontent = (
            frozenset(str(w) for w in words) if isinstance(words, list) else frozenset()
        )

    def analyze(self, title: str, text: str) -> Analyzed:
        return analyze(title, text, self.space.config)

    def decision(self, doc: Analyzed) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Raw scores per label, plus the input's feature columns and values."""
        cols, vals = self.space.vector(doc)
        z = vals @ self.coef[cols] + self.intercept if len(cols) else self.intercept.copy()
        return np.asarray(z, dtype=np.float64), cols, vals

    def calibrate(self, z: np.ndarray) -> np.ndarray:
        """Probabilities from raw scores (works on one row or a matrix of rows)."""
        s = z * self.calib_scale + self.calib_bias
        if self.multilabel:
            return 1.0 / (1.0 + np.exp(-np.clip(s, -50, 50)))
        s = s - s.max(axis=-1, keepdims=True)
        e = np.exp(s)
        return e / e.sum(axis=-1, keepdims=True)

    def probabilities(self, title: str, text: str) -> dict[str, float]:
        z, _, _ = self.decision(self.analyze(title, text))
        return dict(zip(self.labels, self.calibrate(z).tolist(), strict=True))

    def reasons(
        self, doc: Analyzed, cols: np.ndarray, vals: np.ndarray, label_index: int, limit: int = 5
    ) -> list[str]:
        """Whole content words of the input that pushed most towards ``labels[label_index]``
        (see classifiers.reasons: no single characters, stop words or cross-word fragments)."""
        from classifiers.reasons import showable

        if not len(cols):
            return []
        weights = self.coef[cols, label_index]
        if not self.multilabel and len(self.labels) > 1:
            # what sets this label apart from the others, not what all labels share
            weights = weights - self.coef[cols].mean(axis=1)
        contrib = vals * weights
        order = np.argsort(-contrib, kind="stable")[: limit * 12]  # ties: by column
        words: _Words | None = None
        scores: dict[str, float] = {}
        for j, c in zip(order.tolist(), contrib[order].tolist(), strict=True):
            if c <= 0:
                break
            kind, term = self.space.term(int(cols[j]))
            if kind == "char":
                # the whole input word that contains the character n-gram; n-grams across
                # word boundaries have none and are not shown
                if words is None:
                    words = _Words(doc.tokens)
                whole = words.containing(term)
                parts = [whole] if whole is not None else []
            else:
                parts = self.space.word_terms[int(cols[j])].split(" ")
            for part in parts:
                if part not in self._noncontent and showable(part):
                    scores[part] = scores.get(part, 0.0) + c / len(parts)
        ranked = sorted(scores.items(), key=lambda kv: -kv[1])
        out: list[str] = []
        for term, _ in ranked:
            if any(term in kept for kept in out):
                continue
            out = [kept for kept in out if kept not in term]
            out.append(term)
            if len(out) >= limit:
                break
        return out


class _Words:
    """The report's words of two or more characters, searchable for a substring at C speed."""

    def __init__(self, tokens: Sequence[str]) -> None:
        self.words = [t for t in tokens if len(t) > 1]
        self.starts: list[int] = []
        pos = 0
        for w in self.words:
            self.starts.append(pos)
            pos += len(w) + 1
        self.joined = "\x00".join(self.words)

    def containing(self, term: str) -> str | None:
        """The first word that contains ``term`` (which has no NUL), or None."""
        pos = self.joined.find(term)
        if pos < 0:
            return None
        return self.words[bisect_right(self.starts, pos) - 1]


class ReportClassifier:
    """Department routing and issue-type tagging of citizen reports.

    Holds a department model and/or an issue-type model; both are read-only, so one instance
    can serve many threads.
    """

    def __init__(
        self,
        department: LinearModel | None = None,
        issue_type: LinearModel | None = None,
        issue_type_threshold: float = 0.5,
        max_reasons: int = 5,
    ) -> None:
        if department is None and issue_type is None:
            raise ValueError("a ReportClassifier needs at least one model")
        if department is not None and department.target != DEPARTMENT:
            raise ValueError(f"department model has target {department.target!r}")
        if issue_type is not None and issue_type.target != ISSUE_TYPE:
            raise ValueError(f"issue-type model has target {issue_type.target!r}")
        self.department = department
        self.issue_type = issue_type
        self.issue_type_threshold = issue_type_threshold
        self.max_reasons = max_reasons
        self._keyword_rules: KeywordRules | None = None

    @property
    def departments(self) -> list[str]:
        return list(self.department.labels) if self.department else []

    @property
    def issue_types(self) -> list[str]:
        return list(self.issue_type.labels) if self.issue_type else []

    def predict(
        self, title: str, text: str, k: int = 3, authority_bureau: str | None = None
    ) -> Prediction:
        """Classify one report; ``top`` holds the ``k`` likeliest departments.

        ``authority_bureau``: the bureau the citizen's 涉及单位 field names (matched by the
        caller against the district's names), weighed as evidence against the text.
        """
        from classifiers.ood import UNRECOGNISED, assess

        recognised = assess(title, text).recognised
        by_label: dict[str, list[str]] = {}
        department: str | None = None
        dep_p = 0.0
        top: list[tuple[str, float]] = []
        curve: list[list[float]] = []
        doc: Analyzed | None = None
        if self.department is not None:
            m = self.department
            doc = m.analyze(title, text)
            z, cols, vals = m.decision(doc)
            s = z * m.calib_scale + m.calib_bias
            weight = float(m.rule.get("authority_weight", 0.0) or 0.0)  # type: ignore[arg-type]
            if authority_bureau in m.labels and weight:
                s = s.copy()
                s[m.labels.index(authority_bureau)] += weight
            s = self._keyword_evidence(m, s, title, text)
            e = np.exp(s - s.max())
            p = e / e.sum()
            order = np.argsort(-p)
            best = int(order[0])
            p = _calibrate_top(p, best, m.rule.get("top_calibration"))
            department, dep_p = m.labels[best], float(p[best])
            top = [(m.labels[int(i)], float(p[int(i)])) for i in order[: max(k, 1)]]
            curve = m.rule.get("route_curve") or []  # type: ignore[assignment]
            if recognised:
                by_label[department] = m.reasons(doc, cols, vals, best, self.max_reasons)
        issue_types: list[str] = []
        issue_p: dict[str, float] = {}
        if self.issue_type is not None:
            m = self.issue_type
            if doc is None or m.space.config != self.department_config():
                doc = m.analyze(title, text)
            z, cols, vals = m.decision(doc)
            p, thresholds, cue_report = self._issue_probabilities(m, z, title, text)
            issue_p = {lab: float(v) for lab, v in zip(m.labels, p.tolist(), strict=True)}
            if recognised:
                for i in np.argsort(-p):
                    lab = m.labels[int(i)]
                    if p[i] < thresholds[int(i)]:
                        continue
                    issue_types.append(lab)
                    found = cue_report.phrases(lab) if cue_report is not None else []
                    words = m.reasons(doc, cols, vals, int(i), self.max_reasons)
                    by_label[lab] = list(dict.fromkeys([*found[:3], *words]))[: self.max_reasons]
        if not recognised:
            by_label = {UNRECOGNISED: []}
        reasons = list(dict.fromkeys(r for rs in by_label.values() for r in rs))
        return Prediction(
            department, dep_p, top, issue_types, issue_p, reasons, by_label, recognised, curve
        )

    def _keyword_evidence(self, m: LinearModel, s: np.ndarray, title: str, text: str) -> np.ndarray:
        """Add the fitted weight times the share of each bureau's remit keywords found."""
        from classifiers.training import cue_text

        weight = float(m.rule.get("keyword_weight", 0.0) or 0.0)  # type: ignore[arg-type]
        if not weight:
            return s
        if self._keyword_rules is None:
            from classifiers.rules import KeywordRules

            table = m.rule.get("keywords") or {}
            assert isinstance(table, dict)
            self._keyword_rules = KeywordRules(table)
        shares = self._keyword_rules.scores(cue_text(title, text))
        if shares:
            s = s.copy()
            for lab, share in shares.items():
                if lab in m.labels:
                    s[m.labels.index(lab)] += weight * share
        return s

    def _issue_probabilities(
        self, m: LinearModel, z: np.ndarray, title: str, text: str
    ) -> tuple[np.ndarray, list[float], CueReport | None]:
        """Per type: the cue-stacked probability and its threshold (or Platt and the default)."""
        from classifiers.cues import Cues
        from classifiers.training import cue_text

        types = m.rule.get("types") or {}
        assert isinstance(types, dict)
        p = m.calibrate(z)
        thresholds = [self.issue_type_threshold] * len(m.labels)
        report = None
        for i, lab in enumerate(m.labels):
            spec = types.get(lab)
            if not isinstance(spec, dict):
                continue
            thresholds[i] = float(spec.get("threshold", self.issue_type_threshold))
            if "weights" in spec:
                if report is None:
                    report = Cues.load().analyse(cue_text(title, text))
                w = np.asarray(spec["weights"], dtype=np.float64)
                own = z if spec.get("scores") == "all" else z[i : i + 1]
                feats = report.features(lab)
                if spec.get("clause"):
                    feats = np.concatenate([feats, report.clause_features()])
                x = np.concatenate([own, feats])
                p[i] = 1.0 / (1.0 + np.exp(-np.clip(float(x @ w) + float(spec["bias"]), -50, 50)))
                view = spec.get("cue_only")
                if isinstance(view, dict):
                    wc = np.asarray(view["weights"], dtype=np.float64)
                    s = float(feats @ wc) + float(view["bias"])
                    pc = 1.0 / (1.0 + np.exp(-np.clip(s, -50, 50)))
                    blend = float(view["blend"])
                    p[i] = (1 - blend) * p[i] + blend * pc
        return p, thresholds, report

    def department_config(self) -> object:
        return self.department.space.config if self.department is not None else None

    def predict_many(self, reports: Iterable[tuple[str, str]], k: int = 3) -> list[Prediction]:
        """Classify many (title, text) pairs."""
        return [self.predict(title, text, k) for title, text in reports]

    def probabilities(self, title: str, text: str) -> dict[str, float]:
        """Department probabilities of one report (empty without a department model)."""
        return self.department.probabilities(title, text) if self.department else {}


def top_k(probabilities: Sequence[tuple[str, float]], k: int) -> list[tuple[str, float]]:
    return sorted(probabilities, key=lambda kv: -kv[1])[:k]
