"""Checking what citizens and staff send. Errors carry a Chinese message and the field."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Any, ClassVar, NoReturn

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import PydanticCustomError

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
MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
EMAIL_RE = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\".]+$")
EMAIL_MAX = 254
# Control characters other than newline and tab are never meant; they are dropped. So are the
# bidirectional embeddings, overrides and isolates: in Chinese text they only turn what staff
# read around (a name ending in U+202E showed the phone after it as 00083100831).
_CONTROL = (
    {c for c in range(32) if c not in (9, 10)} | {127} | set(range(0x202A, 0x202F))
    | set(range(0x2066, 0x206A))
)  # fmt: skip


# What phones and input methods put around a number: autofill's "+86 138 0013 8000", a business
# card's "138-0013-8000", a full-width IME's "１３８－００１３", "(0533)1234567". NFKC makes the
# full-width forms ASCII; the separators go, the country code too (a landline gets its 0 back).
_PHONE_SEPARATORS = str.maketrans("", "", " ()-.")
_COUNTRY_CODE = re.compile(r"^(?:\+|00)?86(?=\d{10,11}$)")


def phone_number(value: str) -> str:
    """A phone number as a person or a phone writes it, in the form PHONE_RE checks (what is
    not a number comes back for PHONE_RE to refuse)."""
    typed = unicodedata.normalize("NFKC", value).replace(" ", "").replace("\u2013", "-")
    digits = typed.translate(_PHONE_SEPARATORS)
    national = _COUNTRY_CODE.sub("", digits)
    if national != digits and not national.startswith("1"):
        national = "0" + national  # +86 533 1234567 is dialled 0533 1234567 at home
    if MOBILE_RE.match(national):
        return national
    # 0533-1234567 is kept as typed; (0533)1234567 and +86 533 1234567 become their digits.
    return typed if PHONE_RE.match(typed) else national


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


NOTE_MAX = 300  # one gateway note for staff (a link may be far longer: cut, the rest is noise)
NOTES_RULE = "\n\n——\n"


def with_notes(text: str, notes: Sequence[str], limits: InputLimits) -> str:
    """The citizen's checked ``text`` with a gateway's notes for staff under it (Open311's
    channel, the links it downloaded or not), kept within ``max_text_chars`` like any text:
    each note cut to ``NOTE_MAX``, and the notes that no longer fit told in one line."""
    room = text_max(limits) - len(text) - len(NOTES_RULE)
    kept: list[str] = []
    for i, note in enumerate(notes):
        line = note if len(note) <= NOTE_MAX else note[: NOTE_MAX - 1] + "…"
        left = len(notes) - i
        summary = f"（另有 {left} 条说明超出字数上限，从略）"
        reserve = len(summary) + 1 if left > 1 else 0  # room to say what a later note lost
        if len(line) + 1 + reserve > room:
            if len(summary) + 1 <= room:
                kept.append(summary)
            break
        kept.append(line)
        room -= len(line) + 1
    return text + NOTES_RULE + "\n".join(kept) if kept else text


def _length(value: str, field_name: str, label: str, lo: int, hi: int) -> None:
    if len(value) < lo:
        if lo <= 1:
            raise ValidationError(f"请填写{label}。", field=field_name)
        raise ValidationError(f"{label}至少需要 {lo} 个字。", field=field_name)
    if len(value) > hi:
        raise ValidationError(
            f"{label}不能超过 {hi} 个字（现在 {len(value)} 个）。", field=field_name
        )


class ContactInput(BaseModel):
    """A reporter's contact (实名反映): a name, a phone, or both."""

    model_config = ConfigDict(extra="ignore")

    name: str | None = Field(None, json_schema_extra={"maxLength": NAME_MAX})
    phone: str | None = Field(
        None,
        description="11-digit mobile number or a landline with its area code",
    )

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, value: Any) -> str | None:
        name = _line(value, "contact.name") or None
        if name:
            _checked_length(name, "姓名", 1, NAME_MAX)
        return name

    @field_validator("phone", mode="before")
    @classmethod
    def _phone(cls, value: Any) -> str | None:
        phone = _line(value, "contact.phone") or None
        if phone:
            phone = phone_number(phone)
            if not PHONE_RE.match(phone):
                _fail("手机号码应为 11 位数字，座机请带区号，如 0533-1234567。")
        return phone


