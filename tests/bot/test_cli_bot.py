"""`feedback bot` refuses to start without a token, and says how to get one; with one, it
polls the Bot API server `telegram_api_url` names."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from feedback.cli import main
from tests.bot.fake_telegram import FakeTelegram


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


async def test_bot_polls_the_bot_api_server_it_is_pointed_at(
    tmp_path: Path, fake: FakeTelegram
) -> None:
    """`feedback bot` with FEEDBACK_TELEGRAM_API_URL talks to that server (here a local peer),
    answers /start, and its log (httpx writes every request URL) never shows the token."""
    env = {
        **os.environ,
        "FEEDBACK_TELEGRAM_TOKEN": fake.token,
        "FEEDBACK_TELEGRAM_API_URL": fake.base_url,
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "import sys; from feedback.cli import main; sys.exit(main())",
        "bot", "--db", str(tmp_path / "f.db"), "--data-dir", str(tmp_path / "data"),
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        fake.message(5550077, "/start")
        await fake.expect(5550077, "行政执法社会监督", wait=30)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(proc.communicate(), timeout=30)
    log = out.decode() + err.decode()
    assert proc.returncode == 0, log
    assert "/bot<token>/getUpdates" in log  # the request lines are there, redacted
    assert fake.token not in log
