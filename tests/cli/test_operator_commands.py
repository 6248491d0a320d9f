"""The command line as an operator meets it: a mistyped bureau code, `stats | head`, the clock."""

from __future__ import annotations

import io
import re
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from feedback import cli


def run_cli(monkeypatch: pytest.MonkeyPatch, argv: list[str], stdin: str = "") -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return cli.main(argv)


def test_unknown_department_is_named_with_the_codes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "f.db")
    argv = ["users", "add", "xiaoli", "--role", "staff", "--department", "xyz", "--db", db]
    assert run_cli(monkeypatch, argv, "a-long-enough-password\n") == 2
    err = capsys.readouterr().err
    assert "未知的单位代码：xyz" in err and "zhzf" in err and "必须指定" not in err
    # Supervisors too: a typo is not quietly replaced by the default bureau.
    argv = ["users", "add", "wang", "--role", "supervisor", "--department", "sfjj", "--db", db]
    assert run_cli(monkeypatch, argv, "a-long-enough-password\n") == 2
    assert "未知的单位代码：sfjj" in capsys.readouterr().err


class ClosedPipe(io.StringIO):
    """stdout after `head` has read its lines and gone."""

    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


def test_stats_into_a_closed_pipe_is_quiet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = str(tmp_path / "f.db")
    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    assert run_cli(monkeypatch, ["stats", "--json", "--db", db]) == 0
    assert run_cli(monkeypatch, ["stats", "--db", db]) == 0


def test_stats_tells_the_time_on_the_district_clock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "f.db")
    assert run_cli(monkeypatch, ["stats", "--db", db]) == 0
    out = capsys.readouterr().out
    found = re.search(r"统计时间 (\d{4}-\d\d-\d\d \d\d:\d\d)（([^）]+)）", out)
    assert found, out[-300:]
    assert found.group(2) == "Asia/Shanghai" and "UTC" not in out
    shown = datetime.strptime(found.group(1), "%Y-%m-%d %H:%M").replace(
        tzinfo=ZoneInfo("Asia/Shanghai")
    )
    assert abs(shown - datetime.now(ZoneInfo("Asia/Shanghai"))) < timedelta(minutes=2)
