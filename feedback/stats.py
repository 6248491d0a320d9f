"""Supervision statistics (issue 6): how each bureau responds, computed in the database.

The figures are read from a rollup cube (migration 0007: `stats_cube_daily`/`_monthly` counts
and `stats_cube_daily_days`/`_monthly_days` histograms of working days) rather than from the
reports themselves, so they answer in milliseconds at a million reports. The cube has one row
per (issue type, channel, bureau, day or month) plus the totals over channels and over bureaus
(channel/department '*'), so each breakdown reads exactly the level it shows: the issue-type
breakdown over two years sums a few thousand rows, not two hundred thousand.
Triggers mark every inserted or changed report in `stats_dirty`; `refresh()` recomputes the
days (local date of submission) those reports belong to, then their months, in many short
transactions. `feedback tick` calls it, and every read calls it first, so the figures are
current; after a bulk change a read spends at most READ_REFRESH_SECONDS on it, and a read that
finds another refresh running does not wait for it.

Definitions (shown on the dashboard too):
- received: reports submitted in the period (by local date of submission);
- signed on time: signed for (签收) by the sign-for deadline in force at that moment, over
  those signed; answered on time: every answer by its deadline, over those answered;
- time to sign: working days from reaching the bureau to signing; time to answer: working
  days from signing to the first answer; medians and p90 interpolate like percentile_cont;
- send-back rate: send-backs a bureau made (counted against the sender, not the bureau the
  report went on to) over the reports it signed for or sent back; extension rate: over
  received; reopen rate: over answered;
- satisfaction: 满意 + 基本满意 over rated; substantiated: 查实 over those judged;
- overdue now: open reports past their sign-for or answer deadline right now (any period).
"""

from __future__ import annotations

import math
import time as _time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from feedback import workflow
from feedback.config import Config
from feedback.errors import ValidationError
from feedback.incentives import assessment_score
from feedback.models import Channel
from feedback.store import Store
from feedback.store import schema as t
from feedback.store.portable import Statement
from feedback.store.rows import iso, ts
from feedback.store.sql import Query, cached, insert, param

COUNTS = (
    "received", "signed", "signed_on_time", "answered", "answered_on_time", "sent_back",
    "extended", "rated", "satisfied", "reopened", "judged", "substantiated", "escalated",
)  # fmt: skip
ALL_TYPES = "*"
EVERY = "*"  # the cube's total over bureaus or channels
REFRESH_LOCK = "feedback-stats"
REFRESH_REPORTS = 500  # dirty reports turned into dirty days per transaction (one DELETE)
# A read brings the rollup up to date first, but after a bulk change it stops after this long
# and shows what is there; `feedback tick` finishes the work in the background.
READ_REFRESH_SECONDS = 5.0
NO_TYPE = ""  # reports without an issue type (一般诉求)
PERIODS = ("week", "month")
CHANNEL_LABELS = {
    Channel.WEB.value: "网页",
    Channel.TELEGRAM.value: "Telegram",
    Channel.API.value: "接口",
    Channel.IMPORT.value: "导入",
}


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass
class Figures:
    """The figures of one group: a bureau, an issue type, a channel, a week or everything."""

    key: str
    label: str
    received: int = 0
    signed: int = 0
    signed_on_time: int = 0
    answered: int = 0
    answered_on_time: int = 0
    sent_back: int = 0
    extended: int = 0
    rated: int = 0
    satisfied: int = 0
    reopened: int = 0
    judged: int = 0
    substantiated: int = 0
    escalated: int = 0
    overdue_now: int | None = None  # counted per bureau and overall only
    sign_median: float | None = None
    sign_p90: float | None = None
    answer_median: float | None = None
    answer_p90: float | None = None
    # The mean answer-review score (0–100) of the bureau's answers in the period, per bureau
    # only: the fourth part of the 考核 score (feedback.incentives.WEIGHTS).
    answer_quality: float | None = None

    @property
    def sign_on_time_rate(self) -> float | None:
        return _ratio(self.signed_on_time, self.signed)

    @property
    def answer_on_time_rate(self) -> float | None:
        return _ratio(self.answered_on_time, self.answered)

    @property
    def timeliness_rate(self) -> float | None:
        """Answered on time over answered plus overdue now: not answering is not punctual."""
        return _ratio(self.answered_on_time, self.answered + (self.overdue_now or 0))

    @property
    def assessment_score(self) -> float | None:
        """考核 (feedback.incentives.assessment_score): timeliness, routing, satisfaction and,
        where the bureau's answers were reviewed, their quality."""
        quality = None if self.answer_quality is None else self.answer_quality / 100
        return assessment_score(
            self.timeliness_rate, self.send_back_rate, self.satisfaction_rate, quality
        )

    @property
    def send_back_rate(self) -> float | None:
        """Send-backs a bureau made over the reports it dealt with (signed for or sent back)."""
        return _ratio(self.sent_back, self.signed + self.sent_back)

    @property
    def extension_rate(self) -> float | None:
        return _ratio(self.extended, self.received)

    @property
    def satisfaction_rate(self) -> float | None:
        return _ratio(self.satisfied, self.rated)

    @property
    def reopen_rate(self) -> float | None:
        return _ratio(self.reopened, self.answered)

    @property
    def substantiated_rate(self) -> float | None:
        return _ratio(self.substantiated, self.judged)

    def add(self, row: dict[str, Any]) -> None:
        for name in COUNTS:
            setattr(self, name, getattr(self, name) + int(row.get(name) or 0))

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"key": self.key, "label": self.label}
        for name in (*COUNTS, "overdue_now"):
            out[name] = getattr(self, name)
        for name in ("sign_median", "sign_p90", "answer_median", "answer_p90"):
            out[name] = getattr(self, name)
        for name, _label, _kind in RATE_COLUMNS + SCORE_COLUMNS:
            out[name] = getattr(self, name)
        return out


