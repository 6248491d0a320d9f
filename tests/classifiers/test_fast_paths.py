"""The fast prediction paths give exactly what the plain ones give.

Segmentation is a re-implementation of jieba's dictionary-only cut, and feature lookup uses
integer n-gram keys instead of n-gram strings; both must agree with the originals on real text,
or a shipped model would see different features from the ones it was trained on.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from classifiers.corpus import read_corpus
from classifiers.features import FeatureConfig, FeatureSpace, analyze, document, fit_space
from classifiers.model import ReportClassifier
from classifiers.segment import _get, cut, tokenize

ODD = [
    "",
    " ",
    "a",
    "中",
    "abc DEF 12ab中国 x\r\ny  ＡＢＣ ｱ 𠀀字 -+#&._% 执法记录仪 ",
    "İstanbul 的 ǅ 字\x00和\ud800坏字符",
    "城管2019年3月5日在A3区罚款200元，电话13812345678。",
    "执法执法执法执法执法执法执法执法执法执法执法执法执法执法执法执法执法执法执法",
]


def _texts(n: int = 250) -> list[tuple[str, str]]:
    rows = [(str(r["title"]), str(r["text"])) for r in read_corpus()]
    random.Random(3).shuffle(rows)
    return rows[:n]


def test_cut_is_jiebas_dictionary_only_cut() -> None:
    tok = _get()
    texts = [t + "。" + x for t, x in _texts()] + ODD
    for text in texts:
        assert cut(tok, text) == list(tok.cut(text, HMM=False)), text


@pytest.mark.parametrize(
    "config",
    [
        FeatureConfig(),
        FeatureConfig(char_ngrams=(2, 3), max_word_chars=300, title_repeat=2),
        FeatureConfig(word_ngrams=(1, 3), char_ngrams=(1, 2), max_chars=0, max_word_chars=0),
        # four-character keys do not fit 63 bits: the string path is used
        FeatureConfig(char_ngrams=(2, 4), min_df=1),
    ],
)
def test_integer_key_lookup_matches_string_lookup(config: FeatureConfig) -> None:
    rows = _texts() + [("", x) for x in ODD] + [(x, "正文") for x in ODD]
    docs = [analyze(t, x, config) for t, x in rows]
    space = fit_space(docs[:150], config)
    # a space read back from its term lists, as a loaded model has it
    loaded = FeatureSpace(
        config, space.word_terms, space.word_idf, space.char_terms, space.char_idf
    )
    for doc in docs:
        cols, vals = loaded.vector(doc)
        ref_cols, ref_vals = loaded.vector_by_strings(doc)
        order = np.argsort(cols)
        assert np.array_equal(cols[order], ref_cols)
        assert np.allclose(vals[order], ref_vals, rtol=0, atol=1e-12)


def test_title_segmented_once_gives_the_same_tokens() -> None:
    config = FeatureConfig()
    rows = _texts(150) + [
        ("标题", "标题。正文"),
        (" 标题 ", "正文"),
        ("A市", "3号"),
        ("x" * 250, "y"),
    ]
    for title, text in rows:
        doc = analyze(title, text, config)
        # "title。text" segmented whole, as before the title was reused
        assert doc.tokens == tokenize(document(title, text)[: config.max_word_chars])
        assert doc.title_tokens == tokenize(title[:200])


def test_predictions_are_stable_across_calls(shipped: ReportClassifier) -> None:
    rows = _texts(30)
    first = [shipped.predict(t, x) for t, x in rows]
    again = [shipped.predict(t, x) for t, x in rows]
    assert [p.to_json() for p in first] == [p.to_json() for p in again]
