"""What the bot says, in one place: the conversation's prompts and the notices per action."""

from __future__ import annotations

from typing import Any

from feedback import workflow
from feedback.models import Report

START = (
    "您好！这里是淄川区行政执法社会监督平台（区司法局）。\n\n"
    "如果您遇到执法不公示、程序不规范、乱罚款、暴力执法、推诿不作为等问题，"
    "可以在这里反映。您可以匿名反映；提交后会得到受理编号和查询码，"
    "办理进展会在这里通知您，答复后可以直接评价。\n\n"
    "/report 开始反映问题\n"
    "/status 查看我反映过的问题\n"
    "/cancel 随时取消当前操作"
)

ASK_TEXT = "请描述发生了什么：时间、地点、涉及的执法人员或单位、经过。（至少 10 个字）"
ASK_PLACE = "在哪里发生的？（如：般阳路与人民路路口）"
ASK_WHEN = "什么时候发生的？（如：3月9日下午）"
ASK_AUTHORITY = "涉及哪个单位或部门？不清楚可以跳过。"
ASK_PHOTOS = "如有照片，请现在发送（最多 {max} 张）。发送完毕或没有照片，请点“完成”。"
ASK_ANONYMOUS = "您希望匿名反映，还是留下姓名和电话？匿名也会收到办理进展通知。"
ASK_CONTACT = "请发送您的姓名和手机号码，用空格隔开，如：张三 13812345678"
BAD_CONTACT = "没有识别出手机号码。请按“姓名 手机号码”的格式发送，如：张三 13812345678"
NEED_TEXT = "请用文字回答，或点下方的按钮。"
PHOTO_SAVED = "已收到第 {n} 张照片。可以继续发送，或点“完成”。"
PHOTO_LIMIT = "最多 {max} 张照片，这张没有保存。请点“完成”继续。"
PHOTO_FAILED = "照片没有保存成功：{why}"
PHOTO_DOWNLOAD_FAILED = "照片下载失败，请稍后重新发送。"
CONFIRM = "请核对您要反映的内容：\n\n{summary}\n\n{publish_note}\n\n确认无误请点“确认提交”。"
# What the citizen is told about publication before submitting (as the web form says it).
PUBLISH_NOTE = (
    "答复后，区司法局会在“执法监督公示”页面公开诉求内容和答复（去掉姓名、电话、楼号门牌号等"
    "个人信息；联系方式和照片不公开）。不想公开请点“不公开”，不影响受理和办理。"
)
PRIVATE_NOTE = "您选择了不公开：内容和答复不会出现在公示页面。要改为公开请点“同意公开”。"
SUBMITTED = (
    "提交成功，您的诉求已受理。\n\n"
    "受理编号：{tn}\n"
    "查询码：{code}\n\n"
    "请妥善保存查询码，它只显示这一次；凭受理编号和查询码可以在网站上查询进展。"
    "办理进展也会在这里通知您。\n当前状态：{status}"
)
CANCELLED = "已取消，没有提交任何内容。需要时发送 /report 重新开始。"
NOTHING_TO_CANCEL = "当前没有进行中的操作。发送 /report 开始反映问题。"
OFFER_REPORT = "您是想反映问题吗？点下方按钮开始，或发送 /start 查看说明。"
IN_PROGRESS = "您正在填写诉求。请按提示继续，或发送 /cancel 取消。"
NO_REPORTS = "这个对话中还没有反映过问题。发送 /report 开始。"
STATUS_HEAD = "您反映过的问题："
ERROR = "出错了，请稍后再试。"
BUTTON_GONE = "该按钮已失效。"
NOT_FOUND = "未找到该诉求。"
RATE_RECEIVED = "已收到您的评价：{label}"
RATED = "{tn} 已收到您的评价：{label}\n当前状态：{status}"
RATE_BACK = "{tn} 请在下方重新选择您的评价："
NOT_AN_IMAGE = "只能接收照片（图片文件），这个文件没有保存。"
SUBMITTING = "正在提交，请稍候…"
PHOTO_NOT_NOW = (
    "现在还不能接收照片。请先回答上面的问题，到“如有照片”这一步时再发送；或发送 /cancel 取消。"
)
RATE_UNSATISFIED_CONFIRM = (
    "您选择了“不满意”。确认后，诉求 {tn} 将退回承办单位重新办理，区司法局跟踪督促。"
)
RATE_UNSATISFIED_FINAL = (
    "您选择了“不满意”。该诉求已重新办理过一次，确认后将办结并留存您的意见；"
    "办结后 30 日内可以在网站上申请复查。"
)

BTN_SKIP = "跳过"
BTN_DONE = "完成"
BTN_ANONYMOUS = "匿名反映"
BTN_NAMED = "留下姓名和电话"
BTN_SUBMIT = "确认提交"
BTN_PRIVATE = "不公开"
BTN_PUBLIC = "同意公开"
BTN_CANCEL = "取消"
BTN_START = "开始反映问题"
BTN_CONFIRM_UNSATISFIED = "确认不满意"
BTN_BACK = "返回"

RATING_BUTTONS = (("satisfied", "满意"), ("basically_satisfied", "基本满意"),
                  ("unsatisfied", "不满意"))  # fmt: skip


def summary(draft: dict[str, Any]) -> str:
    lines = [f"经过：{draft.get('text', '')}"]
    for key, label in (("place", "地点"), ("occurred_at", "时间"), ("authority", "涉及单位")):
        if draft.get(key):
            lines.append(f"{label}：{draft[key]}")
    photos = len(draft.get("photos") or [])
    if photos:
        lines.append(f"照片：{photos} 张")
    if draft.get("anonymous", True):
        lines.append("方式：匿名")
    else:
        lines.append(f"方式：实名（{draft.get('name') or ''} {draft.get('phone') or ''}）".strip())
    lines.append("公开：同意去掉个人信息后公开" if draft.get("publish", True) else "公开：不公开")
    return "\n".join(lines)


def confirm(draft: dict[str, Any]) -> str:
    """The confirmation message: the summary and what publication means for this draft."""
    note = PUBLISH_NOTE if draft.get("publish", True) else PRIVATE_NOTE
    return CONFIRM.format(summary=summary(draft), publish_note=note)


def status_line(report: Report, department: str | None) -> str:
    where = f"（{department}）" if department else ""
    return f"{report.tracking_number} {report.title}\n  {report.status.label}{where}"


def status_answer(tn: str, department: str | None, answer: str | None) -> str:
    """/status for an answered report: the latest answer again, above the rating buttons."""
    by = f"（{department}）" if department else ""
    return f"{tn} 已答复{by}：\n\n{answer or ''}\n\n请对办理结果进行评价："


def notice(kind: str, payload: dict[str, Any]) -> str | None:
    """The chat message for an outbox row: the policy table's wording (feedback.workflow)."""
    return workflow.public_notice(kind, payload)
