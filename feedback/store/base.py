"""The store interface every backend implements (SQLite embedded, PostgreSQL for scale-out).

Writes happen only inside `store.transaction()`: one serialised writer on SQLite, a
transaction with the report row locked on PostgreSQL. Reads go through the store itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from feedback.models import Attachment, Event, Report, Status, User
from feedback.store.sql import Params, Query


@dataclass
class ReportFilter:
    statuses: Sequence[Status] | None = None
    department: str | None = None
    issue_type: str | None = None
    channel: str | None = None
    # Each word must match the title, the text or the tracking number (FeedbackService.search
    # makes them from what staff type): (word as typed, the word as a tracking number part).
    words: Sequence[tuple[str, str]] = ()
    tracking_number: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    updated_from: datetime | None = None  # changed since (Open311's servicerequestupdates)
    departments: Sequence[str] | None = None  # any of these bureaus
    api_key_id: int | None = None  # handed in by this machine client
    due_before: datetime | None = None  # past the office's deadline (workflow.overdue_clause) then
    arbitration: bool | None = None
    escalated: bool | None = None
    telegram_chat_id: int | None = None
    assignee: str | None = None  # a clerk's username; "" = 未认领 (nobody's yet)
    limit: int = 100
    offset: int = 0
    newest_first: bool = True


@dataclass
class Correction:
    report_id: int
    target: str  # "department" or "issue_type"
    title: str
    text: str
    labels: list[str]
    previous: list[str]
    actor_id: str
    created_at: datetime
    id: int | None = None


@dataclass
class Chain:
    tracking_number: str
    head: str
    count: int
    events: list[Event] = field(default_factory=list)


class WriteTx(Protocol):
    async def next_counter(self, name: str) -> int: ...
    # The counter's next value and the id the next new report will have, in one round trip.
    async def reserve_report(self, counter: str) -> tuple[int, int]: ...
    # Statements whose results nobody needs, in order, in as few round trips as the store can.
    async def run(self, statements: Sequence[tuple[str | Query, Any, bool]]) -> None: ...
    async def insert_report(self, report: Report) -> int: ...
    async def update_report(self, report: Report) -> None: ...
    async def lock_report(self, tracking_number: str) -> Report | None: ...
    async def insert_event(self, event: Event) -> None: ...
    async def insert_bands(self, report_id: int, bands: Sequence[int]) -> None: ...
    async def insert_attachment(self, report_id: int, attachment: Attachment) -> int: ...
    async def insert_correction(self, correction: Correction) -> int: ...
    async def insert_user(self, user: User) -> int: ...
    async def update_user(self, user: User) -> None: ...
    # Until the transaction ends, no other transaction holding the same name runs past this
    # call (the rate limits count and reserve under it). SQLite's single writer already is.
    async def lock_name(self, name: str) -> None: ...
    # Wait until no other transaction is writing ``table`` and keep new writers out until
    # this one ends (checkpoints read the highest committed id). SQLite's writer already is.
    async def wait_for_writers(self, table: str) -> None: ...
    # After rows were copied in with their ids (feedback.store.copy): new rows of ``table``
    # get ids after them. SQLite's rowid tables already do.
    async def move_identity(self, table: str) -> None: ...
    # ``sql`` a `feedback.store.sql.Query` (parameters by name) or, where the allow-list of
    # tests/test_architecture.py says why, hand-written SQL with ``?`` marks.
    async def execute(self, sql: str | Query, params: Params = ()) -> int: ...
    async def fetch(self, sql: str | Query, params: Params = ()) -> list[dict[str, Any]]: ...


class Store(Protocol):
    url: str
    dialect: str  # "sqlite" or "postgresql": what a `Query` is rendered for

    async def open(self) -> None: ...
    async def close(self) -> None: ...
    # ``quick``: a few small statements on the request path (a submission); a store may run
    # them without handing each to another thread (SQLite). Bulk work leaves it False.
    def transaction(self, *, quick: bool = False) -> AbstractAsyncContextManager[WriteTx]: ...
    # Yields True if this process now holds the named lock across every process sharing the
    # store (until the block ends), False if another holds it: the background job runs once.
    def try_advisory_lock(self, name: str) -> AbstractAsyncContextManager[bool]: ...

    async def get_report(self, tracking_number: str) -> Report | None: ...
    async def get_attachment(self, attachment_id: int) -> tuple[Attachment, str] | None: ...
    async def list_reports(self, flt: ReportFilter) -> list[Report]: ...
    async def count_reports(self, flt: ReportFilter) -> int: ...
    async def duplicate_candidates(
        self, bands: Sequence[int], flt: ReportFilter
    ) -> list[tuple[str, str, str]]: ...
    async def list_events(self, report_id: int) -> list[Event]: ...
    def iter_chains(self) -> AsyncIterator[Chain]: ...
    def iter_records(
        self,
    ) -> AsyncIterator[tuple[dict[str, Any], list[Attachment], list[Event]]]: ...
    async def list_corrections(self, target: str | None = None) -> list[Correction]: ...
    async def get_user(self, username: str) -> User | None: ...
    async def list_users(self) -> list[User]: ...
    async def schema_version(self) -> int: ...
    # The catalog, from each database's own (feedback.store.copy moves every table it holds):
    # ordinary tables, a table's columns in order, (table, table it references) pairs.
    async def table_names(self) -> list[str]: ...
    async def column_names(self, table: str) -> list[str]: ...
    async def foreign_keys(self) -> list[tuple[str, str]]: ...
    async def fetch(self, sql: str | Query, params: Params = ()) -> list[dict[str, Any]]: ...
    # An indexed read of a few rows on the request path: a store may answer it in the
    # caller's thread (SQLite: no hop to a reader thread, which costs more than such a read).
    async def fetch_few(self, sql: str | Query, params: Params = ()) -> list[dict[str, Any]]: ...
