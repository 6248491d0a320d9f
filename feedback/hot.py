"""热点问题挖掘: reports about the same matter, at the same place, in the same weeks, as one issue.

Grouping (docs/insight.md):

1. Each report becomes a TF-IDF vector of its words (the project's jieba segmenter with the
   government-terms dictionary; the title counts twice, the text's first 300 characters once).
2. Places and organisations are extracted from title and text: a name of two to eight
   characters before an ending such as 小区, 学校, 路, 村 or 公司 (``data/hot.toml``), cut after the
   last character or word that cannot belong to a name.
3. Reports are taken in time order; each joins the existing group it is most similar to — the
   mean cosine to the group's members, plus ``PLACE_BOOST`` when they name the same place — if
   that is at least ``threshold`` and the group had a report within ``window_days``; otherwise
   it starts a group. (Mean rather than nearest similarity: a group does not drift by chaining.)
4. Groups whose centroids are very close are joined (one matter told in two ways), and the
   episodes of a recurring matter are linked: a group and a later one that began more than the
   window and at most a year after it, naming the same place, whose reports naming it say the
   same thing without the place names (``_link``).

Heat (热度), for a group of at least ``min_reports`` reports from at least ``MIN_REPORTERS``
people (one person writing again and again is not many citizens reporting a matter)::

    heat = (reporters + 2 × ln(1 + repeat reports) + 2 × ln(1 + support))
           × (1 + min(active weeks − 1, 8) / 16 + 0.5 × min(returns, 4))
           × 0.5 ^ (days since the last report / half-life)      (only when a half-life is set)

``reporters`` are distinct people (an anonymous report counts as its own person), ``repeat
reports`` the same people again (on a log scale: one person posting forty times is not forty
citizens), ``support`` the citizens who pressed 附议 (我也遇到) plus the
点赞 minus 反对 of imported data (never below 0 per report), ``active weeks`` the calendar weeks
with a report (a matter that persists weighs more than a one-day burst, at most 1.5×),
``returns`` the times the matter came back from someone new after a quiet spell longer than the
window (each one more step of persistence past the weeks' cap).

Summary (a one-line description for the supervisor): of the members' titles and sentences, with
salutations, self-introductions and thanks cut off (``data/hot.toml``, ``[summary]``), the one
closest to the issue's centre (its members' mean TF-IDF vector), short ones preferred; the
place is put in front when the line does not name it.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from classifiers import segment

DATA_PATH = Path(__file__).resolve().parent / "data" / "hot.toml"

THRESHOLD = 0.30  # mean cosine (with the place boost) to join a group
PLACE_THRESHOLD = 0.12  # the bar for reports that name the same place
PLACE_BOOST = 0.10  # among the groups a report may join, the same place counts this much more
WINDOW_DAYS = 60  # a group stays open this long after its last report
MERGE = 0.5  # centroid cosine at which two groups are one matter
# A matter that comes back at the same place after a quiet spell longer than the window is the
# same issue, recurring (docs/insight.md): groups that name the same place are linked when the
# words of their reports naming it, without the place names, agree this much ...
LINK = 0.25
LINK_GAP_DAYS = 365  # ... and the later one began within a year of the earlier one's last report
# In the heat, each return of a matter after a quiet spell longer than the window adds what 8
# more active weeks add (the weeks' own cap, 1.5x, is reached at about the window's length): a
# matter that came back has persisted past that cap. Beyond four returns it is a standing
# matter, and its people count.
RETURN_WEIGHT = 0.5
MAX_RETURNS = 4
MIN_REPORTS = 2
MIN_REPORTERS = 2  # distinct people: a hot issue is many citizens' matter, not one person's posts
TEXT_HEAD = 300
SUMMARY_MAX = 40  # characters of a one-line description
SUMMARY_MIN = 6  # shorter pieces say too little to describe a matter
TITLE_PREFERENCE = 1.15  # a title the citizen wrote is meant as a one-line description


@dataclass
class Message:
    id: str
    title: str
    text: str
    time: datetime
    user: str | None = None  # None: anonymous, a person of its own
    likes: int = 0
    dislikes: int = 0
    support: int = 0  # 附议 in the service
    department: str | None = None
    places: list[str] = field(default_factory=list)


@dataclass
class HotIssue:
    rank: int
    heat: float
    ids: list[str]
    place: str | None
    places: list[str]
    time_from: datetime
    time_to: datetime
    summary: str
    reports: int
    reporters: int
    support: int
    active_weeks: int
    departments: list[str]
    members: list[Message]
    returns: int = 0  # times the matter came back from someone new after a quiet spell

    @property
    def key(self) -> str:
        """A stable name for the issue while its first report stays in it."""
        return self.members[0].id

    def as_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "heat": self.heat,
            "ids": self.ids,
            "place": self.place,
            "places": self.places,
            "from": self.time_from.isoformat(),
            "to": self.time_to.isoformat(),
            "summary": self.summary,
            "reports": self.reports,
            "reporters": self.reporters,
            "support": self.support,
            "active_weeks": self.active_weeks,
            "returns": self.returns,
            "departments": self.departments,
        }


@dataclass(frozen=True)
class PlaceRules:
    ending: re.Pattern[str]
    kinds: dict[str, str]
    boundary: re.Pattern[str]
    too_generic: frozenset[str]
    not_names: frozenset[str]
    coarse: tuple[str, ...]
    blank: frozenset[str]
    name_tags: frozenset[str]
    min_stem: int
    max_stem: int


@lru_cache(maxsize=1)
def place_rules() -> PlaceRules:
    with DATA_PATH.open("rb") as fh:
        d = tomllib.load(fh)["places"]
    kinds = {
        e: kind
        for kind in ("compound", "school", "road", "village", "case", "company")
        for e in d[kind]
    }
    alt = "|".join(re.escape(e) for e in sorted(kinds, key=len, reverse=True))
    words = sorted(d["boundary_words"], key=len, reverse=True)
    boundary = re.compile(
        "|".join(re.escape(w) for w in words)
        + rf"|[{re.escape(d['boundary_chars'])}]"
        + r"|[A-Z][0-9]{0,2}(?:市|区|县|州|镇|乡|省)"  # the organisers' masked places
        + r"|[^\u4e00-\u9fffA-Za-z0-9]"
    )
    return PlaceRules(
        ending=re.compile(alt),
        kinds=kinds,
        boundary=boundary,
        too_generic=frozenset(d["too_generic"]),
        not_names=frozenset(d["not_names"]),
        coarse=tuple(d["coarse"]),
        blank=frozenset(d["blank_chars"]),
        name_tags=frozenset(d["name_tags"]),
        min_stem=d["min_stem"],
        max_stem=d["max_stem"],
    )


@lru_cache(maxsize=1)
def _word_tags() -> dict[str, str]:
    """jieba's dictionary: word -> part-of-speech tag (one table for the process)."""
    return segment.word_tags()


