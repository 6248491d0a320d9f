"""The answer review, as the clerk and the supervisor read it (texts written for these tests)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from feedback import answer_review
from feedback.cli import main

NOISE_TITLE = "幸福里小区门口烧烤摊夜间油烟噪音扰民"
NOISE_TEXT = (
    "我是幸福里小区的居民，小区北门外的烧烤摊每天经营到凌晨两点，油烟直冲楼上住户，"
    "噪音吵得老人孩子无法休息。请问城管部门能否依法取缔？什么时候能解决？"
)
FEE_TITLE = "停车场收费标准是否合法"
FEE_TEXT = "人民路停车场白天每小时收费十元，比旁边贵一倍。请问这个收费标准合法吗？依据是什么？"


def test_a_forwarding_only_answer_needs_rework_and_says_why() -> None:
    r = answer_review.review(
        NOISE_TITLE, NOISE_TEXT, "您好！您反映的问题已转交相关部门处理，感谢您对我们工作的关注！"
    )
    assert not r.acceptable
    assert r.verdict == "需返工"
    assert r.completeness == 0
    assert "仅转办或让群众另行咨询，未说明调查结果和处理情况" in r.reasons
    assert r.score < 30


def test_an_answer_sending_the_citizen_elsewhere_needs_rework() -> None:
    r = answer_review.review(
        FEE_TITLE, FEE_TEXT, "您好，请您直接向区发展和改革局咨询，联系电话12345。感谢您的关注。"
    )
    assert not r.acceptable
    assert any("依据" in reason for reason in r.reasons)


def test_a_specific_answer_citing_its_regulation_is_acceptable() -> None:
    reply = (
        "您好！您的留言已收悉。经查，人民路停车场为政府定价的公共停车场，"
        "现行收费依据为《淄博市机动车停放服务收费管理办法》第八条及区发改局（2025）12号文件，"
        "白天每小时五元。该停车场按十元收费，超出核定标准。3月12日，区市场监管局已责令其立即整改，"
        "退还多收费用，并依法予以罚款。目前已按五元标准收费。感谢您的监督！"
    )
    r = answer_review.review(FEE_TITLE, FEE_TEXT, reply)
    assert r.acceptable, r.reasons
    assert r.basis == 2
    assert r.relevance == 2
    assert r.score > 75


def test_a_vague_basis_is_named_as_such() -> None:
    reply = (
        "经查，人民路停车场收费根据相关规定执行，区市场监管局已对停车场进行了检查，"
        "要求其公示收费标准。"
    )
    r = answer_review.review(FEE_TITLE, FEE_TEXT, reply)
    assert r.basis == 1
    assert "依据表述笼统（如“根据相关规定”），未写明具体法规或文件名称" in r.reasons


def test_a_factual_fix_needs_no_regulation() -> None:
    title, text = "建设路路灯不亮", "建设路中段的三盏路灯坏了一个月，晚上很黑，希望尽快修好。"
    reply = (
        "经现场查看，建设路中段三盏路灯因线路老化损坏。3月11日，区综合行政执法局已更换线路，"
        "路灯已恢复照明。"
    )
    r = answer_review.review(title, text, reply)
    assert r.basis == 2 and r.acceptable, r.reasons


def test_the_answer_that_ignores_the_question_is_told_what_it_missed() -> None:
    reply = "经查，该烧烤摊已于3月11日被责令整改，下一步我局将加强巡查。"
    r = answer_review.review(NOISE_TITLE, NOISE_TEXT, reply)
    assert r.score < answer_review.review(NOISE_TITLE, NOISE_TEXT, reply + (
        "经现场检测，油烟和夜间噪音超过《社会生活环境噪声排放标准》（GB 22337-2008）限值，"
        "区综合行政执法局依据《中华人民共和国大气污染防治法》第一百一十八条，3月12日已取缔该摊点，"
        "小区北门外现已无烧烤经营。"
    )).score  # fmt: skip


def test_a_document_named_without_brackets_is_a_named_basis() -> None:
    reply = (
        "经查，人民路停车场为政府定价的公共停车场。根据区发展和改革局关于调整城区公共停车场"
        "收费标准的通知，白天每小时收费五元。3月12日，区市场监管局已责令其按五元收费并退还多收费用。"
    )
    r = answer_review.review(FEE_TITLE, FEE_TEXT, reply)
    assert r.basis == 2 and r.acceptable, r.reasons


def test_a_rule_applied_without_its_source_is_a_vague_basis_not_none() -> None:
    title, text = (
        "孩子能否参加城镇职工养老保险",
        "孩子今年十五岁，已经辍学，请问能否参加城镇职工养老保险？",
    )
    reply = "经核实，城镇职工养老保险的参保年龄不得低于16周岁，您的孩子今年15周岁，暂不能参保。"
    r = answer_review.review(title, text, reply)
    assert r.basis == 1
    assert "依据表述笼统（如“根据相关规定”），未写明具体法规或文件名称" in r.reasons
    assert not any(reason.startswith("未说明依据") for reason in r.reasons)


def test_noting_a_suggestion_for_later_is_not_an_action() -> None:
    title, text = "希望幸福里小区门口增开公交线路", "小区门口的公交线路都不去市中心，希望增开一条。"
    noted = (
        "您的建议已收集，在今后的公交线路优化调整工作中，我局会结合城市公共交通规划认真考虑，"
        "科学制定方案，努力为市民提供安全便捷的公交服务。"
    )
    r = answer_review.review(title, text, noted)
    assert not r.acceptable
    assert "答复内容空泛，没有查明的事实、处理结果或不能办理的理由" in r.reasons


def test_a_contact_line_with_a_dated_promise_is_content() -> None:
    title, text = "公交扫码重复扣费", "我每天坐12路公交，扫码乘车经常重复扣费，请查一查。"
    reply = (
        "12路公交扫码乘车计费说明：上车扫码只作起点定位，下车扫码结算本次车费。"
        "多扣的费用请与公交公司调度科联系，联系电话12345，我司将在3个工作日内核实后退款。"
    )
    r = answer_review.review(title, text, reply)
    assert "仅转办或让群众另行咨询，未说明调查结果和处理情况" not in r.reasons


def write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["id", "title", "text", "time", "reply", "reply_time"])
        w.writeheader()
        w.writerows(rows)


def test_review_answers_command_prints_one_json_object_per_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "answers.csv"
    write_csv(path, [
        {"id": "a1", "title": NOISE_TITLE, "text": NOISE_TEXT, "time": "2026-03-02 09:00:00",
         "reply": "已转交相关部门处理，感谢关注。", "reply_time": "2026-03-30 10:00:00"},
        {"id": "a2", "title": "建设路路灯不亮", "text": "建设路路灯坏了，希望修好。",
         "time": "2026-03-02 09:00:00", "reply": "经现场查看，建设路路灯线路损坏，3月3日已更换线路，路灯已恢复照明。",
         "reply_time": "2026-03-04 10:00:00"},
    ])  # fmt: skip
    assert main(["review-answers", "--csv", str(path), "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [x["id"] for x in lines] == ["a1", "a2"]
    first, second = lines
    for key in (
        "relevance",
        "completeness",
        "basis",
        "timeliness",
        "score",
        "acceptable",
        "reasons",
    ):
        assert key in first
    assert first["acceptable"] is False and second["acceptable"] is True
    assert first["score"] < second["score"]
    # 2026-03-02 to 03-30: 20 working days, over the 15-day limit; the second took 2.
    assert first["timeliness"] == {"working_days": 20, "limit": 15, "on_time": False}
    assert second["timeliness"]["working_days"] == 2
    assert any("超期" in r for r in first["reasons"])


def test_review_answers_names_missing_columns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("id,title\n1,x\n", encoding="utf-8")
    assert main(["review-answers", "--csv", str(path), "--json"]) == 2
    assert "CSV 缺少列：text、reply" in capsys.readouterr().err


def test_review_answers_without_a_csv_reviews_the_service_backlog(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["review-answers", "--db", str(tmp_path / "svc.db"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"reviewed": 0}
