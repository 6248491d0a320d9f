"""Converting between domain records and database rows, shared by every store."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from feedback.models import (
    Attachment,
    Channel,
    CloseReason,
    Contact,
    Deadlines,
    Event,
    Kind,
    Rating,
    Report,
    Status,
)


def ts(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()


def js(value: Any) -> Any:
    if value is None:
        return None
    return json.loads(value) if isinstance(value, str) else value


def dump(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def report_from_row(row: Mapping[str, Any]) -> Report:
    return Report(
        id=row["id"],
        tracking_number=row["tracking_number"],
        code_hash=row["code_hash"],
        channel=Channel(row["channel"]),
        kind=Kind(row["kind"]),
        title=row["title"],
        text=row["text"],
        status=Status(row["status"]),
        created_at=ts(row["created_at"]),  # type: ignore[arg-type]
        updated_at=ts(row["updated_at"]),  # type: ignore[arg-type]
        anonymous=bool(row["anonymous"]),
        contact=Contact(row["contact_name"], row["contact_phone"], row["telegram_chat_id"]),
        place=row["place"],
        occurred_at=row["occurred_at"],
        authority=row["authority"],
        department=row["department"],
        assisting=list(js(row["assisting"]) or []),
        issue_types=list(js(row["issue_types"]) or []),
        deadlines=Deadlines(
            sign_by=ts(row["sign_by"]),
            answer_by=ts(row["answer_by"]),
            rate_by=ts(row["rate_by"]),
            send_back_by=ts(row["send_back_by"]),
        ),
        routing=js(row["routing"]) or {},
        send_back_count=row["send_back_count"],
        route_locked=bool(row["route_locked"]),
        arbitration=bool(row["arbitration"]),
        extension_used=bool(row["extension_used"]),
        pending_extension=js(row["pending_extension"]),
        escalation_level=row["escalation_level"],
        warned_for=row["warned_for"],
        escalated_for=row["escalated_for"],
        supervised=bool(row["supervised"]),
        answer=row["answer"],
        answered_at=ts(row["answered_at"]),
        accepted_at=ts(row["accepted_at"]),
        rating=Rating(row["rating"]) if row["rating"] else None,
        rating_comment=row["rating_comment"],
        reopen_count=row["reopen_count"],
        review_used=bool(row["review_used"]),
        close_reason=CloseReason(row["close_reason"]) if row["close_reason"] else None,
        closed_at=ts(row["closed_at"]),
        substantiated=None if row["substantiated"] is None else bool(row["substantiated"]),
        duplicate_of=row["duplicate_of"],
        record_head=row["record_head"],
        record_count=row["record_count"],
        record_salt=row.get("record_salt") or "",
        publish=bool(row.get("publish", True)),
        assignee=row.get("assignee"),
    )


# Columns written on insert and update, in order; values come from `report_values`.
REPORT_COLUMNS: tuple[str, ...] = (
    "tracking_number", "code_hash", "channel", "kind", "title", "text", "status",
    "created_at", "updated_at", "anonymous", "contact_name", "contact_phone",
    "telegram_chat_id", "place", "occurred_at", "authority", "department", "assisting",
    "issue_types", "sign_by", "answer_by", "rate_by", "send_back_by", "routing",
    "send_back_count", "route_locked", "arbitration", "extension_used", "pending_extension",
    "escalation_level", "warned_for", "escalated_for", "supervised", "answer", "answered_at", "accepted_at", "rating",
    "rating_comment", "reopen_count", "review_used", "close_reason", "closed_at",
    "substantiated", "duplicate_of", "record_head", "record_count", "record_salt", "publish",
    "assignee",
)  # fmt: skip


def report_values(r: Report, *, native_time: bool = False) -> tuple[Any, ...]:
    """Values for REPORT_COLUMNS. PostgreSQL takes datetimes, SQLite ISO strings."""

    def t(v: datetime | None) -> Any:
        return v if native_time else iso(v)

    d = r.deadlines
    return (
        r.tracking_number, r.code_hash, r.channel.value, r.kind.value, r.title, r.text,
        r.status.value, t(r.created_at), t(r.updated_at), r.anonymous, r.contact.name,
        r.contact.phone, r.contact.telegram_chat_id, r.place, r.occurred_at, r.authority,
        r.department, dump(r.assisting), dump(r.issue_types), t(d.sign_by), t(d.answer_by),
        t(d.rate_by), t(d.send_back_by), dump(r.routing), r.send_back_count, r.route_locked,
        r.arbitration, r.extension_used, dump(r.pending_extension), r.escalation_level,
        r.warned_for, r.escalated_for, r.supervised, r.answer, t(r.answered_at), t(r.accepted_at),
        r.rating.value if r.rating else None, r.rating_comment, r.reopen_count, r.review_used,
        r.close_reason.value if r.close_reason else None, t(r.closed_at), r.substantiated,
        r.duplicate_of, r.record_head, r.record_count, r.record_salt, r.publish,
        r.assignee,
    )  # fmt: skip


def event_from_row(row: Mapping[str, Any]) -> Event:
    return Event(
        report_id=row["report_id"],
        seq=row["seq"],
        at=ts(row["at"]),  # type: ignore[arg-type]
        actor_role=row["actor_role"],
        actor_id=row["actor_id"],
        action=row["action"],
        details=js(row["details"]) or {},
        before=js(row["before"]),
        after=js(row["after"]),
        prev_hash=row["prev_hash"],
        hash=row["hash"],
        public=bool(row["public"]),
    )


def attachment_from_row(row: Mapping[str, Any]) -> Attachment:
    return Attachment(
        id=row["id"],
        filename=row["filename"],
        content_type=row["content_type"],
        size=row["size"],
        sha256=row["sha256"],
        storage_key=row["storage_key"],
        uploaded_by=row["uploaded_by"],
        created_at=ts(row["created_at"]),
    )
