"""A bureau's confirmed issue types teach the model: a district's clerks confirm, in their answers,
that a village or community official handing out benefits to his own family is abuse of power
(office used for private gain, domain.md §1), which the shipped model reads as no issue at all;
after `feedback retrain` the issue-type candidate is promoted and a later similar report gets
the type.

Training uses every sixth corpus message (fast), as in test_retrain_gate."""

from __future__ import annotations

from pathlib import Path

import pytest

from feedback import learning, model_versions
from feedback.config import Config
from feedback.model_provider import ModelProvider
from feedback.models import Status
from feedback.service import FeedbackService
from feedback.store import Store
from tests.conftest import Clock, staff
from tests.learning.test_retrain_gate import GATE, small_base

# The shipped model already sees abuse in the first five (a 村干部 named); not in the others.
FAVOURS = [
    ("低保评定不公", "村支书的儿子有车有房也吃低保，真正困难的家庭却申请不下来。"),
    ("危房改造补助", "村里的危房改造补助全给了村干部的亲戚，我家房子快塌了也没有。"),
    ("残疾补贴", "社区干部给没有残疾的亲戚办了残疾人补贴，真正残疾的邻居没办下来。"),
    ("低保优亲厚友", "村干部优亲厚友，自己的兄弟姐妹都享受低保。"),
    ("安置房", "村委会干部利用职务把拆迁安置房多分给了自己家人。"),
    ("低保名额", "社区把低保名额给了自己的亲戚，我们符合条件的却评不上。"),
    ("保障房分配", "社区主任把保障房分给了他小舅子，排队多年的困难户没分到。"),
    ("困难补助", "街道发放困难补助，名单上都是社区干部的熟人和亲属。"),
    ("救助款", "村主任把临时救助款发给自己的侄子，申请的老人一分没拿到。"),
    ("养老补贴", "社区书记给自己母亲办了高龄补贴，年龄根本不够。"),
    ("公益岗位", "社区的公益性岗位全安排给了居委会干部的家属。"),
    ("扶贫名额", "村干部把扶贫贷款名额留给自家亲戚，贫困户都不知道有这个政策。"),
    ("低保户名单", "公示的低保户名单里有好几户是村会计的亲属，家里开着商店。"),
    ("廉租房", "廉租房分配时居委会主任照顾自己的朋友，符合条件的人被刷掉了。"),
    ("补贴发放", "村长把种粮补贴多报给自己家的地，别人家的却少发。"),
    ("慰问金", "春节慰问金都发给了社区主任的亲戚朋友，孤寡老人没有收到。"),
]
PROBE = ("养老补贴", "社区把养老补贴给了熟人，我们符合条件的老人却没有。")


@pytest.fixture
def provider(tmp_path: Path) -> ModelProvider:
    p = ModelProvider(tmp_path / "models", check_every=0)
    p.current()
    return p


@pytest.fixture
async def district(
    store: Store, config: Config, clock: Clock, provider: ModelProvider
) -> FeedbackService:
    return FeedbackService(store, config, clock=clock, classify=provider.classify)


async def answered(service: FeedbackService, clock: Clock, title: str, text: str) -> None:
    """The report comes in, 民政局 signs for it and answers, confirming abuse of power."""
    clock.advance(hours=1)
    result = await service.submit({"title": title, "text": text})
    tn = result.tracking_number
    if result.status is Status.TRIAGE:
        await service.assign(staff("sfj"), tn, "mzj")
    elif result.department != "mzj":
        await service.send_back(staff(result.department or ""), tn, "不属于本单位职责", "mzj")
    await service.accept(staff("mzj"), tn)
    await service.answer(
        staff("mzj"), tn, "经核查，相关人员违规优亲厚友，已取消其资格并移送纪检部门处理。",
        ["abuse_of_power"],
    )  # fmt: skip


@pytest.mark.slow
async def test_confirmed_issue_types_teach_the_model_and_a_later_report_gets_the_type(
    district: FeedbackService, provider: ModelProvider, clock: Clock
) -> None:
    before = provider.classify(*PROBE)
    assert "abuse_of_power" not in before.issue_types  # the premise: shipped sees no issue
    for title, text in FAVOURS:
        await answered(district, clock, title, text)
    report = await learning.retrain_labels(
        district, provider.models_root, settings=GATE, base=small_base
    )
    types = next(v for v in report.verdicts if v.target == "issue_type")
    assert types.promoted and report.promoted, types.reason
    assert types.trained_labels == 12 and types.holdout == 4
    in_use = model_versions.version_dir(provider.models_root, report.in_use)
    assert len(model_versions.trained_label_ids(in_use, "issue_type")) == 12

    clock.advance(hours=1)
    result = await district.submit({"title": PROBE[0], "text": PROBE[1]})
    assert "abuse_of_power" in result.report.issue_types, result.report.routing
