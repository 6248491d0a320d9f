"""The staff console: queues, a report's page with its actions, triage, documents.

Every rule (who may see, who may act, in which state) is the service's; the pages only decide
which forms to offer, and the service refuses whatever is not allowed anyway.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from aiohttp import web

from feedback import accounts, attachments, incentives, permissions, secrets
from feedback.config import Config
from feedback.errors import InvalidTransition, NotFound, PermissionDenied, ValidationError
from feedback.models import Actor, Attachment, Report
from feedback.service import (
    CLERK_FILTERS,
    TRIAGE_ORDERS,
    DeadlineView,
    FeedbackService,
    StaffView,
    clerk_filter,
)
from web import limits, sessions
from web.auth import require_staff
from web.citizen import Form, read_uploads, text_value
from web.keys import config_key, service_key, settings_key
from web.render import render
from web.sessions import flash

routes = web.RouteTableDef()

PAGE_SIZE = 50

QUEUE_LABELS = {
    "new": "待签收",
    "due_soon": "即将到期",
    "overdue": "已逾期",
    "reopened": "重新办理",
    "in_progress": "办理中",
    "extension": "延期审核",
    "answered": "已答复/办结",
    "escalated": "督办件",
    "triage": "待分办",
    "arbitration": "争议裁定",
    "review": "复查申请",
    "all": "全部",
}
STAFF_QUEUES = ("new", "due_soon", "overdue", "reopened", "in_progress", "extension", "answered")
SUPERVISOR_QUEUES = ("escalated", "review")
TRIAGE_QUEUES = ("triage", "arbitration")


# Where each form of the report page shows an error about each of its fields: the id of the
# control (or of the group of choices) that gets aria-invalid, the error next to it and the
# focus, and that the summary at the top links to. An error about anything else (no field, or
# a field the form does not show) is shown by the form's buttons: "<action>-form-error".
ERROR_TARGETS: dict[str, dict[str, str]] = {
    "give": {"assignee": "f-assignee"},
    "answer": {"answer": "f-answer", "canned": "f-canned", "issue_types": "answer-issue-types"},
    "extension": {"days": "f-days", "reason": "f-ext-reason"},
    "send-back": {"department": "f-sb-dept", "reason": "f-sb-reason"},
    "assign": {
        "department": "f-as-dept",
        "assisting": "assign-assisting",
        "issue_types": "assign-issue-types",
        "note": "f-as-note",
    },
    "reassign": {"department": "f-ra-dept", "reason": "f-ra-reason"},
    "decide-extension": {"approve": "de-approve", "note": "f-de-note"},
    "decide-review": {"reopen": "dr-reopen", "note": "f-dr-note"},
    "substantiate": {"substantiated": "sub-choice", "note": "f-sub-note"},
    "escalate": {"note": "f-es-note"},
    "issue-types": {"issue_types": "it-issue-types"},
    "attach": {"documents": "f-documents"},
    "note": {"note": "f-note"},
}


def error_target(action: str, field: str | None) -> tuple[str, str]:
    """The field an error is shown at on the report page ("form" when the form has no such
    field) and the id of the element the error summary links to."""
    targets = ERROR_TARGETS.get(action, {})
    if field in targets:
        return field, targets[field]
    return "form", f"{action}-form-error"


@dataclass
class Row:
    report: Report
    deadlines: list[DeadlineView]
    suggestion: tuple[str, float] | None
    status_label: str = ""


def suggestion(report: Report, config: Config) -> tuple[str, float] | None:
    top = report.routing.get("top") or []
    if not top:
        return None
    code, probability = top[0][0], float(top[0][1])
    return (config.department_name(code) if config.has_department(code) else code, probability)


def queues_for(actor: Actor, config: Config) -> list[str]:
    names = list(STAFF_QUEUES)
    if permissions.is_supervisor(actor):
        names += SUPERVISOR_QUEUES
    if permissions.is_triage_desk(actor, config):
        names = list(TRIAGE_QUEUES) + names
    return names + ["all"]  # 全部 last, after the supervisors' own queues


def landing_queue(actor: Actor, config: Config) -> str:
    """The tab /staff opens on. The 司法局 desk's own work is 待分办, not a bureau's 待签收
    (supervisors keep 待签收: they watch every bureau and reach 分办 from the main menu)."""
    if permissions.is_triage_desk(actor, config) and not permissions.is_supervisor(actor):
        return "triage"
    return "new"


MAX_PAGE = 100_000


async def _queue_page(request: web.Request, default: str) -> web.Response:
    user, actor = await require_staff(request)
    service = request.app[service_key]
    config = request.app[config_key]
    names = queues_for(actor, config)
    name = request.query.get("queue", default)
    if name not in names:
        name = names[0] if default not in names else default
    q = request.query.get("q", "").strip()[:100]
    issue_type = request.query.get("issue_type", "")
    department = request.query.get("department", "")
    # A link with a bureau code the district no longer has (renamed, merged, mistyped): said,
    # and the queue shown for every bureau, rather than silently ignoring the filter.
    unknown_department = (
        department[:40] if department and not config.has_department(department) else ""
    )
    if unknown_department:
        department = ""
    page = limits.page_number(request, MAX_PAGE)
    order = request.query.get("order", "newest")
    order = order if name in TRIAGE_QUEUES and order in TRIAGE_ORDERS else "newest"
    clerk = request.query.get("clerk", "").strip()[:40]
    if clerk and clerk_filter(actor, clerk) is None:
        clerk = ""
    reports, total = await service.queue_page(
        actor, name, query=q, issue_type=issue_type, department=department,
        limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, order=order, clerk=clerk or None,
    )  # fmt: skip
    elsewhere = 0
    if q and not total and name != "all":
        # Found nothing in this queue: say how many the search finds in all of the actor's.
        elsewhere = (await service.queue_page(actor, "all", query=q, limit=0))[1]
    now = service.clock()
    rows = [
        Row(r, service.deadlines(r, now), suggestion(r, config), service.staff_status_label(r))
        for r in reports
    ]
    counts = await service.queue_counts(actor, [n for n in names if n != "all"], clerk or None)
    clerks = await service.clerks(actor, actor.department) if actor.department else []
    return await render(
        request,
        "staff/queue.html",
        {
            "queue": name,
            "queues": [(n, QUEUE_LABELS[n], counts.get(n)) for n in names],
            "rows": rows,
            "total": total,
            "page": page,
            "pages": max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE),
            "filters": {
                "q": q,
                "issue_type": issue_type if issue_type in config.issue_type_codes else "",
                "department": department,
                "order": order,
                "clerk": clerk,
            },
            "clerk_filters": CLERK_FILTERS,
            "clerks": clerks,
            "clerk_names": {c.username: c.name for c in clerks},
            "at_bureau": actor.role.value == "staff",
            "elsewhere": elsewhere,
            "unknown_department": unknown_department,
            "queue_label": QUEUE_LABELS[name],
            "orderable": name in TRIAGE_QUEUES,
            "is_supervisor": permissions.is_supervisor(actor),
            "title": "分办" if name in TRIAGE_QUEUES else "工作台",
        },
    )


@routes.get("/staff")
async def console(request: web.Request) -> web.Response:
    _, actor = await require_staff(request)
    return await _queue_page(request, landing_queue(actor, request.app[config_key]))


@routes.get("/staff/triage")
async def triage(request: web.Request) -> web.Response:
    _, actor = await require_staff(request)
    if not permissions.is_triage_desk(actor, request.app[config_key]):
        raise web.HTTPForbidden()
    return await _queue_page(request, "triage")


# -- one report --------------------------------------------------------------------------------


def describe(details: dict[str, Any], config: Config) -> list[str]:
    """The record's details in words staff can read."""
    out = []
    d = details
    names = config.department_name
    if d.get("department") and isinstance(d["department"], str):
        out.append(f"承办单位：{names(d['department'])}")
    if d.get("from"):
        out.append(f"原承办单位：{names(d['from'])}")
    if d.get("suggested"):
        out.append(f"建议承办单位：{names(d['suggested'])}")
    if d.get("assisting"):
        out.append("协办单位：" + "、".join(names(a) for a in d["assisting"]))
    if d.get("issue_types") and isinstance(d["issue_types"], list):
        out.append("问题类型：" + "、".join(config.issue_type_name(t) for t in d["issue_types"]))
    if "days" in d:
        out.append(f"天数：{d['days']} 个工作日")
    if d.get("extension_withdrawn"):
        out.append(f"答复时延期申请（{d['extension_withdrawn']} 个工作日）尚未审核，不再审核")
    if "approved" in d:
        out.append("批准" if d["approved"] else "不批准")
    if "rating" in d and d["rating"]:
        out.append(
            f"评价：{ {'satisfied': '满意', 'basically_satisfied': '基本满意', 'unsatisfied': '不满意'}.get(d['rating'], d['rating']) }"
        )
    for key, label in (("reason", "理由"), ("note", "意见"), ("comment", "说明"), ("why", "依据")):
        if d.get(key):
            out.append(f"{label}：{d[key]}")
    if d.get("binding"):
        out.append("区司法局裁定，承办单位不得再退回")
    if d.get("attachment"):
        out.append(f"上传材料：{d['attachment'].get('filename')}")
    if d.get("answer"):
        out.append(f"答复：{d['answer']}")
    if "assignee" in d:
        out.append(f"经办人：{d['assignee'] or '（未认领）'}")
    if d.get("previous_assignee"):
        out.append(f"原经办人：{d['previous_assignee']}")
    return out


