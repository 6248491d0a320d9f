"""Shared fixtures: a real SQLite file per test, the shipped configuration, a movable clock."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feedback.config import Config, load_config
from feedback.models import Actor, Role
from feedback.service import FeedbackService
from feedback.store import Store, migrate
from feedback.store.sqlite import SQLiteStore
from tests.store.pg import open_clean_store, run_aside, throwaway_database

# The `browser` fixture (Debian's Chromium) for the tests in a real browser.
pytest_plugins = ["tests.browser"]


class Clock:
    """A clock the test moves by hand: deadlines are about time passing."""

    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


@pytest.fixture
def config() -> Config:
    return load_config()


@pytest.fixture
def clock() -> Clock:
    # A Tuesday morning in Zibo (UTC+8), clear of holidays.
    return Clock(datetime(2026, 3, 10, 1, 30, tzinfo=UTC))


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "feedback.db"


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str | None]:
    yield from throwaway_database()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per session; each store test starts from a copy (the
    migrations themselves are tested on new and old databases in tests/store/)."""
    path = tmp_path_factory.mktemp("template") / "feedback.db"
    run_aside(migrate.upgrade_store(str(path)))
    return path


# Store-level and service-level tests run on both stores: a SQLite file, and a fresh schema in
# a throw-away PostgreSQL database (skipped with the reason when no server answers).
@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def store(
    request: pytest.FixtureRequest, db_path: Path, pg_database: str | None, sqlite_template: Path
) -> AsyncIterator[Store]:
    if request.param == "sqlite":
        shutil.copyfile(sqlite_template, db_path)
        s: Store = SQLiteStore(db_path)
        await s.open()
    else:
        s = await open_clean_store(pg_database)
    yield s
    await s.close()


@pytest.fixture
async def service(store: Store, config: Config, clock: Clock) -> FeedbackService:
    return FeedbackService(store, config, clock=clock)


def staff(department: str, name: str = "") -> Actor:
    return Actor(Role.STAFF, id=f"{department}-staff", department=department, name=name)


SUPERVISOR = Actor(Role.SUPERVISOR, id="sup1", department="sfj", name="监督员")
