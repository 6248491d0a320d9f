"""The public page's search index: the ANONYMISED text of published reports (migration 0007).

Triggers queue every report whose title, text, answer, status, bureau or answer time changes
(`search_dirty`). `update()` reads a batch of queued reports, masks them with
feedback.anonymise outside any transaction (the tagger is slow), then in one short write
transaction stores the masked text of those still unchanged and drops them from the queue; a
report changed meanwhile stays queued for the next batch. Raw text never reaches the index, so a
search can only ever match what the public page shows. When the masking rules change (a new
feedback/anonymise.py), the index is emptied and rebuilt with the new ones.

SQLite: an FTS5 table with the trigram tokenizer: any substring of three or more characters is
an index lookup, and so are shorter words, through marks of every character and pair of
characters appended to the indexed answer (`_markers`). PostgreSQL: a plain table read with
strpos (a pg_trgm index could be added without changing the code).
"""

from __future__ import annotations

import asyncio
import inspect
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from classifiers import segment
from feedback import anonymise as anonymise_module
from feedback import workflow
from feedback.anonymise import anonymise
from feedback.models import Status
from feedback.store import Store
from feedback.store import schema as t
from feedback.store.rows import js, ts
from feedback.store.sql import DIALECTS, Query, cached, insert, param

if TYPE_CHECKING:
    from feedback.stats import Stats

PUBLISHED = tuple(s.value for s in workflow.in_order(workflow.PUBLISHED))
BATCH = 500
LOCK = "feedback-search"
MIN_INDEXED = 3  # the trigram tokenizer's shortest indexed substring
MANY = 5000  # matches above which a search walks the answered reports newest first
# Marks appended to the indexed answer (SQLite) so one- and two-character words are index
# lookups too (see _markers); the page never shows the indexed text.
MARKS, CHAR_MARK, PAIR_END = "\x1d", "\x1e", "\x1f"
FIELDS = ("title", "text", "answer")
RULES_COUNTER = "search_rules"  # the masking rules the index was built with


def _postgres(store: Store) -> bool:
    return store.dialect == "postgresql"


def _index(dialect: str) -> sa.TableClause:
    """The index table as each dialect has it (migration 0007; not in store.schema, whose
    tables are the same on both): FTS5 keyed by rowid on SQLite, report_id on PostgreSQL."""
    key = "report_id" if dialect == "postgresql" else "rowid"
    return sa.table("public_search", sa.column(key), *(sa.column(f) for f in FIELDS))


INDEX = {dialect: _index(dialect) for dialect in DIALECTS}
R, SD = t.reports, t.search_dirty


def _key(dialect: str) -> Any:
    return INDEX[dialect].c[0]


RULES_OF = Query(sa.select(t.counters.c.value).where(t.counters.c.name == param("name")))


def _set_rules(dialect: str) -> Any:
    upsert = insert(dialect, t.counters).values(name=param("name"), value=param("value"))
    return upsert.on_conflict_do_update(
        index_elements=["name"], set_={"value": upsert.excluded.value}
    )


SET_RULES = Query(_set_rules)
CLEAR_INDEX = Query(lambda d: sa.delete(INDEX[d]))
QUEUE_ANSWERED = Query(
    lambda d: (
        insert(d, SD)
        .from_select(["report_id"], sa.select(R.c.id).where(R.c.answer.is_not(None)))
        .on_conflict_do_nothing()
    )
)
QUEUED = Query(
    sa.select(SD.c.report_id.label("qid"), R.c.id, R.c.title, R.c.text, R.c.answer, R.c.status,
              R.c.publish)
    .select_from(SD.outerjoin(R, R.c.id == SD.c.report_id))
    .order_by(SD.c.report_id)
    .limit(param("limit"))
)  # fmt: skip
NOW = Query(
    sa.select(R.c.id, R.c.title, R.c.text, R.c.answer, R.c.status).where(
        R.c.id.in_(param("ids", expanding=True))
    )
)
DROP_INDEXED = Query(lambda d: sa.delete(INDEX[d]).where(_key(d).in_(param("ids", expanding=True))))
ADD_INDEXED = Query(
    lambda d: sa.insert(INDEX[d]).values(
        {_key(d).name: param("id"), **{f: param(f) for f in FIELDS}}
    )
)
UNQUEUE = Query(sa.delete(SD).where(SD.c.report_id.in_(param("ids", expanding=True))))


