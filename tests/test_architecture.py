"""The house rules that a reader can check with grep, checked here so they stay true
(issue 15): web/ and bots/ talk only to the service, and a report changes state only through
the policy table."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from feedback import workflow
from feedback.workflow import Action

ROOT = Path(__file__).resolve().parents[1]
SQL = re.compile(r"\b(SELECT\s+\S|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM)\b")
STORE = re.compile(r"feedback\.store|store_key|\.store\.|\bWriteTx\b|\bReportFilter\b")


def sources(*folders: str) -> list[Path]:
    return sorted(p for f in folders for p in (ROOT / f).rglob("*.py"))


@pytest.mark.parametrize("path", sources("web", "bots"), ids=lambda p: str(p.relative_to(ROOT)))
def test_web_and_bots_reach_the_data_only_through_the_service(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert not STORE.findall(text), "a store import or store access"
    assert not SQL.findall(text), "SQL outside feedback/"


def test_only_the_policy_table_moves_a_report() -> None:
    moves = re.compile(r"\b\w+\.status\s*=[^=]")
    for path in sources("feedback", "web", "bots"):
        if path.name == "workflow.py":
            continue
        found = moves.findall(path.read_text(encoding="utf-8"))
        assert not found, f"{path.relative_to(ROOT)} sets a status itself: {found}"


def test_every_action_has_one_rule_with_a_refusal_and_a_permission() -> None:
    assert set(workflow.RULES) == set(Action)
    for action, rule in workflow.RULES.items():
        assert rule.refusal and rule.who, action
        for after in (rule.to, *rule.branches.values()):
            assert after is None or after in set(workflow.EVERY)
