"""The chat: /start, the /report conversation, /status, /cancel, and the rating buttons.

Every rule lives in the service (feedback.service, feedback.notifications): this module asks
questions, keeps the draft in chat_data (persisted as JSON, see bots.persistence) and shows
what the service answers. Only private chats are served — a report in a group would show the
citizen's matter to everyone in it — and only new messages (edits and channel posts are
ignored).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.error import TelegramError
from telegram.ext import (
    BaseHandler,
    CallbackContext,
    CallbackQueryHandler,
    CommandHandler,
    ExtBot,
    MessageHandler,
    filters,
)

from bots import steps, texts
from feedback import attachments, notifications, validation
from feedback.errors import FeedbackError, NotFound, ValidationError
from feedback.models import Attachment, Channel, Rating, Status
from feedback.ratelimit import SUBMIT_WAIT, Claim, submit_rules
from feedback.service import FeedbackService

log = logging.getLogger(__name__)

Context = CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]
ServiceRef = Callable[[], FeedbackService]

# Conversation states: strings, so the persisted JSON reads plainly.
TEXT, PLACE, WHEN, AUTHORITY, PHOTOS, ANONYMOUS, CONTACT, CONFIRM = (
    "text", "place", "when", "authority", "photos", "anonymous", "contact", "confirm"
)  # fmt: skip
END = steps.END

PRIVATE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
TEXT_IN = PRIVATE & filters.TEXT & ~filters.COMMAND

RATING_CODES = {"s": Rating.SATISFIED, "b": Rating.BASICALLY_SATISFIED, "u": Rating.UNSATISFIED}
RATE_RE = re.compile(r"^rate:([A-Za-z0-9-]{1,40}):([sbu])$")
RATE_CONFIRM_RE = re.compile(r"^rate!:([A-Za-z0-9-]{1,40})$")
RATE_BACK_RE = re.compile(r"^rate<:([A-Za-z0-9-]{1,40})$")
PHONE_IN_TEXT = re.compile(r"(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})")


def keyboard(*rows: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )


def rating_keyboard(tracking_number: str) -> InlineKeyboardMarkup:
    code = {v.value: k for k, v in RATING_CODES.items()}
    return keyboard(
        [(label, f"rate:{tracking_number}:{code[value]}") for value, label in texts.RATING_BUTTONS]
    )


SKIP = keyboard([(texts.BTN_SKIP, "report:skip")], [(texts.BTN_CANCEL, "report:cancel")])
CANCEL_ONLY = keyboard([(texts.BTN_CANCEL, "report:cancel")])


def _too_long(value: str, limit: int, label: str) -> str | None:
    if len(value) > limit:
        return f"{label}不能超过 {limit} 个字（现在 {len(value)} 个）。"
    return None


class ReportBot:
    """The handlers, bound to the service (fetched through ``service()``, since in webhook mode
    the service exists only once the web app has started)."""

    def __init__(self, service: ServiceRef, attachments_dir: Path, *, submit_per_hour: int):
        self._service = service
        self.attachments_dir = attachments_dir
        self.submit_per_hour = submit_per_hour

    @property
    def service(self) -> FeedbackService:
        return self._service()

    def handlers(self, chat_data: steps.ChatData) -> list[BaseHandler[Update, Context, Any]]:
        """The handlers of group 0; ``chat_data`` reads a chat's data (with its step) as the
        Application holds it, refreshed from the database before each update."""
        return [
            self._conversation(chat_data),
            CommandHandler("start", self.start, filters=PRIVATE),
            CommandHandler("help", self.start, filters=PRIVATE),
            CommandHandler("status", self.status, filters=PRIVATE),
            CommandHandler("cancel", self.nothing_to_cancel, filters=PRIVATE),
            CallbackQueryHandler(self.rate, pattern=RATE_RE),
            CallbackQueryHandler(self.rate_confirmed, pattern=RATE_CONFIRM_RE),
            CallbackQueryHandler(self.rate_back, pattern=RATE_BACK_RE),
            CallbackQueryHandler(self.stale_button),
            MessageHandler(PRIVATE & (filters.TEXT | filters.COMMAND), self.offer_report),
        ]

    def _conversation(self, chat_data: steps.ChatData) -> steps.StepConversation:
        def optional(step: Callable[..., Any], skip: Callable[..., Any]) -> list[Any]:
            return [
                MessageHandler(TEXT_IN, step),
                CallbackQueryHandler(skip, pattern=r"^report:skip$"),
            ]

        photo = PRIVATE & (filters.PHOTO | filters.Document.IMAGE)
        return steps.StepConversation(
            entry_points=[
                CommandHandler("report", self.begin, filters=PRIVATE),
                CallbackQueryHandler(self.begin, pattern=r"^report:start$"),
            ],
            states={
                TEXT: [MessageHandler(TEXT_IN, self.got_text)],
                PLACE: optional(self.got_place, self.skip_place),
                WHEN: optional(self.got_when, self.skip_when),
                AUTHORITY: optional(self.got_authority, self.skip_authority),
                PHOTOS: [
                    MessageHandler(photo, self.got_photo),
                    CallbackQueryHandler(self.photos_done, pattern=r"^report:done$"),
                ],
                ANONYMOUS: [CallbackQueryHandler(self.choose, pattern=r"^report:(anon|named)$")],
                CONTACT: [MessageHandler(TEXT_IN, self.got_contact)],
                CONFIRM: [
                    CallbackQueryHandler(self.submit, pattern=r"^report:submit$"),
                    CallbackQueryHandler(self.toggle_publish, pattern=r"^report:(public|private)$"),
                ],
            },
            fallbacks=[
                CommandHandler("cancel", self.cancel, filters=PRIVATE),
                CallbackQueryHandler(self.cancel, pattern=r"^report:cancel$"),
                CommandHandler("status", self.status, filters=PRIVATE),
                CommandHandler("start", self.in_progress, filters=PRIVATE),
                MessageHandler(PRIVATE, self.in_progress),
            ],
            chat_data=chat_data,
        )

    # -- outside a conversation --------------------------------------------------------------

    async def start(self, update: Update, context: Context) -> None:
        await _reply(update, texts.START, keyboard([(texts.BTN_START, "report:start")]))

    async def offer_report(self, update: Update, context: Context) -> None:
        await _reply(update, texts.OFFER_REPORT, keyboard([(texts.BTN_START, "report:start")]))

    async def nothing_to_cancel(self, update: Update, context: Context) -> None:
        await _reply(update, texts.NOTHING_TO_CANCEL)

    async def stale_button(self, update: Update, context: Context) -> None:
        if update.callback_query:
            await update.callback_query.answer(texts.BUTTON_GONE)

    async def status(self, update: Update, context: Context) -> None:
        chat = update.effective_chat
        if chat is None:
            return
        reports = await self.service.reports_for_chat(chat.id)
        if not reports:
            await _reply(update, texts.NO_REPORTS)
            return
        config = self.service.config

        def dept(r: Any) -> str | None:
            return config.department_name(r.department) if r.department else None

        lines = [texts.STATUS_HEAD]
        for r in reports:
            lines.append(texts.status_line(r, dept(r)))
        await _reply(update, "\n".join(lines))
        for r in reports:
            if r.status is Status.ANSWERED:
                await _reply(update, texts.status_answer(r.tracking_number, dept(r), r.answer),
                             rating_keyboard(r.tracking_number))  # fmt: skip

    async def in_progress(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is not None and (message.photo or message.document):
            image = message.photo or (message.document and (message.document.mime_type or "")
                                      .startswith("image/"))  # fmt: skip
            # A file that is no image (at the photo step too) is told so, not "not yet".
            await _reply(update, texts.PHOTO_NOT_NOW if image else texts.NOT_AN_IMAGE)
            return
        await _reply(update, texts.IN_PROGRESS)

    # -- the report conversation -------------------------------------------------------------

    async def begin(self, update: Update, context: Context) -> str:
        if update.callback_query:
            await update.callback_query.answer()
        context.chat_data.clear()  # type: ignore[union-attr]
        context.chat_data["draft"] = {"photos": []}  # type: ignore[index]
        await _reply(update, texts.ASK_TEXT, CANCEL_ONLY)
        return TEXT

    def _draft(self, context: Context) -> dict[str, Any]:
        data = context.chat_data
        assert data is not None
        draft = data.get("draft")
        if not isinstance(draft, dict):
            draft = data["draft"] = {"photos": []}
        return draft

    async def got_text(self, update: Update, context: Context) -> str | None:
        text = validation.clean_text(_text(update))
        if len(text) < validation.TEXT_MIN:
            await _reply(update, f"诉求内容至少需要 {validation.TEXT_MIN} 个字，请再详细描述一下。")
            return None
        problem = _too_long(text, validation.text_max(self.service.input_limits), "诉求内容")
        if problem:
            await _reply(update, problem)
            return None
        self._draft(context)["text"] = text
        await _reply(update, texts.ASK_PLACE, SKIP)
        return PLACE

    async def _optional(
        self, update: Update, context: Context, key: str, limit: int, label: str
    ) -> bool:
        value = validation.clean_text(_text(update), multiline=False)
        problem = _too_long(value, limit, label)
        if problem:
            await _reply(update, problem)
            return False
        self._draft(context)[key] = value or None
        return True

    async def got_place(self, update: Update, context: Context) -> str | None:
        if not await self._optional(update, context, "place", validation.PLACE_MAX, "地点"):
            return None
        return await self.skip_place(update, context)

    async def skip_place(self, update: Update, context: Context) -> str:
        await _answer(update)
        await _reply(update, texts.ASK_WHEN, SKIP)
        return WHEN

    async def got_when(self, update: Update, context: Context) -> str | None:
        limit = validation.OCCURRED_MAX
        if not await self._optional(update, context, "occurred_at", limit, "发生时间"):
            return None
        return await self.skip_when(update, context)

    async def skip_when(self, update: Update, context: Context) -> str:
        await _answer(update)
        await _reply(update, texts.ASK_AUTHORITY, SKIP)
        return AUTHORITY

    async def got_authority(self, update: Update, context: Context) -> str | None:
        limit = validation.AUTHORITY_MAX
        if not await self._optional(update, context, "authority", limit, "涉及单位"):
            return None
        return await self.skip_authority(update, context)

    async def skip_authority(self, update: Update, context: Context) -> str:
        await _answer(update)
        await _reply(
            update,
            texts.ASK_PHOTOS.format(max=self.service.input_limits.max_attachments),
            keyboard([(texts.BTN_DONE, "report:done")], [(texts.BTN_CANCEL, "report:cancel")]),
        )
        return PHOTOS

    async def got_photo(self, update: Update, context: Context) -> str:
        message = update.effective_message
        assert message is not None
        draft = self._draft(context)
        photos: list[dict[str, Any]] = draft.setdefault("photos", [])
        done = keyboard([(texts.BTN_DONE, "report:done")])
        lim = self.service.input_limits
        if len(photos) >= lim.max_attachments:
            await _reply(update, texts.PHOTO_LIMIT.format(max=lim.max_attachments), done)
            return PHOTOS
        if message.photo:
            item = message.photo[-1]  # the largest size Telegram made
            file_id, unique, size, name = item.file_id, item.file_unique_id, item.file_size, ""
        else:
            doc = message.document
            assert doc is not None
            file_id, unique, size = doc.file_id, doc.file_unique_id, doc.file_size
            name = doc.file_name or ""
        if size and size > lim.max_attachment_bytes:
            why = f"照片超过 {lim.max_attachment_mb} MB。"
            await _reply(update, texts.PHOTO_FAILED.format(why=why), done)
            return PHOTOS
        try:
            tg_file = await context.bot.get_file(file_id)
            data = bytes(await tg_file.download_as_bytearray())
        except TelegramError:
            log.warning("photo download failed", exc_info=True)
            await _reply(update, texts.PHOTO_DOWNLOAD_FAILED, done)
            return PHOTOS
        upload = attachments.Upload(name or f"telegram-{unique}.jpg", data)
        try:
            [(checked, kind)] = attachments.check([upload], field="photos", limits=lim)
            stored = await asyncio.to_thread(
                attachments.store, self.attachments_dir, checked, kind, "citizen"
            )
        except ValidationError as exc:
            await _reply(update, texts.PHOTO_FAILED.format(why=exc.message), done)
            return PHOTOS
        photos.append(_attachment_json(stored))
        await _reply(update, texts.PHOTO_SAVED.format(n=len(photos)), done)
        return PHOTOS

    async def photos_done(self, update: Update, context: Context) -> str:
        await _answer(update)
        await _reply(
            update,
            texts.ASK_ANONYMOUS,
            keyboard(
                [(texts.BTN_ANONYMOUS, "report:anon"), (texts.BTN_NAMED, "report:named")],
                [(texts.BTN_CANCEL, "report:cancel")],
            ),
        )
        return ANONYMOUS

    async def choose(self, update: Update, context: Context) -> str:
        query = update.callback_query
        assert query is not None
        await query.answer()
        draft = self._draft(context)
        if query.data == "report:named":
            draft["anonymous"] = False
            await _reply(update, texts.ASK_CONTACT, CANCEL_ONLY)
            return CONTACT
        draft["anonymous"] = True
        draft.pop("name", None)
        draft.pop("phone", None)
        return await self._confirm(update, draft)

    async def got_contact(self, update: Update, context: Context) -> str | None:
        text = validation.clean_text(_text(update), multiline=False)
        found = PHONE_IN_TEXT.search(text)
        if not found:
            await _reply(update, texts.BAD_CONTACT)
            return None
        name = (text[: found.start()] + text[found.end() :]).strip(" ，,：:")
        problem = _too_long(name, validation.NAME_MAX, "姓名")
        if problem:
            await _reply(update, problem)
            return None
        draft = self._draft(context)
        draft["name"], draft["phone"] = name or None, found.group(1)
        return await self._confirm(update, draft)

    async def _confirm(self, update: Update, draft: dict[str, Any]) -> str:
        await _reply(update, texts.confirm(draft), _confirm_keyboard(draft))
        return CONFIRM

    async def toggle_publish(self, update: Update, context: Context) -> str:
        """不公开 / 同意公开 on the confirmation: the choice the web form offers (issue 18: 3),
        shown in the same message."""
        query = update.callback_query
        assert query is not None
        await query.answer()
        draft = self._draft(context)
        draft["publish"] = query.data == "report:public"
        await _edit_quietly(query, texts.confirm(draft), _confirm_keyboard(draft))
        return CONFIRM

    async def submit(self, update: Update, context: Context) -> str | int | None:
        query = update.callback_query
        chat = update.effective_chat
        assert query is not None and chat is not None
        await query.answer()
        draft = self._draft(context)
        data = {
            "text": draft.get("text"),
            "place": draft.get("place"),
            "occurred_at": draft.get("occurred_at"),
            "authority": draft.get("authority"),
            "anonymous": bool(draft.get("anonymous", True)),
            "publish": bool(draft.get("publish", True)),
            "contact": {"name": draft.get("name"), "phone": draft.get("phone")},
            "telegram_chat_id": chat.id,
        }
        files = [_attachment_from_json(p) for p in draft.get("photos") or []]
        # Classifying and routing take a few seconds: say so, or the tap seems to do nothing.
        await _edit_quietly(query, texts.confirm(draft).rsplit("\n\n", 1)[0] + "\n\n"
                            + texts.SUBMITTING)  # fmt: skip
        try:
            # A chat is held to the hourly limit a web address is held to (one account could
            # otherwise file without end); the slot is taken with the report, in its commit.
            claim = Claim(submit_rules(f"telegram:{chat.id}", self.submit_per_hour),
                          self.service.clock())  # fmt: skip
            await self.service.limits.check(claim.hits, claim.now, SUBMIT_WAIT)
            result = await self.service.submit(
                data, channel=Channel.TELEGRAM, attachments=files, rate=claim
            )
        except FeedbackError as exc:
            # The draft stays: the citizen can cancel, or start again with /report.
            await _reply(update, f"{exc.message}\n请发送 /report 重新填写，或 /cancel 取消。")
            return None
        await _edit_quietly(query, texts.confirm(draft).rsplit("\n\n", 1)[0] + "\n\n✅ 已提交")
        context.chat_data.clear()  # type: ignore[union-attr]
        await _reply(
            update,
            texts.SUBMITTED.format(
                tn=result.tracking_number,
                code=result.follow_up_code,
                status=result.status.label,
            ),
        )
        return END

    async def cancel(self, update: Update, context: Context) -> int:
        await _answer(update)
        context.chat_data.clear()  # type: ignore[union-attr]
        await _reply(update, texts.CANCELLED)
        return END

    # -- rating ------------------------------------------------------------------------------

    async def rate(self, update: Update, context: Context) -> None:
        query, chat = update.callback_query, update.effective_chat
        if query is None or chat is None or context.match is None:
            return
        tn, code = context.match.group(1), context.match.group(2)
        rating = RATING_CODES[code]
        if rating is Rating.UNSATISFIED:
            # Unsatisfied reopens the report (or closes it for good the second time): ask first.
            report = await notifications.report_of_chat(self.service, chat.id, tn)
            if report is None:
                await query.answer(texts.NOT_FOUND, show_alert=True)
                return
            await query.answer()
            why = (
                texts.RATE_UNSATISFIED_CONFIRM.format(tn=report.tracking_number)
                if report.reopen_count == 0
                else texts.RATE_UNSATISFIED_FINAL
            )
            # Asked in a message of its own: the bureau's answer above stays as it was.
            await _reply(
                update,
                why,
                keyboard(
                    [
                        (texts.BTN_CONFIRM_UNSATISFIED, f"rate!:{report.tracking_number}"),
                        (texts.BTN_BACK, f"rate<:{report.tracking_number}"),
                    ]
                ),
            )
            return
        await self._do_rate(query, chat.id, tn, rating)

    async def rate_confirmed(self, update: Update, context: Context) -> None:
        query, chat = update.callback_query, update.effective_chat
        if query is None or chat is None or context.match is None:
            return
        await self._do_rate(query, chat.id, context.match.group(1), Rating.UNSATISFIED)

    async def rate_back(self, update: Update, context: Context) -> None:
        query, chat = update.callback_query, update.effective_chat
        if query is None or chat is None or context.match is None:
            return
        report = await notifications.report_of_chat(self.service, chat.id, context.match.group(1))
        if report is None:
            await query.answer(texts.NOT_FOUND, show_alert=True)
            return
        await query.answer()
        # Only the confirmation message changes; the answer and its buttons are above it.
        await _edit_quietly(query, texts.RATE_BACK.format(tn=report.tracking_number),
                            rating_keyboard(report.tracking_number))  # fmt: skip

    async def _do_rate(self, query: CallbackQuery, chat_id: int, tn: str, rating: Rating) -> None:
        try:
            view = await notifications.rate_from_chat(self.service, chat_id, tn, rating.value)
        except NotFound:
            await query.answer(texts.NOT_FOUND, show_alert=True)
            return
        except FeedbackError as exc:  # already rated, window closed, …
            await query.answer(exc.message, show_alert=True)
            return
        await query.answer(texts.RATE_RECEIVED.format(label=rating.label))
        # The message with the buttons keeps its text (it may be the bureau's answer): only
        # the buttons go, and the rating is confirmed in a new message.
        await _drop_buttons(query)
        await _send(
            query,
            chat_id,
            texts.RATED.format(
                tn=view.report.tracking_number, label=rating.label, status=view.status_label
            ),
        )


# -- small helpers ---------------------------------------------------------------------------


def _confirm_keyboard(draft: dict[str, Any]) -> InlineKeyboardMarkup:
    public = bool(draft.get("publish", True))
    toggle = (
        (texts.BTN_PRIVATE, "report:private") if public else (texts.BTN_PUBLIC, "report:public")
    )
    return keyboard(
        [(texts.BTN_SUBMIT, "report:submit")], [toggle], [(texts.BTN_CANCEL, "report:cancel")]
    )


def _text(update: Update) -> str:
    message = update.effective_message
    return (message.text or "") if message else ""


async def _answer(update: Update) -> None:
    if update.callback_query:
        await update.callback_query.answer()


async def _reply(
    update: Update, text: str, markup: InlineKeyboardMarkup | None = None
) -> Message | None:
    chat = update.effective_chat
    if chat is None:
        return None
    return await chat.send_message(text, reply_markup=markup)


async def _edit_quietly(
    query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Edit the message the button sat on; an old or deleted message is not worth an error."""
    try:
        await query.edit_message_text(text, reply_markup=markup)
    except TelegramError:
        log.debug("could not edit message of callback %s", query.id, exc_info=True)


async def _drop_buttons(query: CallbackQuery) -> None:
    try:
        await query.edit_message_reply_markup(reply_markup=None)
    except TelegramError:
        log.debug("could not drop the buttons of callback %s", query.id, exc_info=True)


async def _send(query: CallbackQuery, chat_id: int, text: str) -> None:
    await query.get_bot().send_message(chat_id, text)


def _attachment_json(a: Attachment) -> dict[str, Any]:
    out = asdict(a)
    out["created_at"] = a.created_at.isoformat() if a.created_at else None
    return out


def _attachment_from_json(d: dict[str, Any]) -> Attachment:
    created = d.get("created_at")
    return Attachment(
        id=None,
        filename=str(d["filename"]),
        content_type=str(d["content_type"]),
        size=int(d["size"]),
        sha256=str(d["sha256"]),
        storage_key=str(d["storage_key"]),
        uploaded_by="citizen",
        created_at=datetime.fromisoformat(created) if created else None,
    )
