"""The bundled bootstrap corpus: shape, coverage, labels and reproducibility."""

from __future__ import annotations

import csv
import tomllib
from collections import Counter
from pathlib import Path

import pytest

from classifiers import corpus_build

ROOT = Path(__file__).resolve().parent.parent
CSV_PATH = ROOT / "classifiers" / "data" / "bootstrap.csv"
CONFIG_PATH = ROOT / "feedback" / "default.toml"


@pytest.fixture(scope="module")
def config() -> dict[str, list[str]]:
    with CONFIG_PATH.open("rb") as fh:
        data = tomllib.load(fh)
    return {
        "departments": [d["code"] for d in data["departments"]],
        "issue_types": [t["code"] for t in data["issue_types"]],
    }


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    with CSV_PATH.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == ["title", "text", "department", "issue_types"]
        return list(reader)


def test_parses_and_is_large(rows: list[dict[str, str]]) -> None:
    assert len(rows) >= 3000
    assert all(r["text"].strip() for r in rows)


def test_labels_come_from_the_configuration(
    rows: list[dict[str, str]], config: dict[str, list[str]]
) -> None:
    departments = set(config["departments"])
    issue_types = set(config["issue_types"])
    for r in rows:
        assert r["department"] in departments, r
        if r["issue_types"]:
            tags = r["issue_types"].split("|")
            assert set(tags) <= issue_types, r
            assert len(tags) == len(set(tags)), r


def test_every_department_is_covered(
    rows: list[dict[str, str]], config: dict[str, list[str]]
) -> None:
    counts = Counter(r["department"] for r in rows)
    for code in config["departments"]:
        assert counts[code] >= 80, (code, counts[code])


def test_every_issue_type_is_covered(
    rows: list[dict[str, str]], config: dict[str, list[str]]
) -> None:
    counts: Counter[str] = Counter()
    for r in rows:
        counts.update(t for t in r["issue_types"].split("|") if t)
    for code in config["issue_types"]:
        assert counts[code] >= 400, (code, counts[code])


def test_most_rows_are_ordinary_requests(rows: list[dict[str, str]]) -> None:
    share = sum(1 for r in rows if not r["issue_types"]) / len(rows)
    assert 0.45 <= share <= 0.75


def test_no_duplicate_texts(rows: list[dict[str, str]]) -> None:
    texts = [r["text"] for r in rows]
    assert len(texts) == len(set(texts))


def test_rebuild_is_byte_identical(tmp_path: Path) -> None:
    out = tmp_path / "bootstrap.csv"
    corpus_build.build(out)
    assert out.read_bytes() == CSV_PATH.read_bytes()
