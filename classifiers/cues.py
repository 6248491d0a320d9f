"""Explicit cues for the issue-type decision: who acted, negation, questions, hearsay.

The lists live in ``classifiers/data/cues/`` (one phrase a line). For each issue type the cues give
a few numbers per report (:data:`FEATURES`) that a small logistic layer combines with the learned
model's score (fitted on held-out corpus predictions, see ``classifiers.training``). The point is
the distinction real traffic needs: "多次投诉" to a company names no misconduct of an authority;
"多次向城管反映无人处理" does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from classifiers.segment import DATA_DIR

__all__ = [
    "CLAUSE_FEATURES",
    "CLAUSE_TYPES",
    "CUES_DIR",
    "FEATURES",
    "ISSUE_TYPES",
    "Cues",
    "cue_files",
]

CUES_DIR = DATA_DIR / "cues"
ISSUE_TYPES = ("opacity", "improper_procedure", "abuse_of_power", "inaction")
#: per issue type, in this order
FEATURES = (
    "cue",  # a phrase of the type's list, not negated
    "cue_authority",  # ... with an authority the nearest actor named around it
    "cue_company_only",  # ... with a private party the nearest one
    "negated_only",  # the type's phrases occur, but every one right after a negator
    "authority",  # an authority is named anywhere
    "question",  # a consultation or policy question
    "hearsay",  # second-hand claim
)
#: per report, for the types of :data:`CLAUSE_TYPES`: who failed, and what the letter asks
CLAUSE_FEATURES = (
    "failure_by_authority",  # a failure whose actor (last named before it in its sentence) is an authority
    "failure_by_company",  # ... a private party
    "failure_no_actor",  # ... nobody named in that sentence before it
    "complained",  # the matter was taken to an authority or a public channel
    "plea",  # the letter asks an authority for help
    "complained_and_failed",  # both, with a failure not pinned on a private party
)
#: real letters tell a company's failure with inaction's words (迟迟, 一直没有, 推脱) and close
#: by asking the government for help: who the failure belongs to decides inaction vs none
CLAUSE_TYPES = ("inaction",)
_SENTENCE_END = re.compile("[。！？!?；;\n]")
_WINDOW = 30  # characters either side of a cue in which its actor is looked for
_NEGATION_REACH = 4  # a negator ending this close before a cue negates it
_PHRASE_MAX = 14  # longest cue match shown as a reason
_REQUEST_REACH = 3  # an authority named this close after a request word is asked, not blamed
# jieba tags never at either end of a phrase shown to staff: particles, pronouns, conjunctions,
# modal particles, interjections, punctuation (prepositions only at its end: 多次向…反映)
_EDGE_TAGS = ("u", "r", "c", "y", "e", "x", "w")
_END_TAGS = ("p",)
_NEGATORS = frozenset("不没未无拒非")
_ASKED = frozenset({"有没", "是不", "能不", "会不", "可不", "该不", "要不"})
_CLAUSE_END = re.compile("[，,。.！!？?；;：:、\\n]")
# a block jieba segments on its own (jieba splits its input at anything else, see segment.cut):
# segmenting just the block around a match gives the very words of the whole text
_BLOCK = re.compile("[\u4e00-\u9fd5a-zA-Z0-9+#&._%\\-]+")


def cue_files(directory: Path = CUES_DIR) -> list[Path]:
    """The cue lists in a fixed order (the shipped bundle's data hash covers them)."""
    return sorted(directory.glob("*.txt"))


def _read_list(path: Path) -> list[str]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            out.append(line)
    return out


REGEX_PREFIX = "re:"


def _pattern(phrases: list[str]) -> re.Pattern[str]:
    # a line "re:…" is a regular expression (how citizens narrate a type: a negator, a few
    # characters, then what was withheld — 没有向我们出示任何证件); those come first, then the
    # plain phrases longest first, so "互相推诿" wins over "推诿"
    regexes = [f"(?:{p[len(REGEX_PREFIX) :]})" for p in phrases if p.startswith(REGEX_PREFIX)]
    plain = sorted({p for p in phrases if not p.startswith(REGEX_PREFIX)}, key=len, reverse=True)
    alts = [*dict.fromkeys(regexes), *(re.escape(p) for p in plain)]
    return re.compile("|".join(alts)) if alts else re.compile(r"(?!)")


@dataclass(frozen=True)
class _Spans:
    starts: np.ndarray
    ends: np.ndarray
    words: tuple[str, ...]


def _find(pattern: re.Pattern[str], text: str) -> _Spans:
    found = [(m.start(), m.end(), m.group()) for m in pattern.finditer(text)]
    return _Spans(
        np.array([f[0] for f in found], dtype=np.int64),
        np.array([f[1] for f in found], dtype=np.int64),
        tuple(f[2] for f in found),
    )


class Cues:
    """The cue lists, compiled."""

    def __init__(self, directory: Path = CUES_DIR) -> None:
        self.directory = directory
        self.lists = {p.stem: _read_list(p) for p in cue_files(directory)}
        needed = {
            "authority",
            "company",
            "negation",
            "question",
            "hearsay",
            "request",
            "phrase_edges",
            "duty_failure",
            "complaint",
            "plea",
        }
        missing = {*needed, *ISSUE_TYPES} - set(self.lists)
        if missing:
            raise ValueError(f"{directory}: cue lists missing: {sorted(missing)}")
        self._re = {name: _pattern(words) for name, words in self.lists.items()}
        self.edges = frozenset(self.lists["phrase_edges"])
        # a failure: a phrase of the inaction list or a duty left undone said plainly
        self.failure = re.compile(
            f"{self._re['inaction'].pattern}|{self._re['duty_failure'].pattern}"
        )

    @classmethod
    @lru_cache(maxsize=1)
    def load(cls) -> Cues:
        return cls()

    def _spans(self, name: str, text: str) -> _Spans:
        return _find(self._re[name], text)

    def analyse(self, text: str) -> CueReport:
        return CueReport(self, text)

    def whole_phrase(self, text: str, start: int, end: int) -> str:
        """The match ``text[start:end]`` as a phrase a clerk reads: widened to whole jieba words
        (a pattern may end inside one), then function words trimmed off both ends (也没有…就直接
        → 没有…); a leading negator stays, it is the point (不开收据). Empty when nothing is left."""
        from classifiers.reasons import word_tag
        from classifiers.segment import _get, cut

        spans: list[tuple[int, int, str]] = []
        for block in _BLOCK.finditer(text, max(0, start - 40), min(len(text), end + 40)):
            if block.end() <= start or block.start() >= end:
                continue
            b0, b1 = block.span()
            # widen to the block's true edges (finditer above started mid-text)
            while b0 > 0 and _BLOCK.fullmatch(text[b0 - 1]):
                b0 -= 1
            while b1 < len(text) and _BLOCK.fullmatch(text[b1]):
                b1 += 1
            pos = b0
            for word in cut(_get(), text[b0:b1]):
                spans.append((pos, pos + len(word), word))
                pos += len(word)
        words = [w for w in spans if w[1] > start and w[0] < end]

        def trimmable(word: str, at_end: bool) -> bool:
            if not at_end and _NEGATORS & set(word):
                return False
            tag = word_tag(word) or "n"
            return (
                word in self.edges
                or tag.startswith(_EDGE_TAGS)
                or (at_end and tag.startswith(_END_TAGS))
                or not word.strip()
            )

        while words and trimmable(words[0][2], at_end=False):
            words.pop(0)
        while words and trimmable(words[-1][2], at_end=True):
            words.pop()
        phrase = text[words[0][0] : words[-1][1]] if words else ""
        # a bare negator (没有, 未) says nothing on its own
        return "" if set(phrase) <= _NEGATORS | {"有"} else phrase

    def keyword_types(self, text: str) -> list[str]:
        """The plain keyword rule: every type one of whose phrases appears (a yardstick)."""
        return [t for t in ISSUE_TYPES if self._re[t].search(text)]


def _not_after(spans: _Spans, before: _Spans, reach: int) -> _Spans:
    """``spans`` without those starting within ``reach`` characters after one of ``before``."""
    if not len(spans.starts) or not len(before.ends):
        return spans
    gap = spans.starts[:, None] - before.ends[None, :]
    keep = ~((gap >= 0) & (gap <= reach)).any(axis=1)
    return _Spans(
        spans.starts[keep],
        spans.ends[keep],
        tuple(w for w, k in zip(spans.words, keep, strict=True) if k),
    )


class CueReport:
    """The cues found in one report's text."""

    def __init__(self, cues: Cues, text: str) -> None:
        self.cues = cues
        self.text = text
        self.authority = _not_after(
            cues._spans("authority", text), cues._spans("request", text), _REQUEST_REACH
        )
        self.company = cues._spans("company", text)
        self.negation = cues._spans("negation", text)
        self.question = bool(cues._re["question"].search(text))
        self.hearsay = bool(cues._re["hearsay"].search(text))
        self.types = {t: cues._spans(t, text) for t in ISSUE_TYPES}

    def _negated(self, start: int) -> bool:
        # 有没有…, 是不是…, 是否…: a question about the step, not a narration of its absence
        if (
            self.text[max(0, start - 1) : start + 1] in _ASKED
            or self.text[max(0, start - 2) : start] == "是否"
        ):
            return True
        ends = self.negation.ends
        if not len(ends):
            return False
        gap = start - ends
        near = ends[(gap >= 0) & (gap <= _NEGATION_REACH)]
        # a negator negates within its own clause only ("一直没有人管。执法记录仪也没开")
        return any(not _CLAUSE_END.search(self.text, int(e), start) for e in near)

    @staticmethod
    def _distance(spans: _Spans, start: int, end: int) -> int | None:
        """Characters between the cue and the nearest mention, if one is within the window."""
        if not len(spans.starts):
            return None
        gaps = np.maximum(np.maximum(spans.starts - end, start - spans.ends), 0)
        best = int(gaps.min())
        return best if best <= _WINDOW else None

    def features(self, issue_type: str) -> np.ndarray:
        spans = self.types[issue_type]
        cue = cue_auth = cue_company = 0.0
        negated = 0
        for s, e in zip(spans.starts.tolist(), spans.ends.tolist(), strict=True):
            if self._negated(s):
                negated += 1
                continue
            cue = 1.0
            # the nearest actor named around the phrase is taken to be who it is about
            d_auth = self._distance(self.authority, s, e)
            d_company = self._distance(self.company, s, e)
            if d_auth is not None and (d_company is None or d_auth <= d_company):
                cue_auth = 1.0
            elif d_company is not None:
                cue_company = 1.0
        return np.array(
            [
                cue,
                cue_auth,
                cue_company,
                1.0 if negated and not cue else 0.0,
                1.0 if len(self.authority.starts) else 0.0,
                1.0 if self.question else 0.0,
                1.0 if self.hearsay else 0.0,
            ]
        )

    def clause_features(self) -> np.ndarray:
        """:data:`CLAUSE_FEATURES`: for each failure, the actor named last before it in its own
        sentence (an authority right after a request word is asked, not blamed); then the
        complaint history and the plea."""
        text = self.text
        actors = sorted(
            [(int(s), 1) for s in self.authority.starts.tolist()]
            + [(int(s), 2) for s in self.company.starts.tolist()]
        )
        by = [0, 0, 0]  # no actor, authority, company
        for m in self.cues.failure.finditer(text):
            start = m.start()
            sentence = max((e.end() for e in _SENTENCE_END.finditer(text, 0, start)), default=0)
            who = 0
            for pos, kind in actors:
                if pos >= start:
                    break
                if pos >= sentence:
                    who = kind
            by[who] += 1
        complained = bool(self.cues._re["complaint"].search(text))
        plea = bool(self.cues._re["plea"].search(text))
        return np.array(
            [
                min(by[1], 2) / 2,
                min(by[2], 2) / 2,
                min(by[0], 2) / 2,
                1.0 if complained else 0.0,
                1.0 if plea else 0.0,
                1.0 if complained and (by[0] + by[1]) else 0.0,
            ]
        )

    def phrases(self, issue_type: str) -> list[str]:
        """The type's phrases found (not negated), in order of appearance, once each, as whole
        words with no function word at either end (see :meth:`Cues.whole_phrase`)."""
        spans = self.types[issue_type]
        out: list[str] = []
        for s, e in zip(spans.starts.tolist(), spans.ends.tolist(), strict=True):
            if self._negated(s):
                continue
            w = self.cues.whole_phrase(self.text, s, e)
            # a long pattern match is a clause, not a phrase a clerk reads at a glance
            if len(w) >= 2 and w not in out and len(w) <= _PHRASE_MAX:
                out.append(w)
        return out