# (attribute, Chinese header, kind) of every figure, in display order; shared by the
# dashboard, the exports and the CLI so they always show the same thing.
COUNT_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("received", "受理量", "count"),
    ("overdue_now", "当前逾期", "count"),
)
RATE_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("sign_on_time_rate", "按时签收率", "rate"),
    ("answer_on_time_rate", "按时答复率", "rate"),
    ("timeliness_rate", "按期办理率（含逾期未办）", "rate"),
    ("send_back_rate", "退回率", "rate"),
    ("extension_rate", "延期率", "rate"),
    ("satisfaction_rate", "满意率", "rate"),
    ("reopen_rate", "重办率", "rate"),
    ("substantiated_rate", "查实率", "rate"),
)
DAY_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("sign_median", "签收用时中位数（工作日）", "days"),
    ("sign_p90", "签收用时P90（工作日）", "days"),
    ("answer_median", "答复用时中位数（工作日）", "days"),
    ("answer_p90", "答复用时P90（工作日）", "days"),
)
SCORE_COLUMNS: tuple[tuple[str, str, str], ...] = (("assessment_score", "考核得分", "score"),)

_AR = t.answer_reviews
# Each bureau's mean answer-review score over the answers of a period (feedback.insight writes
# the reviews; the 考核 score reads them here, once, for the ranking, the insight table and
# the exports alike).
# The issue types a day's rollup rows hold now (a type no longer in the day is deleted too).
DAY_KINDS = Query(
    sa.union(
        sa.select(t.stats_cube_daily.c.issue_type).where(t.stats_cube_daily.c.day == param("day")),
        sa.select(t.stats_cube_daily_days.c.issue_type).where(
            t.stats_cube_daily_days.c.day == param("day")
        ),
    )
)
ANSWER_QUALITY = Query(
    sa.select(_AR.c.department, sa.func.avg(_AR.c.score).label("mean"))
    .where(
        _AR.c.answered_at >= param("since"),
        _AR.c.answered_at < param("until"),
        _AR.c.department.is_not(None),
    )
    .group_by(_AR.c.department)
)
FIGURE_COLUMNS = COUNT_COLUMNS + RATE_COLUMNS + DAY_COLUMNS + SCORE_COLUMNS

# -- the statements (SQLAlchemy Core over feedback.store.schema, both stores) ---------------

R, TYPES, SB = t.reports, t.report_issue_types, t.send_backs
DIRTY, DIRTY_DAYS, DIRTY_MONTHS = t.stats_dirty, t.stats_dirty_days, t.stats_dirty_months
DAILY, DAILY_DAYS = t.stats_cube_daily, t.stats_cube_daily_days
MONTHLY, MONTHLY_DAYS = t.stats_cube_monthly, t.stats_cube_monthly_days
# '' as a constant, not a parameter: PostgreSQL groups by COALESCE(x, '') only when the
# expression in GROUP BY is the one in the select list, and two parameters are two expressions.
EMPTY = sa.literal_column("''", sa.Text)
report_department = sa.func.coalesce(R.c.department, EMPTY)

ANY_DIRTY = tuple(
    Query(sa.select(table.c[key]).limit(1))
    for table, key in ((DIRTY, "report_id"), (DIRTY_DAYS, "day"), (DIRTY_MONTHS, "month"))
)
DIRTY_REPORTS = Query(
    sa.select(DIRTY.c.report_id, R.c.created_at)
    .select_from(DIRTY.outerjoin(R, R.c.id == DIRTY.c.report_id))
    .order_by(DIRTY.c.report_id)
    .limit(param("limit"))
)
CLEAN_REPORTS = Query(sa.delete(DIRTY).where(DIRTY.c.report_id.in_(param("ids", expanding=True))))
MARK_DAY = Query(
    lambda d: (
        insert(d, DIRTY_DAYS)
        .values(day=param("day"))
        .on_conflict_do_nothing(index_elements=["day"])
    )
)
MARK_MONTH = Query(
    lambda d: (
        insert(d, DIRTY_MONTHS)
        .values(month=param("month"))
        .on_conflict_do_nothing(index_elements=["month"])
    )
)
NEXT_DAY = Query(sa.select(DIRTY_DAYS.c.day).order_by(DIRTY_DAYS.c.day).limit(1))
NEXT_MONTH = Query(sa.select(DIRTY_MONTHS.c.month).order_by(DIRTY_MONTHS.c.month).limit(1))
CLEAN_DAY = Query(sa.delete(DIRTY_DAYS).where(DIRTY_DAYS.c.day == param("day")))
CLEAN_MONTH = Query(sa.delete(DIRTY_MONTHS).where(DIRTY_MONTHS.c.month == param("month")))


def _period_of(table: sa.Table) -> str:
    return "day" if "day" in table.c else "month"


# A day's or a month's rows of one issue type: cleared, then written anew.
CLEAR = {
    table.name: Query(
        sa.delete(table).where(
            table.c.issue_type == param("kind"), table.c[_period_of(table)] == param("key")
        )
    )
    for table in (DAILY, DAILY_DAYS, MONTHLY, MONTHLY_DAYS)
}
FILL = {
    table.name: Query(sa.insert(table).values({c.name: param(c.name) for c in table.c}))
    for table in (DAILY, DAILY_DAYS, MONTHLY, MONTHLY_DAYS)
}
MONTH_KINDS = Query(
    sa.select(DAILY.c.issue_type)
    .distinct()
    .where(DAILY.c.day >= param("first"), DAILY.c.day <= param("last"))
)
_month_of = (DAILY.c.issue_type == param("kind"), DAILY.c.day >= param("first"),
             DAILY.c.day <= param("last"))  # fmt: skip
