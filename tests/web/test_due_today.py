"""On the day a deadline falls, the pages say 今天到期 -- not "0 个工作日", which a clerk read
as no time left at all -- and the day before, how many working days remain."""

from __future__ import annotations

from feedback.service import DeadlineView, FeedbackService
from tests.conftest import SUPERVISOR, Clock
from tests.web.conftest import MakeVisitor, submit


async def test_the_clerk_sees_today_on_the_sign_for_day(
    visitor: MakeVisitor, service: FeedbackService, clock: Clock
) -> None:
    citizen = await visitor()
    tn, _ = await submit(citizen)
    await service.assign(SUPERVISOR, tn, "zhzf")  # Tuesday morning: sign for by Wednesday
    clerk = await visitor("zhzf1")
    status, html = await clerk.get(f"/staff/reports/{tn}")
    assert status == 200 and "（剩余 1 个工作日）" in html
    clock.advance(days=1)  # Wednesday
    status, html = await clerk.get(f"/staff/reports/{tn}")
    assert status == 200 and "签收期限" in html and "（今天到期）" in html
    assert "0 个工作日" not in html
    status, html = await clerk.get("/staff?queue=new")
    assert status == 200 and tn in html and "（今天到期）" in html and "（0 " not in html


def test_the_words_for_the_time_left() -> None:
    def view(name: str, left: int) -> DeadlineView:
        return DeadlineView(name, "", None, left, overdue=False)  # type: ignore[arg-type]

    assert view("sign_by", 0).left_words == "今天到期"
    assert view("answer_by", 3).left_words == "剩余 3 个工作日"
    assert view("rate_by", 2).left_words == "剩余 2 天"
