"""The demo data set lives in the past: no report, event or deadline-setting moment after the
moment it was loaded, so a citizen's new report sorts above every demo one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from feedback.demo import load_demo
from feedback.service import FeedbackService
from feedback.store import ReportFilter
from tests.conftest import SUPERVISOR, Clock

REPORT = {
    "title": "城管执法罚款不开票据",
    "text": "昨天下午在般阳路摆摊，城管执法人员直接罚款两百元，没有出具任何票据和处罚决定书。",
    "anonymous": True,
}


async def test_demo_reports_are_never_dated_after_now(
    service: FeedbackService, clock: Clock
) -> None:
    # Loaded at 08:05 in Zibo: the day's office hours lie after now. With this seed one demo
    # report falls in the night before, which office hours would have moved to later today.
    clock.now = datetime(2026, 3, 10, 0, 5, tzinfo=UTC)
    await load_demo(service, count=30, seed=5)
    reports = await service.store.list_reports(ReportFilter(limit=1000))
    assert len(reports) == 30
    assert max(r.created_at for r in reports) <= clock.now
    assert max(r.updated_at for r in reports) <= clock.now
    for r in reports:
        events = (await service.staff_view(SUPERVISOR, r.tracking_number)).events
        assert all(e.at <= clock.now for e in events), r.tracking_number

    clock.advance(minutes=1)
    new = await service.submit(dict(REPORT))
    queue = await service.queue(SUPERVISOR, "all", limit=1)
    assert [r.tracking_number for r in queue] == [new.tracking_number]


async def test_demo_bureaus_answer_well_and_badly_like_real_ones(
    service: FeedbackService, clock: Clock
) -> None:
    # A supervisor trying the demo sees bureaus differ: most answers acceptable, some sent back
    # for rework, not every bureau needing rework on every answer.

    await load_demo(service, count=120, seed=2026)
    now = clock()
    bureaus = await service.insight.quality_by_bureau(SUPERVISOR, now - timedelta(days=200), now)
    answered = [b for b in bureaus if b.rework_share is not None]
    assert len(answered) >= 5
    shares = [b.rework_share for b in answered if b.rework_share is not None]
    assert min(shares) < 0.25 and max(shares) > 0.3
    assert sum(shares) / len(shares) < 0.5