MONTH_CUBE = Query(
    sa.select(DAILY.c.issue_type, DAILY.c.channel, DAILY.c.department,
              *(sa.func.sum(DAILY.c[c]).label(c) for c in COUNTS))
    .where(*_month_of)
    .group_by(DAILY.c.issue_type, DAILY.c.channel, DAILY.c.department)
)  # fmt: skip
_H = DAILY_DAYS
MONTH_HISTOGRAM = Query(
    sa.select(_H.c.issue_type, _H.c.channel, _H.c.department, _H.c.measure, _H.c.days,
              sa.func.sum(_H.c.n).label("n"))
    .where(_H.c.issue_type == param("kind"), _H.c.day >= param("first"),
           _H.c.day <= param("last"))
    .group_by(_H.c.issue_type, _H.c.channel, _H.c.department, _H.c.measure, _H.c.days)
)  # fmt: skip

# What each count of a day counts, over its reports.
_count = sa.func.count
DAY_COUNTS: dict[str, Any] = {
    "received": _count(),
    "signed": _count().filter(R.c.signed_on_time.is_not(None)),
    "signed_on_time": _count().filter(R.c.signed_on_time == 1),
    "answered": _count().filter(R.c.answered_at.is_not(None)),
    "answered_on_time": _count().filter(R.c.answered_on_time == 1),
    "sent_back": sa.literal_column("0", sa.Integer),  # against the sender: from send_backs
    "extended": _count().filter(R.c.extension_used),
    "rated": _count().filter(R.c.rating.is_not(None)),
    "satisfied": _count().filter(R.c.rating.in_(["satisfied", "basically_satisfied"])),
    "reopened": _count().filter(R.c.reopen_count > 0),
    "judged": _count().filter(R.c.substantiated.is_not(None)),
    "substantiated": _count().filter(R.c.substantiated),
    "escalated": _count().filter(R.c.escalation_level > 0),
}
assert tuple(DAY_COUNTS) == COUNTS


def _day_select(by_type: bool, what: str) -> sa.Select[Any]:
    """One of a day's reads: ``what`` = counts, sign / answer (working-day histograms) or
    sent_back (per sending bureau); every report once under '*', or per (report, type)."""
    if by_type:
        kind: Any = sa.func.coalesce(TYPES.c.issue_type, EMPTY)
        by_kind: tuple[Any, ...] = (kind,)
    else:
        kind, by_kind = sa.cast(sa.literal(ALL_TYPES), sa.Text), ()
    source: Any = SB.join(R, R.c.id == SB.c.report_id) if what == "sent_back" else R
    if by_type:
        source = source.outerjoin(TYPES, TYPES.c.report_id == R.c.id)
    dept = SB.c.department if what == "sent_back" else report_department
    window = (R.c.created_at >= param("since"), R.c.created_at < param("until"))
    keys = (kind.label("issue_type"), R.c.channel.label("channel"), dept.label("department"))
    groups = (*by_kind, R.c.channel, dept)
    if what == "counts":
        columns = [v.label(k) for k, v in DAY_COUNTS.items()]
        return sa.select(*keys, *columns).select_from(source).where(*window).group_by(*groups)
    if what == "sent_back":
        return (
            sa.select(*keys, _count().label("n")).select_from(source).where(*window)
            .group_by(*groups)
        )  # fmt: skip
    days = R.c[f"{what}_working_days"]
    return (
        sa.select(*keys, days.label("days"), _count().label("n"))
        .select_from(source)
        .where(*window, days.is_not(None))
        .group_by(*groups, days)
    )


def filter_shape(flt: StatsFilter) -> tuple[bool, bool, str | None]:
    """What decides the form of `filter_clauses` (never a value)."""
    kind = "type" if flt.issue_type else ("none" if flt.issue_type == NO_TYPE else None)
    return flt.department is not None, bool(flt.channel), kind


def filter_clauses(shape: tuple[bool, bool, str | None]) -> list[sa.ColumnElement[bool]]:
    """The supervisor's filters over ``reports`` (parameters: `filter_values`)."""
    department, channel, kind = shape
    out: list[sa.ColumnElement[bool]] = []
    if department:
        out.append(report_department == param("department"))
    if channel:
        out.append(R.c.channel == param("channel"))
    if kind == "type":
        # Correlated EXISTS: a primary-key probe per overdue row, not a set of every report
        # of that type.
        out.append(
            sa.exists().where(TYPES.c.report_id == R.c.id, TYPES.c.issue_type == param("type"))
        )
    elif kind == "none":
        out.append(~sa.exists().where(TYPES.c.report_id == R.c.id))
    return out


def filter_values(flt: StatsFilter) -> dict[str, Any]:
    return {"department": flt.department, "channel": flt.channel, "type": flt.issue_type}


def _overdue_counts(shape: tuple[bool, bool, str | None]) -> sa.Select[Any, int]:
    return (
        sa.select(report_department.label("k"), _count().label("n"))
        .where(workflow.overdue_clause(R, param("now")), *filter_clauses(shape))
        .group_by(report_department)
    )


def _overdue_list(shape: tuple[bool, bool, str | None]) -> sa.Select[Any]:
    """A select per deadline that can be overdue, the longest overdue first."""
    parts = [
        sa.select(R.c.tracking_number, R.c.title, R.c.department, R.c.created_at,
                  R.c.escalation_level, R.c[d.column].label("due"),
                  sa.cast(sa.literal(d.short), sa.Text).label("stage"))
        .where(d.clause(R, param("now")), *filter_clauses(shape))
        for d in workflow.OFFICE_DEADLINES
    ]  # fmt: skip
    x = sa.union_all(*parts).subquery("x")
    return sa.select(x).order_by(x.c.due, x.c.tracking_number).limit(param("limit"))


