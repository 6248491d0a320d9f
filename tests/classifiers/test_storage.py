from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from classifiers.bundle import SHIPPED_DIR, load_classifier
from classifiers.storage import ModelError, load_model, save_model
from classifiers.training import read_examples, train


@pytest.fixture()
def model_dir(tmp_path: Path, tiny_csv: Path) -> Path:
    model = train(read_examples(tiny_csv), "department")
    return save_model(model, tmp_path / "m")


def test_round_trip_predicts_the_same(model_dir: Path, tiny_csv: Path) -> None:
    original = train(read_examples(tiny_csv), "department")
    loaded = load_model(model_dir, "department")
    for ex in read_examples(tiny_csv)[:5]:
        a = original.probabilities(ex.title, ex.text)
        b = loaded.probabilities(ex.title, ex.text)
        assert a.keys() == b.keys()
        assert np.allclose(list(a.values()), list(b.values()), atol=1e-3)


def test_tampered_weight_file_is_refused(model_dir: Path) -> None:
    coef = model_dir / "coef.npy"
    data = bytearray(coef.read_bytes())
    data[-3] ^= 0x01
    coef.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="sha256"):
        load_model(model_dir)


def test_pickled_array_is_refused(model_dir: Path) -> None:
    # even with a matching hash, an object array is never unpickled
    np.save(model_dir / "intercept.npy", np.array([{"x": 1}], dtype=object), allow_pickle=True)
    manifest = json.loads((model_dir / "manifest.json").read_text())
    import hashlib

    manifest["files"]["intercept.npy"] = hashlib.sha256(
        (model_dir / "intercept.npy").read_bytes()
    ).hexdigest()
    (model_dir / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelError):
        load_model(model_dir)


def test_unknown_format_version_is_refused(model_dir: Path) -> None:
    manifest = json.loads((model_dir / "manifest.json").read_text())
    manifest["format_version"] = 99
    (model_dir / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="format version"):
        load_model(model_dir)


def test_incompatible_target_or_labels_are_refused(model_dir: Path) -> None:
    with pytest.raises(ModelError, match="target"):
        load_model(model_dir, "issue_type")
    with pytest.raises(ModelError, match="labels"):
        load_model(model_dir, "department", labels=["zhzf", "gaj"])
    assert load_model(model_dir, "department", labels=["zhzf", "sthj", "rsj", "jtj"])


def test_missing_file_and_not_a_model(model_dir: Path, tmp_path: Path) -> None:
    (model_dir / "word_terms.json").unlink()
    with pytest.raises(ModelError, match="missing"):
        load_model(model_dir)
    with pytest.raises(ModelError):
        load_classifier(tmp_path / "nowhere")


def test_tampered_shipped_copy_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "bundle"
    shutil.copytree(SHIPPED_DIR, copy)
    terms = copy / "department" / "word_terms.json"
    terms.write_text(terms.read_text("utf-8").replace("城管", "城官", 1), "utf-8")
    with pytest.raises(ModelError, match="sha256"):
        load_classifier(copy)
