"""The operator steers the learning: seed labels from a district's past work orders, see the
model versions with their scores, put one in use, roll back — and the background job retrains
by itself when enough labels arrived."""

from __future__ import annotations

import io
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from feedback import cli, jobs, labels, learning, model_versions
from feedback.config import Config
from feedback.models import Actor
from feedback.service import FeedbackService
from feedback.store.sqlite import SQLiteStore
from tests.conftest import Clock
from tests.learning.test_retrain_gate import CHARGERS, GATE, small_base

HISTORY_CSV = """text,title,department,issue_types,time
{0},充电桩,scjg,,2025-11-02 09:30
{1},,区市场监督管理局,inaction,2025-11-03 10:00
{2},充电桩,区物价局,,2025-11-04 10:00
,空的,scjg,,2025-11-05 10:00
{3},,scjg,乱作为,2025-11-06 10:00
{4},,scjg,,昨天下午
{0},充电桩,scjg,,2025-11-02 09:30
"""


def run_cli(monkeypatch: pytest.MonkeyPatch, argv: list[str]) -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    return cli.main(argv)


def test_import_history_reports_rows_taken_and_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "history.csv"
    path.write_text(HISTORY_CSV.format(*CHARGERS), encoding="utf-8")
    where = ["--db", str(tmp_path / "f.db"), "--data-dir", str(tmp_path / "var")]
    assert run_cli(monkeypatch, ["import-history", str(path), "--no-retrain", *where]) == 0
    out = capsys.readouterr().out
    assert "导入 2 行，拒收 5 行。" in out
    assert "第 4 行：未知的承办单位：'区物价局'" in out
    assert "第 5 行：诉求内容为空或过短" in out
    assert "第 6 行：未知的问题类型：'乱作为'" in out
    assert "第 7 行：时间无法识别：'昨天下午'" in out
    assert "第 8 行：与前面的行重复" in out
    # the same file again: nothing doubled
    assert run_cli(monkeypatch, ["import-history", str(path), "--no-retrain", *where]) == 0
    again = capsys.readouterr().out
    assert "导入 0 行，拒收 5 行。" in again and "另有 2 行此前已导入" in again


async def test_imported_rows_are_labels_with_their_time(config: Config, tmp_path: Path) -> None:
    path = tmp_path / "history.csv"
    path.write_text(HISTORY_CSV.format(*CHARGERS), encoding="utf-8")
    async with SQLiteStore(tmp_path / "f.db") as store:
        service = FeedbackService(store, config)
        report = await learning.import_history(service, path, Actor.system("import:test"))
        assert report.taken == 2
        again = await learning.import_history(service, path, Actor.system("import:test"))
        assert again.taken == 0 and again.already == 2
        found = await labels.effective(store, "department")
    assert [(x.labels, x.source, x.report_id) for x in found] == [
        (["scjg"], "import", None),
        (["scjg"], "import", None),
    ]
    assert found[0].created_at == datetime(2025, 11, 2, 1, 30, tzinfo=UTC)  # 09:30 in Zibo


def test_retrain_with_no_labels_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    where = ["--db", str(tmp_path / "f.db"), "--data-dir", str(tmp_path / "var")]
    assert run_cli(monkeypatch, ["retrain", *where]) == 0
    out = capsys.readouterr().out
    assert "未训练：现用模型之后只有 0 条新的承办单位标注" in out
    assert "没有训练新模型；继续使用 shipped" in out
    assert run_cli(monkeypatch, ["model", "rollback", *where]) == 2
    assert "已是初始模型" in capsys.readouterr().err


@pytest.mark.slow
async def test_background_job_retrains_after_enough_labels_and_model_commands_steer_it(
    config: Config, clock: Clock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    path = tmp_path / "history.csv"
    rows = ["text,department,time"] + [f"{t},scjg,2025-11-{i + 1:02d} 09:00"
                                       for i, t in enumerate(CHARGERS)]  # fmt: skip
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    root = tmp_path / "var" / "models"
    async with SQLiteStore(tmp_path / "f.db") as store:
        service = FeedbackService(store, config, clock=clock)
        await learning.import_history(service, path, Actor.system("import:test"))
        # Fewer new labels than the setting asks for, in the daytime: no retraining.
        learn = jobs.Learning(root, every=100)
        assert (await jobs.tick(service, learn=learn)).retrained == []
        report = await learning.auto_retrain(
            service, root, 16, clock.now, settings=GATE, base=small_base
        )
        assert report is not None and report.promoted
        # Nothing new since: the next pass does nothing.
        again = await learning.auto_retrain(service, root, 16, clock.now, base=small_base)
        assert again is None
    where = ["--db", str(tmp_path / "f.db"), "--data-dir", str(tmp_path / "var")]
    assert run_cli(monkeypatch, ["model", "list", *where]) == 0
    listing = capsys.readouterr().out
    assert f"使用中\t{report.in_use}" in listing and "初始\tshipped" in listing
    assert "已启用新模型" in listing
    assert run_cli(monkeypatch, ["model", "rollback", *where]) == 0
    assert "已回退到 shipped" in capsys.readouterr().out
    assert model_versions.current_name(root) == model_versions.SHIPPED
    assert run_cli(monkeypatch, ["model", "promote", report.in_use, *where]) == 0
    assert model_versions.current_name(root) == report.in_use
    assert run_cli(monkeypatch, ["model", "promote", "no-such-version", *where]) == 2
    assert "没有这个模型版本" in capsys.readouterr().err
