"""The full-process record covers the report itself, and checkpoints anchor it outside the
database: what someone with write access to the database can no longer do unnoticed.

Each test runs on SQLite and on PostgreSQL (the `service` fixture of tests/conftest.py); the
tampering is plain SQL, as an attacker at the database would write it.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from feedback import checkpoint, cli, jobs, record
from feedback.models import Event
from feedback.service import FeedbackService
from feedback.store import migrate
from feedback.store.rows import dump, event_from_row, iso, report_from_row
from tests.conftest import SUPERVISOR, Clock, staff
from tests.web.conftest import MakeVisitor

PHONE = "13900001111"


async def handled(service: FeedbackService, title: str = "执法未亮证") -> tuple[str, str]:
    """A named report taken through to a rating; (tracking number, code)."""
    result = await service.submit(
        {"title": title, "text": "执法人员检查店铺时没有出示执法证件，态度蛮横，还罚了款。",
         "anonymous": "0", "contact": {"name": "赵大明", "phone": PHONE}}
    )  # fmt: skip
    tn, code = result.tracking_number, result.follow_up_code
    await service.assign(SUPERVISOR, tn, "scjg")
    await service.accept(staff("scjg"), tn)
    await service.answer(staff("scjg"), tn, "已核实，对相关执法人员进行了批评教育。")
    return tn, code


async def sql(service: FeedbackService, statement: str, *params: Any) -> None:
    async with service.store.transaction() as tx:
        await tx.execute(statement, params)


async def problems(service: FeedbackService) -> list[str]:
    _, breaks = await service.verify_records()
    return [str(b) for b in breaks]


EDITS = {
    "closed": ("UPDATE reports SET status = 'closed', close_reason = 'rated', closed_at = "
               "answered_at WHERE tracking_number = ?", "status"),
    "closed, invalid reason": ("UPDATE reports SET status = 'closed', close_reason = "
                               "'satisfied' WHERE tracking_number = ?", "unreadable"),
    "text": ("UPDATE reports SET text = '改过的内容' WHERE tracking_number = ?", "text"),
    "title": ("UPDATE reports SET title = '改过的标题' WHERE tracking_number = ?", "title"),
    "answer": ("UPDATE reports SET answer = '已处理。' WHERE tracking_number = ?", "answer"),
    "department": ("UPDATE reports SET department = 'zhzf' WHERE tracking_number = ?",
                   "department"),
    "rating": ("UPDATE reports SET rating = 'satisfied' WHERE tracking_number = ?", "rating"),
    "contact": ("UPDATE reports SET contact_phone = '13700000000' WHERE tracking_number = ?",
                "contact"),
    "deadline": ("UPDATE reports SET answer_by = NULL WHERE tracking_number = ?", "report row"),
    "statistics": ("UPDATE reports SET answered_on_time = 1 - answered_on_time "
                   "WHERE tracking_number = ?", "answer statistics"),
}  # fmt: skip


@pytest.mark.parametrize("edit", list(EDITS))
async def test_every_edit_of_the_report_row_is_found(service: FeedbackService, edit: str) -> None:
    tn, _ = await handled(service)
    other, _ = await handled(service, "另一件")
    assert await problems(service) == []
    statement, named = EDITS[edit]
    await sql(service, statement, tn)
    found = await problems(service)
    assert len(found) >= 1 and all(p.startswith(tn) for p in found), found
    assert named in " ".join(found)


async def test_the_submission_holds_the_citizens_words_without_the_phone_number(
    service: FeedbackService,
) -> None:
    tn, _ = await handled(service)
    report = await service.store.get_report(tn)
    assert report is not None and report.id is not None
    events = await service.store.list_events(report.id)
    submitted = events[0]
    assert submitted.action == "submit"
    assert submitted.details["content"] == record.content_hashes(report)
    assert set(submitted.details["content"]) == {"title", "text", "contact", "where"}
    assert all("row" in (e.after or {}) for e in events)
    # Staff read the record: no phone number in it, not even as an unsalted hash.
    everything = json.dumps([e.details for e in events] + [e.after for e in events])
    assert PHONE not in everything
    import hashlib

    assert hashlib.sha256(PHONE.encode()).hexdigest() not in everything


async def test_attachments_are_checked_against_the_record(service: FeedbackService) -> None:
    tn, _ = await handled(service)
    report = await service.store.get_report(tn)
    assert report is not None
    await sql(service, "INSERT INTO attachments (report_id, filename, content_type, size, "
              "sha256, storage_key, uploaded_by, created_at) VALUES (?, 'x.pdf', "
              "'application/pdf', 3, ?, 'k', 'citizen', ?)", report.id, "ab" * 32,
              iso(report.created_at))  # fmt: skip
    assert any("attachments differ" in p for p in await problems(service))


# -- whole chains rewritten, reports deleted, history cut: only a checkpoint can tell ---------


async def rewrite(service: FeedbackService, tn: str, change: dict[str, Any]) -> None:
    """What a capable attacker does: change the row, then recompute every hash and digest of
    the chain from the first event on (the salt is in the row, so they can)."""
    async with service.store.transaction() as tx:
        row = (await tx.fetch("SELECT * FROM reports WHERE tracking_number = ?", (tn,)))[0]
        rows = await tx.fetch("SELECT * FROM events WHERE report_id = ? ORDER BY seq",
                              (row["id"],))  # fmt: skip
        report = report_from_row(row)
        for key, value in change.items():
            setattr(report, key, value)
        events = [event_from_row(e) for e in rows]
        head = record.GENESIS
        for ev in events:
            details = dict(ev.details)
            if ev.action == "answer" and "answer" in change:
                details["answer"] = change["answer"]
            after = dict(ev.after or {})
            after["row"] = record.row_digest(report)
            new = record.next_event(
                ev.report_id, tn, head, ev.seq - 1, at=ev.at, actor_role=ev.actor_role,
                actor_id=ev.actor_id, action=ev.action, details=details, before=ev.before,
                after=after, public=ev.public,
            )  # fmt: skip
            await tx.execute(
                "UPDATE events SET details = ?, after = ?, prev_hash = ?, hash = ? "
                "WHERE report_id = ? AND seq = ?",
                (dump(new.details), dump(new.after), new.prev_hash, new.hash, ev.report_id,
                 ev.seq),
            )  # fmt: skip
            head = new.hash
        await tx.execute(
            "UPDATE reports SET answer = ?, record_head = ? WHERE id = ?",
            (report.answer, head, row["id"]),
        )


async def truncate(service: FeedbackService, tn: str) -> None:
    """Cut the last event (the answer) off, and make the rest agree: the row as before the
    answer, head, count, statistics and the new last event's row digest."""
    async with service.store.transaction() as tx:
        await tx.execute(
            "UPDATE reports SET status = 'accepted', answer = NULL, answered_at = NULL, "
            "rate_by = NULL, answered_on_time = NULL, answer_working_days = NULL "
            "WHERE tracking_number = ?", (tn,),
        )  # fmt: skip
        row = (await tx.fetch("SELECT * FROM reports WHERE tracking_number = ?", (tn,)))[0]
        await tx.execute("DELETE FROM events WHERE report_id = ? AND seq = ?",
                         (row["id"], row["record_count"]))  # fmt: skip
    rows = await service.store.fetch(
        "SELECT * FROM events WHERE report_id = ? ORDER BY seq", (row["id"],)
    )
    last: Event = event_from_row(rows[-1])
    report = report_from_row(row)
    report.updated_at = last.at
    report.record_head, report.record_count = last.hash, last.seq
    async with service.store.transaction() as tx:
        await tx.update_report(report)
    await rewrite(service, tn, {"updated_at": last.at})


