"""A real server on 127.0.0.1 in a thread of its own, for fuzzers that speak plain HTTP.

Hypothesis and schemathesis drive requests synchronously; the app runs on its own event loop
in a background thread, on a real SQLite file, with the per-address limits off (the fuzzers
send thousands of requests from one address) and a generous API key.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from aiohttp import web

from feedback import apikeys
from feedback.config import load_config
from feedback.service import FeedbackService
from feedback.settings import Settings
from feedback.store.sqlite import SQLiteStore
from web.app import create_app
from web.keys import service_key


@dataclass
class Live:
    base_url: str
    settings: Settings
    api_key: str
    session: requests.Session

    def counts(self) -> dict[str, int]:
        """Rows now, and whether every report's record count matches its events."""
        conn = sqlite3.connect(self.settings.db)
        try:
            reports = conn.execute("SELECT COUNT(*) FROM reports").fetchone()[0]
            events = conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
            mismatched = conn.execute(
                "SELECT COUNT(*) FROM reports r WHERE record_count != "
                "(SELECT COUNT(*) FROM events e WHERE e.report_id = r.id)"
            ).fetchone()[0]
        finally:
            conn.close()
        return {"reports": reports, "events": events, "mismatched": mismatched}

    def verify(self) -> tuple[int, list[Any]]:
        async def go() -> tuple[int, list[Any]]:
            async with SQLiteStore(self.settings.db) as store:
                return await FeedbackService(store, load_config()).verify_records()

        return asyncio.run(go())


@pytest.fixture(scope="package")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    folder: Path = tmp_path_factory.mktemp("fuzz")
    settings = Settings(
        db=str(folder / "fuzz.db"),
        data_dir=str(folder),
        max_body_mb=1,
        tick_seconds=0,
        submit_per_hour=0,
        code_attempts_per_15min=0,
        code_attempts_per_report=0,
    )
    loop = asyncio.new_event_loop()
    app = create_app(settings)
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    port = runner.addresses[0][1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    created = asyncio.run_coroutine_threadsafe(
        apikeys.create(app[service_key].store, "fuzzer", 100_000, datetime.now(UTC)), loop
    ).result(timeout=30)
    session = requests.Session()
    try:
        yield Live(f"http://127.0.0.1:{port}", settings, created[1], session)
    finally:
        session.close()
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        loop.close()
