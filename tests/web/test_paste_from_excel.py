"""A citizen pastes what they typed in a spreadsheet, or a letter that opens with a greeting:
the report keeps every cell, and the title staff and the citizen see says what it is about."""

from __future__ import annotations

from feedback.service import FeedbackService
from tests.conftest import SUPERVISOR
from tests.web.conftest import MakeVisitor, submit

TABLE = (
    "日期\t地点\t情况\n"
    "3月5日\t般阳路\t城管执法人员没收三轮车，没有出具任何单据\n"
    "3月6日\t松龄路\t再次去要回，被告知找不到记录"
)
LETTER = (
    "尊敬的领导：\n您好！\n我要反映般阳路城管执法人员没收三轮车不开单据的问题。当时是上午十点左右。"
)


async def test_a_pasted_table_keeps_its_cells_and_gets_a_title_from_a_row(
    visitor: MakeVisitor, service: FeedbackService
) -> None:
    citizen = await visitor()
    tn, _ = await submit(citizen, title="", text=TABLE, place="", authority="")
    report = (await service.staff_view(SUPERVISOR, tn)).report
    assert "再次去要回，被告知找不到记录" in report.text and "松龄路" in report.text
    assert report.title.startswith("3月5日 般阳路 城管执法人员没收三轮车")
    assert "日期" not in report.title


async def test_a_letter_is_titled_by_its_matter_not_its_greeting(service: FeedbackService) -> None:
    result = await service.submit({"text": LETTER, "anonymous": True})
    assert result.report.title == "我要反映般阳路城管执法人员没收三轮车不开单据的问题"
