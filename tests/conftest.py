"""Shared fixtures: a real database per test (a SQLite file copied from one migrated per
session; PostgreSQL's one migrated schema per session, emptied before each test), the
shipped configuration, a movable clock."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feedback.config import Config, load_config
from feedback.models import Actor, Role
from feedback.service import FeedbackService
from feedback.store import Store, migrate, open_store
from feedback.store.sqlite import SQLiteStore
from tests.store.pg import clean_shared_schema, run_aside, throwaway_database

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
    """A SQLite file migrated once per session; each test's database starts from a copy (the
    migrations themselves are tested on new and old databases in tests/store/)."""
    path = tmp_path_factory.mktemp("template") / "feedback.db"
    run_aside(migrate.upgrade_store(str(path)))
    return path


MigratedFile = Callable[[Path], str]


@pytest.fixture
def migrated_sqlite(sqlite_template: Path) -> MigratedFile:
    """``migrated_sqlite(path)``: a migrated database file at ``path``, copied from the
    session's template (~5 ms where migrating takes 0.1-0.5 s); a file already there (the same
    database reopened by a second app in the test) is kept. Returns the path as settings take it."""

    def make(path: Path) -> str:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(sqlite_template, path)
        return str(path)

    return make


@pytest.fixture
def pg_url(pg_database: str | None) -> str:
    """The URL of the session's shared PostgreSQL schema, emptied for this test (skipped with
    the reason when no server answers); every fixture of one test gets the same."""
    return clean_shared_schema(pg_database)


# Store-level and service-level tests run on both stores: a SQLite file, and the shared schema
# in a throw-away PostgreSQL database (skipped with the reason when no server answers).
@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def store(
    request: pytest.FixtureRequest, db_path: Path, migrated_sqlite: MigratedFile
) -> AsyncIterator[Store]:
    if request.param == "sqlite":
        s: Store = SQLiteStore(migrated_sqlite(db_path))
    else:
        s = open_store(request.getfixturevalue("pg_url"))
    await s.open()
    yield s
    await s.close()


@pytest.fixture
async def service(store: Store, config: Config, clock: Clock) -> FeedbackService:
    return FeedbackService(store, config, clock=clock)


def staff(department: str, name: str = "") -> Actor:
    return Actor(Role.STAFF, id=f"{department}-staff", department=department, name=name)


SUPERVISOR = Actor(Role.SUPERVISOR, id="sup1", department="sfj", name="监督员")