class NoticeInput(BaseModel):
    """Notices a web or API reporter asks for (never for an anonymous report): an e-mail
    address, a mobile number for SMS, and whether the receipt should carry the follow-up code
    (else it has only the tracking number)."""

    model_config = ConfigDict(extra="ignore")

    email: str | None = Field(None, description="e-mail address for notices",
                              json_schema_extra={"maxLength": EMAIL_MAX})  # fmt: skip
    sms: str | None = Field(None, description="11-digit mobile number for SMS notices")
    send_code: bool = Field(False, description="send the follow-up code with the receipt")

    @field_validator("email", mode="before")
    @classmethod
    def _email(cls, value: Any) -> str | None:
        email = _line(value, "notify.email") or None
        if email and (len(email) > EMAIL_MAX or not EMAIL_RE.match(email)):
            _fail("电子邮箱格式不正确，如 zhangsan@example.com。")
        return email

    @field_validator("sms", mode="before")
    @classmethod
    def _sms(cls, value: Any) -> str | None:
        mobile = phone_number(_line(value, "notify.sms")) or None
        if mobile and not MOBILE_RE.match(mobile):
            _fail("接收短信的手机号码应为 11 位数字。")
        return mobile

    @field_validator("send_code", mode="before")
    @classmethod
    def _send_code(cls, value: Any) -> bool:
        return False if value is None else _anonymous(value)

    @property
    def channels(self) -> dict[str, str]:
        """channel → address, for the channels asked for."""
        return {k: v for k, v in (("email", self.email), ("sms", self.sms)) if v}


