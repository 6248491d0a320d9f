"""Chinese word segmentation for complaint text.

A private :class:`jieba.Tokenizer` (never jieba's global one) is built lazily, once per process
and under a lock, with the bundled government-terms dictionary (``data/govterms.txt``) and
stopword list (``data/stopwords.txt``). Masked places (``A市``, ``A3区``), phone-like digit runs,
dates and numbers are replaced by placeholder tokens before segmentation, so that they neither
split nor pollute the vocabulary.
"""

from __future__ import annotations

import importlib
import io
import logging
import math
import re
import sys
import threading
from collections import ChainMap
from collections.abc import Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import jieba

__all__ = [
    "DATE",
    "NUMBER",
    "PHONE",
    "PLACE",
    "PLACEHOLDERS",
    "dictionary_cut",
    "frequency",
    "cut",
    "govterms",
    "known",
    "normalize",
    "stopwords",
    "tagger",
    "term_tags",
    "tokenize",
    "word_tags",
    "words",
]

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent / "data"
GOVTERMS_PATH = DATA_DIR / "govterms.txt"
STOPWORDS_PATH = DATA_DIR / "stopwords.txt"

# Placeholder tokens (single private-use characters, so character n-grams stay short too).
PLACE = "\ue000"
PHONE = "\ue001"
DATE = "\ue002"
NUMBER = "\ue003"
PLACEHOLDERS: frozenset[str] = frozenset({PLACE, PHONE, DATE, NUMBER})

_DIGITS = r"[0-9０-９]"
_PATTERNS: list[tuple[str, str]] = [
    # dates: 2019年3月5日, 2019-03-05, 3月5日, 5号, 2019年, 10:30
    (
        DATE,
        rf"{_DIGITS}{{2,4}}\s*[年/.\-]\s*{_DIGITS}{{1,2}}\s*[月/.\-]\s*{_DIGITS}{{1,2}}\s*[日号]?"
        rf"|{_DIGITS}{{1,2}}\s*月(?:份)?\s*(?:{_DIGITS}{{1,2}}\s*[日号])?"
        rf"|{_DIGITS}{{4}}\s*年(?:度)?"
        rf"|{_DIGITS}{{1,2}}\s*[日号](?![0-9])"
        rf"|{_DIGITS}{{1,2}}\s*[:：]\s*{_DIGITS}{{2}}",
    ),
    # mobile numbers, landlines and other long digit runs (ids, card numbers)
    (PHONE, rf"(?:{_DIGITS}{{3,4}}-)?{_DIGITS}{{7,}}[Xx]?"),
    # masked places: A市, A3区, B县, K7市, 西地省 is left alone
    (PLACE, r"(?<![A-Za-z])[A-Z][0-9]{0,2}\s*(?:市|区|县|州|镇|乡|村|省|街道)"),
    # remaining numbers, with decimals or thousands separators
    (NUMBER, rf"{_DIGITS}+(?:[.,，]{_DIGITS}+)*"),
]
_SPECIAL = re.compile("|".join(f"(?P<g{i}>{p})" for i, (_, p) in enumerate(_PATTERNS)))
_GROUP_TOKEN = {f"g{i}": tok for i, (tok, _) in enumerate(_PATTERNS)}
_WORDLIKE = re.compile(r"[\w\u4e00-\u9fff]", re.UNICODE)
_SPACES = re.compile(r"\s+")
# jieba's own block and skip patterns (jieba/__init__.py: re_han_default, re_skip_default)
_HAN = re.compile("([\u4e00-\u9fd5a-zA-Z0-9+#&\\._%\\-]+)")
_SKIP = re.compile(r"(\r\n|\s)")
_ASCII_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")

_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None
_stopwords: frozenset[str] = frozenset()


def _read_lines(path: Path) -> list[str]:
    if not path.exists():
        log.warning("classifiers: %s is missing; segmenting without it", path.name)
        return []
    with path.open(encoding="utf-8") as fh:
        return [line.strip() for line in fh if line.strip() and not line.startswith("#")]


