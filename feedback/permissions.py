"""Who may do what to a report. Every rule is here, so web, bot and API enforce the same ones."""

from __future__ import annotations

from feedback.config import Config
from feedback.errors import NotFound, PermissionDenied
from feedback.models import Actor, Report, Role


def is_supervisor(actor: Actor) -> bool:
    return actor.role in (Role.SUPERVISOR, Role.ADMIN)


def is_triage_desk(actor: Actor, config: Config) -> bool:
    """Supervisors, and staff of the supervising body (司法局), work the triage queue."""
    return is_supervisor(actor) or (
        actor.role is Role.STAFF and actor.department == config.supervisor_department
    )


def can_view(actor: Actor, report: Report, config: Config) -> bool:
    if actor.role is Role.SYSTEM or is_supervisor(actor):
        return True
    if actor.role is not Role.STAFF:
        return False
    if is_triage_desk(actor, config) and report.department is None:
        return True
    return actor.department is not None and (
        actor.department == report.department or actor.department in report.assisting
    )


def require_view(actor: Actor, report: Report, config: Config) -> None:
    # A staff member of another bureau learns nothing, not even that the report exists.
    if not can_view(actor, report, config):
        raise NotFound("未找到该诉求，或不属于本单位办理。")


def can_see_contact(actor: Actor, report: Report) -> bool:
    """Contact details: supervisors, and the lead bureau once it has the report."""
    return can_see_contact_of(actor, report.department)


def can_see_contact_of(actor: Actor, department: str | None) -> bool:
    """can_see_contact for a report of ``department`` (rows read without a Report)."""
    if is_supervisor(actor):
        return True
    return actor.role is Role.STAFF and department is not None and actor.department == department


def can_export_contact(actor: Actor) -> bool:
    """Contact columns in a bulk export (Excel/CSV): supervisors only. The lead bureau sees a
    citizen's contact report by report (can_see_contact), never as a downloadable list."""
    return is_supervisor(actor)


def require_lead_staff(actor: Actor, report: Report, config: Config) -> None:
    """Acts of the responsible bureau: sign for, send back, ask for more time, answer. A
    report a clerk has claimed (认领) is theirs: the bureau's other clerks leave it to them,
    its lead may still act."""
    require_view(actor, report, config)
    if actor.role is not Role.STAFF or actor.department != report.department:
        raise PermissionDenied("只有承办单位的工作人员可以执行此操作。")
    if not is_handler(actor, report):
        raise PermissionDenied(
            f"该诉求已由经办人 {report.assignee} 认领，只有经办人或本单位负责人可以办理。"
        )


# -- the clerk's desk: 经办人, notes, drafts, canned replies (issue 18: 12) ----------------


def is_bureau_lead(actor: Actor, department: str | None) -> bool:
    """The lead (科室负责人) of ``department``."""
    return (
        actor.role is Role.STAFF
        and actor.lead
        and department is not None
        and actor.department == department
    )


def is_handler(actor: Actor, report: Report) -> bool:
    """Who may work a report of their bureau: anyone while nobody has claimed it, then its
    经办人 and the bureau's lead."""
    return (
        report.assignee is None
        or report.assignee == actor.id
        or is_bureau_lead(actor, report.department)
    )


def require_claim(actor: Actor, report: Report, config: Config) -> None:
    """认领: a clerk of the report's bureau takes it as their own."""
    require_view(actor, report, config)
    if actor.role is not Role.STAFF or actor.department != report.department:
        raise PermissionDenied("只有承办单位的工作人员可以认领。")


def require_give(actor: Actor, report: Report, config: Config) -> None:
    """指派经办人: the bureau's lead, or a supervisor, gives the report to a clerk of the
    report's bureau (the service checks the clerk belongs to it)."""
    require_view(actor, report, config)
    if not (is_supervisor(actor) or is_bureau_lead(actor, report.department)):
        raise PermissionDenied("只有本单位负责人或监督人员可以指派经办人。")


def may_keep_replies(actor: Actor, department: str | None) -> bool:
    """A bureau's canned replies (常用答复): its lead keeps them, and the administrator."""
    return actor.role is Role.ADMIN or is_bureau_lead(actor, department)


def require_keep_replies(actor: Actor, department: str | None) -> None:
    if not may_keep_replies(actor, department):
        raise PermissionDenied("只有本单位负责人可以管理常用答复。")


def may_use_replies(actor: Actor, department: str | None) -> bool:
    """A bureau's canned replies are read by its own staff, whoever keeps them, and the
    supervisors (who watch every bureau's answers)."""
    return (
        may_keep_replies(actor, department)
        or is_supervisor(actor)
        or (actor.role is Role.STAFF and department is not None and actor.department == department)
    )


def require_manage_accounts(actor: Actor) -> None:
    """Named clerk accounts are created and disabled by supervisors (区司法局) and the
    administrator, as the command line does on the server."""
    if not is_supervisor(actor):
        raise PermissionDenied("只有监督人员或系统管理员可以管理工作人员账号。")


def require_supervisor(actor: Actor) -> None:
    if not is_supervisor(actor):
        raise PermissionDenied("只有监督人员（区司法局）可以执行此操作。")


def require_triage(actor: Actor, report: Report, config: Config) -> None:
    if report.arbitration:
        require_supervisor(actor)  # binding decision after a second send-back
    elif not is_triage_desk(actor, config):
        raise PermissionDenied("只有分办人员可以执行此操作。")


def _is_lead(actor: Actor, report: Report) -> bool:
    return actor.role is Role.STAFF and actor.department == report.department


def require(who: str, actor: Actor, report: Report, config: Config) -> None:
    """Apply the permission rule an action names in the policy table (feedback.workflow)."""
    match who:
        case "lead_staff":
            require_lead_staff(actor, report, config)
        case "supervisor":
            require_supervisor(actor)
        case "triage":
            require_triage(actor, report, config)
        case "viewer":
            require_view(actor, report, config)
        case "claim":
            require_claim(actor, report, config)
        case "give":
            require_give(actor, report, config)

        case "classifier":  # correct the issue types: the triage desk or the lead bureau
            require_view(actor, report, config)
            if not (is_triage_desk(actor, config) or _is_lead(actor, report)):
                raise PermissionDenied()
        case "documents":  # add a document to the file: the lead bureau or a supervisor
            require_view(actor, report, config)
            if not (is_supervisor(actor) or _is_lead(actor, report)):
                raise PermissionDenied("只有承办单位的工作人员可以上传材料。")
        case "citizen" | "system":
            pass  # the follow-up code, the owning chat or the clock itself is the proof
        case _:
            raise ValueError(f"unknown permission rule {who!r}")


def may(who: str, actor: Actor, report: Report, config: Config) -> bool:
    try:
        require(who, actor, report, config)
    except (NotFound, PermissionDenied):
        return False
    return True
