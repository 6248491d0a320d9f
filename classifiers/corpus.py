"""The project's bootstrap corpus: whole messages written by the project, as JSONL data files.

``classifiers/data/corpus/*.jsonl``, one message a line with the fields ``id``, ``title``,
``text``, ``authority`` (the citizen's 涉及单位 field, often empty), ``department`` (a bureau
code), ``issue_types`` (a list, empty = none), ``voice`` and ``author``. The shipped model is
trained on these files only; the shared real data is for measuring.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path

from classifiers.model import DEPARTMENT, ISSUE_TYPE
from classifiers.segment import DATA_DIR
from classifiers.training import Example

__all__ = [
    "CORPUS_DIR",
    "FIELDS",
    "LEGACY",
    "UNSHIPPED_DIR",
    "corpus_examples",
    "corpus_files",
    "read_corpus",
    "shipped_files",
    "to_examples",
]

CORPUS_DIR = DATA_DIR / "corpus"
#: project-written messages measured and not (yet) shipped: the shipped bundle is built from
#: CORPUS_DIR alone; docs/classifier.md says what each measured and why it waits
UNSHIPPED_DIR = DATA_DIR / "corpus_unshipped"
#: where the old stitched corpus was (removed: it no longer paid on the real data); a CSV of
#: that shape can still be given to ``bench/classify.py --train --corpus`` for comparison
LEGACY = DATA_DIR / "bootstrap.csv"
FIELDS = ("id", "title", "text", "authority", "department", "issue_types", "voice", "author")


def corpus_files(directory: Path = CORPUS_DIR) -> list[Path]:
    """The corpus files in a fixed order (so training is deterministic)."""
    return sorted(directory.glob("*.jsonl"))


def shipped_files() -> list[Path]:
    """What the shipped bundle is built from: the corpus, and the legacy file while it exists."""
    return corpus_files() + ([LEGACY] if LEGACY.is_file() else [])


def _read_jsonl(path: Path) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as exc:
                raise ValueError(f"{path}:{n}: not a JSON object ({exc})") from exc
            if not isinstance(row, dict) or not str(row.get("text") or "").strip():
                raise ValueError(f"{path}:{n}: a message needs a non-empty 'text'")
            types = row.get("issue_types") or []
            if isinstance(types, str):
                types = [t for t in types.split("|") if t and t != "none"]
            row["issue_types"] = [str(t) for t in types]
            row.setdefault("author", path.stem)
            rows.append(row)
    return rows


def _read_csv(path: Path) -> list[dict[str, object]]:
    """The old stitched ``bootstrap.csv`` (columns title, text, department, issue_types)."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return [
            {
                "id": f"{path.stem}-{i}",
                "title": r.get("title") or "",
                "text": r.get("text") or "",
                "authority": "",
                "department": r.get("department") or "",
                "issue_types": [t for t in (r.get("issue_types") or "").split("|") if t],
                "voice": "",
                "author": path.stem,
                "legacy": True,
            }
            for i, r in enumerate(csv.DictReader(fh))
        ]


def read_corpus(paths: Sequence[Path] | None = None) -> list[dict[str, object]]:
    """Every message of the given files (default: the whole corpus directory)."""
    files = list(paths) if paths else shipped_files()
    if not files:
        raise ValueError(f"no corpus files in {CORPUS_DIR}")
    rows: list[dict[str, object]] = []
    for path in files:
        rows.extend(_read_csv(path) if path.suffix == ".csv" else _read_jsonl(path))
    return rows


def to_examples(rows: Sequence[dict[str, object]], target: str) -> list[Example]:
    """Examples of one target; ``group`` is the author, so held-out folds can leave a whole
    author's style out (closer to meeting real text than a random split)."""
    out: list[Example] = []
    for r in rows:
        if r.get("legacy") and target == ISSUE_TYPE:
            # the stitched corpus's issue-type labels are not §1's (it scored below the new
            # corpus alone on the real dev set: 0.32 vs 0.38 macro-F1 with 556 new messages)
            continue
        if target == DEPARTMENT:
            labels: tuple[str, ...] = (str(r["department"]),) if r.get("department") else ()
        elif target == ISSUE_TYPE:
            labels = tuple(dict.fromkeys(str(t) for t in r["issue_types"]))  # type: ignore[attr-defined]
        else:
            raise ValueError(f"unknown target {target!r}")
        out.append(
            Example(
                str(r.get("title") or "").strip(),
                str(r.get("text") or "").strip(),
                labels,
                authority=str(r.get("authority") or "").strip(),
                group=str(r.get("author") or ""),
                calibrate=not r.get("legacy"),
            )
        )
    return out


def corpus_examples(target: str, paths: Sequence[Path] | None = None) -> list[Example]:
    """The shipped corpus as training examples of ``target``."""
    return to_examples(read_corpus(paths), target)
