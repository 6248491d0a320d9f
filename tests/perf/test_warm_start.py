"""The served app loads and warms the classifier (jieba's dictionary too) before it answers,
so the first citizen after a start does not wait for them (1-3 s)."""

from __future__ import annotations

from pathlib import Path

from aiohttp.test_utils import TestServer

from classifiers import segment
from feedback.model_provider import ModelProvider
from feedback.settings import Settings
from tests.conftest import Clock
from web.app import create_app


async def test_the_model_and_dictionary_are_ready_when_the_server_is(
    tmp_path: Path, clock: Clock
) -> None:
    settings = Settings(db=str(tmp_path / "web.db"), data_dir=str(tmp_path / "data"),
                        secret_key="test-secret-key-that-is-long-enough-000", tick_seconds=0)  # fmt: skip
    provider = ModelProvider(settings.models_dir)
    app = create_app(settings, clock=clock, classify=provider.classify)
    assert provider.source is None  # nothing loaded by building the app
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        assert provider.source is not None  # the shipped model, loaded at start-up
        assert segment._tokenizer is not None  # jieba's dictionary, built
        assert segment.word_tags.cache_info().currsize == 1  # and the reasons' word tags
    finally:
        await server.close()
