"""Shared fixtures: a real SQLite file per test, the shipped configuration, a movable clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feedback.config import Config, load_config
from feedback.models import Actor, Role
from feedback.service import FeedbackService
from feedback.store.sqlite import SQLiteStore


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


@pytest.fixture
async def store(db_path: Path) -> AsyncIterator[SQLiteStore]:
    s = SQLiteStore(db_path)
    await s.open()
    yield s
    await s.close()


@pytest.fixture
async def service(store: SQLiteStore, config: Config, clock: Clock) -> FeedbackService:
    return FeedbackService(store, config, clock=clock)


def staff(department: str, name: str = "") -> Actor:
    return Actor(Role.STAFF, id=f"{department}-staff", department=department, name=name)


SUPERVISOR = Actor(Role.SUPERVISOR, id="sup1", department="sfj", name="监督员")
