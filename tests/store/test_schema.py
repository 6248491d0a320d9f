"""The tables are declared once (feedback.store.schema) and built by one migration history on
both stores: a new database is exactly the declared schema, on SQLite and on PostgreSQL, and
several processes starting on a new database at once migrate it once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from feedback.store import Store, migrate, open_store
from tests.store.pg import fresh_schema_url
from tests.store.schema_check import differences


async def test_a_new_database_is_exactly_the_declared_schema(store: Store) -> None:
    assert await differences(store.url) == []


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def new_database(request: pytest.FixtureRequest, tmp_path: Path, pg_database: str | None) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "new.db")
    return fresh_schema_url(pg_database)


async def test_three_processes_starting_on_a_new_database_migrate_it_once(
    new_database: str,
) -> None:
    stores = [open_store(new_database) for _ in range(3)]
    await asyncio.gather(*(s.open() for s in stores))
    try:
        for s in stores:
            assert await s.schema_version() == int(migrate.head())
        rows = await stores[0].fetch("SELECT version_num FROM alembic_version")
        assert [r["version_num"] for r in rows] == [migrate.head()]
    finally:
        for s in stores:
            await s.close()
