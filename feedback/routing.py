"""Routing: from the classifier's prediction and the remit keyword rules to a department.

Confident and clear: route to the lead department (with assisting departments when the text
names several matters). Otherwise: the 司法局 triage queue, with the top suggestions shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from classifiers.authority import AuthorityMatcher
from classifiers.ood import UNRECOGNISED
from feedback.config import Config


class PredictionLike(Protocol):
    department: str | None
    department_probability: float
    top: list[tuple[str, float]]
    issue_types: list[str]
    issue_type_probabilities: dict[str, float]
    reasons: list[str]


_MATCHERS: dict[int, tuple[Config, AuthorityMatcher]] = {}


def authority_bureau(authority: str | None, config: Config) -> str | None:
    """The bureau the citizen's 涉及单位 field names (by name or alias), if exactly one."""
    if not authority:
        return None
    cached = _MATCHERS.get(id(config))
    if cached is None or cached[0] is not config:
        matcher = AuthorityMatcher({d.code: [d.name, *d.aliases] for d in config.departments})
        _MATCHERS[id(config)] = cached = (config, matcher)
    return cached[1].match(authority)


@dataclass
class RoutingDecision:
    confident: bool
    department: str | None
    assisting: list[str] = field(default_factory=list)
    issue_types: list[str] = field(default_factory=list)
    top: list[tuple[str, float]] = field(default_factory=list)
    issue_type_probabilities: dict[str, float] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    reasons_by_label: dict[str, list[str]] = field(default_factory=dict)
    keyword_hits: dict[str, list[str]] = field(default_factory=dict)
    why: str = ""
    duplicate_of: dict[str, Any] | None = None

    def as_record(self) -> dict[str, Any]:
        return {
            "confident": self.confident,
            "department": self.department,
            "assisting": self.assisting,
            "issue_types": self.issue_types,
            "top": [[c, round(p, 4)] for c, p in self.top],
            "issue_type_probabilities": {
                k: round(v, 4) for k, v in self.issue_type_probabilities.items()
            },
            "reasons": self.reasons,
            "reasons_by_label": self.reasons_by_label,
            "keyword_hits": self.keyword_hits,
            "why": self.why,
            "duplicate_of": self.duplicate_of,
        }


def keyword_hits(text: str, config: Config) -> dict[str, list[str]]:
    """Remit keywords of each department found in the text (the cold-start rule layer)."""
    hits: dict[str, list[str]] = {}
    for dept in config.departments:
        found = [k for k in dept.keywords if k and k in text]
        if found:
            hits[dept.code] = found
    return hits


def decide(prediction: PredictionLike | None, text: str, config: Config) -> RoutingDecision:
    settings = config.routing
    hits = keyword_hits(text, config)
    if prediction is None:
        return RoutingDecision(
            confident=False,
            department=None,
            keyword_hits=hits,
            top=_keyword_ranking(hits),
            why="分类模型不可用，转人工分办",
        )
    top = [(c, float(p)) for c, p in prediction.top if config.has_department(c)]
    curve_threshold = getattr(prediction, "route_threshold", None)
    threshold = curve_threshold(settings.target_accuracy) if curve_threshold else None
    if threshold is None:  # a model without per-type thresholds: the configured one
        chosen = [
            t
            for t, p in prediction.issue_type_probabilities.items()
            if p >= settings.issue_type_probability
        ]
    else:
        chosen = list(prediction.issue_types)
    issue_types = [t for t in chosen if t in config.issue_type_codes]
    issue_types.sort(key=lambda t: config.issue_type_codes.index(t))
    decision = RoutingDecision(
        confident=False,
        department=None,
        issue_types=issue_types,
        top=top,
        issue_type_probabilities=dict(prediction.issue_type_probabilities),
        reasons=list(prediction.reasons),
        reasons_by_label=dict(getattr(prediction, "reasons_by_label", {}) or {}),
        keyword_hits=hits,
    )
    if not getattr(prediction, "recognised", True):
        decision.issue_types = []
        decision.why = f"{UNRECOGNISED}：中文内容过少，转人工分办"
        return decision
    if not top:
        decision.why = "模型未给出可用的承办单位，转人工分办"
        return decision
    lead, p_lead = top[0]
    p_second = top[1][1] if len(top) > 1 else 0.0
    if threshold is not None:
        # calibrated: the threshold was chosen for the target accuracy on held-out data
        sure = p_lead >= threshold
    else:
        # Keywords of the lead's remit in the text make a borderline prediction trustworthy.
        bonus = 0.1 if lead in hits else 0.0
        sure = p_lead + bonus >= settings.confident_probability and (
            p_lead - p_second >= settings.min_margin
        )
    if lead == config.supervisor_department:
        decision.why = "涉及执法监督事项，由区司法局分办"
    elif sure:
        decision.confident = True
        decision.department = lead
        decision.assisting = _assisting(lead, top, hits, settings.assist_probability)
        decision.why = f"置信度 {p_lead:.2f}，自动分派"
    else:
        decision.why = f"置信度 {p_lead:.2f} 不足或与次选过于接近，转人工分办"
    return decision


def _assisting(
    lead: str, top: Sequence[tuple[str, float]], hits: dict[str, list[str]], threshold: float
) -> list[str]:
    return [c for c, p in top[1:] if p >= threshold and c in hits and c != lead]


def _keyword_ranking(hits: dict[str, list[str]]) -> list[tuple[str, float]]:
    total = sum(len(v) for v in hits.values()) or 1
    ranked = sorted(hits.items(), key=lambda kv: -len(kv[1]))
    return [(code, len(words) / total) for code, words in ranked[:3]]


def certainty(record: dict[str, Any] | None) -> tuple[float, float]:
    """How sure the router was of a report (its routing record): the top bureau's probability,
    then its margin over the second. A report with no prediction (the classifier failed, text
    it could not read) is the least sure of all. The triage queue's "least sure first" order."""
    top = (record or {}).get("top") or []
    if not top or str((record or {}).get("why") or "").startswith(UNRECOGNISED):
        return (0.0, 0.0)
    first = float(top[0][1])
    second = float(top[1][1]) if len(top) > 1 else 0.0
    return (first, first - second)
