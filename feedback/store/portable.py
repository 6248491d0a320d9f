"""Reads that are the same SQL on every store: built only on `fetch` with `?` placeholders."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from feedback.store.base import Correction, User
from feedback.store.rows import js, ts


def correction_from_row(r: dict[str, Any]) -> Correction:
    return Correction(
        id=r["id"],
        report_id=r["report_id"],
        target=r["target"],
        title=r["title"],
        text=r["text"],
        labels=list(js(r["labels"])),
        previous=list(js(r["previous"])),
        actor_id=r["actor_id"],
        created_at=ts(r["created_at"]),  # type: ignore[arg-type]
    )


def user_from_row(r: dict[str, Any]) -> User:
    return User(
        id=r["id"],
        username=r["username"],
        password_hash=r["password_hash"],
        role=r["role"],
        department=r["department"],
        display_name=r["display_name"],
        active=bool(r["active"]),
        created_at=ts(r["created_at"]),
    )


class PortableReads:
    """Mixed into each store, which provides `fetch`."""

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        raise NotImplementedError

    async def list_corrections(self, target: str | None = None) -> list[Correction]:
        sql = "SELECT * FROM corrections"
        params: tuple[Any, ...] = ()
        if target:
            sql += " WHERE target = ?"
            params = (target,)
        return [correction_from_row(r) for r in await self.fetch(sql + " ORDER BY id", params)]

    async def get_user(self, username: str) -> User | None:
        rows = await self.fetch("SELECT * FROM users WHERE username = ?", (username,))
        return user_from_row(rows[0]) if rows else None

    async def list_users(self) -> list[User]:
        rows = await self.fetch("SELECT * FROM users ORDER BY username")
        return [user_from_row(r) for r in rows]