def _error_link(values: dict[str, Any] | None, errors: dict[str, str] | None) -> str:
    if not errors:
        return ""
    action = str((values or {}).get("_action", ""))
    return error_target(action, next(iter(errors)))[1]


async def _report_page(
    request: web.Request,
    actor: Actor,
    tn: str,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    problem: str | None = None,
    status: int = 200,
    answer_review: Any = None,
    notice: str | None = None,
) -> web.Response:
    service = request.app[service_key]
    config = request.app[config_key]
    view: StaffView = await service.staff_view(actor, tn)
    r = view.report
    stored_review = await service.insight.review_of(r) if r.answer else None
    clerks = await service.clerks(actor, r.department)
    offer = service.offered(actor, view)
    draft = await service.draft(actor, r) if offer["answer"] else None
    replies = await service.canned_replies(actor) if offer["answer"] else []
    return await render(
        request,
        "staff/report.html",
        {
            "view": view,
            "r": r,
            "events": [(e, describe(e.details, config)) for e in view.events],
            "offer": offer,
            "clerks": clerks,
            "clerk_names": {c.username: c.name for c in clerks},
            "notes": [e for e in view.events if e.action == "internal_note"],
            "draft": draft,
            "replies": replies,
            "status_label": service.staff_status_label(r),
            "suggestion": suggestion(r, config),
            "values": values or {},
            "errors": errors or {},
            "error_link": _error_link(values, errors),
            "problem": problem,
            "departments": config.departments,
            "issue_types": config.issue_types,
            "extension_max": config.clocks.extension_max,
            "title": r.title,
            "answer_review": answer_review,
            "stored_review": stored_review,
            "notice": notice,
        },
        status=status,
    )


