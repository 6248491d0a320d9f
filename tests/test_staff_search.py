"""A clerk looks a report up: by its tracking number (whole, the last digits, typed with a
full-width dash or in lower case) or by words of its title and text, on both stores."""

from __future__ import annotations

from feedback.models import Actor
from feedback.service import FeedbackService
from tests.conftest import SUPERVISOR, staff

NOISE = {
    "title": "夜间施工噪音扰民",
    "text": "小区旁边的工地每天晚上十一点以后还在施工，噪音很大，影响居民休息。",
    "anonymous": True,
}
STALL = {
    "title": "城管执法罚款不开票据",
    "text": "昨天下午在般阳路摆摊，城管执法人员直接罚款两百元，没有出具任何票据。",
    "anonymous": True,
}


async def numbers(
    service: FeedbackService, queue: str, query: str, actor: Actor = SUPERVISOR
) -> list[str]:
    reports, total = await service.queue_page(actor, queue, query=query)
    assert total == len(reports)
    return sorted(r.tracking_number for r in reports)


async def test_a_report_is_found_by_its_number_however_it_is_typed(
    service: FeedbackService,
) -> None:
    filed = [(await service.submit(dict(NOISE if i % 2 else STALL))).tracking_number
             for i in range(12)]  # fmt: skip
    for tn in filed:
        await service.assign(SUPERVISOR, tn, "zhzf")
    tn = filed[10]  # ZC-2026-000011
    assert tn == "ZC-2026-000011"

    assert await numbers(service, "all", tn) == [tn]
    assert await numbers(service, "all", tn.lower()) == [tn]
    assert await numbers(service, "all", "ＺＣ－２０２６－０００００１１") == [tn]
    assert await numbers(service, "all", "ZC—2026—000011") == [tn]
    assert await numbers(service, "all", "2026-11") == [tn]  # the sequence without its zeros
    # Part of it: every number holding those digits.
    assert await numbers(service, "all", "000011") == [tn]
    assert await numbers(service, "all", "11") == [tn]
    assert await numbers(service, "all", "00001") == [filed[0], *filed[9:]]
    # The bureau's clerk finds it in the queue it is in.
    assert await numbers(service, "new", "000011", staff("zhzf")) == [tn]
    # Another bureau's clerk finds nothing: the search stays inside what they may see.
    assert await numbers(service, "all", tn, staff("zjj")) == []


async def test_words_of_title_and_text_must_all_occur(service: FeedbackService) -> None:
    noise = (await service.submit(dict(NOISE))).tracking_number
    stall = (await service.submit(dict(STALL))).tracking_number
    for tn in (noise, stall):
        await service.assign(SUPERVISOR, tn, "zhzf")
    assert await numbers(service, "all", "噪音") == [noise]
    assert await numbers(service, "all", "般阳路 罚款") == [stall]
    assert await numbers(service, "all", "般阳路 噪音") == []
    # Words and a number together narrow down the same way.
    assert await numbers(service, "all", f"罚款 {stall[-3:]}") == [stall]
    # LIKE's own wildcards are taken as typed, not as "anything".
    assert await numbers(service, "all", "%") == []
    assert await numbers(service, "all", "_") == []
