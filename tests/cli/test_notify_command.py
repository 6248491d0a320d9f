"""`feedback notify`: the operator lists the outbox, finds the notice the SMS vendor refused
(a dead letter, the number masked), puts the right key back, resends it and sends now — the
same story the supervisor's page /staff/notices tells, through the same service."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from feedback import cli
from feedback.runtime import open_service
from feedback.settings import Settings
from tests.notices.vendor_peers import VendorPeer
from tests.web.conftest import REPORT_FORM

MOBILE = "13800138000"


@pytest.fixture
def peer() -> Iterator[VendorPeer]:
    """An Aliyun SMS peer in a thread of its own (the commands run their own event loops)."""
    found = VendorPeer("aliyun", "LTAI5tTestKeyId", "vendor-test-secret")
    loop = asyncio.new_event_loop()
    started = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(found.start())
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert started.wait(10)
    yield found
    asyncio.run_coroutine_threadsafe(found.close(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


def test_the_operator_finds_resends_and_sends_a_refused_sms(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    peer: VendorPeer,
) -> None:
    db = str(tmp_path / "f.db")
    for name, value in {"SMS_API": "aliyun", "SMS_URL": peer.url, "SMS_KEY_ID": peer.key_id,
                        "SMS_SIGN_KEY": "vendor-test-secret", "DATA_DIR": str(tmp_path),
                        "CODE_KEY": "k" * 40}.items():  # fmt: skip
        monkeypatch.setenv(f"FEEDBACK_{name}", value)

    async def file_report() -> str:
        async with open_service(Settings.from_env(db=db), with_model=False) as service:
            result = await service.submit({
                **REPORT_FORM, "anonymous": False, "contact": {"name": "王五"},
                "notify": {"sms": MOBILE},
            })  # fmt: skip
            return result.tracking_number

    tn = asyncio.run(file_report())
    assert cli.main(["notify", "list", "--pending", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "待发送：Telegram 0，邮件 0，短信 1" in out and tn in out and "138****8000" in out
    assert "没有发送失败的通知" in out and MOBILE not in out

    peer.secret = "rotated-at-the-vendor"  # the key we hold is refused
    assert cli.main(["notify", "send", "--db", db]) == 0
    assert "已发送：短信 0" in capsys.readouterr().out
    assert peer.refused == ["SignatureDoesNotMatch"]
    assert cli.main(["notify", "list", "--json", "--db", db]) == 0
    listed = json.loads(capsys.readouterr().out)
    [dead] = listed["dead"]
    assert listed["waiting"]["sms"] == 0 and "pending" not in listed
    assert dead["tracking_number"] == tn and dead["recipient"] == "138****8000"
    assert "SignatureDoesNotMatch" in dead["last_error"] and dead["label"]

    peer.secret = "vendor-test-secret"  # the operator fixed the key
    assert cli.main(["notify", "resend", str(dead["id"]), "--db", db]) == 0
    assert "已重新排队" in capsys.readouterr().out
    assert cli.main(["notify", "send", "--db", db]) == 0
    assert "已发送：短信 1" in capsys.readouterr().out
    [got] = peer.to(MOBILE)
    assert got["template"] == "FB_SUBMIT" and got["params"]["tn"] == tn  # type: ignore[index]
    assert cli.main(["notify", "list", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "短信 0" in out and "没有发送失败的通知" in out

    # A notice that is not a dead letter (sent, or no such id) is named, not resent.
    assert cli.main(["notify", "resend", str(dead["id"]), "999", "--db", db]) == 1
    out = capsys.readouterr().out
    assert out.count("没有这条发送失败的通知") == 2 and len(peer.to(MOBILE)) == 1


def test_the_operator_lists_the_templates_to_register_and_the_ids_set(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before going live the operator registers each wording with the provider, then sets the
    ids it gave (sms_template_ids); `notify templates` shows what is still unset."""
    monkeypatch.setenv("FEEDBACK_SMS_TEMPLATE_IDS", '{"FB_SUBMIT": "SMS_465300001"}')
    assert cli.main(["notify", "templates", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)["templates"]}
    assert rows["FB_SUBMIT"]["id"] == "SMS_465300001" and rows["FB_SUBMIT"]["set"]
    assert rows["FB_ROUTE"]["id"] == "FB_ROUTE" and not rows["FB_ROUTE"]["set"]
    assert set(rows["FB_ROUTE"]["events"]) == {"route", "assign", "send_back.routed"}
    assert "${tn}" in rows["FB_ACCEPT"]["text"]
    assert cli.main(["notify", "templates"]) == 0
    out = capsys.readouterr().out
    assert "FB_SUBMIT → SMS_465300001" in out and f"共 {len(rows)} 个模板，1 个已设置" in out
    monkeypatch.setenv("FEEDBACK_SMS_TEMPLATE_IDS", '{"FB_SUMBIT": "SMS_465300001"}')
    assert cli.main(["notify", "templates"]) == 2
    assert "unknown templates: FB_SUMBIT" in capsys.readouterr().out


def test_a_notice_setting_that_cannot_work_stops_the_start_with_a_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "f.db")
    monkeypatch.setenv("FEEDBACK_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("FEEDBACK_SMS_URL", "http://127.0.0.1:9/send")
    monkeypatch.setenv("FEEDBACK_SMS_PARAMS", "mobile={phone}")  # not JSON
    # Refused before listening: the port is never bound, nothing is served.
    assert cli.main(["serve", "--db", db, "--port", "8512"]) == 2
    assert "通知设置有误，未启动：sms_params is not a JSON object" in capsys.readouterr().err
    monkeypatch.delenv("FEEDBACK_SMS_PARAMS")
    monkeypatch.setenv("FEEDBACK_SMTP_HOST", "127.0.0.1")  # without smtp_sender
    assert cli.main(["notify", "send", "--db", db]) == 2
    assert "smtp_sender is required" in capsys.readouterr().out
