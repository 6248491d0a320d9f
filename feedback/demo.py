"""A realistic demo data set: a few hundred reports over several months, in every state.

Texts come from the project's own bootstrap corpus (classifiers/data/corpus/). Each
report lives its life through the real service — routing by the model, triage, signing for,
send-backs, extensions, answers, ratings, reopenings, 督办, 查实 — with the clock set to each
step's moment, so the record, the deadlines and the statistics are all real.
"""

from __future__ import annotations

import logging
import random
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from feedback import incentives, jobs
from feedback.errors import FeedbackError
from feedback.models import Actor, Role, Status
from feedback.service import FeedbackService

log = logging.getLogger(__name__)

DEMO_PASSWORD = "demo-password-2026"

DATA = Path(__file__).with_name("data") / "demo.toml"


@dataclass(frozen=True)
class Wording:
    """feedback/data/demo.toml: who reports, where, and how bureaus answer."""

    names: list[str]
    places: list[str]
    clerks: list[str]
    send_back_reasons: list[str]
    specific: list[str]
    partial: list[str]
    forwarding: list[str]
    basis: dict[str, str]

    @classmethod
    def load(cls) -> Wording:
        with DATA.open("rb") as f:
            return cls(**tomllib.load(f))


WORDING = Wording.load()


def _answer(wording: Wording, rng: random.Random, quality: float, department: str,
            matter: str, place: str, now: datetime) -> str:  # fmt: skip
    """A bureau's answer: specific with the bureau's ``quality`` (its share of specific
    answers), else mostly partial, sometimes forwarding only."""
    roll = rng.random()
    kind = (wording.specific if roll < quality
            else wording.partial if roll < quality + (1 - quality) * 0.6
            else wording.forwarding)  # fmt: skip
    local = now + timedelta(hours=8)  # district time, for the dates the answer names
    done = local + timedelta(days=10)
    return rng.choice(kind).format(
        matter=matter or "有关执法",
        place=place,
        basis=wording.basis.get(department, wording.basis["sfj"]),
        found=f"{local.month}月{local.day}日",
        done=f"{done.month}月{done.day}日",
        clerk=rng.choice(wording.clerks),
    )


@dataclass
class DemoClock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


def _corpus() -> list[dict[str, str]]:
    from classifiers.corpus import read_corpus

    return [
        {
            "title": str(r.get("title") or ""),
            "text": str(r["text"]),
            "department": str(r.get("department") or ""),
            "issue_types": "|".join(r["issue_types"]),  # type: ignore[arg-type]
        }
        for r in read_corpus()
    ]


# Named clerks of the demo (username, bureau, name): the clerk's desk has someone to assign to.
DEMO_CLERKS = (("zhzf.zhang", "zhzf", "张科员"), ("zhzf.li", "zhzf", "李科员"))


async def _demo_users(service: FeedbackService) -> None:
    from feedback.accounts import create_user

    wanted = [
        ("admin", "admin", None, "系统管理员"),
        ("jiandu", "supervisor", "sfj", "司法局监督员"),
    ]
    # Each bureau's account is its lead (科室负责人); 综合执法局 has two named clerks besides.
    wanted += [(d.code, "staff", d.code, f"{d.name}负责人") for d in service.config.departments]
    clerks = [(u, "staff", dept, name) for u, dept, name in DEMO_CLERKS]
    for username, role, dept, name in wanted + clerks:
        if await service.store.get_user(username) is None:
            lead = role == "staff" and username == dept
            await create_user(
                service.store, service.config, username, DEMO_PASSWORD, role, dept, name,
                lead=lead,
            )  # fmt: skip


def staff_of(department: str) -> Actor:
    return Actor(Role.STAFF, id=department, department=department, name=f"{department}工作人员")


SUPERVISOR = Actor(Role.SUPERVISOR, id="jiandu", department="sfj", name="司法局监督员")


async def load_demo(service: FeedbackService, count: int = 300, seed: int = 2026) -> int:
    """Load `count` demo reports spread over the last ~6 months; returns how many."""
    rng = random.Random(seed)
    rows = rng.sample(_corpus(), count)
    # Each bureau's share of specific answers (its own generator: the lives stay the same).
    bureaus = random.Random(seed + 1)
    quality = {d: bureaus.uniform(0.3, 0.9) for d in service.config.department_codes}
    real_clock = service.clock
    end = real_clock()
    start = end - timedelta(days=180)
    # Intake grows towards the present, as a new service gets known.
    moments = sorted(end - timedelta(days=180 * rng.random() ** 1.6) for _ in rows)
    clock = DemoClock(start)
    service.clock = clock
    loaded = 0
    # Bulk loading need not fsync every commit (the data is regenerable); real intake does.
    relax = getattr(service.store, "set_synchronous", None)
    if relax is not None:
        await relax("NORMAL")
    try:
        await _demo_users(service)
        for row, at in zip(rows, moments, strict=True):
            clock.now = _office_hours(at, end)
            try:
                await _life(service, clock, row, rng, end, quality)
                loaded += 1
            except FeedbackError as exc:  # a demo step the workflow refused: keep going
                log.warning("demo report skipped a step: %s", exc.message)
                loaded += 1
    finally:
        service.clock = real_clock
        if relax is not None:
            await relax("FULL")
    await jobs.tick(service)  # the present: escalate what is overdue now, close unrated
    return loaded


