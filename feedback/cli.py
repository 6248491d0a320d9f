"""The `feedback` command: the composition root.

Only here do the web app and the bot get imported, inside the commands that start them.
Every subcommand has --help; settings shared by all (--db, --config, --data-dir) are declared
once in feedback.settings.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import sys
from collections.abc import Callable
from typing import Any

from feedback.settings import Settings

# Modules that add subcommands of their own: each has `register(subparsers)`.
COMMAND_MODULES = (
    "feedback.cli_model",
    "feedback.cli_admin",
    "feedback.cli_store",
    "feedback.cli_ops",
    "feedback.cli_bot",
    "feedback.cli_clock",
    "feedback.cli_stats",
    "feedback.cli_insight",
)


def common(parser: argparse.ArgumentParser) -> None:
    defaults = Settings()
    parser.add_argument(
        "--db", help=f"database file or URL (default {defaults.db}; env FEEDBACK_DB)"
    )
    parser.add_argument("--config", help="district configuration TOML (env FEEDBACK_CONFIG)")
    parser.add_argument(
        "--data-dir", help=f"attachments and models folder (default {defaults.data_dir})"
    )


def settings_from(args: argparse.Namespace, **extra: Any) -> Settings:
    return Settings.from_env(
        db=getattr(args, "db", None),
        config=getattr(args, "config", None),
        data_dir=getattr(args, "data_dir", None),
        **extra,
    )


def run(coro_fn: Callable[[], Any]) -> Any:
    return asyncio.run(coro_fn())


def cmd_serve(args: argparse.Namespace) -> int:
    from feedback.runtime import serve  # imports web/ (and bots/ for webhook mode)

    settings = settings_from(args, host=args.host, port=args.port)
    serve(settings, demo=args.demo, workers=args.workers)
    return 0


def cmd_init_db(args: argparse.Namespace) -> int:
    from feedback.store import open_store

    settings = settings_from(args)

    async def go() -> int:
        store = open_store(settings.db)
        await store.open()
        version = await store.schema_version()
        await store.close()
        print(f"database {settings.db} ready at schema version {version}")
        return 0

    return int(run(go))


def cmd_verify(args: argparse.Namespace) -> int:
    from feedback.runtime import open_service

    settings = settings_from(args)

    async def go() -> int:
        from feedback.incentives import verify_ledger

        async with open_service(settings, with_model=False) as service:
            checked, breaks = await service.verify_records()
            ledger = await verify_ledger(service)
        for b in breaks:
            print(f"BROKEN {b}")
        if ledger:
            print(f"BROKEN {ledger}")
            return 1
        if breaks:
            print(f"{len(breaks)} of {checked} report records are broken; first: {breaks[0]}")
            return 1
        print(f"all {checked} report records verify")
        return 0

    return int(run(go))


def cmd_demo(args: argparse.Namespace) -> int:
    from feedback.demo import load_demo
    from feedback.runtime import open_service

    settings = settings_from(args)

    async def go() -> int:
        async with open_service(settings) as service:
            n = await load_demo(service, count=args.count, seed=args.seed)
        print(f"loaded {n} demo reports into {settings.db}")
        return 0

    return int(run(go))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="feedback",
        description="行政执法社会监督诉求受理系统 — public-supervision complaint intake.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("serve", help="run the web service (citizen pages, staff console, API)")
    common(p)
    p.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default 8080)")
    p.add_argument(
        "--demo", action="store_true", help="load the demo data set first if the database is empty"
    )
    p.add_argument(
        "--workers", type=int, default=1, help="web processes sharing the port (default 1)"
    )
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("init-db", help="create or upgrade the database schema")
    common(p)
    p.set_defaults(func=cmd_init_db)

    p = sub.add_parser("verify", help="check every report's tamper-evident record chain")
    common(p)
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("demo", help="load a realistic demo data set (reports over months)")
    common(p)
    p.add_argument("--count", type=int, default=300, help="how many reports (default 300)")
    p.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
    p.set_defaults(func=cmd_demo)

    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    from feedback.errors import FeedbackError

    try:
        return int(args.func(args) or 0)
    except FeedbackError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `feedback … | head`: the reader left; no traceback
        from feedback.cli_stats import quiet_stdout

        quiet_stdout()
        return 0


if __name__ == "__main__":
    sys.exit(main())