async def delete_report(service: FeedbackService, tn: str) -> None:
    """Delete a report with everything that names it."""
    store = service.store
    if store.url.startswith("sqlite"):
        found = await store.fetch(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE '%report_id%'"
        )
    else:
        found = await store.fetch(
            "SELECT table_name AS name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND column_name = 'report_id'"
        )
    async with store.transaction() as tx:
        rid = (await tx.fetch("SELECT id FROM reports WHERE tracking_number = ?", (tn,)))[0]["id"]
        for name in sorted({r["name"] for r in found}):
            await tx.execute(f'DELETE FROM "{name}" WHERE report_id = ?', (rid,))
        await tx.execute("DELETE FROM reports WHERE id = ?", (rid,))


ATTACKS = {
    "chain rewritten": lambda s, tn: rewrite(s, tn, {"answer": "已全部整改到位。"}),
    "report deleted": delete_report,
    "last event cut off": truncate,
}


@pytest.mark.parametrize("attack", list(ATTACKS))
async def test_a_checkpoint_finds_what_the_chains_alone_cannot(
    service: FeedbackService, clock: Clock, tmp_path: Path, attack: str
) -> None:
    tn, _ = await handled(service)
    await handled(service, "另一件")
    taken = await checkpoint.take(service.store, clock())
    assert await checkpoint.check(service.store, taken.to_json()) == []
    clock.advance(hours=1)
    later, _ = await handled(service, "检查点之后")  # history after it does not matter

    await ATTACKS[attack](service, tn)
    assert await problems(service) == []  # the chains alone are fooled
    found = await checkpoint.check(service.store, taken.to_json())
    assert found, attack
    assert any("checkpoint" in p for p in found)


