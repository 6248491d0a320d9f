"""The clerk's desk in the service, on SQLite and PostgreSQL (issue 18: 12): 认领 and 指派
under the report's lock, the one rule of who may work a claimed report, the 我的/未认领
queues, internal notes kept out of everything public, drafts per clerk, canned replies."""

from __future__ import annotations

import asyncio

import pytest

from feedback.errors import InvalidTransition, NotFound, PermissionDenied, ValidationError
from feedback.models import Actor, Role
from feedback.service import FeedbackService
from feedback.store.base import User
from tests.conftest import SUPERVISOR

ZHANG = Actor(Role.STAFF, id="zhang", department="zhzf", name="张科员")
LI = Actor(Role.STAFF, id="li", department="zhzf", name="李科员")
BOSS = Actor(Role.STAFF, id="boss", department="zhzf", name="赵科长", lead=True)
OTHER = Actor(Role.STAFF, id="wang", department="zjj", name="王工")
TEXT = {
    "title": "城管执法罚款不开票据",
    "text": "城管执法人员直接罚款两百元，没有出具任何票据和处罚决定书。",
}
ANSWER = "经核查，执法队员确未开具票据，已责令补开票据并退还罚款。"


async def accounts(service: FeedbackService) -> None:
    async with service.store.transaction() as tx:
        for a in (ZHANG, LI, BOSS, OTHER):
            await tx.insert_user(User(None, a.id, "h", "staff", a.department, a.name,
                                      bureau_lead=a.lead))  # fmt: skip


async def routed(service: FeedbackService) -> str:
    result = await service.submit(TEXT)
    await service.assign(SUPERVISOR, result.tracking_number, "zhzf")
    return result.tracking_number


async def test_two_clerks_claiming_at_once_make_one_claim(service: FeedbackService) -> None:
    await accounts(service)
    tn = await routed(service)
    outcomes = await asyncio.gather(
        service.claim(ZHANG, tn), service.claim(LI, tn), return_exceptions=True
    )
    assert sum(isinstance(o, InvalidTransition) for o in outcomes) == 1
    view = await service.staff_view(SUPERVISOR, tn)
    assert view.report.assignee in ("zhang", "li")
    assert [e.action for e in view.events].count("claim") == 1
    assert await service.verify_records() == (1, [])


async def test_a_claimed_report_is_worked_by_its_clerk_and_the_lead_only(
    service: FeedbackService,
) -> None:
    await accounts(service)
    tn = await routed(service)
    await service.claim(ZHANG, tn)
    with pytest.raises(PermissionDenied, match="已由经办人 zhang 认领"):
        await service.accept(LI, tn)
    with pytest.raises(PermissionDenied):
        await service.give(LI, tn, "li")
    with pytest.raises(PermissionDenied):
        await service.release(LI, tn)
    with pytest.raises(ValidationError):
        await service.give(BOSS, tn, "wang")  # another bureau's
    await service.accept(BOSS, tn)  # the lead may act on it
    await service.give(BOSS, tn, "li")
    # The supervisor gives within the bureau too.
    await service.give(SUPERVISOR, tn, "zhang")
    await service.give(SUPERVISOR, tn, "li")
    await service.answer(LI, tn, ANSWER)
    mine = await service.queue(LI, "answered", clerk="mine")
    assert [r.tracking_number for r in mine] == [tn]
    assert await service.queue(ZHANG, "answered", clerk="mine") == []
    assert await service.queue(ZHANG, "answered", clerk="none") == []
    # Answered, it stays the clerk's; the record holds each step, internal.
    with pytest.raises(InvalidTransition):
        await service.give(SUPERVISOR, tn, "")
    view = await service.staff_view(SUPERVISOR, tn)
    assert view.report.assignee == "li"
    desk = [e for e in view.events if e.action in ("claim", "give", "release")]
    assert [e.action for e in desk] == ["claim", "give", "give", "give"]
    assert not any(e.public for e in desk)
    assert await service.verify_records() == (1, [])


async def test_notes_stay_internal_and_drafts_and_replies_are_kept(
    service: FeedbackService,
) -> None:
    await accounts(service)
    tn = await routed(service)
    await service.add_note(ZHANG, tn, "已电话联系中队长，周三前提供执法记录仪视频。")
    with pytest.raises(NotFound):  # another bureau does not even find the report
        await service.add_note(OTHER, tn, "看看这个诉求的情况如何")
    report = await service.report(tn)
    assert report is not None
    assert [e.action for e in await service.public_history(report)] == ["submit", "to_triage",
                                                                         "assign"]  # fmt: skip
    await service.accept(ZHANG, tn)
    saved = await service.save_draft(ZHANG, tn, "您好，")
    assert saved is not None and saved.text == "您好，"
    assert await service.draft(LI, report) is None
    await service.save_draft(ZHANG, tn, "您好，您反映的问题已收悉。")
    assert (await service.draft(ZHANG, report)).text == "您好，您反映的问题已收悉。"  # type: ignore[union-attr]
    reply = await service.add_canned_reply(BOSS, "未开票据", "已责令补开票据并退还罚款。")
    with pytest.raises(PermissionDenied):
        await service.add_canned_reply(ZHANG, "自己的", "不可以")
    assert [r.title for r in await service.canned_replies(LI)] == ["未开票据"]
    assert await service.canned_replies(OTHER) == []
    with pytest.raises(NotFound):
        await service.canned_reply(OTHER, reply.id)
    await service.answer(ZHANG, tn, ANSWER)
    assert await service.draft(ZHANG, report) is None
    await service.delete_canned_reply(BOSS, reply.id)
    assert await service.canned_replies(LI) == []
    assert await service.verify_records() == (1, [])


async def test_each_canned_reply_added_is_the_one_its_id_opens(service: FeedbackService) -> None:
    """On both stores the id a new reply comes back with is its own (on PostgreSQL it was the
    INSERT's row count, 1, for every reply)."""
    await accounts(service)
    titles = ["未开票据", "态度问题", "已退还罚款"]
    added = [await service.add_canned_reply(BOSS, t, f"{t}：已处理。") for t in titles]
    assert len({r.id for r in added}) == 3
    for reply in added:
        opened = await service.canned_reply(LI, reply.id)
        assert (opened.id, opened.title) == (reply.id, reply.title)
