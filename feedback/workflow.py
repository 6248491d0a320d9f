"""The policy table of the work order: every rule about states, written once.

- named state groups (open, signing, answering, rating, closed, …);
- for each state the deadline that applies (`Deadline`): one definition that gives the Python
  check (`overdue`, `stage_deadline`) and the SQL predicate the stores and statistics use
  (`overdue_clause`, SQLAlchemy Core), so the citizen's page, the clock, the queues and the dashboard agree;
- for each action (`RULES`): the states it may be taken in, where it leads (with its branches),
  who may take it (a rule name of feedback.permissions), why it is refused, and whether it is
  public — shown on the citizen's timeline, sent as a notice, listed in Open311 — with its
  citizen-facing wording: the line under it on the timeline and in Open311 (`public_note`,
  with the action's label) and the notice sent to the chat (`public_notice`).

The service applies every transition through `apply` and nothing else sets a report's status.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from feedback.errors import InvalidTransition
from feedback.models import Rating, Report, Status


class Action(enum.StrEnum):
    SUBMIT = "submit"
    ROUTE = "route"
    TO_TRIAGE = "to_triage"
    ASSIGN = "assign"  # triage desk or supervisor decides the department
    ACCEPT = "accept"  # 签收
    SEND_BACK = "send_back"  # 退回
    REASSIGN = "reassign"  # 改派: a supervisor moves a routed or signed-for report
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
    CLAIM = "claim"  # 认领: a clerk takes a report of their bureau as their own
    RELEASE = "release"  # 放弃认领: back to 未认领
    GIVE = "give"  # 指派经办人: the bureau's lead (or a supervisor) gives it to a clerk
    INTERNAL_NOTE = "internal_note"  # 内部备注: staff only, never on a citizen's page
    SEAL = "seal"  # a report from before row digests gets its first one (feedback.record)

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
    Action.REASSIGN: "改派",
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
    Action.CLAIM: "认领",
    Action.RELEASE: "放弃认领",
    Action.GIVE: "指派经办人",
    Action.INTERNAL_NOTE: "内部备注",
    Action.SEAL: "记录校验封存",
}

S = Status

# -- state groups ----------------------------------------------------------------------------

OPEN: frozenset[Status] = frozenset(s for s in Status if s is not S.CLOSED)
# The sign-for clock runs: at the triage desk (司法局 decides the bureau) or at the bureau.
SIGNING: frozenset[Status] = frozenset({S.TRIAGE, S.ROUTED})
# The bureau has signed for it and owes an answer.
ANSWERING: frozenset[Status] = frozenset({S.ACCEPTED, S.EXTENSION_REQUESTED, S.REOPENED})
# A deadline runs against an office (催办 reminders, 督办 when it passes).
WORKING: frozenset[Status] = SIGNING | ANSWERING
RATING: frozenset[Status] = frozenset({S.ANSWERED})
CLOSED: frozenset[Status] = frozenset({S.CLOSED})
EVERY: frozenset[Status] = frozenset(Status)
# The bureau has answered at least once (查实 can be decided, answer quality reviewed).
HAS_ANSWER: frozenset[Status] = frozenset({S.ANSWERED, S.CLOSED, S.REVIEW, S.REOPENED})
# At its bureau: the bureau's clerks claim it (认领) and its lead gives it to one of them.
AT_BUREAU: frozenset[Status] = frozenset({S.ROUTED}) | ANSWERING
# Answered: the answer may be published (masked) on the public page.
PUBLISHED: frozenset[Status] = RATING | CLOSED | {S.REVIEW}

GROUPS: Mapping[str, frozenset[Status]] = {
    "open": OPEN,
    "signing": SIGNING,
    "answering": ANSWERING,
    "working": WORKING,
    "rating": RATING,
    "closed": CLOSED,
    "published": PUBLISHED,
    "has_answer": HAS_ANSWER,
    "at_bureau": AT_BUREAU,
}


def in_order(group: frozenset[Status]) -> list[Status]:
    """A group's states in the order of the enum (stable SQL parameters and listings)."""
    return [s for s in Status if s in group]


