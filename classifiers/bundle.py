"""Loading a classifier from a model directory, and the shipped day-one bundle."""

from __future__ import annotations

from pathlib import Path

from classifiers.model import DEPARTMENT, ISSUE_TYPE, ReportClassifier
from classifiers.storage import MANIFEST, ModelError, load_model, read_manifest

__all__ = ["SHIPPED_DIR", "load_classifier", "load_shipped"]

SHIPPED_DIR = Path(__file__).resolve().parent / "shipped"


def load_classifier(directory: str | Path, issue_type_threshold: float = 0.5) -> ReportClassifier:
    """A classifier from a bundle (``department/`` and/or ``issue_type/`` inside) or from a
    single-target model directory."""
    root = Path(directory)
    if (root / MANIFEST).is_file():
        target = read_manifest(root)["target"]
        model = load_model(root)
        if target == DEPARTMENT:
            return ReportClassifier(department=model, issue_type_threshold=issue_type_threshold)
        return ReportClassifier(issue_type=model, issue_type_threshold=issue_type_threshold)
    dep_dir, issue_dir = root / DEPARTMENT, root / ISSUE_TYPE
    if not (dep_dir / MANIFEST).is_file() and not (issue_dir / MANIFEST).is_file():
        raise ModelError(
            f"{root}: neither a model directory nor a bundle "
            f"({DEPARTMENT}/ or {ISSUE_TYPE}/ with {MANIFEST})"
        )
    return ReportClassifier(
        department=load_model(dep_dir, DEPARTMENT) if (dep_dir / MANIFEST).is_file() else None,
        issue_type=(
            load_model(issue_dir, ISSUE_TYPE) if (issue_dir / MANIFEST).is_file() else None
        ),
        issue_type_threshold=issue_type_threshold,
    )


def load_shipped(issue_type_threshold: float = 0.5) -> ReportClassifier:
    """The day-one classifier trained only on the project's corpus (``classifiers/data/corpus/``)."""
    return load_classifier(SHIPPED_DIR, issue_type_threshold)
