"""A submission's prediction runs in the event loop once the model is loaded (no hop to a
thread: issue 14), and whatever would load a model or read its pointer runs in a thread, so a
promotion never stalls intake while the new model loads (1-3 s)."""

from __future__ import annotations

import threading
from pathlib import Path

from classifiers.model import Prediction
from feedback.config import load_config
from feedback.model_provider import ModelProvider
from feedback.service import FeedbackService
from feedback.store import Store

TEXT = "今天上午在街口摆摊，城管执法人员没有出示证件就要没收我的三轮车，也没有开任何单据。"


class WatchedProvider(ModelProvider):
    """The real provider, noting which thread each load and each prediction ran in."""

    def __init__(self, root: Path, check_every: float):
        super().__init__(root, check_every=check_every)
        self.loads: list[int] = []
        self.predictions: list[int] = []

    def _load(self, pointer: str | None):  # type: ignore[no-untyped-def]
        self.loads.append(threading.get_ident())
        return super()._load(pointer)

    def classify(self, title: str, text: str, authority_bureau: str | None = None) -> Prediction:
        self.predictions.append(threading.get_ident())
        return super().classify(title, text, authority_bureau)

    def predict_now(
        self, title: str, text: str, authority_bureau: str | None = None
    ) -> Prediction | None:
        found = super().predict_now(title, text, authority_bureau)
        if found is not None:
            self.predictions.append(threading.get_ident())
        return found


async def test_the_model_loads_in_a_thread_and_then_predicts_in_the_loop(
    store: Store, tmp_path: Path
) -> None:
    loop_thread = threading.get_ident()
    provider = WatchedProvider(tmp_path / "models", check_every=3600)
    service = FeedbackService(store, load_config(), classify=provider)
    assert provider.predict_now("标题", TEXT) is None  # nothing loaded yet: not in the loop
    await service.warm_up()  # as `feedback serve` does before it answers
    assert provider.loads and loop_thread not in provider.loads
    first = await service.submit({"title": "执法人员未出示证件", "text": TEXT})
    second = await service.submit({"title": "执法人员未出示证件", "text": TEXT})
    assert provider.predictions[-2:] == [loop_thread, loop_thread]
    assert first.report.routing["top"] and second.report.routing["top"]
    assert len(provider.loads) == 1


async def test_a_pointer_check_that_is_due_goes_to_a_thread(store: Store, tmp_path: Path) -> None:
    loop_thread = threading.get_ident()
    provider = WatchedProvider(tmp_path / "models", check_every=0)  # every call re-reads it
    service = FeedbackService(store, load_config(), classify=provider)
    await service.warm_up()
    assert provider.predict_now("标题", TEXT) is None
    await service.submit({"title": "执法人员未出示证件", "text": TEXT})
    assert loop_thread not in provider.predictions
