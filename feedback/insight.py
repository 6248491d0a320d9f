"""The supervisor's insight desk, as a part of the service: hot issues over the reports, the
review of bureaus' answers, 附议 by citizens, 督办 of a whole issue, return for rework.

Reached as ``service.insight`` (web/ and bots/ talk to the service only). The engines are
feedback.hot and feedback.answer_review; this module feeds them the service's reports and
keeps what must be kept (tables of migration 0009): reviews, support, issue escalations.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from feedback import answer_review, hot, permissions, validation, workflow
from feedback.anonymise import anonymise
from feedback.errors import InvalidTransition, NotFound, PermissionDenied, ValidationError
from feedback.memory import give_back_freed_memory
from feedback.models import Actor, Report, Role, Status
from feedback.store import ReportFilter
from feedback.store import schema as t
from feedback.store.rows import iso, js, ts
from feedback.store.sql import Query, cached, param
from feedback.workflow import Action

if TYPE_CHECKING:
    from feedback.service import FeedbackService

log = logging.getLogger(__name__)
HOT_DAYS = 90  # hot issues are looked for among the reports of the last 90 days
HOT_HALF_LIFE_DAYS = 30  # the heat of an issue nobody reported for 30 days halves
# The grouping holds a similarity matrix of the reports (n² floats): the newest 6,000 reports
# of the period at most (about 150 MB while it runs, a few seconds on one core).
HOT_MAX_REPORTS = 6000
BACKLOG = 300  # answers without a review reviewed per dashboard view (about a second)
PUBLIC_MIN = 5  # the small-count threshold of the public page (domain notes §6)
PUBLIC_TTL = timedelta(minutes=5)
PUBLIC_MAX_AGE = timedelta(hours=1)  # older than this, a visitor waits for the fresh list
ANSWERED = tuple(workflow.in_order(workflow.HAS_ANSWER))

R, AR, SUP, HOT = t.reports, t.answer_reviews, t.report_support, t.hot_escalations
SUPPORT_COUNTS = Query(
    sa.select(SUP.c.report_id, sa.func.count().label("n")).group_by(SUP.c.report_id)
)
HOT_ESCALATIONS = Query(
    sa.select(HOT.c.issue_key, HOT.c.actor_id, HOT.c.note, HOT.c.created_at,
              HOT.c.tracking_numbers).order_by(HOT.c.id)
)  # fmt: skip
ADD_HOT_ESCALATION = Query(sa.insert(HOT).values({c: param(c) for c in (
    "issue_key", "summary", "tracking_numbers", "actor_id", "note", "created_at")}))  # fmt: skip
PUBLISHED_STATE = Query(sa.select(R.c.status, R.c.answer, R.c.publish).where(R.c.id == param("id")))
SUPPORTED = Query(
    sa.select(SUP.c.report_id).where(SUP.c.report_id == param("id"), SUP.c.voter == param("voter"))
)
ADD_SUPPORT = Query(
    sa.insert(SUP).values(report_id=param("id"), voter=param("voter"), created_at=param("at"))
)
REVIEWS_OF = Query(sa.select(AR).where(AR.c.report_id.in_(param("ids", expanding=True))))
DROP_REVIEW = Query(sa.delete(AR).where(AR.c.report_id == param("report_id")))
_REVIEW_COLUMNS = ("report_id", "answered_at", "department", "relevance", "completeness",
                   "basis", "score", "acceptable", "reasons", "reviewed_at")  # fmt: skip
ADD_REVIEW = Query(sa.insert(AR).values({c: param(c) for c in _REVIEW_COLUMNS}))
RETURNED = Query(
    sa.update(AR).where(AR.c.report_id == param("report_id")).values(returned_at=param("at"))
)
NOT_REVIEWED = Query(
    sa.select(R.c.tracking_number)
    .select_from(R.outerjoin(AR, AR.c.report_id == R.c.id))
    .where(R.c.answer.is_not(None), R.c.answered_at.is_not(None), AR.c.report_id.is_(None))
    .order_by(R.c.id.desc())
    .limit(param("limit"))
)


def _quality_where(one_bureau: bool) -> list[sa.ColumnElement[bool]]:
    out = [AR.c.answered_at >= param("since"), AR.c.answered_at < param("until"),
           AR.c.department.is_not(None)]  # fmt: skip
    if one_bureau:
        out.append(AR.c.department == param("department"))
    return out


def _quality_totals(one_bureau: bool) -> sa.Select[Any]:
    return (
        sa.select(
            AR.c.department,
            sa.func.count().label("n"),
            sa.func.avg(AR.c.score).label("mean"),
            sa.func.count().filter(AR.c.acceptable == 0).label("rework"),
            sa.func.count().filter(AR.c.returned_at.is_not(None)).label("returned"),
        )
        .where(*_quality_where(one_bureau))
        .group_by(AR.c.department)
    )


def _quality_lowest(one_bureau: bool) -> sa.Select[Any]:
    """Each bureau's ``worst`` lowest-scored answers."""
    rank = sa.func.row_number().over(
        partition_by=AR.c.department, order_by=(AR.c.score, AR.c.report_id)
    )
    w = (
        sa.select(AR.c.department, AR.c.score, AR.c.acceptable, AR.c.reasons,
                  AR.c.returned_at, R.c.tracking_number, R.c.title, R.c.status,
                  rank.label("k"))
        .select_from(AR.join(R, R.c.id == AR.c.report_id))
        .where(*_quality_where(one_bureau))
        .subquery("w")
    )  # fmt: skip
    return sa.select(w).where(w.c.k <= param("worst")).order_by(w.c.department, w.c.k)


