"""Bringing a database to the newest schema, with Alembic, when a store opens.

One migration history for both stores: `feedback/store/migrations/versions/NNNN_name.py`,
revision ids "0001", "0002", … in order (docs/ARCHITECTURE.md, "Migrations"). It runs here,
programmatically: no alembic.ini, no command for the operator to remember.

Alembic works over a synchronous SQLAlchemy connection; we get one from the drivers the
stores already use (aiosqlite, asyncpg) through SQLAlchemy's asyncio engine and `run_sync`
(greenlet), so no second database driver is installed and the connection is made with
exactly the parameters the store uses. The whole upgrade is one transaction that excludes
other processes starting at the same moment: BEGIN IMMEDIATE (SQLite's write lock) or a
transaction-level advisory lock (PostgreSQL); the others wait, then find nothing to do.

Databases made before 0.2 carry the numbered-SQL runner's `schema_migrations` table instead
of `alembic_version`. The revisions whose number is in it are stamped, not run (they were
applied, by the twin SQL files that built exactly the same schema), and every other one runs,
so any such database, from 0.1.0 on, upgrades in place. The old table is left as it was: the
record of what that runner applied.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

SCRIPTS = Path(__file__).parent / "migrations"
LEGACY_TABLE = "schema_migrations"
# Key of the advisory lock that lets one process at a time migrate a PostgreSQL database.
POSTGRES_LOCK = 0x66656564  # "feed"
T = TypeVar("T")
log = logging.getLogger(__name__)
# Alembic logs a line per revision at INFO (about forty on a new database); the operator reads
# one line of ours instead, and Alembic's warnings still show.
logging.getLogger("alembic").setLevel(logging.WARNING)


def config(connection: sa.Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPTS))
    cfg.attributes["connection"] = connection
    return cfg


@cache
def revisions() -> tuple[str, ...]:
    """Every revision id, oldest first."""
    script = ScriptDirectory.from_config(config())
    return tuple(s.revision for s in reversed(list(script.walk_revisions())))


def head() -> str:
    """The newest revision (an error if two revisions claim the same predecessor)."""
    head = ScriptDirectory.from_config(config()).get_current_head()
    assert head is not None
    return head


def current(connection: sa.Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def legacy_versions(connection: sa.Connection) -> set[int]:
    """Numbers the numbered-SQL runner (before 0.2) applied; empty on a newer database."""
    if not sa.inspect(connection).has_table(LEGACY_TABLE):
        return set()
    legacy = sa.table(LEGACY_TABLE, sa.column("version", sa.Integer))
    return {int(v) for v in connection.execute(sa.select(legacy.c.version)).scalars()}


def upgrade(connection: sa.Connection) -> None:
    """Run every missing revision (stamping those a pre-0.2 runner applied) on a connection
    inside a transaction that holds the migration lock."""
    cfg = config(connection)
    done = legacy_versions(connection)
    now = current(connection)
    pending = list(revisions())
    if now is not None:
        pending = pending[pending.index(now) + 1 :]
    # Consecutive revisions with the same fate go in one call.
    steps: list[tuple[bool, str]] = []
    for rev in pending:
        stamp = int(rev) in done
        if steps and steps[-1][0] == stamp:
            steps[-1] = (stamp, rev)
        else:
            steps.append((stamp, rev))
    for stamp, rev in steps:
        if stamp:
            command.stamp(cfg, rev)
        else:
            command.upgrade(cfg, rev)
    if pending:
        stamped = sum(int(rev) in done for rev in pending)
        log.info(
            "database schema %s -> %s: %d revisions applied, %d recorded as applied before",
            now or ("before 0.2" if done else "empty"),
            pending[-1],
            len(pending) - stamped,
            stamped,
        )


def _sqlite_engine(path: str) -> sa.Engine:
    def connect() -> sqlite3.Connection:
        # isolation_level=None: the driver leaves transactions to us (see `begin` below).
        return sqlite3.connect(path, isolation_level=None, timeout=60)

    engine = sa.create_engine("sqlite://", creator=connect, poolclass=NullPool)

    @event.listens_for(engine, "begin")
    def begin(conn: sa.Connection) -> None:
        # SQLite's write lock for the whole transaction, DDL included (pysqlite would
        # otherwise commit before each DDL statement): all of it lands, or none of it, and
        # another process starting at the same moment waits.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _postgres_engine(dsn: str, schema: str | None) -> AsyncEngine:
    settings = {"timezone": "UTC", "application_name": "feedback-migrate"}
    if schema:
        settings["search_path"] = schema

    async def connect() -> Any:
        # The store's own driver and parameters; SQLAlchemy adapts it for Alembic.
        return await asyncpg.connect(dsn, server_settings=settings)

    return create_async_engine("postgresql+asyncpg://", async_creator=connect, poolclass=NullPool)


async def in_transaction(url: str, work: Callable[[sa.Connection], T]) -> T:
    """Run ``work`` on a synchronous SQLAlchemy connection to the store at ``url`` (as
    `feedback.store.open_store` reads it), in one transaction that excludes other writers
    (SQLite) or holds the migration lock (PostgreSQL)."""
    if url.startswith(("postgresql://", "postgres://")):
        from feedback.store.postgres import split_url

        dsn, schema = split_url(url)

        def locked(conn: sa.Connection) -> T:
            # Several processes start at once (serve --workers, bot, tick): one migrates,
            # the others wait here until it commits and then find nothing left to do.
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": POSTGRES_LOCK})
            if schema:
                conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            return work(conn)

        engine = _postgres_engine(dsn, schema)
        try:
            async with engine.begin() as conn:
                return await conn.run_sync(locked)
        finally:
            await engine.dispose()

    path = url.removeprefix("sqlite:///")

    def run() -> T:
        # The standard library's driver in a thread: SQLite needs no asyncio adapter here.
        engine = _sqlite_engine(path)
        try:
            with engine.begin() as conn:
                return work(conn)
        finally:
            engine.dispose()

    return await asyncio.to_thread(run)


async def upgrade_store(url: str) -> None:
    """Bring the database of the store at ``url`` to the newest revision."""
    await in_transaction(url, upgrade)
