"""Two bot processes on one database send the same outbox: every chat hears each change of
its report once, never twice, and both processes take their share."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from feedback.config import Config
from feedback.models import Channel
from feedback.service import opened
from tests.bot.fake_telegram import FakeTelegram
from tests.store.pg import fresh_schema_url

ROOT = Path(__file__).resolve().parents[2]
REPORTS = 40
FIRST_CHAT = 6610000


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path, pg_database: str | None) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "feedback.db")
    return fresh_schema_url(pg_database)


def start_bot(db: str, fake: FakeTelegram, data_dir: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "FEEDBACK_DB": db,
        "FEEDBACK_DATA_DIR": str(data_dir),
        "FEEDBACK_TELEGRAM_TOKEN": fake.token,
        "FEEDBACK_TELEGRAM_API_URL": fake.base_url,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "feedback.cli", "bot", "--notify-every", "0.1"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(log, "wb"),  # noqa: SIM115
    )  # fmt: skip


async def test_two_bot_processes_never_send_a_notice_twice(
    fake: FakeTelegram, database: str, config: Config, tmp_path: Path
) -> None:
    fake.delay = 0.02  # each message takes a moment, so the two senders overlap
    logs = [tmp_path / "bot-1.log", tmp_path / "bot-2.log"]
    async with opened(database, config) as service:  # migrates before the bots start
        bots = [start_bot(database, fake, tmp_path / f"data-{i}", log)
                for i, log in enumerate(logs)]  # fmt: skip
        try:
            await _until(lambda: sum(c.method == "getMe" for c in fake.calls) >= 2, logs, bots)
            # A burst of citizens files from their chats while both bots are up.
            for i in range(REPORTS):
                await service.submit(
                    {"text": f"第{i}号：城管执法人员没有出示证件就把三轮车拉走了，也没有给任何单据。",
                     "telegram_chat_id": FIRST_CHAT + i},
                    channel=Channel.TELEGRAM,
                )  # fmt: skip
            await _until_async(lambda: service.notices.unsent("telegram"), logs, bots)
            rows = await service.store.fetch(
                "SELECT recipient, sent_at, claimed_by FROM outbox WHERE channel = 'telegram'"
            )
        finally:
            for bot in bots:
                bot.terminate()
            for bot in bots:
                bot.wait(20)

    sent = Counter((c.chat_id, c.text) for c in fake.calls if c.method == "sendMessage")
    assert len(rows) == REPORTS and all(r["sent_at"] for r in rows)
    # Each chat got its one notice ("正由区司法局人工分办" or "已分派至…"), exactly once.
    assert {chat for chat, _ in sent} == {FIRST_CHAT + i for i in range(REPORTS)}
    assert all(n == 1 for n in sent.values()), [k for k, n in sent.items() if n > 1]
    assert sum(sent.values()) == REPORTS
    # Both processes sent some: the claims, not luck, kept them apart.
    assert len({r["claimed_by"] for r in rows}) == 2


async def _until(condition, logs: list[Path], procs: list[subprocess.Popen[bytes]],  # type: ignore[no-untyped-def]
                 wait: float = 90.0) -> None:  # fmt: skip
    deadline = time.monotonic() + wait
    while not condition():
        if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
            text = "\n".join(p.read_text(errors="replace")[-2000:] for p in logs if p.exists())
            raise AssertionError(f"bots did not get there:\n{text}")
        await asyncio.sleep(0.1)


async def _until_async(count, logs: list[Path], procs: list[subprocess.Popen[bytes]],  # type: ignore[no-untyped-def]
                       wait: float = 90.0) -> None:  # fmt: skip
    deadline = time.monotonic() + wait
    while await count():
        if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
            text = "\n".join(p.read_text(errors="replace")[-2000:] for p in logs if p.exists())
            raise AssertionError(f"notices still waiting:\n{text}")
        await asyncio.sleep(0.1)