@asynccontextmanager
async def _no_lock() -> AsyncIterator[bool]:
    yield True


def _published(row: dict[str, Any]) -> bool:
    """Answered, and the citizen did not refuse publication: only such text is indexed."""
    return (
        row["id"] is not None
        and row["status"] in PUBLISHED
        and bool(row["answer"])
        and bool(row.get("publish", True))
    )


def _masked(rows: list[dict[str, Any]], markers: bool) -> dict[int, tuple[str, str, str]]:
    out = {}
    for r in rows:
        if _published(r):
            title, text, answer = (anonymise(r[f]) for f in FIELDS)
            marks = _markers(title, text, answer) if markers else ""
            out[int(r["id"])] = (title, text, answer + marks)
    return out


def _markers(*fields: str) -> str:
    """Every character and pair of characters of the masked text, as marks the trigram index
    finds: pair xy as "xy\x1f", character c as "\x1ec\x1e". Every three characters of the
    marks hold a control character, which a query never has, so a search of three or more
    characters only ever matches the text itself."""
    pairs: set[str] = set()
    chars: set[str] = set()
    for field in fields:
        clean = [c for c in field if not _control(c)]
        chars.update(clean)
        pairs.update(a + b for a, b in zip(field, field[1:], strict=False) if not _control(a + b))
    return (
        MARKS
        + "".join(p + PAIR_END for p in sorted(pairs))
        + "".join(CHAR_MARK + c + CHAR_MARK for c in sorted(chars))
    )


def _control(text: str) -> bool:
    return any(ord(c) < 0x20 for c in text)


def _same(a: dict[str, Any] | None, b: dict[str, Any]) -> bool:
    if a is None:
        return b["id"] is None
    return all(a[k] == b[k] for k in (*FIELDS, "status"))


async def update(store: Store, limit: int | None = None) -> int:
    """Index the queued reports (at most about ``limit``); returns how many were handled.

    One caller at a time (an advisory lock); a second returns 0 at once."""
    lock = getattr(store, "try_advisory_lock", None)
    async with lock(LOCK) if lock is not None else _no_lock() as got:
        if not got:
            return 0
        await _follow_rules(store)
        done = 0
        while limit is None or done < limit:
            handled = await _batch(store, BATCH if limit is None else min(BATCH, limit - done))
            if not handled:
                break
            done += handled
        return done


def _fingerprint() -> int:
    """The masking rules this process runs: the source of feedback.anonymise as imported
    (read once: the file on disk may change under a running process)."""
    return zlib.crc32(Path(inspect.getfile(anonymise_module)).read_bytes())


RULES_VERSION = _fingerprint()


async def _follow_rules(store: Store) -> None:
    """When the masking rules change, text masked by the old ones leaves the index at once
    (it might hold what the new rules hide) and every published report is queued again."""
    version = RULES_VERSION
    rows = await store.fetch(RULES_OF, {"name": RULES_COUNTER})
    if rows and int(rows[0]["value"]) == version:
        return
    async with store.transaction() as tx:
        await tx.execute(CLEAR_INDEX, {})
        await tx.execute(QUEUE_ANSWERED, {})
        await tx.execute(SET_RULES, {"name": RULES_COUNTER, "value": version})


async def _batch(store: Store, size: int) -> int:
    rows = await store.fetch(QUEUED, {"limit": size})
    if not rows:
        return 0
    masked = await asyncio.to_thread(_masked, rows, not _postgres(store))
    ids = [int(r["qid"]) for r in rows]
    async with store.transaction() as tx:
        now = {int(r["id"]): r for r in await tx.fetch(NOW, {"ids": ids})}
        # Only reports unchanged since they were read: their masked text is current.
        settled = [r for r in rows if _same(now.get(int(r["qid"])), r)]
        if not settled:
            return len(rows)
        done = [int(r["qid"]) for r in settled]
        await tx.execute(DROP_INDEXED, {"ids": done})
        for rid in done:
            if rid in masked:
                values = dict(zip(FIELDS, masked[rid], strict=True))
                await tx.execute(ADD_INDEXED, {"id": rid, **values})
        await tx.execute(UNQUEUE, {"ids": done})
    return len(rows)


