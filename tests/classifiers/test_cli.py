from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import pytest

from feedback import cli_model


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="cmd", required=True)
    cli_model.register(sub)
    return parser.parse_args(list(argv))


def test_train_evaluate_classify(
    tmp_path: Path,
    tiny_csv: Path,
    tiny_issue_csv: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bundle = tmp_path / "bundle"
    args = _parse(
        "train",
        "--data",
        str(tiny_csv),
        "--target",
        "department",
        "--out",
        str(bundle / "department"),
    )
    assert args.func(args) == 0
    args = _parse(
        "train",
        "--data",
        str(tiny_issue_csv),
        "--target",
        "issue_type",
        "--out",
        str(bundle / "issue_type"),
    )
    assert args.func(args) == 0
    capsys.readouterr()

    args = _parse(
        "evaluate",
        "--data",
        str(tiny_csv),
        "--model",
        str(bundle),
        "--target",
        "department",
        "--json",
    )
    assert args.func(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["accuracy"] > 0.9 and "macro_f1" in report and "confusion" in report

    args = _parse(
        "evaluate",
        "--data",
        str(tiny_csv),
        "--model",
        str(bundle / "department"),
        "--target",
        "department",
    )
    assert args.func(args) == 0
    assert "macro-F1" in capsys.readouterr().out

    csv_in = tmp_path / "in.csv"
    csv_in.write_text("title,text\n拖欠工资,老板拖欠三个月工资不给\n,化工厂偷排污水\n", "utf-8")
    args = _parse("classify", "--model", str(bundle), "--csv", str(csv_in), "--json")
    assert args.func(args) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [x["department"] for x in lines] == ["rsj", "sthj"]
    for x in lines:
        assert set(x) >= {
            "department",
            "department_probability",
            "top",
            "issue_types",
            "issue_type_probabilities",
            "reasons",
            "route",
        }
        assert all(isinstance(v, list) for v in x["reasons"].values())

    monkeypatch.setattr(
        "sys.stdin",
        io.StringIO("城管罚款不给处罚决定书\n\n小区物业不管电梯\n\nThe street light is broken\n"),
    )
    args = _parse("classify")
    assert args.func(args) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    # one row per input line: an empty line is an error row, not silently dropped
    assert len(lines) == 5
    assert lines[1] == {"line": 2, "error": "empty report: nothing to classify"}
    assert lines[3]["line"] == 4 and "error" in lines[3]
    assert lines[0]["department"] == "zhzf"
    assert isinstance(lines[0]["top"][0], list) and len(lines[0]["top"]) == 3
    for row in (lines[0], lines[2], lines[4]):
        assert row["route"] in ("routed", "triage")
        assert isinstance(row["reasons"], dict)
    # the service's own decision: what it cannot read never goes out automatically
    assert lines[4]["route"] == "triage" and lines[4]["recognised"] is False
    assert lines[4]["issue_types"] == []

    args = _parse("classify", "--model", str(tmp_path / "missing"))
    assert args.func(args) == 2
