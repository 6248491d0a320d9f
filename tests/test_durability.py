"""An accepted report is on disk before its tracking number is shown: SIGKILL loses nothing."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from feedback.cli import main
from tests.test_record import in_own_thread


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {proc.stdout.read() if proc.stdout else ''}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("server did not start")


def test_sigkill_right_after_201_loses_no_report(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "durable.db"
    port = free_port()
    env = {**os.environ, "FEEDBACK_TICK_SECONDS": "0"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "feedback.cli", "serve", "--db", str(db), "--data-dir",
         str(tmp_path), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
    )  # fmt: skip
    try:
        wait_ready(port, proc)
        accepted = []
        for i in range(5):
            body = json.dumps(
                {"title": f"第{i}件", "text": "夜市烧烤摊油烟很大，占道经营到凌晨，影响休息。"}
            ).encode()
            req = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/v1/reports",
                data=body,
                headers={"Content-Type": "application/json"},
            )
            with urllib.request.urlopen(req, timeout=30) as resp:
                assert resp.status == 201
                accepted.append(json.load(resp)["tracking_number"])
        proc.send_signal(signal.SIGKILL)  # no chance to flush or close anything
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    import sqlite3

    with sqlite3.connect(db) as conn:
        stored = [r[0] for r in conn.execute("SELECT tracking_number FROM reports ORDER BY id")]
    assert stored == accepted
    assert in_own_thread(lambda: main(["verify", "--db", str(db)])) == 0
    assert "all 5 report records verify" in capsys.readouterr().out