# -- deadlines --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Deadline:
    """The deadline that applies while a report is in ``states``, kept in ``column``."""

    stage: str  # "sign", "answer", "rate"
    column: str  # the field of Report.deadlines and the column of the reports table
    label: str
    short: str  # what is due, on the overdue list: 签收 / 答复
    states: frozenset[Status]
    working_days: bool = True
    against_office: bool = True  # passing it makes a report overdue (a 督办 matter)

    def due(self, report: Report) -> datetime | None:
        due: datetime | None = getattr(report.deadlines, self.column)
        return due

    def applies(self, report: Report) -> bool:
        return report.status in self.states and self.due(report) is not None

    def clause(self, table: sa.Table, moment: Any) -> sa.ColumnElement[bool]:
        """The same rule in SQL (SQLAlchemy Core, both stores): "in one of the states and the
        deadline before ``moment``" (a bindparam, given as `sql_moment`)."""
        return sa.and_(
            table.c.status.in_([s.value for s in in_order(self.states)]),
            table.c[self.column] < moment,
        )


SIGN = Deadline("sign", "sign_by", "签收期限", "签收", SIGNING)
ANSWER = Deadline("answer", "answer_by", "答复期限", "答复", ANSWERING)
RATE = Deadline("rate", "rate_by", "评价期限", "评价", RATING, working_days=False,
                against_office=False)  # fmt: skip
DEADLINES: tuple[Deadline, ...] = (SIGN, ANSWER, RATE)
# "Overdue": an office is past the deadline it is working against. Nothing else is overdue.
OFFICE_DEADLINES: tuple[Deadline, ...] = tuple(d for d in DEADLINES if d.against_office)


def sql_moment(moment: datetime) -> str:
    """A moment as the deadline clauses compare it: ISO text in UTC (SQLite compares it as
    text, the PostgreSQL store's codec reads it)."""
    return moment.astimezone(UTC).isoformat()


def deadlines_of(report: Report) -> list[tuple[Deadline, datetime]]:
    """The deadlines that apply to the report now (shown to the citizen and to staff)."""
    return [(d, due) for d in DEADLINES if d.applies(report) and (due := d.due(report))]


def stage_deadline(report: Report) -> tuple[Deadline, datetime] | None:
    """The deadline an office is working against now, if any."""
    for d in OFFICE_DEADLINES:
        due = d.due(report)
        if report.status in d.states and due is not None:
            return d, due
    return None


def overdue(report: Report, now: datetime) -> bool:
    found = stage_deadline(report)
    return found is not None and now > found[1]


def overdue_clause(table: sa.Table, moment: Any) -> sa.ColumnElement[bool]:
    """`overdue` in SQL: past the office's deadline before ``moment`` (now: overdue)."""
    return sa.or_(*(d.clause(table, moment) for d in OFFICE_DEADLINES))


def deadline_key(stage: str, due: datetime) -> str:
    """The deadline a 催办 or 督办 concerns (a report's ``warned_for`` / ``escalated_for``):
    one reminder and one escalation per deadline."""
    return f"{stage}:{due.isoformat()}"


# -- guards: what an action needs beyond the state -------------------------------------------

# A 督办 is not repeated within this window after the last one (the clock's included): two
# clicks, or two supervisors at once, make one. The setting escalate_repeat_minutes.
ESCALATE_REPEAT_DEFAULT = timedelta(minutes=60)
ESCALATED_RECENTLY = "该诉求已于 {at} 督办，{minutes} 分钟内不重复督办。"
ESCALATION_REASON = "督办理由"
ONE_EXTENSION = "每件诉求只能申请一次延期，本件已经申请过。"


