"""Hot issues: one matter reported by many people is one issue, escalated once."""

from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from feedback import hot
from feedback.cli import main
from feedback.models import Status
from feedback.service import FeedbackService
from feedback.stats import build_filter
from tests.conftest import SUPERVISOR, Clock, staff
from tests.insight.stories import (
    COMPOUND,
    OTHERS,
    POLITE,
    RECURRING,
    SAME_PLACE_OTHER_MATTER,
    payload,
)


def test_places_and_organisations_are_named() -> None:
    text = (
        "我住在幸福里小区，孩子在实验小学上学，每天经过建设路，"
        "老家在李家村，反映宏达建材有限公司的问题"
    )
    assert hot.extract_places(text) == [
        "幸福里小区",
        "实验小学",
        "建设路",
        "李家村",
        "宏达建材有限公司",
    ]
    # Ordinary words that end like a place are not places.
    assert hot.extract_places("道路不平，学校门口，马路上") == []


async def submit_all(service: FeedbackService, clock: Clock) -> list[str]:
    numbers = []
    for title, text, phone in COMPOUND + OTHERS:
        numbers.append((await service.submit(payload(title, text, phone))).tracking_number)
        clock.advance(hours=20)
    return numbers


async def test_five_residents_are_one_hot_issue_and_the_supervisor_escalates_it_once(
    service: FeedbackService, clock: Clock
) -> None:
    numbers = await submit_all(service, clock)
    compound = numbers[:5]

    issues = await service.insight.hot_issues(SUPERVISOR)
    top = issues[0]
    assert sorted(top.ids) == sorted(compound)
    assert top.reports == 5 and top.reporters == 5
    assert top.place == "幸福里小区"
    assert "幸福里小区" in top.summary
    # The unrelated reports are not part of any issue.
    assert all(not set(h.ids) & set(numbers[5:]) for h in issues)

    done, skipped = await service.insight.escalate_issue(
        SUPERVISOR, top.key, top.ids, "请区综合行政执法局统一处理该小区油烟问题"
    )
    assert sorted(done) == sorted(compound) and skipped == []
    for tn in compound:
        view = await service.staff_view(SUPERVISOR, tn)
        assert view.report.escalation_level == 1
        assert [e.action for e in view.events].count("escalate") == 1
        assert "热点问题督办" in view.events[-1].details["note"]
    escalations = await service.insight.hot_escalations()
    assert list(escalations) == [top.key]
    # When it was done, as a moment the pages show in the district's time (not UTC text).
    when = escalations[top.key]["created_at"]
    assert abs(when - service.clock()).total_seconds() < 1
    # Each record chain still verifies after the issue's 督办.
    checked, breaks = await service.verify_records()
    assert checked == 8 and breaks == []


async def test_the_supervisor_reads_the_matter_not_the_salutation(
    service: FeedbackService, clock: Clock
) -> None:
    for text, phone in POLITE:
        await service.submit(payload("", text, phone))
        clock.advance(hours=20)
    (top,) = await service.insight.hot_issues(SUPERVISOR)
    assert top.reports == 5
    summary = top.summary
    assert not summary.startswith(("尊敬", "领导", "您好", "我是", "本人")), summary
    assert "幸福里小区" in summary and "油烟" in summary, summary
    assert len(summary) <= 40 + len("幸福里小区："), summary
    assert "谢谢" not in summary and "感谢" not in summary


def test_one_persons_many_posts_are_no_hot_issue() -> None:
    from datetime import datetime, timedelta

    start = datetime(2026, 3, 1, 9)
    posts = [
        hot.Message(str(i), title, text, start + timedelta(days=i), user="13905330001")
        for i, (title, text, _phone) in enumerate(COMPOUND)
    ]
    assert hot.hot_issues(posts) == []
    # The same five posts from five people are one.
    for i, m in enumerate(posts):
        m.user = f"1390533000{i}"
    (issue,) = hot.hot_issues(posts)
    assert issue.reports == 5 and issue.reporters == 5