@routes.get("/staff/reports/{tn}")
async def report_page(request: web.Request) -> web.Response:
    _, actor = await require_staff(request)
    return await _report_page(request, actor, request.match_info["tn"])


ActionFn = Callable[[FeedbackService, Actor, str, Form, web.Request], Awaitable[str]]


async def _accept(s: FeedbackService, a: Actor, tn: str, f: Form, rq: web.Request) -> str:
    await s.accept(a, tn)
    return "已签收，答复期限已开始计算。"


async def _send_back(s: FeedbackService, a: Actor, tn: str, f: Form, rq: web.Request) -> str:
    report = await s.send_back(a, tn, text_value(f, "reason"), text_value(f, "department", 40))
    if report.arbitration:
        return "已退回。该诉求第二次被退回，已提交区司法局裁定承办单位。"
    return f"已退回，转 {s.config.department_name(report.department)} 办理。"


async def _extension(s: FeedbackService, a: Actor, tn: str, f: Form, rq: web.Request) -> str:
    raw = text_value(f, "days", 10).strip()
    try:
        days = int(raw)
    except ValueError:
        raise ValidationError("请填写延期的工作日数（整数）。", field="days") from None
    await s.request_extension(a, tn, days, text_value(f, "reason"))
    return "延期申请已提交，等待区司法局审批。"


