"""答复意见评价: how good is a bureau's answer to a citizen's message?

Four judgements, as the district's answer-quality guide defines them (docs/insight.md):

- relevance (0–2): does the answer address the matter, and the citizen's actual questions?
  Measured by how many of the message's key terms (title weighted double) and of its question
  sentences the substance of the answer takes up.
- completeness (0–2): facts found, action taken or promised (by when), or a reason why not.
  Measured by sentences of the substance that carry such cues; an answer that only forwards the
  matter or sends the citizen elsewhere has none.
- basis (0–2): a named law, regulation, policy document or standard (《…》, 第…条, 文号), where
  the matter needs one (fees, compensation, penalties, eligibility, permits, refusals);
  "根据相关规定" alone is vague (1). A factual answer to a matter needing no basis gets 2.
- timeliness: working days from signing (or the message, for imported data) to the answer,
  against the answer limit. Kept apart from the score (the guide judges the text only).

``score`` (0–100) is the mean of the three content judgements on a continuous scale, so that
answers rank finely; ``acceptable`` is the supervisor's verdict (would it be sent back?), with
``reasons`` in Chinese. The cue lists live in ``data/answer_review.toml``.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from classifiers import segment

DATA_PATH = Path(__file__).resolve().parent / "data" / "answer_review.toml"

# A substance shorter than this (characters, boilerplate removed) says nothing.
MIN_SUBSTANCE = 12
# How many of the message's key terms relevance looks for.
KEY_TERMS = 14
# An acceptable answer takes up the matter (relevance at least this, of 2) and says something
# concrete about it (completeness at least this, of 2: a fact found and an action, or a reason).
ACCEPT_RELEVANCE = 1.5
ACCEPT_COMPLETENESS = 1.0

_SENTENCE_END = re.compile(r"(?<=[。！？!?；;\n])")
_NUMBERISH = re.compile(r"\d")


@dataclass(frozen=True)
class Cues:
    boilerplate: list[re.Pattern[str]]
    forwarding: list[re.Pattern[str]]
    facts: list[re.Pattern[str]]
    actions: list[re.Pattern[str]]
    promises: list[re.Pattern[str]]
    explanations: list[re.Pattern[str]]
    named: list[re.Pattern[str]]
    vague: list[re.Pattern[str]]
    stated: list[re.Pattern[str]]
    need_message: list[re.Pattern[str]]
    need_reply: list[re.Pattern[str]]
    questions: list[re.Pattern[str]]
    question_types: list[tuple[re.Pattern[str], re.Pattern[str]]]
    generic: frozenset[str]


@lru_cache(maxsize=1)
def cues() -> Cues:
    with DATA_PATH.open("rb") as fh:
        d = tomllib.load(fh)

    def c(items: list[str]) -> list[re.Pattern[str]]:
        return [re.compile(p) for p in items]

    return Cues(
        boilerplate=c(d["boilerplate"]["patterns"]),
        forwarding=c(d["forwarding"]["patterns"]),
        facts=c(d["facts"]["patterns"]),
        actions=c(d["actions"]["patterns"]),
        promises=c(d["promises"]["patterns"]),
        explanations=c(d["explanations"]["patterns"]),
        named=c(d["basis"]["named"]),
        vague=c(d["basis"]["vague"]),
        stated=c(d["basis"]["stated"]),
        need_message=c(d["need"]["message"]),
        need_reply=c(d["need"]["reply"]),
        questions=c(d["questions"]["markers"]),
        question_types=[
            (re.compile(q), re.compile(a)) for q, a in d.get("question_types", {}).values()
        ],
        generic=frozenset(d["generic"]["words"]),
    )


@dataclass
class Timeliness:
    working_days: int
    limit: int
    on_time: bool

    def as_dict(self) -> dict[str, Any]:
        return {"working_days": self.working_days, "limit": self.limit, "on_time": self.on_time}


@dataclass
class Review:
    relevance: int
    completeness: int
    basis: int
    score: float
    acceptable: bool
    reasons: list[str]
    timeliness: Timeliness | None = None
    # Finer detail, for the dashboard and for tuning by reading (not fitting).
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        return "合格" if self.acceptable else "需返工"

    def as_dict(self) -> dict[str, Any]:
        return {
            "relevance": self.relevance,
            "completeness": self.completeness,
            "basis": self.basis,
            "timeliness": self.timeliness.as_dict() if self.timeliness else None,
            "score": self.score,
            "acceptable": self.acceptable,
            "verdict": self.verdict,
            "reasons": self.reasons,
        }


def _any(patterns: list[re.Pattern[str]], text: str) -> bool:
    return any(p.search(text) for p in patterns)


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def substance(reply: str) -> str:
    """The answer without salutations, receipt notes, thanks and sign-off dates."""
    text = reply.replace("_x000D_", "\n")
    for p in cues().boilerplate:
        text = p.sub(" ", text)
    return re.sub(r"\s+", " ", text).strip(" ，,。")


def _terms(text: str) -> list[str]:
    generic = cues().generic
    return [
        t
        for t in segment.tokenize(text)
        if len(t) >= 2
        and t not in generic
        and not (set(t) & segment.PLACEHOLDERS)
        and not _NUMBERISH.search(t)
    ]


def key_terms(title: str, text: str, k: int = KEY_TERMS) -> list[tuple[str, float]]:
    """The message's most telling words: title words count double, first mentions win ties."""
    weights: dict[str, float] = {}
    order: dict[str, int] = {}
    for i, t in enumerate(_terms(title)):
        weights[t] = weights.get(t, 0.0) + 2.0
        order.setdefault(t, i)
    for i, t in enumerate(_terms(text[:1500])):
        weights[t] = weights.get(t, 0.0) + 1.0
        order.setdefault(t, 1000 + i)
    ranked = sorted(weights.items(), key=lambda kv: (-kv[1], order[kv[0]]))
    return ranked[:k]


