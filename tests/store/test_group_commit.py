"""SQLite's group commit: writers that queue behind one another share one COMMIT, each in a
savepoint of its own. What citizens rely on stays as it was: every accepted report has its own
number, is on disk when its number is shown, and a writer that fails takes only its own work
with it."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from feedback.config import Config
from feedback.service import FeedbackService
from feedback.store import ReportFilter, User
from feedback.store import sqlite as sqlite_store
from feedback.store.sqlite import SQLiteStore
from tests.conftest import Clock, MigratedFile
from tests.test_durability import free_port, wait_ready

REPORT = {
    "title": "执法人员未亮证",
    "text": "城管在我店门口检查，没有出示执法证件就要求我签字，也不说依据哪条规定。",
}


@pytest.fixture
async def sqlite(db_path: Path, migrated_sqlite: MigratedFile) -> Any:
    s = SQLiteStore(migrated_sqlite(db_path))
    await s.open()
    yield s
    await s.close()


@pytest.fixture
def commits(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many COMMITs the store issued (one entry each)."""
    seen: list[int] = []
    real = sqlite_store._commit

    def counted(conn: sqlite3.Connection) -> None:
        seen.append(1)
        real(conn)

    monkeypatch.setattr(sqlite_store, "_commit", counted)
    return seen


def user(i: int) -> User:
    return User(None, f"clerk{i:02d}", "h", "staff", "zjj", f"办事员{i}")


async def test_sixteen_citizens_at_once_get_sixteen_numbers_and_share_commits(
    sqlite: SQLiteStore, config: Config, clock: Clock, commits: list[int], db_path: Path
) -> None:
    service = FeedbackService(sqlite, config, clock=clock)
    results = await asyncio.gather(
        *(service.submit({**REPORT, "title": f"执法人员未亮证 第{i}件"}) for i in range(16))
    )
    numbers = [r.tracking_number for r in results]
    assert len(set(numbers)) == 16
    assert len(commits) < 16  # some of them shared a COMMIT
    await sqlite.close()

    reopened = SQLiteStore(db_path)
    await reopened.open()
    try:
        assert await reopened.count_reports(ReportFilter()) == 16
        for n in numbers:
            assert await reopened.get_report(n) is not None
        again = FeedbackService(reopened, config, clock=clock)
        assert await again.verify_records() == (16, [])
    finally:
        await reopened.close()


async def test_a_writer_that_fails_in_a_shared_commit_takes_only_its_own_work(
    sqlite: SQLiteStore,
) -> None:
    async def write(i: int) -> None:
        async with sqlite.transaction() as tx:
            await tx.insert_user(user(i))
            await asyncio.sleep(0)  # let the others queue behind
            if i == 3:
                raise RuntimeError("this clerk's form was wrong")

    outcomes = await asyncio.gather(*(write(i) for i in range(8)), return_exceptions=True)
    assert [isinstance(o, RuntimeError) for o in outcomes] == [i == 3 for i in range(8)]
    names = sorted(u.username for u in await sqlite.list_users())
    assert names == [user(i).username for i in range(8) if i != 3]


async def test_the_first_writer_failing_leaves_the_next_ones_whole(sqlite: SQLiteStore) -> None:
    async def write(i: int) -> None:
        async with sqlite.transaction() as tx:
            await tx.insert_user(user(i))
            await asyncio.sleep(0)
            if i == 0:
                raise RuntimeError("the first one fails")

    outcomes = await asyncio.gather(*(write(i) for i in range(4)), return_exceptions=True)
    assert isinstance(outcomes[0], RuntimeError) and outcomes[1:] == [None, None, None]
    names = sorted(u.username for u in await sqlite.list_users())
    assert names == [user(i).username for i in (1, 2, 3)]


async def test_a_writer_returns_only_once_its_work_is_committed(
    sqlite: SQLiteStore, db_path: Path
) -> None:
    """Another connection (another process, a backup) sees each writer's row the moment the
    writer returns, though it shared its COMMIT with writers queued behind it."""
    seen_when_returned: list[bool] = []

    def visible(name: str) -> bool:
        with sqlite3.connect(db_path) as outside:
            found = outside.execute("SELECT 1 FROM users WHERE username = ?", (name,))
            return found.fetchone() is not None

    async def write(i: int) -> None:
        async with sqlite.transaction() as tx:
            await tx.insert_user(user(i))
        seen_when_returned.append(visible(user(i).username))

    await asyncio.gather(*(write(i) for i in range(12)))
    assert seen_when_returned == [True] * 12


async def test_a_writer_cancelled_while_queued_or_midway_leaves_the_others_committed(
    sqlite: SQLiteStore,
) -> None:
    started = asyncio.Event()

    async def slow(i: int) -> None:
        async with sqlite.transaction() as tx:
            await tx.insert_user(user(i))
            started.set()
            await asyncio.sleep(3600)  # cancelled midway

    async def write(i: int) -> None:
        async with sqlite.transaction() as tx:
            await tx.insert_user(user(i))

    first = asyncio.ensure_future(write(0))
    midway = asyncio.ensure_future(slow(1))
    queued = [asyncio.ensure_future(write(i)) for i in (2, 3, 4)]
    await started.wait()
    midway.cancel()
    queued[0].cancel()  # gave up while waiting for the lock
    await asyncio.gather(first, *queued[1:])
    with pytest.raises(asyncio.CancelledError):
        await midway
    names = sorted(u.username for u in await sqlite.list_users())
    assert names == [user(i).username for i in (0, 3, 4)]
    async with sqlite.transaction() as tx:  # the connection is usable afterwards
        await tx.insert_user(user(5))
    assert len(await sqlite.list_users()) == 4


def test_sigkill_under_sixteen_clients_loses_no_accepted_report(tmp_path: Path) -> None:
    """Sixteen clients submit at once while the server is killed: every report answered with
    201 and a number is in the database after the kill."""
    db = tmp_path / "durable.db"
    port = free_port()
    env = {**os.environ, "FEEDBACK_TICK_SECONDS": "0", "FEEDBACK_SUBMIT_PER_HOUR": "100000"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "feedback.cli", "serve", "--db", str(db), "--data-dir",
         str(tmp_path), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
    )  # fmt: skip
    accepted: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def client(c: int) -> None:
        i = 0
        while not stop.is_set():
            body = json.dumps({"title": f"第{c}-{i}件", "text": REPORT["text"]}).encode()
            req = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/v1/reports",
                data=body,
                headers={"Content-Type": "application/json"},
            )
            try:
                with urllib.request.urlopen(req, timeout=30) as resp:
                    number = json.load(resp)["tracking_number"]
            except (OSError, urllib.error.HTTPError, ValueError):
                return  # the server is gone (or refused): what was accepted is what counts
            with lock:
                accepted.append(number)
            i += 1

    try:
        wait_ready(port, proc)
        threads = [threading.Thread(target=client, args=(c,)) for c in range(16)]
        for th in threads:
            th.start()
        deadline = 200
        while len(accepted) < 40 and deadline:
            threading.Event().wait(0.05)
            deadline -= 1
        proc.send_signal(signal.SIGKILL)  # while the clients are still submitting
        proc.wait(timeout=10)
        stop.set()
        for th in threads:
            th.join(timeout=30)
    finally:
        stop.set()
        if proc.poll() is None:
            proc.kill()
    assert len(accepted) >= 40
    with sqlite3.connect(db) as conn:
        stored = {r[0] for r in conn.execute("SELECT tracking_number FROM reports")}
    assert set(accepted) <= stored