def _cube_select(group: str, histogram: bool, sources: tuple[str, ...]) -> sa.Select[Any]:
    """Counts (or day histograms) per value of ``group``: one sub-select per (table, range),
    each a primary-key range (an OR of ranges would make SQLite scan every row of the key),
    each an equality or an IN list on (issue_type, channel, department), reading only the
    cube level the query shows. Parameters: types, channels, departments, lo_N / hi_N."""
    tables = {t.name: t for t in (DAILY, DAILY_DAYS, MONTHLY, MONTHLY_DAYS)}
    parts = []
    for i, name in enumerate(sources):
        table = tables[name + ("_days" if histogram else "")]
        period = table.c[_period_of(table)]
        columns = [table.c[c] for c in (("measure", "days", "n") if histogram else COUNTS)]
        parts.append(
            sa.select(table.c[group].label("k"), *columns).where(
                table.c.issue_type.in_(param("types", expanding=True)),
                table.c.channel.in_(param("channels", expanding=True)),
                table.c.department.in_(param("departments", expanding=True)),
                period >= param(f"lo_{i}"),
                period <= param(f"hi_{i}"),
            )
        )
    x = sa.union_all(*parts).subquery("x")
    if histogram:
        return sa.select(x.c.k, x.c.measure, x.c.days, sa.func.sum(x.c.n).label("n")).group_by(
            x.c.k, x.c.measure, x.c.days
        )
    return sa.select(x.c.k, *(sa.func.sum(x.c[c]).label(c) for c in COUNTS)).group_by(x.c.k)


@dataclass
class StatsFilter:
    """What the supervisor chose: a period of local dates (both ends included) and filters."""

    date_from: date
    date_to: date
    department: str | None = None
    issue_type: str | None = None
    channel: str | None = None
    period: str = "month"

    @property
    def type_key(self) -> str:
        return ALL_TYPES if self.issue_type is None else self.issue_type


@dataclass
class OverdueItem:
    tracking_number: str
    title: str
    department: str
    department_name: str
    stage: str  # 签收 or 答复
    due: datetime
    created_at: datetime
    escalation_level: int


UNASSIGNED_LABEL = "待分办（尚无承办单位，不参与排名）"


@dataclass
class Dashboard:
    flt: StatsFilter
    overall: Figures
    by_department: list[Figures]
    by_issue_type: list[Figures]
    by_channel: list[Figures]
    trend: list[Figures]
    overdue: list[OverdueItem]
    timings: dict[str, float] = field(default_factory=dict)
    # Trend periods the figures cover only in part (key -> 截至3月10日): the chosen dates or
    # today cut them short. Their labels say it too.
    partial: dict[str, str] = field(default_factory=dict)
    # Reports no bureau holds yet (at the triage desk): counted in the total, never ranked.
    unassigned: Figures | None = None

    @property
    def department_rows(self) -> list[Figures]:
        """The bureaus in ranking order, then the unassigned reports (tables and exports)."""
        return [*self.by_department, *([self.unassigned] if self.unassigned else [])]

    def as_dict(self) -> dict[str, Any]:
        f = self.flt
        return {
            "filter": {
                "from": f.date_from.isoformat(),
                "to": f.date_to.isoformat(),
                "department": f.department,
                "issue_type": f.issue_type,
                "channel": f.channel,
                "period": f.period,
            },
            "overall": self.overall.as_dict(),
            "by_department": [x.as_dict() for x in self.by_department],
            "unassigned": self.unassigned.as_dict() if self.unassigned else None,
            "by_issue_type": [x.as_dict() for x in self.by_issue_type],
            "by_channel": [x.as_dict() for x in self.by_channel],
            "trend": [x.as_dict() for x in self.trend],
            "partial_periods": dict(self.partial),
            "overdue": [
                {
                    "tracking_number": o.tracking_number,
                    "title": o.title,
                    "department": o.department,
                    "stage": o.stage,
                    "due": o.due.isoformat(),
                    "escalation_level": o.escalation_level,
                }
                for o in self.overdue
            ],
        }


def percentile(histogram: dict[int, int], p: float) -> float | None:
    """The p-quantile of values given as {value: count}, interpolated like percentile_cont."""
    total = sum(histogram.values())
    if total == 0:
        return None
    pos = p * (total - 1)
    lo_i, hi_i = math.floor(pos), math.ceil(pos)
    lo = hi = None
    seen = 0
    for value in sorted(histogram):
        n = histogram[value]
        if lo is None and lo_i < seen + n:
            lo = value
        if hi_i < seen + n:
            hi = value
            break
        seen += n
    assert lo is not None and hi is not None
    return lo + (hi - lo) * (pos - lo_i)


