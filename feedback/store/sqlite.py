"""The embedded store: one SQLite file in WAL mode.

One connection writes, behind a lock, so every write transaction is serialised (as in
datasette); reads use their own connections, which WAL lets run beside the writer. Each
connection lives in a thread of its own (`Connection`). Commits use
synchronous=FULL: once `transaction()` returns, the report survives a crash of the process or
of the machine. Writers that queue behind one another share a COMMIT (group commit), each in
a savepoint of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import itertools
import os
import sqlite3
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa

from feedback.errors import StoreError
from feedback.store import migrate
from feedback.store import schema as t
from feedback.store.base import User
from feedback.store.portable import (
    INSERT_USER,
    NEXT_COUNTER,
    PortableReads,
    PortableWrites,
    Statement,
    user_values,
)
from feedback.store.sql import Params, Query, cached, plain, plain_many

T = TypeVar("T")


class Result:
    """What one statement gave, read in the connection's thread: rows, last id, count."""

    __slots__ = ("rows", "lastrowid", "rowcount")

    def __init__(self, cur: sqlite3.Cursor):
        self.rows: list[sqlite3.Row] = cur.fetchall()
        self.lastrowid = cur.lastrowid
        self.rowcount = cur.rowcount


class Connection:
    """One sqlite3 connection used from one thread of its own. A statement and its rows come
    back in one hop to that thread (aiosqlite takes one for the statement and one for the
    rows), and `run` does several statements in one hop: each hop is a pair of thread
    switches, and a submission used to make thirty of them."""

    def __init__(self, conn: sqlite3.Connection, worker: ThreadPoolExecutor):
        self._conn = conn
        self._worker = worker

    @classmethod
    async def open(cls, path: str) -> Connection:
        worker = ThreadPoolExecutor(1, thread_name_prefix="sqlite")

        def connect() -> sqlite3.Connection:
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA busy_timeout = 10000")
            conn.execute("PRAGMA foreign_keys = ON")
            return conn

        conn = await asyncio.get_running_loop().run_in_executor(worker, connect)
        return cls(conn, worker)

    def call(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        return asyncio.get_running_loop().run_in_executor(self._worker, fn, *args)

    async def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """``fn(connection)`` in the connection's thread: several statements, one hop."""
        return await self.call(fn, self._conn)

    def here(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """``fn(connection)`` in the caller's thread, no hop: only for statements that cannot
        wait for a lock or the disk (inside a write transaction already begun, or an indexed
        read of a few rows), by the one task that owns the connection at that moment."""
        return fn(self._conn)

    def _execute(self, sql: str, params: Sequence[Any]) -> Result:
        return Result(self._conn.execute(sql, params))

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> Result:
        return await self.call(self._execute, sql, params)

    async def close(self) -> None:
        await self.call(self._conn.close)
        self._worker.shutdown(wait=True)


def read_rows(
    sql: str | Query, params: Params
) -> Callable[[sqlite3.Connection], list[dict[str, Any]]]:
    """The rows of one query, as dicts, read on whichever thread calls the result."""

    def read(conn: sqlite3.Connection) -> list[dict[str, Any]]:
        return [dict(r) for r in conn.execute(*plain("sqlite", sql, params))]

    return read


def run_statements(conn: sqlite3.Connection, statements: Sequence[Statement]) -> None:
    for sql, params, many in statements:
        if many:
            conn.executemany(*plain_many("sqlite", sql, params))
        else:
            conn.execute(*plain("sqlite", sql, params))


async def _connect(path: str) -> Connection:
    return await Connection.open(path)


async def _set_wal(conn: Connection, wait_s: float = 30.0) -> None:
    # Switching a new file to WAL needs an exclusive lock, and SQLite answers "database is
    # locked" at once (the busy handler is not used for it) while another process starting
    # at the same moment migrates: wait for it, as busy_timeout does for other statements.
    delay, waited = 0.01, 0.0
    while True:
        try:
            await conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or waited >= wait_s:
                raise
            await asyncio.sleep(delay)
            waited += delay
            delay = min(delay * 2, 0.5)


# The id the next report gets: under BEGIN IMMEDIATE's write lock nobody else can take it.
NEXT_REPORT_ID = Query(sa.select(sa.func.coalesce(sa.func.max(t.reports.c.id), 0) + 1))


class SQLiteTx(PortableWrites):
    """The statements of one writer. In a ``quick`` transaction (a submission: a few small
    statements) they run in the event loop's thread, not the writer's: BEGIN IMMEDIATE already
    holds the database's write lock, so none can wait for another process, and in WAL mode none
    touches the disk before the COMMIT (which, like BEGIN, runs in the connection's thread). A
    hop costs ~0.1 ms of CPU, more than such statements. Other transactions (a job re-indexing
    500 reports) keep theirs in the connection's thread, so the loop never stalls for them."""

    dialect = "sqlite"

    def __init__(self, conn: Connection, quick: bool = False):
        self.conn = conn
        self.quick = quick

    async def _on(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return self.conn.here(fn) if self.quick else await self.conn.run(fn)

    async def reserve_report(self, counter: str) -> tuple[int, int]:
        def both(conn: sqlite3.Connection) -> tuple[int, int]:
            seq = conn.execute(*NEXT_COUNTER.render("sqlite", {"name": counter})).fetchone()[0]
            next_id = conn.execute(*NEXT_REPORT_ID.render("sqlite", {})).fetchone()[0]
            return int(seq), int(next_id)

        return await self._on(both)

    async def run(self, statements: Sequence[Statement]) -> None:
        await self._on(lambda conn: run_statements(conn, statements))

    async def insert_user(self, user: User) -> int:
        try:
            return await self.execute(INSERT_USER, user_values(user))
        except sqlite3.IntegrityError as exc:
            raise StoreError(f"用户名 {user.username} 已存在。", field="username") from exc

    async def lock_name(self, name: str) -> None:
        # BEGIN IMMEDIATE took the database's write lock: every other writer, in this process
        # or another, already waits for the end of this transaction.
        return None

    async def move_identity(self, table: str) -> None:
        return None  # a rowid table's next id is after its largest already

    async def wait_for_writers(self, table: str) -> None:
        return None  # the write lock of BEGIN IMMEDIATE already excludes them

    async def execute(self, sql: str | Query, params: Params = ()) -> int:
        """For modules with their own tables (ledger, outbox): returns the row id or count."""
        res = await self._on(lambda conn: Result(conn.execute(*plain("sqlite", sql, params))))
        return res.lastrowid if res.lastrowid else res.rowcount

    async def executemany(
        self, sql: str | Query, rows: Sequence[Sequence[Any]] | Sequence[Mapping[str, Any]]
    ) -> None:
        sql, rows = plain_many("sqlite", sql, rows)
        await self._on(lambda conn: conn.executemany(sql, rows))

    async def fetch(self, sql: str | Query, params: Params = ()) -> list[dict[str, Any]]:
        return await self._on(read_rows(sql, params))


# Group commit (SQLiteStore.transaction): the statements each writer's work is framed by, run
# in the connection's thread. Writers take turns, so one savepoint name is enough.
def _begin(conn: sqlite3.Connection) -> None:
    conn.execute("BEGIN IMMEDIATE")


def _savepoint(conn: sqlite3.Connection) -> None:
    conn.execute("SAVEPOINT writer")


def _release(conn: sqlite3.Connection) -> None:
    conn.execute("RELEASE writer")


def _rollback_to(conn: sqlite3.Connection) -> None:
    conn.execute("ROLLBACK TO writer")
    conn.execute("RELEASE writer")


def _rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        conn.execute("ROLLBACK")


def _commit(conn: sqlite3.Connection) -> None:
    try:
        conn.execute("COMMIT")
    except BaseException:
        _rollback(conn)  # a failed COMMIT may leave the transaction open
        raise


class _Batch:
    """One open write transaction and the writers whose work it holds."""

    __slots__ = ("done", "members", "flusher")

    def __init__(self) -> None:
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        # Read even if every writer waiting on it was cancelled (no "never retrieved" noise).
        self.done.add_done_callback(lambda f: f.cancelled() or f.exception())
        self.members = 0
        self.flusher: asyncio.Task[None] | None = None

    def fail(self, exc: BaseException) -> None:
        if not self.done.done():
            self.done.set_exception(exc)

    def finish(self) -> None:
        if not self.done.done():
            self.done.set_result(None)


class SQLiteStore(PortableReads):
    """Store on one SQLite file. ``path`` may be ':memory:'-free file paths only (WAL)."""

    dialect = "sqlite"

    READERS = 2
    GROUP_COMMIT_MAX = 32  # writers sharing one COMMIT at most

    def __init__(self, path: str | Path):
        self.path = str(path)
        self.url = f"sqlite:///{self.path}"
        self._writer: Connection | None = None
        self._readers: list[Connection] = []
        self._reader_cycle: Any = None
        self._here: Connection | None = None  # fetch_few's, used only in the loop's thread
        self._write_lock = asyncio.Lock()
        self._batch: _Batch | None = None  # the open transaction writers may join
        self._waiting = 0  # writers waiting for the write lock
        self._tasks: set[asyncio.Task[None]] = set()

    async def open(self) -> None:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._writer = await _connect(self.path)
        await _set_wal(self._writer)
        await self._writer.execute("PRAGMA synchronous = FULL")
        await self._migrate()
        self._readers = [await _connect(self.path) for _ in range(self.READERS)]
        self._here = await _connect(self.path)
        for r in [*self._readers, self._here]:
            await r.execute("PRAGMA query_only = ON")
        # In the loop nothing may sleep: busy (a WAL reset, rare), fetch_few asks a reader.
        await self._here.execute("PRAGMA busy_timeout = 0")
        self._reader_cycle = itertools.cycle(self._readers)

    async def close(self) -> None:
        # Holding the write lock to the end: a writer queued meanwhile finds the store closed
        # (StoreError), never a connection closing under it.
        async with self._write_lock:
            try:
                if self._writer is not None:
                    await self._commit_open()
            finally:
                writer, self._writer = self._writer, None
            readers, here = self._readers, self._here
            self._readers, self._here = [], None
            for conn in [*readers, *([here] if here else []), *([writer] if writer else [])]:
                await conn.close()

    async def __aenter__(self) -> SQLiteStore:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _migrate(self) -> None:
        # On a connection of its own, before the readers open; WAL is already set.
        await migrate.upgrade_store(self.url)

    async def set_synchronous(self, level: str) -> None:
        """FULL (the default: every commit reaches the disk) or NORMAL for bulk loads."""
        if level not in ("FULL", "NORMAL"):
            raise ValueError(level)
        async with self._write_lock:
            await self._commit_open()
            await self._require_writer().execute(f"PRAGMA synchronous = {level}")

    def _require_writer(self) -> Connection:
        if self._writer is None:
            raise StoreError("store is not open")
        return self._writer

    def _reader(self) -> Connection:
        if not self._readers:
            raise StoreError("store is not open")
        conn: Connection = next(self._reader_cycle)
        return conn

    @asynccontextmanager
    async def transaction(self, *, quick: bool = False) -> AsyncIterator[SQLiteTx]:
        """A write transaction. Writers that queue while one runs share its COMMIT (group
        commit: one fsync for many, which on a busy intake is most of a submission's wait):
        each joins the open transaction in a SAVEPOINT of its own, so a failing writer undoes
        only its own work, and each returns only once the shared COMMIT is on disk."""
        conn = self._require_writer()
        self._waiting += 1
        try:
            await self._write_lock.acquire()
        finally:
            self._waiting -= 1
        if self._writer is not conn:  # closed while this writer waited
            self._write_lock.release()
            raise StoreError("store is not open")
        batch = self._batch
        joined = batch is not None
        if batch is None:
            batch = self._batch = _Batch()
        start = self._spawn(self._start(batch, joined))
        try:
            await asyncio.shield(start)
        except asyncio.CancelledError:
            # BEGIN/SAVEPOINT still runs in the connection's thread: undo it once it has, so
            # the next writer finds the connection as it expects.
            self._spawn(self._abandon(start, batch, joined))
            raise
        try:
            yield SQLiteTx(conn, quick)
        except BaseException:
            await asyncio.shield(self._spawn(self._settle(batch, joined, ok=False)))
            raise
        await asyncio.shield(self._spawn(self._settle(batch, joined, ok=True)))
        await asyncio.shield(batch.done)

    # The steps around a writer's work run as tasks of their own, so that a writer cancelled
    # midway (a client gone) still leaves the connection, the batch and the lock in order.
    def _spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _start(self, batch: _Batch, joined: bool) -> None:
        try:
            writer = self._require_writer()
            if joined:  # inside the open transaction: nothing to wait for
                writer.here(_savepoint)
            else:
                await writer.run(_begin)
        except BaseException:
            self._leave(batch)
            raise

    async def _abandon(self, start: asyncio.Task[None], batch: _Batch, joined: bool) -> None:
        try:
            await start
        except BaseException:
            return  # it failed, and left
        await self._settle(batch, joined, ok=False)

    async def _settle(self, batch: _Batch, joined: bool, ok: bool) -> None:
        """Keep (``ok``) or undo a writer's work in the open transaction, then leave."""
        conn = self._require_writer()
        try:
            if ok:
                if joined:
                    conn.here(_release)
                batch.members += 1
            elif joined:
                conn.here(_rollback_to)
            else:
                await conn.run(_rollback)
        except Exception as exc:  # the connection is in doubt: give up the whole batch
            with contextlib.suppress(Exception):
                await conn.run(_rollback)
            batch.fail(StoreError(f"写入失败：{exc}"))
            batch.members = 0
            if ok:
                raise
        finally:
            self._leave(batch)

    def _leave(self, batch: _Batch) -> None:
        """Called holding the write lock when a writer's work is done (or undone): commit now,
        or leave the transaction open for the writers already waiting, and let the next in."""
        if batch.members == 0:  # the first writer failed: nothing is open any more
            self._close(batch)
            self._write_lock.release()
        elif self._waiting and batch.members < self.GROUP_COMMIT_MAX:
            if batch.flusher is None:  # queued behind those waiting: commits when they are done
                batch.flusher = self._spawn(self._flush(batch))
            self._write_lock.release()
        else:
            self._spawn(self._end(batch))

    async def _flush(self, batch: _Batch) -> None:
        await self._write_lock.acquire()
        if self._batch is batch:
            await self._end(batch)
        else:
            self._write_lock.release()

    async def _end(self, batch: _Batch) -> None:
        """COMMIT the batch and release the write lock (held by the caller)."""
        try:
            await self._commit(batch)
        finally:
            self._write_lock.release()

    async def _commit(self, batch: _Batch) -> None:
        try:
            await self._require_writer().run(_commit)
        except Exception as exc:
            batch.fail(exc)
        finally:
            self._close(batch)

    def _close(self, batch: _Batch) -> None:
        """The batch is over (committed, failed or empty): the next writer opens another."""
        if self._batch is batch:
            self._batch = None
        batch.finish()

    async def _commit_open(self) -> None:
        """Holding the write lock: end the open batch, if any, before a statement of its own."""
        if self._batch is not None:
            await self._commit(self._batch)

    @asynccontextmanager
    async def try_advisory_lock(self, name: str) -> AsyncIterator[bool]:
        """True if this process now holds the lock ``name`` until the block ends. An flock on
        a file beside the database: it excludes other processes sharing the file and other
        stores in this one (each open() is its own lock), and dies with the process."""
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in name)
        fd = os.open(f"{self.path}.{safe}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    async def fetch(self, sql: str | Query, params: Params = ()) -> list[dict[str, Any]]:
        res = await self._reader().execute(*plain("sqlite", sql, params))
        return [dict(r) for r in res.rows]

    async def fetch_few(self, sql: str | Query, params: Params = ()) -> list[dict[str, Any]]:
        # In WAL mode a reader waits for no writer: an indexed read of a few rows takes less
        # than the hop to a reader thread would.
        if self._here is None:
            raise StoreError("store is not open")
        try:
            return self._here.here(read_rows(sql, params))
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            return await self.fetch(sql, params)

    # The catalog through SQLite's pragma table functions (dialect-specific); the full-text
    # index's virtual and shadow tables are not ordinary tables.
    async def table_names(self) -> list[str]:
        rows = await self.fetch(
            "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table' "
            "AND name NOT LIKE 'sqlite_%'",
            (),
        )
        return [r["name"] for r in rows]

    async def column_names(self, table: str) -> list[str]:
        rows = await self.fetch("SELECT name FROM pragma_table_info(?) ORDER BY cid", (table,))
        return [r["name"] for r in rows]

    async def foreign_keys(self) -> list[tuple[str, str]]:
        pairs = []
        for table in await self.table_names():
            for r in await self.fetch(
                'SELECT "table" AS parent FROM pragma_foreign_key_list(?)', (table,)
            ):
                pairs.append((table, r["parent"]))
        return pairs


# -- a database file on its own (feedback.backup: a SQLite deployment's backups) --------------


def copy(source: Path, target: Path) -> None:
    """SQLite's online backup API: a consistent snapshot even while others write."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


def self_contained(db: Path) -> None:
    """Rollback-journal mode: one file, no -wal beside it to lose or mismatch (a PRAGMA)."""
    conn = sqlite3.connect(db)
    try:
        conn.execute("PRAGMA journal_mode = DELETE")
    finally:
        conn.close()


FILE_VERSION = Query(
    sa.select(
        sa.func.coalesce(sa.func.max(sa.cast(sa.column("version_num"), sa.Integer)), 0)
    ).select_from(sa.table("alembic_version"))
)
STORAGE_KEYS = Query(sa.select(t.attachments.c.storage_key).distinct())
ANY_REPORT = Query(sa.select(t.reports.c.id).limit(1))


def _run(conn: sqlite3.Connection, query: Query) -> list[Any]:
    return conn.execute(*query.render("sqlite", {})).fetchall()


def figures(db: Path, tables: Sequence[str]) -> tuple[str, int, dict[str, int], list[str]]:
    """(SQLite's integrity check, "ok" if sound; schema version; rows of each of ``tables``;
    attachment storage keys) of a database file, read only."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        ok = conn.execute("PRAGMA integrity_check").fetchone()  # SQLite's own check
        if not ok or ok[0] != "ok":
            return str(ok), 0, {}, []
        counts = {name: int(_run(conn, cached(_count_rows, name))[0][0]) for name in tables}
        keys = [r[0] for r in _run(conn, STORAGE_KEYS)]
        return "ok", int(_run(conn, FILE_VERSION)[0][0]), counts, keys
    finally:
        conn.close()


def _count_rows(name: str) -> sa.Select[Any]:
    return sa.select(sa.func.count()).select_from(t.metadata.tables[name])


def has_reports(db: Path) -> bool:
    """Whether the database file holds any report (a restore refuses to overwrite it)."""
    if not db.is_file():
        return False
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        found = conn.execute(  # SQLite's catalog
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'reports'"
        ).fetchone()
        return bool(found) and bool(_run(conn, ANY_REPORT))
    finally:
        conn.close()
