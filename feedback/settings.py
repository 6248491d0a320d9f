"""Runtime settings of a running service, declared once with their help text.

Each can be given on the command line (``--db``) or in the environment (``FEEDBACK_DB``);
the command line wins. The district's taxonomy and clocks live in the TOML config instead.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any


def _setting(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass
class Settings:
    db: str = _setting(
        "var/feedback.db", "database: a SQLite file path, sqlite:///path or postgresql://…"
    )
    config: str | None = _setting(
        None, "TOML file with the district's departments, issue types and clocks"
    )
    data_dir: str = _setting("var", "folder for attachments and retrained models")
    host: str = _setting("127.0.0.1", "address to listen on")
    port: int = _setting(8080, "port to listen on")
    secret_key: str | None = _setting(
        None, "key for signing session cookies (32+ characters); a random one per start when unset"
    )
    code_key: str | None = _setting(
        None,
        "key of the follow-up codes' HMAC (32+ characters, the same in every worker; changing "
        "it invalidates every issued code); when unset one is made once in data_dir/code.key",
    )
    secure_cookies: bool = _setting(False, "mark cookies Secure (set when served over HTTPS)")
    max_body_mb: int = _setting(
        52, "largest request body accepted, in MB (room for max_attachments × max_attachment_mb)"
    )
    tick_seconds: int = _setting(300, "how often the background job checks deadlines (0 = off)")
    retrain_labels: int = _setting(
        200,
        "the background job retrains the classifier when this many new labels (signed-for "
        "departments, confirmed issue types) arrived since the last retraining, and nightly "
        "(02:00-05:00) when any did; promoted only if better (0 = off)",
    )
    telegram_token: str | None = _setting(
        None, "Telegram bot token (for `feedback bot` and webhook mode)"
    )
    telegram_webhook_secret: str | None = _setting(
        None, "secret token Telegram sends with webhook calls"
    )
    telegram_api_url: str = _setting(
        "https://api.telegram.org/bot",
        "Bot API base URL the bot talks to (a local telegram-bot-api server, a mirror); "
        "files are fetched from the same address with /file/bot",
    )
    public_url: str = _setting(
        "",
        "public base URL, for links in messages: the e-mail's signed status link and the "
        "答复 SMS's short link {public_url}/r/<token>, which fits 70 characters when this is "
        "at most 32 characters long (else, or when unset, that SMS goes without the link)",
    )
    # Notices by e-mail (feedback.mailer) to web and API reporters who opt in.
    smtp_host: str = _setting(
        "", "SMTP server that sends e-mail notices (empty: e-mail notices stay in the outbox)"
    )
    smtp_port: int = _setting(587, "SMTP port (587 with STARTTLS, 465 with TLS, 25 plain)")
    smtp_tls: str = _setting(
        "starttls",
        "SMTP encryption: starttls (upgrade after connecting), tls (from the start) "
        "or none (a relay on localhost only)",
    )
    smtp_username: str | None = _setting(None, "SMTP login name (unset: no login)")
    smtp_password: str | None = _setting(None, "SMTP password (with smtp_username)")
    smtp_sender: str = _setting(
        "", "From address of e-mail notices, e.g. 淄川区司法局 <noreply@example.gov.cn>"
    )
    smtp_timeout: int = _setting(30, "seconds to wait for the SMTP server before a retry")
    # Notices by SMS (feedback.sms) through an HTTP gateway: template id + parameters.
    sms_api: str = _setting(
        "generic",
        "which SMS API: generic (the sms_url / sms_params / sms_sign settings below), aliyun "
        "(Aliyun SMS SendSms, RPC signature HMAC-SHA1) or tencent (Tencent Cloud SMS SendSms, "
        "TC3-HMAC-SHA256); aliyun and tencent take sms_key_id, sms_sign_key, sms_region "
        "(and sms_app_id) and ignore sms_params, sms_sign, sms_ok",
    )
    sms_url: str = _setting(
        "",
        "SMS gateway's send address (empty: SMS notices stay in the outbox; with sms_api "
        "aliyun or tencent, the vendor's endpoint)",
    )
    sms_method: str = _setting("POST", "HTTP method of the gateway's send call: POST or GET")
    sms_format: str = _setting("json", "request body of a POST: json or form")
    sms_params: str = _setting(
        '{"mobile": "{phone}", "template": "{template_id}", "params": "{params}"}',
        "the request's fields as a JSON object; string values may hold {phone}, "
        "{template_id}, {params} (the template's parameters as JSON), {text} (the message), "
        "{timestamp}, {nonce}; other values go as they are (account id, signature name)",
    )
    sms_sign: str = _setting(
        "none",
        "request signature: none, hmac-sha256 or md5 over the fields sorted by name "
        "as k=v&k=v (md5: with &key=<sms_sign_key> appended), hex",
    )
    sms_sign_key: str | None = _setting(
        None,
        "the gateway's signing key (with sms_sign); with sms_api aliyun the AccessKeySecret, "
        "with tencent the SecretKey",
    )
    sms_key_id: str = _setting(
        "", "the account's key id: Aliyun's AccessKeyId or Tencent's SecretId (sms_api)"
    )
    sms_app_id: str = _setting("", "Tencent Cloud SMS application id (SmsSdkAppId)")
    sms_region: str = _setting(
        "", "the vendor's region (empty: cn-hangzhou for aliyun, ap-guangzhou for tencent)"
    )
    sms_sign_param: str = _setting("sign", "field that carries the signature")
    sms_ok: str = _setting(
        "",
        "field=value the gateway's JSON answer holds on success, e.g. Code=OK or code=0 "
        "(empty: any 2xx answer)",
    )
    sms_signature: str = _setting(
        "【淄川区司法局】",
        "the SMS signature (签名) the message starts with, counted in its 70 characters",
    )
    sms_template_ids: str = _setting(
        "",
        "the ids the SMS provider gave our templates, as a JSON object from each template's "
        "name in feedback/data/sms_templates.toml to its id, e.g. "
        '{"FB_SUBMIT": "SMS_465300001", "FB_ACCEPT": "SMS_465300002"} (Tencent: numeric ids); '
        "`feedback notify templates` lists the names and wordings to register; a name not "
        "given is sent as it is",
    )
    sms_daily_cap: int = _setting(
        10, "SMS notices one number gets a day at most; more wait for the next day (0 = no cap)"
    )
    sms_timeout: int = _setting(10, "seconds to wait for the SMS gateway before a retry")
    sms_inbound_secret: str | None = _setting(
        None,
        "secret the gateway adds as ?secret= when it forwards replies to /sms/inbound "
        "(a reply of 退订 or TD ends that number's SMS notices); unset: replies are refused",
    )
    # Limits against floods and guessing (feedback.ratelimit, web/limits.py); 0 = no limit.
    submit_per_hour: int = _setting(
        20,
        "reports accepted per client address per hour (web form and JSON API without a key), "
        "and per chat from the Telegram bot",
    )
    code_attempts_per_15min: int = _setting(
        10,
        "wrong follow-up codes per client address (any report) in 15 minutes before each "
        "further try from it waits, doubling up to a minute",
    )
    code_attempts_per_report: int = _setting(
        5,
        "wrong follow-up codes from one address for one tracking number in 15 minutes before "
        "each further try waits, doubling up to 15 minutes (other addresses are not slowed)",
    )
    support_per_hour: int = _setting(
        30,
        "new 附议 voices counted per client address per hour (one per browser as well; a "
        "script dropping its cookie is held to this)",
    )
    api_key_default_per_minute: int = _setting(
        60, "requests per minute for an API key created without --rate"
    )
    max_text_chars: int = _setting(5000, "longest report text accepted, in characters")
    max_attachments: int = _setting(5, "attachments accepted with one report")
    max_attachment_mb: int = _setting(10, "largest attachment accepted, in MB")
    media_url_seconds: int = _setting(
        10,
        "seconds one Open311 request may spend downloading the photos its media_url links "
        "name, all together (0 = never download; the links are only noted for staff)",
    )
    media_url_allow_networks: str = _setting(
        "",
        "comma-separated networks (CIDR) that media_url downloads may reach though they are "
        "loopback, private or link-local, e.g. 10.20.0.0/16 for an intranet photo store "
        "(empty: public addresses only)",
    )
    checkpoint_key: str | None = _setting(
        None,
        "Ed25519 private key (PEM file) that signs record checkpoints; "
        "make one with `feedback checkpoint --new-key FILE`",
    )
    escalate_repeat_minutes: int = _setting(
        60,
        "minutes after a 督办 (a supervisor's or the clock's) before the same report can be "
        "escalated again; repeated clicks within them make no second 督办",
    )
    trusted_proxies: str = _setting(
        "", "comma-separated addresses of reverse proxies whose X-Forwarded-For is believed"
    )

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        values: dict[str, Any] = {}
        for f in fields(cls):
            env = os.environ.get(f"FEEDBACK_{f.name.upper()}")
            if env is not None:
                values[f.name] = _coerce(f.type, env)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    @property
    def telegram_file_url(self) -> str:
        """The Bot API's file address, derived from ``telegram_api_url`` as Telegram lays it
        out (``https://api.telegram.org/bot`` → ``https://api.telegram.org/file/bot``)."""
        base = self.telegram_api_url.rstrip("/")
        root = base[: -len("/bot")] if base.endswith("/bot") else base
        return f"{root}/file/bot"

    @property
    def attachments_dir(self) -> Path:
        return Path(self.data_dir) / "attachments"

    @property
    def models_dir(self) -> Path:
        return Path(self.data_dir) / "models"

    def follow_up_code_key(self) -> bytes:
        from feedback.secrets import code_key

        return code_key(self.code_key, self.data_dir)


@dataclass(frozen=True)
class InputLimits:
    """What one submission may hold, read from the settings (``max_text_chars``,
    ``max_attachments``, ``max_attachment_mb``). The service keeps them
    (`service.input_limits`); validation, attachment checks, the report form, the bot and the
    OpenAPI document read them there, so raising a setting changes what every channel accepts."""

    max_text_chars: int
    max_attachments: int
    max_attachment_mb: int

    @classmethod
    def of(cls, settings: Settings | None = None) -> InputLimits:
        s = settings or Settings()
        return cls(s.max_text_chars, s.max_attachments, s.max_attachment_mb)

    @property
    def max_attachment_bytes(self) -> int:
        return self.max_attachment_mb * 1024 * 1024


def _coerce(kind: Any, value: str) -> Any:
    text = str(kind)
    if "bool" in text:
        return value.lower() in ("1", "true", "yes", "on")
    if "int" in text:
        return int(value)
    return value


def help_table() -> list[tuple[str, str, str]]:
    """(name, default, help) of every setting, for --help and the README."""
    return [(f.name, str(f.default), f.metadata["help"]) for f in fields(Settings)]
