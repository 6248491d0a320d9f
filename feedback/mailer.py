"""E-mail notices through SMTP (aiosmtplib): the outbox's e-mail sender.

Each notice is one message in Chinese, plain text and HTML (multipart/alternative), worded by
the policy table (feedback.workflow: the receipt, then the same public events the timeline
and the bot show), with a signed link to the report's status page (it stands in for the
follow-up code, so the answer can be read and rated from the mail) and an unsubscribe (退订)
link, also in the List-Unsubscribe header. The templates are data files
(feedback/data/notice_email.*).

Errors are told apart for the dispatcher: a 5xx reply (no such mailbox, refused) cannot
succeed and is given up at once; a connection that fails, times out or gets a 4xx is tried
again with back-off.
"""

from __future__ import annotations

import email.utils
from dataclasses import dataclass
from email.message import EmailMessage
from importlib import resources
from typing import TYPE_CHECKING

import aiosmtplib
import jinja2

from feedback import workflow
from feedback.dispatch import SendError
from feedback.notifications import EMAIL, OutboxMessage
from feedback.settings import Settings

if TYPE_CHECKING:
    from feedback.service import FeedbackService

TLS_MODES = ("starttls", "tls", "none")

_templates = jinja2.Environment(
    loader=jinja2.FunctionLoader(
        lambda name: resources.files("feedback").joinpath("data", name).read_text("utf-8")
    ),
    autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
    keep_trailing_newline=True,
)


@dataclass(frozen=True)
class MailSettings:
    host: str
    port: int
    tls: str
    username: str | None
    password: str | None
    sender: str
    timeout: float
    base_url: str  # links in the message start here

    @classmethod
    def of(cls, settings: Settings) -> MailSettings | None:
        """The SMTP settings, or None when no server is set (e-mail notices then wait)."""
        if not settings.smtp_host:
            return None
        if settings.smtp_tls not in TLS_MODES:
            raise ValueError(f"smtp_tls must be one of {', '.join(TLS_MODES)}")
        if not settings.smtp_sender:
            raise ValueError("smtp_sender is required with smtp_host (the From address)")
        return cls(settings.smtp_host, settings.smtp_port, settings.smtp_tls,
                   settings.smtp_username, settings.smtp_password, settings.smtp_sender,
                   float(settings.smtp_timeout), base_url(settings))  # fmt: skip


def base_url(settings: Settings) -> str:
    """Where links in notices point: the public address, else the one the app listens on."""
    return (settings.public_url or f"http://{settings.host}:{settings.port}").rstrip("/")


class SmtpSender:
    channel = EMAIL

    def __init__(self, service: FeedbackService, mail: MailSettings):
        self.service = service
        self.mail = mail

    async def compose(self, message: OutboxMessage) -> EmailMessage:
        p = message.payload
        subject = workflow.notice_subject(message.kind, p)
        if message.kind == "submit":
            body = workflow.receipt_notice(p, message.code)
        else:
            body = workflow.public_notice(message.kind, p) or subject
        answered = message.kind == "answer" and p.get("status") == "answered"
        token = await self.service.notices.token_of(message.report_id, EMAIL) or ""
        values = {
            "subject": subject,
            "body": body,
            "paragraphs": [para.split("\n") for para in body.split("\n\n")],
            "status_url": self.mail.base_url + self.service.status_link(message.tracking_number),
            "link_label": "查看办理进展并评价" if answered else "查看办理进展",
            "unsubscribe_url": f"{self.mail.base_url}/notices/unsubscribe/{token}",
            "signature": f"{self.service.config.district_name}行政执法社会监督平台",
        }
        msg = EmailMessage()
        msg["Subject"] = subject
        msg["From"] = self.mail.sender
        msg["To"] = message.recipient
        msg["Date"] = email.utils.format_datetime(self.service.clock())
        msg["Message-ID"] = email.utils.make_msgid("notice")
        msg["List-Unsubscribe"] = f"<{values['unsubscribe_url']}>"
        msg["Auto-Submitted"] = "auto-generated"
        msg.set_content(_templates.get_template("notice_email.txt").render(values))
        msg.add_alternative(
            _templates.get_template("notice_email.html").render(values), subtype="html"
        )
        return msg

    async def send(self, message: OutboxMessage) -> None:
        msg = await self.compose(message)
        m = self.mail
        try:
            await aiosmtplib.send(
                msg, hostname=m.host, port=m.port, username=m.username, password=m.password,
                use_tls=m.tls == "tls", start_tls=m.tls == "starttls", timeout=m.timeout,
            )  # fmt: skip
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise SendError(f"SMTP refused the recipient: {exc}", permanent=True) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise SendError(f"SMTP {exc.code}: {exc.message}", permanent=exc.code >= 500) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise SendError(f"SMTP: {type(exc).__name__}: {exc}") from exc
