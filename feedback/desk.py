"""The clerk's desk (issue 18: 12): saved answer drafts and a bureau's canned replies.

The only owner of the tables `answer_drafts` and `canned_replies` (migration 0016). Who may
read or write them is `feedback.permissions`' and the service checks it before calling here;
this module only stores.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from feedback import validation
from feedback.errors import ValidationError
from feedback.store import Store, WriteTx
from feedback.store import schema as t
from feedback.store.rows import iso, ts
from feedback.store.sql import Query, param

TITLE_MAX = 40
# A canned reply is an answer's text, or a part of one.
BODY_MAX = validation.ANSWER_MAX
# A bureau keeps a short list: the form's menu shows all of them.
REPLIES_MAX = 100


D = t.answer_drafts
C = t.canned_replies
DRAFT = Query(
    sa.select(D.c.text, D.c.updated_at).where(
        D.c.report_id == param("report_id"), D.c.username == param("username")
    )
)
PUT_DRAFT = Query(
    sa.insert(D).values(
        report_id=param("report_id"), username=param("username"), text=param("text"),
        updated_at=param("updated_at"),
    )
)  # fmt: skip
CLEAR_DRAFT = Query(
    sa.delete(D).where(D.c.report_id == param("report_id"), D.c.username == param("username"))
)
REPLIES = Query(
    sa.select(C)
    .where(C.c.department == param("department"))
    .order_by(C.c.title, C.c.id)
    .limit(param("limit"))
)
REPLY = Query(sa.select(C).where(C.c.id == param("id")))
COUNT_REPLIES = Query(
    sa.select(sa.func.count().label("n"))
    .select_from(C)
    .where(C.c.department == param("department"))
)
ADD_REPLY = Query(
    sa.insert(C).values(
        department=param("department"), title=param("title"), body=param("body"),
        created_by=param("created_by"), created_at=param("created_at"),
    )
)  # fmt: skip
DELETE_REPLY = Query(sa.delete(C).where(C.c.id == param("id")))


@dataclass(frozen=True)
class Draft:
    text: str
    updated_at: datetime


@dataclass(frozen=True)
class CannedReply:
    id: int
    department: str
    title: str
    body: str
    created_by: str
    created_at: datetime


def draft_text(value: object) -> str:
    """A draft as typed (may be short: it is not sent), within the answer's length."""
    text = validation.clean_text(value, field="answer")
    if len(text) > validation.ANSWER_MAX:
        raise ValidationError(
            f"答复内容不能超过 {validation.ANSWER_MAX} 个字（现 {len(text)} 字）。", field="answer"
        )
    return text


def reply_input(title: object, body: object) -> tuple[str, str]:
    name = validation.clean_text(title, multiline=False, field="title")
    if not name:
        raise ValidationError("请填写常用答复的标题。", field="title")
    if len(name) > TITLE_MAX:
        raise ValidationError(f"标题不能超过 {TITLE_MAX} 个字。", field="title")
    text = validation.clean_text(body, field="body")
    if len(text) < 2:
        raise ValidationError("请填写常用答复的内容。", field="body")
    if len(text) > BODY_MAX:
        raise ValidationError(f"内容不能超过 {BODY_MAX} 个字。", field="body")
    return name, text


class Desk:
    """Drafts and canned replies over one store (reached as `service.desk`)."""

    def __init__(self, store: Store):
        self._store = store

    async def draft(self, report_id: int, username: str) -> Draft | None:
        rows = await self._store.fetch(DRAFT, {"report_id": report_id, "username": username})
        if not rows:
            return None
        at = ts(rows[0]["updated_at"])
        assert at is not None
        return Draft(rows[0]["text"], at)

    async def save_draft(self, report_id: int, username: str, text: str, now: datetime) -> None:
        """Keep ``text`` as the clerk's draft of this report's answer; empty: forget it."""
        async with self._store.transaction() as tx:
            await self.clear_draft(tx, report_id, username)
            if text:
                await tx.execute(
                    PUT_DRAFT,
                    {"report_id": report_id, "username": username, "text": text,
                     "updated_at": iso(now)},
                )  # fmt: skip

    async def clear_draft(self, tx: WriteTx, report_id: int, username: str) -> None:
        """In the answer's transaction: the answer sent, its draft goes."""
        await tx.execute(CLEAR_DRAFT, {"report_id": report_id, "username": username})

    async def replies(self, department: str) -> list[CannedReply]:
        rows = await self._store.fetch(REPLIES, {"department": department, "limit": REPLIES_MAX})
        return [_reply(r) for r in rows]

    async def reply(self, reply_id: int) -> CannedReply | None:
        rows = await self._store.fetch(REPLY, {"id": reply_id})
        return _reply(rows[0]) if rows else None

    async def add_reply(
        self, department: str, title: str, body: str, username: str, now: datetime
    ) -> CannedReply:
        async with self._store.transaction() as tx:
            rows = await tx.fetch(COUNT_REPLIES, {"department": department})
            if int(rows[0]["n"]) >= REPLIES_MAX:
                raise ValidationError(
                    f"每个单位最多 {REPLIES_MAX} 条常用答复，请先删除不用的。", field="title"
                )
            new_id = await tx.execute(
                ADD_REPLY,
                {"department": department, "title": title, "body": body,
                 "created_by": username, "created_at": iso(now)},
            )  # fmt: skip
        return CannedReply(new_id, department, title, body, username, now)

    async def delete_reply(self, reply_id: int) -> None:
        async with self._store.transaction() as tx:
            await tx.execute(DELETE_REPLY, {"id": reply_id})


def _reply(r: dict[str, object]) -> CannedReply:
    at = ts(r["created_at"])
    assert at is not None
    return CannedReply(
        int(r["id"]),  # type: ignore[call-overload]
        str(r["department"]),
        str(r["title"]),
        str(r["body"]),
        str(r["created_by"]),
        at,
    )
