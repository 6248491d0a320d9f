"""Starting things: a service for CLI commands, and the web server with its background jobs.

Part of the composition root (with feedback.cli): only code here imports web/ and bots/.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from feedback.config import load_config
from feedback.service import FeedbackService
from feedback.settings import Settings
from feedback.store import open_store

log = logging.getLogger(__name__)


def model_provider(settings: Settings):  # type: ignore[no-untyped-def]
    from feedback.model_provider import ModelProvider

    return ModelProvider(settings.models_dir)


@asynccontextmanager
async def open_service(settings: Settings, *, with_model: bool = True) -> AsyncIterator[FeedbackService]:
    config = load_config(settings.config)
    store = open_store(settings.db)
    await store.open()
    try:
        classify = model_provider(settings).classify if with_model else None
        yield FeedbackService(store, config, classify=classify)
    finally:
        await store.close()


def serve(settings: Settings, *, demo: bool = False) -> None:
    from aiohttp import web

    from web.app import create_app

    if demo:
        asyncio.run(_demo_if_empty(settings))
    provider = model_provider(settings)
    app = create_app(settings, classify=provider.classify)
    print(f"feedback: serving on http://{settings.host}:{settings.port}/  (database {settings.db})")
    web.run_app(app, host=settings.host, port=settings.port, print=None)


async def _demo_if_empty(settings: Settings) -> None:
    from feedback.demo import load_demo
    from feedback.store import ReportFilter

    async with open_service(settings) as service:
        if await service.store.count_reports(ReportFilter()) == 0:
            n = await load_demo(service)
            log.info("loaded %d demo reports", n)
