"""The aiohttp application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime

from aiohttp import web

from feedback import jobs, senders
from feedback.config import Config, load_config
from feedback.service import Classify, opened, utcnow
from feedback.settings import InputLimits, Settings
from web import (
    api,
    auth,
    checkpoints,
    citizen,
    csrf,
    dashboard,
    desk,
    insight,
    notice_admin,
    notices,
    open311,
    openapi,
    public,
    receipts,
    render,
    sessions,
    staff,
)
from web.errors import error_middleware
from web.keys import config_key, service_key, settings_key

log = logging.getLogger(__name__)


def create_app(
    settings: Settings,
    *,
    config: Config | None = None,
    classify: Classify | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> web.Application:
    """Build the app. The service (and its store) opens and closes with it (cleanup_ctx);
    nothing global."""
    if settings.max_body_mb <= settings.max_attachments * settings.max_attachment_mb:
        log.warning(
            "max_body_mb (%s) leaves no room for %s attachments of %s MB: the report form's "
            "promise cannot be kept",
            settings.max_body_mb,
            settings.max_attachments,
            settings.max_attachment_mb,
        )
    app = web.Application(
        middlewares=[error_middleware],
        client_max_size=settings.max_body_mb * 1024 * 1024,
    )
    app[settings_key] = settings
    app[config_key] = config or load_config(settings.config)

    async def service_ctx(app: web.Application) -> AsyncIterator[None]:
        async with opened(
            settings.db, app[config_key], classify=classify, clock=clock,
            input_limits=InputLimits.of(settings), code_key=settings.follow_up_code_key(),
            escalate_repeat_minutes=settings.escalate_repeat_minutes,
        ) as service:  # fmt: skip
            await service.warm_up()  # the first submission after start is as fast as any
            app[service_key] = service
            yield

    async def jobs_ctx(app: web.Application) -> AsyncIterator[None]:
        # The work-order clock (催办/督办, rating windows) runs beside the app.
        learn = jobs.Learning(settings.models_dir, settings.retrain_labels)
        async with jobs.background(
            app[service_key], settings.tick_seconds, settings.checkpoint_key, learn
        ):
            yield

    async def notices_ctx(app: web.Application) -> AsyncIterator[None]:
        # E-mail and SMS notices are sent beside the app (each worker claims its own rows).
        async with senders.running(app[service_key], settings):
            yield

    app.cleanup_ctx.append(service_ctx)
    app.cleanup_ctx.append(jobs_ctx)
    app.cleanup_ctx.append(notices_ctx)
    app.add_routes(api.routes)
    app.add_routes(openapi.routes)
    open311.setup(app)
    # The HTML side: templates and error pages, cookie sessions, CSRF, then the pages.
    render.setup(app)
    sessions.setup(app, settings)
    csrf.setup(app)
    receipts.setup(app)
    citizen.setup(app)
    app.add_routes(notices.routes)
    notice_admin.setup(app)
    app.add_routes(auth.routes)
    app.add_routes(staff.routes)
    desk.setup(app)
    csrf.on_refused(app, staff.ANSWER_PATH, staff.answer_kept)
    dashboard.setup(app)
    insight.setup(app)
    public.setup(app)
    checkpoints.setup(app)
    return app