def question_points(title: str, text: str, limit: int = 5) -> list[str]:
    """The sentences that ask something or demand something (the main points)."""
    c = cues()
    points = [s for s in _sentences(text.replace("_x000D_", "\n")) if _any(c.questions, s)]
    if not points and title:
        points = [title]
    return points[:limit]


def found(term: str, answer: str) -> bool:
    """The term, or most of its character pairs (segmentation differs between texts)."""
    if term in answer:
        return True
    pairs = [term[i : i + 2] for i in range(len(term) - 1)]
    return len(pairs) >= 2 and sum(p in answer for p in pairs) * 2 >= len(pairs)


def _covered(point: str, answer: str) -> bool:
    """The answer takes up the point: it shares its words, and a question of a known kind
    (when, whether, how much, how, why) gets that kind of answer somewhere."""
    terms = sorted(set(_terms(point)), key=lambda t: (-len(t), t))[:4]
    if terms and not any(found(t, answer) for t in terms):
        return False
    for asks, answers in cues().question_types:
        if asks.search(point) and not answers.search(answer):
            return False
    return True


def working_days_between(calendar: Any, start: datetime, end: datetime) -> int:
    """Working days after the day of ``start`` up to and including the day of ``end``."""
    day, last = calendar.local_date(start), calendar.local_date(end)
    n = 0
    while day < last:
        day += timedelta(days=1)
        if _workday(calendar, day):
            n += 1
    return n


def _workday(calendar: Any, day: date) -> bool:
    return bool(calendar.is_workday(day)[0])


