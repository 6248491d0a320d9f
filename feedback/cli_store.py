"""`feedback migrate-store`: move a district's database to another store (SQLite → PostgreSQL
when one machine is no longer enough), with every record chain verified on arrival."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from feedback.errors import StoreError


def register(sub: Any) -> None:
    p = sub.add_parser(
        "migrate-store",
        help="copy everything (reports, record chains, users, …) into another, empty database",
        description=(
            "Copy every table from one database to another, empty one — for example "
            "--from sqlite:///var/feedback.db --to postgresql://feedback@db/feedback — "
            "keeping ids and the hashes of every report's record, then verify every chain on "
            "the target. Attachments stay files in the data folder: copy that folder too. "
            "Stop the service first so nothing is written to the source meanwhile."
        ),
    )
    p.add_argument("--from", dest="source", required=True, help="source database file or URL")
    p.add_argument("--to", dest="target", required=True, help="target database URL (empty)")
    p.set_defaults(func=cmd_migrate_store)


def cmd_migrate_store(args: argparse.Namespace) -> int:
    if not args.source.startswith(("postgresql://", "postgres://")):
        # Opening a SQLite path creates the file: a typo must not copy an empty database.
        path = args.source.removeprefix("sqlite:///")
        if not Path(path).is_file():
            raise StoreError(f"源数据库文件 {path} 不存在。")
    return asyncio.run(migrate(args.source, args.target))


async def migrate(source_url: str, target_url: str) -> int:
    from feedback.store import open_store
    from feedback.store.copy import copy_store

    if source_url == target_url:
        raise StoreError("源数据库和目标数据库相同。")
    source, target = open_store(source_url), open_store(target_url)
    await source.open()
    try:
        await target.open()
        try:
            result = await copy_store(source, target)
        finally:
            await target.close()
    finally:
        await source.close()
    for table, n in result.rows.items():
        print(f"  {table:<24} {n:>8} rows")
    for table in result.mismatched:
        print(f"MISMATCH {table}: row counts differ between source and target")
    for b in result.breaks:
        print(f"BROKEN {b}")
    if not result.ok:
        return 1
    print(f"copied {sum(result.rows.values())} rows; all {result.checked} report records verify")
    return 0
