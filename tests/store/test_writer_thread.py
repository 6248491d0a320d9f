"""Where a writer's statements run on SQLite: a submission's few (``quick``) in the event loop,
anything else in the connection's own thread, so a job's bulk write never stalls the loop; and
a writer still queued when the store closes is told so, never handed a closed connection."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from feedback.errors import StoreError
from feedback.store.sqlite import SQLiteStore
from tests.conftest import MigratedFile


async def test_only_a_quick_writer_runs_its_statements_in_the_loop(
    tmp_path: Path, migrated_sqlite: MigratedFile
) -> None:
    store = SQLiteStore(migrated_sqlite(tmp_path / "t.db"))
    await store.open()
    try:
        writer = store._writer
        assert writer is not None
        await writer.run(lambda c: c.create_function("thread", 0, threading.get_ident))
        loop = threading.get_ident()
        async with store.transaction(quick=True) as tx:
            assert (await tx.fetch("SELECT thread() AS t"))[0]["t"] == loop
        async with store.transaction() as tx:
            assert (await tx.fetch("SELECT thread() AS t"))[0]["t"] != loop
    finally:
        await store.close()


async def test_a_writer_queued_while_the_store_closes_is_told_it_is_closed(
    tmp_path: Path, migrated_sqlite: MigratedFile
) -> None:
    store = SQLiteStore(migrated_sqlite(tmp_path / "t.db"))
    await store.open()
    inside, leave = asyncio.Event(), asyncio.Event()

    async def first() -> None:
        async with store.transaction(quick=True) as tx:
            await tx.execute("INSERT INTO counters (name, value) VALUES ('x', 1)")
            inside.set()
            await leave.wait()

    async def late() -> None:
        async with store.transaction(quick=True) as tx:
            await tx.execute("INSERT INTO counters (name, value) VALUES ('y', 1)")

    holder = asyncio.create_task(first())
    await inside.wait()
    closing = asyncio.create_task(store.close())  # queued behind the first writer
    await asyncio.sleep(0)
    queued = asyncio.create_task(late())  # queued behind the close
    await asyncio.sleep(0)
    leave.set()
    await holder
    await closing
    with pytest.raises(StoreError):
        await queued
    reopened = SQLiteStore(str(tmp_path / "t.db"))
    await reopened.open()
    try:
        rows = await reopened.fetch("SELECT name FROM counters WHERE name IN ('x', 'y')")
        assert [r["name"] for r in rows] == ["x"]  # the first committed on close, the late none
    finally:
        await reopened.close()
