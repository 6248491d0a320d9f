"""`feedback serve --workers N`: N web processes on one port.

Each worker is a fresh (spawned) process that binds the port itself with SO_REUSEPORT, and the
kernel spreads new connections across them; they share nothing but the database. With
PostgreSQL the workers may as well run on several machines behind a proxy; with SQLite they
work only on one machine (one file, one writer at a time across processes).

The parent applies the migrations once before the workers start, then waits: a signal
(SIGTERM, SIGINT) is passed on to every worker, and when one worker dies the others are
stopped too, so a supervisor (systemd, Docker) sees the failure and restarts the service.
If the parent itself dies (even by SIGKILL), each worker gets SIGTERM from the kernel
(PR_SET_PDEATHSIG on Linux) and, as a second guard and off Linux, notices within a second that
its parent is gone: either way it shuts down gracefully, so a restarted service does not bind
the port beside orphaned workers still serving.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import multiprocessing
import os
import secrets
import signal
import sys
import threading
import time
from dataclasses import replace
from multiprocessing.connection import wait
from types import FrameType

from feedback.settings import Settings

log = logging.getLogger(__name__)
STOP_GRACE_SECONDS = 10.0
PARENT_CHECK_SECONDS = 1.0
PR_SET_PDEATHSIG = 1


async def _migrate(settings: Settings) -> None:
    from feedback.store import open_store

    store = open_store(settings.db)
    await store.open()
    await store.close()


def _die_with_parent(parent_pid: int) -> None:
    """SIGTERM this worker (aiohttp then stops gracefully) once its parent is gone."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        except (OSError, AttributeError):
            log.warning("PR_SET_PDEATHSIG unavailable; relying on the parent check")

    def watch() -> None:
        # Also covers a parent that died before prctl ran (we are then re-parented).
        while os.getppid() == parent_pid:
            time.sleep(PARENT_CHECK_SECONDS)
        log.warning("parent process %d is gone; stopping", parent_pid)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _worker(settings: Settings, index: int, verbose: bool, parent_pid: int = 0) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format=f"%(asctime)s %(levelname)s [worker {index}] %(name)s: %(message)s",
    )
    if parent_pid:
        _die_with_parent(parent_pid)
    from aiohttp import web

    from feedback.runtime import build_web_app

    app = build_web_app(settings)
    web.run_app(app, host=settings.host, port=settings.port, reuse_port=True, print=None)


def serve_workers(settings: Settings, workers: int) -> None:
    if not settings.db.startswith(("postgresql://", "postgres://")):
        log.warning("%d workers on SQLite: fine on one machine; use PostgreSQL to scale out",
                    workers)  # fmt: skip
    if not settings.secret_key:
        # One key for all workers, or a staff session signed by one is refused by another.
        settings = replace(settings, secret_key=secrets.token_urlsafe(48))
    asyncio.run(_migrate(settings))
    ctx = multiprocessing.get_context("spawn")
    verbose = logging.getLogger().isEnabledFor(logging.DEBUG)
    procs = [
        ctx.Process(
            target=_worker, args=(settings, i, verbose, os.getpid()), name=f"feedback-worker-{i}"
        )
        for i in range(workers)
    ]
    for p in procs:
        p.start()
    print(
        f"feedback: serving on http://{settings.host}:{settings.port}/ with {workers} worker "
        f"processes (pids {', '.join(str(p.pid) for p in procs)}; database {settings.db})",
        flush=True,
    )
    stopping = False

    def forward(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for p in procs:
            if p.is_alive():
                p.terminate()  # SIGTERM: aiohttp shuts down gracefully

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    wait([p.sentinel for p in procs])
    if not stopping:
        dead = [p for p in procs if not p.is_alive()]
        log.error("worker %s exited with %s; stopping the others", dead[0].name,
                  dead[0].exitcode)  # fmt: skip
        forward(signal.SIGTERM, None)
    for p in procs:
        p.join(STOP_GRACE_SECONDS)
        if p.is_alive():
            p.kill()
            p.join()
    failed = [p.exitcode for p in procs if p.exitcode not in (0, -signal.SIGTERM)]
    if failed and not stopping:
        sys.exit(1)
