"""Retraining with supervisors' corrections, and promoting a model directory to current.

Layout of a models root::

    models_root/
        versions/<name>/...     one model directory (or bundle) per version
        CURRENT                 the name of the current version (replaced atomically)
"""

from __future__ import annotations

import os
import random
import re
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from classifiers.evaluation import evaluate
from classifiers.model import DEPARTMENT, TARGETS, LinearModel
from classifiers.storage import MANIFEST, ModelError, load_model, save_model
from classifiers.training import Example, Progress, TrainConfig, examples_sha256, train

__all__ = ["RetrainResult", "current_model_dir", "promote", "retrain"]

CURRENT = "CURRENT"
VERSIONS = "versions"


@dataclass
class RetrainResult:
    """Outcome of :func:`retrain`: scores of both models on the same held-back corrections."""

    target: str
    promote: bool
    metric: str
    old_score: float | None
    new_score: float
    n_train: int
    n_holdout: int
    candidate_dir: Path
    old_report: dict[str, object] = field(default_factory=dict)
    new_report: dict[str, object] = field(default_factory=dict)


def _target_dir(directory: Path, target: str) -> Path:
    if (directory / MANIFEST).is_file():
        return directory
    if (directory / target / MANIFEST).is_file():
        return directory / target
    raise ModelError(f"{directory}: no {target} model in it")


def retrain(
    base_examples: Sequence[Example],
    corrections: Sequence[Example],
    current_model_dir: str | Path | None,
    out_dir: str | Path,
    target: str,
    holdout_fraction: float = 0.3,
    seed: int = 0,
    correction_weight: float = 3.0,
    config: TrainConfig | None = None,
    progress: Progress | None = None,
    authority_match: Callable[[str], str | None] | None = None,
) -> RetrainResult:
    """Train a candidate on base + corrections and compare it with the current model.

    A seeded ``holdout_fraction`` of the corrections (at least one when there are two or more)
    is held back; the candidate is trained on ``base_examples`` plus the other corrections
    (weighted ``correction_weight``) and saved to ``out_dir``. Old and new models are scored on
    the held-back corrections (department: accuracy; issue type: micro-F1). ``promote`` is true
    when the new score is not lower than the old one (or there is no old model).
    """
    if target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS}")
    rng = random.Random(seed)
    order = list(range(len(corrections)))
    rng.shuffle(order)
    n_hold = int(round(len(corrections) * holdout_fraction))
    n_hold = min(max(n_hold, 1), len(corrections) - 1) if len(corrections) >= 2 else 0
    hold = [corrections[i] for i in sorted(order[:n_hold])]
    rest = [corrections[i] for i in sorted(order[n_hold:])]
    training = list(base_examples) + [
        Example(ex.title, ex.text, ex.labels, ex.weight * correction_weight) for ex in rest
    ]
    new_model = train(
        training, target, progress=progress, config=config, authority_match=authority_match
    )
    metric = "accuracy" if target == DEPARTMENT else "micro_f1"

    def score(model: LinearModel) -> tuple[float, dict[str, object]]:
        if not hold:
            return 0.0, {}
        report = evaluate(model, hold)
        return float(report[metric]), report  # type: ignore[arg-type]

    new_score, new_report = score(new_model)
    old_score: float | None = None
    old_report: dict[str, object] = {}
    if current_model_dir is not None:
        old_model = load_model(_target_dir(Path(current_model_dir), target), target)
        old_score, old_report = score(old_model)
    out = Path(out_dir)
    save_model(
        new_model,
        out,
        metrics={
            "holdout_" + metric: new_score,
            "holdout_size": len(hold),
            "corrections_sha256": examples_sha256(corrections),
        },
    )
    return RetrainResult(
        target=target,
        promote=old_score is None or new_score >= old_score,
        metric=metric,
        old_score=old_score,
        new_score=new_score,
        n_train=len(training),
        n_holdout=len(hold),
        candidate_dir=out,
        old_report=old_report,
        new_report=new_report,
    )


def current_model_dir(models_root: str | Path) -> Path | None:
    """The directory of the current version, or None when nothing was promoted yet."""
    root = Path(models_root)
    pointer = root / CURRENT
    if not pointer.is_file():
        return None
    name = pointer.read_text(encoding="utf-8").strip()
    path = root / VERSIONS / name
    if not name or "/" in name or not path.is_dir():
        raise ModelError(f"{pointer}: points at missing version {name!r}")
    return path


def promote(candidate_dir: str | Path, models_root: str | Path) -> Path:
    """Make ``candidate_dir`` the current model of ``models_root``; returns its version dir.

    The candidate is copied into ``versions/<timestamp>-<name>`` (unless it already lives
    there), then ``CURRENT`` is rewritten through ``os.replace``, so readers see either the old
    or the new version, never a half-written one.
    """
    root = Path(models_root)
    versions = root / VERSIONS
    versions.mkdir(parents=True, exist_ok=True)
    candidate = Path(candidate_dir).resolve()
    if not candidate.is_dir():
        raise ModelError(f"{candidate}: no such model directory")
    if candidate.parent == versions.resolve():
        target = candidate
    else:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", candidate.name).strip("-") or "model"
        target = versions / f"{stamp}-{safe}"
        tmp = Path(tempfile.mkdtemp(dir=versions, prefix=".incoming-"))
        shutil.copytree(candidate, tmp, dirs_exist_ok=True)
        os.replace(tmp, target)
    fd, tmp_pointer = tempfile.mkstemp(dir=root, prefix=".CURRENT.")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(target.name + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(tmp_pointer, 0o644)
    os.replace(tmp_pointer, root / CURRENT)
    return target
