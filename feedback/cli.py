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
from pathlib import Path
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
    "feedback.cli_learning",
    "feedback.cli_stats",
    "feedback.cli_insight",
    "feedback.cli_notify",
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
    from feedback.senders import settings_problem

    settings = settings_from(args, host=args.host, port=args.port)
    problem = settings_problem(settings)
    if problem:
        print(f"通知设置有误，未启动：{problem}", file=sys.stderr)
        return 2
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
        from feedback import checkpoint
        from feedback.incentives import verify_ledger

        data = checkpoint.read_file(args.checkpoint) if args.checkpoint else None
        trusted = args.public_key or None
        async with open_service(settings, with_model=False) as service:
            checked, breaks = await service.verify_records()
            ledger = await verify_ledger(service)
            unsealed = await service.unsealed()
            against = await checkpoint.check(service.store, data, trusted) if data else []
        for b in breaks:
            print(f"BROKEN {b}")
        if ledger:
            print(f"BROKEN {ledger}")
        for problem in against:
            print(f"BROKEN {problem}")
        if unsealed:
            print(f"note: {unsealed} reports from before row digests are checked for their "
                  "chain only until the background job (feedback tick) seals them")  # fmt: skip
        if ledger or breaks or against:
            if breaks:
                print(f"{len(breaks)} problems in {checked} report records; first: {breaks[0]}")
            return 1
        print(f"all {checked} report records verify")
        if data:
            print(f"history up to the checkpoint of {data['taken_at']} is unchanged "
                  f"({data['reports']} reports, {data['events']} events)")  # fmt: skip
        return 0

    return int(run(go))


def cmd_checkpoint(args: argparse.Namespace) -> int:
    from feedback import checkpoint
    from feedback.runtime import open_service

    if args.new_key:
        public = checkpoint.new_key(args.new_key)
        print(f"new signing key in {args.new_key} (keep it secret, back it up)")
        print(f"public key: {public}  (publish it beside the checkpoints)")
        return 0
    settings = settings_from(args)
    key = args.key or settings.checkpoint_key

    async def go() -> checkpoint.Checkpoint:
        async with open_service(settings, with_model=False) as service:
            await service.seal_records(limit=10**9)
            return await checkpoint.take(service.store, service.clock(), key)

    taken = run(go)
    if args.out:
        Path(args.out).write_text(taken.text(), encoding="utf-8")
    body = taken.body
    print(f"checkpoint {taken.digest} at {body['taken_at']}: {body['reports']} reports, "
          f"{body['events']} events, root {body['root']}"
          + (" (signed)" if taken.signature else ""))  # fmt: skip
    return 0


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

    p = sub.add_parser(
        "verify", help="check every report's record chain, and each report against its record"
    )
    common(p)
    p.add_argument(
        "--checkpoint", metavar="FILE",
        help="also check that history up to this published checkpoint is unchanged",
    )  # fmt: skip
    p.add_argument(
        "--public-key", metavar="KEY",
        help="require the checkpoint to be signed by this public key (as the operator publishes it)",
    )  # fmt: skip
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser(
        "checkpoint", help="record a checkpoint of every report's record (for publishing)"
    )
    common(p)
    p.add_argument("--out", metavar="FILE", help="also write it to FILE (JSON)")
    p.add_argument(
        "--key", metavar="PEM", help="sign with this Ed25519 key (env FEEDBACK_CHECKPOINT_KEY)"
    )
    p.add_argument("--new-key", metavar="PEM", help="make a new signing key in PEM and stop")
    p.set_defaults(func=cmd_checkpoint)

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