def extract_places(text: str) -> list[str]:
    """Names of compounds, schools, roads, villages and organisations in ``text``, in order:
    the words before an ending (小区, 学校, 路, 村, 公司 …) back to the first word that cannot be
    part of a name (by jieba's part-of-speech tags, and a list of boundary words)."""
    rules = place_rules()
    tags = _word_tags()
    out: list[str] = []
    for m in rules.ending.finditer(text):
        ending, start = m.group(0), m.start()
        window = text[max(0, start - rules.max_stem) : start]
        cut = 0
        for b in rules.boundary.finditer(window):
            cut = b.end()
        for e in rules.ending.finditer(window):  # 街道 in 暮云街道丽发新城: the name is 丽发新城
            cut = max(cut, e.end())
        window = window[cut:]
        if not window:
            continue
        words = segment.dictionary_cut(window)
        if words and words[-1] + ending in rules.not_names:
            continue
        stem = ""
        for w in reversed(words):
            tag = tags.get(w)
            if tag is not None and tag not in rules.name_tags and len(w) > 1:
                break  # single characters (之, 城) are kept: boundary characters are cut above
            stem = w + stem
        if len(stem) < rules.min_stem or set(stem) <= rules.blank:
            continue
        name = stem + ending
        if name in rules.too_generic or stem in rules.too_generic or name in rules.not_names:
            continue
        if name not in out:
            out.append(name)
    return out


def place_key(name: str) -> str:
    """The name without a compound ending (万科魅力之城小区 and 魅力之城 meet as 魅力之城), unless
    fewer than three characters would be left (丽发新城 stays 丽发新城)."""
    rules = place_rules()
    for e in sorted(rules.kinds, key=len, reverse=True):
        if rules.kinds[e] == "compound" and name.endswith(e) and len(name) - len(e) >= 3:
            return name[: -len(e)]
    return name


