from __future__ import annotations

import pytest

from classifiers.rules import KeywordRules, blend


def test_match_and_blend() -> None:
    rules = KeywordRules({"zhzf": ["城管", "占道经营", "占道"], "wlj": ["KTV"], "mzj": ["低保"]})
    hits = rules.match("城管不管占道经营，楼下ｋｔｖ吵到半夜")
    assert hits == {"zhzf": ["占道经营", "城管"], "wlj": ["KTV"]}
    mixed = blend({"zhzf": 0.2, "gaj": 0.8}, hits, rule_weight=0.5)
    assert list(mixed) == ["zhzf", "gaj", "wlj"]
    assert mixed["zhzf"] == pytest.approx(0.5 * 0.2 + 0.5 * 2 / 3)
    assert sum(mixed.values()) == pytest.approx(1.0)
    assert blend(None, hits) == pytest.approx({"zhzf": 2 / 3, "wlj": 1 / 3})
    assert blend({"gaj": 1.0}, {}) == {"gaj": 1.0}
