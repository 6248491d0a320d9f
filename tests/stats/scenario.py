"""A hand-built month whose statistics are worked out by hand (see the numbers in the tests).

Timeline (local time, Asia/Shanghai; March 2026 has no holidays):
- Tue 10 09:30  five reports: A, B (咨询), C, D on the web, E through the API; the supervisor
  assigns A (abuse_of_power + opacity), B and C (inaction) to zhzf, D (inaction) to zjj, E to
  scjg; zhzf signs A at once (0 working days, on time).
- Wed 11        zhzf sends C back to zjj.
- Thu 12        zjj signs C (1 day, on time); zhzf signs B and scjg signs E (2 days, late);
                zhzf answers A (2 days, on time); A is rated 满意.
- Fri 13        zjj asks for an extension of C; the supervisor approves it.
- Mon 16        zjj answers C (2 days, on time); C is rated 基本满意.
- Mon 23        zhzf answers B (consultation due Thu 19: 7 days, late); B is rated 不满意 and
                reopens; D was never signed (due Wed 11) and is overdue now; the supervisor
                escalates D.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from feedback.models import Channel
from feedback.service import FeedbackService
from tests.conftest import SUPERVISOR, Clock, staff

PII_TEXT = (
    "我叫张伟，电话13812345678，身份证370303198001011234，住在淄川区般阳路88号3号楼2单元501室，"
    "车牌鲁C·12345，邮箱zhangwei@example.com，微信号 zw_8888abc。"
)


@dataclass
class Scenario:
    a: str
    b: str
    c: str
    d: str
    e: str


def local(day: int, hour: int = 10, minute: int = 0) -> datetime:
    """A moment in March 2026, local time, as UTC."""
    return datetime(2026, 3, day, hour - 8, minute, tzinfo=UTC)


def report(title: str, **extra: object) -> dict[str, object]:
    return {
        "title": title,
        "text": f"{title}。执法人员态度恶劣，没有出示执法证件，也没有告知处罚依据。",
        "anonymous": True,
        **extra,
    }


async def build(service: FeedbackService, clock: Clock) -> Scenario:
    clock.now = local(10, 9, 30)
    zhzf, zjj, scjg = staff("zhzf"), staff("zjj"), staff("scjg")
    a = await service.submit(report("占道经营罚款不开票"))
    b = await service.submit(report("咨询户外广告审批流程", kind="consultation"))
    c = await service.submit(report("物业问题反映多次无人处理"))
    d = await service.submit(report("建筑工地夜间施工无人管"))
    e = await service.submit(report("超市出售过期食品", text=PII_TEXT), channel=Channel.API)
    await service.assign(SUPERVISOR, a.tracking_number, "zhzf", ["abuse_of_power", "opacity"])
    await service.assign(SUPERVISOR, b.tracking_number, "zhzf")
    await service.assign(SUPERVISOR, c.tracking_number, "zhzf", ["inaction"])
    await service.assign(SUPERVISOR, d.tracking_number, "zjj", ["inaction"])
    await service.assign(SUPERVISOR, e.tracking_number, "scjg")
    await service.accept(zhzf, a.tracking_number)

    clock.now = local(11)
    await service.send_back(
        zhzf, c.tracking_number, "该事项属于物业管理，不属于本单位职责。", "zjj"
    )

    clock.now = local(12)
    await service.accept(zjj, c.tracking_number)
    await service.accept(zhzf, b.tracking_number)
    await service.accept(scjg, e.tracking_number)
    await service.answer(
        zhzf, a.tracking_number, "经核查，已责令执法队员补开票据，并向您说明处罚依据。"
    )
    await service.rate(a.tracking_number, a.follow_up_code, "satisfied")

    clock.now = local(13)
    await service.request_extension(
        zjj, c.tracking_number, 5, "需要联系物业公司和业主委员会共同核实情况。"
    )
    await service.decide_extension(SUPERVISOR, c.tracking_number, True)

    clock.now = local(16)
    await service.answer(zjj, c.tracking_number, "已约谈物业公司，责令其十日内完成整改并公示结果。")
    await service.rate(c.tracking_number, c.follow_up_code, "basically_satisfied")

    clock.now = local(23)
    await service.answer(zhzf, b.tracking_number, "户外广告设置审批请到区行政审批服务局窗口办理。")
    await service.rate(b.tracking_number, b.follow_up_code, "unsatisfied")
    await service.escalate(SUPERVISOR, d.tracking_number, "请立即签收办理")
    return Scenario(a.tracking_number, b.tracking_number, c.tracking_number,
                    d.tracking_number, e.tracking_number)  # fmt: skip
