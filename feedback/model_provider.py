"""The classifier the service uses: the promoted model if there is one, else the shipped one.

Loaded lazily in a worker thread on first use (never at import), and swapped without a restart
when a retraining (feedback.learning), `feedback model promote` or `rollback` changes the
models root's CURRENT pointer (removed: the shipped model again). Once loaded, a prediction
runs in the caller's thread (the service's event loop) by `predict_now` while nothing is to load.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from classifiers.bundle import SHIPPED_DIR, load_classifier
from classifiers.model import Prediction, ReportClassifier
from classifiers.reasons import word_tag
from classifiers.retrain import CURRENT, current_model_dir
from classifiers.storage import ModelError
from feedback.memory import give_back_freed_memory

log = logging.getLogger(__name__)


class ModelProvider:
    def __init__(
        self, models_root: str | Path, *, issue_type_threshold: float = 0.5, check_every: float = 5
    ):
        self.models_root = Path(models_root)
        self.issue_type_threshold = issue_type_threshold
        self.check_every = check_every
        self._lock = threading.Lock()
        self._model: ReportClassifier | None = None
        self._source: Path | None = None
        self._pointer: str | None = None
        self._checked = 0.0

    def _pointer_text(self) -> str | None:
        try:
            return (self.models_root / CURRENT).read_text(encoding="utf-8").strip()
        except OSError:
            return None

    def _fresh(self) -> ReportClassifier | None:
        """The loaded model while its CURRENT pointer was checked within `check_every`."""
        model = self._model
        if model is not None and time.monotonic() - self._checked < self.check_every:
            return model
        return None

    def current(self) -> ReportClassifier:
        """The model to use now; re-reads the CURRENT pointer every few seconds."""
        fresh = self._fresh()
        if fresh is not None:
            return fresh
        with self._lock:
            self._checked = time.monotonic()
            pointer = self._pointer_text()
            if self._model is not None and pointer == self._pointer:
                return self._model
            model, source = self._load(pointer)
            # Cue phrases are trimmed by jieba's part-of-speech tags when predicting
            # (classifiers.cues → reasons.word_tag); that tagger builds a dictionary of its own
            # on first use (2-3 s): with the model, not during a citizen's submission.
            word_tag("预热")
            give_back_freed_memory()
            # Published only now, warmed: `predict_now` never meets a half-ready model.
            self._model, self._source, self._pointer = model, source, pointer
            log.info("classifier loaded from %s", source)
            return model

    def _load(self, pointer: str | None) -> tuple[ReportClassifier, Path]:
        if pointer:
            try:
                directory = current_model_dir(self.models_root)
                if directory is not None:
                    return load_classifier(directory, self.issue_type_threshold), directory
            except ModelError:
                # A broken promoted model must not stop intake: say so and use the shipped one.
                log.exception("promoted model refused; falling back to the shipped model")
        return load_classifier(SHIPPED_DIR, self.issue_type_threshold), SHIPPED_DIR

    def classify(self, title: str, text: str, authority_bureau: str | None = None) -> Prediction:
        return self.current().predict(title, text, authority_bureau=authority_bureau)

    def __call__(self, title: str, text: str, authority_bureau: str | None = None) -> Prediction:
        return self.classify(title, text, authority_bureau)

    def predict_now(
        self, title: str, text: str, authority_bureau: str | None = None
    ) -> Prediction | None:
        """The prediction if it loads nothing, reads no file and waits for no lock: the model
        is loaded and warm and the CURRENT pointer was checked within `check_every` (the service
        calls this in the event loop); else None, and the caller asks `classify` in a thread."""
        model = self._fresh()
        return (
            None if model is None else model.predict(title, text, authority_bureau=authority_bureau)
        )

    @property
    def source(self) -> Path | None:
        return self._source
