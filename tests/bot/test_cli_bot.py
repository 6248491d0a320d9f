"""`feedback bot` refuses to start without a token, and says how to get one."""

from __future__ import annotations

from pathlib import Path

import pytest

from feedback.cli import main


def test_bot_without_a_token_says_how_to_set_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("FEEDBACK_TELEGRAM_TOKEN", raising=False)
    code = main(["bot", "--db", str(tmp_path / "f.db"), "--data-dir", str(tmp_path)])
    assert code == 2
    err = capsys.readouterr().err
    assert "FEEDBACK_TELEGRAM_TOKEN" in err and "@BotFather" in err
    assert not (tmp_path / "f.db").exists()  # nothing was started


def test_empty_token_file_is_no_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FEEDBACK_TELEGRAM_TOKEN", "123:from-env")
    empty = tmp_path / "token"
    empty.write_text("\n")
    assert main(["bot", "--token-file", str(empty), "--db", str(tmp_path / "f.db")]) == 2
