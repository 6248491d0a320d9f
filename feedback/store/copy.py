"""Moving a whole database from one store to another (SQLite → PostgreSQL, or back).

Rows are copied as they are — events with their hashes, ids included — so every record chain
still verifies on the target and tracking numbers, links and counters stay what they were.
The table list comes from the databases themselves (every table both have, parents before
the tables that reference them), so tables that later migrations add move without changes
here. The copy is one transaction on the target: it lands whole or not at all.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from feedback import record
from feedback.errors import StoreError
from feedback.store.base import Store, WriteTx
from feedback.store.rows import iso
from feedback.store.sql import Query, cached, param

# Each store keeps its own migration record (the copy needs both at the same revision).
SKIP = {"alembic_version", "schema_migrations"}
BATCH = 1000


@dataclass
class CopyResult:
    rows: dict[str, int] = field(default_factory=dict)  # table → rows copied
    checked: int = 0
    breaks: list[record.ChainBreak] = field(default_factory=list)
    mismatched: list[str] = field(default_factory=list)  # tables whose counts differ after

    @property
    def ok(self) -> bool:
        return not self.breaks and not self.mismatched


def is_postgres(store: Store) -> bool:
    return store.dialect == "postgresql"


async def tables(store: Store) -> list[str]:
    """Ordinary tables of the store (SQLite's full-text shadow tables left out)."""
    return sorted(name for name in await store.table_names() if name not in SKIP)


async def columns(store: Store, table: str) -> list[str]:
    return await store.column_names(table)


async def references(store: Store) -> list[tuple[str, str]]:
    """(table, table it references) pairs."""
    return await store.foreign_keys()


def _table(name: str, cols: list[str] | tuple[str, ...] = ()) -> sa.TableClause:
    """A table by the name the catalog gave (whatever the schema holds), quoted by
    SQLAlchemy: the copy is written once for both stores without a table list of its own."""
    return sa.table(name, *(sa.column(c) for c in cols))


def _count(name: str) -> sa.Select[Any]:
    return sa.select(sa.func.count().label("n")).select_from(_table(name))


def _clear(name: str) -> sa.Delete:
    return sa.delete(_table(name))


def _insert_rows(name: str, cols: tuple[str, ...]) -> sa.Insert:
    return sa.insert(_table(name, cols)).values({c: param(c) for c in cols})


def _page(name: str, cols: tuple[str, ...], after: bool) -> sa.Select[Any]:
    table = _table(name, cols)
    found = sa.select(*table.c)
    if "id" not in cols:
        return found
    if after:  # keyset pages; the first without a bound, so ids of any type (number, text) work
        found = found.where(table.c.id > param("after"))
    return found.order_by(table.c.id).limit(BATCH)


def parents_first(names: list[str], links: list[tuple[str, str]]) -> list[str]:
    order: list[str] = []
    seen: set[str] = set()

    def visit(table: str) -> None:
        if table in seen:
            return
        seen.add(table)
        for child, parent in links:
            if child == table and parent != table and parent in names:
                visit(parent)
        order.append(table)

    for name in sorted(names):
        visit(name)
    return order


async def count(store: Store, table: str) -> int:
    rows = await store.fetch(cached(_count, table), {})
    return int(rows[0]["n"])


def _for_sqlite(value: Any) -> Any:
    # SQLite keeps times as the ISO strings the SQLite store writes, flags as 0/1.
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, bool):
        return int(value)
    return value


async def _insert(tx: WriteTx, query: Query, rows: list[dict[str, Any]]) -> None:
    many = getattr(tx, "executemany", None)
    if many is not None:
        await many(query, rows)
    else:
        for row in rows:
            await tx.execute(query, row)


async def copy_store(source: Store, target: Store) -> CopyResult:
    """Copy every row of ``source`` into the empty ``target``, then verify the target's
    record chains. Both stores must be open (and so migrated to the same schema)."""
    if await source.schema_version() != await target.schema_version():
        raise StoreError("源数据库与目标数据库的结构版本不同，请先用同一版本升级两者。")
    src_tables, dst_tables = await tables(source), await tables(target)
    for table in dst_tables:
        if await count(target, table):
            raise StoreError(f"目标数据库不是空的（表 {table} 已有数据），拒绝覆盖。")
    for table in sorted(set(src_tables) - set(dst_tables)):
        if await count(source, table):
            raise StoreError(f"目标数据库没有表 {table}，其中的数据会丢失，已停止。")
    shared = [t for t in src_tables if t in dst_tables]
    order = parents_first(shared, await references(target))
    to_sqlite = not is_postgres(target)
    result = CopyResult()
    plans: dict[str, list[str]] = {}
    for table in order:
        src_cols = await columns(source, table)
        plans[table] = [c for c in await columns(target, table) if c in src_cols]
    async with target.transaction() as tx:
        for table in order:
            result.rows[table] = await _copy_table(source, tx, table, plans[table], to_sqlite)
        # Triggers (statistics marks reports dirty) may have added rows to a table already
        # copied: the source's rows are the truth, so such a table is copied once more.
        for table in order:
            rows = await tx.fetch(cached(_count, table), {})
            if int(rows[0]["n"]) != result.rows[table]:
                result.rows[table] = await _copy_table(source, tx, table, plans[table], to_sqlite)
        if not to_sqlite:
            for table in order:
                if "id" in plans[table]:
                    # Rows kept their ids: move the identity past them for new rows.
                    await tx.move_identity(table)
    for table, copied in result.rows.items():
        if await count(target, table) != copied or await count(source, table) != copied:
            result.mismatched.append(table)
    async for chain in target.iter_chains():
        result.checked += 1
        found = record.verify_chain(
            chain.tracking_number, chain.events, head=chain.head, count=chain.count
        )
        if found:
            result.breaks.append(found)
    return result


async def _copy_table(
    source: Store, tx: WriteTx, table: str, cols: list[str], to_sqlite: bool
) -> int:
    """Replace the target table's rows with the source's; the number copied."""
    await tx.execute(cached(_clear, table), {})
    insert = cached(_insert_rows, table, tuple(cols))
    copied = 0
    async for batch in _batches(source, table, cols):
        rows = [{c: _for_sqlite(r[c]) if to_sqlite else r[c] for c in cols} for r in batch]
        await _insert(tx, insert, rows)
        copied += len(rows)
    return copied


async def _batches(
    store: Store, table: str, cols: list[str]
) -> AsyncIterator[list[dict[str, Any]]]:
    shape = (table, tuple(cols))
    rows = await store.fetch(cached(_page, *shape, False), {})
    if "id" not in cols:
        if rows:
            yield rows
        return
    while rows:
        yield rows
        rows = await store.fetch(cached(_page, *shape, True), {"after": rows[-1]["id"]})
