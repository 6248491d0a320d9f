"""`feedback bot`: run the Telegram bot by polling (no public address needed).

The token comes from the environment (FEEDBACK_TELEGRAM_TOKEN) or --token-file, never from the
command line, where other users of the machine could read it in the process list.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from pathlib import Path
from typing import Any

from feedback.settings import Settings

NO_TOKEN = (
    "feedback bot: no Telegram bot token. Ask @BotFather for one, then set it in the environment:\n"
    "  export FEEDBACK_TELEGRAM_TOKEN='123456789:AA…'\n"
    "or put it in a file readable only by you and pass --token-file PATH."
)


def register(subparsers: Any) -> None:
    from feedback.cli import common

    p = subparsers.add_parser(
        "bot", help="run the Telegram bot (polling); token from FEEDBACK_TELEGRAM_TOKEN"
    )
    common(p)
    p.add_argument("--token-file", help="read the bot token from this file instead of the env")
    p.add_argument(
        "--notify-every",
        type=float,
        default=5.0,
        help="seconds between checks for progress notices to send (default 5)",
    )
    p.set_defaults(func=cmd_bot)


def token_from(args: argparse.Namespace, settings: Settings) -> str | None:
    if getattr(args, "token_file", None):
        return Path(args.token_file).read_text(encoding="utf-8").strip() or None
    return (settings.telegram_token or "").strip() or None


def cmd_bot(args: argparse.Namespace) -> int:
    from feedback.cli import settings_from

    settings = settings_from(args)
    token = token_from(args, settings)
    if not token:
        print(NO_TOKEN, file=sys.stderr)
        return 2
    return asyncio.run(_run(settings, token, args.notify_every))


async def _run(settings: Settings, token: str, notify_every: float) -> int:
    from bots.app import build_application, start_bot, stop_bot
    from feedback.runtime import open_service

    async with open_service(settings) as service:
        application = build_application(
            service,
            token,
            data_dir=settings.data_dir,
            attachments_dir=settings.attachments_dir,
            submit_per_hour=settings.submit_per_hour,
            base_url=settings.telegram_api_url,
            base_file_url=settings.telegram_file_url,
            notify_interval=notify_every,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        await start_bot(application, polling=True)
        me = application.bot.username
        print(f"feedback bot: @{me} polling; database {settings.db}. Ctrl-C stops.")
        try:
            await stop.wait()
        finally:
            await stop_bot(application)
    return 0
