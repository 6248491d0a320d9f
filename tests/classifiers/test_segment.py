from __future__ import annotations

import threading

import pytest

from classifiers.segment import DATE, NUMBER, PHONE, PLACE, tokenize


@pytest.mark.parametrize(
    "term", ["占道经营", "行政处罚决定书", "执法记录仪", "综合行政执法", "陈述申辩"]
)
def test_dictionary_terms_stay_whole(term: str) -> None:
    tokens = tokenize(f"昨天执法人员在我店门口说我{term}，我不认可。")
    assert term in tokens


def test_masked_data_becomes_placeholders() -> None:
    tokens = tokenize("A3区城管2019年3月5日来了，电话13812345678，罚款200元，K市B县")
    assert tokens.count(PLACE) == 3
    assert DATE in tokens and PHONE in tokens and NUMBER in tokens
    assert not any(ch.isdigit() for t in tokens for ch in t)
    assert "A3" not in tokens and "a3" not in tokens


def test_no_punctuation_or_stopwords() -> None:
    tokens = tokenize("你好！请问，这个问题的处理结果是什么？")
    assert "，" not in tokens and "！" not in tokens
    assert "的" not in tokens


def test_threads_share_one_tokenizer() -> None:
    results: list[list[str]] = []

    def run() -> None:
        results.append(tokenize("渣土车夜间撒落渣土，影响市容。"))

    threads = [threading.Thread(target=run) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 8 and all(r == results[0] for r in results)