def _office_hours(at: datetime, end: datetime) -> datetime:
    """``at`` moved into Zibo's office hours (08:00-17:59) of its day, never past ``end`` (the
    present): a report dated later than now would sort above every real new one."""
    local = at + timedelta(hours=8)
    hour = 8 + (local.hour % 10)
    moved = datetime(local.year, local.month, local.day, hour, local.minute, tzinfo=UTC)
    return min(moved - timedelta(hours=8), end)


async def _life(
    service: FeedbackService, clock: DemoClock, row: dict[str, str], rng: random.Random,
    end: datetime, quality: dict[str, float],
) -> None:  # fmt: skip
    w = WORDING
    named = rng.random() < 0.4
    title = row["title"]
    if not title or title[:2] not in row["text"]:
        # The corpus's titles are topic words; keep one only when the text is about it.
        title = ""  # the service makes one from the text
    data = {
        "title": title,
        "text": row["text"],
        "place": rng.choice(w.places),
        "kind": "consultation" if ("请问" in row["text"] or "？" in row["text"]) else "complaint",
        "anonymous": not named,
        "contact": {"name": rng.choice(w.names), "phone": f"139{rng.randrange(10**8):08d}"}
        if named
        else None,
    }
    result = await service.submit(
        data, channel=rng.choice(["web", "web", "web", "telegram", "api"])
    )
    tn, code = result.tracking_number, result.follow_up_code
    right = row["department"]
    types = [t for t in row["issue_types"].split("|") if t]

    def step(hours: float) -> bool:
        clock.now += timedelta(hours=hours)
        return clock.now < end

    if not step(rng.uniform(1, 20)):
        return
    report = result.report
    # Some bureaus are slow: a few reports stop here and there and end up overdue (督办).
    stall = rng.random()

    def recent(days: float) -> bool:
        """Still waiting for the supervisor is plausible only for what came in lately."""
        return end - clock.now < timedelta(days=days)

    if report.status is Status.TRIAGE:
        if recent(2):
            return  # the triage desk has this week's vague reports still to assign
        await service.assign(SUPERVISOR, tn, right, issue_types=types)
    elif report.department != right:
        if not step(rng.uniform(2, 20)):
            return
        await service.send_back(staff_of(report.department or ""), tn,
                                rng.choice(w.send_back_reasons), right)  # fmt: skip
    elif rng.random() < 0.08:
        # Ping-pong: a bureau wrongly passes its own matter on; the supervisor rules.
        wrong = rng.choice([d for d in service.config.department_codes if d not in (right, "sfj")])
        if not step(rng.uniform(2, 20)):
            return
        await service.send_back(staff_of(right), tn, rng.choice(w.send_back_reasons), wrong)
        if not step(rng.uniform(2, 20)):
            return
        # The wrong bureau sends it back too: the second send-back goes to the supervisor.
        await service.send_back(staff_of(wrong), tn, rng.choice(w.send_back_reasons), right)
        if not step(rng.uniform(4, 30)) or (rng.random() < 0.5 and recent(7)):
            return  # still waiting for the ruling
        await service.assign(SUPERVISOR, tn, right, note="经审查，该事项属其法定职责，由其承办。")
    if stall < 0.04:
        return
    late = rng.random() < 0.12
    if not step(rng.uniform(30, 60) if late else rng.uniform(1, 20)):
        return
    await service.accept(staff_of(right), tn)
    if rng.random() < 0.1:
        if not step(rng.uniform(24, 120)):
            return
        await service.request_extension(staff_of(right), tn, rng.choice([5, 10, 15]),
                                        "案情复杂，需要调取执法记录仪视频并询问当事人。")  # fmt: skip
        if not step(rng.uniform(2, 30)) or (rng.random() < 0.5 and recent(5)):
            return  # still waiting for the supervisor
        await service.decide_extension(SUPERVISOR, tn, rng.random() < 0.8, "同意延期")
    if stall < 0.08:
        return
    days = rng.uniform(30, 30 * 24) if rng.random() < 0.15 else rng.uniform(24, 9 * 24)
    if not step(days):
        return
    if rng.random() < 0.1:
        await service.escalate(SUPERVISOR, tn, "请抓紧办理并按时答复")
        if not step(rng.uniform(4, 48)):
            return
    matter, place = result.report.title, str(data["place"])
    await service.answer(staff_of(right), tn,
                         _answer(w, rng, quality[right], right, matter, place, clock.now))  # fmt: skip
    if types and rng.random() < 0.35:
        await incentives.substantiate(service, SUPERVISOR, tn, rng.random() < 0.6,
                                      "经核查，认定如下。")  # fmt: skip
    roll = rng.random()
    if roll < 0.12 or not step(rng.uniform(12, 120)):
        return  # no rating: the window may close it
    rating = "satisfied" if roll < 0.62 else "basically_satisfied" if roll < 0.85 else "unsatisfied"
    view = await service.rate(tn, code, rating, None)
    if view.report.status is Status.REOPENED and step(rng.uniform(48, 240)):
        # Reopened: the second answer is the careful one.
        await service.answer(staff_of(right), tn,
                             _answer(w, rng, 1.0, right, matter, place, clock.now))  # fmt: skip
        if step(rng.uniform(12, 72)):
            view = await service.rate(
                tn, code, rng.choice(["basically_satisfied", "unsatisfied"]), None
            )
    if view.report.status is Status.CLOSED and rng.random() < 0.08 and step(rng.uniform(24, 200)):
        await service.request_review(tn, code, "对答复仍有异议，问题没有真正解决，申请复查。")
        if step(rng.uniform(24, 240)) and rng.random() < 0.6:
            await service.decide_review(
                SUPERVISOR, tn, rng.random() < 0.5, "经复查，认定如下，并告知诉求人。"
            )
