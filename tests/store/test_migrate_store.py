"""`feedback migrate-store`: a district moves from its SQLite file to PostgreSQL (and back),
and every report, record chain, account and counter arrives intact and keeps working."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from feedback import cli
from feedback.config import Config
from feedback.models import Rating
from feedback.service import FeedbackService
from feedback.store import ReportFilter, Store, User, open_store
from tests.conftest import SUPERVISOR, Clock, staff
from tests.store.pg import fresh_schema_url

TEXTS = [
    ("占道经营罚款不开票", "城管在菜市场门口罚了我两百元，问要收据说没有，也没说依据哪条规定。"),
    ("小区供暖不热", "我家小区今年供暖温度一直不到十六度，给物业和热力公司打电话都没人管。"),
    ("拖欠工资", "我在一家装修公司干了三个月，老板一直拖欠工资，去劳动监察大队反映两次没有回音。"),
]


async def _populate(service: FeedbackService, clock: Clock) -> tuple[list[str], str]:
    """A small district's history: routed, signed, answered, escalated, sent back; the
    tracking numbers and the first report's follow-up code."""
    numbers, codes = [], []
    for i in range(6):
        title, text = TEXTS[i % 3]
        r = await service.submit({"title": title, "text": text, "telegram_chat_id": 900 + i})
        numbers.append(r.tracking_number)
        codes.append(r.follow_up_code)
        clock.advance(hours=1)
    await service.assign(SUPERVISOR, numbers[0], "zhzf", ["abuse_of_power", "opacity"])
    await service.accept(staff("zhzf"), numbers[0])
    await service.answer(
        staff("zhzf"), numbers[0], "经核查，已责令执法人员补开票据并向您说明处罚依据。" * 2
    )
    await service.assign(SUPERVISOR, numbers[1], "zjj")
    await service.send_back(staff("zjj"), numbers[1], "供暖温度不达标属于热力公司监管范围", "zhzf")
    await service.escalate(SUPERVISOR, numbers[2], "请抓紧办理")
    async with service.store.transaction() as tx:
        await tx.insert_user(User(None, "zhao", "argon2-hash", "staff", "zhzf", "赵科员"))
    return numbers, codes[0]


async def _rows(store: Store) -> dict[str, int]:
    from feedback.store.copy import count, tables

    return {t: await count(store, t) for t in await tables(store)}


async def _migrate(source: str, target: str) -> int:
    # The command runs its own event loop, as it does from the shell.
    return await asyncio.to_thread(cli.main, ["migrate-store", "--from", source, "--to", target])


async def test_sqlite_to_postgres_and_back_keeps_every_chain(
    tmp_path: Path, pg_database: str | None, config: Config, clock: Clock
) -> None:
    pg_url = fresh_schema_url(pg_database)
    source = open_store(str(tmp_path / "district.db"))
    await source.open()
    service = FeedbackService(source, config, clock=clock)
    numbers, code = await _populate(service, clock)
    before = await _rows(source)
    chains = {c.tracking_number: c.head async for c in source.iter_chains()}
    await source.close()

    assert await _migrate(f"sqlite:///{tmp_path / 'district.db'}", pg_url) == 0

    target = open_store(pg_url)
    await target.open()
    try:
        after = await _rows(target)
        assert {t: n for t, n in after.items() if t in before} == before
        assert {c.tracking_number: c.head async for c in target.iter_chains()} == chains
        moved = FeedbackService(target, config, clock=clock)
        assert await moved.verify_records() == (6, [])
        user = await target.get_user("zhao")
        assert user is not None and user.display_name == "赵科员"
        # Work goes on where it stopped: the next number, the next event on an old chain.
        new = await moved.submit({"title": TEXTS[0][0], "text": TEXTS[0][1]})
        assert new.tracking_number.endswith("-000007")
        view = await moved.rate(numbers[0], code, Rating.SATISFIED)
        assert view.report.status.value == "closed"
        assert await moved.verify_records() == (7, [])
        assert await target.count_reports(ReportFilter()) == 7
    finally:
        await target.close()

    # And back again, into a new SQLite file: the same chains.
    back = tmp_path / "back.db"
    assert await _migrate(pg_url, str(back)) == 0
    returned = open_store(str(back))
    await returned.open()
    try:
        assert await FeedbackService(returned, config).verify_records() == (7, [])
    finally:
        await returned.close()


async def test_a_non_empty_target_is_refused(
    tmp_path: Path, config: Config, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("a.db", "b.db"):
        store = open_store(str(tmp_path / name))
        await store.open()
        await FeedbackService(store, config, clock=clock).submit(
            {"title": TEXTS[1][0], "text": TEXTS[1][1]}
        )
        await store.close()
    assert await _migrate(str(tmp_path / "a.db"), str(tmp_path / "b.db")) == 2
    assert "不是空的" in capsys.readouterr().err
    assert await _migrate(str(tmp_path / "missing.db"), str(tmp_path / "c.db")) == 2
    assert "不存在" in capsys.readouterr().err


async def test_demo_database_round_trips_with_every_chain_verified(
    tmp_path: Path, pg_database: str | None, config: Config
) -> None:
    from feedback.demo import load_demo

    pg_url = fresh_schema_url(pg_database)
    source = open_store(str(tmp_path / "demo.db"))
    await source.open()
    loaded = await load_demo(FeedbackService(source, config), count=25, seed=7)
    before = await _rows(source)
    await source.close()

    assert await _migrate(str(tmp_path / "demo.db"), pg_url) == 0
    assert await _migrate(pg_url, str(tmp_path / "again.db")) == 0

    for url in (pg_url, str(tmp_path / "again.db")):
        store = open_store(url)
        await store.open()
        try:
            assert await FeedbackService(store, config).verify_records() == (loaded, [])
            after = await _rows(store)
            assert {t: n for t, n in after.items() if t in before} == before
        finally:
            await store.close()