class SubmitInput(BaseModel):
    """One report as every channel hands it in (web form, JSON API, bot, Open311), checked
    once with every error collected (`submit_errors`). Chinese messages, per field."""

    model_config = ConfigDict(extra="ignore", validate_default=True)

    # Declared in the order the checks need: the text's check reads the title (out of domain).
    title: str = Field("", description="标题; from the text when empty",
                       json_schema_extra={"maxLength": TITLE_MAX})  # fmt: skip
    text: str = Field(
        ...,
        description="诉求内容",
        json_schema_extra={"minLength": TEXT_MIN, "maxLength": InputLimits.of().max_text_chars},
    )
    kind: Kind = Kind.COMPLAINT
    place: str | None = Field(None, json_schema_extra={"maxLength": PLACE_MAX})
    occurred_at: str | None = Field(None, json_schema_extra={"maxLength": OCCURRED_MAX})
    authority: str | None = Field(None, description="涉及的执法单位或人员",
                                  json_schema_extra={"maxLength": AUTHORITY_MAX})  # fmt: skip
    anonymous: bool = True
    publish: bool = Field(True, description="可以匿名化后在执法监督公示页公开")
    contact: ContactInput = Field(default_factory=lambda: ContactInput(name=None, phone=None))
    notify: NoticeInput | None = Field(
        None, description="notices by e-mail or SMS (a named report only)"
    )
    # Set by the channel, never by the citizen's body.
    telegram_chat_id: SkipJsonSchema[int | None] = None
    channel: SkipJsonSchema[Channel] = Channel.WEB

    # A channel's own rule on the text's length (Open311's description): see Open311Input.
    text_cap: ClassVar[int | None] = None
    text_label: ClassVar[str] = "诉求内容"

    @field_validator("title", mode="before")
    @classmethod
    def _title(cls, value: Any) -> str:
        title = _line(value, "title")
        if title:
            _checked_length(title, "标题", 1, TITLE_MAX)
        return title

    @field_validator("text", mode="before")
    @classmethod
    def _text(cls, value: Any, info: ValidationInfo) -> str:
        if value is not None and not isinstance(value, str):
            _fail("内容格式不正确，应为文字。")
        text = clean_text(value)
        limits = (info.context or {}).get("limits") or InputLimits.of()
        hi = text_max(limits) if cls.text_cap is None else min(cls.text_cap, text_max(limits))
        _checked_length(text, cls.text_label, TEXT_MIN, hi)
        if ood.assess(info.data.get("title", ""), text).refuse:  # digits, emoji, a bare link
            _fail(ood.REFUSE_MESSAGE)
        return text

    @field_validator("place", "occurred_at", "authority", mode="before")
    @classmethod
    def _optional(cls, value: Any, info: ValidationInfo) -> str | None:
        label, hi = _OPTIONAL[info.field_name or ""]
        text = _line(value, info.field_name or "") or None
        if text:
            _checked_length(text, label, 1, hi)
        return text

    @field_validator("kind", mode="before")
    @classmethod
    def _kind(cls, value: Any) -> Kind:
        try:
            return Kind(value or "complaint")
        except (ValueError, TypeError):
            _fail("诉求类型只能是投诉或咨询。")

    @field_validator("anonymous", mode="before")
    @classmethod
    def _anonymous(cls, value: Any) -> bool:
        return _anonymous(value)

    @field_validator("publish", mode="before")
    @classmethod
    def _publish(cls, value: Any) -> bool:
        if value in (None, "", True, 1, "1", "true", "yes"):
            return True
        if value in (False, 0, "0", "false", "no"):
            return False
        _fail("是否公开的取值不正确。")

    @field_validator("contact", mode="before")
    @classmethod
    def _contact(cls, value: Any) -> Any:
        if value is None:
            return {}
        if not isinstance(value, dict | ContactInput):
            _fail("联系方式格式不正确。")
        return value

    @field_validator("notify", mode="before")
    @classmethod
    def _notify(cls, value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, dict | NoticeInput):
            _fail("通知方式格式不正确。")
        return value

    @field_validator("telegram_chat_id", mode="before")
    @classmethod
    def _chat(cls, value: Any) -> int | None:
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            _fail("chat id must be an integer")
        return value

    @model_validator(mode="after")
    def _whole(self) -> SubmitInput:
        if not self.title:
            self.title = auto_title(self.text)  # people on phones often skip it
        if self.anonymous and self.notify and self.notify.channels:
            # An anonymous report never gets a way back to the reporter.
            _fail("匿名反映不能接收短信或邮件通知；需要通知请选择实名反映。", "notify")
        if self.anonymous:
            self.contact = ContactInput(name=None, phone=None)
            self.notify = None
        elif problem := _contact_problem(self.contact, self.telegram_chat_id):
            _fail(problem, "contact")
        return self

    @property
    def contact_name(self) -> str | None:
        return self.contact.name

    @property
    def contact_phone(self) -> str | None:
        return self.contact.phone


class ApiSubmitInput(SubmitInput):
    """The JSON API's variant: a JSON client says ``anonymous`` as true or false (the document
    says so); forms send strings, which SubmitInput reads."""

    @field_validator("anonymous", mode="before")
    @classmethod
    def _anonymous(cls, value: Any) -> bool:
        if not isinstance(value, bool):
            _fail("anonymous 应为 true 或 false。")
        return value


class Open311Input(SubmitInput):
    """Open311's variant: its ``description`` (our text) is at most 4,000 characters, so the
    gateway's notes fit beside it under ``max_text_chars``."""

    text_cap: ClassVar[int | None] = 4000
    text_label: ClassVar[str] = "description（诉求内容）"


_OPTIONAL = {
    "place": ("地点", PLACE_MAX),
    "occurred_at": ("发生时间", OCCURRED_MAX),
    "authority": ("涉及单位", AUTHORITY_MAX),
}


# Lines that say nothing of the matter: a greeting, or a row of short cells pasted from a
# spreadsheet ("日期  地点  情况").
_GREETING = re.compile(
    r"^(尊敬的[^。！？]{0,15}|[^。！？]{0,8}(领导|同志|书记|局长|主任|老师|您|你们)好)[：:，,！!。]?$"
)
_SENTENCE_END = re.compile(r"[。！？!?；;]")


