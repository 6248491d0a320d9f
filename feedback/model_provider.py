"""The classifier the service uses: the promoted model if there is one, else the shipped one.

Loaded lazily in a worker thread on first use (never at import), and swapped without a restart
when `feedback retrain` promotes a new version (the models root's CURRENT pointer changes).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from classifiers.bundle import SHIPPED_DIR, load_classifier
from classifiers.model import Prediction, ReportClassifier
from classifiers.retrain import CURRENT, current_model_dir, promote
from classifiers.storage import ModelError

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

    def current(self) -> ReportClassifier:
        """The model to use now; re-reads the CURRENT pointer every few seconds."""
        now = time.monotonic()
        if self._model is not None and now - self._checked < self.check_every:
            return self._model
        with self._lock:
            self._checked = now
            pointer = self._pointer_text()
            if self._model is not None and pointer == self._pointer:
                return self._model
            self._model, self._source = self._load(pointer)
            self._pointer = pointer
            log.info("classifier loaded from %s", self._source)
            return self._model

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

    @property
    def source(self) -> Path | None:
        return self._source


@dataclass
class RetrainOutcome:
    target: str
    promoted: bool
    old_score: float | None
    new_score: float
    corrections: int
    holdout: int
    metric: str


def retrain_from_corrections(
    models_root: str | Path,
    corrections: dict[str, list[tuple[str, str, list[str]]]],
    *,
    progress: Any = None,
) -> list[RetrainOutcome]:
    """Rebuild both models from the bootstrap corpus plus staff corrections.

    Each target's candidate is scored against the current model on the same held-back
    corrections; the new bundle is promoted only if no target got worse.
    """
    from classifiers.build_shipped import SHIPPED_CONFIG, default_matcher
    from classifiers.corpus import corpus_examples
    from classifiers.retrain import retrain
    from classifiers.training import Example

    root = Path(models_root)
    root.mkdir(parents=True, exist_ok=True)
    current = current_model_dir(root) or SHIPPED_DIR
    work = Path(tempfile.mkdtemp(dir=root, prefix=".retrain-"))
    outcomes: list[RetrainOutcome] = []
    try:
        bundle = work / "bundle"
        for target in ("department", "issue_type"):
            examples = [Example(t, x, tuple(labels)) for t, x, labels in corrections[target]]
            if len(examples) < 2:
                # Too few to hold any back: keep the current model of this target.
                shutil.copytree(current / target, bundle / target)
                continue
            base = corpus_examples(target)
            # the shipped model's own choices (vocabulary size, C) and 涉及单位 weighing
            match = default_matcher().match if target == "department" else None
            result = retrain(
                base,
                examples,
                current,
                bundle / target,
                target,
                config=SHIPPED_CONFIG,
                progress=progress,
                authority_match=match,
            )
            outcomes.append(
                RetrainOutcome(
                    target,
                    result.promote,
                    result.old_score,
                    result.new_score,
                    len(examples),
                    result.n_holdout,
                    result.metric,
                )
            )
        if outcomes and all(o.promoted for o in outcomes):
            promote(bundle, root)
        elif not outcomes:
            return []
        else:
            for o in outcomes:
                o.promoted = False
        return outcomes
    finally:
        shutil.rmtree(work, ignore_errors=True)