def escalation_needs_reason(report: Report, now: datetime) -> bool:
    """A 督办 of a report no office is late with says why; an overdue one is its own reason."""
    return not overdue(report, now)


def escalation_again_at(last: datetime | None, window: timedelta) -> datetime | None:
    """When a 督办 may be taken again after the last one (None: no 督办 yet)."""
    return None if last is None else last + window


def extension_applied(actions: Sequence[str]) -> bool:
    """One extension application per report, granted or refused (``extension_used`` says
    only that one was granted)."""
    return Action.REQUEST_EXTENSION.value in actions


# -- actions ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """One action of the policy table."""

    allowed: frozenset[Status]
    to: Status | None  # where it leads; None: the state stays
    who: str  # a rule of feedback.permissions (`permissions.require`)
    refusal: str
    branches: Mapping[str, Status] = field(default_factory=dict)
    public: bool = True  # on the citizen's timeline, as a notice, in Open311 updates


RULES: Mapping[Action, Rule] = {
    Action.SUBMIT: Rule(frozenset(), S.SUBMITTED, "citizen", "不能重复提交。"),
    Action.ROUTE: Rule(frozenset({S.SUBMITTED, S.TRIAGE}), S.ROUTED, "system",
                       "该诉求已分派，不能再次自动分派。"),
    Action.TO_TRIAGE: Rule(frozenset({S.SUBMITTED, S.ROUTED, S.ACCEPTED}), S.TRIAGE, "system",
                           "该诉求当前状态不能转人工分办。"),
    Action.ASSIGN: Rule(frozenset({S.TRIAGE}), S.ROUTED, "triage", "只有待人工分办的诉求才能分派。"),
    Action.ACCEPT: Rule(frozenset({S.ROUTED}), S.ACCEPTED, "lead_staff",
                        "只有已分派、待签收的诉求才能签收。"),
    # A second send-back goes to the supervisor for a binding decision (arbitration).
    Action.SEND_BACK: Rule(frozenset({S.ROUTED, S.ACCEPTED}), S.ROUTED, "lead_staff",
                           "只有待签收或办理中的诉求才能退回。",
                           branches={"arbitration": S.TRIAGE}),
    # 改派: the supervisor gives a bureau's report to another; its clock starts anew, and
    # the supervisor's decision binds (no send-back from the new bureau).
    Action.REASSIGN: Rule(frozenset({S.ROUTED, S.ACCEPTED}), S.ROUTED, "supervisor",
                          "只有已分派待签收或已签收办理中的诉求才能改派。"),
    Action.REQUEST_EXTENSION: Rule(frozenset({S.ACCEPTED, S.REOPENED}), S.EXTENSION_REQUESTED,
                                   "lead_staff", "只有办理中的诉求才能申请延期。"),
    # Back to the state the request was made in.
    Action.DECIDE_EXTENSION: Rule(frozenset({S.EXTENSION_REQUESTED}), S.ACCEPTED, "supervisor",
                                  "该诉求没有待审批的延期申请。",
                                  branches={"reopened": S.REOPENED}),
    Action.ANSWER: Rule(ANSWERING, S.ANSWERED, "lead_staff", "该诉求尚未签收或已答复，不能答复。"),
    # 满意/基本满意 close; the first 不满意 reopens (to the same bureau).
    Action.RATE: Rule(RATING, S.CLOSED, "citizen", "只有已答复、待评价的诉求才能评价。",
                      branches={"reopen": S.REOPENED}),
    Action.REOPEN: Rule(RATING, S.REOPENED, "supervisor",
                        "只有已答复、待评价的诉求才能申请重新办理。"),
    Action.CLOSE_UNRATED: Rule(RATING, S.CLOSED, "system", "该诉求不在待评价状态。"),
    Action.REQUEST_REVIEW: Rule(CLOSED, S.REVIEW, "citizen", "只有已办结的诉求才能申请复查。"),
    Action.DECIDE_REVIEW: Rule(frozenset({S.REVIEW}), S.CLOSED, "supervisor", "该诉求不在复查中。",
                               branches={"reopen": S.REOPENED}),
    Action.ESCALATE: Rule(WORKING | {S.REVIEW}, None, "supervisor", "该诉求当前状态不能督办。"),
    # The clock reminds whichever office a deadline runs against, the triage desk included.
    Action.WARN: Rule(WORKING, None, "system", "该诉求当前状态无需催办。", public=False),
    Action.SUBSTANTIATE: Rule(HAS_ANSWER, None,
                              "supervisor", "诉求答复后才能作出查实认定。"),
    Action.NOTE: Rule(EVERY, None, "viewer", "不能备注。", public=False),
    # The clerk's desk (issue 18: 12): who works the report within its bureau, and notes
    # between staff. Internal: never on the citizen's timeline, in a notice or in Open311.
    Action.CLAIM: Rule(AT_BUREAU, None, "claim", "只有在承办单位办理中的诉求才能认领。",
                       public=False),
    Action.RELEASE: Rule(AT_BUREAU, None, "claim", "只有在承办单位办理中的诉求才能放弃认领。",
                         public=False),
    Action.GIVE: Rule(AT_BUREAU, None, "give", "只有在承办单位办理中的诉求才能指派经办人。",
                      public=False),
    Action.INTERNAL_NOTE: Rule(EVERY, None, "viewer", "不能添加内部备注。", public=False),
    # A report from before row digests gets its first one (feedback.record, the clock's job).
    Action.SEAL: Rule(EVERY, None, "system", "不能封存记录。", public=False),
}  # fmt: skip

