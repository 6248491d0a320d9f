"""Starting things: a service for CLI commands, and the web server with its background jobs.

Part of the composition root (with feedback.cli): only code here imports web/ and bots/.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from feedback.config import load_config
from feedback.service import FeedbackService, opened
from feedback.settings import InputLimits, Settings

if TYPE_CHECKING:
    from aiohttp import web

    from feedback.model_provider import ModelProvider

log = logging.getLogger(__name__)


def model_provider(settings: Settings) -> ModelProvider:
    from feedback.model_provider import ModelProvider

    return ModelProvider(settings.models_dir)


@asynccontextmanager
async def open_service(
    settings: Settings, *, with_model: bool = True
) -> AsyncIterator[FeedbackService]:
    config = load_config(settings.config)
    classify = model_provider(settings) if with_model else None
    async with opened(
        settings.db, config, classify=classify, input_limits=InputLimits.of(settings),
        code_key=settings.follow_up_code_key(),
        escalate_repeat_minutes=settings.escalate_repeat_minutes,
    ) as service:  # fmt: skip
        yield service


def serve(settings: Settings, *, demo: bool = False, workers: int = 1) -> None:
    from aiohttp import web

    if demo:
        asyncio.run(_demo_if_empty(settings))
    if workers > 1:
        from feedback.workers import serve_workers

        serve_workers(settings, workers)
        return
    app = build_web_app(settings)
    print(f"feedback: serving on http://{settings.host}:{settings.port}/  (database {settings.db})")
    web.run_app(app, host=settings.host, port=settings.port, print=None)


def build_web_app(settings: Settings) -> web.Application:
    """The app one web process serves (`serve`, and each worker of `serve --workers N`)."""
    from web.app import create_app

    app = create_app(settings, classify=model_provider(settings))
    mount_telegram_webhook(app, settings)
    return app


def mount_telegram_webhook(app: web.Application, settings: Settings) -> None:
    """Webhook mode: with a bot token and a webhook secret set, the bot lives in the web app
    (POST /telegram/webhook) and its notifier with it; else `feedback bot` polls."""
    if not (settings.telegram_token and settings.telegram_webhook_secret):
        return
    from bots.app import build_application
    from bots.webhook import PATH, add_webhook_routes
    from web import csrf
    from web.keys import service_key

    application = build_application(
        lambda: app[service_key],
        settings.telegram_token,
        data_dir=settings.data_dir,
        attachments_dir=settings.attachments_dir,
        submit_per_hour=settings.submit_per_hour,
        base_url=settings.telegram_api_url,
        base_file_url=settings.telegram_file_url,
    )
    # Telegram sends no cookies and no CSRF token: the secret header is its proof instead.
    csrf.exempt(app, PATH)
    url = settings.public_url.rstrip("/") + PATH if settings.public_url else None
    add_webhook_routes(app, application, settings.telegram_webhook_secret, url=url)


async def _demo_if_empty(settings: Settings) -> None:
    from feedback.demo import DEMO_PASSWORD, load_demo
    from feedback.store import ReportFilter

    async with open_service(settings) as service:
        if await service.store.count_reports(ReportFilter()) == 0:
            print("feedback: loading the demo data set (about a minute)…", flush=True)
            n = await load_demo(service)
            print(f"feedback: loaded {n} demo reports", flush=True)
    print(
        f"feedback: demo accounts (password {DEMO_PASSWORD}): admin, jiandu (司法局监督员), "
        "one per bureau named by its code, its lead (e.g. zhzf, zjj, rsj), and the named "
        "clerks zhzf.zhang and zhzf.li of 综合执法局",
        flush=True,
    )
