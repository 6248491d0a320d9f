"""The shipped model, loaded once for the learning stories (jieba and the weights take a second)."""

from __future__ import annotations

import pytest

from feedback.config import Config
from feedback.model_provider import ModelProvider
from feedback.service import FeedbackService
from feedback.store import Store
from tests.conftest import Clock


@pytest.fixture(scope="module")
def shipped_provider(tmp_path_factory: pytest.TempPathFactory) -> ModelProvider:
    p = ModelProvider(tmp_path_factory.mktemp("models"), check_every=0)
    p.current()
    return p


@pytest.fixture
async def routed(
    store: Store, config: Config, clock: Clock, shipped_provider: ModelProvider
) -> FeedbackService:
    """The service with the shipped classifier, on both stores."""
    return FeedbackService(store, config, clock=clock, classify=shipped_provider.classify)