MAX_TERMS = 8  # words of one search; more would only slow the query down


def search_terms(query: str) -> list[str]:
    """The words a search looks for, every one of them in the same report.

    Citizens type a phrase (占道经营, 小区不交物业费) that the report may word differently, so the
    query is cut into dictionary words (classifiers' own segmenter) and each is looked up on its
    own. Characters the dictionary leaves single stay joined to their single neighbours (a name,
    不交), so a search never degenerates into single characters; stopwords and punctuation drop
    out unless nothing else is left."""
    query = "".join(c for c in query if not _control(c))
    stops = segment.stopwords()
    terms: list[str] = []
    for chunk in query.split():
        run = ""
        for piece in [*_pieces(chunk), ""]:
            if len(piece) == 1 and piece.isalnum():
                run += piece
                continue
            if run and run not in stops:
                terms.append(run)
            run = ""
            if len(piece) > 1 and any(c.isalnum() for c in piece) and piece not in stops:
                terms += _parts(piece)
    terms = terms or query.split()
    return list(dict.fromkeys(terms))[:MAX_TERMS]


def _pieces(chunk: str) -> list[str]:
    """The segmenter's words, with runs of Latin letters and digits (a plate, a number) whole."""
    out: list[str] = []
    for word in segment.words(chunk):
        if out and word.isascii() and word.isalnum() and out[-1].isascii() and out[-1].isalnum():
            out[-1] += word
        else:
            out.append(word)
    return out


def _parts(word: str) -> list[str]:
    """A compound of two-character dictionary words (占道经营 = 占道 + 经营) as those words, so
    that a report saying 占道摆摊经营 is found too; any other word whole."""
    pairs = [word[i : i + 2] for i in range(0, len(word), 2)]
    if len(word) >= 4 and len(word) % 2 == 0 and all(segment.known(p) for p in pairs):
        return pairs
    return [word]


def _phrase(term: str) -> str:
    if len(term) == 1:
        term = CHAR_MARK + term + CHAR_MARK
    elif len(term) == 2:
        term += PAIR_END
    # With trigram tokens, a phrase of three or more characters is a substring match.
    return '"' + term.replace('"', '""') + '"'


def _matching(dialect: str, n_terms: int) -> sa.Select[Any]:
    """The ids of indexed reports whose masked text holds each of ``n_terms`` terms."""
    idx = INDEX[dialect]
    found = sa.select(_key(dialect))
    if n_terms == 0:
        return found.where(sa.false())
    if dialect == "postgresql":
        # A plain table: each term a substring of title, text or answer (strpos).
        return found.where(*(
            sa.or_(*(sa.func.strpos(idx.c[f], param(f"term_{i}")) > 0 for f in FIELDS))
            for i in range(n_terms)
        ))  # fmt: skip
    # SQLite: FTS5's MATCH on the table, every term a phrase of one query (`_phrase`).
    return found.where(sa.literal_column("public_search").op("MATCH")(param("match")))


def matching(store: Store, query: str) -> tuple[sa.Select[Any], dict[str, Any]]:
    """A select of the ids of indexed reports whose masked text holds every search term
    (each in any of title, text and answer), and its parameters."""
    terms = search_terms(query)
    return _matching(store.dialect, len(terms)), _terms(store.dialect, terms)


def _terms(dialect: str, terms: list[str]) -> dict[str, Any]:
    if dialect == "postgresql":
        return {f"term_{i}": term for i, term in enumerate(terms)}
    return {"match": " AND ".join(_phrase(term) for term in terms)} if terms else {}


def _count_matching(dialect: str, n_terms: int) -> sa.Select[Any]:
    first = _matching(dialect, n_terms).limit(param("first")).subquery("x")
    return sa.select(sa.func.count().label("n")).select_from(first)