def _dated(
    rows: list[tuple[int, str, str, str]], start: datetime | None = None
) -> list[hot.Message]:
    start = start or datetime(2025, 3, 3, 9)
    return [
        hot.Message(f"{phone}-{days}", title, text, start + timedelta(days=days), user=phone)
        for days, title, text, phone in rows
    ]


def test_a_matter_that_keeps_coming_back_is_one_recurring_issue() -> None:
    """Residents of one compound report its flooding garage in spring, again in summer and
    again the next spring, months apart; in between two others report its lifts. The
    supervisor sees one garage issue that came back twice, and the lifts apart."""
    others = [
        hot.Message(f"o{i}", t, x, datetime(2025, 3, 10 + i, 9), user=p)
        for i, (t, x, p) in enumerate(OTHERS)
    ]
    garage = _dated(RECURRING)
    lifts = _dated(SAME_PLACE_OTHER_MATTER)
    issues = hot.hot_issues(garage + lifts + others)
    by_first = {h.ids[0]: h for h in issues}
    recurring = by_first[garage[0].id]
    assert recurring.ids == [m.id for m in garage]
    assert recurring.reporters == 6 and recurring.returns == 2
    assert recurring.place is not None and "青山苑" in recurring.place
    assert recurring.time_from == garage[0].time and recurring.time_to == garage[-1].time
    lift_issue = by_first[lifts[0].id]
    assert lift_issue.ids == [m.id for m in lifts] and lift_issue.returns == 0
    # Coming back counts: the same six people within one season are a cooler issue.
    season = hot.hot_issues(
        [
            hot.Message(m.id, m.title, m.text, garage[0].time + timedelta(days=3 * k), user=m.user)
            for k, m in enumerate(garage)
        ]
    )
    assert season[0].reporters == 6 and season[0].returns == 0
    assert recurring.heat > season[0].heat
    assert json.loads(json.dumps(recurring.as_dict()))["returns"] == 2


def test_one_person_writing_again_months_later_is_no_return() -> None:
    first, second, *_ = RECURRING
    later = (300, first[1], first[2], first[3])  # the first resident, ten months on
    (issue,) = hot.hot_issues(_dated([first, second, later]))
    assert issue.reports == 3 and issue.reporters == 2 and issue.returns == 0
    # Someone new at that time is a return.
    newcomer = (300, first[1], first[2], "13905330039")
    (issue,) = hot.hot_issues(_dated([first, second, newcomer]))
    assert issue.reporters == 3 and issue.returns == 1


async def test_bureau_staff_cannot_see_the_hot_issues(service: FeedbackService) -> None:
    from feedback.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        await service.insight.hot_issues(staff("zhzf"))


async def test_support_from_citizens_raises_the_heat(
    service: FeedbackService, clock: Clock
) -> None:
    numbers = await submit_all(service, clock)
    before = (await service.insight.hot_issues(SUPERVISOR))[0].heat
    report = await service.store.get_report(numbers[0])
    assert report is not None and report.id is not None
    # Only a published (answered) report can be supported.
    from feedback.errors import NotFound

    with pytest.raises(NotFound):
        await service.insight.support(report.id, "visitor-1")
    await service.assign(SUPERVISOR, numbers[0], "zhzf")
    await service.accept(staff("zhzf"), numbers[0])
    await service.answer(
        staff("zhzf"), numbers[0], "经查，该饭店已安装油烟净化设备，3月12日复查合格。"
    )
    assert await service.insight.support(report.id, "visitor-1") is True
    assert await service.insight.support(report.id, "visitor-1") is False  # once per visitor
    assert await service.insight.support(report.id, "visitor-2") is True
    after = (await service.insight.hot_issues(SUPERVISOR))[0]
    assert after.support == 2 and after.heat > before
    assert (await service.store.get_report(numbers[0])).status is Status.ANSWERED  # type: ignore[union-attr]


