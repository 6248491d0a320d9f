"""Every figure of the statistics, on a month whose right answers are worked out by hand."""

from __future__ import annotations

from datetime import date

import pytest

from feedback.config import Config
from feedback.errors import ValidationError
from feedback.service import FeedbackService
from feedback.stats import Stats, StatsFilter, build_filter, percentile
from tests.conftest import Clock
from tests.stats.scenario import build

MARCH = (date(2026, 3, 1), date(2026, 3, 31))


@pytest.fixture
async def stats(service: FeedbackService, clock: Clock, config: Config) -> Stats:
    await build(service, clock)
    return Stats(service.store, config)


def march(**kw: object) -> StatsFilter:
    return StatsFilter(MARCH[0], MARCH[1], **kw)  # type: ignore[arg-type]


async def test_overall_figures_match_the_hand_count(stats: Stats, clock: Clock) -> None:
    board = await stats.dashboard(march(), clock.now)
    o = board.overall
    assert o.received == 5
    assert (o.signed, o.signed_on_time) == (4, 2)  # A, C on time; B, E late; D never
    assert o.sign_on_time_rate == pytest.approx(0.5)
    assert (o.answered, o.answered_on_time) == (3, 2)  # A, C on time; B late
    assert o.send_back_rate == pytest.approx(1 / 5)  # C
    assert o.extension_rate == pytest.approx(1 / 5)  # C
    assert (o.rated, o.satisfied) == (3, 2)  # 满意 A + 基本满意 C over A, B, C
    assert o.reopen_rate == pytest.approx(1 / 3)  # B over the answered
    assert o.substantiated_rate is None  # nothing judged yet
    assert o.escalated == 1 and o.overdue_now == 1  # D
    # Sign-for days A 0, C 1, B 2, E 2; answer days A 2, C 2, B 7.
    assert (o.sign_median, o.sign_p90) == (pytest.approx(1.5), pytest.approx(2.0))
    assert (o.answer_median, o.answer_p90) == (pytest.approx(2.0), pytest.approx(6.0))


async def test_per_bureau_figures_and_ranking(stats: Stats, clock: Clock) -> None:
    board = await stats.dashboard(march(), clock.now)
    by = {f.key: f for f in board.by_department}
    assert set(by) == {"zhzf", "zjj", "scjg"}
    zhzf, zjj, scjg = by["zhzf"], by["zjj"], by["scjg"]
    assert zhzf.label == "区综合行政执法局"
    assert (zhzf.received, zhzf.signed_on_time, zhzf.answered_on_time) == (2, 1, 1)
    assert zhzf.reopen_rate == pytest.approx(0.5)
    assert (zhzf.sign_median, zhzf.answer_median) == (pytest.approx(1.0), pytest.approx(4.5))
    # zhzf sent C back to zjj: the send-back is zhzf's, though C is zjj's report now.
    assert (zhzf.sent_back, zhzf.send_back_rate) == (1, pytest.approx(1 / 3))  # A, B signed
    assert (zjj.received, zjj.sent_back, zjj.extended, zjj.overdue_now) == (2, 0, 1, 1)
    assert zjj.answer_on_time_rate == 1.0 and zjj.satisfaction_rate == 1.0
    assert (scjg.received, scjg.signed, scjg.signed_on_time, scjg.answered) == (1, 1, 0, 0)
    # 按期办理率 counts what is overdue now as late: zjj answered its one report on time but
    # has another overdue, so 1 of 2.
    assert zjj.timeliness_rate == pytest.approx(0.5) and zhzf.timeliness_rate == pytest.approx(0.5)
    # 考核: 40 × timeliness + 30 × (1 − send-back rate) + 30 × satisfaction.
    # The send-back is zhzf's (it sent C on to zjj), not zjj's.
    assert zjj.assessment_score == pytest.approx(40 * 0.5 + 30 * 1.0 + 30 * 1.0)  # 80.0
    assert zhzf.assessment_score == pytest.approx(40 * 0.5 + 30 * (2 / 3) + 30 * 0.5)  # 55.0
    # Ranking by score, then timeliness, then volume, then code; scjg has answered nothing,
    # so no score yet, last.
    assert scjg.assessment_score is None or scjg.assessment_score < 55
    assert [f.key for f in board.by_department] == ["zjj", "zhzf", "scjg"]


async def test_issue_types_channels_and_trend(stats: Stats, clock: Clock) -> None:
    board = await stats.dashboard(march(period="week"), clock.now)
    types = {f.key: f.received for f in board.by_issue_type}
    assert types == {"opacity": 1, "abuse_of_power": 1, "inaction": 2, "": 2}
    assert {f.label for f in board.by_issue_type} >= {"一般诉求（无问题类型）"}
    assert {f.key: f.received for f in board.by_channel} == {"web": 4, "api": 1}
    weeks = {f.key: f.received for f in board.trend}
    assert weeks["2026-03-09"] == 5 and weeks["2026-03-16"] == 0
    assert list(weeks)[0] == "2026-02-23"  # the week of 1 March starts on Monday 23 Feb
    months = await stats.dashboard(march(), clock.now)
    assert [(f.key, f.received) for f in months.trend] == [("2026-03", 5)]


