"""The gate's rule on its own: better beyond noise, or not worse beyond noise (non-inferior),
and a plain reason either way. Pure arithmetic on predictions: no model is trained here."""

from __future__ import annotations

import pytest

from feedback.model_gate import GateSettings, judge

GATE = GateSettings(resamples=2000)


def rows(n_right: int, n: int, bureau: str = "scjg") -> list[list[str]]:
    """``n`` predictions of which the first ``n_right`` are ``bureau`` (the truth), the rest not."""
    return [[bureau] if i < n_right else ["zjj"] for i in range(n)]


def test_a_candidate_better_beyond_noise_is_promoted_as_such() -> None:
    truth = [["scjg"]] * 40
    v = judge("department", truth, rows(10, 40), rows(36, 40), GATE, old_name="v1",
              trained_labels=100)  # fmt: skip
    assert v.promoted and v.rule == "better"
    assert v.reason.startswith("已启用新模型") and "超出随机波动" in v.reason


def test_a_small_real_gain_on_a_large_holdout_is_promoted_as_not_worse() -> None:
    # 400 labels; the candidate fixes 6 reports and breaks 4 (+0.005): no holdout of this size
    # can show that beyond noise, but it can show it is not 0.02 worse.
    n = 400
    truth = [["scjg"]] * n
    old = rows(300, n)
    new = [list(x) for x in old]
    for i in range(300, 306):
        new[i] = ["scjg"]
    for i in range(4):
        new[i] = ["zjj"]
    v = judge("department", truth, old, new, GATE, old_name="v1", trained_labels=900)
    assert v.new_score is not None and v.old_score is not None
    assert v.new_score - v.old_score == pytest.approx(2 / n)
    assert v.p_better is not None and v.p_better < GATE.confidence
    assert v.promoted and v.rule == "not worse", v.reason
    assert v.p_worse is not None and v.p_worse <= 1 - GATE.confidence
    assert "不会明显更差" in v.reason and "低 0.02 以上的比例" in v.reason


def test_a_small_gain_that_may_as_well_be_a_loss_is_refused_for_noise() -> None:
    # 200 labels; the candidate fixes 40 reports and breaks 38: it may as well be 0.02 worse.
    n = 200
    truth = [["scjg"]] * n
    old = rows(100, n)
    new = [list(x) for x in old]
    for i in range(100, 140):
        new[i] = ["scjg"]
    for i in range(38):
        new[i] = ["zjj"]
    v = judge("department", truth, old, new, GATE, old_name="v1", trained_labels=600)
    assert v.new_score is not None and v.old_score is not None and v.new_score > v.old_score
    assert not v.promoted and v.rule == ""
    assert v.p_worse is not None and v.p_worse > 1 - GATE.confidence
    assert v.reason.startswith("未启用：新模型没有明显更好，也不能排除更差"), v.reason


def test_on_a_tiny_holdout_only_a_gain_beyond_noise_promotes() -> None:
    # 20 labels, one report net fixed (2 fixed, 1 broken): one report moves the score by 0.05,
    # more than the margin, so "not worse" cannot be shown.
    truth = [["scjg"]] * 20
    old = rows(10, 20)
    new = [list(x) for x in old]
    new[12], new[13], new[0] = ["scjg"], ["scjg"], ["zjj"]
    v = judge("department", truth, old, new, GATE, old_name="v1", trained_labels=60)
    assert not v.promoted and "标注少于 100 条时" in v.reason, v.reason


def test_a_candidate_worse_on_the_holdout_is_never_promoted() -> None:
    n = 400
    truth = [["scjg"]] * n
    old = rows(300, n)
    new = [list(x) for x in old]
    for i in range(300, 304):  # fixes 4, breaks 5: within noise, still refused
        new[i] = ["scjg"]
    for i in range(5):
        new[i] = ["zjj"]
    v = judge("department", truth, old, new, GATE, old_name="v1", trained_labels=900)
    assert not v.promoted
    assert v.reason.startswith("未启用：新模型没有更好"), v.reason
    worse = rows(250, n)
    v = judge("department", truth, old, worse, GATE, old_name="v1", trained_labels=900)
    assert not v.promoted and v.reason.startswith("未启用：新模型更差"), v.reason


def test_margin_zero_turns_the_non_inferiority_rule_off() -> None:
    n = 400
    truth = [["scjg"]] * n
    old = rows(300, n)
    new = [list(x) for x in old]
    new[300] = ["scjg"]
    strict = GateSettings(margin=0.0)
    v = judge("department", truth, old, new, strict, old_name="v1", trained_labels=900)
    assert not v.promoted
    assert judge("department", truth, old, new, GATE, old_name="v1", trained_labels=9).promoted


def test_issue_types_are_judged_by_macro_f1_with_the_same_rule() -> None:
    truth = [["opacity"], ["inaction"], [], ["opacity", "inaction"]] * 30
    old = [[], ["inaction"], [], ["inaction"]] * 30
    new = [["opacity"], ["inaction"], [], ["opacity", "inaction"]] * 30
    v = judge("issue_type", truth, old, new, GATE, old_name="v1", trained_labels=300)
    assert v.promoted and v.rule == "better" and v.new_score == 1.0
