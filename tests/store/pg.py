"""A throw-away PostgreSQL database for one test session, and a fresh schema per test.

The server is the one in FEEDBACK_TEST_PG_URL (`.ci/run` starts it with
scripts/ensure-postgres.sh); without one answering, PostgreSQL variants are skipped with the
reason, and SQLite still runs.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from feedback.store import Store, open_store

T = TypeVar("T")
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def server_url() -> str:
    return os.environ.get("FEEDBACK_TEST_PG_URL") or DEFAULT_URL


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))


def run_aside(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on its own loop in a thread, clear of the test's event loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def _create(url: str, name: str) -> None:
    conn = await asyncpg.connect(url, timeout=3)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def _drop(url: str, name: str) -> None:
    conn = await asyncpg.connect(url, timeout=3)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def throwaway_database() -> Iterator[str | None]:
    """URL of a database made for this test session (dropped after), or None without a
    server. The session fixture `pg_database` in tests/conftest.py wraps it."""
    url = server_url()
    name = f"feedback_test_{secrets.token_hex(4)}"
    try:
        run_aside(_create(url, name))
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        print(f"PostgreSQL at {url} not usable: {exc}")
        yield None
        return
    try:
        yield with_database(url, name)
    finally:
        run_aside(_drop(url, name))


def fresh_schema_url(database_url: str | None) -> str:
    """A URL naming a new, empty schema in the session database (skips without a server)."""
    if database_url is None:
        pytest.skip(f"no PostgreSQL server answers at {server_url()} (set FEEDBACK_TEST_PG_URL)")
    return f"{database_url}?schema=t_{secrets.token_hex(6)}"


async def open_clean_store(database_url: str | None) -> Store:
    """An open store on the session's shared schema, emptied of the previous test's rows.

    Emptying (DELETE, identities restarted) takes milliseconds where creating a schema and
    running the migrations takes about half a second; tests that need a schema of their own
    use `fresh_schema_url`.
    """
    store = open_store(f"{fresh_schema_url(database_url).split('?')[0]}?schema=shared")
    await store.open()
    tables = [
        r["tablename"]
        for r in await store.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
            "AND tablename NOT IN ('alembic_version', 'schema_migrations')"
        )
    ]
    links = await store.fetch(
        "SELECT conrelid::regclass::text AS child, confrelid::regclass::text AS parent "
        "FROM pg_constraint WHERE contype = 'f' AND connamespace = current_schema()::regnamespace"
    )
    async with store.transaction() as tx:
        for table in children_first(tables, [(r["child"], r["parent"]) for r in links]):
            await tx.execute(f'DELETE FROM "{table}"')
        await tx.fetch(
            "SELECT setval(pg_get_serial_sequence(table_name, column_name), 1, false) "
            "FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND is_identity = 'YES'"
        )
    return store


def children_first(tables: list[str], links: list[tuple[str, str]]) -> list[str]:
    """Tables ordered so that each comes before the tables it references."""
    order: list[str] = []
    seen: set[str] = set()

    def visit(table: str) -> None:
        if table in seen:
            return
        seen.add(table)
        for child, parent in links:
            if parent == table and child != table:
                visit(child)
        order.append(table)

    for t in sorted(tables):
        visit(t)
    return order