class ReviewWarning(Exception):
    """The clerk asked for the answer review before sending: shown with the draft kept."""

    def __init__(self, review: Any):
        super().__init__("answer review")
        self.review = review


class AnswerKept(Exception):
    """The answer form shown again with its text, nothing sent (a canned reply inserted)."""

    def __init__(self, text: str, message: str):
        super().__init__(message)
        self.text = text
        self.message = message


async def _answer(s: FeedbackService, a: Actor, tn: str, f: Form, rq: web.Request) -> str:
    text = text_value(f, "answer")
    match text_value(f, "do", 10):
        case "draft":  # 保存草稿: kept for this clerk, not sent
            kept = await s.save_draft(a, tn, text)
            return "草稿已保存（仅您本人可见，尚未发送）。" if kept else "草稿已清除。"
        case "insert":  # 插入常用答复: the form again with the reply added to the text
            try:
                reply_id = int(text_value(f, "canned", 12))
            except ValueError:
                raise ValidationError("请先选择要插入的常用答复。", field="canned") from None
            reply = await s.canned_reply(a, reply_id)
            joined = f"{text}\n\n{reply.body}" if text.strip() else reply.body
            raise AnswerKept(joined, f"已插入常用答复“{reply.title}”，请修改后发送（尚未发送）。")
    if text_value(f, "check", 2) == "1":  # 检查答复质量: a warning, never a block
        raise ReviewWarning(await s.insight.review_draft(a, tn, text))
    # The form shows the predicted issue types preselected: what is ticked is confirmed.
    confirmed = text_value(f, "confirm_types", 2) == "1"
    types = [t for t in f.getall("issue_types", []) if isinstance(t, str)] if confirmed else None
    report = await s.answer(a, tn, text, types)
    review = await s.insight.review_of(report)
    if review and not review["acceptable"]:
        return "答复已发送，等待诉求人评价。答复质量提示：" + "；".join(review["reasons"])
    return "答复已发送，等待诉求人评价。"


async def _claim(s: FeedbackService, a: Actor, tn: str, f: Form, rq: web.Request) -> str:
    await s.claim(a, tn)
    return "已认领，您是该诉求的经办人。"


async def _release(s: FeedbackService, a: Actor, tn: str, f: Form, rq: web.Request) -> str:
    await s.release(a, tn)
    return "已放弃认领，该诉求回到未认领。"


async def _give(s: FeedbackService, a: Actor, tn: str, f: Form, rq: web.Request) -> str:
    report = await s.give(a, tn, text_value(f, "assignee", 40))
    return f"已指派经办人：{report.assignee}。" if report.assignee else "已取消指派，该诉求未认领。"


async def _note(s: FeedbackService, a: Actor, tn: str, f: Form, rq: web.Request) -> str:
    await s.add_note(a, tn, text_value(f, "note"))
    return "内部备注已记入全过程记录（仅工作人员可见）。"


async def _attach(s: FeedbackService, a: Actor, tn: str, f: Form, rq: web.Request) -> str:
    await s.may_attach(a, tn)  # refuse before writing anything to disk
    uploads = await read_uploads(f, s.input_limits, "documents")
    if not uploads:
        raise ValidationError("请选择要上传的文件。", field="documents")
    checked = attachments.check(uploads, field="documents", limits=s.input_limits)
    root = rq.app[settings_key].attachments_dir
    stored = await asyncio.to_thread(attachments.store_all, root, checked, a.id)
    for att in stored:
        await s.attach(a, tn, att)
    return f"已上传 {len(stored)} 个文件。"


