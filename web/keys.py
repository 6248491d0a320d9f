"""Typed application keys: everything the handlers share lives on the app under these."""

from __future__ import annotations

from aiohttp import web

from feedback.config import Config
from feedback.service import FeedbackService
from feedback.settings import Settings
from feedback.store import Store

settings_key = web.AppKey("settings", Settings)
config_key = web.AppKey("config", Config)
store_key = web.AppKey("store", Store)
service_key = web.AppKey("service", FeedbackService)
