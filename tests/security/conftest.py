"""The real app on each store: every test here runs on a SQLite file and on PostgreSQL.

The web fixtures (server, visitors with their own cookies, staff accounts) are those of
tests/web; only the database differs. PostgreSQL runs skip with the reason without a server. Each test starts from a migrated database
(tests/conftest.py: a copy of the SQLite template, PostgreSQL's shared schema emptied).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from feedback.settings import Settings
from tests.conftest import MigratedFile
from tests.web.conftest import app, server, service, visitor  # noqa: F401


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def settings(
    request: pytest.FixtureRequest, tmp_path: Path, migrated_sqlite: MigratedFile
) -> Settings:
    if request.param == "sqlite":
        db = migrated_sqlite(tmp_path / "web.db")
    else:
        db = request.getfixturevalue("pg_url")
    return Settings(
        db=db,
        data_dir=str(tmp_path / "data"),
        secret_key="test-secret-key-that-is-long-enough-000",
        tick_seconds=0,
        max_body_mb=30,
    )
