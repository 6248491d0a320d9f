"""Fixtures for notices: a real SMTP server (aiosmtpd) on 127.0.0.1, and the real web app on
SQLite or PostgreSQL, set to send its e-mail notices there."""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiosmtpd.smtp import SMTP, Envelope, Session

from feedback.settings import Settings
from tests.conftest import Clock, MigratedFile
from tests.notices.sms_peer import SmsPeer
from tests.web.conftest import server, service, visitor  # noqa: F401  (the web's fixtures)
from web.app import create_app


@dataclass
class Mailbox:
    """What an SMTP server on 127.0.0.1 received, message by message."""

    port: int = 0
    received: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    refuse: int = 0  # answer the next DATA commands with 451 (a server in trouble)
    reject: int = 0  # answer the next DATA commands with 550 (refused for good)
    tried: int = 0  # DATA commands received, accepted or not

    async def handle_DATA(self, smtp: SMTP, session: Session, envelope: Envelope) -> str:
        self.tried += 1
        if self.refuse:
            self.refuse -= 1
            return "451 4.3.0 try again later"
        if self.reject:
            self.reject -= 1
            return "550 5.7.1 message refused by policy"
        raw = envelope.original_content or b""
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        self.received.append(([str(r) for r in envelope.rcpt_tos], msg))
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for rcpt, m in self.received if address in rcpt]

    async def wait_for(self, address: str, count: int, wait: float = 15.0) -> list[EmailMessage]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while len(self.to(address)) < count:
            if loop.time() > deadline:
                got = [m["Subject"] for m in self.to(address)]
                raise AssertionError(f"{address} has {got}, expected {count} messages")
            await asyncio.sleep(0.05)
        return self.to(address)


def body(msg: EmailMessage, subtype: str = "plain") -> str:
    part = msg.get_body(preferencelist=(subtype,))
    assert part is not None, f"no text/{subtype} part"
    text: Any = part.get_content()
    return str(text)


@pytest.fixture
async def mailbox() -> AsyncIterator[Mailbox]:
    box = Mailbox()
    loop = asyncio.get_running_loop()
    listening = await loop.create_server(
        lambda: SMTP(box, hostname="smtp.test", enable_SMTPUTF8=True), "127.0.0.1", 0
    )
    box.port = listening.sockets[0].getsockname()[1]
    yield box
    listening.close()
    await listening.wait_closed()


@pytest.fixture
async def sms_peer() -> AsyncIterator[SmsPeer]:
    peer = SmsPeer()
    await peer.start()
    yield peer
    await peer.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path, migrated_sqlite: MigratedFile) -> str:
    if request.param == "sqlite":
        return migrated_sqlite(tmp_path / "web.db")
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def sms_cap() -> int:
    """SMS one number gets a day (a test parametrizes it lower)."""
    return 10


@pytest.fixture
def settings(
    tmp_path: Path, database: str, mailbox: Mailbox, sms_peer: SmsPeer, sms_cap: int
) -> Settings:
    return Settings(
        db=database,
        data_dir=str(tmp_path / "data"),
        secret_key="test-secret-key-that-is-long-enough-000",
        tick_seconds=0,
        max_body_mb=30,
        public_url="https://feedback.example.gov.cn",
        smtp_host="127.0.0.1",
        smtp_port=mailbox.port,
        smtp_tls="none",
        smtp_sender="淄川区司法局 <noreply@feedback.example.gov.cn>",
        smtp_timeout=5,
        sms_url=sms_peer.url,
        sms_params='{"account": "zc-feedback", "mobile": "{phone}", "template": "{template_id}", '
        '"params": "{params}", "ts": "{timestamp}", "nonce": "{nonce}"}',
        sms_sign="hmac-sha256",
        sms_sign_key="test-sms-key",
        sms_ok="code=0",
        sms_daily_cap=sms_cap,
        sms_timeout=5,
        sms_inbound_secret="inbound-secret",
    )


@pytest.fixture
def app(settings: Settings, clock: Clock) -> web.Application:
    return create_app(settings, clock=clock)
