"""`feedback serve --workers N`: when the parent dies, even by SIGKILL, its workers stop
serving, so a restart does not bind the port beside orphans."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PORT = 8102  # this suite's own port on the shared machine


def workers_of(pid: int) -> list[int]:
    """The worker processes (multiprocessing's spawn_main) whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid …: comm may hold spaces, so split after the last ')'.
        fields = stat.rsplit(")", 1)[1].split()
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[1]) == pid and b"spawn_main" in cmdline:
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def healthy() -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=1) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


def test_workers_exit_when_the_parent_is_killed(tmp_path: Path) -> None:
    env = {**os.environ, "FEEDBACK_DATA_DIR": str(tmp_path), "FEEDBACK_TICK_SECONDS": "0"}
    log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115
    parent = subprocess.Popen(
        [sys.executable, "-m", "feedback.cli", "serve", "--db", str(tmp_path / "w.db"),
         "--port", str(PORT), "--workers", "2"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log,
    )  # fmt: skip
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 60
        while not (healthy() and len(workers := [p for p in workers_of(parent.pid)
                                                 if alive(p)]) >= 2):  # fmt: skip
            assert parent.poll() is None, (tmp_path / "serve.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "serve --workers did not start"
            time.sleep(0.2)
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 15
        while any(alive(p) for p in workers) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(alive(p) for p in workers), "workers still running after the parent died"
        assert not healthy()
    finally:
        if parent.poll() is None:
            parent.kill()
        for pid in workers:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        log.close()
