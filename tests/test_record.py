"""The full-process record: every tampering with a stored event is found by `feedback verify`."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import pytest

from feedback.cli import main
from feedback.config import Config
from feedback.service import FeedbackService
from feedback.store.sqlite import SQLiteStore
from tests.conftest import SUPERVISOR, Clock, staff

T = TypeVar("T")


async def a_handled_report(db: Path, config: Config, clock: Clock) -> str:
    async with SQLiteStore(db) as store:
        service = FeedbackService(store, config, clock=clock)
        result = await service.submit(
            {"title": "执法未亮证", "text": "执法人员检查店铺时没有出示执法证件，态度蛮横。"}
        )
        tn = result.tracking_number
        await service.assign(SUPERVISOR, tn, "scjg")
        await service.accept(staff("scjg"), tn)
        await service.answer(staff("scjg"), tn, "已核实，对相关执法人员进行了批评教育。")
        # A second report, whose chain stays intact, so the break is named precisely.
        await service.submit(
            {"title": "另一件", "text": "菜市场里有商贩缺斤短两，请市场监管查处。"}
        )
        return tn


def in_own_thread(fn: Callable[[], T]) -> T:
    """Run a blocking entry point (the CLI, asyncio.run) away from any loop pytest keeps."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(fn).result()


def verify(db: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = in_own_thread(lambda: main(["verify", "--db", str(db)]))
    return code, capsys.readouterr().out


TAMPERING = {
    "edit": "UPDATE events SET details = replace(details, '批评教育', '表扬') WHERE action = 'answer'",
    "edit actor": "UPDATE events SET actor_id = 'someone-else' WHERE action = 'accept'",
    "delete middle": "DELETE FROM events WHERE action = 'accept'",
    "delete last": "DELETE FROM events WHERE action = 'answer'",
    "insert": "INSERT INTO events (report_id, seq, at, actor_role, actor_id, action, details, "
    "before, after, public, prev_hash, hash) SELECT report_id, 99, at, actor_role, actor_id, "
    "'note', '{}', before, after, 1, hash, hash FROM events WHERE action = 'answer'",
    "reorder": "UPDATE events SET at = '2020-01-01T00:00:00+00:00' WHERE action = 'accept'",
}


@pytest.mark.parametrize("how", list(TAMPERING))
def test_tampering_is_found_and_named(
    how: str, tmp_path: Path, config: Config, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "record.db"
    tn = in_own_thread(lambda: asyncio.run(a_handled_report(db, config, clock)))
    assert verify(db, capsys) == (0, "all 2 report records verify\n")

    with sqlite3.connect(db) as conn:
        conn.execute(TAMPERING[how])
    code, out = verify(db, capsys)
    assert code == 1
    assert f"BROKEN {tn} event #" in out
    assert out.count("BROKEN") == 1
