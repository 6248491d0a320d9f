"""A serving process holds only what serving needs (issue 14, RSS): scipy builds training
matrices and openpyxl writes exports; neither is imported by starting the app and predicting,
and the reasons' word tags share the tokenizer's word objects instead of a second copy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import sys
import feedback.runtime, web.app
from classifiers.bundle import SHIPPED_DIR, load_classifier
from classifiers import segment
model = load_classifier(SHIPPED_DIR)
model.predict("执法人员未出示证件", "城管执法人员没有出示证件就要没收我的三轮车，也没有开任何单据。")
tags = segment.word_tags()
keys = {id(k) for k in segment._get().FREQ}
shared = sum(id(w) in keys for w in tags)
print(" ".join(sorted({m.split(".")[0] for m in sys.modules} & {"scipy", "openpyxl", "sklearn"})))
print(shared, len(tags))
"""


def test_serving_imports_neither_scipy_nor_openpyxl_and_holds_words_once() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=300,
        check=True,
    ).stdout.splitlines()  # fmt: skip
    assert out[-2] == "", f"imported by serving: {out[-2]}"
    shared, total = map(int, out[-1].split())
    assert total > 300_000 and shared == total
