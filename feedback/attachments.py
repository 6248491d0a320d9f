"""Attachments: photos and PDFs, checked by what they contain, stored by their SHA-256.

A file is written to disk (temp file, fsync, rename) before the report that names it is
committed, so a committed report never points at a missing file. Files are never served to the
public; only staff who may view the report get them.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import filetype

from feedback.errors import ValidationError
from feedback.models import Attachment
from feedback.settings import InputLimits

# Limits the Open311/limits work may later move into Settings.
FILENAME_MAX = 100

# What the content must be, and the extension the stored copy gets.
ALLOWED: dict[str, str] = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "image/gif": "gif",
    "image/heic": "heic",
    "image/heif": "heif",
    "application/pdf": "pdf",
}
ALLOWED_LABEL = "JPG、PNG、WebP、GIF、HEIC 图片或 PDF 文件"
_CHUNK = 1024 * 1024


@dataclass
class Upload:
    """One file as it arrived: its name as the sender gave it, and its bytes."""

    filename: str
    data: bytes


def clean_filename(name: str) -> str:
    """A name fit to show and to put in a header: no path, no control characters."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = unicodedata.normalize("NFC", base)
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '"<>|:*?')
    base = base.strip(" .")
    if len(base) > FILENAME_MAX:
        stem, dot, ext = base.rpartition(".")
        base = (stem[: FILENAME_MAX - len(ext) - 1] + dot + ext) if dot else base[:FILENAME_MAX]
    return base or "附件"


def check(
    uploads: Iterable[Upload], field: str = "attachments", limits: InputLimits | None = None
) -> list[tuple[Upload, str]]:
    """Each upload with its detected content type; ValidationError naming the file otherwise.
    The count and size limits are the settings' (feedback.settings.InputLimits)."""
    limits = limits or InputLimits.of()
    files = [u for u in uploads if u.data or u.filename]
    if len(files) > limits.max_attachments:
        raise ValidationError(
            f"最多上传 {limits.max_attachments} 个附件（现在 {len(files)} 个）。", field=field
        )
    out: list[tuple[Upload, str]] = []
    for u in files:
        name = clean_filename(u.filename)
        if not u.data:
            raise ValidationError(f"附件“{name}”是空文件。", field=field)
        if len(u.data) > limits.max_attachment_bytes:
            raise ValidationError(
                f"附件“{name}”超过 {limits.max_attachment_mb} MB，请压缩后再上传。", field=field
            )
        kind = filetype.guess_mime(u.data[:8192])
        if kind not in ALLOWED:
            # The name's extension is not trusted: the content decides.
            raise ValidationError(f"附件“{name}”不是 {ALLOWED_LABEL}。", field=field)
        out.append((u, kind))
    return out


def _write_atomically(folder: Path, name: str, data: bytes) -> None:
    target = folder / name
    if target.exists():
        return  # the same bytes are already stored
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # the rename itself survives a crash
    finally:
        os.close(dir_fd)


def store(root: Path, upload: Upload, content_type: str, uploaded_by: str) -> Attachment:
    """Write one checked upload under ``root`` and describe it. Blocking: run in a thread."""
    digest = hashlib.sha256(upload.data).hexdigest()
    key = f"{digest[:2]}/{digest}.{ALLOWED[content_type]}"
    _write_atomically(root / digest[:2], key.split("/", 1)[1], upload.data)
    return Attachment(
        id=None,
        filename=clean_filename(upload.filename),
        content_type=content_type,
        size=len(upload.data),
        sha256=digest,
        storage_key=key,
        uploaded_by=uploaded_by,
        created_at=datetime.now(UTC),
    )


def store_all(root: Path, checked: list[tuple[Upload, str]], uploaded_by: str) -> list[Attachment]:
    return [store(root, u, kind, uploaded_by) for u, kind in checked]


def path_of(root: Path, attachment: Attachment) -> Path:
    """Where a stored attachment lives; refuses keys that would leave ``root``."""
    if not re.fullmatch(r"[0-9a-f]{2}/[0-9a-f]{64}\.[a-z]{3,4}", attachment.storage_key):
        raise ValidationError("附件记录已损坏。")
    return root / attachment.storage_key


def read_limited(fh: IO[bytes], limit: int) -> bytes:
    """Read at most ``limit`` + 1 bytes, so an oversize file is detected without reading all."""
    chunks: list[bytes] = []
    total = 0
    while total <= limit:
        chunk = fh.read(min(_CHUNK, limit + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)
