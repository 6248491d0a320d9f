"""A realistic demo data set: a few hundred reports over several months, in every state.

Texts come from the project's own bootstrap corpus (classifiers/data/corpus/). Each
report lives its life through the real service — routing by the model, triage, signing for,
send-backs, extensions, answers, ratings, reopenings, 督办, 查实 — with the clock set to each
step's moment, so the record, the deadlines and the statistics are all real.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from feedback import incentives, jobs
from feedback.errors import FeedbackError
from feedback.models import Actor, Role, Status
from feedback.service import FeedbackService

log = logging.getLogger(__name__)

DEMO_PASSWORD = "demo-password-2026"

ANSWERS = [
    "经核查，您反映的情况基本属实。我单位已责令相关人员立即整改，并将加强日常巡查，欢迎继续监督。",
    "收到您的反映后，我单位当日派员到现场核实。现已依法处理，处理结果已书面告知当事人。",
    "经调查，执法程序存在不规范之处，已对相关执法人员批评教育，并重新出具书面决定书。",
    "您反映的问题不属实。执法人员当时已出示执法证件并全程使用执法记录仪，相关视频已存档备查。",
    "已协调相关部门联合处置，问题已于本周解决。后续如有反复，请直接拨打我单位监督电话。",
    "该事项正在依法办理中，因涉及多个部门需要进一步核实，我们将在办结后第一时间告知您结果。",
]
SEND_BACK_REASONS = [
    "该事项不属于本单位法定职责，建议由相关主管部门办理。",
    "根据三定方案，此类事项由其他单位负责，请重新分派。",
]
NAMES = ["张先生", "王女士", "李先生", "刘女士", "陈先生", "赵女士", "孙先生", "周女士"]
PLACES = ["般阳路", "松龄路", "淄川区某街道", "某某小区", "洪山镇", "昆仑镇", "寨里镇", "西河镇"]


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


async def _demo_users(service: FeedbackService) -> None:
    from feedback.accounts import create_user

    wanted = [
        ("admin", "admin", None, "系统管理员"),
        ("jiandu", "supervisor", "sfj", "司法局监督员"),
    ]
    wanted += [(d.code, "staff", d.code, f"{d.name}工作人员") for d in service.config.departments]
    for username, role, dept, name in wanted:
        if await service.store.get_user(username) is None:
            await create_user(
                service.store, service.config, username, DEMO_PASSWORD, role, dept, name
            )


def staff_of(department: str) -> Actor:
    return Actor(Role.STAFF, id=department, department=department, name=f"{department}工作人员")


SUPERVISOR = Actor(Role.SUPERVISOR, id="jiandu", department="sfj", name="司法局监督员")


async def load_demo(service: FeedbackService, count: int = 300, seed: int = 2026) -> int:
    """Load `count` demo reports spread over the last ~6 months; returns how many."""
    rng = random.Random(seed)
    rows = rng.sample(_corpus(), count)
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
                await _life(service, clock, row, rng, end)
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
    end: datetime,
) -> None:  # fmt: skip
    named = rng.random() < 0.4
    title = row["title"]
    if not title or title[:2] not in row["text"]:
        # The corpus's titles are topic words; keep one only when the text is about it.
        title = ""  # the service makes one from the text
    data = {
        "title": title,
        "text": row["text"],
        "place": rng.choice(PLACES),
        "kind": "consultation" if ("请问" in row["text"] or "？" in row["text"]) else "complaint",
        "anonymous": not named,
        "contact": {"name": rng.choice(NAMES), "phone": f"139{rng.randrange(10**8):08d}"}
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
    if report.status is Status.TRIAGE:
        await service.assign(SUPERVISOR, tn, right, issue_types=types)
    elif report.department != right:
        if not step(rng.uniform(2, 20)):
            return
        await service.send_back(staff_of(report.department or ""), tn,
                                rng.choice(SEND_BACK_REASONS), right)  # fmt: skip
    elif rng.random() < 0.08:
        # Ping-pong: a bureau wrongly passes its own matter on; the supervisor rules.
        wrong = rng.choice([d for d in service.config.department_codes if d not in (right, "sfj")])
        if not step(rng.uniform(2, 20)):
            return
        await service.send_back(staff_of(right), tn, rng.choice(SEND_BACK_REASONS), wrong)
        if not step(rng.uniform(2, 20)):
            return
        # The wrong bureau sends it back too: the second send-back goes to the supervisor.
        await service.send_back(staff_of(wrong), tn, rng.choice(SEND_BACK_REASONS), right)
        if not step(rng.uniform(4, 30)) or rng.random() < 0.1:
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
        if not step(rng.uniform(2, 30)):
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
    await service.answer(staff_of(right), tn, rng.choice(ANSWERS))
    if types and rng.random() < 0.35:
        await incentives.substantiate(service, SUPERVISOR, tn, rng.random() < 0.6,
                                      "经核查，认定如下。")  # fmt: skip
    roll = rng.random()
    if roll < 0.12 or not step(rng.uniform(12, 120)):
        return  # no rating: the window may close it
    rating = "satisfied" if roll < 0.62 else "basically_satisfied" if roll < 0.85 else "unsatisfied"
    view = await service.rate(tn, code, rating, None)
    if view.report.status is Status.REOPENED and step(rng.uniform(48, 240)):
        await service.answer(staff_of(right), tn, rng.choice(ANSWERS))
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
