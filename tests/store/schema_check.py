"""How a database differs from the declared tables (`feedback.store.schema`), by Alembic's
own comparison: tables, columns and their types and nullability, indexes (partial ones with
their predicate), unique constraints, foreign keys."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from feedback.store import migrate
from feedback.store.schema import NOT_IN_METADATA, metadata


def _include(obj: Any, name: str | None, kind: str, reflected: bool, other: Any) -> bool:
    return not (kind == "table" and name in NOT_IN_METADATA)


def _sqlite_legacy_key(diff: Any, dialect: str) -> bool:
    """SQLite's quirk in tables the pre-0.2 SQL files made: a PRIMARY KEY column not declared
    NOT NULL reads as nullable (a rowid alias cannot hold NULL anyway; no code writes a NULL
    key). The migrations declare NOT NULL; the old tables are not rebuilt for it."""
    if dialect != "sqlite" or not isinstance(diff, list) or len(diff) != 1:
        return False
    op, _schema, table, column = diff[0][:4]
    return op == "modify_nullable" and metadata.tables[table].c[column].primary_key


async def differences(url: str) -> list[Any]:
    def compare(conn: sa.Connection) -> list[Any]:
        context = MigrationContext.configure(
            conn, opts={"include_object": _include, "compare_type": True}
        )
        found = compare_metadata(context, metadata)
        return [d for d in found if not _sqlite_legacy_key(d, conn.dialect.name)]

    return await migrate.in_transaction(url, compare)