def _specific(name: str) -> bool:
    """Roads, towns and sub-districts carry many unrelated matters: only compounds, schools,
    villages, named cases and organisations join reports by themselves."""
    return not name.endswith(place_rules().coarse)


def _words(text: str) -> list[str]:
    return [w for w in segment.tokenize(text) if not (set(w) & segment.PLACEHOLDERS)]


def _tokens(m: Message) -> list[str]:
    return _words(m.title) * 2 + _words(m.text[:TEXT_HEAD])


class Tfidf:
    """scikit-learn's TfidfVectorizer(sublinear_tf=True, smooth idf, L2 rows, float32) over
    token lists, on scipy.sparse alone: importing sklearn's text module costs the serving
    process ~90 MB it never gives back, for the public page's hot issues (issue 14, RSS).
    ``vocabulary_``, ``idf_`` and ``get_feature_names_out()`` as sklearn's (columns in sorted
    word order); tests/insight/test_tfidf.py holds it to sklearn's output."""

    def __init__(self) -> None:
        self.vocabulary_: dict[str, int] = {}
        self.idf_: np.ndarray = np.zeros(0)
        self._names: list[str] = []

    def get_feature_names_out(self) -> list[str]:
        return self._names

    def fit_transform(self, docs: Sequence[Sequence[str]]) -> Any:
        from scipy import sparse

        counted = [Counter(doc) for doc in docs]
        self._names = sorted({w for c in counted for w in c})
        self.vocabulary_ = {w: i for i, w in enumerate(self._names)}
        indptr = np.zeros(len(counted) + 1, dtype=np.int64)
        indptr[1:] = np.cumsum([len(c) for c in counted])
        cols = np.fromiter(
            (self.vocabulary_[w] for c in counted for w in c), np.int64, int(indptr[-1])
        )
        tf = np.fromiter((k for c in counted for k in c.values()), np.float64, int(indptr[-1]))
        df = np.bincount(cols, minlength=len(self._names))
        n = len(counted)
        self.idf_ = np.log((1 + n) / (1 + df)) + 1.0
        values = (1.0 + np.log(tf)) * self.idf_[cols]
        x = sparse.csr_matrix((values, cols, indptr), shape=(n, len(self._names)))
        x.sort_indices()
        norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        x = sparse.diags(1.0 / norms) @ x
        return sparse.csr_matrix(x, dtype=np.float32)


def _vectorizer(messages: Sequence[Message]) -> tuple[Tfidf, Any]:
    """The fitted TF-IDF vectorizer and the messages' vectors (rows L2-normalised)."""
    vec = Tfidf()
    return vec, vec.fit_transform([_tokens(m) for m in messages])


def _similarities(x: Any) -> np.ndarray:
    return np.asarray((x @ x.T).toarray(), dtype=np.float32)


