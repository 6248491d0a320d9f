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


TAGS = """
import json, sys
if sys.argv[1] == "plain":
    import jieba.posseg  # imported plainly first: its global tagger's table is read
import jieba
from classifiers import segment
texts = json.loads(sys.stdin.read())
tags = [[(p.word, p.flag) for p in segment.tagger().cut(t)] for t in texts]
table = len(sys.modules["jieba.posseg"].dt.word_tag_tab)
print(json.dumps({"tags": tags, "table": table, "patched": "get_dict_file" in vars(jieba.dt)}))
"""


def test_the_tagger_holds_no_second_table_of_words_and_tags_as_jieba_does() -> None:
    # Anonymisation's tagger (the preview, the public page) imports jieba.posseg, whose own
    # global tagger reads a table of every dictionary word's tag (~40 MB) it never uses.
    import json

    from classifiers.corpus import corpus_examples

    texts = [e.text for e in corpus_examples("department")[:60]]
    texts += ["张三在淄川区城管执法局门口被打了，李四说没有出示证件。", "王小明打电话13800138000"]

    def tagged(how: str) -> dict[str, object]:
        out = subprocess.run([sys.executable, "-c", TAGS, how], cwd=ROOT, input=json.dumps(texts),
                             capture_output=True, text=True, timeout=300, check=True)  # fmt: skip
        found: dict[str, object] = json.loads(out.stdout)
        return found

    ours, plain = tagged("ours"), tagged("plain")
    assert ours["table"] == 0 and plain["table"] > 300_000
    assert ours["patched"] is False  # the global tokenizer as it was
    assert ours["tags"] == plain["tags"]
