"""TF-IDF features: jieba word 1–2-grams plus character n-grams, sublinear tf, combined.

The fitted space is plain data (term lists and idf arrays) so it can be stored without pickle,
and transforming a single report needs only the standard library and numpy.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from classifiers.segment import PLACEHOLDERS, normalize, tokenize

__all__ = ["Analyzed", "FeatureConfig", "FeatureSpace", "analyze", "document", "fit_space"]

_CHAR_RUNS = re.compile(r"[\w\ue000-\ue003]+", re.UNICODE)


@dataclass(frozen=True)
class FeatureConfig:
    """How reports are turned into vectors."""

    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] = (2, 3)  # (0, 0) switches character n-grams off
    min_df: int = 2
    max_word_features: int | None = None
    max_char_features: int | None = None
    char_weight: float = 1.0
    title_repeat: int = 1  # the title is counted this many extra times
    max_chars: int = 500  # character n-grams read only the head of long reports
    max_word_chars: int = 300  # jieba segments only this much of the head (bounds latency)

    def to_json(self) -> dict[str, object]:
        return {
            "word_ngrams": list(self.word_ngrams),
            "char_ngrams": list(self.char_ngrams),
            "min_df": self.min_df,
            "max_word_features": self.max_word_features,
            "max_char_features": self.max_char_features,
            "char_weight": self.char_weight,
            "title_repeat": self.title_repeat,
            "max_chars": self.max_chars,
            "max_word_chars": self.max_word_chars,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> FeatureConfig:
        def pair(value: object) -> tuple[int, int]:
            assert isinstance(value, list) and len(value) == 2
            return int(value[0]), int(value[1])

        def opt_int(value: object) -> int | None:
            return None if value is None else int(str(value))

        return cls(
            word_ngrams=pair(data["word_ngrams"]),
            char_ngrams=pair(data["char_ngrams"]),
            min_df=int(str(data["min_df"])),
            max_word_features=opt_int(data.get("max_word_features")),
            max_char_features=opt_int(data.get("max_char_features")),
            char_weight=float(str(data["char_weight"])),
            title_repeat=int(str(data.get("title_repeat", 0))),
            max_chars=int(str(data.get("max_chars", 0))),
            max_word_chars=int(str(data.get("max_word_chars", 0))),
        )


@dataclass
class Analyzed:
    """One report broken into its terms."""

    tokens: list[str]
    words: list[str]
    chars: list[str]


def document(title: str, text: str) -> str:
    """The single string a report is classified on."""
    title, text = title.strip(), text.strip()
    if title and text and not text.startswith(title):
        return f"{title}。{text}"
    return text or title


def _word_grams(tokens: Sequence[str], lo: int, hi: int) -> list[str]:
    grams: list[str] = []
    if lo <= 1 <= hi:
        grams.extend(tokens)
    for n in range(max(lo, 2), hi + 1):
        grams.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return grams


def _char_grams(text: str, lo: int, hi: int) -> list[str]:
    grams: list[str] = []
    if hi <= 0:
        return grams
    for run in _CHAR_RUNS.findall(normalize(text).lower()):
        size = len(run)
        for n in range(lo, hi + 1):
            grams.extend(run[i : i + n] for i in range(size - n + 1))
    return grams


def analyze(title: str, text: str, config: FeatureConfig) -> Analyzed:
    """Tokens, word n-grams and character n-grams of a report."""
    doc = document(title, text)
    tokens = tokenize(doc[: config.max_word_chars] if config.max_word_chars > 0 else doc)
    words = _word_grams(tokens, *config.word_ngrams)
    chars = _char_grams(
        doc[: config.max_chars] if config.max_chars > 0 else doc, *config.char_ngrams
    )
    if config.title_repeat and title.strip():
        title = title[:200]
        title_tokens = tokenize(title)
        for _ in range(config.title_repeat):
            words.extend(_word_grams(title_tokens, *config.word_ngrams))
            chars.extend(_char_grams(title, *config.char_ngrams))
    return Analyzed(tokens, words, chars)


def _block(
    grams: Sequence[str], index: dict[str, int], idf: np.ndarray, offset: int, weight: float
) -> tuple[list[int], np.ndarray]:
    cols: list[int] = []
    tfs: list[int] = []
    get = index.get
    for g, c in Counter(grams).items():
        j = get(g)
        if j is not None:
            cols.append(j)
            tfs.append(c)
    if not cols:
        return [], np.zeros(0)
    vals = (1.0 + np.log(np.array(tfs, dtype=np.float64))) * idf[cols]
    norm = float(np.sqrt(np.dot(vals, vals)))
    if norm > 0:
        vals *= weight / norm
    return [c + offset for c in cols] if offset else cols, vals


@dataclass
class FeatureSpace:
    """A fitted vocabulary: word terms then character terms, each with its idf."""

    config: FeatureConfig
    word_terms: list[str]
    word_idf: np.ndarray
    char_terms: list[str]
    char_idf: np.ndarray
    _word_index: dict[str, int] = field(init=False, repr=False)
    _char_index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._word_index = {t: i for i, t in enumerate(self.word_terms)}
        self._char_index = {t: i for i, t in enumerate(self.char_terms)}

    @property
    def n_features(self) -> int:
        return len(self.word_terms) + len(self.char_terms)

    def term(self, column: int) -> tuple[str, str]:
        """(kind, human-readable term) of a feature column; kind is 'word' or 'char'."""
        if column < len(self.word_terms):
            return "word", self.word_terms[column].replace(" ", "")
        return "char", self.char_terms[column - len(self.word_terms)]

    def vector(self, doc: Analyzed) -> tuple[np.ndarray, np.ndarray]:
        """Sparse (columns, values) of one analysed report."""
        wc, wv = _block(doc.words, self._word_index, self.word_idf, 0, 1.0)
        cc, cv = _block(
            doc.chars,
            self._char_index,
            self.char_idf,
            len(self.word_terms),
            self.config.char_weight,
        )
        return np.array(wc + cc, dtype=np.int64), np.concatenate([wv, cv])

    def matrix(self, docs: Sequence[Analyzed]) -> sparse.csr_matrix:
        """CSR matrix of many analysed reports."""
        indptr = [0]
        cols: list[np.ndarray] = []
        vals: list[np.ndarray] = []
        for doc in docs:
            c, v = self.vector(doc)
            cols.append(c)
            vals.append(v)
            indptr.append(indptr[-1] + len(c))
        data = np.concatenate(vals) if vals else np.zeros(0)
        ind = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
        return sparse.csr_matrix((data, ind, np.array(indptr)), shape=(len(docs), self.n_features))


def _fit_block(
    grams: Sequence[list[str]], min_df: int, max_features: int | None
) -> tuple[list[str], np.ndarray]:
    """Vocabulary (most frequent first among ties by term) and smoothed idf, as sklearn does."""
    df: Counter[str] = Counter()
    tf: Counter[str] = Counter()
    for doc in grams:
        tf.update(doc)
        df.update(set(doc))
    n_docs = len(grams)
    keep = [t for t, d in df.items() if d >= min_df]
    if max_features is not None and len(keep) > max_features:
        keep.sort(key=lambda t: (-tf[t], t))
        keep = keep[:max_features]
    keep.sort()
    idf = np.array([math.log((1 + n_docs) / (1 + df[t])) + 1.0 for t in keep], dtype=np.float64)
    return keep, idf


def fit_space(
    docs: Sequence[Analyzed], config: FeatureConfig, progress: Callable[[str], None] | None = None
) -> FeatureSpace:
    """Fit the vocabulary and idf of both blocks on analysed training reports."""
    word_terms, word_idf = _fit_block(
        [d.words for d in docs], config.min_df, config.max_word_features
    )
    if progress:
        progress("word vocabulary")
    if config.char_ngrams[1] > 0:
        char_terms, char_idf = _fit_block(
            [d.chars for d in docs], config.min_df, config.max_char_features
        )
    else:
        char_terms, char_idf = [], np.zeros(0)
    if progress:
        progress("character vocabulary")
    return FeatureSpace(config, word_terms, word_idf, char_terms, char_idf)


def placeholder(term: str) -> bool:
    """Whether a term is (or contains only) masked data."""
    return all(ch in PLACEHOLDERS or ch == " " for ch in term)
