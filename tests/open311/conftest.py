"""An app on a real SQLite file (a copy of the session's migrated template), a movable clock, and API keys made as `feedback keys add` does."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from feedback import apikeys
from feedback.settings import Settings
from tests.conftest import Clock, MigratedFile
from web.app import create_app
from web.keys import service_key

MakeClient = Callable[..., Awaitable[TestClient]]


@pytest.fixture
def make_client(
    aiohttp_client: Any, tmp_path: Path, clock: Clock, migrated_sqlite: MigratedFile
) -> MakeClient:
    """A client of a fresh app; keyword arguments override settings (the limits)."""

    async def make(**overrides: Any) -> TestClient:
        values: dict[str, Any] = {
            "db": migrated_sqlite(tmp_path / "open311.db"),
            "data_dir": str(tmp_path / "data"),
            "max_body_mb": 2,
            "tick_seconds": 0,
        }
        values.update(overrides)
        return await aiohttp_client(create_app(Settings(**values), clock=clock))

    return make


@pytest.fixture
async def client(make_client: MakeClient) -> TestClient:
    return await make_client()


async def new_key(client: TestClient, name: str = "12345-hotline", per_minute: int = 60) -> str:
    app: web.Application = client.server.app  # type: ignore[attr-defined]
    _, secret = await apikeys.create(app[service_key].store, name, per_minute, datetime.now(UTC))
    return secret
