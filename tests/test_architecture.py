"""The house rules that a reader can check with grep, checked here so they stay true
(issue 15): web/ and bots/ talk only to the service, a report changes state only through
the policy table, and queries are SQLAlchemy Core over `feedback.store.schema`
(`feedback.store.sql.Query`), hand-written SQL only where the allow-list below says why."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from feedback import workflow
from feedback.store.sql import DIALECTS, Query
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


def test_feedback_asks_classifiers_through_its_public_functions() -> None:
    # One tokenizer per process (issue 15, item 6): feedback/ neither builds a jieba of its own
    # nor reads classifiers' data files or private names; it asks classifiers.segment.
    own = re.compile(
        r"import jieba|jieba\.(Tokenizer|posseg)|\"classifiers\"\s*/\s*\"data\"|[\"']classifiers/data|"
        r"from classifiers[.\w]* import [^\n]*\b_\w|\b(segment|cues|reasons|bundle)\._\w"
    )
    for path in sources("feedback", "web", "bots"):
        found = own.findall(path.read_text(encoding="utf-8"))
        assert not found, f"{path.relative_to(ROOT)}: {found}"


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


# Statements written by hand (with ``?`` marks), per module: how many, and why. Only what is
# dialect-specific (no SQLAlchemy construct says it), and only in the dialect modules (or the
# migration runner). A module may lose some, never gain any.
RAW_SQL = re.compile(
    r"\b(SELECT\s+\S|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|PRAGMA\s|LOCK\s+TABLE)"
)
RAW_SQL_ALLOWED: dict[str, tuple[int, str]] = {
    "feedback/store/sqlite.py": (13, "PRAGMAs (busy_timeout, and 0 for the loop's reader, foreign_keys, WAL, synchronous, query_only, a backup's journal_mode and integrity_check); the catalog (pragma_table_list, pragma_table_info, pragma_foreign_key_list, sqlite_master)"),
    "feedback/store/postgres.py": (13, "advisory locks, LOCK TABLE, setval of an identity, the catalog (pg_tables, information_schema, pg_constraint), reserve_report's CTE with nextval"),
    "feedback/store/migrate.py": (1, "the migration lock (pg_advisory_xact_lock) before Alembic runs"),
}  # fmt: skip


@pytest.mark.parametrize("path", sources("feedback"), ids=lambda p: str(p.relative_to(ROOT)))
def test_queries_are_core_statements_except_where_the_allow_list_says_why(path: Path) -> None:
    name = str(path.relative_to(ROOT))
    if "/migrations/" in name:
        return  # migrations are Alembic operations with their own dialect branches
    found = len(RAW_SQL.findall(path.read_text(encoding="utf-8")))
    allowed, why = RAW_SQL_ALLOWED.get(name, (0, ""))
    assert found <= allowed, (
        f"{name}: {found} hand-written SQL statements, {allowed} allowed ({why or 'none'}): "
        "write them as feedback.store.sql.Query over feedback.store.schema"
    )


def test_the_allow_list_shrinks_with_the_code() -> None:
    for name, (allowed, _) in RAW_SQL_ALLOWED.items():
        found = len(RAW_SQL.findall((ROOT / name).read_text(encoding="utf-8")))
        assert found == allowed, f"{name} has {found} now: set its allowance to {found}"


def test_every_module_level_query_compiles_on_both_dialects() -> None:
    queries = 0
    for path in sources("feedback"):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        if "migrations" in module or module.endswith("__main__"):
            continue
        for value in vars(importlib.import_module(module)).values():
            if isinstance(value, Query):
                for dialect in DIALECTS:
                    assert value.compiled(dialect).sql, (module, value)
                queries += 1
    assert queries >= 40  # the store's and the converted modules'
