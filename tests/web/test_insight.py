"""The insight desk in the browser's words: hot issues on the dashboard, the clerk's answer
warning, the supervisor's rework, 附议 and hot issues on the public page (no JavaScript)."""

from __future__ import annotations

import html as htmllib
import re
from datetime import timedelta

from feedback.models import Status
from feedback.service import FeedbackService
from tests.conftest import SUPERVISOR, Clock
from tests.insight.stories import COMPOUND, OTHERS
from tests.web.conftest import MakeVisitor, submit

FORWARDING_ONLY = "您好！您反映的问题已转交相关部门处理，感谢您对我们工作的关注！"
SPECIFIC = (
    "您好！经查，幸福里小区一楼三家饭店未安装油烟净化设施，违反《中华人民共和国大气污染防治法》"
    "第八十一条。3月12日，区综合行政执法局已责令其十日内安装油烟净化设施并停止夜间露天经营，"
    "3月23日复查，三家饭店均已安装并正常使用，夜间已无露天经营。"
)


def text_of(page: str) -> str:
    return htmllib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


async def five_residents(visitor: MakeVisitor, clock: Clock) -> list[str]:
    citizen = await visitor()
    numbers = []
    for title, text, _phone in COMPOUND + OTHERS:
        tn, _code = await submit(citizen, title=title, text=text, place="幸福里小区")
        numbers.append(tn)
        clock.advance(hours=20)
    return numbers


