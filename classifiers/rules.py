"""Keyword rules for cold start, and blending rule hits with model probabilities."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence

__all__ = ["KeywordRules", "blend"]


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


class KeywordRules:
    """Labels (e.g. department codes) with the keywords that point to them.

    Matching is on substrings after NFKC folding and lower-casing (so ``KTV`` matches
    ``ｋｔｖ``). A keyword contained in a longer matched keyword of the same label is not
    counted twice.
    """

    def __init__(self, mapping: Mapping[str, Sequence[str]]) -> None:
        self.mapping: dict[str, tuple[str, ...]] = {
            label: tuple(dict.fromkeys(k.strip() for k in keywords if k.strip()))
            for label, keywords in mapping.items()
        }
        self._folded = {
            label: [(kw, _fold(kw)) for kw in sorted(kws, key=len, reverse=True)]
            for label, kws in self.mapping.items()
        }

    @property
    def labels(self) -> list[str]:
        return list(self.mapping)

    def match(self, text: str) -> dict[str, list[str]]:
        """Labels with at least one keyword in ``text``, each with its matched keywords."""
        folded = _fold(text)
        hits: dict[str, list[str]] = {}
        for label, kws in self._folded.items():
            found: list[str] = []
            found_folded: list[str] = []
            for kw, fkw in kws:
                if fkw in folded and not any(fkw in longer for longer in found_folded):
                    found.append(kw)
                    found_folded.append(fkw)
            if found:
                hits[label] = found
        return hits

    def scores(self, text: str) -> dict[str, float]:
        """Share of all keyword hits per label (sums to 1; empty when nothing matched)."""
        return hit_shares(self.match(text))


def hit_shares(hits: Mapping[str, Sequence[str]]) -> dict[str, float]:
    total = sum(len(v) for v in hits.values())
    return {label: len(v) / total for label, v in hits.items()} if total else {}


def blend(
    probabilities: Mapping[str, float] | None,
    hits: Mapping[str, Sequence[str]],
    rule_weight: float = 0.3,
) -> dict[str, float]:
    """Mix model probabilities with rule hits: ``(1 - w) * p + w * share_of_hits``.

    Without a model (``probabilities`` None or empty) the result is the rule shares alone; without
    hits the probabilities are returned unchanged. Labels only one side knows get 0 from the
    other. The result sums to 1 when both inputs do, sorted by decreasing value.
    """
    shares = hit_shares(hits)
    if not probabilities:
        merged = shares
    elif not shares:
        merged = dict(probabilities)
    else:
        w = min(max(rule_weight, 0.0), 1.0)
        labels = list(dict.fromkeys([*probabilities, *shares]))
        merged = {
            lab: (1 - w) * probabilities.get(lab, 0.0) + w * shares.get(lab, 0.0) for lab in labels
        }
    return dict(sorted(merged.items(), key=lambda kv: -kv[1]))
