"""`feedback keys …`, `feedback backup`, `feedback restore`: operating the open interfaces."""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from feedback import apikeys, backup
from feedback.errors import ValidationError
from feedback.settings import Settings
from feedback.store import Store, open_store

T = TypeVar("T")


def register(sub: argparse._SubParsersAction) -> None:
    from feedback.cli import common

    keys = sub.add_parser("keys", help="API keys for machine clients (Open311, JSON API)")
    commands = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")

    p = commands.add_parser("add", help="create a key; it is shown once")
    common(p)
    p.add_argument("name", help="who uses it, e.g. 12345-hotline")
    p.add_argument(
        "--rate",
        help="requests per minute, e.g. 120 or 120/min (default: the api_key_default_per_minute setting)",
    )
    p.set_defaults(func=cmd_keys_add)

    p = commands.add_parser("list", help="list keys (never the keys themselves)")
    common(p)
    p.set_defaults(func=cmd_keys_list)

    p = commands.add_parser("revoke", help="revoke a key at once")
    common(p)
    p.add_argument("name")
    p.set_defaults(func=cmd_keys_revoke)

    p = sub.add_parser(
        "backup", help="copy the SQLite database and attachments into a folder, verified"
    )
    common(p)
    p.add_argument("path", help="a new or empty folder for the backup")
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser("restore", help="bring a backup folder back (stop the service first)")
    common(p)
    p.add_argument("path", help="the backup folder (with manifest.json)")
    p.add_argument(
        "--force", action="store_true", help="overwrite a database that already has reports"
    )
    p.set_defaults(func=cmd_restore)


def _settings(args: argparse.Namespace) -> Settings:
    from feedback.cli import settings_from

    return settings_from(args)


def _with_store(settings: Settings, fn: Callable[[Store], Awaitable[T]]) -> T:
    from feedback.cli import run

    async def go() -> T:
        store = open_store(settings.db)
        await store.open()
        try:
            return await fn(store)
        finally:
            await store.close()

    return run(go)


def parse_rate(value: str | None, default: int) -> int:
    """'120', '120/min' or '120/minute' → 120."""
    if value is None:
        return default
    m = re.fullmatch(r"\s*(\d+)\s*(?:/\s*(?:m|min|minute))?\s*", value)
    if not m:
        raise ValidationError("--rate 应为每分钟请求数，如 120 或 120/min。", field="rate")
    return int(m.group(1))


def cmd_keys_add(args: argparse.Namespace) -> int:
    settings = _settings(args)
    rate = parse_rate(args.rate, settings.api_key_default_per_minute)
    key, secret = _with_store(
        settings, lambda s: apikeys.create(s, args.name, rate, datetime.now(UTC))
    )
    print(f"API key for {key.name} ({key.per_minute}/min). It is shown only now; store it safely:")
    print(secret)
    return 0


def cmd_keys_list(args: argparse.Namespace) -> int:
    keys = _with_store(_settings(args), apikeys.list_keys)
    if not keys:
        print("no API keys")
    for k in keys:
        state = f"revoked {k.revoked_at}" if k.revoked_at else "active"
        print(
            f"{k.name:<24} fbk_{k.prefix}_…  {k.per_minute:>6}/min  created {k.created_at}  {state}"
        )
    return 0


def cmd_keys_revoke(args: argparse.Namespace) -> int:
    key = _with_store(_settings(args), lambda s: apikeys.revoke(s, args.name, datetime.now(UTC)))
    print(f"revoked {key.name} (fbk_{key.prefix}_…) at {key.revoked_at}")
    return 0


def _print(data: dict[str, Any]) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


def cmd_backup(args: argparse.Namespace) -> int:
    from feedback.cli import run

    settings = _settings(args)
    manifest = run(lambda: backup.backup(settings, Path(args.path)))
    print(f"backup written to {args.path}; every record chain verifies")
    _print(backup.summary(manifest))
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from feedback.cli import run

    settings = _settings(args)
    done = run(lambda: backup.restore(settings, Path(args.path), force=args.force))
    print(
        f"restored {args.path} into {done.target}; all {done.chains_checked} record chains verify"
    )
    _print(done.counts)
    return 0
