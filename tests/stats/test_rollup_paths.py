"""The fast paths of migration 0007 on the hand-built month: every level of the rollup cube,
the refresh in short batches (and from `feedback tick`), and the public search index."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa

from feedback import jobs, public_search
from feedback import stats as stats_module
from feedback.config import Config
from feedback.public_search import answered_reports
from feedback.service import FeedbackService
from feedback.stats import Stats, StatsFilter
from feedback.store import schema
from feedback.store.sql import Query
from tests.conftest import SUPERVISOR, Clock, staff
from tests.stats.scenario import PII_TEXT, build, local

MARCH = (date(2026, 3, 1), date(2026, 3, 31))


def march(**kw: object) -> StatsFilter:
    return StatsFilter(MARCH[0], MARCH[1], **kw)  # type: ignore[arg-type]


async def left(service: FeedbackService, table: str) -> int:
    rows = await service.store.fetch(f"SELECT COUNT(*) AS n FROM {table}")
    return int(rows[0]["n"])


async def test_every_breakdown_under_every_filter(
    service: FeedbackService, clock: Clock, config: Config
) -> None:
    await build(service, clock)
    stats = Stats(service.store, config)

    async def breakdowns(**kw: object) -> tuple[dict[str, int], ...]:
        b = await stats.dashboard(march(**kw), clock.now)
        return tuple(
            {f.key: f.received for f in figs if f.received}
            for figs in (b.by_department, b.by_issue_type, b.by_channel, b.trend)
        )

    # zhzf kept A (abuse_of_power + opacity) and B (no type); C went to zjj.
    dept, types, channels, trend = await breakdowns(department="zhzf")
    assert (dept, types, channels) == (
        {"zhzf": 2}, {"abuse_of_power": 1, "opacity": 1, "": 1}, {"web": 2},
    )  # fmt: skip
    assert trend == {"2026-03": 2}
    dept, types, channels, _ = await breakdowns(channel="api")  # E only
    assert (dept, types, channels) == ({"scjg": 1}, {"": 1}, {"api": 1})
    dept, types, channels, _ = await breakdowns(issue_type="inaction")  # C, D at zjj
    assert (dept, types, channels) == ({"zjj": 2}, {"inaction": 2}, {"web": 2})
    dept, types, _, _ = await breakdowns(department="zjj", channel="web", issue_type="inaction")
    assert (dept, types) == ({"zjj": 2}, {"inaction": 2})
    # Medians per issue type come from the histograms of the all-bureaus, all-channels level:
    # inaction's sign-for days C 1, D never; answer days C 2.
    board = await stats.dashboard(march(), clock.now)
    inaction = {f.key: f for f in board.by_issue_type}["inaction"]
    assert (inaction.sign_median, inaction.answer_median) == (1.0, 2.0)
    web = {f.key: f for f in board.by_channel}["web"]  # A 0, C 1, B 2 days to sign
    assert (web.signed, web.sign_median) == (3, 1.0)


async def test_refresh_runs_in_short_batches_and_can_stop_early(
    service: FeedbackService, clock: Clock, config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stats_module, "REFRESH_REPORTS", 2)  # five reports: three batches
    await build(service, clock)
    stats = Stats(service.store, config)
    transactions = 0
    real = service.store.transaction

    def counting() -> Any:
        nonlocal transactions
        transactions += 1
        return real()

    monkeypatch.setattr(service.store, "transaction", counting)
    assert await stats.refresh(max_seconds=0) == 0  # out of time before the first step
    assert await left(service, "stats_dirty") == 5
    assert await stats.refresh() == 1  # every report was submitted on 10 March
    # 3 batches of reports -> days, the day per issue type it holds ('*', none, A's two types,
    # inaction), then March per issue type ('*', none, each type): short transactions, not
    # one long one.
    day_kinds = await service.store.fetch("SELECT DISTINCT issue_type FROM stats_cube_daily")
    assert len(day_kinds) == 5
    assert transactions == 3 + 5 + 2 + len(config.issue_type_codes)
    assert [await left(service, t) for t in ("stats_dirty", "stats_dirty_days",
                                             "stats_dirty_months")] == [0, 0, 0]  # fmt: skip
    assert (await stats.dashboard(march(), clock.now)).overall.received == 5


async def test_one_refresh_at_a_time(
    service: FeedbackService, clock: Clock, config: Config
) -> None:
    await build(service, clock)
    stats = Stats(service.store, config)
    lock = getattr(service.store, "try_advisory_lock", None)
    if lock is None:
        pytest.skip("this store has no advisory lock")
    async with lock(stats_module.REFRESH_LOCK) as got:
        assert got
        assert await stats.refresh() == 0  # someone else is refreshing: return at once
        assert await left(service, "stats_dirty") == 5
    assert await stats.refresh() == 1


async def test_tick_keeps_the_rollup_and_the_search_index_current(
    service: FeedbackService, clock: Clock, config: Config
) -> None:
    s = await build(service, clock)
    result = await jobs.tick(service, clock.now)
    assert result.stats_days == 1
    for table in ("stats_dirty", "stats_dirty_days", "stats_dirty_months", "search_dirty"):
        assert await left(service, table) == 0, table
    await service.accept(staff("zjj"), s.d)
    await jobs.tick(service, clock.now)
    assert await left(service, "stats_dirty") == 0
    board = await Stats(service.store, config).dashboard(march(), clock.now)
    assert board.timings["refresh"] < 1000 and board.overall.signed == 5


async def test_search_index_holds_only_masked_text_of_published_reports(
    service: FeedbackService, clock: Clock, config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = await build(service, clock)  # A and C closed, B reopened, D and E unanswered
    clock.now = local(24)
    named = await service.submit(
        {"title": "执法人员乱罚款", "text": PII_TEXT, "anonymous": "0",
         "contact": {"name": "赵大明", "phone": "13900001111"}}
    )  # fmt: skip
    tn = named.tracking_number
    await service.assign(SUPERVISOR, tn, "zhzf")
    await service.accept(staff("zhzf"), tn)
    await service.answer(staff("zhzf"), tn, "已联系张伟（13812345678）核实，车辆鲁C·12345已退还。")
    assert await public_search.update(service.store) > 0
    rows = await service.store.fetch("SELECT title, text, answer FROM public_search")
    assert len(rows) == 3  # A, C and the new one; B reopened, D and E unanswered
    indexed = " ".join(v for r in rows for v in r.values())
    for secret in ("张伟", "13812345678", "370303198001011234", "鲁C·12345", "zw_8888abc",
                   "zhangwei@example.com", "3号楼", "赵大明", "13900001111"):  # fmt: skip
        assert secret not in indexed, secret
    assert "＊＊" in indexed and "执法人员乱罚款" in indexed

    async def found(query: str) -> list[str]:
        ids, params = public_search.matching(service.store, query)
        reports = schema.reports
        numbers = sa.select(reports.c.tracking_number).where(reports.c.id.in_(ids))
        got = await service.store.fetch(Query(numbers), params)
        return sorted(r["tracking_number"] for r in got)

    assert await found("物业公司") == [s.c]  # four characters: the trigram index
    assert await found("票据") == [s.a]  # two characters
    assert await found("票") == [s.a] and await found("乱") == [tn]  # one character
    assert await found("据经") == [] and await found("\x1f") == []  # no pair; no control marks
    assert await found("户外广告") == []  # B was reopened: no longer published
    assert await found("13812345678") == [] and await found("张伟") == []
    assert await found("乱罚款") == [tn]
    # Punctuation and the index's query syntax are not searched for, nor can they break it.
    assert await found('"乱罚') == [tn] and await found('乱罚" OR "票') == []  # OR: a word
    assert await found("*") == [] and await found("NEAR(票 据)") == []
    # A phrase worded differently in the report: its words, each anywhere in it.
    both = sorted([s.a, tn])  # A: 占道经营罚款不开票。执法人员态度恶劣…
    assert await found("执法人员罚款") == both and await found("罚款  执法人员") == both
    assert await found("罚款 物业公司") == []  # every word must be there

    # An answer changed later is masked again; the old text leaves the index.
    async with service.store.transaction() as tx:
        await tx.execute(
            "UPDATE reports SET answer = ? WHERE tracking_number = ?", ("已整改完毕。", tn)
        )
    await public_search.update(service.store)
    assert await found("车辆") == [] and await found("整改完毕") == [tn]

    # New masking rules: what the old ones left leaves the index at once, then all is redone.
    async with service.store.transaction() as tx:
        await tx.execute("UPDATE counters SET value = 0 WHERE name = ?", ("search_rules",))
    await public_search.update(service.store, limit=0)
    assert await left(service, "public_search") == 0
    assert await left(service, "search_dirty") == 4  # A, B, C and the new one have answers
    await public_search.update(service.store)
    assert await left(service, "public_search") == 3 and await found("乱罚款") == [tn]

    # A word found in many reports walks the answered reports newest first: same page.
    stats = Stats(service.store, config)
    since, shown = stats.day_start(MARCH[0]), list(config.department_codes)
    few, _ = await answered_reports(stats, shown, since, "执法", 1, 20)
    monkeypatch.setattr(public_search, "MANY", 0)
    many, _ = await answered_reports(stats, shown, since, "执法", 1, 20)
    assert [r.title for r in many] == [r.title for r in few] and len(few) == 3
