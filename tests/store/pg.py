"""A throw-away PostgreSQL database for one test session: one migrated schema the tests share
(emptied before each), and a fresh schema for the tests that need their own.

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

from feedback.store import migrate

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


# The session's one migrated schema that the tests share, emptied before each (SHARED), and
# what it looked like when it was freshly migrated, per session database.
SHARED = "shared"
_FRESH: dict[str, tuple[Any, ...]] = {}


async def _shape(conn: asyncpg.Connection) -> tuple[Any, ...]:
    """Everything a test could change in the schema other than rows: tables and columns,
    indexes, constraints, triggers, functions, sequences' start and the migration version."""
    here = "current_schema()::regnamespace"
    queries = [
        "SELECT table_name, column_name, data_type, is_nullable, column_default, is_identity "
        "FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY 1, 2",
        "SELECT tablename, indexname, indexdef FROM pg_indexes "
        "WHERE schemaname = current_schema() ORDER BY 1, 2",
        f"SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        f"WHERE connamespace = {here} ORDER BY 1, 2",
        f"SELECT tgrelid::regclass::text, tgname, pg_get_triggerdef(oid) FROM pg_trigger "
        f"WHERE NOT tgisinternal AND tgrelid IN (SELECT oid FROM pg_class WHERE relnamespace = "
        f"{here}) ORDER BY 1, 2",
        f"SELECT proname, md5(prosrc) FROM pg_proc WHERE pronamespace = {here} ORDER BY 1, 2",
        f"SELECT relname, seqstart FROM pg_sequence JOIN pg_class ON oid = seqrelid "
        f"WHERE relnamespace = {here} ORDER BY 1",
        f"SELECT c.relname FROM pg_class c WHERE c.relnamespace = {here} AND c.relkind = 'v'",
    ]
    found: list[Any] = [tuple(tuple(r) for r in await conn.fetch(q)) for q in queries]
    if any(t == "alembic_version" for t, *_ in found[0]):
        found.append(
            tuple(r[0] for r in await conn.fetch("SELECT version_num FROM alembic_version"))
        )
    return tuple(found)


async def _tables(conn: asyncpg.Connection) -> list[str]:
    tables = [
        r["tablename"]
        for r in await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
            "AND tablename <> 'alembic_version'"
        )
    ]
    links = await conn.fetch(
        "SELECT conrelid::regclass::text AS child, confrelid::regclass::text AS parent "
        "FROM pg_constraint WHERE contype = 'f' AND connamespace = current_schema()::regnamespace"
    )
    return children_first(tables, [(r["child"], r["parent"]) for r in links])


async def _clean_shared_schema(database_url: str) -> str:
    url = f"{database_url}?schema={SHARED}"
    conn = await asyncpg.connect(database_url, timeout=10, server_settings={"search_path": SHARED})
    try:
        fresh = _FRESH.get(database_url)
        if fresh is None or await _shape(conn) != fresh:
            # The first test of the session, or the previous one changed the schema itself
            # (an old database's upgrade, a dropped index): migrate a new one, as the app does.
            await conn.execute(f'DROP SCHEMA IF EXISTS "{SHARED}" CASCADE')
            await migrate.upgrade_store(url)
            _FRESH[database_url] = await _shape(conn)
            seeded = [
                t
                for t in await _tables(conn)
                if await conn.fetchval(f'SELECT EXISTS (SELECT FROM "{t}")')
            ]
            # Emptying would drop rows a migration put there: say so rather than differ.
            assert not seeded, f"migrations seed rows in {seeded}: keep them when emptying"
            return url
        async with conn.transaction():
            # DELETE, not TRUNCATE: on a few dozen nearly empty tables DELETE takes ~10 ms,
            # TRUNCATE ~700 ms (a new file per table), more than migrating anew.
            for table in await _tables(conn):
                await conn.execute(f'DELETE FROM "{table}"')
            await conn.execute(
                "SELECT setval(seqrelid::regclass, seqstart, false) FROM pg_sequence "
                "JOIN pg_class ON pg_class.oid = seqrelid "
                "WHERE relnamespace = current_schema()::regnamespace"
            )
    finally:
        await conn.close()
    return url


def clean_shared_schema(database_url: str | None) -> str:
    """URL of the session's shared schema, migrated once and emptied of the previous test's
    rows and sequence values (skips without a server).

    Emptying takes ~20 ms where creating a schema and running the migrations takes 0.5-0.9 s.
    A test that changed the schema itself (not only rows) is caught by comparing the schema
    with the freshly migrated one, and the next test gets a newly migrated schema. Tests that
    need a schema of their own (two processes, migrations) use `fresh_schema_url`.
    """
    if database_url is None:
        pytest.skip(f"no PostgreSQL server answers at {server_url()} (set FEEDBACK_TEST_PG_URL)")
    return run_aside(_clean_shared_schema(database_url))


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
