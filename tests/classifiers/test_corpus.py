"""The project's bootstrap corpus: well-formed messages, labels the district knows, its own text.

The corpus (classifiers/data/corpus/*.jsonl) is what the shipped model learns from, so every
message must carry a known bureau and known issue types, and none may be a near-copy of a real
message of the shared data (which is for measuring only).
"""

from __future__ import annotations

import csv
import re
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

from classifiers.corpus import FIELDS, UNSHIPPED_DIR, corpus_files, read_corpus
from feedback.config import load_config
from tests.shared_data import SHARED

MAX_JACCARD = 0.3


def all_files() -> list[Path]:
    """The shipped corpus and the messages measured but not shipped: both are the project's
    own text, held to the same rules."""
    return corpus_files() + corpus_files(UNSHIPPED_DIR)


_NOISE = re.compile(r"\s+")


def test_every_message_is_well_formed_and_labelled_with_the_districts_codes() -> None:
    config = load_config()
    files = corpus_files()
    assert files, "no corpus files under classifiers/data/corpus/"
    rows = read_corpus(all_files())
    ids = [r["id"] for r in rows]
    assert len(set(ids)) == len(ids), "message ids must be unique"
    for r in rows:
        assert set(FIELDS) <= set(r), r
        assert r["department"] in config.department_codes, r["id"]
        assert set(r["issue_types"]) <= set(config.issue_type_codes), r["id"]  # type: ignore[arg-type]
        assert str(r["text"]).strip(), r["id"]


def test_no_message_is_stitched_twice() -> None:
    texts = [_NOISE.sub("", str(r["text"])) for r in read_corpus(all_files())]
    assert len(set(texts)) == len(texts), "the same text appears twice in the corpus"


def _grams(text: str, n: int = 5) -> set[str]:
    text = _NOISE.sub("", text)
    return {text[i : i + n] for i in range(len(text) - n + 1)}


def _shared_messages() -> Iterator[tuple[str, str]]:
    """(where, text) of every message and reply in the shared CSV files."""
    csv.field_size_limit(sys.maxsize)
    for path in sorted(SHARED.rglob("*.csv")):
        with path.open(encoding="utf-8", newline="") as fh:
            for n, row in enumerate(csv.DictReader(fh), 2):
                for column in ("text", "text_seg", "reply"):
                    if row.get(column):
                        yield f"{path.name}:{n}:{column}", row[column]


@pytest.mark.skipif(not SHARED.is_dir(), reason="the shared real data (../shared/data) is absent")
def test_no_corpus_message_is_a_near_copy_of_a_real_message() -> None:
    """Character 5-gram Jaccard below 0.3 against every shared message (an inverted index of
    the corpus's 5-grams, so each real message is compared only with the messages it shares
    a 5-gram with)."""
    t0 = time.perf_counter()
    rows = read_corpus(all_files())
    own = [_grams(str(r["title"]) + str(r["text"])) for r in rows]
    index: dict[str, list[int]] = defaultdict(list)
    for i, grams in enumerate(own):
        for g in grams:
            index[g].append(i)
    worst: list[tuple[float, str, str]] = []
    n_shared = 0
    for where, text in _shared_messages():
        n_shared += 1
        grams = _grams(text)
        common: dict[int, int] = defaultdict(int)
        for g in grams:
            for i in index.get(g, ()):
                common[i] += 1
        for i, inter in common.items():
            jac = inter / (len(grams) + len(own[i]) - inter)
            if jac >= MAX_JACCARD:
                worst.append((jac, str(rows[i]["id"]), where))
    print(f"{len(rows)} corpus messages against {n_shared} shared texts in "
          f"{time.perf_counter() - t0:.1f} s")  # fmt: skip
    assert n_shared > 10000, "the shared data looks incomplete"
    assert not worst, sorted(worst, reverse=True)[:10]


def test_corpus_files_are_jsonl_data_not_code() -> None:
    root = Path(__file__).resolve().parents[2] / "classifiers"
    assert not (root / "corpus_build.py").exists()
    assert all(p.suffix == ".jsonl" for p in all_files())