# Actions that hand a report to a bureau (the sign-for clock starts at their event), and those
# among them that take it from the bureau that had it (its signing no longer counts).
ROUTING: tuple[str, ...] = (Action.ROUTE, Action.ASSIGN, Action.SEND_BACK, Action.REASSIGN)
REROUTING: tuple[str, ...] = (Action.SEND_BACK, Action.REASSIGN)

# The tables other modules read (kept for them): allowed states and refusals per action.
ALLOWED: Mapping[Action, frozenset[Status]] = {a: r.allowed for a, r in RULES.items()}
REFUSAL: Mapping[Action, str] = {a: r.refusal for a, r in RULES.items()}
PUBLIC: frozenset[Action] = frozenset(a for a, r in RULES.items() if r.public)


@dataclass(frozen=True)
class Transition:
    action: Action
    before: Status
    after: Status


def check(action: Action, status: Status) -> None:
    """Raise InvalidTransition unless ``action`` may be taken in ``status``."""
    if status not in RULES[action].allowed:
        raise InvalidTransition(
            f"{RULES[action].refusal}（当前状态：{status.label}）", code="invalid_transition"
        )


def target(action: Action, status: Status, *, branch: str | None = None) -> Transition:
    """Check the action and say where it leads; ``branch`` picks among an action's outcomes."""
    check(action, status)
    rule = RULES[action]
    after = rule.branches.get(branch or "", rule.to or status)
    return Transition(action, status, after)


def apply(action: Action, report: Report, *, branch: str | None = None) -> Transition:
    """The one way a report changes state: check the action, then move the report."""
    t = target(action, report.status, branch=branch)
    report.status = t.after
    return t


# -- what the citizen reads -------------------------------------------------------------------

# Who acted, as a record shows it: roles in Chinese, the system's parts by what they do (never
# their internal ids: "系统 router").
_ROLE_NAMES = {"citizen": "诉求人", "system": "系统", "staff": "工作人员", "supervisor": "监督人员",
               "admin": "管理员"}  # fmt: skip
_SYSTEM_PARTS = {"router": "智能分派", "clock": "办理时限", "codes": "查询码", "record": "记录校验"}


