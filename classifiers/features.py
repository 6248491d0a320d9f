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
from functools import cached_property
from itertools import repeat
from typing import TYPE_CHECKING

import numpy as np

from classifiers.segment import PLACEHOLDERS, normalize, tokenize

if TYPE_CHECKING:
    # scipy (~23 MB) only builds training matrices: a serving process predicts with numpy.
    from scipy import sparse

__all__ = ["Analyzed", "FeatureConfig", "FeatureSpace", "analyze", "document", "fit_space"]

_CHAR_RUNS = re.compile(r"[\w\ue000-\ue003]+", re.UNICODE)


@dataclass(frozen=True)
class FeatureConfig:
    """How reports are turned into vectors."""

    word_ngrams: tuple[int, int] = (1, 2)
    # single characters too: +0.01 macro-F1 on the teddy2020 bench; (0, 0) switches them off
    char_ngrams: tuple[int, int] = (1, 3)
    min_df: int = 2
    max_word_features: int | None = None
    max_char_features: int | None = None
    char_weight: float = 1.0
    title_repeat: int = 1  # the title is counted this many extra times
    max_chars: int = 500  # character n-grams read only the head of long reports
    # jieba segments only this much of the head: it bounds latency (segmentation is most of a
    # prediction) and scored the same as 300 on the teddy2020 bench
    max_word_chars: int = 200

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
    """One report broken into its parts; the n-gram lists are made only when asked for.

    ``tokens`` are the words of the document's head (the title included when it leads the
    document); ``char_text`` is the head normalised and lower-cased for character n-grams; the
    title's tokens and text are counted ``repeat`` extra times.
    """

    tokens: list[str]
    char_text: str
    title_tokens: list[str]
    title_text: str
    repeat: int
    word_ngrams: tuple[int, int]
    char_ngrams: tuple[int, int]

    @cached_property
    def words(self) -> list[str]:
        """Word n-grams (joined by a space), the title's repeated."""
        grams = _word_grams(self.tokens, *self.word_ngrams)
        if self.repeat:
            grams += _word_grams(self.title_tokens, *self.word_ngrams) * self.repeat
        return grams

    @cached_property
    def char_keys(self) -> np.ndarray:
        """Integer keys of the character n-grams (see :class:`_KeyIndex`), the title's repeated.

        Cached: a department and an issue-type model with the same configuration share them.
        """
        lo, hi = self.char_ngrams
        if _CODEPOINTS**hi >= _KEY_LIMIT:
            raise ValueError(f"character {hi}-grams do not fit integer keys")

        def keys(text: str) -> np.ndarray:
            # every run of non-word characters becomes one NUL (id 0), which ends n-grams
            return _gram_keys(_codepoints(_NOT_RUN.sub("\x00", text)), lo, hi, _CODEPOINTS)

        found = keys(self.char_text)
        if self.repeat and self.title_text:
            found = np.concatenate([found, *([keys(self.title_text)] * self.repeat)])
        return found

    @cached_property
    def chars(self) -> list[str]:
        """Character n-grams within runs of word characters, the title's repeated."""
        grams = _char_grams(self.char_text, *self.char_ngrams)
        if self.repeat:
            grams += _char_grams(self.title_text, *self.char_ngrams) * self.repeat
        return grams


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
        if n == 2:
            grams += map(" ".join, zip(tokens, tokens[1:], strict=False))
        else:
            grams += [" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
    return grams


def _char_grams(char_text: str, lo: int, hi: int) -> list[str]:
    """N-grams of ``char_text`` (already normalised and lower-cased) within word-character runs."""
    grams: list[str] = []
    if hi <= 0:
        return grams
    for run in _CHAR_RUNS.findall(char_text):
        size = len(run)
        for n in range(max(lo, 1), hi + 1):
            grams += [run[i : i + n] for i in range(size - n + 1)]
    return grams


def _char_text(text: str) -> str:
    return normalize(text).lower()


_TITLE_CHARS = 200  # the repeated title reads at most this much


def _title_prefix(title: str, doc: str, limit: int) -> str | None:
    """The stripped title when ``doc`` starts with it and a full stop within ``limit``.

    Then the title segments on its own inside the document (the full stop ends jieba's block,
    and no placeholder pattern crosses it), so its tokens can be computed once and reused for
    the title repeat.
    """
    t = title.strip()
    if not t or len(title) > _TITLE_CHARS or (limit > 0 and len(t) + 1 > limit):
        return None
    return t if doc.startswith(t + "。") else None


def analyze(title: str, text: str, config: FeatureConfig) -> Analyzed:
    """Tokens and normalised text of a report, ready for its word and character n-grams."""
    doc = document(title, text)
    wlimit, climit = config.max_word_chars, config.max_chars
    word_head = doc[:wlimit] if wlimit > 0 else doc
    char_head = doc[:climit] if climit > 0 else doc
    repeat = config.title_repeat if title.strip() else 0
    title_tokens: list[str] = []
    title_text = ""
    t = _title_prefix(title, doc, wlimit) if repeat else None
    if t is not None:
        # segment the title once: the document is "title。text"
        title_tokens = tokenize(t)
        tokens = title_tokens + tokenize(word_head[len(t) + 1 :])
    else:
        tokens = tokenize(word_head)
        if repeat:
            title_tokens = tokenize(title[:_TITLE_CHARS])
    use_chars = config.char_ngrams[1] > 0
    if repeat and use_chars:
        title_text = _char_text(title[:_TITLE_CHARS])
    return Analyzed(
        tokens,
        _char_text(char_head) if use_chars else "",
        title_tokens,
        title_text,
        repeat,
        config.word_ngrams,
        config.char_ngrams,
    )


def _tfidf(
    cols: np.ndarray, tfs: np.ndarray, idf: np.ndarray, offset: int, weight: float
) -> tuple[np.ndarray, np.ndarray]:
    """Columns and l2-normalised sublinear tf-idf values of one block's terms and counts."""
    if not cols.size:
        return _NO_COLS, _NO_VALS
    vals = (1.0 + np.log(tfs)) * idf[cols]
    norm = float(np.sqrt(np.dot(vals, vals)))
    if norm > 0:
        vals *= weight / norm
    return (cols + offset if offset else cols), vals


def _lookup(grams: Sequence[str], index: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """(columns, counts) of the grams that are in ``index`` (the general, string-keyed path)."""
    if not grams:
        return _NO_COLS, _NO_COLS
    ids = np.fromiter(map(index.get, grams, repeat(-1)), dtype=np.int64, count=len(grams))
    cols, tfs = np.unique(ids[ids >= 0], return_counts=True)
    return cols, tfs


_NO_COLS = np.zeros(0, dtype=np.int64)
_NO_VALS = np.zeros(0, dtype=np.float64)
_NOT_RUN = re.compile(r"[^\w\ue000-\ue003]+", re.UNICODE)
_CODEPOINTS = 0x110000
_KEY_LIMIT = 2**63


def _gram_keys(ids: np.ndarray, lo: int, hi: int, base: int) -> np.ndarray:
    """Integer keys of the ``lo``..``hi``-grams of a unit-id sequence; id 0 breaks n-grams."""
    out: list[np.ndarray] = []
    size = len(ids)
    ok = ids > 0
    for n in range(max(lo, 1), hi + 1):
        m = size - n + 1
        if m <= 0:
            break
        key = ids[:m].copy()
        valid = ok[:m].copy()
        for t in range(1, n):
            key *= base
            key += ids[t : t + m]
            valid &= ok[t : t + m]
        out.append(key[valid])
    if not out:
        return _NO_COLS
    return out[0] if len(out) == 1 else np.concatenate(out)


class _KeyIndex:
    """The terms of one block as sorted integer keys: n-gram lookup in a few numpy calls.

    A report's thousand-odd n-grams looked up one by one in a dict of strings took most of the
    feature time (every new string hashed, every hit a cache miss in a large dict); here the
    n-grams are never built as strings, only as keys, found with one ``searchsorted``.
    """

    def __init__(self, keys: np.ndarray, base: int) -> None:
        order = np.argsort(keys, kind="stable")
        self.keys = keys[order]
        self.columns = order.astype(np.int64)
        self.base = base
        if len(self.keys) > 1 and bool(np.any(self.keys[1:] == self.keys[:-1])):
            raise ValueError("duplicate n-gram keys")

    def count(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(columns, counts) of the keys that are terms, in key order."""
        if not keys.size or not self.keys.size:
            return _NO_COLS, _NO_COLS
        # distinct and sorted first: fewer and cheaper binary searches
        uniq, counts = np.unique(keys, return_counts=True)
        pos = np.searchsorted(self.keys, uniq)
        np.minimum(pos, len(self.keys) - 1, out=pos)
        hit = self.keys[pos] == uniq
        return self.columns[pos[hit]], counts[hit]


def _codepoints(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4").astype(np.int64)


def _char_key_index(terms: Sequence[str], hi: int) -> _KeyIndex | None:
    """Keys of character terms: code points in base 0x110000 (three fit in 63 bits)."""
    if _CODEPOINTS**hi >= _KEY_LIMIT or any(not 0 < len(t) <= hi for t in terms):
        return None
    keys = np.zeros(len(terms), dtype=np.int64)
    for n in {len(t) for t in terms}:
        at = np.array([i for i, t in enumerate(terms) if len(t) == n], dtype=np.int64)
        codes = _codepoints("".join(terms[i] for i in at)).reshape(-1, n)
        if not codes.all():
            return None  # a NUL in a term: it is the run separator here
        key = codes[:, 0].copy()
        for t in range(1, n):
            key = key * _CODEPOINTS + codes[:, t]
        keys[at] = key
    return _KeyIndex(keys, _CODEPOINTS)


def _word_key_index(terms: Sequence[str], hi: int) -> tuple[_KeyIndex, dict[str, int]] | None:
    """Keys of word terms over word ids (1-based, in order of first appearance)."""
    units: dict[str, int] = {}
    parts = [t.split(" ") for t in terms]
    for p in parts:
        if not 0 < len(p) <= hi or "" in p:
            return None
        for w in p:
            units.setdefault(w, len(units) + 1)
    base = len(units) + 1
    if base**hi >= _KEY_LIMIT:
        return None
    keys = np.zeros(len(terms), dtype=np.int64)
    for i, p in enumerate(parts):
        key = 0
        for w in p:
            key = key * base + units[w]
        keys[i] = key
    return _KeyIndex(keys, base), units


@dataclass
class FeatureSpace:
    """A fitted vocabulary: word terms then character terms, each with its idf."""

    config: FeatureConfig
    word_terms: list[str]
    word_idf: np.ndarray
    char_terms: list[str]
    char_idf: np.ndarray
    _word_keys: _KeyIndex | None = field(init=False, repr=False)
    _word_units: dict[str, int] = field(init=False, repr=False)
    _char_keys: _KeyIndex | None = field(init=False, repr=False)

    def __post_init__(self) -> None:
        words = _word_key_index(self.word_terms, self.config.word_ngrams[1])
        self._word_keys, self._word_units = words if words else (None, {})
        self._char_keys = (
            _char_key_index(self.char_terms, self.config.char_ngrams[1])
            if self.config.char_ngrams[1] > 0
            else None
        )

    @cached_property
    def _word_index(self) -> dict[str, int]:
        return {t: i for i, t in enumerate(self.word_terms)}

    @cached_property
    def _char_index(self) -> dict[str, int]:
        return {t: i for i, t in enumerate(self.char_terms)}

    @property
    def n_features(self) -> int:
        return len(self.word_terms) + len(self.char_terms)

    def term(self, column: int) -> tuple[str, str]:
        """(kind, human-readable term) of a feature column; kind is 'word' or 'char'."""
        if column < len(self.word_terms):
            return "word", self.word_terms[column].replace(" ", "")
        return "char", self.char_terms[column - len(self.word_terms)]

    def _word_counts(self, doc: Analyzed) -> tuple[np.ndarray, np.ndarray]:
        index = self._word_keys
        if index is None:
            return _lookup(doc.words, self._word_index)
        lo, hi = self.config.word_ngrams
        get = self._word_units.get

        def keys(tokens: list[str]) -> np.ndarray:
            ids = np.fromiter(map(get, tokens, repeat(0)), dtype=np.int64, count=len(tokens))
            return _gram_keys(ids, lo, hi, index.base)

        found = keys(doc.tokens)
        if doc.repeat and doc.title_tokens:
            found = np.concatenate([found, *([keys(doc.title_tokens)] * doc.repeat)])
        return index.count(found)

    def _char_counts(self, doc: Analyzed) -> tuple[np.ndarray, np.ndarray]:
        index = self._char_keys
        if index is None or doc.char_ngrams != self.config.char_ngrams:
            return _lookup(doc.chars, self._char_index)
        return index.count(doc.char_keys)

    def vector(self, doc: Analyzed) -> tuple[np.ndarray, np.ndarray]:
        """Sparse (columns, values) of one analysed report."""
        wc, wv = _tfidf(*self._word_counts(doc), self.word_idf, 0, 1.0)
        if self.config.char_ngrams[1] > 0 and self.char_terms:
            cc, cv = _tfidf(
                *self._char_counts(doc),
                self.char_idf,
                len(self.word_terms),
                self.config.char_weight,
            )
            return np.concatenate([wc, cc]), np.concatenate([wv, cv])
        return wc, wv

    def vector_by_strings(self, doc: Analyzed) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`vector` the plain way, by n-gram strings (a reference for the tests)."""
        wc, wv = _tfidf(*_lookup(doc.words, self._word_index), self.word_idf, 0, 1.0)
        cc, cv = _tfidf(
            *_lookup(doc.chars, self._char_index),
            self.char_idf,
            len(self.word_terms),
            self.config.char_weight,
        )
        return np.concatenate([wc, cc]), np.concatenate([wv, cv])

    def matrix(self, docs: Sequence[Analyzed]) -> sparse.csr_matrix:
        """CSR matrix of many analysed reports."""
        from scipy import sparse

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
