"""Checking what citizens and staff send. Errors carry a Chinese message and the field."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from classifiers import ood
from feedback.errors import ValidationError
from feedback.models import Channel, Kind
from feedback.settings import InputLimits

TITLE_MAX = 100
TEXT_MIN = 10  # the longest text is a setting (max_text_chars, feedback.settings.InputLimits)
PLACE_MAX = 200
AUTHORITY_MAX = 100
NAME_MAX = 50
OCCURRED_MAX = 50
REASON_MIN = 5
REASON_MAX = 2000
ANSWER_MIN = 10
ANSWER_MAX = 10000
COMMENT_MAX = 1000

AUTO_TITLE = 30
PHONE_RE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")
# Control characters other than newline and tab are never meant; they are dropped.
_CONTROL = {c for c in range(32) if c not in (9, 10)} | {127}


def clean_text(value: Any, *, multiline: bool = True, field: str | None = None) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError("内容格式不正确，应为文字。", field=field)
    text = unicodedata.normalize("NFC", value).replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(ch for ch in text if ord(ch) not in _CONTROL)
    # Lone surrogates cannot be stored as UTF-8.
    text = text.encode("utf-8", "replace").decode("utf-8")
    if not multiline:
        text = " ".join(text.split())
    return text.strip()


def text_max(limits: InputLimits) -> int:
    """The longest report text (0 in the setting: no limit of ours)."""
    return limits.max_text_chars if limits.max_text_chars > 0 else 10**9


def _length(value: str, field_name: str, label: str, lo: int, hi: int) -> None:
    if len(value) < lo:
        if lo <= 1:
            raise ValidationError(f"请填写{label}。", field=field_name)
        raise ValidationError(f"{label}至少需要 {lo} 个字。", field=field_name)
    if len(value) > hi:
        raise ValidationError(
            f"{label}不能超过 {hi} 个字（现在 {len(value)} 个）。", field=field_name
        )


@dataclass
class SubmitInput:
    title: str
    text: str
    channel: Channel = Channel.WEB
    kind: Kind = Kind.COMPLAINT
    place: str | None = None
    occurred_at: str | None = None
    authority: str | None = None
    anonymous: bool = True
    contact_name: str | None = None
    contact_phone: str | None = None
    telegram_chat_id: int | None = None
    attachments: list[Any] = field(default_factory=list)


def submit_input(
    data: dict[str, Any], channel: Channel = Channel.WEB, limits: InputLimits | None = None
) -> SubmitInput:
    """Validate a submission given as a mapping (JSON body, form, bot conversation)."""
    limits = limits or InputLimits.of()
    if not isinstance(data, dict):
        raise ValidationError("请求内容必须是一个 JSON 对象。")
    title = clean_text(data.get("title"), multiline=False, field="title")
    text = clean_text(data.get("text"), field="text")
    _length(text, "text", "诉求内容", TEXT_MIN, text_max(limits))
    if ood.assess(title, text).refuse:  # digits, emoji, a bare link: not a report at all
        raise ValidationError(ood.REFUSE_MESSAGE, field="text")
    if not title:
        # A short title from the text: people on phones often skip it.
        first = text.split("\n", 1)[0]
        title = first if len(first) <= AUTO_TITLE else first[: AUTO_TITLE - 1] + "…"
    _length(title, "title", "标题", 1, TITLE_MAX)
    place = clean_text(data.get("place"), multiline=False, field="place") or None
    if place:
        _length(place, "place", "地点", 1, PLACE_MAX)
    occurred = clean_text(data.get("occurred_at"), multiline=False, field="occurred_at") or None
    if occurred:
        _length(occurred, "occurred_at", "发生时间", 1, OCCURRED_MAX)
    authority = clean_text(data.get("authority"), multiline=False, field="authority") or None
    if authority:
        _length(authority, "authority", "涉及单位", 1, AUTHORITY_MAX)
    kind_raw = data.get("kind") or "complaint"
    try:
        kind = Kind(kind_raw)
    except ValueError:
        raise ValidationError("诉求类型只能是投诉或咨询。", field="kind") from None
    anonymous_raw = data.get("anonymous", True)
    if not isinstance(anonymous_raw, bool):
        if anonymous_raw in ("1", "true", "on", "yes"):
            anonymous_raw = True
        elif anonymous_raw in ("0", "false", "off", "no", ""):
            anonymous_raw = False
        else:
            raise ValidationError("是否匿名的取值不正确。", field="anonymous")
    contact = data.get("contact") or {}
    if not isinstance(contact, dict):
        raise ValidationError("联系方式格式不正确。", field="contact")
    name = clean_text(contact.get("name"), multiline=False, field="contact.name") or None
    phone = clean_text(contact.get("phone"), multiline=False, field="contact.phone") or None
    if name:
        _length(name, "contact.name", "姓名", 1, NAME_MAX)
    if phone:
        phone = phone.replace(" ", "").replace("－", "-")
        if not PHONE_RE.match(phone):
            raise ValidationError(
                "手机号码应为 11 位数字，座机请带区号，如 0533-1234567。", field="contact.phone"
            )
    if anonymous_raw:
        name = phone = None
    elif not (name or phone or data.get("telegram_chat_id")):
        raise ValidationError("实名反映请至少留下姓名或电话；不愿留下请选择匿名。", field="contact")
    chat = data.get("telegram_chat_id")
    if chat is not None and not isinstance(chat, int):
        raise ValidationError("chat id must be an integer", field="telegram_chat_id")
    return SubmitInput(
        title=title,
        text=text,
        channel=channel,
        kind=kind,
        place=place,
        occurred_at=occurred,
        authority=authority,
        anonymous=bool(anonymous_raw),
        contact_name=name,
        contact_phone=phone,
        telegram_chat_id=chat,
    )


def reason(value: Any, field_name: str = "reason", label: str = "理由") -> str:
    text = clean_text(value)
    _length(text, field_name, label, REASON_MIN, REASON_MAX)
    return text


def answer_text(value: Any) -> str:
    text = clean_text(value)
    _length(text, "answer", "答复内容", ANSWER_MIN, ANSWER_MAX)
    return text


def comment(value: Any) -> str | None:
    text = clean_text(value)
    if len(text) > COMMENT_MAX:
        raise ValidationError(f"评价说明不能超过 {COMMENT_MAX} 个字。", field="comment")
    return text or None
