"""The scale-out store: PostgreSQL through asyncpg, for several app processes on several machines.

Every write transaction runs on one pooled connection in READ COMMITTED. What keeps the
full-process record right when two processes act on one report is `lock_report`: it takes the
report row ``FOR UPDATE``, so the second transaction waits until the first has
committed and then reads the new chain head. Tracking numbers come from a counter row updated
with ``INSERT … ON CONFLICT DO UPDATE … RETURNING``: the row lock makes them unique, and a
rolled-back submission simply leaves its number unused.

SQL written for both stores uses ``?`` placeholders; they are translated to ``$1, $2, …``
here. Parameters are taken the way SQLite takes them as well: ISO strings for timestamptz
columns and 0/1 for booleans (the codecs below accept both), so modules with tables of their
own run the same statements on either store. Integral ``numeric`` results (SUM, AVG) come
back as int or float, as SQLite gives them, not as Decimal.

The URL may name a schema, ``postgresql://…/db?schema=name``: the store creates it and works
inside it (tests use one schema per test; one database can host several districts).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg

from feedback.errors import StoreError
from feedback.store import migrate
from feedback.store.base import User
from feedback.store.portable import INSERT_USER, PortableReads, PortableWrites, user_values
from feedback.store.rows import (
    ts,
)
from feedback.store.sql import Params, Query, plain, plain_many

PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_INSERT = re.compile(r"^\s*INSERT\s+INTO\s+([A-Za-z_][A-Za-z0-9_]*)", re.IGNORECASE)


@lru_cache(maxsize=512)
def translate(sql: str) -> str:
    """``?`` → ``$1, $2, …``, leaving string literals, quoted names and comments alone."""
    out: list[str] = []
    n = 0
    i = 0
    length = len(sql)
    while i < length:
        ch = sql[i]
        if ch in ("'", '"'):
            end = i + 1
            while end < length:
                if sql[end] == ch:
                    if end + 1 < length and sql[end + 1] == ch:  # doubled quote inside
                        end += 2
                        continue
                    break
                end += 1
            out.append(sql[i : end + 1])
            i = end + 1
        elif ch == "-" and sql.startswith("--", i):
            end = sql.find("\n", i)
            end = length if end < 0 else end
            out.append(sql[i:end])
            i = end
        elif ch == "?":
            n += 1
            out.append(f"${n}")
            i += 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


# -- codecs: accept what SQLite accepts ------------------------------------------------------


def _encode_timestamptz(value: Any) -> tuple[int]:
    moment = ts(value)  # datetimes as they are, ISO strings parsed (naive means UTC)
    if moment is None:
        raise ValueError("empty timestamp")
    delta = moment - PG_EPOCH
    return ((delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds,)


def _decode_timestamptz(value: tuple[int]) -> datetime:
    return PG_EPOCH + timedelta(microseconds=value[0])


def _encode_bool(value: Any) -> str:
    return "t" if value else "f"


def _decode_bool(value: str) -> bool:
    return value == "t"


def _decode_numeric(value: str) -> int | float | Decimal:
    if value in ("NaN", "Infinity", "-Infinity"):
        return float(value)
    if "." not in value and "e" not in value.lower():
        return int(value)
    number = Decimal(value)
    return int(number) if number == number.to_integral_value() else float(number)


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec(
        "timestamptz",
        schema="pg_catalog",
        encoder=_encode_timestamptz,
        decoder=_decode_timestamptz,
        format="tuple",
    )
    await conn.set_type_codec(
        "bool", schema="pg_catalog", encoder=_encode_bool, decoder=_decode_bool, format="text"
    )
    await conn.set_type_codec(
        "numeric", schema="pg_catalog", encoder=str, decoder=_decode_numeric, format="text"
    )


def split_url(url: str) -> tuple[str, str | None]:
    """(connection URL without our own parameters, schema or None)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    schema = next((v for k, v in query if k == "schema"), None)
    rest = [(k, v) for k, v in query if k != "schema"]
    if schema is not None and not _IDENT.match(schema):
        raise StoreError(f"invalid schema name {schema!r} in the database URL")
    scheme = "postgresql" if parts.scheme == "postgres" else parts.scheme
    return urlunsplit((scheme, parts.netloc, parts.path, urlencode(rest), "")), schema


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for pg_advisory_lock (hash() differs between processes)."""
    return int.from_bytes(
        hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True
    )


def _status_count(status: str) -> int:
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


class PostgresTx(PortableWrites):
    dialect = "postgresql"

    def __init__(self, store: PostgresStore, conn: asyncpg.Connection):
        self.store = store
        self.conn = conn

    async def reserve_report(self, counter: str) -> tuple[int, int]:
        row = await self.conn.fetchrow(
            "WITH c AS (INSERT INTO counters (name, value) VALUES ($1, 1) "
            "ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value) "
            "SELECT (SELECT value FROM c) AS seq, "
            "nextval(pg_get_serial_sequence('reports', 'id')) AS id",
            counter,
        )
        return int(row["seq"]), int(row["id"])

    async def insert_user(self, user: User) -> int:
        try:
            # A savepoint, so a taken name leaves the surrounding transaction usable.
            async with self.conn.transaction():
                return await self.execute(INSERT_USER, user_values(user))
        except asyncpg.UniqueViolationError as exc:
            raise StoreError(f"用户名 {user.username} 已存在。", field="username") from exc

    async def lock_name(self, name: str) -> None:
        # A transaction-level advisory lock: released at commit or rollback, or when the
        # connection dies; READ COMMITTED then shows the rows the previous holder wrote.
        key = lock_key(f"{self.store.schema or ''}:{name}")
        await self.conn.execute("SELECT pg_advisory_xact_lock($1)", key)

    async def move_identity(self, table: str) -> None:
        # Rows kept their ids: the identity sequence moves past them (PostgreSQL's setval).
        await self.conn.execute(
            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
            f'COALESCE(MAX(id), 0) + 1, false) FROM "{table}"'
        )

    async def wait_for_writers(self, table: str) -> None:
        if not _IDENT.match(table):
            raise StoreError(f"invalid table name {table!r}")
        # SHARE conflicts with the ROW EXCLUSIVE lock every INSERT takes (before its id is
        # drawn from the sequence): open writers finish first, new ones wait for our commit.
        await self.conn.execute(f'LOCK TABLE "{table}" IN SHARE MODE')

    async def execute(self, sql: str | Query, params: Params = ()) -> int:
        """Like SQLite's: an INSERT into a table with an ``id`` returns the new id, anything
        else the number of rows it touched."""
        sql, params = plain("postgresql", sql, params)
        query = translate(sql)
        match = _INSERT.match(sql)
        if (
            match
            and "returning" not in sql.lower()
            and await self.store.has_id_column(self.conn, match.group(1))
        ):
            row = await self.conn.fetchrow(query + " RETURNING id", *params)
            return int(row[0]) if row else 0
        return _status_count(await self.conn.execute(query, *params))

    async def executemany(
        self, sql: str | Query, rows: Sequence[Sequence[Any]] | Sequence[Mapping[str, Any]]
    ) -> None:
        """Many rows through one statement (used when copying a whole store)."""
        sql, rows = plain_many("postgresql", sql, rows)
        await self.conn.executemany(translate(sql), rows)

    async def fetch(self, sql: str | Query, params: Params = ()) -> list[dict[str, Any]]:
        sql, params = plain("postgresql", sql, params)
        return [dict(r) for r in await self.conn.fetch(translate(sql), *params)]


class PostgresStore(PortableReads):
    """Store on a PostgreSQL database (or one schema of it), shared by any number of
    processes."""

    dialect = "postgresql"
    POOL_MIN = 1
    POOL_MAX = 10

    def __init__(self, url: str):
        self.url = url
        self.dsn, self.schema = split_url(url)
        self._pool: asyncpg.Pool | None = None
        self._id_tables: dict[str, bool] = {}

    async def open(self) -> None:
        settings = {"timezone": "UTC", "application_name": "feedback"}
        if self.schema:
            settings["search_path"] = self.schema
        try:
            self._pool = await asyncpg.create_pool(
                self.dsn,
                min_size=self.POOL_MIN,
                max_size=self.POOL_MAX,
                init=_init_connection,
                server_settings=settings,
            )
        except (OSError, asyncpg.PostgresError) as exc:
            raise StoreError(f"cannot connect to PostgreSQL at {self._safe_url()}: {exc}") from exc
        await self._migrate()

    def _safe_url(self) -> str:
        parts = urlsplit(self.dsn)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{host}{port}{parts.path}"

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def __aenter__(self) -> PostgresStore:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _require_pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise StoreError("store is not open")
        return self._pool

    async def _migrate(self) -> None:
        await migrate.upgrade_store(self.url)

    @asynccontextmanager
    async def transaction(self, *, quick: bool = False) -> AsyncIterator[PostgresTx]:
        async with self._require_pool().acquire() as conn, conn.transaction():
            yield PostgresTx(self, conn)

    @asynccontextmanager
    async def try_advisory_lock(self, name: str) -> AsyncIterator[bool]:
        """True if this process now holds the lock ``name`` (until the block ends), False if
        another process does. A session lock on its own connection: if the process dies, the
        connection closes and the lock is free again."""
        key = lock_key(f"{self.schema or ''}:{name}")
        async with self._require_pool().acquire() as conn:
            got = bool(await conn.fetchval("SELECT pg_try_advisory_lock($1)", key))
            try:
                yield got
            finally:
                if got and not conn.is_closed():
                    await conn.execute("SELECT pg_advisory_unlock($1)", key)

    async def has_id_column(self, conn: asyncpg.Connection, table: str) -> bool:
        if table not in self._id_tables:
            self._id_tables[table] = bool(
                await conn.fetchval(
                    "SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE "
                    "table_schema = current_schema() AND table_name = $1 AND column_name = 'id')",
                    table,
                )
            )
        return self._id_tables[table]

    async def fetch(self, sql: str | Query, params: Params = ()) -> list[dict[str, Any]]:
        sql, params = plain("postgresql", sql, params)
        rows = await self._require_pool().fetch(translate(sql), *params)
        return [dict(r) for r in rows]

    # The catalog from pg_catalog and information_schema (dialect-specific).
    async def table_names(self) -> list[str]:
        rows = await self.fetch(
            "SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema()", ()
        )
        return [r["name"] for r in rows]

    async def column_names(self, table: str) -> list[str]:
        rows = await self.fetch(
            "SELECT column_name AS name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position",
            (table,),
        )
        return [r["name"] for r in rows]

    async def foreign_keys(self) -> list[tuple[str, str]]:
        rows = await self.fetch(
            "SELECT conrelid::regclass::text AS child, confrelid::regclass::text AS parent "
            "FROM pg_constraint WHERE contype = 'f' "
            "AND connamespace = current_schema()::regnamespace",
            (),
        )
        return [(r["child"].split(".")[-1], r["parent"].split(".")[-1]) for r in rows]
