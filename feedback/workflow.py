"""The work order's state machine: which action may happen in which state, and where it leads.

Who may take an action is the service's business (feedback.permissions); this module knows only
the states. An action outside its states raises InvalidTransition with a message for the user.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from feedback.errors import InvalidTransition
from feedback.models import Status


class Action(enum.StrEnum):
    SUBMIT = "submit"
    ROUTE = "route"
    TO_TRIAGE = "to_triage"
    ASSIGN = "assign"  # triage desk or supervisor decides the department
    ACCEPT = "accept"  # 签收
    SEND_BACK = "send_back"  # 退回
    REQUEST_EXTENSION = "request_extension"
    DECIDE_EXTENSION = "decide_extension"
    ANSWER = "answer"  # 答复
    RATE = "rate"  # 回访评价
    REOPEN = "reopen"
    CLOSE_UNRATED = "close_unrated"
    REQUEST_REVIEW = "request_review"  # 复查
    DECIDE_REVIEW = "decide_review"
    ESCALATE = "escalate"  # 督办
    WARN = "warn"  # 催办 reminder
    SUBSTANTIATE = "substantiate"  # 查实
    NOTE = "note"

    @property
    def label(self) -> str:
        return ACTION_LABELS[self]


ACTION_LABELS: dict[Action, str] = {
    Action.SUBMIT: "提交诉求",
    Action.ROUTE: "智能分派",
    Action.TO_TRIAGE: "转人工分办",
    Action.ASSIGN: "人工分派",
    Action.ACCEPT: "签收",
    Action.SEND_BACK: "退回",
    Action.REQUEST_EXTENSION: "申请延期",
    Action.DECIDE_EXTENSION: "延期审批",
    Action.ANSWER: "答复",
    Action.RATE: "评价",
    Action.REOPEN: "重新办理",
    Action.CLOSE_UNRATED: "逾期未评价办结",
    Action.REQUEST_REVIEW: "申请复查",
    Action.DECIDE_REVIEW: "复查决定",
    Action.ESCALATE: "督办",
    Action.WARN: "催办提醒",
    Action.SUBSTANTIATE: "查实认定",
    Action.NOTE: "备注",
}

S = Status

# Action -> states it may be taken in. Where it leads is decided by `target` below, since a
# few actions branch (a rating closes or reopens; a send-back re-routes or goes to arbitration).
ALLOWED: dict[Action, frozenset[Status]] = {
    Action.ROUTE: frozenset({S.SUBMITTED, S.TRIAGE}),
    Action.TO_TRIAGE: frozenset({S.SUBMITTED, S.ROUTED, S.ACCEPTED}),
    Action.ASSIGN: frozenset({S.TRIAGE}),
    Action.ACCEPT: frozenset({S.ROUTED}),
    Action.SEND_BACK: frozenset({S.ROUTED, S.ACCEPTED}),
    Action.REQUEST_EXTENSION: frozenset({S.ACCEPTED, S.REOPENED}),
    Action.DECIDE_EXTENSION: frozenset({S.EXTENSION_REQUESTED}),
    Action.ANSWER: frozenset({S.ACCEPTED, S.EXTENSION_REQUESTED, S.REOPENED}),
    Action.RATE: frozenset({S.ANSWERED}),
    Action.REOPEN: frozenset({S.ANSWERED}),
    Action.CLOSE_UNRATED: frozenset({S.ANSWERED}),
    Action.REQUEST_REVIEW: frozenset({S.CLOSED}),
    Action.DECIDE_REVIEW: frozenset({S.REVIEW}),
    Action.ESCALATE: frozenset(
        {S.TRIAGE, S.ROUTED, S.ACCEPTED, S.EXTENSION_REQUESTED, S.REOPENED, S.REVIEW}
    ),
    Action.WARN: frozenset({S.ROUTED, S.ACCEPTED, S.EXTENSION_REQUESTED, S.REOPENED}),
    Action.SUBSTANTIATE: frozenset(set(Status)),
    Action.NOTE: frozenset(set(Status)),
}

# Why an action is refused, said to the person who tried.
REFUSAL: dict[Action, str] = {
    Action.ROUTE: "该诉求已分派，不能再次自动分派。",
    Action.TO_TRIAGE: "该诉求当前状态不能转人工分办。",
    Action.ASSIGN: "只有待人工分办的诉求才能分派。",
    Action.ACCEPT: "只有已分派、待签收的诉求才能签收。",
    Action.SEND_BACK: "只有待签收或办理中的诉求才能退回。",
    Action.REQUEST_EXTENSION: "只有办理中的诉求才能申请延期。",
    Action.DECIDE_EXTENSION: "该诉求没有待审批的延期申请。",
    Action.ANSWER: "该诉求尚未签收或已答复，不能答复。",
    Action.RATE: "只有已答复、待评价的诉求才能评价。",
    Action.REOPEN: "只有已答复、待评价的诉求才能申请重新办理。",
    Action.CLOSE_UNRATED: "该诉求不在待评价状态。",
    Action.REQUEST_REVIEW: "只有已办结的诉求才能申请复查。",
    Action.DECIDE_REVIEW: "该诉求不在复查中。",
    Action.ESCALATE: "该诉求当前状态不能督办。",
    Action.WARN: "该诉求当前状态无需催办。",
    Action.SUBSTANTIATE: "不能查实认定。",
    Action.NOTE: "不能备注。",
}


@dataclass(frozen=True)
class Transition:
    action: Action
    before: Status
    after: Status


def check(action: Action, status: Status) -> None:
    """Raise InvalidTransition unless ``action`` may be taken in ``status``."""
    if status not in ALLOWED[action]:
        raise InvalidTransition(
            f"{REFUSAL[action]}（当前状态：{status.label}）", code="invalid_transition"
        )


def target(action: Action, status: Status, *, branch: str | None = None) -> Transition:
    """Check the action and say where it leads; ``branch`` picks among an action's outcomes."""
    check(action, status)
    after: Status
    match action:
        case Action.ROUTE | Action.ASSIGN:
            after = S.ROUTED
        case Action.TO_TRIAGE:
            after = S.TRIAGE
        case Action.ACCEPT:
            after = S.ACCEPTED
        case Action.SEND_BACK:
            after = S.TRIAGE if branch == "arbitration" else S.ROUTED
        case Action.REQUEST_EXTENSION:
            after = S.EXTENSION_REQUESTED
        case Action.DECIDE_EXTENSION:
            after = S.REOPENED if branch == "reopened" else S.ACCEPTED
        case Action.ANSWER:
            after = S.ANSWERED
        case Action.RATE:
            after = {"reopen": S.REOPENED}.get(branch or "", S.CLOSED)
        case Action.REOPEN:
            after = S.REOPENED
        case Action.CLOSE_UNRATED:
            after = S.CLOSED
        case Action.REQUEST_REVIEW:
            after = S.REVIEW
        case Action.DECIDE_REVIEW:
            after = S.REOPENED if branch == "reopen" else S.CLOSED
        case _:
            after = status  # escalate, warn, substantiate, note: the state stays
    return Transition(action, status, after)
