"""The service behind Open311's listings, on both stores: a client's own reports by its key,
whichever bureau took them, a list of bureaus, and the public updates of a time window."""

from __future__ import annotations

from datetime import timedelta

from feedback import apikeys
from feedback.models import Channel
from feedback.service import FeedbackService
from tests.conftest import SUPERVISOR, Clock, staff

TEXT = "城管执法人员在东门市场收缴摊贩的秤和货物，没有开具任何单据，也没有出示执法证件。"


async def test_a_clients_reports_and_the_updates_of_a_window(
    service: FeedbackService, clock: Clock
) -> None:
    await apikeys.create(service.store, "fixmystreet", 60, clock())
    await apikeys.create(service.store, "hotline", 60, clock())
    [fms] = [k for k in await apikeys.list_keys(service.store) if k.name == "fixmystreet"]
    mine = await service.submit({"text": TEXT}, channel=Channel.API, api_key=fms)
    other = await service.submit({"text": TEXT}, channel=Channel.API)
    if mine.department is None:
        await service.assign(SUPERVISOR, mine.tracking_number, "zhzf")
    found = await service.find_reports(api_key=fms)
    assert [r.tracking_number for r in found] == [mine.tracking_number]
    dept = found[0].department
    assert dept
    both = await service.find_reports(departments=[dept, "zjj"])
    assert mine.tracking_number in {r.tracking_number for r in both}
    assert await service.find_reports(departments=[]) == []

    clock.advance(hours=1)
    start = clock()  # after the submissions and the assignment: only what follows counts
    await service.accept(staff(dept), mine.tracking_number)
    updates = await service.public_updates(start, clock() + timedelta(seconds=1))
    assert [(u.report.tracking_number, u.item.label) for u in updates] == [
        (mine.tracking_number, "签收")
    ]
    assert other.tracking_number not in {u.report.tracking_number for u in updates}
