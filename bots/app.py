"""Building the bot: the python-telegram-bot Application with our handlers, persistence, rate
limiter and error handler, plus the notifier that runs beside it.

Used by `feedback bot` (polling, feedback/cli_bot.py) and by webhook mode (bots/webhook.py,
mounted by feedback/runtime.py). The token is always passed in from Settings, never written
here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder

from bots import steps, texts
from bots.conversation import Context, ReportBot
from bots.notifier import Notifier
from bots.persistence import ServicePersistence
from feedback.service import FeedbackService

log = logging.getLogger(__name__)

BotApp = Application[Any, Any, Any, Any, Any, Any]
NOTIFIER = "notifier"  # key in application.bot_data (which is not persisted)


class BotApplication(Application):
    """Writes the conversation state after every update, not once a minute, so a restart or a
    crash does not send a citizen back to the start of a half-written report."""

    async def process_update(self, update: object) -> None:
        await super().process_update(update)
        if self.persistence:
            await self.update_persistence()


class _RedactingFactory:
    """Log records with the bot token in them get it replaced, whoever logs them: httpx writes
    every request URL (``…/bot<token>/getMe``) at INFO, and an exception can carry the URL too.
    Installed once per process as the log record factory; each Application adds its token."""

    def __init__(self, inner: Callable[..., logging.LogRecord]):
        self.inner = inner
        self.secrets: set[str] = set()

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.inner(*args, **kwargs)
        if not self.secrets:
            return record
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is the logging module's to report
            return record
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        for secret in self.secrets:
            message = message.replace(secret, REDACTED)
            if record.exc_text and secret in record.exc_text:
                record.exc_text = record.exc_text.replace(secret, REDACTED)
        # Frozen now: python-telegram-bot logs objects it changes afterwards (getFile's result
        # gets the full file URL, token included), which a later formatting would show.
        record.msg, record.args = message, None
        return record


REDACTED = "<token>"


def redact_in_logs(token: str) -> None:
    """Never let ``token`` reach a log line."""
    factory = logging.getLogRecordFactory()
    if not isinstance(factory, _RedactingFactory):
        factory = _RedactingFactory(factory)
        logging.setLogRecordFactory(factory)
    factory.secrets.add(token)


def build_application(
    service: FeedbackService | Callable[[], FeedbackService],
    token: str,
    *,
    data_dir: str | Path,
    attachments_dir: str | Path | None = None,
    base_url: str | None = None,
    base_file_url: str | None = None,
    submit_per_hour: int,
    notify_interval: float = 5.0,
    max_retries: int = 1,
) -> BotApp:
    """The Application, ready for `initialize()`; its notifier starts with `start_bot`.

    ``service`` may be a function returning it: in webhook mode the service is created only when
    the web app starts. ``submit_per_hour``: reports one chat may file in an hour (the
    ``submit_per_hour`` setting; 0 = no limit).
    """
    if not token:
        raise ValueError("a Telegram bot token is required")
    redact_in_logs(token)
    get_service = service if callable(service) else (lambda: service)
    builder = (
        ApplicationBuilder()
        .application_class(BotApplication)
        .token(token)
        .persistence(ServicePersistence(get_service))
        # Throttles to Telegram's limits (30 messages/s overall, 20/min per group) and waits
        # out a 429 `max_retries` times before giving the error to the caller.
        .rate_limiter(AIORateLimiter(max_retries=max_retries))
        .arbitrary_callback_data(False)
    )
    if base_url:
        builder = builder.base_url(base_url)
    if base_file_url:
        builder = builder.base_file_url(base_file_url)
    application: BotApp = builder.build()
    bot = ReportBot(
        get_service,
        Path(attachments_dir) if attachments_dir else Path(data_dir) / "attachments",
        submit_per_hour=submit_per_hour,
    )
    # Group -1 first: the chat's data (its draft and step) read from the database, then the
    # handlers decide on it (bots.steps).
    application.add_handler(steps.refresher(), group=-1)
    for handler in bot.handlers(steps.chat_data_of(application)):
        application.add_handler(handler)
    application.add_error_handler(on_error)
    application.bot_data[NOTIFIER] = _LazyNotifier(get_service, notify_interval)
    return application


class _LazyNotifier:
    """The notifier needs the service, which in webhook mode exists only after start-up."""

    def __init__(self, service: Callable[[], FeedbackService], interval: float):
        self.service = service
        self.interval = interval
        self.notifier: Notifier | None = None

    def get(self, application: BotApp) -> Notifier:
        if self.notifier is None:
            self.notifier = Notifier(self.service(), application.bot, interval=self.interval)
        return self.notifier


def notifier_of(application: BotApp) -> Notifier:
    lazy: _LazyNotifier = application.bot_data[NOTIFIER]
    return lazy.get(application)


async def start_bot(application: BotApp, *, polling: bool) -> None:
    """Initialise and start the Application (and polling, if asked) and the notifier."""
    await application.initialize()
    await application.start()
    if polling:
        assert application.updater is not None
        await application.updater.start_polling(
            allowed_updates=["message", "callback_query"], drop_pending_updates=False
        )
    notifier_of(application).start()


async def stop_bot(application: BotApp) -> None:
    await notifier_of(application).stop()
    if application.updater is not None and application.updater.running:
        await application.updater.stop()
    if application.running:
        await application.stop()
    await application.shutdown()


async def on_error(update: object, context: Context) -> None:
    """Log, and tell the citizen something went wrong; never raise from here."""
    log.error("bot error while handling an update", exc_info=context.error)
    if not isinstance(update, Update):
        return
    chat = update.effective_chat
    if chat is None or chat.type != "private":
        return
    try:
        if update.callback_query:
            await update.callback_query.answer(texts.ERROR)
        await context.bot.send_message(chat.id, texts.ERROR)
    except Exception:
        log.warning("could not tell chat about the error", exc_info=True)
