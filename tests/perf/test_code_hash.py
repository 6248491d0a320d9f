"""The follow-up code is an HMAC under the server's key; codes issued before (argon2id) still
let their citizen in, and are re-hashed the first time they do."""

from __future__ import annotations

from pathlib import Path

import pytest

from feedback import secrets
from feedback.config import Config
from feedback.errors import NotFound
from feedback.service import FeedbackService
from feedback.settings import Settings
from feedback.store import Store
from tests.conftest import Clock

REPORT = {
    "title": "窗口推诿",
    "text": "去政务服务大厅办营业执照，窗口说材料不全，问缺什么又不肯一次性告知，跑了三趟。",
}
KEY = b"k" * 32


async def test_a_new_code_is_stored_as_an_hmac_and_opens_the_report(
    store: Store, config: Config, clock: Clock
) -> None:
    service = FeedbackService(store, config, clock=clock, code_key=KEY)
    result = await service.submit(dict(REPORT))
    stored = await store.get_report(result.tracking_number)
    assert stored is not None and stored.code_hash.startswith("hmac-sha256$")
    assert result.follow_up_code not in stored.code_hash
    view = await service.status(result.tracking_number, result.follow_up_code.lower())
    assert view.report.tracking_number == result.tracking_number
    with pytest.raises(NotFound):
        await service.status(result.tracking_number, "AAAA-BBBB-CCCC-DDDD-EEEE")
    # The same key after a restart still opens it; another key does not.
    again = FeedbackService(store, config, clock=clock, code_key=KEY)
    await again.status(result.tracking_number, result.follow_up_code)
    other = FeedbackService(store, config, clock=clock, code_key=b"x" * 32)
    with pytest.raises(NotFound):
        await other.status(result.tracking_number, result.follow_up_code)


async def test_an_old_argon2_code_still_works_and_is_upgraded_on_first_use(
    store: Store, config: Config, clock: Clock
) -> None:
    service = FeedbackService(store, config, clock=clock, code_key=KEY)
    result = await service.submit(dict(REPORT))
    # A report from before HMAC codes: its row holds the argon2id hash of the code.
    old = secrets.hash_secret(secrets.normalise_code(result.follow_up_code))
    async with store.transaction() as tx:
        await tx.execute(
            "UPDATE reports SET code_hash = ? WHERE tracking_number = ?",
            (old, result.tracking_number),
        )
    with pytest.raises(NotFound):  # a wrong code is refused and changes nothing
        await service.status(result.tracking_number, "AAAA-BBBB-CCCC-DDDD-EEEE")
    stored = await store.get_report(result.tracking_number)
    assert stored is not None and stored.code_hash == old

    view = await service.status(result.tracking_number, result.follow_up_code)
    assert view.report.tracking_number == result.tracking_number
    stored = await store.get_report(result.tracking_number)
    assert stored is not None and stored.code_hash.startswith("hmac-sha256$")
    assert stored.code_hash == service.codes.hash(result.follow_up_code)
    # The upgrade is in the record (internal), not on the citizen's history.
    assert stored.id is not None
    events = await store.list_events(stored.id)
    assert events[-1].actor_id == "codes" and not events[-1].public
    assert [h.action for h in view.history] == [
        h.action
        for h in (await service.status(result.tracking_number, result.follow_up_code)).history
    ]
    checked, breaks = await service.verify_records()
    assert checked == 1 and breaks == []
    # And it keeps working as an HMAC code.
    await service.status(result.tracking_number, result.follow_up_code)


def test_the_key_is_made_once_and_kept_when_none_is_configured(tmp_path: Path) -> None:
    settings = Settings(data_dir=str(tmp_path / "data"))
    first = settings.follow_up_code_key()
    assert settings.follow_up_code_key() == first and len(first) == 32
    assert (tmp_path / "data" / "code.key").stat().st_mode & 0o077 == 0
    configured = Settings(data_dir=str(tmp_path / "data"), code_key="c" * 40)
    assert configured.follow_up_code_key() != first