def actor_label(role: str, actor_id: str) -> str:
    if role == "citizen":
        return _ROLE_NAMES["citizen"]
    if role == "system":
        return f"系统（{_SYSTEM_PARTS.get(actor_id, '自动')}）"
    return f"{_ROLE_NAMES.get(role, '工作人员')} {actor_id}".strip()


def staff_status_label(report: Report) -> str:
    """The state as the staff desk reads it: a report sent back twice waits for the
    supervisor's ruling (待裁定), not for triage like a new one."""
    if report.status is S.TRIAGE and report.arbitration:
        return "待裁定（两次退回）"
    return report.status.label


def is_public(action: str) -> bool:
    try:
        return Action(action) in PUBLIC
    except ValueError:
        return False


def public_note(
    action: str, details: Mapping[str, Any], after: Mapping[str, Any] | None,
    department_name: Any,
) -> str | None:  # fmt: skip
    """The citizen-facing line under a public event (timeline, Open311), or None. Public:
    nothing the citizen or staff wrote (see `owner_text` for what the citizen alone reads)."""
    a = Action(action)
    d = details
    if a in (Action.ROUTE, Action.ASSIGN) and after and after.get("department"):
        return f"承办单位：{department_name(after['department'])}"
    if a is Action.SEND_BACK and d.get("arbitration"):
        return "承办单位再次退回，已提交区司法局裁定承办单位"
    if a is Action.SEND_BACK:
        return "承办单位认为不属于本单位职责，已重新分派"
    if a is Action.REASSIGN and after and after.get("department"):
        return f"区司法局改派，承办单位：{department_name(after['department'])}"
    if a is Action.ANSWER and d.get("extension_withdrawn"):
        # the request was never decided: say what became of it, or it reads as pending
        return "承办单位已答复（此前的延期申请尚未审核，随答复撤回）"
    if a is Action.ANSWER:
        return "承办单位已答复"
    if a is Action.REQUEST_EXTENSION and d.get("days"):
        return f"承办单位申请延期（{d['days']} 个工作日），待区司法局审核"
    if a is Action.DECIDE_EXTENSION:
        if d.get("approved"):
            # The bureau's reason is its own words: the citizen reads it (`owner_text`), an
            # Open311 client or the public page does not.
            return f"延期 {d.get('days')} 个工作日"
        return "延期申请未获批准"
    if a is Action.RATE:
        return Rating(d["rating"]).label if d.get("rating") else None
    if a is Action.ESCALATE:
        return "区司法局已督办"
    if a is Action.REQUEST_REVIEW:
        return "已申请复查，由区司法局审查"
    if a is Action.DECIDE_REVIEW:
        return "复查决定：重新办理" if d.get("reopen") else "复查决定：维持原答复，办结"
    if a is Action.SUBSTANTIATE:
        if d.get("substantiated"):
            points = d.get("points")
            return "经区司法局查实" + (f"，可领取 {points} 分监督积分" if points else "")
        return "经区司法局审查，反映的问题未予查实"
    if a is Action.CLOSE_UNRATED:
        return "评价期内未评价，自动办结"
    return None


# What the citizen alone reads under an event of their own report (never Open311, never a
# public page): the words written in it -- each answer in full, the reason of a 复查 decision,
# their own rating comment and review reason.
_OWNER_TEXT: Mapping[Action, tuple[str, str]] = {
    Action.ANSWER: ("answer", "答复内容"),
    Action.DECIDE_EXTENSION: ("reason", "延期理由"),
    Action.DECIDE_REVIEW: ("note", "复查意见"),
    Action.RATE: ("comment", "您的评价说明"),
    Action.REQUEST_REVIEW: ("reason", "您的复查理由"),
}


def owner_text(action: str, details: Mapping[str, Any]) -> tuple[str, str] | None:
    """(label, text) of what was written in a public event, for the report's own citizen."""
    try:
        key, label = _OWNER_TEXT[Action(action)]
    except (KeyError, ValueError):
        return None
    text = details.get(key)
    return (label, str(text)) if text else None