def _says_something(line: str) -> bool:
    if len(line) < 6 or _GREETING.match(line):
        return False
    cells = line.split()
    return not (len(cells) >= 2 and all(len(c) <= 6 for c in cells)
                and not _SENTENCE_END.search(line))  # fmt: skip


def auto_title(text: str) -> str:
    """A title for a report that has none: its first line that says something (not a greeting,
    not a spreadsheet's header row), cut at its first sentence's end, at most AUTO_TITLE."""
    lines = [" ".join(line.split()) for line in text.split("\n")]
    line = next((x for x in lines if _says_something(x)), next((x for x in lines if x), ""))
    end = _SENTENCE_END.search(line)
    if end and end.start() >= 6:
        line = line[: end.start()]
    return line if len(line) <= AUTO_TITLE else line[: AUTO_TITLE - 1] + "…"


def _fail(message: str, field: str | None = None) -> NoReturn:
    """A check's Chinese message; ``field`` names it for a whole-report check."""
    raise PydanticCustomError("feedback", message, {"field": field} if field else None)


def _line(value: Any, field_name: str) -> str:
    if value is not None and not isinstance(value, str):
        _fail("内容格式不正确，应为文字。")
    return clean_text(value, multiline=False, field=field_name)


def _checked_length(value: str, label: str, lo: int, hi: int, field: str | None = None) -> None:
    try:
        _length(value, "", label, lo, hi)
    except ValidationError as exc:
        _fail(exc.message, field)


def _anonymous(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("1", "true", "on", "yes"):
        return True
    if value in ("0", "false", "off", "no", ""):
        return False
    _fail("是否匿名的取值不正确。")


def _contact_problem(contact: ContactInput, chat: Any) -> str | None:
    """实名 needs a way back to the reporter: a name, a phone or the chat it came from."""
    if contact.name or contact.phone or chat:
        return None
    return "实名反映请至少留下姓名或电话；不愿留下请选择匿名。"


def _field_name(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc) or "body"


def submit_errors(
    data: Any,
    channel: Channel = Channel.WEB,
    limits: InputLimits | None = None,
    model: type[SubmitInput] = SubmitInput,
) -> tuple[SubmitInput | None, dict[str, str]]:
    """Check a submission once: (the input, {}) or (None, every field's error)."""
    if not isinstance(data, dict):
        return None, {"body": "请求内容必须是一个 JSON 对象。"}
    try:
        inp = model.model_validate(
            {**data, "channel": channel}, context={"limits": limits or InputLimits.of()}
        )
    except PydanticValidationError as exc:
        errors: dict[str, str] = {}
        for e in exc.errors():
            name = (e.get("ctx") or {}).get("field") or _field_name(e["loc"])
            errors.setdefault(name, _message(e))
        # The whole-report rule (实名 needs a contact) is told beside the field errors too.
        if not {"anonymous", "contact", "contact.name", "contact.phone"} & set(errors):
            try:
                contact = ContactInput.model_validate(data.get("contact") or {})
                anonymous = _anonymous(data.get("anonymous", True))
            except (PydanticValidationError, PydanticCustomError):
                anonymous = True
            if not anonymous and (
                problem := _contact_problem(contact, data.get("telegram_chat_id"))
            ):
                errors.setdefault("contact", problem)
        return None, errors
    return inp, {}


def _message(error: Any) -> str:
    if error["type"] == "feedback":
        return str(error["msg"])
    if error["type"] == "missing":
        return "诉求内容至少需要 10 个字。" if error["loc"] == ("text",) else "请填写此项。"
    return "内容格式不正确。"


def submit_input(
    data: Any,
    channel: Channel = Channel.WEB,
    limits: InputLimits | None = None,
    model: type[SubmitInput] = SubmitInput,
) -> SubmitInput:
    """Validate a submission (JSON body, form, bot conversation, Open311); ValidationError
    with the first field's message and every field's in ``errors``."""
    inp, errors = submit_errors(data, channel, limits, model)
    if inp is None:
        field, message = next(iter(errors.items()))
        raise ValidationError(message, field=None if field == "body" else field, errors=errors)
    return inp


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
