"""The store contract, on SQLite and on PostgreSQL alike: what several processes sharing one
database rely on. A second store opened on the same database stands in for a second process:
it has its own connections, so only the database's own locking keeps the two apart."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from feedback.config import Config
from feedback.errors import StoreError
from feedback.models import Actor
from feedback.service import FeedbackService, search_words
from feedback.store import ReportFilter, Store, User, migrate, open_store
from tests.conftest import SUPERVISOR, Clock, staff

REPORT = {
    "title": "执法人员未亮证",
    "text": "城管在我店门口检查，没有出示执法证件就要求我签字，也不说依据哪条规定。",
}


@pytest.fixture
async def other(store: Store) -> AsyncIterator[Store]:
    """A second, independent store on the same database: another process's view."""
    s = open_store(store.url)
    await s.open()
    yield s
    await s.close()


async def test_schema_is_at_the_latest_migration(store: Store) -> None:
    assert await store.schema_version() == int(migrate.head())


async def test_concurrent_submissions_through_two_stores_get_unique_numbers(
    store: Store, other: Store, config: Config, clock: Clock
) -> None:
    a = FeedbackService(store, config, clock=clock)
    b = FeedbackService(other, config, clock=clock)
    results = await asyncio.gather(
        *(
            svc.submit({**REPORT, "title": f"执法人员未亮证 {i}"})
            for i in range(10)
            for svc in (a, b)
        )
    )
    numbers = [r.tracking_number for r in results]
    assert len(set(numbers)) == 20
    assert await store.count_reports(ReportFilter()) == 20
    assert sorted(int(n.rsplit("-", 1)[1]) for n in numbers) == list(range(1, 21))
    checked, breaks = await a.verify_records()
    assert (checked, breaks) == (20, [])


async def test_two_stores_acting_on_one_report_keep_its_chain(
    store: Store, other: Store, config: Config, clock: Clock
) -> None:
    # Sixteen 督办 at once, each taken: the repeat window is off (escalate_repeat_minutes = 0)
    # so every one of them writes to the chain while the other store writes too.
    a = FeedbackService(store, config, clock=clock, escalate_repeat_minutes=0)
    b = FeedbackService(other, config, clock=clock, escalate_repeat_minutes=0)
    submitted = await a.submit(REPORT)
    tn = submitted.tracking_number
    before = (await store.get_report(tn)).record_count  # type: ignore[union-attr]
    await asyncio.gather(*(svc.escalate(SUPERVISOR, tn, f"第{i}次督办") for i in range(8)
                           for svc in (a, b)))  # fmt: skip
    report = await other.get_report(tn)
    assert report is not None and report.escalation_level == 16
    assert report.record_count == before + 16
    events = await store.list_events(report.id)  # type: ignore[arg-type]
    assert [e.seq for e in events] == list(range(1, before + 17))
    assert await b.verify_records() == (1, [])


async def test_background_job_lock_is_held_by_one_store_at_a_time(
    store: Store, other: Store
) -> None:
    async with store.try_advisory_lock("tick") as first:
        assert first is True
        async with other.try_advisory_lock("tick") as second:
            assert second is False
        async with other.try_advisory_lock("backup") as unrelated:
            assert unrelated is True
    async with other.try_advisory_lock("tick") as after_release:
        assert after_release is True


async def test_a_failed_transaction_leaves_nothing(store: Store, config: Config) -> None:
    with pytest.raises(RuntimeError):
        async with store.transaction() as tx:
            await tx.next_counter("tracking:2026")
            await tx.execute(
                "INSERT INTO users (username, password_hash, role, department, display_name, "
                "active, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                ("zhang", "x", "staff", "zhzf", "张", True, "2026-03-10T01:30:00+00:00"),
            )
            raise RuntimeError("crash mid-way")
    assert await store.list_users() == []
    async with store.transaction() as tx:
        assert await tx.next_counter("tracking:2026") == 1


async def test_portable_sql_runs_the_same_on_both(store: Store) -> None:
    """Modules with tables of their own write `?` SQL with ISO strings and 0/1 flags."""
    async with store.transaction() as tx:
        for i, ok in enumerate([1, 0, 0]):
            new_id = await tx.execute(
                "INSERT INTO login_attempts (username, address, at, success) VALUES (?, ?, ?, ?)",
                ("li", "127.0.0.1", f"2026-03-10T0{i}:00:00+00:00", ok),
            )
            assert new_id == i + 1
        touched = await tx.execute(
            "UPDATE login_attempts SET address = ? WHERE username = ? AND address <> '?'",
            ("10.0.0.1", "li"),
        )
        assert touched == 3
    rows = await store.fetch(
        "SELECT COUNT(*) AS n, SUM(id) AS total FROM login_attempts WHERE success = ?", (False,)
    )
    assert rows == [{"n": 2, "total": 5}]


async def test_users_round_trip_and_a_taken_name_is_refused(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.insert_user(User(None, "wang", "h", "staff", "zjj", "王工"))
    with pytest.raises(StoreError) as err:
        async with store.transaction() as tx:
            await tx.insert_user(User(None, "wang", "h2", "staff", "zjj"))
    assert "已存在" in err.value.message
    user = await store.get_user("wang")
    assert user is not None and user.display_name == "王工" and user.active is True
    assert user.created_at is not None and user.created_at.tzinfo is not None


async def test_queues_and_filters_agree(service: FeedbackService, clock: Clock) -> None:
    for i in range(3):
        await service.submit({**REPORT, "title": f"占道经营 {i}"})
        clock.advance(minutes=1)
    reports = await service.store.list_reports(
        ReportFilter(words=search_words("占道"), newest_first=False)
    )
    assert [r.title for r in reports] == ["占道经营 0", "占道经营 1", "占道经营 2"]
    flt = ReportFilter(created_from=clock.now.replace(minute=31), limit=1)
    assert await service.store.count_reports(flt) == 2
    assert len(await service.store.list_reports(flt)) == 1
    assert await service.queue(Actor(SUPERVISOR.role, "sup1", "sfj"), "all") != []
    assert staff("zhzf").department == "zhzf"