async def _assign(s: FeedbackService, a: Actor, tn: str, f: Form, rq: web.Request) -> str:
    types = [t for t in f.getall("issue_types", []) if isinstance(t, str)]
    helpers = [t for t in f.getall("assisting", []) if isinstance(t, str)]
    dept = text_value(f, "department", 40)
    report = await s.assign(a, tn, dept, types, helpers, text_value(f, "note"))
    if report.route_locked:  # a ruling after two send-backs, not a plain routing
        return f"已裁定由 {s.config.department_name(dept)} 承办，承办单位不得再退回。"
    return f"已分派至 {s.config.department_name(dept)}。"


async def _reassign(s: FeedbackService, a: Actor, tn: str, f: Form, rq: web.Request) -> str:
    report = await s.reassign(a, tn, text_value(f, "department", 40), text_value(f, "reason"))
    return f"已改派至 {s.config.department_name(report.department)}，签收期限重新计算。"


async def _issue_types(s: FeedbackService, a: Actor, tn: str, f: Form, rq: web.Request) -> str:
    types = [t for t in f.getall("issue_types", []) if isinstance(t, str)]
    await s.correct_issue_types(a, tn, types)
    return "问题类型已更正（将用于改进自动分类）。"


async def _decide_extension(s: FeedbackService, a: Actor, tn: str, f: Form, rq: web.Request) -> str:
    choice = text_value(f, "approve", 5)
    if choice not in ("1", "0"):
        raise ValidationError("请选择批准或不批准。", field="approve")
    await s.decide_extension(a, tn, choice == "1", text_value(f, "note"))
    return "已批准延期。" if choice == "1" else "已驳回延期申请。"


async def _escalate(s: FeedbackService, a: Actor, tn: str, f: Form, rq: web.Request) -> str:
    report = await s.escalate(a, tn, text_value(f, "note"))
    return f"已督办（{report.escalation_level} 级），已记入全过程记录并告知诉求人。"


async def _decide_review(s: FeedbackService, a: Actor, tn: str, f: Form, rq: web.Request) -> str:
    choice = text_value(f, "reopen", 5)
    if choice not in ("1", "0"):
        raise ValidationError("请选择重新办理或维持原答复。", field="reopen")
    await s.decide_review(a, tn, choice == "1", text_value(f, "note"))
    return "已决定重新办理。" if choice == "1" else "已维持原答复，诉求办结。"


async def _substantiate(s: FeedbackService, a: Actor, tn: str, f: Form, rq: web.Request) -> str:
    choice = text_value(f, "substantiated", 5)
    if choice not in ("1", "0"):
        raise ValidationError("请选择查实或不属实。", field="substantiated")
    report = await incentives.substantiate(s, a, tn, choice == "1", text_value(f, "note"))
    if not report.substantiated:
        return "已认定反映情况不属实。"
    points = incentives.points_for(report, s.config.incentive_points)
    return f"已认定查实，诉求人获得 {points} 分监督积分。"


ACTIONS: dict[str, ActionFn] = {
    "accept": _accept,
    "send-back": _send_back,
    "extension": _extension,
    "answer": _answer,
    "attach": _attach,
    "assign": _assign,
    "reassign": _reassign,
    "issue-types": _issue_types,
    "decide-extension": _decide_extension,
    "escalate": _escalate,
    "decide-review": _decide_review,
    "substantiate": _substantiate,
    "claim": _claim,
    "release": _release,
    "give": _give,
    "note": _note,
}


# -- an answer typed on a page that outlived the session ------------------------------------

ANSWER_PATH = r"/staff/reports/([^/]+)/answer"
CARRY = "carry_answer"  # the login form's field that carries the typed answer
KEPT = "页面已过期，答复尚未发送。您输入的内容已保留在下面，请核对后重新发送。"


async def answer_kept(request: web.Request) -> web.StreamResponse:
    """The answer form posted after the login expired, or with a token from before (the
    browser kept the page open): nothing is sent. Logged out → the login page, which carries
    the text and brings the clerk back to the form with it; logged in → the form again with
    the text and a fresh token (web.csrf.on_refused)."""
    found = re.fullmatch(ANSWER_PATH, request.path)
    try:
        form = await request.post()
    except ValueError:
        form = None
    if found is None or form is None:
        raise web.HTTPForbidden()
    tn = secrets.normalise_tracking_number(found.group(1))
    text = text_value(form, "answer")
    user = await sessions.current_user(request)
    if user is None:
        values = {"next": f"/staff/reports/{quote(tn)}", CARRY: text}
        return await render(
            request, "staff/login.html", {"values": values, "errors": {}}, status=401
        )
    actor = accounts.actor_for(user)
    kept = {"_action": "answer", "answer": text}
    # 403 as for any refused token (nothing was done), with the form and the text.
    return await _report_page(request, actor, tn, values=kept, problem=KEPT, status=403)


