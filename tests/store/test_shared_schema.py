"""The tests' shared PostgreSQL schema (tests/store/pg.py) keeps tests apart: each starts with
no rows and fresh sequences, and a test that changed the schema itself leaves the next one a
newly migrated schema. (SQLite tests each get a copy of a migrated file.)"""

from __future__ import annotations

import pytest

from feedback.config import Config
from feedback.service import FeedbackService
from feedback.store import open_store
from tests.conftest import Clock
from tests.store.pg import clean_shared_schema

pytestmark = pytest.mark.postgres

REPORT = {
    "title": "夜间施工噪音",
    "text": "小区旁工地每晚十一点后还在施工，噪音很大。",
    "anonymous": "1",
}


async def test_the_next_test_finds_no_rows_and_the_numbers_start_again(
    pg_url: str, pg_database: str, config: Config, clock: Clock
) -> None:
    async with open_store(pg_url) as store:
        first = await FeedbackService(store, config, clock=clock).submit(dict(REPORT))
        assert await store.fetch("SELECT id FROM reports") != []
    # What the next test's fixture does.
    assert clean_shared_schema(pg_database) == pg_url
    async with open_store(pg_url) as store:
        assert await store.fetch("SELECT id FROM reports") == []
        assert await store.fetch("SELECT id FROM events") == []
        again = await FeedbackService(store, config, clock=clock).submit(dict(REPORT))
    assert again.tracking_number == first.tracking_number  # the counter is new too


async def test_a_changed_schema_is_migrated_anew_for_the_next_test(
    pg_url: str, pg_database: str
) -> None:
    async with open_store(pg_url) as store, store.transaction() as tx:
        await tx.execute("DROP INDEX reports_status")
        await tx.execute("ALTER TABLE reports DROP COLUMN record_salt")
    clean_shared_schema(pg_database)
    async with open_store(pg_url) as store:
        indexes = await store.fetch(
            "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() "
            "AND indexname = 'reports_status'"
        )
        columns = await store.fetch(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = "
            "current_schema() AND table_name = 'reports' AND column_name = 'record_salt'"
        )
    assert len(indexes) == 1 and len(columns) == 1