def public_events(events: Sequence[Any]) -> list[Any]:
    """The events a citizen, a chat and an Open311 client are shown."""
    return [e for e in events if e.public]


def public_notice(kind: str, payload: Mapping[str, Any]) -> str | None:
    """The notice sent to the citizen's chat for a public event (the outbox row's ``kind``
    and payload); None for actions the chat already knows about."""
    tn = payload.get("tracking_number", "")
    dept = payload.get("department") or "承办单位"
    status = payload.get("status")
    head = f"您反映的问题（{tn}）"
    match kind:
        case "submit" | "note":
            return None  # the conversation itself answered the submission
        case "route" | "assign":
            return f"{head}已分派至{dept}，等待签收办理。"
        case "to_triage":
            return f"{head}正由区司法局人工分办，将尽快确定承办单位。"
        case "send_back":
            if status == "triage":
                return f"{head}的承办单位有异议，正由区司法局确定承办单位。"
            return f"{head}已改派至{dept}，等待签收办理。"
        case "reassign":
            return f"{head}已由区司法局改派至{dept}，等待签收办理。"
        case "accept":
            return f"{head}已由{dept}签收，正在办理。"
        case "request_extension":
            return f"{head}：{dept}申请延长办理期限，正在审核。"
        case "decide_extension":
            if payload.get("approved"):
                days = payload.get("days")
                return (f"{head}的办理期限已延长 {days} 个工作日（延期）。\n"
                        f"理由：{payload.get('reason') or '未说明'}")  # fmt: skip
            return f"{head}的延期申请未获批准，承办单位须按原期限答复。"
        case "answer":
            return f"{head}已答复（{dept}）：\n\n{payload.get('answer') or ''}\n\n请对办理结果进行评价："
        case "rate":
            if status == "reopened":
                return f"{head}已退回{dept}重新办理，区司法局将跟踪督办。"
            return f"{head}已办结。感谢您的监督！"
        case "reopen":
            return f"{head}已退回承办单位，重新办理中。"
        case "close_unrated":
            return f"{head}逾期未评价，已自动办结。"
        case "request_review":
            return f"{head}的复查申请已收到，区司法局将在 30 日内答复。"
        case "decide_review":
            if status == "reopened":
                return f"{head}复查后决定重新办理。"
            return f"{head}复查维持原答复，已办结。"
        case "escalate":
            return f"{head}已由区司法局督办，承办单位须尽快办理。"
        case _:
            label = payload.get("status_label")
            return f"{head}有新进展：{label}" if label else None


def receipt_notice(payload: Mapping[str, Any], code: str | None = None) -> str:
    """The receipt a web or API reporter who opted in gets by e-mail: the number, the code
    only if asked for by that channel, and where the report went (the routing is part of the
    receipt, not a second notice)."""
    tn = payload.get("tracking_number", "")
    lines = [f"您反映的问题已受理，受理编号：{tn}。"]
    if code:
        lines.append(f"查询码：{code}（请妥善保管，凭受理编号和查询码查询办理进展、评价。）")
    if payload.get("status") == "routed":
        lines.append(f"已分派至{payload.get('department') or '承办单位'}，等待签收办理。")
    else:
        lines.append("正由区司法局人工分办，将尽快确定承办单位。")
    return "\n".join(lines)


def notice_subject(kind: str, payload: Mapping[str, Any]) -> str:
    """The subject line of an e-mail notice: the number and what happened."""
    tn = payload.get("tracking_number", "")
    if kind == "submit":
        return f"您反映的问题已受理（{tn}）"
    try:
        label = Action(kind).label
    except ValueError:
        label = str(payload.get("status_label") or "新进展")
    if kind in ("rate", "decide_review", "close_unrated") and payload.get("status") == "closed":
        label = "已办结"
    return f"您反映的问题（{tn}）：{label}"