async def test_checkpoints_chain_and_can_be_signed(
    service: FeedbackService, clock: Clock, tmp_path: Path
) -> None:
    await handled(service)
    first = await checkpoint.take(service.store, clock())
    public = checkpoint.new_key(tmp_path / "key.pem")
    assert oct((tmp_path / "key.pem").stat().st_mode)[-3:] == "600"
    clock.advance(days=1)
    second = await checkpoint.take(service.store, clock(), str(tmp_path / "key.pem"))
    assert second.body["prev"] == first.digest and second.public_key == public
    assert await checkpoint.check(service.store, second.to_json(), public) == []
    # Unsigned, or signed by someone else: refused when the operator's key is required.
    assert await checkpoint.check(service.store, first.to_json(), public)
    forged = dict(second.to_json(), reports=99)
    found = await checkpoint.check(service.store, forged)
    assert any("file itself was altered" in p for p in found)
    other = checkpoint.new_key(tmp_path / "other.pem")
    assert await checkpoint.check(service.store, second.to_json(), other)


async def test_the_background_job_takes_one_checkpoint_a_day(
    service: FeedbackService, clock: Clock
) -> None:
    assert (await jobs.tick(service)).checkpoint is None  # nothing recorded yet
    await handled(service)
    first = (await jobs.tick(service)).checkpoint
    assert first is not None
    clock.advance(hours=2)
    assert (await jobs.tick(service)).checkpoint is None
    clock.advance(days=1)
    second = (await jobs.tick(service)).checkpoint
    assert second is not None and second != first
    listed = await service.published_checkpoints()
    assert [c.digest for c in listed] == [second, first]
    assert listed[0].body["prev"] == first