def write_csv(path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "title", "text", "time", "user", "likes", "dislikes"])
        for i, (title, text, phone) in enumerate(COMPOUND + OTHERS):
            w.writerow([f"m{i}", title, text, f"2026-03-{i + 1:02d} 10:00:00", phone, i, 0])


def test_hot_command_over_a_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "messages.csv"
    write_csv(path)
    assert main(["hot", "--csv", str(path), "--json", "--top", "3"]) == 0
    issues = json.loads(capsys.readouterr().out)
    assert 1 <= len(issues) <= 3
    first = issues[0]
    assert first["rank"] == 1
    assert sorted(first["ids"]) == ["m0", "m1", "m2", "m3", "m4"]
    assert first["place"] == "幸福里小区"
    assert first["from"].startswith("2026-03-01") and first["to"].startswith("2026-03-05")
    assert first["summary"] and first["heat"] > 0


def test_hot_command_refuses_a_file_without_times(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("id,title,text\n1,a,b\n", encoding="utf-8")
    assert main(["hot", "--csv", str(path), "--json"]) == 2
    assert "CSV 缺少列：time" in capsys.readouterr().err


def test_hot_command_over_the_service(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "svc.db"
    assert main(["hot", "--db", str(db), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


async def test_answer_quality_per_bureau_and_rework_on_both_stores(
    service: FeedbackService, clock: Clock
) -> None:
    from datetime import timedelta

    from tests.web.test_insight import FORWARDING_ONLY, SPECIFIC

    numbers = await submit_all(service, clock)
    clerk = staff("zhzf")
    for tn, answer in ((numbers[0], FORWARDING_ONLY), (numbers[1], SPECIFIC)):
        await service.assign(SUPERVISOR, tn, "zhzf")
        await service.accept(clerk, tn)
        await service.answer(clerk, tn, answer)
    since, until = clock.now - timedelta(days=30), clock.now + timedelta(days=1)
    [zhzf] = await service.insight.quality_by_bureau(SUPERVISOR, since, until)
    assert zhzf.answers == 2 and zhzf.rework_share == 0.5
    assert zhzf.worst[0]["tracking_number"] == numbers[0]
    assert zhzf.worst[0]["verdict"] == "需返工" and zhzf.worst[0]["can_return"]
    # The one 考核 score: answered on time, nothing sent back, no rating yet, and the answers'
    # mean review score as its fourth part (40 · 30 · 20 of the weights known).
    stats = service.stats
    flt = build_filter(stats, stats.local_day(clock.now), date_from="", date_to="")
    board = await stats.dashboard(flt, clock.now)
    [fig] = [f for f in board.by_department if f.key == "zhzf"]
    assert fig.answer_quality == zhzf.mean_score
    expected = (40 * 1.0 + 30 * 1.0 + 20 * zhzf.mean_score / 100) / 90 * 100
    assert fig.assessment_score == pytest.approx(expected, abs=0.05) and expected < 100

    await service.insight.return_for_rework(SUPERVISOR, numbers[0], "仅转办，请重新答复。")
    [zhzf] = await service.insight.quality_by_bureau(SUPERVISOR, since, until)
    assert zhzf.returned == 1 and not zhzf.worst[0]["can_return"]
    report = await service.store.get_report(numbers[0])
    assert report is not None and report.status is Status.REOPENED
    # The bureau answers again; the new answer gets its own review.
    clock.advance(hours=3)
    await service.answer(clerk, numbers[0], SPECIFIC)
    review = await service.insight.review_of(await service.store.get_report(numbers[0]))  # type: ignore[arg-type]
    assert review is not None and review["acceptable"] and review["returned_at"] is None
    [zhzf] = await service.insight.quality_by_bureau(SUPERVISOR, since, until)
    assert zhzf.returned == 0 and zhzf.rework_share == 0.0
    checked, breaks = await service.verify_records()
    assert breaks == []
