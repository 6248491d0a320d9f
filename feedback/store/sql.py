"""Queries written once, as SQLAlchemy Core expressions over the tables of
`feedback.store.schema`, compiled once per dialect into the SQL each store runs (issue 15).

A column or a table is named once: a misspelt one fails when the module is imported (the
statements are module-level) and tests/test_architecture.py compiles every one of them for
both dialects. The stores still run the SQL on their own drivers (sqlite3 in the writer's
thread, asyncpg) — no SQLAlchemy engine, so the threading model and the transactions stay
what `sqlite.py` and `postgres.py` say.

    LOAD = Query(sa.select(t.c.key).where(t.c.scope == sa.bindparam("scope")))
    rows = await store.fetch(LOAD, {"scope": scope})

Compiling a statement costs ~0.3 ms; a `Query` compiles at its first use on a dialect and
keeps the result, so a call costs a dict lookup and a tuple. Statements whose shape depends
on the call (filters) are built once per shape: see `cached`.

Parameters are `sa.bindparam(name)` and come as a mapping; a list is bound to
``sa.bindparam(name, expanding=True)`` (``col.in_(…)``). Values go to the driver as they are
(the stores' codecs take ISO text for times and 0/1 for flags on both), and rows come back as
the stores give them: no SQLAlchemy type processing either way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql.base import PGDialect
from sqlalchemy.dialects.sqlite.base import SQLiteCompiler, SQLiteDialect
from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.sql.expression import Executable


# `?` placeholders on both: the PostgreSQL store numbers them ($1, $2, …) as it does for the
# SQL modules still write by hand. The base dialects, not a driver's: asyncpg's and psycopg's
# add a cast to every parameter (``?::VARCHAR``), which the stores' codecs do not need.
class _SQLiteCompiler(SQLiteCompiler):
    def get_from_hint_text(self, table: Any, text: str | None) -> str | None:
        # SQLite's INDEXED BY after a table name (`select.with_hint(t, "INDEXED BY i",
        # "sqlite")`), which SQLAlchemy's SQLite compiler would drop.
        return text


class _SQLite(SQLiteDialect):
    statement_compiler = _SQLiteCompiler


DIALECTS: dict[str, Dialect] = {
    "sqlite": _SQLite(paramstyle="qmark"),
    "postgresql": PGDialect(paramstyle="qmark"),
}

Statement = Executable | Callable[[str], Executable]
Params = Mapping[str, Any] | Sequence[Any]


def insert(dialect: str, table: sa.Table) -> Any:
    """The dialect's own INSERT, for ``on_conflict_do_nothing`` / ``on_conflict_do_update``
    (an upsert is written per dialect by SQLAlchemy: `Query(lambda d: insert(d, t)…)`)."""
    return (sqlite.insert if dialect == "sqlite" else postgresql.insert)(table)


@dataclass(frozen=True)
class Compiled:
    sql: str
    names: tuple[str, ...]  # the parameters in the order of their marks
    expanding: frozenset[str]  # lists, one mark per item
    given: Mapping[str, Any]  # values the statement binds itself (sa.literal, in_([...]))
    not_in: frozenset[str]  # expanding names under NOT IN (an empty list is not allowed)


class Query:
    """A Core statement (or, where a dialect needs its own, a function of the dialect's name
    returning one), compiled once per dialect."""

    __slots__ = ("statement", "_compiled", "_fixed")

    def __init__(self, statement: Statement):
        self.statement = statement
        self._compiled: dict[str, Compiled] = {}
        self._fixed: dict[str, str] = {}

    def compiled(self, dialect: str) -> Compiled:
        found = self._compiled.get(dialect)
        if found is None:
            found = self._compiled[dialect] = _compile(self.statement, dialect)
        return found

    def render(self, dialect: str, params: Params = ()) -> tuple[str, tuple[Any, ...]]:
        """The SQL with ``?`` marks for ``dialect`` and its parameters in order."""
        c = self.compiled(dialect)
        if not isinstance(params, Mapping):
            raise TypeError("a Query takes its parameters by name (a mapping)")
        if not c.expanding:
            return c.sql, tuple(_value(c, name, params) for name in c.names)
        sql = c.sql
        values: list[Any] = []
        for name in c.names:
            value = _value(c, name, params)
            if name in c.expanding:
                items = list(value)
                if not items and name in c.not_in:
                    raise ValueError(f"NOT IN an empty list ({name}): say what is meant")
                # An empty list matches nothing: IN (NULL) is never true.
                marks = ", ".join("?" for _ in items) or "NULL"
                sql = sql.replace(f"__[POSTCOMPILE_{name}]", marks, 1)
                values.extend(items)
            else:
                values.append(value)
        return sql, tuple(values)

    def render_many(
        self, dialect: str, rows: Sequence[Mapping[str, Any]]
    ) -> tuple[str, list[tuple[Any, ...]]]:
        """One statement for many rows (no lists among its parameters)."""
        c = self.compiled(dialect)
        if c.expanding:
            raise ValueError("a statement run for many rows cannot take a list")
        return c.sql, [tuple(_value(c, n, row) for n in c.names) for row in rows]

    def __repr__(self) -> str:
        return f"Query({self.compiled('sqlite').sql!r})"


def _value(c: Compiled, name: str, params: Mapping[str, Any]) -> Any:
    if name in params:
        return params[name]
    if name in c.given:
        return c.given[name]
    raise KeyError(f"no value for the parameter {name!r}")


def _compile(statement: Statement, dialect: str) -> Compiled:
    stmt = statement if isinstance(statement, Executable) else statement(dialect)
    compiled = stmt.compile(dialect=DIALECTS[dialect])  # type: ignore[attr-defined]
    if getattr(compiled, "implicit_returning", None):
        # PostgreSQL's compiler adds RETURNING of the primary key to an INSERT it was not
        # asked for; the store then ran it for its row count, so `tx.execute` gave 1 where it
        # gives the new id (SQLite, hand-written SQL). Without it the store asks for the id
        # itself, as for every INSERT into a table with one. An explicit .returning() stays.
        stmt = stmt.inline()  # type: ignore[attr-defined]
        compiled = stmt.compile(dialect=DIALECTS[dialect])
    sql = str(compiled)
    names = tuple(compiled.positiontup or ())
    expanding = frozenset(n for n in names if compiled.binds[n].expanding)
    # A bindparam(name) without a value is required: the caller gives it.
    given = {n: compiled.binds[n].effective_value for n in names if not compiled.binds[n].required}
    not_in = frozenset(n for n in expanding if f"NOT IN (__[POSTCOMPILE_{n}])" in sql)
    return Compiled(sql, names, expanding, given, not_in)


@lru_cache(maxsize=1024)
def _shape(build: Callable[..., Statement], args: tuple[Any, ...]) -> Query:
    return Query(build(*args))


def cached(build: Callable[..., Statement], *args: Any) -> Query:
    """The Query ``build(*args)`` makes, built and compiled once per ``args`` (hashable: what
    decides the statement's shape, never a value). For statements assembled per call, such as
    a report filter's WHERE: the shape repeats, the values go in as parameters."""
    return _shape(build, args)


def param(name: str, **kw: Any) -> Any:
    """``sa.bindparam(name)``, shorter where a statement has many."""
    return sa.bindparam(name, **kw)


def plain(dialect: str, sql: str | Query, params: Params) -> tuple[str, Sequence[Any]]:
    """What a store's driver runs: a Query rendered for ``dialect``, hand-written SQL as is."""
    if isinstance(sql, Query):
        return sql.render(dialect, params)
    if isinstance(params, Mapping):
        raise TypeError("hand-written SQL takes its parameters in order (a sequence)")
    return sql, params


def plain_many(
    dialect: str, sql: str | Query, rows: Sequence[Sequence[Any]] | Sequence[Mapping[str, Any]]
) -> tuple[str, Sequence[Sequence[Any]]]:
    """`plain` for one statement run over many rows."""
    if isinstance(sql, Query):
        return sql.render_many(dialect, rows)  # type: ignore[arg-type]
    return sql, rows  # type: ignore[return-value]
