"""Model versions on disk and their history: what `feedback model list / promote / rollback`
show and steer, and what every retraining appends to.

Layout of the models root (``data_dir/models``)::

    versions/<name>/{department,issue_type}/   bundles that were promoted once (in use or not)
    refused/<name>/{department,issue_type}/    candidates the gate refused, with verdict.json
    CURRENT                                    the version in use (none: the shipped model)
    history.jsonl                              one JSON object per event, oldest first

The service re-reads CURRENT every few seconds (feedback.model_provider), so a promotion or a
rollback takes effect without a restart.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from classifiers.bundle import SHIPPED_DIR
from classifiers.retrain import CURRENT, VERSIONS, current_model_dir, promote
from classifiers.storage import ModelError, read_manifest
from feedback.errors import ValidationError

__all__ = [
    "HISTORY",
    "REFUSED",
    "SHIPPED",
    "VersionInfo",
    "append_history",
    "current_name",
    "history",
    "list_versions",
    "promote_version",
    "rollback",
    "set_current",
    "trained_label_ids",
]

HISTORY = "history.jsonl"
REFUSED = "refused"
SHIPPED = "shipped"  # the name of the day-one model in the history and in listings


@dataclass
class VersionInfo:
    name: str
    state: str  # "in use", "promoted before", "refused", "shipped"
    created: str
    scores: dict[str, Any]  # per target: the gate's figures, when it judged this version
    reason: str


def _root(models_root: str | Path) -> Path:
    return Path(models_root)


def current_name(models_root: str | Path) -> str:
    directory = current_model_dir(models_root)
    return directory.name if directory is not None else SHIPPED


def version_dir(models_root: str | Path, name: str) -> Path:
    if name == SHIPPED:
        return SHIPPED_DIR
    root = _root(models_root)
    for folder in (VERSIONS, REFUSED):
        path = root / folder / name
        if name and "/" not in name and name not in (".", "..") and path.is_dir():
            return path
    raise ValidationError(f"没有这个模型版本：{name}", field="version")


def trained_label_ids(bundle: Path, target: str) -> set[int]:
    """The label ids a bundle's ``target`` model was trained on (none for the shipped one)."""
    try:
        manifest = read_manifest(bundle / target)
    except ModelError:
        return set()
    metrics = manifest.get("metrics") or {}
    trained = metrics.get("trained_on") if isinstance(metrics, dict) else None
    ids = trained.get("label_ids", []) if isinstance(trained, dict) else []
    return {int(i) for i in ids}


def append_history(models_root: str | Path, entry: dict[str, Any]) -> None:
    """One line per event; written whole with O_APPEND so concurrent writers never interleave."""
    root = _root(models_root)
    root.mkdir(parents=True, exist_ok=True)
    entry = {"at": datetime.now(UTC).isoformat(timespec="seconds"), **entry}
    line = (json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
    fd = os.open(root / HISTORY, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def history(models_root: str | Path) -> list[dict[str, Any]]:
    path = _root(models_root) / HISTORY
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue  # a line cut by a crash is skipped, the rest still reads
    return out


def set_current(models_root: str | Path, name: str) -> None:
    """Make ``name`` (a promoted version, or ``shipped``) the model in use."""
    root = _root(models_root)
    if name == SHIPPED:
        (root / CURRENT).unlink(missing_ok=True)
        return
    promote(root / VERSIONS / name, root)


def promote_version(models_root: str | Path, name: str, who: str) -> str:
    """Put ``name`` in use by hand: a refused candidate is moved among the versions first."""
    root = _root(models_root)
    previous = current_name(root)
    source = version_dir(root, name)
    if source.parent.name == REFUSED:
        target = root / VERSIONS / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(source), str(target))
    set_current(root, name)
    append_history(root, {"event": "promote", "version": name, "previous": previous,
                          "by": who, "reason": f"手动启用 {name}（此前使用 {previous}）"})  # fmt: skip
    return name


def rollback(models_root: str | Path, who: str) -> str:
    """Go back to the version that was in use before the current one; returns its name."""
    root = _root(models_root)
    now = current_name(root)
    if now == SHIPPED:
        raise ValidationError("当前使用的已是初始模型（shipped），无法再回退。", field="version")
    previous = SHIPPED
    for entry in reversed(history(root)):
        if entry.get("version") == now and entry.get("event") in ("promote", "retrain"):
            previous = str(entry.get("previous") or SHIPPED)
            break
    if previous != SHIPPED and not (root / VERSIONS / previous).is_dir():
        previous = SHIPPED
    set_current(root, previous)
    append_history(root, {"event": "rollback", "version": previous, "previous": now, "by": who,
                          "reason": f"回退：停用 {now}，恢复 {previous}"})  # fmt: skip
    return previous


def list_versions(models_root: str | Path) -> list[VersionInfo]:
    """Every version, newest first, with the gate's figures and reason when it judged it."""
    root = _root(models_root)
    judged: dict[str, dict[str, Any]] = {}
    for entry in history(root):
        if entry.get("event") == "retrain" and entry.get("candidate"):
            judged[str(entry["candidate"])] = entry
    in_use = current_name(root)
    found: list[VersionInfo] = []
    for folder, state in ((VERSIONS, "promoted before"), (REFUSED, "refused")):
        base = root / folder
        if not base.is_dir():
            continue
        for path in base.iterdir():
            if not path.is_dir() or path.name.startswith("."):
                continue
            entry = judged.get(path.name, {})
            found.append(
                VersionInfo(
                    name=path.name,
                    state="in use" if path.name == in_use else state,
                    created=str(entry.get("at", "")),
                    scores={
                        v["target"]: v for v in entry.get("verdicts", []) if isinstance(v, dict)
                    },
                    reason=" ".join(str(v.get("reason", "")) for v in entry.get("verdicts", [])),
                )
            )
    found.sort(key=lambda v: v.name, reverse=True)
    found.append(
        VersionInfo(
            SHIPPED,
            "in use" if in_use == SHIPPED else "shipped",
            "",
            {},
            "初始模型：只用项目自己编写的语料训练",
        )  # fmt: skip
    )
    return found