async def test_a_period_cut_short_says_so(stats: Stats, clock: Clock) -> None:
    """The supervisor looks at March before it is over: the trend's row says up to when it
    counts; a week starting before 1 March says from when; a week not yet come says so."""
    today = stats.local_day(clock.now)
    assert today == date(2026, 3, 23)  # the scenario's last day
    months = await stats.dashboard(march(), clock.now)
    assert [f.label for f in months.trend] == ["2026-03（截至3月23日）"]
    assert months.partial == {"2026-03": "截至3月23日"}
    assert months.as_dict()["partial_periods"] == {"2026-03": "截至3月23日"}
    weeks = await stats.dashboard(march(period="week"), clock.now)
    labels = {f.key: f.label for f in weeks.trend}
    assert labels["2026-02-23"] == "2026-02-23（3月1日起）"
    assert labels["2026-03-16"] == "2026-03-16"  # a whole week says nothing more
    assert labels["2026-03-23"] == "2026-03-23（截至3月23日）"
    assert labels["2026-03-30"] == "2026-03-30（尚未开始）"
    # February seen after it ended: whole, nothing to say.
    feb = await stats.dashboard(StatsFilter(date(2026, 2, 1), date(2026, 2, 28)), clock.now)
    assert [f.label for f in feb.trend] == ["2026-02"] and feb.partial == {}


async def test_filters_narrow_every_figure(stats: Stats, clock: Clock) -> None:
    zhzf = await stats.dashboard(march(department="zhzf"), clock.now)
    assert zhzf.overall.received == 2 and [f.key for f in zhzf.by_department] == ["zhzf"]
    inaction = await stats.dashboard(march(issue_type="inaction"), clock.now)
    assert (inaction.overall.received, inaction.overall.overdue_now) == (2, 1)
    assert [o.tracking_number for o in inaction.overdue] == [
        o.tracking_number for o in (await stats.dashboard(march(), clock.now)).overdue
    ]
    api = await stats.dashboard(march(channel="api"), clock.now)
    assert api.overall.received == 1 and api.overall.signed_on_time == 0
    april = await stats.dashboard(StatsFilter(date(2026, 4, 1), date(2026, 4, 30)), clock.now)
    assert april.overall.received == 0 and april.overall.answer_on_time_rate is None


async def test_overdue_list_for_escalation(stats: Stats, clock: Clock) -> None:
    board = await stats.dashboard(march(), clock.now)
    [item] = board.overdue
    assert (item.department, item.stage, item.escalation_level) == ("zjj", "签收", 1)
    assert item.title == "建筑工地夜间施工无人管"


async def test_rollup_follows_later_changes(
    stats: Stats, service: FeedbackService, clock: Clock
) -> None:
    from tests.conftest import staff

    board = await stats.dashboard(march(), clock.now)
    d = board.overdue[0].tracking_number
    await service.accept(staff("zjj"), d)
    again = await stats.dashboard(march(), clock.now)
    assert again.overall.signed == 5 and again.overall.overdue_now == 0
    assert again.overall.signed_on_time == 2  # signed nine working days late


def test_percentile_interpolates_like_percentile_cont() -> None:
    assert percentile({}, 0.5) is None
    assert percentile({3: 1}, 0.9) == 3
    assert percentile({1: 1, 2: 1, 3: 1, 4: 1}, 0.5) == pytest.approx(2.5)
    assert percentile({0: 9, 10: 1}, 0.9) == pytest.approx(1.0)  # 0 + (10 - 0) * 0.1


async def test_bad_filters_get_chinese_errors(service: FeedbackService, config: Config) -> None:
    stats = Stats(service.store, config)
    today = date(2026, 3, 23)
    with pytest.raises(ValidationError, match="日期格式"):
        build_filter(stats, today, date_from="2026/03/01")
    with pytest.raises(ValidationError, match="结束日期"):
        build_filter(stats, today, date_from="2026-03-10", date_to="2026-03-01")
    with pytest.raises(ValidationError, match="承办单位"):
        build_filter(stats, today, department="nope")
    with pytest.raises(ValidationError, match="统计周期"):
        build_filter(stats, today, period="year")


@pytest.mark.parametrize(
    ("first", "last"),
    [(date(2026, 2, 15), date(2026, 3, 31)), (date(2026, 3, 10), date(2026, 4, 30)),
     (date(2026, 3, 10), date(2026, 3, 10)), (date(2026, 1, 1), date(2026, 12, 31))],
)  # fmt: skip
async def test_medians_are_the_same_from_daily_and_monthly_histograms(
    stats: Stats, clock: Clock, first: date, last: date
) -> None:
    o = (await stats.dashboard(StatsFilter(first, last), clock.now)).overall
    assert o.received == 5
    assert (o.sign_median, o.answer_p90) == (pytest.approx(1.5), pytest.approx(6.0))


async def test_a_report_no_bureau_holds_is_counted_but_never_ranked(
    stats: Stats, service: FeedbackService, clock: Clock
) -> None:
    # A vague report waits at the triage desk: it counts in the total, but 待分办 is no bureau
    # and gets no place (nor a score) in the ranking; the tables list it after the bureaus.
    from feedback.models import Status

    result = await service.submit(
        {"text": "请问这个事情应该找哪个部门反映？我也说不清楚是哪个单位的事。"}
    )
    assert result.status is Status.TRIAGE
    board = await stats.dashboard(march(), clock.now)
    assert all(f.key for f in board.by_department)
    assert board.unassigned is not None and board.unassigned.received == 1
    assert board.unassigned.label.startswith("待分办")
    assert board.department_rows[-1] is board.unassigned
    ranked = sum(f.received for f in board.by_department)
    assert ranked + board.unassigned.received == board.overall.received == 6