class Stats:
    """Statistics over one store, in the district's time zone and vocabulary."""

    def __init__(
        self,
        store: Store,
        config: Config,
        before_read: Callable[[], Awaitable[object]] | None = None,
    ):
        self.store = store
        self.config = config
        # Work the figures depend on that another part owns (the service passes the review
        # of answers not yet reviewed: the 考核 score reads their scores).
        self.before_read = before_read
        self.tz = ZoneInfo(config.timezone)
        self._native_time = store.url.startswith(("postgresql://", "postgres://"))

    # -- time ------------------------------------------------------------------------------

    def time_param(self, moment: datetime) -> Any:
        """A timestamp parameter as each backend stores it (SQLite ISO text, PostgreSQL native)."""
        return moment if self._native_time else iso(moment)

    def day_start(self, day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=self.tz).astimezone(UTC)

    def local_day(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()

    def default_filter(self, today: date, **kw: Any) -> StatsFilter:
        """The last twelve months up to today."""
        return StatsFilter(date_from=today - timedelta(days=364), date_to=today, **kw)

    def check(self, flt: StatsFilter) -> StatsFilter:
        if flt.date_to < flt.date_from:
            raise ValidationError("结束日期不能早于开始日期。", field="to")
        if flt.department and not (
            self.config.has_department(flt.department) or flt.department == NO_TYPE
        ):
            raise ValidationError("未知的承办单位。", field="department")
        if flt.issue_type is not None and flt.issue_type not in (
            *self.config.issue_type_codes,
            NO_TYPE,
        ):
            raise ValidationError("未知的问题类型。", field="issue_type")
        if flt.channel and flt.channel not in CHANNEL_LABELS:
            raise ValidationError("未知的受理渠道。", field="channel")
        if flt.period not in PERIODS:
            raise ValidationError("统计周期只能是 week 或 month。", field="period")
        return flt

    # -- labels ----------------------------------------------------------------------------

    def department_label(self, code: str) -> str:
        return self.config.department_name(code or None)

    def issue_type_label(self, code: str) -> str:
        return "一般诉求（无问题类型）" if code == NO_TYPE else self.config.issue_type_name(code)

    @staticmethod
    def channel_label(code: str) -> str:
        return CHANNEL_LABELS.get(code, code)

    # -- the rollup ------------------------------------------------------------------------

    async def refresh(self, max_seconds: float | None = None) -> int:
        """Bring the rollup up to date with every changed report; returns the days redone.

        In three steps, each a series of short write transactions so intake is never held up
        for long (a bulk change of a million reports is minutes of work, done by `feedback
        tick` in the background): dirty reports become dirty days, each day is recomputed in
        its own transaction, then each month is summed from its days. Only one refresh runs at
        a time (an advisory lock); a second caller returns at once. With ``max_seconds`` it
        stops after that long and leaves the rest for the next call.
        """
        if not await self._anything_dirty():
            return 0
        lock = getattr(self.store, "try_advisory_lock", None)
        async with lock(REFRESH_LOCK) if lock is not None else _no_lock() as got:
            if not got:
                return 0
            deadline = None if max_seconds is None else _time.monotonic() + max_seconds
            return await self._refresh_locked(deadline)

    async def _anything_dirty(self) -> bool:
        for query in ANY_DIRTY:
            if await self.store.fetch(query, {}):
                return True
        return False

    async def _refresh_locked(self, deadline: float | None) -> int:
        def out_of_time() -> bool:
            return deadline is not None and _time.monotonic() >= deadline

        # Each batch is read first and written in a transaction of its own; a report that
        # changes in between marks its day again, so nothing is lost.
        dialect = self.store.dialect
        while not out_of_time():  # 1. reports -> days
            rows = await self.store.fetch(DIRTY_REPORTS, {"limit": REFRESH_REPORTS})
            if not rows:
                break
            days = {self.local_day(ts(r["created_at"])) for r in rows if r["created_at"]}  # type: ignore[arg-type]
            ids = [r["report_id"] for r in rows]
            async with self.store.transaction() as tx:
                for day in sorted(days):
                    await tx.execute(MARK_DAY, {"day": day.isoformat()})
                for i in range(0, len(ids), 500):
                    await tx.execute(CLEAN_REPORTS, {"ids": ids[i : i + 500]})
        done = 0
        while not out_of_time():  # 2. each day, one issue type per transaction
            rows = await self.store.fetch(NEXT_DAY, {})
            if not rows:
                break
            key = rows[0]["day"]
            # Read outside any write transaction; only the replacement of the day's rows holds
            # the writer (a day of a few thousand reports took the writer for 40-360 ms), and
            # that one issue type at a time, as the months below (a day of 2,000 reports: one
            # transaction of 172 rows took 12-21 ms on PostgreSQL; now ~15 rows each).
            cube, hist = await self._day_rows(date.fromisoformat(key))
            old = await self.store.fetch(DAY_KINDS, {"day": key})
            kinds = sorted({ALL_TYPES, *(r["issue_type"] for r in old),
                            *(level[0] for level in cube), *(k[0] for k in hist)})  # fmt: skip
            for i, kind in enumerate(kinds):
                writes = _replace(
                    dialect, "stats_cube_daily", kind, key,
                    {lv: v for lv, v in cube.items() if lv[0] == kind},
                    {h: n for h, n in hist.items() if h[0] == kind},
                )  # fmt: skip
                if i == len(kinds) - 1:  # interrupted before: the day is redone whole
                    writes += [
                        (*MARK_MONTH.render(dialect, {"month": key[:7]}), False),
                        (*CLEAN_DAY.render(dialect, {"day": key}), False),
                    ]
                async with self.store.transaction() as tx:
                    await tx.run(writes)
            done += 1
        while not out_of_time():  # 3. each month from its days, one issue type at a time
            rows = await self.store.fetch(NEXT_MONTH, {})
            if not rows:
                break
            key = rows[0]["month"]
            found = await self.store.fetch(MONTH_KINDS, {"first": f"{key}-01", "last": f"{key}-31"})
            kinds = sorted({ALL_TYPES, NO_TYPE, *self.config.issue_type_codes,
                            *(r["issue_type"] for r in found)})  # fmt: skip
            for i, kind in enumerate(kinds):
                cube, hist = await self._month_rows(key, kind)
                batch = _replace(dialect, "stats_cube_monthly", kind, key, cube, hist)
                if i == len(kinds) - 1:  # interrupted before: the month is redone whole
                    batch.append((*CLEAN_MONTH.render(dialect, {"month": key}), False))
                async with self.store.transaction() as tx:
                    await tx.run(batch)
        return done

    async def _day_rows(self, day: date) -> tuple[Cube, Histogram]:
        """A day's counts and working-day histograms at every level of the cube, read (on a
        reader, outside the writer): a report changed meanwhile has marked itself dirty
        again, and its day is redone next round."""
        window = {
            "since": self.time_param(self.day_start(day)),
            "until": self.time_param(self.day_start(day + timedelta(days=1))),
        }
        cube: Cube = {}
        hist: Histogram = {}
        # First every report once under '*', then each (report, type) pair ('' = no type).
        for by_type in (False, True):
            for r in await self.store.fetch(cached(_day_select, by_type, "counts"), window):
                cube[(r["issue_type"], r["channel"], r["department"])] = [
                    int(r[c] or 0) for c in COUNTS
                ]
            for measure in ("sign", "answer"):
                for r in await self.store.fetch(cached(_day_select, by_type, measure), window):
                    level = (r["issue_type"], r["channel"], r["department"], measure, r["days"])
                    hist[level] = int(r["n"])
            # Send-backs count against the bureau that made them, not the report's bureau now.
            for r in await self.store.fetch(cached(_day_select, by_type, "sent_back"), window):
                row = cube.setdefault((r["issue_type"], r["channel"], r["department"]),
                                      [0] * len(COUNTS))  # fmt: skip
                row[SENT_BACK] = int(r["n"])
        return _with_totals(cube, hist)

    async def _month_rows(self, key: str, issue_type: str) -> tuple[Cube, Histogram]:
        """A month's counts and histograms of one issue type, summed from its days (what
        whole-month periods read); every level of the cube sums the same level of the days."""
        days = {"kind": issue_type, "first": f"{key}-01", "last": f"{key}-31"}
        cube: Cube = {
            (r["issue_type"], r["channel"], r["department"]): [int(r[c] or 0) for c in COUNTS]
            for r in await self.store.fetch(MONTH_CUBE, days)
        }
        hist: Histogram = {
            (r["issue_type"], r["channel"], r["department"], r["measure"], r["days"]): int(r["n"])
            for r in await self.store.fetch(MONTH_HISTOGRAM, days)
        }
        return cube, hist

    # -- reading ---------------------------------------------------------------------------

    def _types(self, flt: StatsFilter, by_type: bool) -> list[str]:
        """The issue_type keys to read: '*' for everything, or each type."""
        if flt.issue_type is not None:
            return [flt.issue_type]
        return [*self.config.issue_type_codes, NO_TYPE] if by_type else [ALL_TYPES]

    def _cube_values(self, flt: StatsFilter, group: str) -> dict[str, list[str]]:
        """The IN lists of `_cube_select`: every value of the shown group, else the choice
        (or the cube's total '*')."""

        def pick(name: str, chosen: str | None, every: list[str]) -> list[str]:
            if group == name and chosen is None:
                return every
            return [EVERY if chosen is None else chosen]

        return {
            "types": pick("issue_type", flt.issue_type, self._types(flt, group == "issue_type")),
            "channels": pick("channel", flt.channel or None, list(CHANNEL_LABELS)),
            "departments": pick(
                "department", flt.department, [*self.config.department_codes, NO_TYPE]
            ),
        }

    async def _grouped(
        self, flt: StatsFilter, group: str, *, with_days: bool = True
    ) -> tuple[dict[str, Figures], dict[str, dict[str, dict[int, int]]]]:
        """Counts and day histograms per value of ``group`` (a cube column, or day)."""
        head, months, tail = _split_months(flt.date_from, flt.date_to)
        if group == "day":  # the trend needs its days; everything else reads whole months
            head, months, tail = [(flt.date_from.isoformat(), flt.date_to.isoformat())], [], []
        # Whole months from the monthly tables, the ragged ends from the daily ones.
        spans = [(name, lo, hi) for name, ranges in (("stats_cube_daily", head),
                 ("stats_cube_daily", tail), ("stats_cube_monthly", months))
                 for lo, hi in ranges]  # fmt: skip
        sources = tuple(name for name, _lo, _hi in spans)
        params: dict[str, Any] = self._cube_values(flt, group)
        for i, (_name, lo, hi) in enumerate(spans):
            params[f"lo_{i}"], params[f"hi_{i}"] = lo, hi
        rows = await self.store.fetch(cached(_cube_select, group, False, sources), params)
        figures: dict[str, Figures] = {}
        for row in rows:
            fig = figures[row["k"]] = Figures(key=row["k"], label=row["k"])
            fig.add(row)
        hists: dict[str, dict[str, dict[int, int]]] = {}
        if not with_days:
            return figures, hists
        hist_rows = await self.store.fetch(cached(_cube_select, group, True, sources), params)
        for row in hist_rows:
            by_measure = hists.setdefault(row["k"], {"sign": {}, "answer": {}})
            by_measure[row["measure"]][int(row["days"])] = int(row["n"])
        for k, fig in figures.items():
            _set_days(fig, hists.get(k, {}))
        return figures, hists

    async def overdue_counts(self, flt: StatsFilter, now: datetime) -> dict[str, int]:
        """Open reports past a deadline now, per bureau ('' = triage), under the filters."""
        rows = await self.store.fetch(
            cached(_overdue_counts, filter_shape(flt)),
            {"now": workflow.sql_moment(now), **filter_values(flt)},
        )
        return {row["k"]: int(row["n"]) for row in rows}

    async def overdue_list(
        self, flt: StatsFilter, now: datetime, limit: int = 50
    ) -> list[OverdueItem]:
        """The longest-overdue open reports first, for 督办."""
        rows = await self.store.fetch(
            cached(_overdue_list, filter_shape(flt)),
            {"now": workflow.sql_moment(now), "limit": limit, **filter_values(flt)},
        )
        return [
            OverdueItem(
                tracking_number=r["tracking_number"],
                title=r["title"],
                department=r["department"] or "",
                department_name=self.department_label(r["department"] or ""),
                stage=r["stage"],
                due=ts(r["due"]),  # type: ignore[arg-type]
                created_at=ts(r["created_at"]),  # type: ignore[arg-type]
                escalation_level=int(r["escalation_level"]),
            )
            for r in rows
        ]

    async def _answer_quality(self, flt: StatsFilter) -> dict[str, float]:
        since = self.day_start(flt.date_from)
        until = self.day_start(flt.date_to + timedelta(days=1))
        rows = await self.store.fetch(ANSWER_QUALITY, {"since": iso(since), "until": iso(until)})
        return {r["department"]: round(float(r["mean"]), 1) for r in rows}

    async def dashboard(self, flt: StatsFilter, now: datetime) -> Dashboard:
        """Every figure the dashboard, the exports and `feedback stats` show."""
        self.check(flt)
        timings: dict[str, float] = {}

        async def timed(name: str, coro: Any) -> Any:
            start = _time.perf_counter()
            result = await coro
            timings[name] = (_time.perf_counter() - start) * 1000
            return result

        if self.before_read is not None:
            await timed("before_read", self.before_read())
        await timed("refresh", self.refresh(max_seconds=READ_REFRESH_SECONDS))
        departments, dept_hists = await timed("by_department", self._grouped(flt, "department"))
        overdue = await timed("overdue_counts", self.overdue_counts(flt, now))
        types, _ = await timed("by_issue_type", self._grouped(flt, "issue_type"))
        channels, _ = await timed("by_channel", self._grouped(flt, "channel"))
        # The trend shows counts and rates; medians per week would need every daily histogram.
        days, _ = await timed("trend", self._grouped(flt, "day", with_days=False))
        overdue_items = await timed("overdue_list", self.overdue_list(flt, now))

        overall = Figures(key="", label="全部", overdue_now=0)
        merged: dict[str, dict[int, int]] = {"sign": {}, "answer": {}}
        for k, fig in departments.items():
            overall.add(fig.__dict__)
            for measure, hist in dept_hists.get(k, {}).items():
                for d, n in hist.items():
                    merged[measure][d] = merged[measure].get(d, 0) + n
        _set_days(overall, merged)
        for k, n in overdue.items():
            if k not in departments and flt.department in (None, k):
                departments[k] = Figures(key=k, label=k, overdue_now=0)
            if k in departments:
                departments[k].overdue_now = n
        overall.overdue_now = sum(n for k, n in overdue.items() if flt.department in (None, k))
        unassigned = departments.pop("", None)
        if unassigned is not None:
            unassigned.label = UNASSIGNED_LABEL
            unassigned.overdue_now = unassigned.overdue_now or 0
        quality = await timed("answer_quality", self._answer_quality(flt))
        for k, fig in departments.items():
            fig.answer_quality = quality.get(k)
        by_department = sorted(departments.values(), key=_ranking)
        for fig in by_department:
            fig.label = self.department_label(fig.key)
            fig.overdue_now = fig.overdue_now or 0
        order = {code: i for i, code in enumerate(self.config.issue_type_codes)}
        by_type = sorted(types.values(), key=lambda f: order.get(f.key, len(order)))
        for fig in by_type:
            fig.label = self.issue_type_label(fig.key)
        by_channel = sorted(channels.values(), key=lambda f: -f.received)
        for fig in by_channel:
            fig.label = self.channel_label(fig.key)
        today = self.local_day(now)
        trend = self._trend(days.values(), flt, today)
        return Dashboard(
            flt=flt,
            overall=overall,
            by_department=by_department,
            unassigned=unassigned,
            by_issue_type=by_type,
            by_channel=by_channel,
            trend=trend,
            partial={f.key: n for f in trend if (n := partial_note(f.key, flt, today))},
            overdue=overdue_items,
            timings=timings,
        )

    def _trend(self, days: Iterable[Figures], flt: StatsFilter, today: date) -> list[Figures]:
        """Daily rows rolled up to weeks (starting Monday) or months, with empty ones filled.
        A period the chosen dates or today cut short says so in its label (2026-03（截至3月10日）):
        its count is not a whole month's, and a falling line at the end is no fall."""
        buckets: dict[str, Figures] = {}
        for key in _period_keys(flt.date_from, flt.date_to, flt.period):
            note = partial_note(key, flt, today)
            buckets[key] = Figures(key=key, label=f"{key}（{note}）" if note else key)
        for fig in days:
            key = _period_key(date.fromisoformat(fig.key), flt.period)
            if key in buckets:
                buckets[key].add(fig.__dict__)
        return list(buckets.values())


@asynccontextmanager
async def _no_lock() -> AsyncIterator[bool]:
    yield True


def _set_days(fig: Figures, hists: dict[str, dict[int, int]]) -> None:
    sign, answer = hists.get("sign", {}), hists.get("answer", {})
    fig.sign_median, fig.sign_p90 = percentile(sign, 0.5), percentile(sign, 0.9)
    fig.answer_median, fig.answer_p90 = percentile(answer, 0.5), percentile(answer, 0.9)


def _split_months(
    first: date, last: date
) -> tuple[list[tuple[str, str]], list[tuple[str, str]], list[tuple[str, str]]]:
    """[first, last] as (ragged head days, whole months, ragged tail days), as text ranges."""
    start_month = first if first.day == 1 else _next_month(first)
    end_next = _next_month(last)
    end_month = end_next if last == end_next - timedelta(days=1) else last.replace(day=1)
    if start_month >= end_month:  # no whole month inside
        return [(first.isoformat(), last.isoformat())], [], []
    head = [(first.isoformat(), (start_month - timedelta(days=1)).isoformat())]
    tail = [(end_month.isoformat(), last.isoformat())]
    months = [(start_month.strftime("%Y-%m"), (end_month - timedelta(days=1)).strftime("%Y-%m"))]
    return (head if first < start_month else []), months, (tail if end_month <= last else [])


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _ranking(fig: Figures) -> tuple[float, float, int, str]:
    """Bureau ranking by the 考核 score (overdue reports count against it), then volume."""
    score = fig.assessment_score
    timely = fig.timeliness_rate
    return (
        -(score if score is not None else -1),
        -(timely if timely is not None else -1),
        -fig.received,
        fig.key,
    )


def _period_key(day: date, period: str) -> str:
    if period == "week":
        return (day - timedelta(days=day.weekday())).isoformat()
    return day.strftime("%Y-%m")


def period_span(key: str, period: str) -> tuple[date, date]:
    """The first and last day of a trend period (a week from its Monday, or a month)."""
    if period == "week":
        first = date.fromisoformat(key)
        return first, first + timedelta(days=6)
    first = date.fromisoformat(key + "-01")
    return first, _next_month(first) - timedelta(days=1)


def covered(key: str, flt: StatsFilter, today: date) -> tuple[date, date] | None:
    """The days of a trend period the figures cover, when that is not the whole period: cut by
    the chosen dates or by today (days not yet come have no reports). None: the whole period."""
    first, last = period_span(key, flt.period)
    start, end = max(first, flt.date_from), min(last, flt.date_to, today)
    return None if (start, end) == (first, last) else (start, end)


def partial_note(key: str, flt: StatsFilter, today: date) -> str:
    """'' for a whole period, else the days it covers: 截至3月10日, 3月11日起, 3月2日至3月10日,
    尚未开始."""
    part = covered(key, flt, today)
    if part is None:
        return ""
    first, last = period_span(key, flt.period)
    start, end = part
    if start > end:
        return "尚未开始"

    def day(d: date) -> str:
        return f"{d.month}月{d.day}日"

    if start == first:
        return f"截至{day(end)}"
    if end == last:
        return f"{day(start)}起"
    return f"{day(start)}至{day(end)}"


def _period_keys(first: date, last: date, period: str) -> list[str]:
    keys: list[str] = []
    day = first
    while day <= last:
        key = _period_key(day, period)
        if not keys or keys[-1] != key:
            keys.append(key)
        day += timedelta(days=1)
    return keys


# The dates a filter may name: 0001-01-01 or 9999-12-31 typed for "everything" would make the
# month steps leave the calendar (a 500) and the day-by-day trend keys take minutes.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2099, 12, 31)


def parse_date(value: str | None, field_name: str) -> date | None:
    if not value:
        return None
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationError("日期格式应为 YYYY-MM-DD。", field=field_name) from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValidationError(f"日期应在 {FIRST_DAY} 至 {LAST_DAY} 之间。", field=field_name)
    return day


def build_filter(
    stats: Stats,
    today: date,
    *,
    date_from: str | None = None,
    date_to: str | None = None,
    department: str | None = None,
    issue_type: str | None = None,
    channel: str | None = None,
    period: str | None = None,
) -> StatsFilter:
    """A checked filter from text (query string or command line); empty means 'not chosen'."""
    end = parse_date(date_to, "to") or today
    start = parse_date(date_from, "from") or (end - timedelta(days=364))
    flt = StatsFilter(
        date_from=start,
        date_to=end,
        department=department or None,
        issue_type=issue_type or None,
        channel=channel or None,
        period=period or "month",
    )
    return stats.check(flt)


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def days_text(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def figure_text(fig: Figures, name: str, kind: str) -> str:
    value = getattr(fig, name)
    if kind == "rate":
        return pct(value)
    if kind in ("days", "score"):
        return days_text(value)
    return "—" if value is None else str(value)


def rows_for(figures: Sequence[Figures]) -> list[list[str]]:
    return [[f.label, *(figure_text(f, n, k) for n, _l, k in FIGURE_COLUMNS)] for f in figures]


# The cube's rows of one day or month: (issue type, channel, bureau) → COUNTS in order, and
# (issue type, channel, bureau, measure, working days) → reports.
Cube = dict[tuple[str, str, str], list[int]]
Histogram = dict[tuple[str, str, str, str, int], int]
SENT_BACK = COUNTS.index("sent_back")


def _with_totals(cube: Cube, hist: Histogram) -> tuple[Cube, Histogram]:
    """Add the totals over channels ('*'), then over bureaus (which also gives all-and-all),
    as the cube keeps them."""
    for channel_first in (True, False):
        sums: Cube = {}
        for (kind, channel, dept), values in cube.items():
            if (channel if channel_first else dept) == EVERY:
                continue
            level = (kind, EVERY, dept) if channel_first else (kind, channel, EVERY)
            row = sums.setdefault(level, [0] * len(COUNTS))
            for i, v in enumerate(values):
                row[i] += v
        cube.update(sums)
        days: Histogram = {}
        for (kind, channel, dept, measure, n_days), n in hist.items():
            if (channel if channel_first else dept) == EVERY:
                continue
            key = (kind, EVERY, dept) if channel_first else (kind, channel, EVERY)
            days[(*key, measure, n_days)] = days.get((*key, measure, n_days), 0) + n
        hist.update(days)
    return cube, hist


def _replace(
    dialect: str, table: str, kind: str, key: str, cube: Cube, hist: Histogram
) -> list[Statement]:
    """The statements replacing one day's or month's rows of one issue type (``table`` and
    ``table``_days), rendered for `WriteTx.run`'s one hop."""
    period = "day" if table.endswith("daily") else "month"
    out: list[Statement] = [
        (*CLEAR[table].render(dialect, {"kind": kind, "key": key}), False),
        (*CLEAR[f"{table}_days"].render(dialect, {"kind": kind, "key": key}), False),
    ]
    if cube:
        rows = [{"issue_type": k, "channel": c, "department": d, period: key,
                 **dict(zip(COUNTS, values, strict=True))}
                for (k, c, d), values in sorted(cube.items())]  # fmt: skip
        out.append((*FILL[table].render_many(dialect, rows), True))
    if hist:
        rows = [{"issue_type": k, "channel": c, "department": d, period: key, "measure": m,
                 "days": n_days, "n": n}
                for (k, c, d, m, n_days), n in sorted(hist.items())]  # fmt: skip
        out.append((*FILL[f"{table}_days"].render_many(dialect, rows), True))
    return out
