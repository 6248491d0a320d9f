"""The hot issues' TF-IDF is scikit-learn's, without importing scikit-learn into the serving
process (its text module costs ~90 MB of memory the public page would keep for good)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from classifiers import segment
from classifiers.corpus import corpus_examples
from feedback.hot import Tfidf


def test_the_vectors_are_sklearns() -> None:
    docs = [segment.tokenize(e.text)[:80] for e in corpus_examples("department")[:300]]
    docs += [[], ["噪音"] * 5, ["噪音", "施工"]]
    ours, theirs = Tfidf(), TfidfVectorizer(analyzer=lambda t: t, sublinear_tf=True,
                                            dtype=np.float32)  # fmt: skip
    x, y = ours.fit_transform(docs), theirs.fit_transform(docs)
    assert ours.vocabulary_ == theirs.vocabulary_
    assert list(ours.get_feature_names_out()) == list(theirs.get_feature_names_out())
    assert np.allclose(ours.idf_, theirs.idf_)
    assert x.dtype == np.float32 and x.shape == y.shape
    assert abs(x - y).max() < 1e-6


def test_the_public_hot_issues_leave_sklearn_unimported() -> None:
    code = (
        "import sys\n"
        "from datetime import UTC, datetime, timedelta\n"
        "from feedback import hot\n"
        "now = datetime(2026, 12, 3, tzinfo=UTC)\n"
        "texts = ['小区旁工地夜间施工噪音扰民，多次投诉无人处理'] * 4 + ['路灯坏了很久没人修']\n"
        "msgs = [hot.Message(id=str(i), title='噪音', text=t, time=now - timedelta(hours=i))\n"
        "        for i, t in enumerate(texts)]\n"
        "found = hot.hot_issues(msgs, now=now, min_reports=3)\n"
        "assert found and found[0].reports == 4, found\n"
        "print('sklearn' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