async def _walk_newest(store: Store, terms: list[str]) -> bool:
    """A word found in many reports (SQLite): walk the answered reports newest first and stop
    at the page, instead of fetching and sorting every match (156,000 matches: ~0.5 s ->
    ~60 ms). A rare word: look its few matches up and sort them (an index walk would read
    the year)."""
    if _postgres(store) or not terms:
        return False
    query = cached(_count_matching, store.dialect, len(terms))
    rows = await store.fetch(query, {**_terms(store.dialect, terms), "first": MANY + 1})
    return int(rows[0]["n"]) > MANY


def _answered(dialect: str, by_number: bool, n_terms: int | None, walk: bool) -> sa.Select[Any]:
    """Answered, published reports of the shown bureaus, newest answer first; ``n_terms``:
    only those the search matches."""
    where = [
        R.c.answered_at >= param("since"),
        R.c.status.in_(PUBLISHED),
        R.c.department.in_(param("departments", expanding=True)),
        R.c.answer.is_not(None),
        # The citizen's choice (publish) is respected here, the one query of published reports.
        R.c.publish == param("publish"),
    ]
    if by_number:
        where.append(R.c.tracking_number == param("tracking_number"))
    if n_terms is not None:
        where.append(R.c.id.in_(_matching(dialect, n_terms)))
    found = (
        sa.select(R.c.id, R.c.title, R.c.text, R.c.answer, R.c.answered_at, R.c.department,
                  R.c.issue_types, R.c.status)
        .where(*where)
        .order_by(R.c.answered_at.desc())
        .limit(param("limit"))
        .offset(param("offset"))
    )  # fmt: skip
    return found.with_hint(R, "INDEXED BY reports_answered", "sqlite") if walk else found


# -- the public page's list of answered reports ----------------------------------------

SEARCH_CATCH_UP = 200  # queued reports indexed before a search (`feedback tick` does the rest)


@dataclass
class PublicReport:
    answered_on: date
    department: str
    issue_types: list[str]
    title: str
    text: str
    answer: str
    status: str
    id: int = 0  # for 附议 (the tracking number stays private)
    support: int = 0


async def answered_reports(
    stats: Stats,
    departments: list[str],
    since: datetime,
    query: str,
    page: int,
    page_size: int,
    tracking_number: str | None = None,
) -> tuple[list[PublicReport], bool]:
    """Answered reports of the shown bureaus, anonymised; (this page, whether there is more).
    ``tracking_number``: only that report (its citizen looking for it on the public page)."""
    if not departments:
        return [], False
    params: dict[str, Any] = {
        "since": stats.time_param(since), "departments": list(departments), "publish": True,
        "tracking_number": tracking_number, "limit": page_size + 1,
        "offset": (page - 1) * page_size,
    }  # fmt: skip
    n_terms, walk = None, False
    if query:
        # The index holds the masked text only: a search cannot probe for a phone number.
        await update(stats.store, limit=SEARCH_CATCH_UP)
        terms = search_terms(query)
        n_terms, walk = len(terms), await _walk_newest(stats.store, terms)
        params.update(_terms(stats.store.dialect, terms))
    dialect = stats.store.dialect
    rows = await stats.store.fetch(
        cached(_answered, dialect, bool(tracking_number), n_terms, walk), params
    )
    # Masking uses a part-of-speech tagger: off the event loop.
    items = await asyncio.to_thread(_publish, stats, rows)
    return items[:page_size], len(items) > page_size


def _publish(stats: Stats, rows: list[dict[str, Any]]) -> list[PublicReport]:
    config = stats.config
    out = []
    for r in rows:
        answered = ts(r["answered_at"])
        assert answered is not None
        out.append(
            PublicReport(
                answered_on=stats.local_day(answered),
                department=config.department_name(r["department"]),
                issue_types=[config.issue_type_name(t) for t in (js(r["issue_types"]) or [])],
                title=anonymise(r["title"]),
                text=anonymise(r["text"]),
                answer=anonymise(r["answer"]),
                status=Status(r["status"]).label,
                id=int(r["id"]),
            )
        )
    return out