@dataclass
class BureauQuality:
    department: str
    name: str
    answers: int
    mean_score: float | None
    rework_share: float | None
    returned: int
    worst: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class PublicHotIssue:
    summary: str
    place: str | None
    reports: int
    time_from: datetime
    time_to: datetime
    departments: list[str]


def voter_key(secret: str, visitor: str) -> str:
    """The stored voice of a visitor: a keyed hash of their cookie value, nothing else."""
    return hashlib.sha256(f"{secret}\x00{visitor}".encode()).hexdigest()[:32]


class InsightDesk:
    def __init__(self, service: FeedbackService):
        self.service = service
        # The last grouping, reused while the reports and their support are the same.
        # By audience (staff, public): the public grouping leaves out reports not to publish.
        self._hot_cache: dict[bool, tuple[Any, list[hot.HotIssue]]] = {}
        # The public page's list, at most PUBLIC_TTL old: anyone may ask for it, often.
        self._public_cache: tuple[datetime, list[PublicHotIssue]] | None = None
        self._public_refresh: asyncio.Task[list[PublicHotIssue]] | None = None
        self._closed = False

    async def close(self) -> None:
        """Stop a refresh still running (the service is closing its store)."""
        self._closed = True
        task, self._public_refresh = self._public_refresh, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    @property
    def store(self) -> Any:
        return self.service.store

    # -- hot issues ----------------------------------------------------------------------

    async def _messages(self, since: datetime, public: bool = False) -> list[hot.Message]:
        reports = await self.store.list_reports(
            ReportFilter(created_from=since, limit=HOT_MAX_REPORTS, newest_first=True)
        )
        reports.reverse()
        if public:
            # The citizen refused publication: the text never feeds a public summary.
            reports = [r for r in reports if r.publish]
        support = await self._support_counts([r.id for r in reports if r.id is not None])
        out = []
        for r in reports:
            out.append(
                hot.Message(
                    id=r.tracking_number,
                    title=r.title,
                    text=r.text,
                    time=r.created_at,
                    user=_reporter(r),
                    support=support.get(r.id or 0, 0),
                    department=r.department,
                )
            )
        return out

    async def _support_counts(self, ids: list[int]) -> dict[int, int]:
        if not ids:
            return {}
        rows = await self.store.fetch(SUPPORT_COUNTS, {})
        wanted = set(ids)
        return {int(r["report_id"]): int(r["n"]) for r in rows if int(r["report_id"]) in wanted}

    async def hot_issues(
        self, actor: Actor, *, days: int = HOT_DAYS, top: int | None = 10
    ) -> list[hot.HotIssue]:
        """The hottest issues of the last ``days`` days (supervisors and administrators)."""
        if not (permissions.is_supervisor(actor) or actor.role is Role.ADMIN):
            raise PermissionDenied("只有区司法局监督人员可以查看热点问题。")
        found = await self._all_hot(days)
        return found if top is None else found[:top]

    async def _all_hot(self, days: int, public: bool = False) -> list[hot.HotIssue]:
        now = self.service.clock()
        messages = await self._messages(now - timedelta(days=days), public)
        # Heat decays by the day; membership changes only with reports and support.
        key = (days, now.date(), tuple((m.id, m.support, m.department) for m in messages))
        cached = self._hot_cache.get(public)
        if cached is not None and cached[0] == key:
            return cached[1]
        found = await self.service.in_thread(_hot, messages, None, now)
        self._hot_cache[public] = (key, found)
        return found

    async def hot_escalations(self) -> dict[str, dict[str, Any]]:
        """The latest 督办 of each hot issue, by issue key."""
        rows = await self.store.fetch(HOT_ESCALATIONS, {})
        # The time as a moment (kept as ISO text in UTC): pages show it in the district's zone.
        return {r["issue_key"]: {**r, "created_at": ts(r["created_at"])} for r in rows}

    async def escalate_issue(
        self, actor: Actor, issue_key: str, tracking_numbers: list[str], note: str | None
    ) -> tuple[list[str], list[str]]:
        """督办 of a whole hot issue in one action: every member report still open is escalated
        (each in its own record), and the issue's escalation is kept. Returns (escalated,
        skipped: closed or answered reports)."""
        permissions.require_supervisor(actor)
        members = list(dict.fromkeys(t.strip() for t in tracking_numbers if t and t.strip()))
        if not members:
            raise ValidationError("该热点问题没有可督办的诉求。", field="issue")
        text = validation.clean_text(note) or "区司法局对该热点问题统一督办：请尽快办理并答复。"
        done, skipped = [], []
        for tn in members:
            report = await self.store.get_report(tn)
            if report is None:
                continue
            if report.status not in workflow.ALLOWED[Action.ESCALATE]:
                skipped.append(tn)
                continue
            try:
                await self.service.escalate(actor, tn, f"热点问题督办：{text}")
            except (InvalidTransition, NotFound):
                skipped.append(tn)
                continue
            done.append(tn)
        async with self.store.transaction() as tx:
            await tx.execute(
                ADD_HOT_ESCALATION,
                {"issue_key": issue_key, "summary": text[:200],
                 "tracking_numbers": json.dumps(members), "actor_id": actor.id, "note": text,
                 "created_at": iso(self.service.clock())},
            )  # fmt: skip
        return done, skipped

    async def public_hot_issues(self, *, top: int = 10) -> list[PublicHotIssue]:
        """Hot issues for the public page: anonymised, only those of at least ``PUBLIC_MIN``
        reports from as many people (smaller ones could point at a person). Older than
        PUBLIC_TTL, the list is still shown while a fresh one is made beside the request: the
        grouping of a quarter's reports takes seconds (2.5 s for 2,000), which no visitor
        should wait for; only the very first view after a start does."""
        now = self.service.clock()
        cached = self._public_cache
        if cached is not None and timedelta(0) <= now - cached[0] < PUBLIC_TTL:
            return cached[1][:top]
        idle = self._public_refresh is None or self._public_refresh.done()
        if idle and not self._closed:
            self._public_refresh = asyncio.ensure_future(self._public_now())
            self._public_refresh.add_done_callback(_log_failure)
        if cached is not None and timedelta(0) <= now - cached[0] < PUBLIC_MAX_AGE:
            return cached[1][:top]
        # None yet, or too old to show (refreshes failing, the clock set back): wait for it;
        # every visitor meanwhile waits for the same one.
        if self._public_refresh is None:
            return (await self._public_now())[:top]
        return (await asyncio.shield(self._public_refresh))[:top]

    async def _public_now(self) -> list[PublicHotIssue]:
        now = self.service.clock()
        found = await self._all_hot(HOT_DAYS, public=True)
        names = self.service.config.department_name
        out = []
        for h in found:
            if h.reports < PUBLIC_MIN or h.reporters < PUBLIC_MIN:
                continue
            out.append(
                PublicHotIssue(
                    summary=anonymise(h.summary),
                    place=anonymise(h.place) if h.place else None,
                    reports=h.reports,
                    time_from=h.time_from,
                    time_to=h.time_to,
                    departments=[names(d) for d in h.departments],
                )
            )
        self._public_cache = (now, out)
        return out

    # -- 附议 --------------------------------------------------------------------------------

    async def support(self, report_id: int, voter: str) -> bool:
        """A citizen's 附议 ("我也遇到") on a published report; once per visitor. Returns
        whether this was a new voice."""
        rows = await self.store.fetch(PUBLISHED_STATE, {"id": report_id})
        if (
            not rows
            or rows[0]["answer"] is None
            or not rows[0]["publish"]
            or rows[0]["status"] not in {s.value for s in ANSWERED}
        ):
            raise NotFound("该诉求未公开，不能附议。")
        async with self.store.transaction() as tx:
            voice = {"id": report_id, "voter": voter}
            if await tx.fetch(SUPPORTED, voice):
                return False
            await tx.execute(ADD_SUPPORT, {**voice, "at": iso(self.service.clock())})
        return True

    async def support_counts(self, report_ids: list[int]) -> dict[int, int]:
        return await self._support_counts(report_ids)

    # -- answer quality ----------------------------------------------------------------------

    def _timeliness(self, report: Report, at: datetime) -> answer_review.Timeliness | None:
        start = report.accepted_at or report.created_at
        cal = self.service.calendar
        days = answer_review.working_days_between(cal, start, at)
        limit = self.service.answer_days(report) + (
            self.service.config.clocks.extension_max if report.extension_used else 0
        )
        on_time = report.deadlines.answer_by is None or at <= report.deadlines.answer_by
        return answer_review.Timeliness(days, limit, on_time)

    async def review_draft(self, actor: Actor, tracking_number: str, text: str) -> Any:
        """The review of an answer before it is sent (the clerk's warning; never a block)."""
        text = validation.answer_text(text)  # too short or too long: the same error as sending
        view = await self.service.staff_view(actor, tracking_number)
        r = view.report
        timely = self._timeliness(r, self.service.clock())
        return await self.service.in_thread(
            lambda: answer_review.review(r.title, r.text, text, timeliness=timely)
        )

    async def review_of(self, report: Report) -> dict[str, Any] | None:
        """The stored review of the report's current answer, made now if missing."""
        if not report.answer or report.answered_at is None or report.id is None:
            return None
        reviews = await self._ensure_reviews([report])
        return reviews.get(report.id)

    async def _ensure_reviews(self, reports: list[Report]) -> dict[int, dict[str, Any]]:
        ids = [r.id for r in reports if r.id is not None]
        have: dict[int, dict[str, Any]] = {}
        for chunk in _chunks(ids, 500):
            for row in await self.store.fetch(REVIEWS_OF, {"ids": chunk}):
                have[int(row["report_id"])] = row
        todo = [
            r
            for r in reports
            if r.id is not None
            and r.answer
            and r.answered_at is not None
            and (r.id not in have or ts(have[r.id]["answered_at"]) != r.answered_at)
        ]
        if todo:
            made = await self.service.in_thread(self._review_all, todo)
            now = iso(self.service.clock())
            async with self.store.transaction() as tx:
                for r, rv in made:
                    assert r.id is not None
                    await tx.execute(DROP_REVIEW, {"report_id": r.id})
                    values = (r.id, iso(r.answered_at), r.department, rv.relevance,
                              rv.completeness, rv.basis, rv.score, int(rv.acceptable),
                              json.dumps(rv.reasons, ensure_ascii=False), now)  # fmt: skip
                    await tx.execute(ADD_REVIEW, dict(zip(_REVIEW_COLUMNS, values, strict=True)))
                    have[r.id] = {
                        "report_id": r.id,
                        "answered_at": iso(r.answered_at),
                        "department": r.department,
                        "relevance": rv.relevance,
                        "completeness": rv.completeness,
                        "basis": rv.basis,
                        "score": rv.score,
                        "acceptable": int(rv.acceptable),
                        "reasons": json.dumps(rv.reasons, ensure_ascii=False),
                        "returned_at": None,
                    }
        out = {}
        for rid, row in have.items():
            out[rid] = {
                **row,
                "acceptable": bool(row["acceptable"]),
                "reasons": js(row["reasons"]) or [],
                "verdict": "合格" if row["acceptable"] else "需返工",
            }
        return out

    def _review_all(self, reports: list[Report]) -> list[tuple[Report, answer_review.Review]]:
        out = []
        for r in reports:
            assert r.answered_at is not None and r.answer is not None
            timely = self._timeliness(r, r.answered_at)
            out.append((r, answer_review.review(r.title, r.text, r.answer, timeliness=timely)))
        return out

    async def quality_by_bureau(
        self,
        actor: Actor,
        since: datetime,
        until: datetime,
        *,
        worst: int = 3,
    ) -> list[BureauQuality]:
        """Per bureau: answers in the period, mean score, share needing rework, answers
        returned, the worst examples. (The 考核 score these feed is a figure of the dashboard:
        feedback.stats.Figures.assessment_score.)"""
        if not (permissions.is_supervisor(actor) or actor.role is Role.STAFF):
            raise PermissionDenied()
        await self.review_backlog()
        one_bureau = not permissions.is_supervisor(actor)
        params = {"since": iso(since), "until": iso(until), "department": actor.department,
                  "worst": worst}  # fmt: skip
        # Aggregated by the database: a year of a large district is many answers.
        totals = await self.store.fetch(cached(_quality_totals, one_bureau), params)
        lowest = await self.store.fetch(cached(_quality_lowest, one_bureau), params)
        config = self.service.config
        examples: dict[str, list[dict[str, Any]]] = {}
        for row in lowest:
            examples.setdefault(row["department"], []).append(
                {
                    "tracking_number": row["tracking_number"],
                    "title": row["title"],
                    "score": float(row["score"]),
                    "verdict": "合格" if row["acceptable"] else "需返工",
                    "reasons": js(row["reasons"]) or [],
                    "returned": row["returned_at"] is not None,
                    "can_return": row["status"] == Status.ANSWERED.value
                    and row["returned_at"] is None,
                }
            )
        out = []
        for row in totals:
            dept, n = row["department"], int(row["n"])
            mean = float(row["mean"])
            bq = BureauQuality(
                department=dept,
                name=config.department_name(dept),
                answers=n,
                mean_score=round(mean, 1),
                rework_share=int(row["rework"]) / n,
                returned=int(row["returned"]),
                worst=examples.get(dept, []),
            )
            out.append(bq)
        out.sort(key=lambda b: (b.mean_score or 0, b.department))
        return out

    async def review_backlog(self, limit: int = BACKLOG) -> int:
        """Review answers that have no review yet (answers given before this desk existed, or
        through the API and bot), newest first, at most ``limit`` per call."""
        rows = await self.store.fetch(NOT_REVIEWED, {"limit": limit})
        reports = [r for row in rows if (r := await self.store.get_report(row["tracking_number"]))]
        if reports:
            await self._ensure_reviews(reports)
        return len(reports)

    async def return_for_rework(self, actor: Actor, tracking_number: str, reason: str) -> Report:
        """A supervisor returns an answer to the bureau (退回重新答复): recorded in the report's
        chain with the review, the report is back in the bureau's hands with a new answer
        deadline, the citizen's own reopen stays unused."""
        permissions.require_supervisor(actor)
        why = validation.reason(reason, "reason", "退回理由")
        report = await self.store.get_report(tracking_number)
        if report is None:
            raise NotFound()
        review = await self.review_of(report)
        service = self.service

        def change(r: Report, now: datetime) -> dict[str, Any]:
            if r.status is not Status.ANSWERED:
                raise InvalidTransition("只有已答复、尚未办结的诉求才能退回重新答复。")
            workflow.apply(Action.REOPEN, r)
            r.supervised = True
            r.deadlines.answer_by = service.calendar.add_working_days(
                now, service.answer_days(r)
            ).due
            r.deadlines.rate_by = None
            r.warned_for = r.escalated_for = None
            return {
                "rework": True,
                "reason": why,
                "review": {
                    "score": review["score"],
                    "reasons": review["reasons"],
                }
                if review
                else None,
            }

        updated = await service._staff_act(actor, tracking_number, Action.REOPEN, change)
        async with self.store.transaction() as tx:
            await tx.execute(RETURNED, {"at": iso(service.clock()), "report_id": updated.id})
        return updated


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("public hot issues: refresh failed", exc_info=task.exception())


def _hot(messages: list[hot.Message], top: int | None, now: datetime) -> list[hot.HotIssue]:
    found = hot.hot_issues(messages, top=top, now=now, half_life_days=HOT_HALF_LIFE_DAYS)
    give_back_freed_memory()  # the grouping's matrices and token lists: ~30-50 MB at 2,000
    return found


def _reporter(r: Report) -> str | None:
    """Who reported, for counting distinct people: a hash of the phone or chat, or None for an
    anonymous report (a person of its own)."""
    if r.anonymous:
        return None
    key = r.contact.phone or (str(r.contact.telegram_chat_id) if r.contact.telegram_chat_id else "")
    return hashlib.sha256(key.encode()).hexdigest()[:16] if key else None


def _chunks(items: list[int], n: int) -> list[list[int]]:
    return [items[i : i + n] for i in range(0, len(items), n)]