def _merge(
    groups: list[list[int]], x: Any, messages: Sequence[Message], window: float
) -> list[list[int]]:
    """Join groups of two or more whose centroids are close (one matter, told in two ways and
    so started twice) and whose times lie within the window of each other."""
    big = [g for g in groups if len(g) >= 2]
    if len(big) < 2:
        return groups
    cents = np.vstack([np.asarray(x[g].mean(axis=0)).ravel() for g in big])
    cents /= np.linalg.norm(cents, axis=1, keepdims=True) + 1e-12
    sims = cents @ cents.T
    np.fill_diagonal(sims, 0.0)
    spans = [(min(messages[i].time for i in g), max(messages[i].time for i in g)) for g in big]
    parent = list(range(len(big)))

    def root(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for a, b in zip(*np.nonzero(np.triu(sims) >= MERGE), strict=True):
        (fa, ta), (fb, tb) = spans[a], spans[b]
        gap = max((fb - ta).total_seconds(), (fa - tb).total_seconds(), 0.0)
        if gap <= window:
            parent[root(int(a))] = root(int(b))
    merged: dict[int, list[int]] = {}
    for k, g in enumerate(big):
        merged.setdefault(root(k), []).extend(g)
    out = [sorted(g, key=lambda i: (messages[i].time, i)) for g in merged.values()]
    return out + [g for g in groups if len(g) < 2]


class _Matter:
    """The reports' TF-IDF vectors without the words of the places they name: what the matter
    is, not where (two matters at one compound share its name, not their words). Made from
    the grouping's vectors row by row, when a link asks for them (no second segmentation)."""

    def __init__(self, x: Any, terms: Sequence[str], messages: Sequence[Message]) -> None:
        self.x, self.terms, self.messages = x, terms, messages
        self.rows: dict[int, dict[int, float]] = {}

    def row(self, i: int) -> dict[int, float]:
        if i not in self.rows:
            start, end = self.x.indptr[i], self.x.indptr[i + 1]
            places = self.messages[i].places
            kept = {
                int(c): float(v)
                for c, v in zip(self.x.indices[start:end], self.x.data[start:end], strict=True)
                if not any(self.terms[c] in p for p in places)
            }
            norm = math.sqrt(sum(v * v for v in kept.values())) or 1.0
            self.rows[i] = {c: v / norm for c, v in kept.items()}
        return self.rows[i]

    def centroid(self, rows: Sequence[int]) -> dict[int, float]:
        acc: dict[int, float] = {}
        for i in rows:
            for c, v in self.row(i).items():
                acc[c] = acc.get(c, 0.0) + v
        norm = math.sqrt(sum(v * v for v in acc.values())) or 1.0
        return {c: v / norm for c, v in acc.items()}

    def similarity(self, a: Sequence[int], b: Sequence[int]) -> float:
        ca, cb = self.centroid(a), self.centroid(b)
        if len(cb) < len(ca):
            ca, cb = cb, ca
        return sum(v * cb.get(c, 0.0) for c, v in ca.items())


def _named(key: str) -> bool:
    """A key that names one place, not an ending shared by many (有限公司, 限公司)."""
    rules = place_rules()
    if key in rules.too_generic:
        return False
    ending = next((e for e in sorted(rules.kinds, key=len, reverse=True) if key.endswith(e)), "")
    return len(key) - len(ending) >= rules.min_stem


def _elsewhere(key: str, ra: Sequence[int], rb: Sequence[int], messages: Sequence[Message]) -> bool:
    """The two sides name the key (the water company, a station) and besides it other places
    that have nothing in common (湖开小区, 金色山庄): the key serves many places, and the
    matters are at different ones."""

    def others(rows: Sequence[int]) -> set[str]:
        out: set[str] = set()
        for i in rows:
            for p in messages[i].places:
                ks = _place_keys([p])
                if ks and key not in ks and not any(key in k or k in key for k in ks):
                    out |= ks
        return out

    oa, ob = others(ra), others(rb)
    return bool(oa) and bool(ob) and not oa & ob


def _link(
    groups: list[list[int]],
    messages: Sequence[Message],
    keys: Sequence[set[str]],
    window: float,
    matter: _Matter,
) -> list[list[int]]:
    """Join the episodes of a recurring matter: a group (or a single report) and a later one
    that began more than the window but at most ``LINK_GAP_DAYS`` after its last report, name
    the same place, and whose reports naming it say the same thing once the place names are
    taken out (centroid cosine ≥ ``LINK``). Within the window the grouping has already
    decided; a recurring matter is one the window split."""
    if len(groups) < 2:
        return groups
    spans = [(messages[g[0]].time, max(messages[i].time for i in g)) for g in groups]
    gkeys = [set().union(*(keys[i] for i in g)) for g in groups]
    by_key: dict[str, list[int]] = {}
    for k, ks in enumerate(gkeys):
        for key in ks:
            by_key.setdefault(key, []).append(k)
    pairs: set[tuple[int, int, str]] = set()
    for key, gs in by_key.items():
        if len(gs) < 2 or not _named(key):
            continue
        for a in gs:
            for b in gs:
                gap = (spans[b][0] - spans[a][1]).total_seconds()
                if window < gap <= LINK_GAP_DAYS * 86400.0:
                    pairs.add((a, b, key))
    if not pairs:
        return groups
    parent = list(range(len(groups)))

    def root(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    best: dict[tuple[int, int], str] = {}
    for a, b, key in sorted(pairs, key=lambda p: (p[0], p[1], -len(p[2]), p[2])):
        best.setdefault((a, b), key)  # the longest place the two name: the most specific
    for (a, b), key in sorted(best.items()):
        ra = [i for i in groups[a] if key in keys[i]]
        rb = [i for i in groups[b] if key in keys[i]]
        if _elsewhere(key, ra, rb, messages):
            continue
        if matter.similarity(ra, rb) >= LINK:
            parent[root(a)] = root(b)
    linked: dict[int, list[int]] = {}
    for k, g in enumerate(groups):
        linked.setdefault(root(k), []).extend(g)
    return [sorted(g, key=lambda i: (messages[i].time, i)) for g in linked.values()]


def group(
    messages: Sequence[Message],
    *,
    threshold: float = THRESHOLD,
    place_threshold: float | None = None,
    window_days: float = WINDOW_DAYS,
) -> list[list[int]]:
    """Indices of ``messages`` grouped by matter, place and time (see the module notes)."""
    if not messages:
        return []
    vec, x = _vectorizer(messages)
    return _group(messages, x, vec.get_feature_names_out(), threshold, place_threshold, window_days)


def _group(
    messages: Sequence[Message],
    x: Any,
    terms: Sequence[str],
    threshold: float,
    place_threshold: float | None,
    window_days: float,
) -> list[list[int]]:
    n = len(messages)
    place_threshold = PLACE_THRESHOLD if place_threshold is None else place_threshold
    for m in messages:
        if not m.places:
            m.places = extract_places(f"{m.title} {m.text}")
    sims = _similarities(x)
    # Names of three or more characters meet when one ends the other (万科魅力之城, 魅力之城).
    keys = [_place_keys(m.places) for m in messages]
    order = sorted(range(n), key=lambda i: (messages[i].time, i))
    label = np.full(n, -1, dtype=np.int64)
    sizes: list[int] = []
    last: list[float] = []
    by_place: dict[str, set[int]] = {}
    window = window_days * 86400.0
    done: list[int] = []
    for i in order:
        t = messages[i].time.timestamp()
        best = -1
        if done:
            idx = np.asarray(done)
            sums = np.bincount(label[idx], weights=sims[i, idx], minlength=len(sizes))
            score = sums / np.asarray(sizes, dtype=np.float64)
            boosted: set[int] = set()
            for key in keys[i]:
                boosted |= by_place.get(key, set())
            # Same place: a lower bar (the same compound's fumes and noise, told in other
            # words); elsewhere the words alone must agree.
            bar = np.full(len(sizes), threshold)
            for c in boosted:
                score[c] += PLACE_BOOST
                bar[c] = place_threshold + PLACE_BOOST
            open_ = np.asarray(last) >= t - window
            score = np.where(open_ & (score >= bar), score, -1.0)
            c = int(np.argmax(score))
            if score[c] >= 0:
                best = c
        if best < 0:
            best = len(sizes)
            sizes.append(0)
            last.append(t)
        label[i] = best
        sizes[best] += 1
        last[best] = max(last[best], t)
        for key in keys[i]:
            by_place.setdefault(key, set()).add(best)
        done.append(i)
    groups: dict[int, list[int]] = {}
    for i in order:
        groups.setdefault(int(label[i]), []).append(i)
    merged = _merge(list(groups.values()), x, messages, window)
    return _link(merged, messages, keys, window, _Matter(x, terms, messages))


def _place_keys(places: list[str]) -> set[str]:
    out: set[str] = set()
    for p in places:
        if not _specific(p):
            continue
        k = place_key(p)
        # every ending of three or more characters, so that a developer's or district's prefix
        # (万科魅力之城, 魅力之城) does not keep two reports apart
        out.update(k[i:] for i in range(0, max(len(k) - 2, 1)))
    return out


def returns(members: Sequence[Message], window_days: float = WINDOW_DAYS) -> int:
    """How often the matter came back: the episodes (runs of reports with no quiet spell longer
    than the window between them) after the first that bring someone who had not reported it
    before. One person writing again a year later is a repeat, not a return."""
    ordered = sorted(members, key=lambda m: m.time)
    seen: set[str] = set()
    count = 0
    last: datetime | None = None
    episode: set[str] = set()
    for m in ordered:
        if last is not None and (m.time - last).total_seconds() > window_days * 86400.0:
            count += bool(seen and episode - seen)
            seen |= episode
            episode = set()
        episode.add(_person(m))
        last = m.time
    return count + bool(seen and episode - seen)


def _person(m: Message) -> str:
    return m.user if m.user else f"anon:{m.id}"


def heat(
    members: Sequence[Message],
    *,
    now: datetime | None = None,
    half_life_days: float | None = None,
    window_days: float = WINDOW_DAYS,
) -> tuple[float, int, int, int, int]:
    """(heat, distinct reporters, support, active weeks, returns) of one group (module notes)."""
    people = {_person(m) for m in members}
    reporters = len(people)
    repeats = len(members) - reporters
    support = sum(max(m.likes - m.dislikes, 0) + max(m.support, 0) for m in members)
    weeks = len({m.time.isocalendar()[:2] for m in members})
    back = returns(members, window_days)
    # Persistence: weeks with reports, up to 9 (about the 60-day window), then each return
    # after a quiet spell longer than the window: the matter outlasted that cap once more.
    persistence = 1 + min(weeks - 1, 8) / 16 + min(back, MAX_RETURNS) * RETURN_WEIGHT
    value = (reporters + 2 * math.log1p(repeats) + 2 * math.log1p(support)) * persistence
    if half_life_days and now is not None:
        age = max((now - max(m.time for m in members)).total_seconds() / 86400, 0.0)
        value *= 0.5 ** (age / half_life_days)
    return round(value, 2), reporters, support, weeks, back


def hot_issues(
    messages: Sequence[Message],
    *,
    top: int | None = None,
    now: datetime | None = None,
    half_life_days: float | None = None,
    min_reports: int = MIN_REPORTS,
    threshold: float = THRESHOLD,
    window_days: float = WINDOW_DAYS,
) -> list[HotIssue]:
    """The hot issues, hottest first."""
    found: list[HotIssue] = []
    if not messages:
        return found
    vec, x = _vectorizer(messages)
    rows: dict[int, list[int]] = {}
    for idx in _group(messages, x, vec.get_feature_names_out(), threshold, None, window_days):
        if len(idx) < min_reports:
            continue
        members = [messages[i] for i in idx]
        value, reporters, support, weeks, back = heat(
            members, now=now, half_life_days=half_life_days, window_days=window_days
        )
        if reporters < MIN_REPORTERS:
            continue
        places = Counter(p for m in members for p in dict.fromkeys(m.places))
        # Shown: the places named in two or more reports, compounds and organisations before
        # roads and districts, the most named first.
        ranked_places = [
            p
            for p, _k in sorted(
                ((p, k) for p, k in places.items() if k >= 2 or len(places) == 1),
                key=lambda pk: (not _specific(pk[0]), -pk[1]),
            )
        ]
        found.append(
            HotIssue(
                rank=0,
                heat=value,
                ids=[m.id for m in members],
                place=ranked_places[0] if ranked_places else None,
                places=ranked_places[:5],
                time_from=min(m.time for m in members),
                time_to=max(m.time for m in members),
                summary="",
                reports=len(members),
                reporters=reporters,
                support=support,
                active_weeks=weeks,
                returns=back,
                departments=sorted({m.department for m in members if m.department}),
                members=members,
            )
        )
        rows[id(found[-1])] = idx
    found.sort(key=lambda h: (-h.heat, -h.reports, h.time_from))
    if top is not None:
        found = found[:top]
    for rank, h in enumerate(found, 1):
        h.rank = rank
        centre = np.asarray(x[rows[id(h)]].mean(axis=0)).ravel()
        h.summary = _summary(h, vec, centre)
    return found


@dataclass(frozen=True)
class SummaryRules:
    drop: list[re.Pattern[str]]
    sentence_end: re.Pattern[str]
    clause_end: re.Pattern[str]


@lru_cache(maxsize=1)
def summary_rules() -> SummaryRules:
    with DATA_PATH.open("rb") as fh:
        d = tomllib.load(fh)["summary"]
    return SummaryRules(
        drop=[re.compile(p) for p in d["drop"]],
        sentence_end=re.compile(f"[{re.escape(d['sentence_end'])}]"),
        clause_end=re.compile(f"[{re.escape(d['clause_end'])}]"),
    )


def plain(sentence: str) -> str:
    """A sentence without the words that are not the matter: salutations (尊敬的领导：您好！),
    self-introductions (我是幸福里小区的业主，), leading 关于/反映/投诉 and closing thanks."""
    rules = summary_rules()
    s = sentence.strip()
    for _ in range(3):  # 尊敬的领导：您好！我是…的业主，… : each cut can uncover the next
        before = s
        for p in rules.drop:
            s = p.sub("", s).strip(" \u3000，,。：:！!；;")
        if s == before:
            break
    return s


def _pieces(m: Message) -> list[tuple[str, bool]]:
    """Candidate lines of one report: its title (marked True when the citizen wrote it, not
    cut from the text) and the sentences of its opening, a long sentence as runs of clauses
    that fit one line."""
    rules = summary_rules()
    out: list[tuple[str, bool]] = []
    title = m.title.strip()
    if title and not title.endswith("…"):
        t = plain(title)
        if len(t) >= SUMMARY_MIN:
            out.append((t[:SUMMARY_MAX], True))
    for sentence in rules.sentence_end.split(m.text[:TEXT_HEAD]):
        s = plain(sentence)
        if len(s) < SUMMARY_MIN:
            continue
        if len(s) <= SUMMARY_MAX:
            out.append((s, False))
            continue
        clauses = [c for c in rules.clause_end.split(s) if c.strip()]
        for i in range(len(clauses)):
            run = ""
            for c in clauses[i:]:
                if len(run) + len(c) + 1 > SUMMARY_MAX:
                    break
                run = f"{run}，{c}" if run else c
            run = plain(run)
            if len(run) >= SUMMARY_MIN:
                out.append((run, False))
    return out


def _summary(h: HotIssue, vec: Any, centre: np.ndarray) -> str:
    """One line for the supervisor: the piece of the members' titles and sentences closest to
    the issue's centre (cosine of TF-IDF vectors), shorter pieces and citizens' own titles
    preferred; the place in front when the line does not name it."""
    vocab: dict[str, int] = vec.vocabulary_
    idf: np.ndarray = vec.idf_
    best, best_score = "", -1.0
    seen: set[str] = set()
    for m in h.members:
        for piece, is_title in _pieces(m):
            if piece in seen:
                continue
            seen.add(piece)
            counts = Counter(w for w in _words(piece) if w in vocab)
            if len(counts) < 2:
                continue
            cols = np.fromiter((vocab[w] for w in counts), dtype=np.int64)
            weights = np.fromiter(
                ((1 + math.log(k)) * idf[vocab[w]] for w, k in counts.items()), dtype=np.float64
            )
            score = float(weights @ centre[cols]) / (float(np.linalg.norm(weights)) or 1.0)
            score *= (TITLE_PREFERENCE if is_title else 1.0) * (
                1 - len(piece) / (2.5 * SUMMARY_MAX)
            )
            if score > best_score:
                best, best_score = piece, score
    if not best:  # no member says enough: its opening words, without the salutation
        first = h.members[0]
        best = plain(first.title.strip() or first.text.strip())[:SUMMARY_MAX] or first.title
    if h.place and _names_most(h.place, h.members) and not _names(h.place, best):
        best = f"{h.place}：{best}"
    return best


def _names(place: str, text: str) -> bool:
    """``text`` names the place, or its last three or more characters (魅力之城 for 万科魅力之城)."""
    key = place_key(place)
    return any(key[i:] in text for i in range(max(len(key) - 2, 1)))


def _names_most(place: str, members: Sequence[Message]) -> bool:
    """At least half the members name the place: it is the issue's place, not one member's."""
    return sum(_names(place, f"{m.title} {m.text}") for m in members) * 2 >= len(members)


def _int(value: Any) -> int:
    try:
        return int(str(value).strip() or 0)
    except ValueError:
        return 0


def messages_from_rows(rows: Iterable[dict[str, str]]) -> list[Message]:
    """CSV rows (id, title, text, time, and optional user, likes, dislikes) as messages.
    A row without a readable time is skipped (its id is reported by the caller)."""
    out: list[Message] = []
    for row in rows:
        try:
            when = datetime.fromisoformat((row.get("time") or "").strip().replace("/", "-"))
        except ValueError:
            continue
        out.append(
            Message(
                id=str(row.get("id", "")).strip(),
                title=row.get("title") or "",
                text=row.get("text") or "",
                time=when,
                user=(row.get("user") or "").strip() or None,
                likes=_int(row.get("likes")),
                dislikes=_int(row.get("dislikes")),
            )
        )
    return out
