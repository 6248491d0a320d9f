"""Domain records: reports, contacts, attachments, events, actors."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class Status(enum.StrEnum):
    SUBMITTED = "submitted"
    TRIAGE = "triage"
    ROUTED = "routed"
    ACCEPTED = "accepted"
    EXTENSION_REQUESTED = "extension_requested"
    ANSWERED = "answered"
    REOPENED = "reopened"
    CLOSED = "closed"
    REVIEW = "review"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]

    @property
    def is_open(self) -> bool:
        return self is not Status.CLOSED


STATUS_LABELS: dict[Status, str] = {
    Status.SUBMITTED: "已提交",
    Status.TRIAGE: "待人工分办",
    Status.ROUTED: "已分派，待签收",
    Status.ACCEPTED: "已签收，办理中",
    Status.EXTENSION_REQUESTED: "延期申请审核中",
    Status.ANSWERED: "已答复，待评价",
    Status.REOPENED: "重新办理中",
    Status.CLOSED: "已办结",
    Status.REVIEW: "复查中",
}


class Channel(enum.StrEnum):
    WEB = "web"
    TELEGRAM = "telegram"
    API = "api"
    IMPORT = "import"


class Kind(enum.StrEnum):
    """What the citizen wants: the answer clock depends on it."""

    COMPLAINT = "complaint"
    CONSULTATION = "consultation"


class Rating(enum.StrEnum):
    SATISFIED = "satisfied"
    BASICALLY_SATISFIED = "basically_satisfied"
    UNSATISFIED = "unsatisfied"

    @property
    def label(self) -> str:
        return {"satisfied": "满意", "basically_satisfied": "基本满意", "unsatisfied": "不满意"}[
            self.value
        ]


class CloseReason(enum.StrEnum):
    RATED = "rated"
    NO_RATING = "no_rating"
    UNSATISFIED_FINAL = "unsatisfied_final"
    REVIEW_UPHELD = "review_upheld"

    @property
    def label(self) -> str:
        return {
            "rated": "已评价办结",
            "no_rating": "逾期未评价，自动办结",
            "unsatisfied_final": "重新办理后仍不满意，办结并留存",
            "review_upheld": "复查维持原答复",
        }[self.value]


class Role(enum.StrEnum):
    CITIZEN = "citizen"
    STAFF = "staff"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    SYSTEM = "system"


@dataclass(frozen=True)
class Actor:
    """Who acts. Staff belong to one department; supervisors to the supervising body."""

    role: Role
    id: str = ""
    department: str | None = None
    name: str = ""
    # A bureau's lead (科室负责人): assigns the bureau's reports to its clerks (feedback.permissions).
    lead: bool = False

    @classmethod
    def system(cls, what: str = "system") -> Actor:
        return cls(Role.SYSTEM, id=what, name="系统")

    @classmethod
    def citizen(cls) -> Actor:
        return cls(Role.CITIZEN, id="citizen", name="诉求人")

    @property
    def label(self) -> str:
        return self.name or self.id or self.role.value


@dataclass
class User:
    """A staff account (feedback.accounts)."""

    id: int | None
    username: str
    password_hash: str
    role: str
    department: str | None
    display_name: str = ""
    active: bool = True
    created_at: datetime | None = None
    bureau_lead: bool = False  # 科室负责人 of its bureau (staff only)


@dataclass
class Contact:
    name: str | None = None
    phone: str | None = None
    telegram_chat_id: int | None = None

    @property
    def is_empty(self) -> bool:
        return not (self.name or self.phone or self.telegram_chat_id)


@dataclass
class Attachment:
    id: int | None
    filename: str
    content_type: str
    size: int
    sha256: str
    storage_key: str
    uploaded_by: str = "citizen"
    created_at: datetime | None = None


@dataclass
class Deadlines:
    sign_by: datetime | None = None
    answer_by: datetime | None = None
    rate_by: datetime | None = None
    send_back_by: datetime | None = None


@dataclass
class Report:
    id: int | None
    tracking_number: str
    code_hash: str
    channel: Channel
    kind: Kind
    title: str
    text: str
    status: Status
    created_at: datetime
    updated_at: datetime
    anonymous: bool = True
    contact: Contact = field(default_factory=Contact)
    place: str | None = None
    occurred_at: str | None = None
    authority: str | None = None
    department: str | None = None
    assisting: list[str] = field(default_factory=list)
    issue_types: list[str] = field(default_factory=list)
    deadlines: Deadlines = field(default_factory=Deadlines)
    routing: dict[str, Any] = field(default_factory=dict)
    send_back_count: int = 0
    route_locked: bool = False
    arbitration: bool = False
    extension_used: bool = False
    pending_extension: dict[str, Any] | None = None
    escalation_level: int = 0
    warned_for: str | None = None
    escalated_for: str | None = None
    supervised: bool = False
    answer: str | None = None
    answered_at: datetime | None = None
    accepted_at: datetime | None = None
    rating: Rating | None = None
    rating_comment: str | None = None
    reopen_count: int = 0
    review_used: bool = False
    close_reason: CloseReason | None = None
    closed_at: datetime | None = None
    substantiated: bool | None = None
    duplicate_of: str | None = None
    attachments: list[Attachment] = field(default_factory=list)
    record_head: str = ""
    record_count: int = 0
    # Random, per report: salts the content hashes in its record (feedback.record).
    record_salt: str = ""
    # The citizen agreed that the text may be published, anonymised (执法监督公示).
    publish: bool = True
    # The clerk (username) who claimed (认领) the report or was given it; None = 未认领.
    assignee: str | None = None

    def snapshot(self) -> dict[str, Any]:
        """The state that events record as 'before'/'after' (no personal data)."""
        return {
            "status": self.status.value,
            "department": self.department,
            "assisting": list(self.assisting),
            "issue_types": list(self.issue_types),
            "escalation_level": self.escalation_level,
        }


@dataclass(frozen=True)
class Event:
    """One entry of the full-process record (执法全过程记录)."""

    report_id: int
    seq: int
    at: datetime
    actor_role: str
    actor_id: str
    action: str
    details: dict[str, Any]
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    prev_hash: str
    hash: str
    public: bool = True
