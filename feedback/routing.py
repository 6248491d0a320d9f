"""Routing: from the classifier's prediction and the remit keyword rules to a department.

Confident and clear: route to the lead department (with assisting departments when the text
names several matters). Otherwise: the 司法局 triage queue, with the top suggestions shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from feedback.config import Config


class PredictionLike(Protocol):
    department: str | None
    department_probability: float
    top: list[tuple[str, float]]
    issue_types: list[str]
    issue_type_probabilities: dict[str, float]
    reasons: list[str]


@dataclass
class RoutingDecision:
    confident: bool
    department: str | None
    assisting: list[str] = field(default_factory=list)
    issue_types: list[str] = field(default_factory=list)
    top: list[tuple[str, float]] = field(default_factory=list)
    issue_type_probabilities: dict[str, float] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
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
    issue_types = [
        t
        for t, p in prediction.issue_type_probabilities.items()
        if p >= settings.issue_type_probability and t in config.issue_type_codes
    ]
    issue_types.sort(key=lambda t: config.issue_type_codes.index(t))
    decision = RoutingDecision(
        confident=False,
        department=None,
        issue_types=issue_types,
        top=top,
        issue_type_probabilities=dict(prediction.issue_type_probabilities),
        reasons=list(prediction.reasons),
        keyword_hits=hits,
    )
    if not top:
        decision.why = "模型未给出可用的承办单位，转人工分办"
        return decision
    lead, p_lead = top[0]
    p_second = top[1][1] if len(top) > 1 else 0.0
    # Keywords of the lead's remit in the text make a borderline prediction trustworthy.
    bonus = 0.1 if lead in hits else 0.0
    if lead == config.supervisor_department:
        decision.why = "涉及执法监督事项，由区司法局分办"
    elif p_lead + bonus >= settings.confident_probability and (
        p_lead - p_second >= settings.min_margin
    ):
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
