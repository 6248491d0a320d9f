"""The e-mail and SMS senders that run beside the web app (and one round in `feedback notify send`): one
dispatcher per configured channel, woken by every change this process announces. Every worker
may run them: rows are claimed, so each notice goes out once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from feedback.dispatch import Dispatcher
from feedback.mailer import MailSettings, SmtpSender
from feedback.settings import Settings
from feedback.sms import SmsSender, SmsSettings

if TYPE_CHECKING:
    from feedback.service import FeedbackService

INTERVAL = 5.0  # seconds between looks for due notices (retries, other processes' changes)


def settings_problem(settings: Settings) -> str | None:
    """What is wrong with the e-mail and SMS settings, said before anything starts (an
    unknown sms_api, sms_params that is no JSON, an unknown template name, …); None if
    nothing."""
    try:
        MailSettings.of(settings)
        SmsSettings.of(settings, "UTC")
    except ValueError as exc:
        return str(exc)
    return None


def dispatchers(service: FeedbackService, settings: Settings) -> list[Dispatcher]:
    found = []
    mail = MailSettings.of(settings)
    if mail is not None:
        found.append(Dispatcher(service.notices, SmtpSender(service, mail), interval=INTERVAL))
    text = SmsSettings.of(settings, service.config.timezone)
    if text is not None:
        found.append(Dispatcher(service.notices, SmsSender(service, text), interval=INTERVAL))
    return found


@asynccontextmanager
async def running(service: FeedbackService, settings: Settings) -> AsyncIterator[list[Dispatcher]]:
    started = dispatchers(service, settings)
    for d in started:
        d.start(service.listeners)
    try:
        yield started
    finally:
        for d in started:
            await d.stop(service.listeners)
