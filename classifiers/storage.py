"""Saving and loading model directories without pickle.

A model directory holds ``manifest.json`` and plain weight files: JSON term lists and ``.npy``
arrays (read with ``allow_pickle=False``). The manifest records the format version, target,
label set, scikit-learn version, metrics, the sha256 of the training data and of every weight
file; anything that does not match is refused with :class:`ModelError`.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from classifiers.features import FeatureConfig, FeatureSpace
from classifiers.model import TARGETS, LinearModel

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "MANIFEST",
    "ModelError",
    "data_sha256",
    "load_model",
    "read_manifest",
    "save_model",
]

FORMAT = "feedback-linear-text-model"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
_ARRAYS = ("word_idf", "char_idf", "coef", "intercept", "calib_scale", "calib_bias")
_LISTS = ("word_terms", "char_terms")


class ModelError(Exception):
    """A model directory that cannot be used: missing, tampered, or incompatible."""


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def data_sha256(paths: Sequence[str | Path]) -> str:
    """sha256 of the training files: the file's own sha256 for one file, else a hash of the
    per-file hashes in the given order."""
    digests = [_sha256(Path(p)) for p in paths]
    if len(digests) == 1:
        return digests[0]
    return hashlib.sha256("\n".join(digests).encode()).hexdigest()


def save_model(
    model: LinearModel,
    directory: str | Path,
    metrics: dict[str, object] | None = None,
    training_sha256: str | None = None,
) -> Path:
    """Write ``model`` to ``directory`` (created; existing model files are replaced).

    ``training_sha256`` (e.g. :func:`data_sha256` of the CSV files) replaces the hash of the
    examples recorded at training time.
    """
    import sklearn

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, str] = {}
    arrays = {
        "word_idf": model.space.word_idf.astype(np.float32),
        "char_idf": model.space.char_idf.astype(np.float32),
        "coef": model.coef.astype(np.float16),  # half precision keeps bundles small
        "intercept": model.intercept.astype(np.float64),
        "calib_scale": model.calib_scale.astype(np.float64),
        "calib_bias": model.calib_bias.astype(np.float64),
    }
    for name, arr in arrays.items():
        path = out / f"{name}.npy"
        np.save(path, np.ascontiguousarray(arr), allow_pickle=False)
        files[path.name] = _sha256(path)
    for name, terms in (
        ("word_terms", model.space.word_terms),
        ("char_terms", model.space.char_terms),
    ):
        path = out / f"{name}.json"
        path.write_text(
            json.dumps(terms, ensure_ascii=False, separators=(",", "\n")), encoding="utf-8"
        )
        files[path.name] = _sha256(path)
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "target": model.target,
        "labels": list(model.labels),
        "multilabel": model.multilabel,
        "features": model.space.config.to_json(),
        "sklearn_version": str(sklearn.__version__),
        "numpy_version": str(np.__version__),
        "metrics": {**model.metrics, **(metrics or {})},
        "training_data_sha256": training_sha256 or model.training_sha256,
        "decision": model.rule,
        "files": files,
    }
    fd, tmp = tempfile.mkstemp(dir=out, prefix=".manifest.")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(manifest, fh, ensure_ascii=False, indent=2, sort_keys=True)
        fh.write("\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, out / MANIFEST)
    return out


def read_manifest(directory: str | Path) -> dict[str, object]:
    """The parsed manifest of a model directory (format checked, files not yet verified)."""
    path = Path(directory) / MANIFEST
    if not path.is_file():
        raise ModelError(f"{directory}: no {MANIFEST}; not a model directory")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"{path}: unreadable manifest ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ModelError(f"{path}: not a {FORMAT} manifest")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ModelError(
            f"{path}: format version {manifest.get('format_version')!r} is not "
            f"supported (this code reads version {FORMAT_VERSION})"
        )
    if manifest.get("target") not in TARGETS:
        raise ModelError(f"{path}: unknown target {manifest.get('target')!r}")
    return manifest


def load_model(
    directory: str | Path, target: str | None = None, labels: Sequence[str] | None = None
) -> LinearModel:
    """Load and verify a model directory.

    ``target`` and ``labels``, when given, must match the manifest. Every weight file must
    have the recorded sha256; arrays are read with ``allow_pickle=False``.
    """
    root = Path(directory)
    manifest = read_manifest(root)
    if target is not None and manifest["target"] != target:
        raise ModelError(f"{root}: model is for target {manifest['target']!r}, not {target!r}")
    model_labels = manifest.get("labels")
    if not isinstance(model_labels, list) or not all(isinstance(x, str) for x in model_labels):
        raise ModelError(f"{root}: manifest has no label list")
    if labels is not None and sorted(labels) != sorted(model_labels):
        raise ModelError(
            f"{root}: model labels {model_labels} differ from the expected {sorted(labels)}"
        )
    files = manifest.get("files")
    expected = {f"{n}.npy" for n in _ARRAYS} | {f"{n}.json" for n in _LISTS}
    if not isinstance(files, dict) or set(files) != expected:
        listed = sorted(files) if isinstance(files, dict) else []
        raise ModelError(f"{root}: manifest lists files {listed}, expected {sorted(expected)}")
    for name, digest in files.items():
        path = root / name
        if not path.is_file():
            raise ModelError(f"{root}: weight file {name} is missing")
        if _sha256(path) != digest:
            raise ModelError(
                f"{root}: weight file {name} does not match its sha256 in the "
                "manifest (modified or corrupted); refusing to load"
            )
    try:
        arrays = {n: np.load(root / f"{n}.npy", allow_pickle=False) for n in _ARRAYS}
        lists = {n: json.loads((root / f"{n}.json").read_text(encoding="utf-8")) for n in _LISTS}
        config = FeatureConfig.from_json(manifest["features"])  # type: ignore[arg-type]
    except (ValueError, KeyError, AssertionError, TypeError) as exc:
        raise ModelError(f"{root}: unreadable model ({exc})") from exc
    n_labels = len(model_labels)
    n_words, n_chars = len(lists["word_terms"]), len(lists["char_terms"])
    shapes_ok = (
        arrays["coef"].shape == (n_words + n_chars, n_labels)
        and arrays["word_idf"].shape == (n_words,)
        and arrays["char_idf"].shape == (n_chars,)
        and all(arrays[n].shape == (n_labels,) for n in ("intercept", "calib_scale", "calib_bias"))
    )
    if not shapes_ok:
        raise ModelError(
            f"{root}: weight shapes do not fit {n_labels} labels and {n_words}+{n_chars} terms"
        )
    space = FeatureSpace(
        config,
        lists["word_terms"],
        arrays["word_idf"].astype(np.float64),
        lists["char_terms"],
        arrays["char_idf"].astype(np.float64),
    )
    for arr in arrays.values():
        arr.setflags(write=False)
    metrics = manifest.get("metrics")
    return LinearModel(
        target=str(manifest["target"]),
        labels=list(model_labels),
        multilabel=bool(manifest.get("multilabel")),
        space=space,
        coef=arrays["coef"].astype(np.float32),
        intercept=arrays["intercept"],
        calib_scale=arrays["calib_scale"],
        calib_bias=arrays["calib_bias"],
        metrics=dict(metrics) if isinstance(metrics, dict) else {},
        training_sha256=str(manifest.get("training_data_sha256", "")),
        rule=dict(rule) if isinstance(rule := manifest.get("decision"), dict) else {},
    )
