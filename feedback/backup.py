"""Backups of the SQLite deployment: a consistent online copy, checked before it is trusted.

A backup is a folder:

    PATH/feedback.db       the database, copied with SQLite's online backup API while the
                           service keeps running (WAL lets writers go on; the copy is one
                           consistent snapshot)
    PATH/attachments/      the attachment files the copy refers to (content-addressed)
    PATH/manifest.json     when, from where, schema version, counts, SHA-256 of every file,
                           and the result of verifying every report's record chain

``backup`` verifies the copy's chains (and SQLite's integrity check) before it writes the
manifest, so a folder with a manifest is a backup that was good when it was taken.
``restore`` checks the manifest's hashes, refuses to overwrite a database that has reports
unless forced, copies the database back with the same backup API (never a file copy over a
live WAL database) and verifies every chain again.

PostgreSQL deployments use pg_dump/pg_restore instead (docs/operations.md).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
import sqlite3
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from feedback.config import load_config
from feedback.errors import FeedbackError, ValidationError
from feedback.service import FeedbackService
from feedback.settings import Settings
from feedback.store import sqlite as sqlite_file
from feedback.store.sqlite import SQLiteStore

DB_NAME = "feedback.db"
MANIFEST = "manifest.json"
ATTACHMENTS = "attachments"
FORMAT = 1


class BackupError(FeedbackError):
    code = "backup"


@dataclass
class Manifest:
    format: int
    created_at: str
    source: str
    schema_version: int
    counts: dict[str, int]
    database_sha256: str
    attachments: dict[str, str] = field(default_factory=dict)  # storage key -> sha256
    chains_checked: int = 0
    chain_breaks: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, folder: Path) -> Manifest:
        try:
            data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
            return cls(**data)
        except (OSError, ValueError, TypeError) as exc:
            raise BackupError(
                f"{folder} 不是完整的备份（缺少或无法读取 {MANIFEST}）：{exc}"
            ) from exc


def sqlite_path(url: str) -> Path:
    if url.startswith(("postgresql://", "postgres://")):
        raise BackupError(
            "PostgreSQL 数据库请用 pg_dump / pg_restore 备份和恢复（见 docs/operations.md）。"
        )
    return Path(url.removeprefix("sqlite:///"))


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1024 * 1024), b""):
            h.update(chunk)
    return h.hexdigest()


def _counts(db: Path) -> tuple[int, dict[str, int], list[str]]:
    """(schema version, row counts, attachment storage keys) of a database file."""
    ok, version, counts, keys = sqlite_file.figures(db, ("reports", "events", "attachments"))
    if ok != "ok":
        raise BackupError(f"数据库 {db} 未通过完整性检查：{ok}")
    return version, counts, keys


async def verify_database(db: Path, settings: Settings) -> tuple[int, list[str]]:
    """Open ``db`` as the service would and check every report's record chain."""
    store = SQLiteStore(db)
    await store.open()
    try:
        service = FeedbackService(store, load_config(settings.config))
        checked, breaks = await service.verify_records()
    finally:
        await store.close()
    return checked, [str(b) for b in breaks]


def _copy_attachments(keys: list[str], source: Path, target: Path) -> dict[str, str]:
    copied: dict[str, str] = {}
    missing = []
    for key in keys:
        src = source / key
        if not src.is_file():
            missing.append(key)
            continue
        dst = target / key
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)
        copied[key] = _sha256(dst)
    if missing:
        raise BackupError(f"{len(missing)} 个附件文件缺失，例如 {source / missing[0]}")
    return copied


async def backup(settings: Settings, folder: Path) -> Manifest:
    """Copy the live database and its attachments into ``folder`` and verify the copy.
    File work runs in threads, so a running service's event loop is not held up."""
    source = sqlite_path(settings.db)
    if not source.is_file():
        raise BackupError(f"数据库文件 {source} 不存在。")
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise BackupError(f"{folder} 不是空文件夹；请指定新的备份位置。")
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / DB_NAME
    await asyncio.to_thread(sqlite_file.copy, source, db)
    checked, breaks = await verify_database(db, settings)
    await asyncio.to_thread(sqlite_file.self_contained, db)
    version, counts, keys = await asyncio.to_thread(_counts, db)
    # Attachments are written before the report naming them commits, so every file the
    # snapshot refers to is already on disk when we get here.
    hashes = await asyncio.to_thread(
        _copy_attachments, keys, settings.attachments_dir, folder / ATTACHMENTS
    )
    manifest = Manifest(
        format=FORMAT,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        source=str(source),
        schema_version=version,
        counts=counts,
        database_sha256=_sha256(db),
        attachments=hashes,
        chains_checked=checked,
        chain_breaks=breaks,
    )
    (folder / MANIFEST).write_text(
        json.dumps(asdict(manifest), ensure_ascii=False, indent=2), encoding="utf-8"
    )
    if breaks:
        raise BackupError(f"备份已写入 {folder}，但有 {len(breaks)} 条记录链校验失败：{breaks[0]}")
    return manifest


def check_backup(folder: Path) -> Manifest:
    """The manifest, after checking that every file still has the hash it had."""
    folder = Path(folder)
    manifest = Manifest.load(folder)
    db = folder / DB_NAME
    if not db.is_file() or _sha256(db) != manifest.database_sha256:
        raise BackupError(f"备份中的数据库 {db} 缺失或已被改动（SHA-256 不符）。")
    for key, digest in manifest.attachments.items():
        path = folder / ATTACHMENTS / key
        if not path.is_file() or _sha256(path) != digest:
            raise BackupError(f"备份中的附件 {key} 缺失或已被改动。")
    return manifest


@dataclass
class Restored:
    manifest: Manifest
    target: str
    chains_checked: int
    counts: dict[str, int]


async def restore(settings: Settings, folder: Path, *, force: bool = False) -> Restored:
    """Bring a backup back into ``settings.db`` (stop the service first)."""
    target = sqlite_path(settings.db)
    manifest = await asyncio.to_thread(check_backup, Path(folder))
    if sqlite_file.has_reports(target) and not force:
        raise ValidationError(
            f"数据库 {target} 已有诉求记录；确认要覆盖请加 --force（建议先备份现有数据库）。",
            field="force",
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    await asyncio.to_thread(_restore_files, Path(folder), target, settings.attachments_dir,
                            list(manifest.attachments))  # fmt: skip
    checked, breaks = await verify_database(target, settings)
    _, counts, _ = await asyncio.to_thread(_counts, target)
    if breaks:
        raise BackupError(f"恢复后有 {len(breaks)} 条记录链校验失败：{breaks[0]}")
    if counts != manifest.counts:
        raise BackupError(f"恢复后的记录数 {counts} 与备份清单 {manifest.counts} 不符。")
    return Restored(manifest, str(target), checked, counts)


def _restore_files(folder: Path, target: Path, attachments_dir: Path, keys: list[str]) -> None:
    src = sqlite3.connect(f"file:{folder / DB_NAME}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(target)
        try:
            # The backup API replaces every page, through SQLite's own locking and journal.
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
    for key in keys:
        dst_file = attachments_dir / key
        if not dst_file.exists():
            dst_file.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(folder / ATTACHMENTS / key, dst_file)


def summary(manifest: Manifest) -> dict[str, Any]:
    return {
        "created_at": manifest.created_at,
        "schema_version": manifest.schema_version,
        **manifest.counts,
        "attachment_files": len(manifest.attachments),
        "chains_checked": manifest.chains_checked,
    }
