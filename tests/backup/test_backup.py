"""Backups: taken while citizens keep submitting, restored with every record chain verified."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from feedback import attachments, backup
from feedback.cli import main
from feedback.config import Config
from feedback.errors import ValidationError
from feedback.service import FeedbackService
from feedback.settings import Settings
from feedback.store.sqlite import SQLiteStore
from tests.conftest import Clock

TEXT = "城管执法人员在东门市场收缴摊贩的秤和货物，没有开具任何单据，也没有出示执法证件。"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00"
    b"\x00\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


async def _submit(service: FeedbackService, settings: Settings, n: int, photo: bool) -> None:
    atts = []
    if photo:
        upload = attachments.Upload("现场.png", PNG + str(n).encode())
        atts = [attachments.store(settings.attachments_dir, upload, "image/png", "citizen")]
    await service.submit({"title": f"第{n}件", "text": TEXT}, attachments=atts)


async def test_backup_during_submissions_restores_with_every_chain_verified(
    tmp_path: Path, config: Config, clock: Clock
) -> None:
    live = Settings(db=str(tmp_path / "live" / "feedback.db"), data_dir=str(tmp_path / "live"))
    store = SQLiteStore(live.db)
    await store.open()
    service = FeedbackService(store, config, clock=clock)
    for n in range(5):
        await _submit(service, live, n, photo=True)

    stop = asyncio.Event()
    submitted = 5

    async def citizen(offset: int) -> None:
        nonlocal submitted
        n = offset
        while not stop.is_set():
            await _submit(service, live, n, photo=n % 3 == 0)
            submitted += 1
            n += 2

    writers = [asyncio.create_task(citizen(1000)), asyncio.create_task(citizen(1001))]
    await asyncio.sleep(0.2)
    before = submitted
    manifest = await backup.backup(live, tmp_path / "bk")
    await asyncio.sleep(0.1)
    stop.set()
    await asyncio.gather(*writers)
    await store.close()

    assert before <= manifest.counts["reports"] < submitted  # taken mid-stream
    assert manifest.chains_checked == manifest.counts["reports"] and not manifest.chain_breaks
    assert manifest.counts["attachments"] >= 5 and len(manifest.attachments) >= 5

    target = Settings(db=str(tmp_path / "new" / "feedback.db"), data_dir=str(tmp_path / "new"))
    done = await backup.restore(target, tmp_path / "bk")
    assert done.counts == manifest.counts and done.chains_checked == manifest.counts["reports"]
    for key in manifest.attachments:
        assert (target.attachments_dir / key).read_bytes() == (
            live.attachments_dir / key
        ).read_bytes()

    # A database with reports is not overwritten by mistake...
    with pytest.raises(ValidationError, match="--force"):
        await backup.restore(target, tmp_path / "bk")
    # ...but can be on purpose.
    again = await backup.restore(target, tmp_path / "bk", force=True)
    assert again.counts == manifest.counts


async def test_a_changed_backup_is_refused(tmp_path: Path, config: Config, clock: Clock) -> None:
    live = Settings(db=str(tmp_path / "live.db"), data_dir=str(tmp_path / "live"))
    async with SQLiteStore(live.db) as store:
        await _submit(FeedbackService(store, config, clock=clock), live, 1, photo=True)
    await backup.backup(live, tmp_path / "bk")
    conn = sqlite3.connect(tmp_path / "bk" / "feedback.db")
    conn.execute("UPDATE reports SET text = '改过的内容改过的内容改过的内容'")
    conn.commit()
    conn.close()
    target = Settings(db=str(tmp_path / "new.db"), data_dir=str(tmp_path / "new"))
    with pytest.raises(backup.BackupError, match="SHA-256"):
        await backup.restore(target, tmp_path / "bk")
    with pytest.raises(backup.BackupError, match="不是空文件夹"):
        await backup.backup(live, tmp_path / "bk")
    with pytest.raises(backup.BackupError, match="pg_dump"):
        await backup.backup(Settings(db="postgresql://x/y"), tmp_path / "pg")


def test_cli_backup_restore_and_keys(tmp_path: Path, config: Config, clock: Clock,
                                     capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    db, data = str(tmp_path / "live.db"), str(tmp_path / "live")

    async def seed() -> None:
        async with SQLiteStore(db) as store:
            service = FeedbackService(store, config, clock=clock)
            for n in range(3):
                await _submit(service, Settings(db=db, data_dir=data), n, photo=n == 0)

    asyncio.run(seed())
    assert main(["backup", str(tmp_path / "bk"), "--db", db, "--data-dir", data]) == 0
    assert "every record chain verifies" in capsys.readouterr().out
    new = str(tmp_path / "new.db")
    assert (
        main(["restore", str(tmp_path / "bk"), "--db", new, "--data-dir", str(tmp_path / "n")]) == 0
    )
    assert "all 3 record chains verify" in capsys.readouterr().out
    assert main(["restore", str(tmp_path / "bk"), "--db", new]) == 2
    assert "--force" in capsys.readouterr().err

    assert main(["keys", "add", "12345-hotline", "--rate", "120/min", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "120/min" in out and out.strip().splitlines()[-1].startswith("fbk_")
    assert main(["keys", "list", "--db", db]) == 0
    assert "12345-hotline" in capsys.readouterr().out
    assert main(["keys", "revoke", "12345-hotline", "--db", db]) == 0
    assert main(["keys", "list", "--db", db]) == 0
    assert "revoked" in capsys.readouterr().out
    assert main(["keys", "add", "x y", "--db", db]) == 2