async def test_verify_and_checkpoint_commands(
    service: FeedbackService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    tn, _ = await handled(service)
    db = service.store.url

    def run(*argv: str) -> int:
        return cli.main([*argv, "--db", db])

    out = tmp_path / "cp.json"
    assert await asyncio.to_thread(run, "checkpoint", "--out", str(out)) == 0
    assert await asyncio.to_thread(run, "verify", "--checkpoint", str(out)) == 0
    assert "history up to the checkpoint" in capsys.readouterr().out
    await rewrite(service, tn, {"answer": "已全部整改到位。"})
    assert await asyncio.to_thread(run, "verify") == 0  # recomputed hashes fool the chains
    assert await asyncio.to_thread(run, "verify", "--checkpoint", str(out)) == 1
    assert "rewritten" in capsys.readouterr().out
    await sql(service, "UPDATE reports SET title = '改过的标题' WHERE tracking_number = ?", tn)
    assert await asyncio.to_thread(run, "verify") == 1
    assert "title" in capsys.readouterr().out


async def test_an_old_database_upgrades_in_place_and_gets_sealed(
    service: FeedbackService, clock: Clock
) -> None:
    tn, _ = await handled(service)
    await make_legacy(service)
    # Reopened by a new version: the migration runs again, reports are checked for their
    # chains, then the background job seals each one and every edit is caught from then on.
    store = service.store
    await store.close()
    await store.open()
    assert await problems(service) == []
    assert await service.unsealed() == 1
    result = await jobs.tick(service)
    assert result.sealed == 1 and await service.unsealed() == 0
    report = await store.get_report(tn)
    assert report is not None and report.id is not None
    events = await store.list_events(report.id)
    assert events[-1].action == "seal" and not events[-1].public
    assert events[-1].details["content"] == record.content_hashes(report)
    assert await problems(service) == []
    await sql(service, "UPDATE reports SET answer = '已处理。' WHERE tracking_number = ?", tn)
    assert any("answer" in p for p in await problems(service))


async def make_legacy(service: FeedbackService) -> None:
    """Turn the database into one written by 0.1: events without row digests or content,
    no record_salt column, no checkpoints table, and the numbered-SQL runner's record of
    every migration but 0011 (a pre-0.2 database that had the later ones from another branch)."""
    async with service.store.transaction() as tx:
        for row in await tx.fetch("SELECT * FROM reports ORDER BY id"):
            head = record.GENESIS
            for e in await tx.fetch("SELECT * FROM events WHERE report_id = ? ORDER BY seq",
                                    (row["id"],)):  # fmt: skip
                ev = event_from_row(e)
                details = {k: v for k, v in ev.details.items() if k != "content"}
                after = {k: v for k, v in (ev.after or {}).items() if k != "row"}
                new = record.next_event(
                    ev.report_id, row["tracking_number"], head, ev.seq - 1, at=ev.at,
                    actor_role=ev.actor_role, actor_id=ev.actor_id, action=ev.action,
                    details=details, before=ev.before, after=after, public=ev.public,
                )  # fmt: skip
                await tx.execute(
                    "UPDATE events SET details = ?, after = ?, prev_hash = ?, hash = ? "
                    "WHERE id = ?", (dump(details), dump(after), new.prev_hash, new.hash, e["id"]),
                )  # fmt: skip
                head = new.hash
            await tx.execute("UPDATE reports SET record_head = ? WHERE id = ?", (head, row["id"]))
        await tx.execute("DROP INDEX reports_unsealed")
        await tx.execute("ALTER TABLE reports DROP COLUMN record_salt")
        await tx.execute("DROP TABLE checkpoints")
        await tx.execute("DROP TABLE alembic_version")
        await tx.execute(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
            "applied_at TEXT NOT NULL)"
        )
        for number in [int(r) for r in migrate.revisions() if r != "0011"]:
            await tx.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, ?)",
                (number, f"{number:04d}.sql", "2026-11-28T00:00:00+00:00"),
            )


async def test_the_public_page_lists_dated_checkpoints_to_download_and_check(
    service: FeedbackService, clock: Clock, visitor: MakeVisitor, tmp_path: Path
) -> None:
    await handled(service)
    await jobs.tick(service)
    citizen = await visitor()
    status, html = await citizen.get("/public")
    assert status == 200 and 'href="/public/checkpoints"' in html
    status, html = await citizen.get("/public/checkpoints")
    assert status == 200 and "全过程记录校验点" in html
    listed = await service.published_checkpoints()
    assert len(listed) == 1 and listed[0].body["root"][:16] in html
    assert "2026-03-10" in html  # dated, in local time
    resp = await citizen.client.get(f"/public/checkpoints/{listed[0].digest}.json")
    assert resp.status == 200
    saved = tmp_path / "downloaded.json"
    saved.write_bytes(await resp.read())
    assert await checkpoint.check(service.store, checkpoint.read_file(saved)) == []
    status, _ = await citizen.get("/public/checkpoints/" + "0" * 64 + ".json")
    assert status == 404
