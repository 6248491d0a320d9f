"""Which words may be shown to staff as a reason for a label.

A reason is a whole word of the report, of two or more characters, neither a stop word
(``data/stopwords.txt``, ``data/reason_stopwords.txt``) nor a function word by jieba's
part-of-speech tags (adverbs, pronouns, numerals, particles …): the words a clerk would accept as
"why this bureau" or "why this issue type". The tag check runs at training time (the bundle
records its vocabulary's non-content words), so prediction needs no tagger.
"""

from __future__ import annotations

import re
from functools import lru_cache

from classifiers.segment import DATA_DIR, stopwords, term_tags, word_tags

__all__ = [
    "CONTENT_TAGS",
    "REASON_STOPWORDS_PATH",
    "content_tag",
    "reason_stopwords",
    "showable",
    "word_tag",
]

REASON_STOPWORDS_PATH = DATA_DIR / "reason_stopwords.txt"
#: nouns, verbs, places, bodies, other proper nouns, abbreviations, set phrases, idioms
CONTENT_TAGS = ("n", "v", "j", "l", "i")
_NOT_SHOWN = re.compile(r"[\ue000-\ue003\d０-９]|^[\W_a-zA-Z]+$")


@lru_cache(maxsize=1)
def reason_stopwords() -> frozenset[str]:
    lines = REASON_STOPWORDS_PATH.read_text(encoding="utf-8").splitlines()
    words = {w.strip() for w in lines if w.strip() and not w.startswith("#")}
    return frozenset(words) | stopwords()


def word_tag(word: str) -> str | None:
    """jieba's part-of-speech tag of ``word``, the government terms' own tag first (None for a
    word neither knows)."""
    return term_tags().get(word) or word_tags().get(word)


def content_tag(word: str) -> bool:
    """True when jieba tags ``word`` as a content word (words it does not know count as content:
    they are the corpus's own multi-character terms)."""
    tag = word_tag(word)
    return tag is None or tag.startswith(CONTENT_TAGS)


def showable(word: str) -> bool:
    """A whole word that may be a reason at all (before the model's own non-content list)."""
    return len(word) >= 2 and word not in reason_stopwords() and not _NOT_SHOWN.search(word)
