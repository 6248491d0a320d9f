"""Webhook mode: Telegram posts updates to the web app instead of the bot polling for them.

Mounted by the composition root (feedback/runtime.py) when a token and a webhook secret are
configured; web/ itself never imports bots/. Telegram sends the secret in the
X-Telegram-Bot-Api-Secret-Token header; anything without it is refused before it is read.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import AsyncIterator

from aiohttp import web
from telegram import Update

from bots.app import BotApp, start_bot, stop_bot

log = logging.getLogger(__name__)

PATH = "/telegram/webhook"
HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_UPDATE_BYTES = 1024 * 1024  # an update is JSON text; files come by getFile, not in here


def add_webhook_routes(
    app: web.Application,
    application: BotApp,
    secret: str,
    *,
    url: str | None = None,
) -> None:
    """Add POST /telegram/webhook, and start/stop the bot with the web app.

    With ``url`` (the public address of PATH) the webhook is registered with Telegram at start.
    """
    if not secret:
        raise ValueError("webhook mode needs a secret token")
    expected = secret.encode()

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(HEADER, "").encode()
        if not hmac.compare_digest(given, expected):
            return web.Response(status=403, text="forbidden")
        if request.content_length and request.content_length > MAX_UPDATE_BYTES:
            return web.Response(status=413, text="too large")
        try:
            data = json.loads(await request.read())
            update = Update.de_json(data, application.bot) if isinstance(data, dict) else None
        except Exception:
            # Telegram resends on errors; a body it cannot have meant is acknowledged and dropped.
            log.warning("ignored a webhook body that is not an update", exc_info=True)
            return web.Response(text="ignored")
        if update is not None:
            await application.update_queue.put(update)
        return web.Response(text="ok")

    async def bot_ctx(app: web.Application) -> AsyncIterator[None]:
        await start_bot(application, polling=False)
        if url:
            await application.bot.set_webhook(
                url, secret_token=secret, allowed_updates=["message", "callback_query"]
            )
        yield
        await stop_bot(application)

    app.router.add_post(PATH, receive)
    app.cleanup_ctx.append(bot_ctx)