def review(
    title: str,
    text: str,
    reply: str,
    *,
    timeliness: Timeliness | None = None,
) -> Review:
    c = cues()
    reasons: list[str] = []
    body = substance(reply or "").lower()  # the message's words are lower-cased too
    sentences = _sentences(body)

    # A sentence that forwards the matter counts as content only if it also says something:
    # a fact, an action, a reason, or a promise with a date (将在3个工作日内…退款).
    def has_content(s: str) -> bool:
        return (
            _any(c.facts, s)
            or _any(c.actions, s)
            or _any(c.explanations, s)
            or (_any(c.promises, s) and bool(_NUMBERISH.search(s)))
        )

    forwarding = [s for s in sentences if _any(c.forwarding, s) and not has_content(s)]
    own = [s for s in sentences if s not in forwarding]

    # -- completeness ------------------------------------------------------------------
    facts = sum(1 for s in own if _any(c.facts, s))
    actions = sum(1 for s in own if _any(c.actions, s))
    explained = sum(1 for s in own if _any(c.explanations, s) or _any(c.named, s))
    promised = [s for s in own if _any(c.promises, s)]
    dated_promises = sum(1 for s in promised if _NUMBERISH.search(s))
    concrete_numbers = sum(1 for s in own if _NUMBERISH.search(s) and len(s) > 10)
    own_len = sum(len(s) for s in own)
    raw = (
        min(facts, 3) * 1.0
        + min(actions, 3) * 0.8
        + min(explained, 3) * 0.6
        + min(len(promised) - dated_promises, 2) * 0.3
        + min(dated_promises, 2) * 0.5
        + min(concrete_numbers, 4) * 0.3
        + min(own_len / 250, 1.0) * 1.0
    )
    substantive = own_len >= MIN_SUBSTANCE and (facts + actions + explained > 0 or own_len >= 150)
    forwarding_only = bool(forwarding) and not substantive
    comp_c = min(raw, 0.4) if not substantive else 2.0 * raw / (raw + 1.2)  # saturates smoothly

    # -- relevance -------------------------------------------------------------------
    keys = key_terms(title, text)
    total = sum(w for _, w in keys) or 1.0
    coverage = sum(w for t, w in keys if found(t, body)) / total
    title_terms = list(dict.fromkeys(_terms(title)))
    title_cov = (
        sum(1 for t in title_terms if found(t, body)) / len(title_terms)
        if title_terms
        else coverage
    )
    points = question_points(title, text)
    missed = [p for p in points if not _covered(p, body)]
    point_cov = 1.0 - len(missed) / len(points) if points else 1.0
    match = 0.45 * coverage + 0.30 * title_cov + 0.25 * point_cov
    if len(body) < MIN_SUBSTANCE:
        rel_c = 0.0
    elif not substantive:
        rel_c = min(match / 0.45 * 2.0, 1.0)  # the matter is named but nothing is said about it
    else:
        # Something concrete was said: an answer in other words than the message's (KTV for
        # 歌厅) still addresses it; missed questions and little shared vocabulary lower it.
        rel_c = min(2.0, 0.9 + match / 0.4 * 1.1)

    # -- basis -----------------------------------------------------------------------
    named = _any(c.named, body)
    # A rule applied but not sourced (属于…范畴, 不得超过…) is referred to, not named.
    vague = _any(c.vague, body) or _any(c.stated, body)
    # The matter needs a basis when the citizen asks about a rule (a fee, an entitlement, a
    # standard) or the answer refuses, decides or charges; a factual fix needs none.
    asked = " ".join(points) if points else title
    needs = _any(c.need_message, f"{title}\n{asked}") or _any(c.need_reply, body)
    if named:
        basis = 2
        basis_c = 2.0
    elif needs:
        basis = 1 if vague else 0
        basis_c = 1.0 if vague else 0.0
    elif substantive and actions:
        basis, basis_c = 2, 2.0  # a factual fix of a matter that needs no basis
    elif substantive:
        # Facts or explanations without anything done: fine where no rule is at stake, but
        # an answer that names its basis still ranks higher.
        basis, basis_c = 2, 1.5
    else:
        basis = 1 if vague else 0  # nothing factual, nothing named: no basis at all
        basis_c = float(basis)

    relevance = 0 if rel_c < 0.5 else (1 if rel_c < 1.5 else 2)
    completeness = 0 if comp_c < 0.5 else (1 if comp_c < 1.3 else 2)
    if missed and len(missed) * 2 > len(points) and completeness == 2:
        completeness = 1  # main points left open
    score = round(100 * (rel_c + comp_c + basis_c) / 6, 1)

    # -- reasons (Chinese, for the clerk and the supervisor) ---------------------------
    if forwarding_only:
        reasons.append("仅转办或让群众另行咨询，未说明调查结果和处理情况")
    elif not substantive:
        reasons.append("答复内容空泛，没有查明的事实、处理结果或不能办理的理由")
    if relevance == 0 and substantive:
        reasons.append("答复与群众反映的事项不对应")
    for p in missed[:3]:
        reasons.append(f"未回应：{_short(p)}")
    if substantive and completeness < 2 and not missed:
        if promised and not dated_promises and not actions:
            reasons.append("只承诺今后处理，未说明由谁、何时办理")
        elif completeness == 1:
            reasons.append("处理情况不够具体")
    if basis == 0:
        reasons.append("未说明依据：此类事项应写明所依据的法律、法规或政策文件")
    elif basis == 1 and needs:
        reasons.append("依据表述笼统（如“根据相关规定”），未写明具体法规或文件名称")
    if timeliness is not None and not timeliness.on_time:
        reasons.append(
            f"答复超期：用时 {timeliness.working_days} 个工作日，时限 {timeliness.limit} 个工作日"
        )

    # A careful supervisor accepts an answer that takes up the citizen's questions and answers
    # them concretely; a missing basis where the matter needs one sends it back.
    acceptable = (
        substantive
        and rel_c >= ACCEPT_RELEVANCE
        and comp_c >= ACCEPT_COMPLETENESS
        and not (needs and basis == 0)
    )  # questions left open are told (未回应：…) but do not decide: many are rhetorical
    return Review(
        relevance=relevance,
        completeness=completeness,
        basis=basis,
        score=score,
        acceptable=acceptable,
        reasons=reasons,
        timeliness=timeliness,
        detail={
            "coverage": round(coverage, 3),
            "title_coverage": round(title_cov, 3),
            "points": len(points),
            "missed": len(missed),
            "facts": facts,
            "actions": actions,
            "explanations": explained,
            "promises": len(promised),
            "forwarding": len(forwarding),
            "relevance_c": round(rel_c, 3),
            "completeness_c": round(comp_c, 3),
            "needs_basis": needs,
            "named_basis": named,
            "vague_basis": vague,
        },
    )


def _short(sentence: str, n: int = 24) -> str:
    s = sentence.strip(" 。，,！!？?；;")
    return s if len(s) <= n else s[:n] + "…"


def _parse_time(value: str | None) -> datetime | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("/", "-"))
    except ValueError:
        return None


def review_rows(
    rows: Iterable[dict[str, str]], calendar: Any, limit: int
) -> Iterator[dict[str, Any]]:
    """Review CSV rows (id, title, text, time, reply, reply_time): one dict per row.

    Times without a zone are the district's local time. Timeliness counts working days from the
    message to the answer (an imported file has no signing time) against ``limit``.
    """
    for row in rows:
        start, end = _parse_time(row.get("time")), _parse_time(row.get("reply_time"))
        timely = None
        if start and end:
            if start.tzinfo is None:
                start = start.replace(tzinfo=calendar.tz)
            if end.tzinfo is None:
                end = end.replace(tzinfo=calendar.tz)
            days = working_days_between(calendar, start, end)
            timely = Timeliness(days, limit, days <= limit)
        r = review(row.get("title") or "", row.get("text") or "", row.get("reply") or "",
                   timeliness=timely)  # fmt: skip
        yield {"id": row.get("id", ""), **r.as_dict()}