def _build() -> tuple[jieba.Tokenizer, frozenset[str]]:
    jieba.setLogLevel(logging.WARNING)
    tok = jieba.Tokenizer()
    tok.initialize()
    for line in _read_lines(GOVTERMS_PATH):
        parts = line.split()
        word = parts[0]
        freq = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
        tag = (
            parts[2] if len(parts) > 2 else (parts[1] if len(parts) > 1 and freq is None else None)
        )
        # Make sure the term is never split: at least the frequency jieba needs to keep it whole.
        needed = tok.suggest_freq(word, tune=False)
        tok.add_word(word, max(freq or 0, needed, 3), tag)
    stops = frozenset(_read_lines(STOPWORDS_PATH))
    return tok, stops


def _get() -> jieba.Tokenizer:
    global _tokenizer, _stopwords
    tok = _tokenizer
    if tok is not None:
        return tok
    with _lock:
        if _tokenizer is None:
            built, stops = _build()
            _stopwords = stops
            _tokenizer = built
        return _tokenizer


@lru_cache(maxsize=1)
def word_tags() -> dict[str, str]:
    """Part-of-speech tag of every word of jieba's dictionary, read once from its file: not
    through jieba.posseg, whose tagger initialises jieba's global tokenizer, a second copy of
    the whole dictionary beside ours (~120 MB). The government terms' tags: ``term_tags``.

    Keyed by the tokenizer's own word objects (every word of the file is one of its keys), so
    the 349,000 words are held once, not twice (~27 MB)."""
    read: dict[str, str] = {}
    path = Path(jieba.__file__).resolve().parent / "dict.txt"
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) >= 3:
                read[parts[0]] = sys.intern(parts[2])  # ~60 distinct tags, one object each
    tags = {w: t for w in _get().FREQ if (t := read.get(w)) is not None}
    if len(tags) < len(read):  # a word the tokenizer lacks (not with jieba's own dictionary)
        tags.update((w, t) for w, t in read.items() if w not in tags)
    return tags


@lru_cache(maxsize=1)
def term_tags() -> dict[str, str]:
    """The tags govterms.txt gives its terms (they win over jieba's)."""
    out: dict[str, str] = {}
    for line in _read_lines(GOVTERMS_PATH):
        parts = line.split()
        if len(parts) >= 3:
            out[parts[0]] = parts[2]
    return out


@lru_cache(maxsize=1)
def govterms() -> frozenset[str]:
    """The government terms of ``data/govterms.txt`` (ordinary words, never a name)."""
    return frozenset(line.split()[0] for line in _read_lines(GOVTERMS_PATH))


def _import_posseg() -> Any:
    """jieba.posseg (its HMM tables tag the words the dictionary lacks) without the table of
    every dictionary word's tag that its module-level tagger (``jieba.posseg.dt``, behind
    ``jieba.posseg.cut``, which nothing here calls) reads at import: 349,000 entries, ~40 MB a
    serving process would hold for good after its first preview or public page (issue 14).
    Only where a process tags words."""
    if "jieba.posseg" in sys.modules:
        return sys.modules["jieba.posseg"]
    # The global tokenizer's dictionary file, for the length of the import: an empty one.
    jieba.dt.get_dict_file = lambda: io.BytesIO(b"")
    try:
        return importlib.import_module("jieba.posseg")
    finally:
        del jieba.dt.get_dict_file


@lru_cache(maxsize=1)
def tagger() -> Any:
    """The part-of-speech tagger (``tagger().cut(text)`` yields (word, tag) pairs, jieba's
    ``posseg`` with HMM) over the same tokenizer as `tokenize`, built once per process:
    anonymisation asks for it here instead of building a jieba of its own. Tags: jieba's
    dictionary (`word_tags`, the tokenizer's own word objects), the government terms' win."""
    base: Any = _import_posseg().POSTokenizer

    class Tagger(base):
        def __init__(self, tok: jieba.Tokenizer, tags: Mapping[str, str]):
            # Not jieba's constructor: it reads dict.txt into a second table of every word.
            self.tokenizer = tok
            self.word_tag_tab = tags

        def makesure_userdict_loaded(self) -> None:
            # The terms' tags are in ``tags`` already; jieba's would move them out of the
            # shared tokenizer (``user_word_tag_tab``).
            return None

    tok = _get()
    return Tagger(tok, ChainMap(dict(tok.user_word_tag_tab), word_tags()))


def stopwords() -> frozenset[str]:
    """The bundled stopword set (loads the tokenizer on first use)."""
    _get()
    return _stopwords