async def answer_after_login(
    request: web.Request, actor: Actor, next_path: str, text: str
) -> web.StreamResponse | None:
    """Just logged in with an answer carried from an expired page: the report's page with the
    answer form filled in (not sent), or None when ``next_path`` is no report of theirs."""
    found = re.fullmatch(r"/staff/reports/([^/]+)", next_path)
    if found is None:
        return None
    kept = {"_action": "answer", "answer": text}
    try:
        return await _report_page(
            request, actor, found.group(1), values=kept,
            problem="已重新登录。答复尚未发送，您输入的内容已保留在下面，请核对后发送。",
        )  # fmt: skip
    except NotFound:
        return None


@routes.post("/staff/reports/{tn}/{action}")
async def report_action(request: web.Request) -> web.StreamResponse:
    if request.match_info["action"] == "answer" and await sessions.current_user(request) is None:
        return await answer_kept(request)
    _, actor = await require_staff(request)
    tn = secrets.normalise_tracking_number(request.match_info["tn"])
    fn = ACTIONS.get(request.match_info["action"])
    if fn is None:
        raise web.HTTPNotFound()
    form = await request.post()
    service = request.app[service_key]
    try:
        message = await fn(service, actor, tn, form, request)
    except ValidationError as exc:
        values: dict[str, Any] = {
            k: text_value(form, k)
            for k in form
            if isinstance(form.get(k), str) and k != "csrf_token"
        }
        values["_action"] = request.match_info["action"]
        field, _ = error_target(request.match_info["action"], exc.field)
        return await _report_page(
            request, actor, tn, values=values, errors={field: exc.message}, status=400
        )
    except InvalidTransition as exc:
        return await _report_page(request, actor, tn, problem=exc.message, status=409)
    except PermissionDenied as exc:  # e.g. a report another clerk has claimed meanwhile
        return await _report_page(request, actor, tn, problem=exc.message, status=403)
    except ReviewWarning as warning:
        kept = {"_action": "answer", "answer": text_value(form, "answer")}
        return await _report_page(request, actor, tn, values=kept, answer_review=warning.review)
    except AnswerKept as again:
        kept = {"_action": "answer", "answer": again.text}
        return await _report_page(request, actor, tn, values=kept, notice=again.message)
    await flash(request, message)
    if fn is _assign:
        # Triage is a queue worked through one report after another: back to what is left.
        raise web.HTTPSeeOther("/staff/triage")
    try:
        await service.staff_view(actor, tn)
    except NotFound:
        # After a send-back the report is no longer this bureau's: back to the queue.
        raise web.HTTPSeeOther("/staff") from None
    raise web.HTTPSeeOther(f"/staff/reports/{quote(tn)}")


# -- documents ---------------------------------------------------------------------------------


@routes.get("/staff/attachments/{id}")
async def attachment(request: web.Request) -> web.StreamResponse:
    _, actor = await require_staff(request)
    att_id = limits.row_id(request.match_info["id"], "附件不存在。")
    att: Attachment = await request.app[service_key].attachment(actor, att_id)
    path = attachments.path_of(request.app[settings_key].attachments_dir, att)
    if not path.exists():
        raise NotFound("附件文件缺失，请联系系统管理员。")
    inline = att.content_type.startswith("image/") and att.content_type != "image/heic"
    disposition = "inline" if inline else "attachment"
    return web.FileResponse(
        path,
        headers={
            "Content-Type": att.content_type,
            "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(att.filename)}",
            "Cache-Control": "private, no-store",
            # A hostile file opened here can run nothing.
            "Content-Security-Policy": "default-src 'none'; img-src 'self'; sandbox",
        },
    )
