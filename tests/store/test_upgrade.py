"""An operator upgrading from 0.1.0: the database the release wrote, with its demo data, is
opened by this version on SQLite and on PostgreSQL. The migrations 0.1.0 applied are stamped,
the later ones run, nothing is lost, and `feedback verify` passes before and after the
background job seals the old reports."""

from __future__ import annotations

import asyncio
import gzip
import logging
import shutil
from pathlib import Path

import asyncpg
import pytest

from feedback import cli
from feedback.store import migrate, open_store
from feedback.store.postgres import split_url
from tests.store.pg import fresh_schema_url
from tests.store.schema_check import differences

DATA = Path(__file__).parent.parent / "data" / "v0_1_0"
LEGACY = set(range(1, 8))  # 0.1.0 shipped migrations 0001-0007


def sqlite_010(tmp_path: Path) -> str:
    db = tmp_path / "feedback.db"
    with gzip.open(DATA / "demo.db.gz") as src, db.open("wb") as out:
        shutil.copyfileobj(src, out)
    return str(db)


async def postgres_010(database_url: str | None) -> str:
    url = fresh_schema_url(database_url)
    dsn, schema = split_url(url)
    assert schema is not None
    dump = gzip.decompress((DATA / "demo.postgres.sql.gz").read_bytes()).decode()
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(dump.replace("feedback_v010_fixture", schema))
    finally:
        await conn.close()
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def old_database(
    request: pytest.FixtureRequest, tmp_path: Path, pg_database: str | None
) -> str:
    if request.param == "sqlite":
        return sqlite_010(tmp_path)
    return await postgres_010(pg_database)


async def counts(url: str) -> dict[str, int]:
    store = open_store(url)
    await store.open()
    try:
        return {
            t: (await store.fetch(f"SELECT COUNT(*) AS n FROM {t}"))[0]["n"]
            for t in ("reports", "events", "users", "points_ledger", "outbox")
        }
    finally:
        await store.close()


async def test_a_0_1_0_database_with_demo_data_upgrades_in_place_and_verifies(
    old_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = old_database

    def feedback(*argv: str) -> int:
        return cli.main([*argv, "--db", url, "--data-dir", str(tmp_path / "data")])

    # The first start of the new version: init-db upgrades, as serve, bot and tick do.
    assert await asyncio.to_thread(feedback, "init-db") == 0
    assert f"ready at schema version {int(migrate.head())}" in capsys.readouterr().out

    store = open_store(url)
    await store.open()
    try:
        versions = await store.fetch("SELECT version_num FROM alembic_version")
        assert [r["version_num"] for r in versions] == [migrate.head()]
        legacy = await store.fetch("SELECT version FROM schema_migrations")
        assert {r["version"] for r in legacy} == LEGACY  # the old runner's record, kept
        old = await store.get_report("ZC-2026-000001")
        assert old is not None and old.record_count > 0 and old.assignee is None
        # One account per bureau then: each becomes its bureau's lead (0016) and keeps doing
        # all it did, assigning to the named clerks added later included.
        users = await store.list_users()
        assert any(u.role == "staff" for u in users)
        assert all(u.bureau_lead == (u.role == "staff") for u in users)
    finally:
        await store.close()
    assert (await counts(url))["reports"] == 100
    assert await differences(url) == []  # exactly the schema a new database gets

    assert await asyncio.to_thread(feedback, "verify") == 0
    out = capsys.readouterr().out
    assert "all 100 report records verify" in out
    assert "100 reports from before row digests" in out  # sealed by the next tick

    assert await asyncio.to_thread(feedback, "tick") == 0
    capsys.readouterr()
    assert await asyncio.to_thread(feedback, "verify") == 0
    out = capsys.readouterr().out
    assert "all 100 report records verify" in out and "from before row digests" not in out


async def test_reopening_an_upgraded_database_changes_nothing(
    old_database: str,
) -> None:
    before = await counts(old_database)  # upgrades
    again = await counts(old_database)
    assert again == before and before["reports"] == 100


async def test_the_operator_reads_one_line_about_the_schema_not_one_per_revision(
    old_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await counts(old_database)  # upgrades
    said = [r for r in caplog.records if r.levelno >= logging.INFO]
    assert [r.name for r in said] == ["feedback.store.migrate"], [r.message for r in said]
    assert said[0].getMessage() == (
        f"database schema before 0.2 -> {migrate.head()}: "
        f"{len(migrate.revisions()) - len(LEGACY)} revisions applied, 7 recorded as applied before"
    )
    caplog.clear()
    await counts(old_database)  # nothing left to do: nothing said
    assert not [r for r in caplog.records if r.name.startswith(("alembic", "feedback.store"))]