def _pieces(text: str) -> Iterator[tuple[bool, str]]:
    """Split ``text`` into (is_placeholder, piece) runs."""
    pos = 0
    for m in _SPECIAL.finditer(text):
        if m.start() > pos:
            yield False, text[pos : m.start()]
        yield True, _GROUP_TOKEN[m.lastgroup or "g3"]
        pos = m.end()
    if pos < len(text):
        yield False, text[pos:]


def normalize(text: str) -> str:
    """Text with places, phone numbers, dates and numbers replaced by placeholder characters."""
    text = _SPACES.sub(" ", text.strip())
    return "".join(piece for _, piece in _pieces(text))


def _cut_block(freq: dict[str, int], logtotal: float, s: str) -> list[str]:
    """jieba's dictionary-only segmentation of one block (``Tokenizer.cut(..., HMM=False)``).

    The same maximum-probability route as jieba's ``get_DAG`` + ``calc`` +
    ``__cut_DAG_NO_HMM`` (same candidates, same float operations, ties to the longer word),
    in one backward pass without the DAG dict and tuples: about twice as fast, and segmentation
    is most of the time a prediction takes.
    """
    n = len(s)
    get = freq.get
    log = math.log
    score = [0.0] * (n + 1)
    end = [0] * (n + 1)
    for i in range(n - 1, -1, -1):
        best = -math.inf
        best_end = 0
        j = i + 1
        f = get(s[i])
        while f is not None:
            if f:  # a word, not only a prefix of one
                cand = log(f) - logtotal + score[j]
                if cand >= best:
                    best, best_end = cand, j
            if j >= n:
                break
            j += 1
            f = get(s[i:j])
        if not best_end:  # no word starts here: the single character, frequency 1
            best, best_end = 0.0 - logtotal + score[i + 1], i + 1
        score[i] = best
        end[i] = best_end
    out: list[str] = []
    buf = ""
    i = 0
    while i < n:
        j = end[i]
        w = s[i:j]
        if j - i == 1 and w in _ASCII_ALNUM:  # runs of single letters/digits join up
            buf += w
        else:
            if buf:
                out.append(buf)
                buf = ""
            out.append(w)
        i = j
    if buf:
        out.append(buf)
    return out


def cut(tok: jieba.Tokenizer, sentence: str) -> list[str]:
    """Exactly ``list(tok.cut(sentence, HMM=False))``, faster."""
    freq: dict[str, int] = tok.FREQ
    logtotal = math.log(tok.total)
    out: list[str] = []
    for blk in _HAN.split(sentence):
        if not blk:
            continue
        if _HAN.match(blk):
            out.extend(_cut_block(freq, logtotal, blk))
        else:
            for x in _SKIP.split(blk):
                if _SKIP.match(x):
                    out.append(x)
                else:
                    out.extend(x)
    return out


def dictionary_cut(text: str) -> list[str]:
    """``text`` cut by the tokenizer's dictionary as it is (`cut`): every piece kept."""
    return cut(_get(), text)


def tokenize(text: str) -> list[str]:
    """Segment ``text`` into words: placeholders for masked data, no stopwords, no punctuation.

    Uses the dictionary only (no HMM guessing of unknown words): it is faster, and unknown
    words are covered by the character n-gram features.
    """
    tok = _get()
    stops = _stopwords
    out: list[str] = []
    for special, piece in _pieces(_SPACES.sub(" ", text.strip())):
        if special:
            out.append(piece)
            continue
        for word in cut(tok, piece):
            w = word.strip()
            if not w or w in stops or not _WORDLIKE.search(w):
                continue
            out.append(w.lower())
    return out


def words(text: str) -> list[str]:
    """The dictionary words of ``text`` as written: no placeholders, stopwords and punctuation
    kept (callers such as the public search decide what to drop)."""
    tok = _get()
    return [w for w in cut(tok, _SPACES.sub(" ", text.strip())) if w.strip()]


def frequency(word: str) -> int:
    """The frequency of ``word`` in the tokenizer's dictionary; 0 when it is not a word."""
    return int(_get().FREQ.get(word) or 0)


def known(word: str) -> bool:
    """Whether ``word`` is a word of the tokenizer's dictionary (jieba's plus the government
    terms), not only the prefix of one."""
    return bool(_get().FREQ.get(word))
