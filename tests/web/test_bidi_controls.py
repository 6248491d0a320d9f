"""Text a citizen sends with a bidirectional override in it (U+202E, pasted from a chat app or
put there on purpose) must not turn what staff read around: a name "张三" + U+202E before
the phone showed the clerk 00083100831 for 13800138000, and "罚款两百元不开票据" read as
"罚款据票开不元百两". The controls are dropped at intake, with the other invisible controls;
the letters stay as written."""

from __future__ import annotations

from feedback.service import FeedbackService
from tests.conftest import SUPERVISOR, staff
from tests.web.conftest import MakeVisitor, submit

RLO, LRE, RLI, PDI = "\u202e", "\u202a", "\u2067", "\u2069"
BIDI = (RLO, LRE, RLI, PDI, "\u202b", "\u202c", "\u202d", "\u2066", "\u2068")


async def test_an_override_in_the_report_does_not_reverse_what_staff_read(
    visitor: MakeVisitor, service: FeedbackService
) -> None:
    citizen = await visitor()
    tn, code = await submit(
        citizen,
        title=f"罚款{RLO}不开票据",
        text=f"昨天在般阳路，城管执法人员罚款{RLO}两百元，{LRE}没有出具任何票据{RLI}和处罚决定书{PDI}。",
        anonymous="0",
        contact_name=f"张三{RLO}",
        contact_phone="13800138000",
    )
    report = await service.store.get_report(tn)
    assert report is not None
    assert report.contact.name == "张三" and report.contact.phone == "13800138000"
    assert report.title == "罚款不开票据"
    assert "罚款两百元，没有出具任何票据和处罚决定书。" in report.text

    await service.assign(SUPERVISOR, tn, "zhzf")
    clerk = await visitor("zhzf1")
    status, html = await clerk.get(f"/staff/reports/{tn}")
    assert status == 200 and "13800138000" in html
    assert not any(c in html for c in BIDI)

    # The rating's comment and the review's reason are citizen text too.
    await service.accept(staff("zhzf"), tn)
    await service.answer(staff("zhzf"), tn, "经核查，执法人员确未开具票据，已责令补开并退还罚款。")
    await citizen.post("/track", {"tn": tn, "code": code})
    status, html = await citizen.post(
        "/track/rate", {"tn": tn, "rating": "unsatisfied", "comment": f"票据{RLO}没有收到"}
    )
    assert status == 200 and "票据没有收到" in html and RLO not in html