async def test_five_residents_one_hot_issue_escalated_once_from_the_dashboard(
    visitor: MakeVisitor, service: FeedbackService, clock: Clock
) -> None:
    numbers = await five_residents(visitor, clock)
    compound = numbers[:5]
    for tn in compound[:3]:  # some already with the bureau, some still at the triage desk
        await service.assign(SUPERVISOR, tn, "zhzf")
    sup = await visitor("sup1")
    status, page = await sup.get("/staff/dashboard")
    assert status == 200
    issues = re.findall(
        r'<article class="hot-issue" data-issue="([^"]+)">(.*?)</article>', page, re.S
    )
    assert issues, "no hot issue on the dashboard"
    key, first = issues[0]
    assert re.search(r'class="hot-reports">5<', first)
    assert "幸福里小区" in text_of(first)
    assert "涉及单位：区综合行政执法局" in text_of(first)
    for tn in compound:
        assert tn in first
    for tn in numbers[5:]:
        assert tn not in first

    members = re.findall(r'name="tracking_number" value="([^"]+)"', first)
    status, page = await sup.post(
        "/staff/insight/escalate-issue",
        {"issue": key, "tracking_number": members, "note": "请统一处理该小区饭店油烟问题"},
    )
    assert status == 200
    assert "已对该热点问题统一督办 5 件诉求" in text_of(page)
    assert "已统一督办" in text_of(page)
    # In the district's time, as every other time on the page.
    local = (clock() + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M")
    assert f"已统一督办 {local}" in text_of(page) and "UTC" not in text_of(page)
    for tn in compound:
        view = await service.staff_view(SUPERVISOR, tn)
        assert view.report.escalation_level == 1
        assert [e.action for e in view.events].count("escalate") == 1
    assert (await service.staff_view(SUPERVISOR, numbers[5])).report.escalation_level == 0


async def test_bureau_staff_see_no_hot_issues(visitor: MakeVisitor, clock: Clock) -> None:
    await five_residents(visitor, clock)
    clerk = await visitor("zhzf1")
    status, page = await clerk.get("/staff/dashboard")
    assert status == 200 and 'id="hot"' not in page


async def answered_by_clerk(
    visitor: MakeVisitor, service: FeedbackService, answer: str, *, check: bool = False
) -> tuple[str, str, object]:
    citizen = await visitor()
    title, text, _ = COMPOUND[0]
    tn, code = await submit(citizen, title=title, text=text, place="幸福里小区")
    await service.assign(SUPERVISOR, tn, "zhzf")
    clerk = await visitor("zhzf1")
    await clerk.post(f"/staff/reports/{tn}/accept", {})
    form = {"answer": answer, **({"check": "1"} if check else {})}
    status, page = await clerk.post(f"/staff/reports/{tn}/answer", form)
    return tn, page, clerk


async def test_a_forwarding_only_answer_is_flagged_before_sending_and_can_still_be_sent(
    visitor: MakeVisitor, service: FeedbackService
) -> None:
    tn, page, clerk = await answered_by_clerk(visitor, service, FORWARDING_ONLY, check=True)
    words = text_of(page)
    assert "答复质量检查" in words and "需返工" in words
    assert "仅转办或让群众另行咨询，未说明调查结果和处理情况" in words
    assert FORWARDING_ONLY in page  # the draft is kept
    assert (await service.staff_view(SUPERVISOR, tn)).report.status is Status.ACCEPTED

    # Not a block: the clerk may send it as it is, and is told again what is missing.
    status, page = await clerk.post(  # type: ignore[attr-defined]
        f"/staff/reports/{tn}/answer", {"answer": FORWARDING_ONLY}
    )
    words = text_of(page)
    assert status == 200 and "答复已发送" in words
    assert "答复质量提示：仅转办或让群众另行咨询" in words
    assert (await service.staff_view(SUPERVISOR, tn)).report.status is Status.ANSWERED

    # The supervisor sees the bureau's answer quality and returns the answer for rework.
    sup = await visitor("sup1")
    status, page = await sup.get("/staff/dashboard")
    table = re.search(r'id="answer-quality">(.*?)</table>', page, re.S)
    assert table, "no answer-quality table on the dashboard"
    row = re.search(r'<tr data-key="zhzf">(.*?)</tr>', table.group(1), re.S)
    assert row, "no answer-quality row for the bureau"
    assert re.search(r'data-name="rework_share">100%<', row.group(1))
    # One 考核 score: the ranking and the answer-quality table show the same figure, and the
    # forwarding-only answer pulls it below the 100 of an on-time answer never sent back.
    ranked = re.search(r'id="ranking">.*?<tr data-key="zhzf">(.*?)</tr>', page, re.S)
    assert ranked, "the bureau is not in the ranking"
    score = re.search(r'data-name="assessment_score">([\d.]+)<', ranked.group(1))
    assert score and float(score.group(1)) < 100
    assert f"<td>{score.group(1)}</td></tr>" in row.group(0)
    worst = re.search(rf'data-tracking-number="{tn}">(.*?)</article>', page, re.S)
    assert worst and "需返工" in text_of(worst.group(1))
    status, page = await sup.post(
        "/staff/insight/rework",
        {"tracking_number": tn, "reason": "仅转办，未说明处理结果，请重新答复。"},
    )
    assert status == 200 and f"已将 {tn} 的答复退回承办单位重新答复" in text_of(page)
    view = await service.staff_view(SUPERVISOR, tn)
    assert view.report.status is Status.REOPENED
    assert view.report.reopen_count == 0  # the citizen's own reopen stays unused
    last = view.events[-1]
    assert last.action == "reopen" and last.details["rework"] is True
    assert last.details["reason"] == "仅转办，未说明处理结果，请重新答复。"
    status, page = await sup.get(f"/staff/reports/{tn}")
    assert "已退回重新答复" in text_of(page)


async def test_a_specific_answer_citing_its_regulation_is_acceptable(
    visitor: MakeVisitor, service: FeedbackService
) -> None:
    tn, page, clerk = await answered_by_clerk(visitor, service, SPECIFIC, check=True)
    words = text_of(page)
    assert "答复质量检查" in words and "合格" in words and "需返工" not in words
    status, page = await clerk.post(f"/staff/reports/{tn}/answer", {"answer": SPECIFIC})  # type: ignore[attr-defined]
    words = text_of(page)
    assert "答复已发送" in words and "答复质量提示" not in words
    assert (await service.staff_view(SUPERVISOR, tn)).report.status is Status.ANSWERED
    assert "合格" in words  # the stored review on the report page


async def test_citizens_support_a_published_report_once_each(
    visitor: MakeVisitor, service: FeedbackService
) -> None:
    # The public page shows bureaus with at least five reports (the small-count threshold).
    citizen = await visitor()
    for title, text, _ in COMPOUND[1:]:
        other_tn, _code = await submit(citizen, title=title, text=text)
        await service.assign(SUPERVISOR, other_tn, "zhzf")
    tn, _page, _clerk = await answered_by_clerk(visitor, service, SPECIFIC)
    reader = await visitor()
    status, page = await reader.get("/public")
    form = re.search(r'<form method="post" action="/public/support"[^>]*id="r(\d+)"', page)
    assert form, "no 附议 button on the published report"
    rid = form.group(1)
    status, page = await reader.post("/public/support", {"report": rid})
    assert status == 200 and "感谢您的附议" in text_of(page)
    assert "1 人附议" in text_of(page)
    status, page = await reader.post("/public/support", {"report": rid})
    assert "您已附议过这件诉求" in text_of(page) and "1 人附议" in text_of(page)
    other = await visitor()
    await other.get("/public")
    status, page = await other.post("/public/support", {"report": rid})
    assert "2 人附议" in text_of(page)
    # Not a published report: a clear Chinese error, not a 500.
    status, page = await other.post("/public/support", {"report": "999999"})
    assert status == 404 and "该诉求未公开，不能附议" in text_of(page)


async def test_the_public_page_shows_hot_issues_of_five_or_more_only(
    visitor: MakeVisitor, clock: Clock
) -> None:
    await five_residents(visitor, clock)
    reader = await visitor()
    status, page = await reader.get("/public")
    section = re.search(r'id="hot-issues">(.*?)</section>', page, re.S)
    assert section
    words = text_of(section.group(1))
    assert "5 件诉求" in words and "幸福里小区" in words
    assert "13905330001" not in page


async def test_reports_whose_citizens_refused_publication_make_no_public_hot_issue(
    visitor: MakeVisitor, service: FeedbackService, clock: Clock
) -> None:
    citizen = await visitor()
    for title, text, _phone in COMPOUND:
        await submit(citizen, title=title, text=text, place="幸福里小区", publish="0")
        clock.advance(hours=20)
    sup = await visitor("sup1")
    _, page = await sup.get("/staff/dashboard")
    # The staff still see the issue: refusing publication changes nothing in the handling.
    assert re.search(r'class="hot-reports">5<', page)
    reader = await visitor()
    _, page = await reader.get("/public")
    section = re.search(r'id="hot-issues">(.*?)</section>', page, re.S)
    assert section is None or "幸福里小区" not in text_of(section.group(1))
